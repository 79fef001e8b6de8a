"""Database maintenance: `tenderwatch db upgrade`, `db copy` and `db recompile`."""

from __future__ import annotations

import sys

import click

from store.db import Database, opening
from tenderwatch.cli.base import CONTEXT, State, cli, command, echo
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import counted


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


@command(db, "recompile", short_help="Compile the stored notices again from their releases.")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
def db_recompile(state: State, sources: tuple[str, ...]) -> None:
    """Compile every stored notice of SOURCE (default: every source) again from its releases.

    Each notice is normalised again from the releases kept as received: for notices that could not
    be compiled before, or after an upgrade that reads releases better (an upgrade that needs it
    does it by itself). What that corrects is not news: no change is recorded for a digest to
    announce. Imported notices are left as imported. A source being crawled is skipped (exit 1), and
    while a source is compiled its crawls wait (about 3 s per 10,000 notices). Safe to stop and run
    again.
    """
    from store import locks
    from store.ingest import compiled_notice_ids, recompile_in_batches
    from store.queries import sources_with_releases

    database = state.database
    with database.reading() as session:
        stored = sources_with_releases(session)
    unknown = [source for source in sources if source not in stored]
    if unknown:
        have = ", ".join(stored) or "none yet"
        raise ConfigError(f"no releases are stored for {', '.join(unknown)} (sources that have some: {have})")
    if not stored:
        echo("no releases are stored yet: nothing to compile")
    skipped = False
    for source in list(dict.fromkeys(sources)) or stored:
        # A crawl's newer releases must not be overwritten by a compile of the older ones.
        with locks.hold(database, f"crawl:{source}") as lock:
            if lock is None:
                echo(f"{source}: skipped, it is being crawled; run this again when the crawl ends", err=True)
                skipped = True
                continue
            with database.reading() as session:
                notice_ids = compiled_notice_ids(session, source)

            def progress(so_far: int, source: str = source, total: int = len(notice_ids)) -> None:
                if so_far % 5000 == 0 and so_far < total:
                    echo(f"{source}: {so_far:,} of {counted(total, 'notice')} ...")

            # A transaction per batch, so that other writers (digests, feedback) get their turn.
            done = recompile_in_batches(database.writing, source, notice_ids, progress=progress)
        failed = f", {done.uncompiled:,} still cannot be compiled (see the log)" if done.uncompiled else ""
        echo(
            f"{source}: {counted(len(done.keys), 'notice')} compiled again; {done.changed:,} now read "
            f"differently, {done.new:,} compiled for the first time{failed}"
        )
    sys.exit(1 if skipped else 0)
