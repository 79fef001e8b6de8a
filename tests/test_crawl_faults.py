"""End to end against a local server with the APIs' window, limit and cursor semantics, and its faults.

Every test checks the one promise that matters: each release the service holds ends up stored
exactly once, whatever went wrong on the way.
"""

from __future__ import annotations

import codecs
import itertools
from collections import Counter
from datetime import datetime, timedelta

import pytest
import pytest_twisted
from click.testing import CliRunner
from sqlalchemy import func, select, text

from spiders.contracts_finder import ContractsFinder
from spiders.find_a_tender import FindATender
from spiders.pipelines import PAGES_PER_TRANSACTION
from store import crawls
from store.models import NoticeRow, ReleaseRow, SourceState
from tenderwatch.cli import cli
from tests.support.crawling import crawl, run_of, uk
from tests.support.receivers import free_port
from tests.support.replay_server import CONTRACTS_FINDER, FIND_A_TENDER, Fault

DAY_START, DAY_END = "2026-08-11T00:00:00", "2026-08-12T00:00:00"


def releases_in(server, api, start: str, end: str) -> set[str]:
    return {r["id"] for r in server.releases[api] if uk(start) <= datetime.fromisoformat(r["date"]) < uk(end)}


def stored(database, source: str) -> Counter:
    with database.reading() as session:
        return Counter(session.scalars(select(ReleaseRow.release_id).where(ReleaseRow.source == source)))


def crawl_fts(config, server, start=DAY_START, end=DAY_END, spider=FindATender, **settings):
    return crawl(config, spider, base_url=server.url, start=uk(start), end=uk(end), **settings)


@pytest_twisted.inlineCallbacks
def test_a_day_is_fetched_in_six_hour_windows_of_uk_time_and_stored_once(config, database, replay_server):
    crawler = yield crawl_fts(config, replay_server)
    expected = releases_in(replay_server, FIND_A_TENDER, DAY_START, DAY_END)
    assert len(expected) == 496
    assert stored(database, "find_a_tender") == Counter(expected)
    first_pages = [s.query for s in replay_server.requests_to(FIND_A_TENDER) if "cursor" not in s.query]
    assert [(q["updatedFrom"], q["updatedTo"]) for q in first_pages] == [
        ("2026-08-11T00:00:00", "2026-08-11T06:00:00"),
        ("2026-08-11T06:00:00", "2026-08-11T12:00:00"),
        ("2026-08-11T12:00:00", "2026-08-11T18:00:00"),
        ("2026-08-11T18:00:00", "2026-08-12T00:00:00"),
    ]
    assert all("stages" not in s.query for s in replay_server.log)
    run = run_of(database, crawler)
    assert (run.outcome, run.releases, run.new) == ("ok", 496, 496)
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk(DAY_END)


