"""A test's store filled with recorded notices, copied from one filled once per worker and backend.

Storing the two recorded days of Find a Tender takes seconds (each release compiled, normalised and
kept with its history); copying the filled store takes a fraction of that, and a hundred tests start
from it. The copy is made before the test's store is opened, so list the fixture that calls
`filled_store` before `database` in a test's arguments (an opened store is refused, not overwritten).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from store.db import Database, open_database
from store.ingest import store_releases
from tests.support.recorded import cassette_releases, fts_releases

Fill = Callable[[Database], None]

_filled: dict[tuple[str, str], str] = {}  # (what, backend): a SQLite file, or a PostgreSQL database


def filled_store(request: pytest.FixtureRequest, env: dict[str, str], what: str, fill: Fill) -> Database:
    """The test's store (the `database` fixture of `env`) holding what `fill` stores; `what` names it."""
    url = make_url(env["TENDERWATCH_DB_URL"])
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(_sqlite_original(request, what, fill), Path(url.database))
    else:
        server = request.getfixturevalue("postgres_server")
        original = _filled.get((what, "postgresql"))
        if original is None:
            original = server.kept_database()
            _fill(server.sqlalchemy_url(original), fill)
            _filled[what, "postgresql"] = original  # only once filled: a failed fill is tried again
        server.replace_with_copy(url.database, original)
    return request.getfixturevalue("database")


def _sqlite_original(request: pytest.FixtureRequest, what: str, fill: Fill) -> Path:
    original = _filled.get((what, "sqlite"))
    if original is None:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("filled")
        original = str(folder / "tenderwatch.db")
        _fill(f"sqlite:///{original}", fill)
        _filled[what, "sqlite"] = original  # only once filled: a failed fill is tried again
    return Path(original)


def _fill(url: str, fill: Fill) -> None:
    database = open_database(url)
    try:
        fill(database)
    finally:
        database.close()  # a PostgreSQL template must have no connections


def _copy_sqlite(original: Path, target: Path) -> None:
    if target.exists():
        raise RuntimeError(f"{target} is already open: list the filled store's fixture before `database`")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(original)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # one consistent file, whatever the original's write-ahead log holds


RECORDED = "two recorded days of Find a Tender and a Contracts Finder page"


def store_recorded(database: Database, now: datetime | None = None) -> None:
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases(), now=now)
        store_releases(session, "contracts_finder", cassette_releases("contracts_finder_2025-01-20"), now=now)
