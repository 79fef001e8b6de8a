"""Database maintenance: `tenderwatch db upgrade` and `tenderwatch db copy`."""

from __future__ import annotations

import click

from store.db import Database, opening
from tenderwatch.cli.base import CONTEXT, State, cli, command, echo


@cli.group(context_settings=CONTEXT)
def db() -> None:
    """Database maintenance."""


@command(db, "upgrade", short_help="Create the database, or bring its schema up to date.")
def db_upgrade(state: State) -> None:
    """Create the database, or bring its schema up to date (safe to run any time)."""
    with opening(state.config.db_url):
        database = Database(state.config.db_url)
        before = database.current_revision()
        database.upgrade()
        after = database.current_revision()
    if before == after:
        echo(f"database schema is current ({after}); nothing to do")
    elif before is None:
        echo(f"created the database schema ({after})")
    else:
        echo(f"upgraded the database schema from {before} to {after}")
    problem = database.search_locale_problem()
    if problem:
        echo(f"warning: {problem}", err=True)


@command(db, "copy", short_help="Copy a whole store into a new, empty database.")
@click.argument("from_url", metavar="FROM_URL")
@click.argument("to_url", metavar="TO_URL")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Rows read and written at a time.",
)
def db_copy(state: State, from_url: str, to_url: str, batch: int) -> None:
    """Copy a whole store into a new, empty database, keeping all history.

    For moving a single user's SQLite file to the team's PostgreSQL server (or back, for a copy to
    keep). Every table is copied with its ids; both schemas are brought up to date first; the target
    must hold no data. Counts are checked at the end. Example:

    \b
      tenderwatch db copy sqlite:///$HOME/.local/share/tenderwatch/tenderwatch.db \\
          postgresql+psycopg://tenderwatch@dbserver/tenderwatch
    """
    from store.copy import copy_store

    def progress(table: str, copied: int, total: int) -> None:
        if copied == total:
            echo(f"{table}: {total} rows")
        elif copied and copied % (batch * 20) == 0:
            echo(f"{table}: {copied} of {total} rows ...")

    report = copy_store(from_url, to_url, batch=batch, progress=progress)
    echo(
        f"copied {report.total} rows in {len(report.rows)} tables from {report.source} to "
        f"{report.target}; every table's count matches the source"
    )