@pytest_twisted.inlineCallbacks
def test_one_request_at_a_time_with_the_configured_delay(env, monkeypatch, database, replay_server):
    from tenderwatch import config as configuration

    monkeypatch.setenv("TENDERWATCH_FIND_A_TENDER_DELAY", "0.2")
    yield crawl_fts(configuration.load(), replay_server, "2026-08-11T06:00:00", "2026-08-11T18:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert len(served) >= 4
    pairs = list(itertools.pairwise(served))
    assert all(later.started >= earlier.finished for earlier, later in pairs)  # never two at once
    # Spaced as configured (measured at the server, so allow for a little scheduling noise).
    assert min(later.started - earlier.started for earlier, later in pairs) >= 0.18


@pytest_twisted.inlineCallbacks
def test_429_with_retry_after_waits_that_long_then_retries_the_same_url(config, database, replay_server):
    replay_server.add_fault(
        FIND_A_TENDER,
        Fault(
            on_request=2,
            status=429,
            headers={"Retry-After": "1", "Content-Type": "text/plain"},
            body=b"Rate limit of 12 exceeded. Please retry after 1 seconds.",
        ),
    )
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert served[1].status == 429
    assert served[2].query == served[1].query  # the same URL again
    assert served[2].started - served[1].finished >= 1.0
    assert crawler.stats.get_value("rate_limit/waits") == 1
    assert stored(database, "find_a_tender") == Counter(
        releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    )


@pytest_twisted.inlineCallbacks
def test_503_is_retried_after_its_wait(config, database, replay_server):
    replay_server.add_fault(
        FIND_A_TENDER,
        Fault(on_request=1, status=503, headers={"Retry-After": "0"}, body=b"Service Unavailaible", times=2),
    )
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    assert [s.status for s in replay_server.requests_to(FIND_A_TENDER)][:3] == [503, 503, 200]
    assert run_of(database, crawler).outcome == "ok"
    assert stored(database, "find_a_tender") == Counter(
        releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    )


@pytest_twisted.inlineCallbacks
def test_rate_limit_waits_do_not_use_up_the_retries_of_a_truncated_page(config, database, replay_server):
    replay_server.add_fault(
        FIND_A_TENDER, Fault(on_request=2, status=429, headers={"Retry-After": "0"}, body=b"x", times=4)
    )
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=6, truncate=True))  # the same page, after 4 waits
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert [s.status for s in served][1:5] == [429] * 4 and served[5].query == served[6].query
    assert run_of(database, crawler).outcome == "ok"
    assert stored(database, "find_a_tender") == Counter(
        releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    )


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (429, None, "still rate limited (HTTP 429) after waiting as asked; raise this source's delay"),
        # A 503 that persists is a service down, not a rate limit: a slower crawl would not help.
        (503, b"maintenance", "the service stayed unavailable (HTTP 503) after waiting as asked"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_endless_refusals_fail_the_crawl_with_advice_instead_of_looping(
    config, database, replay_server, status, body, said
):
    replay_server.add_fault(
        FIND_A_TENDER, Fault(on_request=1, status=status, headers={"Retry-After": "0"}, body=body, times=100)
    )
    crawler = yield crawl_fts(
        config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00", RATE_LIMIT_RETRY_TIMES=2
    )
    run = run_of(database, crawler)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 3
    assert run.outcome == "failed"
    assert said in run.message


@pytest_twisted.inlineCallbacks
def test_a_service_asking_twice_for_longer_than_a_crawl_waits_fails_the_source_after_one_wait(
    config, database, replay_server
):
    # It was waited out (capped) five times: 50 minutes at the default cap, to be refused each time.
    replay_server.add_fault(
        FIND_A_TENDER,
        Fault(on_request=1, status=429, headers={"Retry-After": "7200"}, body=b"Try tomorrow", times=100),
    )
    crawler = yield crawl_fts(
        config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00", RETRY_AFTER_MAX=0.1
    )
    run = run_of(database, crawler)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 2
    assert crawler.stats.get_value("rate_limit/waited_seconds") == 0.1
    assert run.outcome == "failed"
    assert "the service asked to wait 2 h 00 min (HTTP 429), longer than a crawl waits" in run.message


@pytest_twisted.inlineCallbacks
def test_contracts_finder_403_is_a_rate_limit(config, database, replay_server):
    replay_server.add_fault(
        CONTRACTS_FINDER,
        Fault(
            on_request=1,
            status=403,
            headers={"Retry-After": "0", "Content-Type": "text/html"},
            body=b"<title>Forbidden - Contracts Finder</title>",
        ),
    )
    crawler = yield crawl(
        config,
        ContractsFinder,
        base_url=replay_server.url,
        start=uk("2025-01-23T00:00:00"),
        end=uk("2025-01-23T12:00:00"),
    )
    assert [s.status for s in replay_server.requests_to(CONTRACTS_FINDER)][:2] == [403, 200]
    assert run_of(database, crawler).outcome == "ok"
    assert stored(database, "contracts_finder") == Counter(
        releases_in(replay_server, CONTRACTS_FINDER, "2025-01-23T00:00:00", "2025-01-23T12:00:00")
    )


@pytest_twisted.inlineCallbacks
def test_a_truncated_body_is_fetched_again(config, database, replay_server):
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=2, truncate=True))
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert served[1].query == served[2].query
    assert run_of(database, crawler).outcome == "ok"
    assert stored(database, "find_a_tender") == Counter(
        releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    )


