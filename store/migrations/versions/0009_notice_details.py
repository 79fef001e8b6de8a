"""notices.details: what a bid manager decides bid/no-bid from, read from every stored release

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00

A plain nullable JSON column, added in place (no batch rebuild, which would drop SQLite's search
triggers): the clarification deadline, the contract period and its extensions, the award criteria,
the documents link, how to respond and the CPV codes' names (`store.notice.Details`). Any release may
hold them, so after upgrading past this revision `Database.upgrade` compiles every stored notice again
from its releases, in the same transaction (`store.db.RECOMPILE_AFTER`). The notice fingerprint
leaves the field out while it is empty, so notices without any keep theirs. Not news: no change is
announced for it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("details", sa.JSON()))


def downgrade() -> None:
    op.drop_column("notices", "details")
