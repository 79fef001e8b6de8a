"""scores and feedback: each notice's score per profile (with the hashes it came from), and the
team's relevant / not-relevant judgements keyed by notice id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:50:40.844375
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_key", sa.String(length=250), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_notice_key", ["notice_key"], unique=False)

    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("rules_hash", sa.String(length=64), nullable=False),
        sa.Column("notice_hash", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=10), nullable=False),
        sa.Column("service_line", sa.String(length=200), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("computed_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_scores_notice_id_notices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint("notice_id", "profile", name=op.f("uq_scores_notice_id")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index("ix_scores_profile_band", ["profile", "band"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_profile_band")

    op.drop_table("scores")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_notice_key")

    op.drop_table("feedback")
