"""SQLite's search index takes new notices in bulk, once per write, not one trigger call per notice

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:40:00

Written by hand, like 0004. Indexing each new notice from its insert trigger was about a fifth of a
crawl's storing time; indexing a whole batch in one statement costs a third of that. So:

- inserting a notice only notes its id in `notices_fts_pending`;
- whatever inserts notices (store.ingest.save_notices, store.copy) then calls
  `store.ingest.index_new_notices` in the same transaction, which indexes the noted notices in one
  statement and empties the table: once a write commits nothing waits, so search misses nothing;
- updating or deleting a notice that is already indexed changes the index at once, as before; one
  still waiting to be indexed needs nothing removed.

PostgreSQL's generated search column is untouched.
"""

from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BULK_TRIGGERS = [
    """
    CREATE TRIGGER notices_fts_insert AFTER INSERT ON notices BEGIN
        INSERT OR IGNORE INTO notices_fts_pending(notice_id) VALUES (new.id);
    END
    """,
    """
    CREATE TRIGGER notices_fts_delete AFTER DELETE ON notices BEGIN
        INSERT INTO notices_fts(notices_fts, rowid, title, description, buyer_name)
        SELECT 'delete', old.id, old.title, old.description, old.buyer_name
        WHERE old.id NOT IN (SELECT notice_id FROM notices_fts_pending);
        DELETE FROM notices_fts_pending WHERE notice_id = old.id;
    END
    """,
    """
    CREATE TRIGGER notices_fts_update AFTER UPDATE OF title, description, buyer_name ON notices
    WHEN old.id NOT IN (SELECT notice_id FROM notices_fts_pending) BEGIN
        INSERT INTO notices_fts(notices_fts, rowid, title, description, buyer_name)
        VALUES ('delete', old.id, old.title, old.description, old.buyer_name);
        INSERT INTO notices_fts(rowid, title, description, buyer_name)
        VALUES (new.id, new.title, new.description, new.buyer_name);
    END
    """,
]
TRIGGERS = ("notices_fts_insert", "notices_fts_delete", "notices_fts_update")
INDEX_PENDING = [  # as store.ingest.index_new_notices does
    """
    INSERT INTO notices_fts(rowid, title, description, buyer_name)
    SELECT id, title, description, buyer_name FROM notices
    WHERE id IN (SELECT notice_id FROM notices_fts_pending)
    """,
    "DELETE FROM notices_fts_pending",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE notices_fts_pending (notice_id INTEGER PRIMARY KEY)")
    _replace_triggers(BULK_TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in INDEX_PENDING:
        op.execute(statement)
    _replace_triggers(_triggers_of_0004())
    op.execute("DROP TABLE notices_fts_pending")


def _replace_triggers(statements: list[str]) -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in statements:
        op.execute(statement)


def _triggers_of_0004() -> list[str]:
    """The per-notice triggers exactly as 0004 wrote them."""
    statements = context.script.get_revision("0004").module.SQLITE_UPGRADE
    return [statement for statement in statements if "CREATE TRIGGER" in statement]
