"""Real recorded responses replayed into real Scrapy crawls through vcrpy cassettes.

The recordings walked longer windows than tenderwatch uses (a whole day on Find a Tender), so each
test crawls with a subclass whose window matches the recording; everything else is production code.
DOWNLOAD_HANDLERS are switched off: a request missing from a cassette can never reach the network.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest_twisted
from sqlalchemy import func, select

from spiders.contracts_finder import ContractsFinder
from spiders.find_a_tender import FindATender
from spiders.ocds_json import UNLIMITED
from store import crawls
from store.models import CrawlRun, NoticeRow, ReleaseRow, SourceState
from tests.support.crawling import crawl, replay, uk
from tests.support.recorded import cassette_releases

FTS_LIVE = "https://www.find-tender.service.gov.uk"
CF_LIVE = "https://www.contractsfinder.service.gov.uk"


class FindATenderDaily(FindATender):
    max_window = timedelta(days=1)  # the recording walked whole days


class ContractsFinderThreeDays(ContractsFinder):
    max_window = timedelta(days=3)


class ContractsFinderTendersOnly(ContractsFinder):
    max_window = timedelta(days=2)
    extra_params = {"stages": "tender"}  # how that page was recorded


def stored_ids(database, source: str) -> list[str]:
    with database.reading() as session:
        return list(session.scalars(select(ReleaseRow.release_id).where(ReleaseRow.source == source)))


@pytest_twisted.inlineCallbacks
def test_a_recorded_day_of_find_a_tender_is_stored_whole(config, database):
    crawler = yield crawl(
        config,
        FindATenderDaily,
        base_url=FTS_LIVE,
        start=uk("2026-08-11T00:00:00"),
        end=uk("2026-08-12T00:00:00"),
        **replay("find_a_tender_2026-08-11"),
    )
    stats = crawler.stats.get_stats()
    assert stats["vcr/played"] == 5
    assert "vcr/missing" not in stats
    recorded = cassette_releases("find_a_tender_2026-08-11")
    assert sorted(stored_ids(database, "find_a_tender")) == sorted({r["id"] for r in recorded})
    with database.reading() as session:
        run = session.get(CrawlRun, stats["tenderwatch/run_id"])
        assert (run.outcome, run.pages, run.releases, run.new, run.errors) == ("ok", 5, 496, 496, 0)
        assert session.scalar(select(func.count()).select_from(NoticeRow)) == 496
        assert session.get(SourceState, "find_a_tender").watermark == uk("2026-08-12T00:00:00")
    # Scrapy's remote-control server (it runs Python sent to a local port) and telnet console stay out.
    extensions = {type(extension).__name__ for extension in crawler.extensions.middlewares}
    assert "CoreStats" in extensions
    assert not extensions & {"RemoteControl", "TelnetConsole", "FeedExporter"}


@pytest_twisted.inlineCallbacks
def test_releases_are_kept_as_received_with_unlimited_numbers_made_finite(config, database):
    yield crawl(
        config,
        FindATenderDaily,
        base_url=FTS_LIVE,
        start=uk("2026-08-10T00:00:00"),
        end=uk("2026-08-11T00:00:00"),
        **replay("find_a_tender_2026-08-10"),
    )
    recorded = {r["id"]: r for r in cassette_releases("find_a_tender_2026-08-10")}
    with database.reading() as session:
        stored = {row.release_id: json.loads(row.raw) for row in session.scalars(select(ReleaseRow))}
    unlimited = [rid for rid, release in recorded.items() if "Infinity" in json.dumps(release)]
    assert len(unlimited) == 1  # that day holds one numeric 1e9999
    for release_id, release in recorded.items():
        assert stored[release_id] == finite(release)


def finite(value):
    """The release as stored: 1e9999 (read as infinity) becomes UNLIMITED."""
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return UNLIMITED if value == float("inf") else value


@pytest_twisted.inlineCallbacks
def test_a_recorded_429_is_waited_out_then_the_same_url_succeeds(config, database):
    crawler = yield crawl(
        config,
        FindATender,
        base_url=FTS_LIVE,
        start=uk("2026-08-11T16:00:00"),
        end=uk("2026-08-11T17:00:00"),
        **replay("find_a_tender_rate_limited", RETRY_AFTER_MAX=0.1),
    )
    stats = crawler.stats.get_stats()
    assert stats["vcr/played"] == 2
    assert stats["rate_limit/waits"] == 1
    assert stats["rate_limit/asked_seconds"] == 120  # the service's Retry-After
    assert stats["rate_limit/waited_seconds"] == 0.1  # capped by RETRY_AFTER_MAX
    assert len(stored_ids(database, "find_a_tender")) == 43
    with database.reading() as session:
        assert session.get(CrawlRun, stats["tenderwatch/run_id"]).outcome == "ok"


@pytest_twisted.inlineCallbacks
def test_a_crawl_cut_short_keeps_what_it_fetched_and_does_not_advance_the_watermark(config, database):
    # Only page 1 of this Contracts Finder window was recorded; page 2 cannot be fetched.
    crawler = yield crawl(
        config,
        ContractsFinderThreeDays,
        base_url=CF_LIVE,
        start=uk("2025-01-20T23:00:00"),
        end=uk("2025-01-23T23:00:00"),
        **replay("contracts_finder_2025-01-20"),
    )
    stats = crawler.stats.get_stats()
    assert (stats["vcr/played"], stats["vcr/missing"]) == (1, 1)
    assert len(stored_ids(database, "contracts_finder")) == 100
    with database.reading() as session:
        run = session.get(CrawlRun, stats["tenderwatch/run_id"])
        assert run.outcome == crawls.FAILED
        assert "cannot reach" in run.message
        assert session.get(SourceState, "contracts_finder") is None  # no window was completed


@pytest_twisted.inlineCallbacks
def test_contracts_finder_releases_compile_into_one_notice_per_guid(config, database):
    yield crawl(
        config,
        ContractsFinderTendersOnly,
        base_url=CF_LIVE,
        start=uk("2026-09-17T17:28:28"),
        end=uk("2026-09-19T17:28:28"),
        **replay("contracts_finder_tenders_2026-09-19"),
    )
    recorded = cassette_releases("contracts_finder_tenders_2026-09-19")
    guids = {r["id"].rsplit("-", 1)[0] for r in recorded}
    with database.reading() as session:
        keys = set(session.scalars(select(NoticeRow.source_id).where(NoticeRow.source == "contracts_finder")))
    assert len(recorded) == 14
    assert keys == guids
