"""notices.same_as_ocid: the same procurement on another service, from a notice's canonical link

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:00:00

A plain nullable column with an index, added in place (no batch rebuild, which would drop SQLite's
search triggers). Find a Tender's copies of Public Contracts Scotland notices link to their release
there; after upgrading past this revision, `Database.upgrade` compiles again, in the same
transaction, the stored notices whose releases hold such a link (`store.db.RECOMPILE_AFTER`). The
notice fingerprint leaves the field out while it is empty, so the other notices keep theirs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("same_as_ocid", sa.String(200)))
    op.create_index("ix_notices_same_as_ocid", "notices", ["same_as_ocid"])


def downgrade() -> None:
    op.drop_index("ix_notices_same_as_ocid", "notices")
    op.drop_column("notices", "same_as_ocid")
