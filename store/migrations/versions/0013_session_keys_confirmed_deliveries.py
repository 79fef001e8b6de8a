"""web sessions end when a password changes or its user signs out; deliveries confirmed per post

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00

Adds web_users.session_key: a random key each signed session carries, replaced when the user's
password is set again or the user signs out, so that a copied session cookie stops working then
(it was valid for its twelve hours). Users from before this revision get a key when they next sign in.

Adds deliveries.confirmed: False while a message is with the channel, True once it accepted it. A
digest of several posts (Teams) stopped part-way then holds its accepted posts as told, and `notify
resend` releases only the post in flight. Deliveries before this revision are confirmed, except those
of a digest still waiting for the operator's word, which `notify resend` must release as before.

Contracts announced as ending soon are recorded under their award id (hashed,
store.expiring.contract_ref), not their row id, which changes each time their notice is compiled
again: the announcements already made are recorded so here.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_users", sa.Column("session_key", sa.String(length=64), nullable=True))
    op.add_column(
        "deliveries", sa.Column("confirmed", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.execute(
        "UPDATE deliveries SET confirmed = false "
        "WHERE digest_id IN (SELECT id FROM digests WHERE outcome = 'unconfirmed')"
    )
    _announced_contracts_by_award_id()


def _announced_contracts_by_award_id() -> None:
    connection = op.get_bind()
    announced = connection.execute(
        sa.text(
            "SELECT d.id, c.award_id FROM deliveries d JOIN contracts c "
            "ON c.notice_id = d.notice_id AND CAST(c.id AS VARCHAR(40)) = d.ref WHERE d.kind = 'expiring'"
        )
    ).all()
    for delivery_id, award_id in announced:
        ref = hashlib.sha1(award_id.encode("utf-8")).hexdigest()
        connection.execute(
            sa.text("UPDATE deliveries SET ref = :ref WHERE id = :id"), {"ref": ref, "id": delivery_id}
        )


def downgrade() -> None:
    op.drop_column("deliveries", "confirmed")
    op.drop_column("web_users", "session_key")
