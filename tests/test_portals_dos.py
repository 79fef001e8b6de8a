"""Digital Outcomes on the Contract Award Service: a website's listing (spiders/html_listing.py).

Unverified against the live service: the pages are written from the listing's documented markup
(tests/fixtures/written/README.md) and served on 127.0.0.1, with a robots.txt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select, update

from scoring import score_notice
from spiders.digital_outcomes import DigitalOutcomes
from store import crawls
from store.models import NoticeRow
from store.queries import get_notice
from tests.scoring.helpers import example
from tests.support.crawling import crawl, run_of, uk
from tests.support.pages_server import Page, PagesServer

WRITTEN = Path(__file__).resolve().parent / "fixtures" / "written"
LISTING = "/digital-outcomes/opportunities?p={}&framework=dos7&status=open"
ALLOW_ALL = Page(b"User-agent: *\nAllow: /\n", "text/plain")


def dos_pages(robots: Page = ALLOW_ALL) -> dict[str, Page]:
    return {
        "/robots.txt": robots,
        LISTING.format(1): Page((WRITTEN / "dos_opportunities_page-1.html").read_bytes(), "text/html"),
        LISTING.format(2): Page((WRITTEN / "dos_opportunities_page-2.html").read_bytes(), "text/html"),
    }


WINDOW = {"start": uk("2026-12-05T06:00:00"), "end": uk("2026-12-06T06:00:00")}


@pytest_twisted.inlineCallbacks
def test_the_listing_is_read_page_by_page_after_its_robots_txt(config, database):
    with PagesServer(pages=dos_pages()) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert server.requests == ["/robots.txt", LISTING.format(1), LISTING.format(2)]
    run = run_of(database, crawler)
    assert (run.outcome, run.pages, run.new) == (crawls.OK, 2, 5)
    with database.reading() as session:
        keys = set(session.scalars(select(NoticeRow.key).where(NoticeRow.source == "digital_outcomes")))
    assert keys == {f"digital_outcomes:{n}" for n in (40117, 40122, 40125, 40131, 40140)}


@pytest.mark.parametrize(
    ("line", "amount"),
    [
        ("£80,000 maximum", 80_000),  # the m of "maximum" is no million
        ("£150,000 max", 150_000),
        ("£100,000 to £250,000 more or less", 250_000),
        ("£1.5m", 1_500_000),
        ("£2 million", 2_000_000),
        ("£250k", 250_000),
        ("£80,000max", 80_000),  # glued to the word: still the whole number
        ("£1,000,000excl VAT", 1_000_000),
        ("up to £60,000.", 60_000),  # a full stop after it is not a decimal point
    ],
)
def test_a_value_line_is_read_with_its_unit_only_where_it_has_one(line, amount):
    from store.normalise.digital_outcomes import _amount

    assert _amount(line) == amount


@pytest_twisted.inlineCallbacks
def test_rows_are_read_as_written(config, database):
    with PagesServer(pages=dos_pages()) as server:
        yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    with database.reading() as session:
        discovery = get_notice(session, "digital_outcomes:40117")
        assurance = get_notice(session, "digital_outcomes:40131")
        hostile = get_notice(session, "digital_outcomes:40140")
    assert discovery.title == "Discovery: user research and service design for adult social care front door"
    assert discovery.buyer_name == "Wiltshire Council"
    assert (discovery.stage, discovery.is_opportunity, discovery.status) == ("tender", True, "active")
    assert (discovery.value_amount, discovery.value_currency) == (120000.0, "GBP")  # the top of the range
    assert discovery.deadline == uk("2026-12-12T23:59:59")  # "Closing date: 12 December 2026": all of it
    assert discovery.procedure == "Further competition"
    assert discovery.description == "Digital Outcomes 7, Lot 1: Digital outcomes. Further competition"
    assert discovery.url == (
        "https://www.contractawardservice.crowncommercial.gov.uk/digital-outcomes/opportunity-details/project/40117"
    )
    assert assurance.value_amount == 250000.0 and assurance.deadline is None  # "£250k", no closing date
    assert "<" not in hostile.title and hostile.title.startswith("Alpha:")  # markup read as text only


@pytest_twisted.inlineCallbacks
def test_the_example_profile_wants_discovery_and_strategy_not_a_platform_build(config, database):
    with PagesServer(pages=dos_pages()) as server:
        yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    with database.reading() as session:
        bands = {
            key: score_notice(get_notice(session, f"digital_outcomes:{key}"), example()).band
            for key in (40117, 40122, 40125, 40131)
        }
    assert bands[40117] != "none" and bands[40122] != "none" and bands[40131] != "none"
    assert bands[40125] == "none"  # build and host a platform: software


@pytest_twisted.inlineCallbacks
def test_robots_txt_is_obeyed(config, database):
    forbidding = Page(b"User-agent: *\nDisallow: /digital-outcomes/\n", "text/plain")
    with PagesServer(pages=dos_pages(robots=forbidding)) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert server.requests == ["/robots.txt"]  # the listing was never asked for
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        f"the robots.txt of {server.url} forbids reading /digital-outcomes/opportunities, "
        "and tenderwatch obeys it; the site may have changed its rules: turn the source off"
    )


@pytest_twisted.inlineCallbacks
def test_a_robots_txt_that_cannot_be_read_forbids_the_site_and_a_missing_one_allows_it(config, database):
    """A robots.txt answered with a server error was read as rules, none found: the whole site was
    crawled. RFC 9309 asks a crawler to assume complete disallow then; a 404 (none) allows all."""
    failing = Page(b"<html><body>Internal error</body></html>", "text/html", 500)
    with PagesServer(pages=dos_pages(robots=failing)) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert set(server.requests) == {"/robots.txt"}  # asked again as a server error is, never the listing
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        f"the robots.txt of {server.url} could not be read (HTTP 500); tenderwatch reads a website only "
        "as its robots.txt allows, so nothing was fetched, and the next crawl will try again"
    )
    with PagesServer(pages={**dos_pages(), "/robots.txt": Page(b"Not found", "text/plain", 404)}) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert run_of(database, crawler).outcome == crawls.OK


@pytest_twisted.inlineCallbacks
def test_a_changed_page_and_an_empty_listing_fail_the_source(config, database):
    redesigned = {
        "/robots.txt": ALLOW_ALL,
        LISTING.format(1): Page(
            b"<html><body><div class='results'>New design</div></body></html>", "text/html"
        ),
    }
    with PagesServer(pages=redesigned) as server:
        changed = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert run_of(database, changed).message == (
        "unreadable page after retries: the page has no list of opportunities (ul.govuk-supplier-list)"
    )
    empty_listing = (
        b'<html><body><p id="totalRecordsNew"><strong>0</strong> opportunities found</p></body></html>'
    )
    nothing = {"/robots.txt": ALLOW_ALL, LISTING.format(1): Page(empty_listing, "text/html")}
    with PagesServer(pages=nothing) as server:
        empty = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert run_of(database, empty).outcome == crawls.FAILED
    assert run_of(database, empty).message == "the listing showed nothing at all; it may be failing quietly"


@pytest_twisted.inlineCallbacks
def test_a_listing_that_hides_its_count_or_repeats_a_page_fails_the_source(config, database):
    """Either one read the first page alone, and the crawl said ok."""
    first = (WRITTEN / "dos_opportunities_page-1.html").read_bytes()
    uncounted = {**dos_pages(), LISTING.format(1): Page(first.replace(b"totalRecordsNew", b"x"), "text/html")}
    with PagesServer(pages=uncounted) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    assert run_of(database, crawler).outcome == crawls.FAILED
    assert run_of(database, crawler).message == (
        "unreadable page after retries: the listing no longer says how many opportunities it has"
    )
    repeating = {**dos_pages(), LISTING.format(2): Page(first, "text/html")}
    with PagesServer(pages=repeating) as server:
        crawler = yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    run = run_of(database, crawler)
    assert (run.outcome, run.new) == (crawls.FAILED, 3)  # the first page's are kept
    assert run.message == (
        "page 2 of the listing shows only opportunities of earlier pages, so the rest cannot be read; "
        "its paging looks broken, and the next crawl will try again"
    )


@pytest_twisted.inlineCallbacks
def test_the_upgrade_to_schema_0013_reads_stored_listings_again(config, database):
    from store.db import Database
    from tests.support.schema import migrate

    with PagesServer(pages=dos_pages()) as server:
        yield crawl(config, DigitalOutcomes, base_url=server.url, **WINDOW)
    migrate(database, "downgrade", "0012")
    with database.writing() as session:  # as read before 0013 ("£120,000 max" as £120bn, say)
        session.execute(
            update(NoticeRow)
            .where(NoticeRow.key == "digital_outcomes:40117")
            .values(value_amount=1.2e11, content_hash="as read before 0013")
        )
    Database(database.url).upgrade()
    with database.reading() as session:
        assert get_notice(session, "digital_outcomes:40117").value_amount == 120000.0
