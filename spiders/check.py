"""`tenderwatch sources check`: one small live request per source, to see its answer still has the
shape the spider reads, so that a changed portal shows as a clear message, not as quiet digests.

Each source's own spider makes its first request of a recent period (the last day; for a service
that answers by month, the month's first notice type) with the production settings, and its first
page goes to CheckPipeline instead of the store: the page is read as the crawl would read it, each
release normalised, and the spider stopped. Nothing is stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler

from spiders.items import CrawlFailure, ReleasePage
from store.normalise import compile_notice, format_for

OK, CHANGED, EMPTY, FAILED = "ok", "CHANGED", "EMPTY", "FAILED"
PERIOD = timedelta(days=1)


@dataclass(frozen=True)
class CheckResult:
    source: str
    outcome: str
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome == OK


def read_page(page: ReleasePage) -> CheckResult:
    """What a first page says about the source: notices read as the store would read them, or why not."""
    if not page.releases:
        return CheckResult(page.source, EMPTY, "the answer held no notices, where recent ones were expected")
    fmt = format_for(page.source)
    read, first = 0, None
    for release in page.releases:
        try:
            notice = compile_notice([release], [], fmt)
        except Exception as exc:  # the shape changed under the normaliser: say where, never the data
            return CheckResult(
                page.source, CHANGED, f"a release could not be read ({type(exc).__name__}): its shape changed"
            )
        if notice.title.startswith("(untitled") or not notice.source_id:
            return CheckResult(
                page.source, CHANGED, "a release has no title or no id where both were expected"
            )
        read += 1
        first = first or notice
    shown = first.title if len(first.title) <= 60 else first.title[:59] + "\u2026"
    return CheckResult(
        page.source, OK, f"{read:,} notices on the first page, all readable (the first: '{shown}')"
    )


class CheckPipeline:
    """Keeps the first page or failure of the crawl, then stops the spider."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.result: CheckResult | None = None
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CheckPipeline:
        return cls(crawler)

    def process_item(self, item: ReleasePage | CrawlFailure) -> ReleasePage | CrawlFailure:
        if self.result is None:
            if isinstance(item, CrawlFailure):
                outcome = (
                    CHANGED
                    if item.message.startswith("unreadable page")
                    else EMPTY
                    if "nothing at all" in item.message or "no notices at all" in item.message
                    else FAILED
                )
                self.result = CheckResult(item.source, outcome, item.message)
            else:
                self.result = read_page(item)
            self.crawler.stats.set_value("tenderwatch/check", self.result)
            self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="checked"))
        return item


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The crawl's settings, with the check's pipeline instead of the store, and one retry."""
    return {**settings, "ITEM_PIPELINES": {"spiders.check.CheckPipeline": 300}, "RETRY_TIMES": 1}


def run_checks(
    base_settings: dict[str, Any], sources: dict[str, dict[str, Any]], *, now: datetime
) -> list[CheckResult]:
    """Check each source (name -> its spider's arguments: base_url, and feeds for the feeds source),
    side by side; the results in the given order."""
    from scrapy.crawler import AsyncCrawlerProcess

    from spiders import SPIDERS

    process = AsyncCrawlerProcess(check_settings(base_settings))
    crawlers = {}
    for name, arguments in sources.items():
        crawler = process.create_crawler(SPIDERS[name])
        process.crawl(crawler, window_from=now - PERIOD, window_to=now, **arguments)
        crawlers[name] = crawler
    process.start()
    return [
        crawler.stats.get_value("tenderwatch/check")
        or CheckResult(name, FAILED, "the check could not run; run `tenderwatch --verbose sources check`")
        for name, crawler in crawlers.items()
    ]