@pytest_twisted.inlineCallbacks
def test_a_page_that_starts_with_a_byte_order_mark_is_read_and_stored(config, database, replay_server):
    start, end = "2026-08-11T06:00:00", "2026-08-11T12:00:00"
    query = {"updatedFrom": start, "updatedTo": end, "limit": "100"}
    _, headers, page = replay_server.page(FIND_A_TENDER, query)  # the window's first page, as served
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, headers=headers, body=codecs.BOM_UTF8 + page))
    crawler = yield crawl_fts(config, replay_server, start, end)
    served = replay_server.requests_to(FIND_A_TENDER)
    assert "cursor" in served[1].query  # read at once (not fetched again), then its next link followed
    assert run_of(database, crawler).outcome == "ok"
    assert stored(database, "find_a_tender") == Counter(releases_in(replay_server, FIND_A_TENDER, start, end))


@pytest_twisted.inlineCallbacks
def test_an_empty_answer_for_a_whole_window_is_asked_once_more_before_the_watermark_passes_it(
    config, database, replay_server
):
    # A busy service once answered 200 with no releases: the window's 106 releases were lost for good.
    nothing = b'{"uri": "x", "version": "1.1", "releases": []}'
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, body=nothing))
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert served[0].query == served[1].query  # the same window asked again
    assert run_of(database, crawler).outcome == "ok"
    expected = releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    assert len(expected) > 0 and stored(database, "find_a_tender") == Counter(expected)


@pytest_twisted.inlineCallbacks
def test_a_window_empty_twice_is_a_quiet_spell_and_the_watermark_passes_it(config, database, replay_server):
    crawler = yield crawl_fts(config, replay_server, "2026-08-01T00:00:00", "2026-08-01T06:00:00")
    served = replay_server.requests_to(FIND_A_TENDER)
    assert len(served) == 2 and served[0].query == served[1].query
    assert run_of(database, crawler).outcome == "ok"
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk("2026-08-01T06:00:00")


@pytest_twisted.inlineCallbacks
def test_a_release_served_twice_in_one_page_is_stored_once(config, database, replay_server):
    releases = replay_server.releases[FIND_A_TENDER]
    twin = next(r for r in releases if r["date"].startswith("2026-08-11T07"))
    releases.insert(releases.index(twin), twin)  # as the live service did with 071452-2026
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    assert stored(database, "find_a_tender")[twin["id"]] == 1
    with database.reading() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(NoticeRow).where(NoticeRow.source_id == twin["id"])
            )
            == 1
        )
    assert run_of(database, crawler).outcome == "ok"


class ContractsFinderSmallPages(ContractsFinder):
    page_size = 10  # so that the recorded page of 100 fills many pages


@pytest_twisted.inlineCallbacks
def test_a_full_page_without_a_next_link_splits_the_window_until_nothing_is_dropped(
    config, database, replay_server
):
    replay_server.drop_next_link_when_full = True  # Contracts Finder's hole
    start, end = "2025-01-20T23:00:00", "2025-01-23T23:00:00"
    crawler = yield crawl(
        config, ContractsFinderSmallPages, base_url=replay_server.url, start=uk(start), end=uk(end)
    )
    expected = releases_in(replay_server, CONTRACTS_FINDER, start, end)
    assert len(expected) == 100
    assert set(stored(database, "contracts_finder")) == expected
    assert max(stored(database, "contracts_finder").values()) == 1
    assert all("cursor" not in s.query for s in replay_server.requests_to(CONTRACTS_FINDER))
    run = run_of(database, crawler)
    assert run.outcome == "ok"
    assert run.releases == 100  # the pages fetched again after a split are not counted twice


class FindATenderOversizedPages(FindATender):
    page_size = 101  # the service allows at most 100


