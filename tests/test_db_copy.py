"""`tenderwatch db copy`: a whole store moved to another database (SQLite to PostgreSQL, and back)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted
from click.testing import CliRunner
from sqlalchemy import func, select

from spiders.find_a_tender import FindATender
from spiders.windows import LONDON
from store import crawls
from store.copy import copy_store
from store.db import open_database
from store.decisions import record_decision
from store.ingest import store_releases
from store.models import (
    Base,
    CrawlRun,
    DeliveryRow,
    DigestRow,
    FeedbackRow,
    NoticeChange,
    NoticeRow,
    OpportunitySplit,
    ScoreRow,
)
from store.opportunities import merge_procurement
from store.profiles import publish
from store.search import search
from store.users import add_user
from tenderwatch.cli import cli
from tenderwatch.config import EXAMPLE_PROFILE
from tenderwatch.errors import ConfigError
from tests.support.crawling import crawl
from tests.support.recorded import release_by_id

LATER = datetime(2026, 8, 13, 9, 0, tzinfo=UTC)


@pytest.fixture
def other_url(env, request, tmp_path) -> Iterator[str]:
    """A new, empty database on the other backend (SQLite when no PostgreSQL can be had)."""
    server = None
    if env["TENDERWATCH_DB_URL"].startswith("sqlite"):
        with contextlib.suppress(pytest.skip.Exception):
            server = request.getfixturevalue("postgres_server")
    if server is None:
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    name = server.create_database()
    yield server.sqlalchemy_url(name)
    server.drop_database(name)


@pytest_twisted.inlineCallbacks
def fill(config, database, server):
    """A store with some of everything: a crawl, changes, scores, feedback, a digest and its deliveries."""
    yield crawl(
        config,
        FindATender,
        base_url=server.url,
        start=datetime(2026, 8, 11, 6, tzinfo=LONDON),
        end=datetime(2026, 8, 11, 12, tzinfo=LONDON),
    )
    original, update = release_by_id("075935-2026"), copy.deepcopy(release_by_id("075943-2026"))
    update["tender"]["tenderPeriod"]["endDate"] = "2026-09-21T11:00:00+01:00"
    with database.writing() as session:
        store_releases(session, "find_a_tender", [original])
        store_releases(session, "find_a_tender", [update], now=LATER)
        notices = list(session.scalars(select(NoticeRow).order_by(NoticeRow.id).limit(3)))
        digest = DigestRow(
            channel="team",
            profile="example",
            as_of=LATER,
            created_at=LATER,
            outcome="sent",
            counts={"new": 2},
        )
        session.add(digest)
        session.flush()
        for notice in notices:
            session.add(
                ScoreRow(
                    notice_id=notice.id, profile="example", rules_hash="r" * 64,
                    notice_hash=notice.content_hash, score=70, band="strong", service_line="research",
                    reasons=[{"rule": "cpv", "points": 30}], computed_at=LATER,
                )
            )  # fmt: skip
            session.add(
                DeliveryRow(channel="team", notice_id=notice.id, kind="new", ref="", digest_id=digest.id,
                            delivered_at=LATER + timedelta(minutes=1))
            )  # fmt: skip
        session.add(FeedbackRow(notice_key=notices[0].key, label="bid", note="strong fit", created_at=LATER))
        # The web page's: a user, a bid decision and a published version of the rules.
        add_user(session, "alice", "correct horse battery", now=LATER)
        record_decision(session, notices[0].key, "no-bid", "too small", "alice", now=LATER)
        publish(session, "example", EXAMPLE_PROFILE.read_text(), "alice", "first", now=LATER)
        # An opportunity merged across services with its evidence, and a split a user made.
        merge_procurement(
            session, notices[1].procurement, notices[2].procurement, rule="same buyer reference",
            notice_key=notices[1].key, matched_notice_key=notices[2].key, evidence={"reference": "DN1"},
            now=LATER,
        )  # fmt: skip
        session.add(OpportunitySplit(procurement_a="a:1", procurement_b="b:2", created_at=LATER))


def everything(url: str) -> dict[str, list[dict]]:
    database = open_database(url)
    try:
        with database.reading() as session:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in session.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        database.close()


@pytest_twisted.inlineCallbacks
def test_a_copy_keeps_every_row_of_every_table_with_its_ids(config, database, replay_server, other_url):
    yield fill(config, database, replay_server)
    before = everything(database.url)
    assert all(before.values()), {name: len(rows) for name, rows in before.items()}  # something in each
    assert len(before["notice_changes"]) >= 1 and before["crawl_runs"][0]["outcome"] == "ok"
    seen = []
    report = copy_store(database.url, other_url, batch=50, progress=lambda *args: seen.append(args))
    assert everything(other_url) == before
    assert report.rows == {name: len(rows) for name, rows in before.items()}
    assert ("releases", 50, len(before["releases"])) in seen  # progress per batch
    # The copy is a working store: search finds its notices, and new rows get new ids.
    target = open_database(other_url)
    try:
        with target.reading() as session:
            first = before["notices"][0]
            assert first["key"] in [n.id for n in search(session, f'"{first["title"]}"', limit=None)]
        with target.writing() as session:
            store_releases(session, "find_a_tender", [release_by_id("032703-2026")])
            run_id = crawls.start_run(session, "find_a_tender", LATER, LATER)
        with target.reading() as session:
            newest = session.scalar(select(func.max(NoticeRow.id)))
            assert newest > max(row["id"] for row in before["notices"])
            assert run_id > max(row["id"] for row in before["crawl_runs"])
            assert session.get(CrawlRun, before["crawl_runs"][0]["id"]).outcome == "ok"
            assert session.scalar(select(func.count()).select_from(NoticeChange)) == len(
                before["notice_changes"]
            )
    finally:
        target.close()


def test_a_target_that_holds_data_is_refused_and_left_alone(database, other_url):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026")])
    copy_store(database.url, other_url)
    held = r"notices: 1, opportunities: 1, releases: 1, opportunity_procurements: 1"  # its opportunity too
    with pytest.raises(ConfigError, match=rf"already holds data \({held}\): copy into a new"):
        copy_store(database.url, other_url)
    assert len(everything(other_url)["notices"]) == 1


def test_a_missing_or_empty_source_is_refused(env, tmp_path, other_url):
    missing = tmp_path / "nosuch.db"
    with pytest.raises(ConfigError, match="there is no database file at"):
        copy_store(f"sqlite:///{missing}", other_url)
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ConfigError, match="holds no tenderwatch store to copy"):
        copy_store(f"sqlite:///{empty}", other_url)
    with pytest.raises(ConfigError, match="the same database"):
        copy_store(other_url, other_url)


@pytest.mark.parametrize(("which", "name"), [(0, "FROM_URL"), (1, "TO_URL")])
@pytest.mark.parametrize("bad", ["nonsense", "mysql://tenders@dbhost/tenders"])
def test_a_url_that_is_not_a_database_url_names_the_argument_to_fix(database, other_url, which, name, bad):
    # Not the configured store's TENDERWATCH_DB_URL or [store] url: the argument typed wrong.
    urls = [database.url, other_url]
    urls[which] = bad
    result = CliRunner().invoke(cli, ["db", "copy", *urls])
    assert result.exit_code == 2 and "Traceback" not in result.output
    [said] = result.output.strip().splitlines()
    assert said.startswith("tenderwatch: "), said
    assert said.endswith(f"use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB ({name})"), said


def test_db_copy_on_the_command_line(database, other_url):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026"), release_by_id("032703-2026")])
    result = CliRunner().invoke(cli, ["db", "copy", database.url, other_url])
    assert result.exit_code == 0, result.output
    assert "notices: 2 rows" in result.output and "releases: 2 rows" in result.output
    assert "every table's count matches the source" in result.output.splitlines()[-1]
    again = CliRunner().invoke(cli, ["db", "copy", database.url, other_url])
    assert again.exit_code == 2  # bad usage: a target that is not empty
    assert "already holds data (notices: 2, opportunities: 2, releases: 2," in again.output


@pytest.mark.parametrize("batch", ["0", "-5"])
def test_a_batch_of_no_rows_is_bad_usage(database, other_url, batch):
    result = CliRunner().invoke(cli, ["db", "copy", "--batch", batch, database.url, other_url])
    assert result.exit_code == 2
    assert "Invalid value for '--batch'" in result.output and "Traceback" not in result.output
