"""Shared fixtures: an isolated configuration and store per test, and a local replay server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.db import Database, open_database
from tenderwatch import config as configuration
from tenderwatch.config import Config
from tests.support.recorded import cassette_releases
from tests.support.replay_server import CONTRACTS_FINDER, FIND_A_TENDER, ReplayServer


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A clean TENDERWATCH_* environment pointing at a fresh SQLite file; no user config is read."""
    for name in list(__import__("os").environ):
        if name.startswith("TENDERWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    values = {
        "TENDERWATCH_DATA_DIR": str(tmp_path / "data"),
        "TENDERWATCH_DB_URL": f"sqlite:///{tmp_path / 'data' / 'tenderwatch.db'}",
        "TENDERWATCH_FIND_A_TENDER_DELAY": "0",
        "TENDERWATCH_CONTRACTS_FINDER_DELAY": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


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
