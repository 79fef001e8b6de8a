"""notices.future_notice_date: when a pipeline notice says the tender notice is expected

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:30:00

A plain nullable column, added in place (no batch rebuild, which would drop SQLite's search
triggers). Notices stored before it have none until they are compiled again: after upgrading past
this revision, `Database.upgrade` compiles again, in the same transaction, the stored notices whose
releases mention futureNoticeDate (`store.db.RECOMPILE_AFTER`). The notice fingerprint leaves the
field out while it is empty, so the other notices keep theirs.
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("future_notice_date", store.models.UtcDateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("notices", "future_notice_date")
