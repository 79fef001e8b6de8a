"""the web page: its users, the team's bid decisions, and every published version of the rules

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 08:00:00

Indexes on notices.ocid and notices.changed_at, and three new tables: `web_users` (name, argon2 hash, last visit), `bid_decisions`
(bid, no-bid with a reason, watching; who and when; the latest per notice wins) and
`profile_versions` (the rules text of each published version of a profile, who published it and
when; the newest is the one scoring uses).
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A procurement's notices on every service, by ocid alone (the web page's notice, `show`).
    op.create_index("ix_notices_ocid", "notices", ["ocid"])
    # Whether any notice changed since the web page last scored them, without reading them all.
    op.create_index("ix_notices_changed_at", "notices", ["changed_at"])
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_visit_at", store.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_users")),
        sa.UniqueConstraint("name", name=op.f("uq_web_users_name")),
    )
    op.create_table(
        "bid_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_key", sa.String(length=250), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid_decisions")),
    )
    op.create_index("ix_bid_decisions_notice_key", "bid_decisions", ["notice_key"])
    op.create_table(
        "profile_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=False),
        sa.Column("published_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_versions")),
        sa.UniqueConstraint("profile", "number", name=op.f("uq_profile_versions_profile")),
    )


def downgrade() -> None:
    op.drop_table("profile_versions")
    op.drop_index("ix_bid_decisions_notice_key", "bid_decisions")
    op.drop_table("bid_decisions")
    op.drop_table("web_users")
    op.drop_index("ix_notices_ocid", "notices")
    op.drop_index("ix_notices_changed_at", "notices")
