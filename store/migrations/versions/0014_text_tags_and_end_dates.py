"""No schema change: stored notices are compiled again for four better readings of releases

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:30:00

HTML markup and character references in notice text are read as text (Find a Tender's "<br/>" line
breaks, Contracts Finder's "&apos;"); a release tagged both planning and tender (a legacy call for
competition) is a tender notice (UK4), an opportunity, not pre-market engagement; an end date or
deadline at 23:59:59 is the end of the day written, whatever its offset (summer contract ends written
"...T23:59:59Z" read a day late); a value stated gross only is marked as including VAT. Any release may hold one of these, so after upgrading past this
revision `Database.upgrade` compiles every stored notice again from its releases, in the same
transaction (`store.db.RECOMPILE_AFTER`); the releases stay as received. Not news: no change is
announced for it.
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # the recompile is done by store.db.Database.upgrade


def downgrade() -> None:
    pass
