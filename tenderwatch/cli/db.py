"""Database maintenance: `tenderwatch db upgrade`, `db copy` and `db recompile`."""

from __future__ import annotations

import click

from store.db import Database, opening
from tenderwatch.cli.base import CONTEXT, State, cli, command, echo
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import counted

RECOMPILE_BATCH = 500


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

    Each notice is normalised from the releases kept as received, as a crawl does when a release
    changes: for notices that could not be compiled before, or after an upgrade that reads releases
    better (an upgrade that needs it does it by itself). Changes to tracked fields are recorded as
    usual. Safe to stop and run again; imported notices are left as imported.
    """
    from store.ingest import IngestCounts, compiled_notice_ids, recompile_notices
    from store.queries import sources_with_releases

    database = state.database
    with database.reading() as session:
        stored = sources_with_releases(session)
        unknown = [source for source in sources if source not in stored]
        if unknown:
            have = ", ".join(stored) or "none yet"
            raise ConfigError(
                f"no releases are stored for {', '.join(unknown)} (sources that have some: {have})"
            )
        chosen = list(dict.fromkeys(sources)) or stored
        if not chosen:
            echo("no releases are stored yet: nothing to compile")
        notice_ids = {source: compiled_notice_ids(session, source) for source in chosen}
    for source, ids in notice_ids.items():
        totals = IngestCounts()
        for start in range(0, len(ids), RECOMPILE_BATCH):
            with database.writing() as session:  # a batch at a time: a crawl can write in between
                totals.add(recompile_notices(session, source, ids[start : start + RECOMPILE_BATCH]))
            done = min(start + RECOMPILE_BATCH, len(ids))
            if done % (RECOMPILE_BATCH * 10) == 0 and done < len(ids):
                echo(f"{source}: {done:,} of {counted(len(ids), 'notice')} ...")
        failed = f", {totals.left_out:,} cannot be compiled (see the log)" if totals.left_out else ""
        echo(
            f"{source}: {counted(len(ids), 'notice')} compiled again; {totals.changed:,} changed, "
            f"{totals.new:,} compiled for the first time{failed}"
        )
