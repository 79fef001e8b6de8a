"""Opportunities: the notices of one procurement (and of its copies on other services) as one item

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:00:00

Adds notices.procurement ("<service>:<ocid>", store.notice.procurement_text), the opportunities and
the procurements each holds, the evidence of every merge across services (opportunity_links), the
merges a user undid (opportunity_splits, never merged again), and the contracts read from award and
contract-details notices. Every stored notice keeps its row, id and history; each procurement gets
its own opportunity here. After upgrading past this revision `Database.upgrade` reads the award and
contract notices again for their contracts and matches procurements across services, in the same
transaction (`store.db.RECOMPILE_AFTER`, `store.matching.match_all`).

The column is added in place, without a foreign key (SQLite cannot add one without a batch rebuild,
which would drop its search triggers): an opportunity is found through opportunity_procurements.
"""

import sqlalchemy as sa
from alembic import op

import store.models
from store.notice import procurement_key

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("notices", sa.Column("procurement", sa.String(250)))
    op.create_index("ix_notices_procurement", "notices", ["procurement"])
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("created_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunities"),
        sa.UniqueConstraint("key", name="uq_opportunities_key"),
    )
    op.create_table(
        "opportunity_procurements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("procurement", sa.String(250), nullable=False),
        sa.Column("opportunity_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunity_procurements"),
        sa.UniqueConstraint("procurement", name="uq_opportunity_procurements_procurement"),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name="fk_opportunity_procurements_opportunity_id_opportunities",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_opportunity_procurements_opportunity_id", "opportunity_procurements", ["opportunity_id"]
    )
    op.create_table(
        "opportunity_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("opportunity_id", sa.Integer, nullable=False),
        sa.Column("procurement", sa.String(250), nullable=False),
        sa.Column("matched_procurement", sa.String(250), nullable=False),
        sa.Column("notice_key", sa.String(250), nullable=False),
        sa.Column("matched_notice_key", sa.String(250), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunity_links"),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name="fk_opportunity_links_opportunity_id_opportunities",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_opportunity_links_opportunity_id", "opportunity_links", ["opportunity_id"])
    op.create_table(
        "opportunity_splits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("procurement_a", sa.String(250), nullable=False),
        sa.Column("procurement_b", sa.String(250), nullable=False),
        sa.Column("created_at", store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_opportunity_splits"),
        sa.UniqueConstraint("procurement_a", "procurement_b", name="uq_opportunity_splits_procurement_a"),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("award_id", sa.String(200), nullable=False),
        sa.Column("suppliers", sa.JSON, nullable=False),
        sa.Column("value_amount", sa.Float),
        sa.Column("value_currency", sa.String(3)),
        sa.Column("start_date", store.models.UtcDateTime(timezone=True)),
        sa.Column("end_date", store.models.UtcDateTime(timezone=True)),
        sa.Column("max_end_date", store.models.UtcDateTime(timezone=True)),
        sa.Column("signed_at", store.models.UtcDateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_contracts"),
        sa.UniqueConstraint("notice_id", "award_id", name="uq_contracts_notice_id"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_contracts_notice_id_notices", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_contracts_notice_id", "contracts", ["notice_id"])
    op.create_index("ix_contracts_end_date", "contracts", ["end_date"])
    op.create_table(
        "notice_references",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice_references"),
        sa.UniqueConstraint("notice_id", "kind", "value", name="uq_notice_references_notice_id"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_notice_references_notice_id_notices", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_notice_references_kind_value", "notice_references", ["kind", "value"])
    _assign_procurements()


def _assign_procurements() -> None:
    """Every stored notice's procurement, then one opportunity per procurement, founded by it."""
    connection = op.get_bind()
    notices = sa.table(
        "notices",
        sa.column("id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("source_id", sa.String),
        sa.column("ocid", sa.String),
        sa.column("same_as_ocid", sa.String),
        sa.column("procurement", sa.String),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(
                notices.c.id, notices.c.source, notices.c.source_id, notices.c.ocid, notices.c.same_as_ocid
            )
            .where(notices.c.id > last_id)
            .order_by(notices.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        connection.execute(
            notices.update()
            .where(notices.c.id == sa.bindparam("row_id"))
            .values(procurement=sa.bindparam("p")),
            [
                {
                    "row_id": row.id,
                    "p": ":".join(procurement_key(row.source, row.ocid, row.source_id, row.same_as_ocid)),
                }
                for row in rows
            ],
        )
    connection.exec_driver_sql(
        "INSERT INTO opportunities (key, created_at) "
        "SELECT procurement, MIN(first_seen) FROM notices GROUP BY procurement"
    )
    connection.exec_driver_sql(
        "INSERT INTO opportunity_procurements (procurement, opportunity_id) SELECT key, id FROM opportunities"
    )


def downgrade() -> None:
    for table in (
        "notice_references",
        "contracts",
        "opportunity_splits",
        "opportunity_links",
        "opportunity_procurements",
        "opportunities",
    ):
        op.drop_table(table)
    op.drop_index("ix_notices_procurement", "notices")
    op.drop_column("notices", "procurement")
