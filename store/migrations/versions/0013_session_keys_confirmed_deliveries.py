"""web sessions end when a password changes or its user signs out; deliveries confirmed per post

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00

Adds web_users.session_key: a random key each signed session carries, replaced when the user's
password is set again or the user signs out, so that a copied session cookie stops working then
(it was valid for its twelve hours). Users from before this revision get a key when they next sign in.

Adds deliveries.confirmed: False while a message is with the channel, True once it accepted it (every
delivery before this revision was settled: True). A digest of several posts (Teams) stopped part-way
then holds its accepted posts as told, and `notify resend` releases only the post in flight.
"""

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


def downgrade() -> None:
    op.drop_column("deliveries", "confirmed")
    op.drop_column("web_users", "session_key")
