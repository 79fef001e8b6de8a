"""Public Contracts Scotland and Sell2Wales: OCDS a month at a time (spiders/ocds_months.py).

A real recorded Public Contracts Scotland response replayed through a vcrpy cassette, and a local
stand-in for the API family (tests/support/month_server.py) for months, notice types, repeated polls
and faults. Everything else is production code.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest_twisted
from sqlalchemy import select, update

from spiders.ocds_months import months_touched
from spiders.public_contracts_scotland import PublicContractsScotland
from spiders.sell2wales import Sell2Wales
from store import crawls
from store.models import NoticeRow, ReleaseRow, SourceState
from store.queries import get_notice
from tests.support.certificates import authority
from tests.support.crawling import crawl, replay, run_of, uk
from tests.support.month_server import MonthFault, MonthServer
from tests.support.recorded import cassette_releases

PCS_LIVE = "https://api.publiccontractsscotland.gov.uk"
RECORDED = "public_contracts_scotland_2026-09_102"


class ContractNoticesOnly(PublicContractsScotland):
    notice_types = ("102",)  # the one notice type recorded


def crawl_month(
    config,
    url: str,
    spider: type = PublicContractsScotland,
    start: str = "2026-09-19T06:00:00",
    end: str = "2026-09-19T18:00:00",
    **settings,
):
    """A crawl from `url` of a period in UK time (19 September 2026, 06:00-18:00 unless told)."""
    return crawl(config, spider, base_url=url, start=uk(start), end=uk(end), **settings)


def recorded() -> list[dict]:
    return cassette_releases(RECORDED)


def stored_keys(database, source: str) -> Counter:
    with database.reading() as session:
        return Counter(session.scalars(select(ReleaseRow.release_id).where(ReleaseRow.source == source)))


@pytest_twisted.inlineCallbacks
def test_a_recorded_month_of_contract_notices_is_stored_whole(config, database):
    crawler = yield crawl_month(config, PCS_LIVE, spider=ContractNoticesOnly, **replay(RECORDED))
    stats = crawler.stats.get_stats()
    assert stats["vcr/played"] == 1 and "vcr/missing" not in stats
    references = {release["id"].split("-", 2)[2] for release in recorded()}
    assert len(references) == len(recorded()) == 62
    assert stored_keys(database, "public_contracts_scotland") == Counter(references)  # under the reference
    run = run_of(database, crawler)
    assert (run.outcome, run.releases, run.new, run.changed) == (crawls.OK, 62, 62, 0)
    with database.reading() as session:
        assert session.get(SourceState, "public_contracts_scotland").watermark is not None
        keys = set(
            session.scalars(select(NoticeRow.key).where(NoticeRow.source == "public_contracts_scotland"))
        )
    assert keys == {f"public_contracts_scotland:{reference}" for reference in references}


@pytest_twisted.inlineCallbacks
def test_real_notices_are_normalised_as_read_by_hand(config, database):
    """Three releases of the recording, each field checked against the raw release."""
    yield crawl_month(config, PCS_LIVE, spider=ContractNoticesOnly, **replay(RECORDED))
    with database.reading() as session:
        review = get_notice(session, "public_contracts_scotland:SEP564656")
        survey = get_notice(session, "public_contracts_scotland:SEP564523")
        peatland = get_notice(session, "public_contracts_scotland:SEP563785")
    # rls-15-SEP564656: tender.title, buyer, tenderPeriod.endDate 2026-10-12T10:00:00Z, value 60000,
    # classification 73000000, items' delivery region "UK", mainProcurementCategory services.
    assert review.title == (
        "Review of the Interim Competency Assessment Process for the Building Standards Profession"
    )
    assert review.buyer_name == "Scottish Government"
    assert review.ocid == "ocds-r6ebe6-0000843099"
    assert (review.notice_type, review.stage, review.is_opportunity, review.status) == (
        "UK4",
        "tender",
        True,
        "active",
    )
    # PCS writes UK clock time with a Z ("T12:00:00Z" for its buyers' noon deadlines in summer, where
    # Find a Tender's copies say "T12:00:00+01:00"): 10:00 on the buyer's clock, not 11:00 BST.
    assert review.deadline == uk("2026-10-12T10:00:00")
    assert review.published_at == uk("2026-09-16T00:00:00")  # dated "T00:00:00Z": that day, UK time
    assert (review.value_amount, review.value_currency) == (60000.0, "GBP")
    assert (review.cpv, review.regions, review.category) == (("73000000",), ("UK",), "services")
    assert review.url == (
        "https://www.publiccontractsscotland.gov.uk/search/show/search_view.aspx?ID=SEP564656"
    )
    # rls-22-SEP564523: no item CPV codes, so the main classification 79300000; region UKM; £87,500.
    assert survey.title == "Have Your Say Social Services Research and Report"
    assert survey.buyer_name == "Scottish Social Services Council"
    assert (survey.cpv, survey.regions, survey.value_amount) == (("79300000",), ("UKM",), 87500.0)
    assert survey.deadline == uk("2026-10-15T17:00:00")  # "T17:00:00Z": 17:00 on the buyer's clock
    # rls-49-SEP563785: value.amount 1.0 is a placeholder (not stated); works, delivered in UKM77.
    assert peatland.value_amount is None and peatland.category == "works"
    assert peatland.regions == ("UKM77",) and peatland.cpv == ("45112100",)


def test_a_crawl_asks_for_every_month_its_period_touches_from_a_few_days_before():
    assert months_touched(uk("2026-09-19T06:00:00"), uk("2026-09-19T18:00:00")) == ["09-2026"]
    assert months_touched(uk("2026-12-30T06:00:00"), uk("2027-02-01T00:30:00")) == [
        "12-2026",
        "01-2027",
        "02-2027",
    ]
    spider = PublicContractsScotland(
        base_url=PCS_LIVE, window_from=uk("2026-10-02T06:00:00"), window_to=uk("2026-10-02T07:00:00")
    )
    assert spider.months == ["09-2026", "10-2026"]  # a week early reaches back into September
    # A notice dated New Year's Eve that the API lists after the holidays is still asked for.
    new_year = PublicContractsScotland(
        base_url=PCS_LIVE, window_from=uk("2027-01-05T06:00:00"), window_to=uk("2027-01-05T07:00:00")
    )
    assert new_year.months == ["12-2026", "01-2027"]
    assert list(spider.queue)[:3] == [
        f"{PCS_LIVE}/v1/Notices?dateFrom=09-2026&noticeType={kind}&outputType=0"
        for kind in ("102", "101", "2")
    ]
    wales = Sell2Wales(
        base_url="https://api.sell2wales.gov.wales",
        window_from=uk("2026-10-20T06:00:00"),
        window_to=uk("2026-10-20T07:00:00"),
    )
    assert wales.queue[0] == (
        "https://api.sell2wales.gov.wales/v1/Notices?dateFrom=10-2026&noticeType=51&outputType=0&locale=2057"
    )


def served(month: str = "09-2026", kind: str = "102", count: int = 62, first: int = 0) -> dict:
    return {(month, kind): recorded()[first : first + count]}


@pytest_twisted.inlineCallbacks
def test_months_and_notice_types_are_fetched_one_at_a_time_in_order(config, database):
    releases = {**served("09-2026", "102", 40), **served("10-2026", "101", 3, first=50)}
    with MonthServer(releases=releases) as server:
        crawler = yield crawl_month(
            config, server.url, start="2026-10-01T22:00:00", end="2026-10-02T08:00:00"
        )
    assert server.asked() == [
        ("09-2026", "102"),
        ("09-2026", "101"),
        ("09-2026", "2"),
        ("10-2026", "102"),
        ("10-2026", "101"),
        ("10-2026", "2"),
    ]
    run = run_of(database, crawler)
    assert (run.outcome, run.pages, run.new) == (crawls.OK, 6, 43)


@pytest_twisted.inlineCallbacks
def test_a_poll_again_keeps_only_what_is_new_or_changed_though_positions_move(config, database):
    with MonthServer(releases=served(count=30)) as server:
        first = yield crawl_month(config, server.url)
        # A new notice arrives first: every other release's "rls-N-" position moves by one.
        changed_title = {**recorded()[5], "tender": {**recorded()[5]["tender"], "title": "A new title"}}
        server.releases[("09-2026", "102")] = [
            recorded()[40],
            *recorded()[:5],
            changed_title,
            *recorded()[6:30],
        ]
        second = yield crawl_month(config, server.url)
    assert (run_of(database, first).new, run_of(database, first).changed) == (30, 0)
    assert (run_of(database, second).new, run_of(database, second).changed) == (1, 1)
    keys = stored_keys(database, "public_contracts_scotland")
    assert len(keys) == 31 and set(keys.values()) == {1}  # each release once, whatever its position
    with database.reading() as session:
        notices = session.scalars(
            select(NoticeRow).where(NoticeRow.source == "public_contracts_scotland")
        ).all()
    assert len(notices) == 31
    assert {
        notice.title for notice in notices if notice.key.endswith(recorded()[5]["id"].split("-", 2)[2])
    } == {"A new title"}


@pytest_twisted.inlineCallbacks
def test_a_server_error_is_a_failed_source_in_one_line_and_nothing_stored_is_harmed(config, database):
    """Sell2Wales answered every request with this HTTP 500 for weeks in 2026."""
    error = b"Error converting data type nvarchar to float."
    with MonthServer(releases=served(kind="51", count=10)) as good:
        yield crawl_month(config, good.url, spider=Sell2Wales)
    with MonthServer(faults=[MonthFault(1, 500, error, times=10)]) as server:
        crawler = yield crawl_month(
            config, server.url, spider=Sell2Wales, start="2026-09-19T17:00:00", end="2026-09-19T19:00:00"
        )
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        "the service failed (HTTP 500): Error converting data type nvarchar to float.; "
        "it may be down, and the next crawl will try again"
    )
    assert len(server.requests) == 4  # the first request and its three retries
    assert len(stored_keys(database, "sell2wales")) == 10
    with database.reading() as session:
        watermark = session.get(SourceState, "sell2wales").watermark
    assert watermark == uk("2026-09-19T18:00:00")  # where the good crawl ended, not moved on


@pytest_twisted.inlineCallbacks
def test_one_month_and_type_the_service_cannot_answer_does_not_hide_the_later_ones(config, database):
    """A notice's data can break one answer ("Error converting data type nvarchar to float"): the
    crawl stopped there, the watermark stayed before it, and every later crawl stopped there too, so
    no later month was ever read."""
    error = b"Error converting data type nvarchar to float."
    releases = {**served("08-2026", "102", 3), **served("09-2026", "102", 5, first=10)}
    with MonthServer(releases=releases, faults=[MonthFault(3, 500, error, times=4)]) as server:
        crawler = yield crawl_month(config, server.url, start="2026-08-31T06:00:00")
    assert server.asked()[2:] == [("08-2026", "2")] * 4 + [("09-2026", kind) for kind in ("102", "101", "2")]
    assert len(stored_keys(database, "public_contracts_scotland")) == 8  # September's too
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        "notices of type 2 for 08-2026 (the others were read): the service failed (HTTP 500): "
        "Error converting data type nvarchar to float.; it may be down, and the next crawl will try again"
    )
    with database.reading() as session:
        assert session.get(SourceState, "public_contracts_scotland") is None  # no watermark past it
    # Two failures in a row are the service failing: the crawl stops there.
    with MonthServer(releases=releases, faults=[MonthFault(2, 500, error, times=8)]) as down:
        yield crawl_month(config, down.url, start="2026-08-31T06:00:00")
    assert down.asked() == [("08-2026", "102")] + [("08-2026", "101")] * 4 + [("08-2026", "2")] * 4


@pytest_twisted.inlineCallbacks
def test_no_notices_at_all_is_a_failure_not_a_quiet_month(config, database):
    with MonthServer() as server:
        crawler = yield crawl_month(config, server.url)
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        "the service listed no notices at all for 09-2026, where it lists some every week; "
        "it may be failing, and the next crawl will try again"
    )
    with database.reading() as session:
        assert session.get(SourceState, "public_contracts_scotland") is None  # no watermark started


@pytest_twisted.inlineCallbacks
def test_a_page_that_is_no_release_package_is_retried_then_fails(config, database):
    html = b"<html><head><title>Service unavailable</title></head><body>Back soon</body></html>"
    page = MonthFault(2, 200, html, "text/html", times=4)
    with MonthServer(releases=served(count=5), faults=[page]) as server:
        crawler = yield crawl_month(config, server.url)
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    # It said "not valid JSON (Expecting value at character 0)": neither what came nor what to do.
    assert run.message == (
        "unreadable page after retries: not valid JSON but a web page ('Service unavailable'); the "
        "service may be down for maintenance or its API may have moved, and the next crawl will try again"
    )
    assert len(stored_keys(database, "public_contracts_scotland")) == 5  # the page before it is kept


def test_the_recorded_package_is_the_real_one():
    raw = json.loads(json.dumps(recorded()[0]))
    assert raw["id"] == "rls-1-SEP564850" and raw["ocid"].startswith("ocds-r6ebe6-")


@pytest_twisted.inlineCallbacks
def test_certificates_are_verified_and_an_expired_one_fails_the_source_in_one_line(
    config, database, tmp_path, monkeypatch
):
    trusted = authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted.path))  # OpenSSL's trusted authorities
    secure = MonthServer(releases=served(count=3), ssl_context=trusted.server_context(tmp_path))
    with secure as server:
        ok = yield crawl_month(config, server.url)
    assert run_of(database, ok).outcome == crawls.OK and run_of(database, ok).new == 3
    problems = {
        "expired": trusted.server_context(tmp_path, expired=True),
        "unknown authority": authority(tmp_path, "some other CA").server_context(tmp_path),
        "another name": trusted.server_context(tmp_path, host="tenderwatch.invalid"),
    }
    for problem, context in problems.items():
        with MonthServer(releases=served(count=3, first=10), ssl_context=context) as server:
            crawler = yield crawl_month(config, server.url)
        run = run_of(database, crawler)
        assert run.outcome == crawls.FAILED, problem
        assert run.message == (
            f"https://localhost:{server.url.rsplit(':', 1)[1]} did not prove who it is: its TLS certificate "
            "could not be verified (expired, issued for another name, or missing an authority this machine "
            "trusts); nothing is fetched over such a connection, and the next crawl will try again"
        ), problem
        assert not server.requests, problem  # not a byte of a request went over it
    assert len(stored_keys(database, "public_contracts_scotland")) == 3


def test_only_zulu_times_are_read_as_uk_clock_time():
    from store.normalise.ocds import uk_clock_times

    release = {
        "date": "2026-09-16T00:00:00Z",
        "tender": {"tenderPeriod": {"endDate": "2026-10-12T10:00:00.5Z"}, "title": "Zone 2 Z"},
        "awards": [{"date": "2026-09-16T09:00:00+01:00", "id": "1Z"}],
    }
    assert uk_clock_times(release) == {
        "date": "2026-09-16T00:00:00",
        "tender": {"tenderPeriod": {"endDate": "2026-10-12T10:00:00.5"}, "title": "Zone 2 Z"},
        "awards": [{"date": "2026-09-16T09:00:00+01:00", "id": "1Z"}],  # an offset given is kept
    }


def test_the_upgrade_to_schema_0013_reads_stored_scotland_notices_in_uk_time(database):
    from store.db import Database
    from store.ingest import store_releases
    from tests.support.schema import migrate

    with database.writing() as session:
        store_releases(session, "public_contracts_scotland", recorded())
    migrate(database, "downgrade", "0012")
    with database.writing() as session:  # as tenderwatch before 0013 read them: "Z" as UTC
        session.execute(
            update(NoticeRow)
            .where(NoticeRow.key == "public_contracts_scotland:SEP564656")
            .values(deadline=uk("2026-10-12T11:00:00"), content_hash="as read before 0013")
        )
    Database(database.url).upgrade()
    with database.reading() as session:
        assert get_notice(session, "public_contracts_scotland:SEP564656").deadline == uk(
            "2026-10-12T10:00:00"
        )
