"""No schema change: stored notices are compiled again for three better readings of releases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00

A deadline given as a date alone is now the end of that day in UK time (it was 00:00, so the notice
looked closed a day early); a value below £100 (£1 net, £1.20 gross) is a placeholder, "not stated";
mojibake in text ("Â£95,000") is repaired. Any release may hold one of these, so after upgrading
past this revision `Database.upgrade` compiles every stored notice again from its releases, in the
same transaction (`store.db.RECOMPILE_AFTER`); the releases stay as received. Not news: no change is
announced for it.
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # the recompile is done by store.db.Database.upgrade


def downgrade() -> None:
    pass
