"""Copying a whole store into a new database: a single user's SQLite file to the team's PostgreSQL server.

Every table of the schema (store.models; a table added later is included without changing this file)
is copied in foreign-key order, in batches, with its ids, from one consistent snapshot of the source,
inside one transaction on the target: an interrupted copy leaves the target empty, ready to try again.
Both databases are brought to the current schema first; the target must hold no data. Afterwards
PostgreSQL's id sequences continue after the copied ids, and the row counts of every table are
checked against the source. Full-text search needs nothing copied: SQLite's index is filled from
the copied notices, PostgreSQL's search column is generated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Integer, Table, func, insert, inspect, select, text

from store.db import Database, _safe, missing_sqlite_file, open_database, parse_url
from store.ingest import index_new_notices
from store.models import Base
from tenderwatch.errors import ConfigError, StoreError

# Tables of a store that are not in the models: Alembic's bookkeeping, full-text search (rebuilt from
# notices on the target), and SQLite's own.
NOT_COPIED = ("alembic_version", "notices_fts", "sqlite_")

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table


@dataclass
class CopyReport:
    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied, in copy order

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def copy_store(
    source_url: str, target_url: str, *, batch: int = 500, progress: Progress | None = None
) -> CopyReport:
    """Copy everything in the store at `source_url` into the empty database at `target_url`."""
    if parse_url(source_url, "FROM_URL") == parse_url(target_url, "TO_URL"):
        raise ConfigError("the source and the target are the same database: give two different URLs")
    _check_source_exists(source_url)
    source = open_database(source_url)
    try:
        target = open_database(target_url)
        try:
            return _copy(source, target, batch, progress or (lambda *_: None))
        finally:
            target.close()
    finally:
        source.close()


def _copy(source: Database, target: Database, batch: int, progress: Progress) -> CopyReport:
    report = CopyReport(_safe(source.url), _safe(target.url))
    tables = Base.metadata.sorted_tables  # parents before children
    _refuse_unknown_tables(source, tables)
    with _snapshot(source) as reading, target.engine.begin() as writing:
        held = {table.name: n for table in tables if (n := _count(writing, table))}
        if held:
            listed = ", ".join(f"{name}: {n}" for name, n in held.items())
            raise ConfigError(
                f"the target database at {report.target} already holds data ({listed}): "
                "copy into a new, empty database"
            )
        expected = {table.name: _count(reading, table) for table in tables}
        for table in tables:
            copied = 0
            progress(table.name, 0, expected[table.name])
            # Streamed (a server-side cursor on PostgreSQL): memory holds one batch, not the table.
            rows = reading.execute(
                select(table).order_by(*table.primary_key.columns).execution_options(yield_per=batch)
            )
            for part in rows.partitions():
                writing.execute(insert(table), [dict(row._mapping) for row in part])
                copied += len(part)
                progress(table.name, copied, expected[table.name])
            report.rows[table.name] = copied
        index_new_notices(writing)
        if target.dialect == "postgresql":
            _continue_sequences(writing, tables)
    with target.engine.connect() as checking:
        found = {table.name: _count(checking, table) for table in tables}
        if target.dialect == "postgresql":
            checking.execute(text("ANALYZE"))  # fresh statistics for the planner after a bulk load
            checking.commit()
    wrong = [f"{name}: {expected[name]} in the source, {found[name]} copied" for name in expected
             if found[name] != expected[name]]  # fmt: skip
    if wrong:
        raise StoreError(f"the copy does not match the source ({'; '.join(wrong)})")
    return report


def _check_source_exists(url: str) -> None:
    if path := missing_sqlite_file(url):
        raise ConfigError(f"there is no database file at {path}: check FROM_URL")
    database = Database(url)
    try:
        if database.current_revision() is None:
            raise ConfigError(f"the database at {_safe(url)} holds no tenderwatch store to copy")
    finally:
        database.close()


def _refuse_unknown_tables(source: Database, tables: list[Table]) -> None:
    known = {table.name for table in tables}
    unknown = sorted(
        name
        for name in inspect(source.engine).get_table_names()
        if name not in known and not name.startswith(NOT_COPIED)
    )
    if unknown:
        raise StoreError(
            f"the source database has tables this version of tenderwatch does not know "
            f"({', '.join(unknown)}), which would not be copied: upgrade tenderwatch first"
        )


def _snapshot(database: Database) -> Connection:
    """A connection reading one consistent snapshot of the whole store, whatever writes meanwhile."""
    connection = database.engine.connect()
    if database.dialect == "postgresql":
        return connection.execution_options(isolation_level="REPEATABLE READ")
    return connection.execution_options(sqlite_begin="DEFERRED")  # a WAL read transaction is a snapshot


def _count(connection: Connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _continue_sequences(connection: Connection, tables: list[Table]) -> None:
    """Make each serial id continue after the largest id copied (inserting ids does not move them)."""
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, Integer):
            continue  # e.g. source_state, keyed by the source's name
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{columns[0].name}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": columns[0].name},
        )
