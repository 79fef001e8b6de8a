"""Shared fixtures: an isolated configuration and store per test, and a local replay server.

Every test that uses `env` (and so `config` and `database`) runs twice: against a fresh SQLite file
and against a fresh database on a throwaway PostgreSQL server (tests/support/postgres.py). Where no
PostgreSQL can be started, the PostgreSQL runs are skipped with a message saying how to enable them.
Two markers run a test on SQLite alone, each with its reason:
- @pytest.mark.sqlite_only(reason=...): what it checks only SQLite has (WAL, lock files, ...);
- @pytest.mark.above_the_store(reason=...): what it checks the store's backend cannot change (help,
  a config or input file's mistakes, a channel check), so a second run would only double its time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.db import Database, open_database
from tenderwatch import config as configuration
from tenderwatch.config import SOURCE_DEFAULTS, Config
from tests.support import postgres
from tests.support.recorded import cassette_releases
from tests.support.replay_server import CONTRACTS_FINDER, FIND_A_TENDER, ReplayServer

BACKENDS = ("sqlite", "postgresql")
NATIONAL = ("find_a_tender", "contracts_finder")


SQLITE_ALONE = ("sqlite_only", "above_the_store")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): the test checks something only SQLite has")
    config.addinivalue_line(
        "markers", "above_the_store(reason): the store's backend cannot change what the test checks"
    )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker more than the cores, at most 4. The tests spend about a third of their
    time waiting (for subprocesses, local servers and timers), which a spare worker fills (11.5
    instead of 13.5 minutes on 2 cores); each worker starts its own PostgreSQL server."""
    return min(4, (os.cpu_count() or 1) + 1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "env" not in metafunc.fixturenames:
        return
    alone = any(metafunc.definition.get_closest_marker(name) for name in SQLITE_ALONE)
    metafunc.parametrize("env", BACKENDS[:1] if alone else BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """One PostgreSQL server for the whole session (skips the PostgreSQL runs when there is none)."""
    try:
        server = postgres.start()
    except postgres.Unavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.close()


@pytest.fixture
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean TENDERWATCH_* environment pointing at a fresh store; no user config is read.

    The store is a SQLite file, or (the `postgresql` run) a fresh database at the current schema.
    """
    for name in list(os.environ):
        if name.startswith("TENDERWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    server, name = None, None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        name = server.migrated_database()
        db_url = server.sqlalchemy_url(name)
    else:
        db_url = f"sqlite:///{tmp_path / 'data' / 'tenderwatch.db'}"
    values = {
        "TENDERWATCH_DATA_DIR": str(tmp_path / "data"),
        "TENDERWATCH_DB_URL": db_url,
        **{f"TENDERWATCH_{source.upper()}_DELAY": "0" for source in SOURCE_DEFAULTS},
        # The portals are off unless a test turns one on: most tests crawl the two national services.
        **{
            f"TENDERWATCH_{source.upper()}_ENABLED": "false"
            for source in SOURCE_DEFAULTS
            if source not in NATIONAL
        },
    }
    for variable, value in values.items():
        monkeypatch.setenv(variable, value)
    yield values
    if server:
        server.drop_database(name)


@pytest.fixture
def config(env: dict[str, str]) -> Config:
    return configuration.load()


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = open_database(config.db_url)
    yield db
    db.close()


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """Both APIs on 127.0.0.1, serving two recorded days of Find a Tender and a Contracts Finder page."""
    releases = {
        FIND_A_TENDER: cassette_releases("find_a_tender_2026-08-10")
        + cassette_releases("find_a_tender_2026-08-11"),
        CONTRACTS_FINDER: cassette_releases("contracts_finder_2025-01-20"),
    }
    with ReplayServer(releases) as server:
        yield server
