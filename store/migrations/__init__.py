"""Alembic migrations of the store (see env.py); run through store.db.Database.upgrade."""


def include_object(obj, name, type_, reflected, compare_to):
    """What autogenerate and compare_metadata may look at: not the full-text search objects.

    They are written by hand in migrations 0004 and 0005 (SQLite's notices_fts* tables and
    triggers, PostgreSQL's generated notices.search column and its notices_fts_search index);
    without this, autogenerate would propose dropping them.
    """
    return not (name or "").startswith("notices_fts") and name != "search"
