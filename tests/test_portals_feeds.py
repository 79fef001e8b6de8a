"""Any RSS or Atom feed ([[feeds]] name, url): spiders/feeds.py and store/normalise/feeds.py.

Unverified against live portals: the feeds are written from RSS 2.0 and Atom 1.0 as portals publish
them (tests/fixtures/written/README.md) and served on 127.0.0.1, their links moved to that server.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
import pytest_twisted
from sqlalchemy import select

from notify.render import safe_link
from scoring import score_notice
from spiders.feeds import Feeds, entry_record
from store import crawls
from store.models import NoticeRow
from store.normalise.feeds import buyer_from_author, to_notice
from store.queries import get_notice
from tenderwatch import config as configuration
from tenderwatch.config import FeedConfig
from tenderwatch.errors import ConfigError
from tests.scoring.helpers import example
from tests.support.crawling import crawl, run_of, uk
from tests.support.pages_server import Page, PagesServer

WRITTEN = Path(__file__).resolve().parent / "fixtures" / "written"
SITE = "https://tenders.example.gov.uk"
ALLOW_ALL = Page(b"User-agent: *\nAllow: /\n", "text/plain")


WINDOW = {"start": uk("2026-12-05T06:00:00"), "end": uk("2026-12-06T06:00:00")}


def feed_page(name: str, server: PagesServer) -> Page:
    """A written feed, its links moved to the local server (the feed's own site)."""
    body = (WRITTEN / name).read_text().replace(SITE, server.url)
    return Page(body.encode(), "application/rss+xml" if "rss" in name else "application/atom+xml")


@pytest.fixture
def portal():
    with PagesServer() as server:
        server.pages.update(
            {
                "/robots.txt": ALLOW_ALL,
                "/council.rss": feed_page("feed_rss2.xml", server),
                "/pcc.atom": feed_page("feed_atom.xml", server),
            }
        )
        yield server


def feeds_of(server: PagesServer, *names: str) -> tuple[FeedConfig, ...]:
    paths = {"council": "/council.rss", "pcc": "/pcc.atom", "broken": "/broken.rss", "gone": "/gone.rss"}
    return tuple(FeedConfig(name, f"{server.url}{paths[name]}") for name in names)


def crawl_feeds(config, server: PagesServer, *names: str):
    config = replace(config, feeds=feeds_of(server, *names))
    return crawl(config, Feeds, base_url="", spider_args={"feeds": config.feeds}, **WINDOW)


def stored(database) -> dict[str, NoticeRow]:
    with database.reading() as session:
        rows = session.scalars(select(NoticeRow).where(NoticeRow.source == "feeds")).all()
        return {row.title: get_notice(session, row.key) for row in rows}


@pytest_twisted.inlineCallbacks
def test_each_entry_of_each_feed_is_a_notice_once(config, database, portal):
    first = yield crawl_feeds(config, portal, "council", "pcc")
    again = yield crawl_feeds(config, portal, "council", "pcc")
    assert portal.requests == [
        "/robots.txt",
        "/council.rss",
        "/pcc.atom",
        "/robots.txt",
        "/council.rss",
        "/pcc.atom",
    ]
    assert (run_of(database, first).outcome, run_of(database, first).new) == (crawls.OK, 4)
    assert (run_of(database, again).new, run_of(database, again).changed) == (0, 0)
    assert len(stored(database)) == 4


@pytest_twisted.inlineCallbacks
def test_entries_are_read_as_far_as_the_feed_allows(config, database, portal):
    yield crawl_feeds(config, portal, "council", "pcc")
    notices = stored(database)
    review = notices["Independent review of early help services"]
    assert review.description == (
        "The Council seeks an independent review of its early help services, with recommendations for "
        "a future operating model.\nConsultancy"
    )
    assert review.published_at == datetime.fromisoformat("2026-12-03T09:30:00+00:00")
    assert review.url == f"{portal.url}/opportunities/view/EC-2026-0145"
    assert safe_link(review) == review.url  # on the feed's own site: linked in digests
    assert (review.stage, review.is_opportunity, review.deadline, review.value_amount) == (
        "tender",
        True,
        None,
        None,
    )
    assert review.source_id.startswith("council-")
    # RSS 2.0 writes an author as "address (name)": the buyer is the name, never an officer's address.
    assert review.buyer_name == "Example Council"
    evaluation = notices["Evaluation of a domestic abuse perpetrator programme"]
    assert evaluation.buyer_name == "Office of the Police and Crime Commissioner for Example"
    assert evaluation.published_at == datetime.fromisoformat("2026-12-05T09:00:00+00:00")
    survey = notices["Resident survey 2027"]
    assert survey.url is None and safe_link(survey) is None  # its link leads to another site
    assert score_notice(review, example()).band != "none"
    assert score_notice(evaluation, example()).band != "none"
    assert score_notice(notices["Grounds maintenance 2027-2030"], example()).band == "none"


@pytest_twisted.inlineCallbacks
def test_a_broken_feed_is_reported_by_name_and_the_others_are_still_read(config, database, portal):
    portal.pages["/broken.rss"] = Page(b"<html><body>Maintenance</body></html>", "text/html")
    crawler = yield crawl_feeds(config, portal, "broken", "council", "gone")
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message.startswith(
        "feed 'broken' is not a readable RSS or Atom feed (it answered with a web page; "
        "the portal may have moved the feed or want a login); check the feed's url in [[feeds]]"
    )
    assert "; feed 'gone': no such page (HTTP 404)" in run.message
    assert len(stored(database)) == 3  # the council's entries are kept


@pytest_twisted.inlineCallbacks
def test_a_feed_that_answers_with_nothing_is_reported_and_the_others_are_still_read(config, database, portal):
    # An empty 200 answer gave feedparser nothing to parse, not even a version: the spider raised,
    # the feeds after it were never read and the crawl ended "stopped before the last window".
    portal.pages["/broken.rss"] = Page(b"", "application/rss+xml")
    crawler = yield crawl_feeds(config, portal, "broken", "council")
    run = run_of(database, crawler)
    assert portal.requests == ["/robots.txt", "/broken.rss", "/council.rss"]
    assert (run.outcome, run.message) == (
        crawls.FAILED,
        "feed 'broken' is not a readable RSS or Atom feed (its answer was empty); "
        "check the feed's url in [[feeds]] of the config file",
    )
    assert len(stored(database)) == 3


@pytest_twisted.inlineCallbacks
def test_a_relative_link_is_read_against_the_feed_url(config, database, portal):
    # Many portals write an item's link as "/opportunities/view/..."; it was dropped as not a URL.
    relative = feed_page("feed_rss2.xml", portal).body.replace(f"<link>{portal.url}/".encode(), b"<link>/")
    portal.pages["/council.rss"] = Page(relative, "application/rss+xml")
    yield crawl_feeds(config, portal, "council")
    review = stored(database)["Independent review of early help services"]
    assert review.url == f"{portal.url}/opportunities/view/EC-2026-0145"
    assert safe_link(review) == review.url


@pytest_twisted.inlineCallbacks
def test_entries_without_an_id_or_a_link_are_said_to_be_left_out(config, database, portal, caplog):
    # They were dropped in silence; a feed of nothing else read as "the feeds listed nothing at all".
    written = feed_page("feed_rss2.xml", portal).body
    bare = re.sub(rb"\s*<(link|guid)[^>]*>[^<]*</(link|guid)>", b"", written)
    portal.pages["/broken.rss"] = Page(bare, "application/rss+xml")
    crawler = yield crawl_feeds(config, portal, "broken")
    assert run_of(database, crawler).message == (
        "feed 'broken': none of its 3 entries has an id (guid) or a link, so none can be told from "
        "another and nothing is kept; ask its publisher to add them"
    )
    one_bare = written.replace(f"<link>{portal.url}/opportunities/view/EC-2026-0146</link>".encode(), b"")
    portal.pages["/council.rss"] = Page(re.sub(rb"<guid[^>]*>EC-2026-0146</guid>", b"", one_bare))
    crawler = yield crawl_feeds(config, portal, "council")
    assert run_of(database, crawler).outcome == crawls.OK and len(stored(database)) == 2
    assert "feed 'council': 1 of its entries have no id or link and are left out" in caplog.text


@pytest.mark.parametrize(
    ("written", "moment"),
    [
        ("Wed, 03 Jun 2026 09:30:00 BST", "2026-06-03T08:30:00+00:00"),  # was read as 09:30 UTC
        ("Wed, 03 Jun 2026 09:30:00 +0100", "2026-06-03T08:30:00+00:00"),
        ("Thu, 03 Dec 2026 09:30:00 GMT", "2026-12-03T09:30:00+00:00"),
        ("2026-06-03T09:30:00Z", "2026-06-03T09:30:00+00:00"),
        # No zone: a UK portal's clock (was read as UTC, an hour late in summer; RFC 822 was dropped)
        ("2026-06-03T09:30:00", "2026-06-03T08:30:00+00:00"),
        ("2026-06-03 09:30", "2026-06-03T08:30:00+00:00"),
        ("Wed, 03 Jun 2026 09:30:00", "2026-06-03T08:30:00+00:00"),
        ("Thu, 03 Dec 2026 09:30:00", "2026-12-03T09:30:00+00:00"),
        ("2026-06-03", "2026-06-03T00:00:00+00:00"),  # a day alone stays that day
        ("03/06/2026 09:30", None),  # neither reader knows it: no date rather than a wrong one
    ],
)
def test_a_date_in_british_summer_time_is_read_as_such(written, moment):
    rss = f"<rss version='2.0'><channel><item><guid>1</guid><pubDate>{written}</pubDate></item></channel>"
    entry = feedparser.parse(f"{rss}</rss>".encode()).entries[0]
    record = entry_record(FeedConfig("council", SITE), entry)
    assert record["published_as_written"] == written  # the spider keeps it; the pipeline reads it
    published = to_notice(record).published_at
    assert (published.astimezone(UTC).isoformat() if published else None) == moment


def test_the_pipeline_reads_an_entrys_dates_from_the_record_as_stored():
    rss = "<rss version='2.0'><channel><item><guid>1</guid><pubDate>Wed, 03 Jun 2026 09:30:00 BST</pubDate>"
    entry = feedparser.parse(f"{rss}</item></channel></rss>".encode()).entries[0]
    record = entry_record(FeedConfig("council", SITE), entry)
    assert record["published"] == "2026-06-03T09:30:00+00:00"  # feedparser's reading, as received
    assert to_notice(record).published_at == datetime(2026, 6, 3, 8, 30, tzinfo=UTC)
    # An entry stored before the date as written was kept holds the date already read: as stored.
    older = {k: v for k, v in record.items() if not k.endswith("_as_written")} | {
        "published": "2026-06-03T08:30:00+00:00"
    }
    assert to_notice(older).published_at == datetime(2026, 6, 3, 8, 30, tzinfo=UTC)


def load(tmp_path, text: str) -> configuration.Config:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return configuration.load(path, environ={})


def test_feeds_are_configured_by_name_and_url(tmp_path):
    loaded = load(tmp_path, '[[feeds]]\nname = "council"\nurl = "https://tenders.example.gov.uk/rss"\n')
    assert loaded.feeds == (FeedConfig("council", "https://tenders.example.gov.uk/rss"),)
    assert loaded.source("feeds").enabled and not loaded.source("feeds").verified
    assert "feeds" not in load(tmp_path, "").sources


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[feeds]]\nname = "Council Feed"\nurl = "https://x.example/rss"\n', "name must be lower-case"),
        (
            '[[feeds]]\nname = "a"\nurl = "https://x/1"\n[[feeds]]\nname = "a"\nurl = "https://x/2"\n',
            "already",
        ),
        ('[[feeds]]\nname = "a"\n', "give its url"),
        ('[[feeds]]\nname = "a"\nurl = "ftp://x.example/rss"\n', "must be an http(s) URL"),
        ("[sources.feeds]\nenabled = true\n", "no feed is listed"),
    ],
)
def test_a_feed_mistake_names_the_feed_and_what_to_do(tmp_path, text, message):
    with pytest.raises(ConfigError, match=r"t\.toml") as raised:
        load(tmp_path, text)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "link",
    [
        "https://tenders.example.gov.uk/a) [Open the tender](https://evil.example/phish",
        "https://tenders.example.gov.uk/view?id=1 [x](https://evil.example)",
        'https://tenders.example.gov.uk/"><script>alert(1)</script>',
        "javascript:alert(1)",
        "https://evil.example/view/1",
        "//evil.example/view/1",  # relative to the scheme only: another host
    ],
)
def test_an_entry_link_that_could_lead_elsewhere_is_not_kept(link):
    from store.normalise.feeds import own_link

    assert own_link(link, "https://tenders.example.gov.uk/rss") is None
    assert own_link("https://tenders.example.gov.uk/view?id=1&x=2", "https://tenders.example.gov.uk/rss")


@pytest.mark.parametrize(
    ("author", "buyer"),
    [
        ("officer@redacted.invalid (Example Council)", "Example Council"),
        ("Example Council <officer@redacted.invalid>", "Example Council"),
        ("officer@redacted.invalid", None),  # an address alone names no buyer
        ("Office of the Police and Crime Commissioner", "Office of the Police and Crime Commissioner"),
        # An officer's own address and name: a person, not the buyer, and personal data.
        ("jane.smith@redacted.invalid (Jane Smith)", None),
        ("Jane Smith <j.smith2@redacted.invalid>", None),
        ("smithj@redacted.invalid (Jane Smith)", None),
        ("jsmith@redacted.invalid (Example Council)", "Example Council"),
        ("council.tenders@redacted.invalid (Anytown Council)", "Anytown Council"),
    ],
)
def test_an_author_gives_its_name_as_the_buyer_and_never_an_address(author, buyer):
    assert buyer_from_author(author) == buyer
