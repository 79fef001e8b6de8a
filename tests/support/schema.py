"""Moving a test store's schema to an older or newer revision, as an upgrade would find it."""

from __future__ import annotations

from store.db import Database, _alembic_config


def migrate(database: Database, direction: str, revision: str) -> None:
    """Alembic's upgrade or downgrade of this store to `revision`, in one transaction."""
    from alembic import command

    with database.engine.begin() as connection:
        config = _alembic_config(database.url)
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)