@pytest_twisted.inlineCallbacks
def test_a_400_for_a_bad_parameter_is_a_clear_error_not_a_retry_loop(config, database, replay_server):
    crawler = yield crawl_fts(
        config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00", spider=FindATenderOversizedPages
    )
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert (
        run.message
        == "the service rejected the request (HTTP 400): 'limit' must not exceed the maximum value"
    )
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender") is None


@pytest_twisted.inlineCallbacks
def test_a_server_error_that_persists_says_the_service_failed(config, database, replay_server):
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, status=500, times=10))
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 4  # the first try and 3 retries
    assert run_of(database, crawler).message == (
        "the service failed (HTTP 500); it may be down, and the next crawl will try again"
    )


@pytest_twisted.inlineCallbacks
def test_a_source_unreachable_is_named_by_its_origin_never_its_user_and_password(config, database):
    # The config refuses such a URL; the message must not depend on that to keep a password out of
    # status and the digest.
    port = free_port()  # nothing listens there
    crawler = yield crawl(
        config,
        FindATender,
        base_url=f"http://bids:pw-7f3a@127.0.0.1:{port}/prefix",
        start=uk("2026-08-11T06:00:00"),
        end=uk("2026-08-11T12:00:00"),
    )
    run = run_of(database, crawler)
    assert (run.outcome, run.message) == (
        crawls.FAILED,
        # Twisted cannot connect to a host given with user:password@, and its error says so.
        f"cannot reach http://127.0.0.1:{port} (invalid hostname: ***@127.0.0.1); check the network, "
        "or the source's URL (TENDERWATCH_FIND_A_TENDER_URL)",
    )
    status = CliRunner().invoke(cli, ["status"])
    assert f"cannot reach http://127.0.0.1:{port}" in status.output
    assert "pw-7f3a" not in status.output and "bids" not in status.output


@pytest_twisted.inlineCallbacks
def test_a_404_points_at_the_sources_url(config, database, replay_server):
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, status=404))
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    assert run_of(database, crawler).message == (
        "no such page (HTTP 404); check the source's URL (TENDERWATCH_FIND_A_TENDER_URL)"
    )


@pytest_twisted.inlineCallbacks
def test_a_window_that_fails_stops_the_crawl_and_the_watermark_stays_at_the_last_complete_one(
    config, database, replay_server
):
    # The third window's first page answers 500 every time: windows one and two complete, three does not.
    pages_in_first_two_windows = _pages(replay_server, "2026-08-11T00:00:00", "2026-08-11T06:00:00") + _pages(
        replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00"
    )
    replay_server.add_fault(
        FIND_A_TENDER, Fault(on_request=pages_in_first_two_windows + 1, status=500, times=10)
    )
    crawler = yield crawl_fts(config, replay_server)
    assert run_of(database, crawler).outcome == "failed"
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk("2026-08-11T12:00:00")
    assert set(stored(database, "find_a_tender")) == releases_in(
        replay_server, FIND_A_TENDER, "2026-08-11T00:00:00", "2026-08-11T12:00:00"
    )


