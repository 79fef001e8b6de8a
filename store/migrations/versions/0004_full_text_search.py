"""full-text search of notices: SQLite FTS5 with triggers, PostgreSQL a generated tsvector with GIN

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:10:00

Written by hand (autogenerate cannot see these objects; env.py's include_object hides them):

- SQLite: `notices_fts`, an external-content FTS5 table over notices(title, description, buyer_name)
  keyed by notices.id, kept current by three triggers on notices. A later migration that rebuilds
  `notices` in batch mode drops these triggers with the old table and must create them again.
- PostgreSQL: `notices.search`, a stored generated tsvector (English; title weighted A, buyer B,
  description C), with the GIN index `notices_fts_search`.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_UPGRADE = [
    """
    CREATE VIRTUAL TABLE notices_fts USING fts5(
        title, description, buyer_name,
        content='notices', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER notices_fts_insert AFTER INSERT ON notices BEGIN
        INSERT INTO notices_fts(rowid, title, description, buyer_name)
        VALUES (new.id, new.title, new.description, new.buyer_name);
    END
    """,
    """
    CREATE TRIGGER notices_fts_delete AFTER DELETE ON notices BEGIN
        INSERT INTO notices_fts(notices_fts, rowid, title, description, buyer_name)
        VALUES ('delete', old.id, old.title, old.description, old.buyer_name);
    END
    """,
    """
    CREATE TRIGGER notices_fts_update AFTER UPDATE OF title, description, buyer_name ON notices BEGIN
        INSERT INTO notices_fts(notices_fts, rowid, title, description, buyer_name)
        VALUES ('delete', old.id, old.title, old.description, old.buyer_name);
        INSERT INTO notices_fts(rowid, title, description, buyer_name)
        VALUES (new.id, new.title, new.description, new.buyer_name);
    END
    """,
    "INSERT INTO notices_fts(notices_fts) VALUES ('rebuild')",  # index the notices already stored
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS notices_fts_update",
    "DROP TRIGGER IF EXISTS notices_fts_delete",
    "DROP TRIGGER IF EXISTS notices_fts_insert",
    "DROP TABLE IF EXISTS notices_fts",
]

POSTGRESQL_UPGRADE = [
    """
    ALTER TABLE notices ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(buyer_name, '')), 'B')
        || setweight(to_tsvector('english', coalesce(description, '')), 'C')
    ) STORED
    """,
    "CREATE INDEX notices_fts_search ON notices USING gin (search)",
]

POSTGRESQL_DOWNGRADE = [
    "DROP INDEX IF EXISTS notices_fts_search",
    "ALTER TABLE notices DROP COLUMN IF EXISTS search",
]


def upgrade() -> None:
    for statement in _statements(SQLITE_UPGRADE, POSTGRESQL_UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(SQLITE_DOWNGRADE, POSTGRESQL_DOWNGRADE):
        op.execute(statement)


def _statements(sqlite: list[str], postgresql: list[str]) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite
    if dialect == "postgresql":
        return postgresql
    raise NotImplementedError(f"full-text search is written for SQLite and PostgreSQL, not {dialect}")
