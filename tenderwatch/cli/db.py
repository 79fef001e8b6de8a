"""Database maintenance: `tenderwatch db upgrade` and `tenderwatch db copy`."""

from __future__ import annotations

import click

from store.db import Database
from tenderwatch.cli.base import CONTEXT, State, cli, command


@cli.group(context_settings=CONTEXT)
def db() -> None:
    """Database maintenance."""


@command(db, "upgrade")
def db_upgrade(state: State) -> None:
    """Create the database, or bring its schema up to date (safe to run any time)."""
    database = Database(state.config.db_url)
    database.upgrade()
    click.echo(f"database schema is current ({database.current_revision()})")
