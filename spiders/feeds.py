"""Any RSS or Atom feed: e-tendering portals and buyers' sites that publish their opportunities so.

Config: [[feeds]] name, url (as many as wanted); [sources.feeds] enabled, delay, crawl_every_minutes;
TENDERWATCH_FEEDS_ENABLED, _DELAY. Each feed is read whole at every crawl, one request at a time and
after its site's robots.txt, with feedparser; each entry becomes a record of what the feed says
(title, link, summary, dates, author, categories) under an id made of the feed's name and the
entry's id (else its link), so an entry read again is the same notice. A feed that fails, or that
is no feed at all, is reported by name at the end of the crawl; the other feeds are still read.
Unverified against the live services: no real recorded feed of a UK e-tendering portal exists.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import SourceSpider
from spiders.items import CrawlFailure, ReleasePage
from spiders.windows import Window
from tenderwatch.config import FeedConfig

logger = logging.getLogger("tenderwatch.crawl")


class Feeds(SourceSpider):
    name = "feeds"
    custom_settings = {"ROBOTSTXT_OBEY": True}  # feeds live on websites
    rate_limit_waits = {429: 300, 503: 120}

    def __init__(self, *args: Any, feeds: Sequence[FeedConfig] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.queue = deque(feeds)
        self.problems: list[str] = []
        self.found = 0

    @property
    def url_advice(self) -> str:
        return "the feed's url in [[feeds]] of the config file"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.queue:
            yield self.feed_request()

    def feed_request(self) -> scrapy.Request:
        return self.source_request(self.queue[0].url, feed=self.queue[0])

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        feed: FeedConfig = response.meta["feed"]
        parsed = feedparser.parse(response.body)
        # .get: an empty answer gives a result without even a version, and .version would raise.
        if not parsed.get("version") or (parsed.bozo and not parsed.entries):
            yield from self.feed_failed(
                f"feed '{feed.name}' is not a readable RSS or Atom feed ({not_a_feed(response, parsed)}); "
                f"check {self.url_advice}"
            )
            return
        records = [record for entry in parsed.entries if (record := entry_record(feed, entry))]
        if len(records) < len(parsed.entries):
            left_out = len(parsed.entries) - len(records)
            if not records:
                yield from self.feed_failed(
                    f"feed '{feed.name}': none of its {left_out} entries has an id (guid) or a link, "
                    "so none can be told from another and nothing is kept; ask its publisher to add them"
                )
                return
            logger.warning(
                "feed '%s': %d of its entries have no id or link and are left out", feed.name, left_out
            )
        self.found += len(records)
        yield from self.next_feed(ReleasePage(self.name, response.url, records))

    def failed(self, failure: Failure) -> Iterator[CrawlFailure | ReleasePage | scrapy.Request]:
        feed: FeedConfig = failure.request.meta["feed"]
        for found in super().failed(failure):
            yield from self.feed_failed(f"feed '{feed.name}': {found.message}")

    def feed_failed(self, problem: str) -> Iterator[CrawlFailure | ReleasePage | scrapy.Request]:
        self.problems.append(problem)
        yield from self.next_feed(None)

    def next_feed(self, page: ReleasePage | None) -> Iterator[CrawlFailure | ReleasePage | scrapy.Request]:
        """The page of the feed just read, then the next feed's request, or how the crawl ended."""
        self.queue.popleft()
        if self.queue:
            if page:
                yield page
            yield self.feed_request()
            return
        if page:
            yield page
        if self.problems:  # reported last, so every other feed's entries are stored first
            yield CrawlFailure(self.name, "", "; ".join(self.problems))
        elif not self.found:
            yield CrawlFailure(self.name, "", "the feeds listed nothing at all; they may be failing quietly")
        else:
            done = Window(self.window_from, self.window_to)
            yield ReleasePage(self.name, "", [], window_done=done, crawl_done=True)


def not_a_feed(response: Response, parsed: Any) -> str:
    """What the feed's URL answered instead of a feed, in a few words."""
    body = response.body.lstrip()
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if not body:
        return "its answer was empty"
    if "html" in content_type or body[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "it answered with a web page; the portal may have moved the feed or want a login"
    if "json" in content_type or body[:1] in (b"{", b"["):
        return "it answered with JSON"
    if parsed.get("bozo_exception") is not None:
        return "its XML is not well-formed"
    return "no RSS or Atom in its answer"


def entry_record(feed: FeedConfig, entry: Any) -> dict[str, Any] | None:
    """What an entry says, as a record; None for one with neither an id nor a link (nothing to keep it by)."""
    key = entry.get("id") or entry.get("link")
    if not key:
        return None
    return {
        "id": f"{feed.name}-{hashlib.sha256(str(key).encode()).hexdigest()[:16]}",
        "feed": feed.name,
        "feed_url": feed.url,
        "title": entry.get("title"),
        "link": entry.get("link"),
        "summary": entry.get("summary"),
        # Dates as feedparser reads them and as written: the pipeline decides what they mean. Updated
        # only from an entry that states it: feedparser would give the published date, with a warning.
        "published": _as_utc(entry.get("published_parsed")),
        "published_as_written": entry.get("published"),
        "updated": _as_utc(entry.get("updated_parsed")) if "updated" in entry else None,
        "updated_as_written": entry.get("updated") if "updated" in entry else None,
        "author": entry.get("author"),
        "categories": [tag.get("term") for tag in entry.get("tags") or [] if tag.get("term")],
    }


def _as_utc(parsed: time.struct_time | None) -> str | None:
    """feedparser's reading of a date (it takes a time without a zone as UTC), as ISO 8601; the
    pipeline reads it again beside the date as written (store/normalise/feeds.py)."""
    return datetime(*parsed[:6], tzinfo=UTC).isoformat() if parsed else None
