"""The bridge from spiders to the store: pages are stored a few at a time, each batch in one transaction.

A batch's releases, the run's counters and the watermark (moved past every window the batch
completes) are committed together, so a crawl killed at any moment leaves the store consistent and
the next crawl resumes from the last complete window. A batch is PAGES_PER_TRANSACTION pages, or
what is left when the crawl ends or fails: fewer commits, and at most that many pages to fetch again
after a kill.
"""

from __future__ import annotations

import asyncio
import logging
import os

from scrapy.crawler import Crawler
from sqlalchemy.exc import DBAPIError

from spiders.items import CrawlFailure, ReleasePage
from store import crawls
from store.db import Database, database_failure, open_database
from store.ingest import IngestCounts, keyed, store_releases

logger = logging.getLogger("tenderwatch.crawl")
PAGES_PER_TRANSACTION = 4


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.db_url = crawler.settings.get("TENDERWATCH_DB_URL")
        self.database: Database | None = None
        self.run_id: int | None = None
        self.totals = IngestCounts()
        self.failure: str | None = None
        self.complete = False
        self._closing: asyncio.Future[None] | None = None
        self.pending: list[ReleasePage] = []
        # Ids of the releases counted so far in the current window: a window split after a full page
        # without a next link is fetched again, and its releases must not be counted twice.
        self.counted_in_window: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.database = open_database(self.db_url, migrate=False)
        try:
            with self.database.writing() as session:
                self.run_id = crawls.start_run(
                    session, spider.name, spider.window_from, spider.window_to, pid=os.getpid()
                )
        except DBAPIError as exc:  # a read-only file, a full disk: nothing could be stored
            self._record_failure(
                CrawlFailure(spider.name, "", f"cannot record the crawl: {database_failure(exc)}")
            )
            self._stop_crawl()
            return
        self.crawler.stats.set_value("tenderwatch/run_id", self.run_id)

    def process_item(self, item: ReleasePage | CrawlFailure) -> ReleasePage | CrawlFailure:
        if self.run_id is None:
            return item  # the run could not be recorded (open_spider): the crawl is stopping
        if isinstance(item, CrawlFailure):
            self._flush()  # the pages before the failure are good
            self._record_failure(item)
        elif self.failure is None:  # after a failure nothing is stored: no later page moves the watermark
            self.pending.append(item)
            if item.crawl_done or len(self.pending) >= PAGES_PER_TRANSACTION:
                self._flush()
        return item

    def _flush(self) -> None:
        pages, self.pending = self.pending, []
        if not pages or self.failure:
            return
        try:
            self._store(pages)
        except Exception as exc:
            # The batch's transaction rolled back; stop here so its pages are fetched again next time.
            self._record_failure(
                CrawlFailure(pages[0].source, pages[0].url, f"could not store a page: {_reason(exc)}")
            )
            self._stop_crawl()

    def _stop_crawl(self) -> None:
        # Kept referenced so the event loop cannot drop the task before the spider has closed.
        self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="store_failed"))

    def _store(self, pages: list[ReleasePage]) -> None:
        last = pages[-1]
        completed = [page.window_done for page in pages if page.window_done]
        with self.database.writing() as session:
            releases = [release for page in pages for release in page.releases]
            counts = store_releases(session, last.source, releases, crawl_run_id=self.run_id)
            counts.releases = self._not_yet_counted(pages)
            crawls.record_page(session, self.run_id, counts, pages=len(pages))
            for window in completed:
                crawls.complete_window(
                    session, last.source, window.start, window.end, may_start=not self.crawler.spider.backfill
                )
        self.totals.add(counts)
        self.complete = self.complete or last.crawl_done
        stats = self.crawler.stats
        stats.inc_value("tenderwatch/pages", len(pages))
        left_out = f", {self.totals.left_out:,} unreadable" if self.totals.left_out else ""
        logger.info(
            "%s: page %d, %s releases so far (%s new, %s changed%s)%s",
            last.source,
            stats.get_value("tenderwatch/pages"),
            f"{self.totals.releases:,}",
            f"{self.totals.new:,}",
            f"{self.totals.changed:,}",
            left_out,
            "".join(f"; window {window} complete" for window in completed),
        )

    def _not_yet_counted(self, pages: list[ReleasePage]) -> int:
        fresh = 0
        for page in pages:
            ids = keyed(page.releases, page.source).keys()
            fresh += len(ids - self.counted_in_window)
            if page.window_done:
                self.counted_in_window.clear()
            else:
                self.counted_in_window.update(ids)
        return fresh

    def _record_failure(self, failure: CrawlFailure) -> None:
        self.failure = self.failure or failure.message
        # Kept in the stats too: the crawl summary reads them when the store cannot be read.
        self.crawler.stats.set_value("tenderwatch/failure", self.failure)
        if self.run_id is not None:
            try:
                with self.database.writing() as session:
                    crawls.record_failure(session, self.run_id, failure.message)
            except DBAPIError:
                pass  # the store that failed cannot take the note either; the summary still says it
        logger.debug("%s: %s", failure.source, failure.message)  # the crawl summary reports it

    def close_spider(self) -> None:
        self._flush()  # an interrupted crawl keeps the pages it fetched
        if self.failure:
            outcome, message = crawls.FAILED, self.failure
        elif self.complete:
            outcome, message = crawls.OK, None
        else:
            outcome, message = crawls.INTERRUPTED, "stopped before the last window"
        self.crawler.stats.set_value("tenderwatch/outcome", outcome)
        try:
            if self.run_id is not None:
                with self.database.writing() as session:
                    crawls.finish_run(session, self.run_id, outcome, message)
        except DBAPIError as exc:
            self.crawler.stats.set_value("tenderwatch/failure", self.failure or database_failure(exc))
        finally:
            self.database.close()


def _reason(exc: Exception) -> str:
    """The database's own message, without the statement's parameters (they hold notice data)."""
    if isinstance(exc, DBAPIError):
        return database_failure(exc)
    return f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc.__class__.__doc__ or ''}".strip()
