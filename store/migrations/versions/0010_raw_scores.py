"""scores.raw_score: the total before it was held to 0-100, so notices shown as 100 still rank

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 08:00:00

A plain nullable column added in place. Rows scored before it stay NULL (ranked by their score) until
they are scored again: the engine version went up with it, so every stored score is recomputed the
next time its profile is used.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("scores", sa.Column("raw_score", sa.Float()))


def downgrade() -> None:
    op.drop_column("scores", "raw_score")