def _pages(server, start: str, end: str) -> int:
    count = len(releases_in(server, FIND_A_TENDER, start, end))
    return max(1, -(-count // 100))


def refuse_inserts_after(database, rows: int, said: str) -> None:
    """A real error from the database on the first release stored once `rows` are: a trigger."""
    with database.writing() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE INSERT ON releases WHEN (SELECT count(*) FROM releases) "
                    f">= {rows} BEGIN SELECT RAISE(ABORT, '{said}'); END"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF (SELECT count(*) FROM releases) >= {rows} THEN RAISE EXCEPTION '{said}'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            session.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON releases FOR EACH ROW EXECUTE FUNCTION refuse()")
            )


@pytest_twisted.inlineCallbacks
def test_a_page_the_store_cannot_take_stops_the_crawl_and_the_watermark(config, database, replay_server):
    first = releases_in(replay_server, FIND_A_TENDER, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    first_pages = _pages(replay_server, "2026-08-11T06:00:00", "2026-08-11T12:00:00")
    # The first batch: the first window's pages and the second window's first pages, 100 releases each.
    refuse_inserts_after(database, len(first) + 100 * (PAGES_PER_TRANSACTION - first_pages), "no room left")
    crawler = yield crawl_fts(config, replay_server, "2026-08-11T06:00:00", "2026-08-11T18:00:00")
    run = run_of(database, crawler)
    assert run.outcome == "failed"
    # (PostgreSQL adds the trigger's CONTEXT line, joined onto the one line.)
    assert run.message.startswith("could not store a page: the database failed: no room left")
    assert "ocds-" not in run.message and "[SQL" not in run.message  # neither the data nor the statement
    # The first batch (the first window and the start of the second) was stored; the next batch
    # rolled back, so the watermark stays at the end of the first window and the second window is
    # fetched again next time.
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk("2026-08-11T12:00:00")
    second = releases_in(replay_server, FIND_A_TENDER, "2026-08-11T12:00:00", "2026-08-11T18:00:00")
    assert (
        first_pages
        < PAGES_PER_TRANSACTION
        < first_pages + _pages(replay_server, "2026-08-11T12:00:00", "2026-08-11T18:00:00")
    )
    kept = set(stored(database, "find_a_tender"))
    assert first <= kept
    assert kept - first <= second
    assert len(kept - first) == 100 * (PAGES_PER_TRANSACTION - first_pages)


def test_the_watermark_moves_only_over_windows_that_join_it(database):
    def watermark_after(start: str, end: str) -> datetime:
        with database.writing() as session:
            crawls.complete_window(session, "find_a_tender", uk(start), uk(end), may_start=False)
        with database.reading() as session:
            return session.get(SourceState, "find_a_tender").watermark

    with database.writing() as session:
        crawls.complete_window(session, "find_a_tender", uk("2026-08-11T00:00"), uk("2026-08-11T06:00"))
    assert watermark_after("2026-08-11T08:00", "2026-08-11T12:00") == uk("2026-08-11T06:00")  # a gap
    assert watermark_after("2026-08-10T00:00", "2026-08-10T06:00") == uk("2026-08-11T06:00")  # behind
    assert watermark_after("2026-08-11T05:00", "2026-08-11T08:00") == uk("2026-08-11T08:00")  # joins


class ContractsFinderSixHourWindows(ContractsFinderSmallPages):
    min_window = timedelta(hours=6)  # so that it splits twice (24 h, 12 h), then may split no more


@pytest_twisted.inlineCallbacks
def test_a_window_that_still_drops_results_when_split_fails_and_keeps_the_watermark(
    config, database, replay_server
):
    replay_server.drop_next_link_when_full = True
    start, end = "2025-01-22T23:00:00", "2025-01-23T23:00:00"  # one day: all 100 recorded releases
    crawler = yield crawl(
        config, ContractsFinderSixHourWindows, base_url=replay_server.url, start=uk(start), end=uk(end)
    )
    requests = replay_server.requests_to(CONTRACTS_FINDER)
    assert [(r.query["publishedFrom"], r.query["publishedTo"]) for r in requests] == [
        ("2025-01-22T23:00:00", "2025-01-23T23:00:00"),
        ("2025-01-22T23:00:00", "2025-01-23T11:00:00"),  # the first half: nothing there,
        ("2025-01-22T23:00:00", "2025-01-23T11:00:00"),  # asked once more to be sure
        ("2025-01-23T11:00:00", "2025-01-23T23:00:00"),
        ("2025-01-23T11:00:00", "2025-01-23T17:00:00"),  # still full: too small to split again
    ]
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert "still returns a full page without a next link when split" in run.message
    assert len(stored(database, "contracts_finder")) >= ContractsFinderSixHourWindows.page_size  # kept
    with database.reading() as session:
        assert session.get(SourceState, "contracts_finder") is None  # nothing marked complete
