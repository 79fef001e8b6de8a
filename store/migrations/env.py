"""Alembic environment: runs on the connection the store hands over (see store.db.Database.upgrade)."""

from alembic import context
from sqlalchemy import create_engine

from store.migrations import include_object
from store.models import Base

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(config.get_main_option("sqlalchemy.url")).begin() as own_connection:
            _run(own_connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by rebuilding them
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
