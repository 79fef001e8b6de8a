"""No schema change: stored notices stating a value range are compiled again to keep its lower end

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:00:00

Contracts Finder states a tender's value as a range, `minValue` beside `value` ("£100,000 to
£125,000"); only the top was kept. It is now kept as `details.value_from` and shown as the range. After
upgrading past this revision `Database.upgrade` compiles again every stored notice whose releases
mention "minValue" (`store.db.RECOMPILE_AFTER`); the releases stay as received. Not news: no change
is announced for it.
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # the recompile is done by store.db.Database.upgrade


def downgrade() -> None:
    pass
