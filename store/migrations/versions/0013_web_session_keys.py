"""web sessions end when a password changes or its user signs out

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00

Adds web_users.session_key: a random key each signed session carries, replaced when the user's
password is set again or the user signs out, so that a copied session cookie stops working then
(it was valid for its twelve hours). Users from before this revision get a key when they next sign in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_users", sa.Column("session_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("web_users", "session_key")
