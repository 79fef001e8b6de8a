"""Stores upgraded by the first release of schema 0013 or 0014 get what those gained later

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00

Schema 0013 was first released adding web_users.session_key alone. deliveries.confirmed, and the
contracts already announced as ending soon recorded under their award id, joined it later under the
same number, so a store that first release had upgraded to 0013 never got them: every digest then
failed on the missing column, and every contract already announced would be announced again. Both are
done here where missing; on any other store this changes nothing (a hashed award id is never a row id).

Likewise 0014 was first released before it marked a value stated gross only (details.value_includes_vat),
so after upgrading past this revision `Database.upgrade` compiles again the stored notices whose
releases mention "amountGross" (`store.db.RECOMPILE_AFTER`). Not news: no change is announced for it.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("deliveries")}
    if "confirmed" not in columns:  # as in 0013: a digest waiting for the operator stays unconfirmed
        op.add_column(
            "deliveries", sa.Column("confirmed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        op.execute(
            "UPDATE deliveries SET confirmed = false "
            "WHERE digest_id IN (SELECT id FROM digests WHERE outcome = 'unconfirmed')"
        )
    _announced_contracts_by_award_id()


def _announced_contracts_by_award_id() -> None:
    """0013's rewrite, run before the upgrade compiles notices again (which gives contracts new rows)."""
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
    pass  # what it adds belongs to 0013, whose downgrade removes it
