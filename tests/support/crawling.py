"""Running real Scrapy crawls inside pytest (pytest-twisted, asyncio reactor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from spiders.crawl import scrapy_settings
from spiders.windows import LONDON
from store.db import Database
from store.models import CrawlRun
from tenderwatch.config import Config
from tests.support.recorded import cassette


def crawl(
    config: Config,
    spidercls: type,
    *,
    base_url: str,
    start: datetime,
    end: datetime,
    spider_args: dict[str, Any] | None = None,
    **settings: Any,
) -> Deferred[Crawler]:
    """Crawl [start, end) with the production settings (plus overrides); fires with the finished Crawler."""

    async def run() -> Crawler:
        runner = AsyncCrawlerRunner(scrapy_settings(config, **settings))
        crawler = runner.create_crawler(spidercls)
        await runner.crawl(
            crawler, base_url=base_url, window_from=start, window_to=end, **(spider_args or {})
        )
        return crawler

    return deferred_from_coro(run())


def replay(name: str, **settings: Any) -> dict[str, Any]:
    """Settings that answer every request from a cassette: one missing from it never reaches the network."""
    return {
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "spiders.middlewares.RetryAfterMiddleware": 550,
            "spiders.vcr.VcrCassetteMiddleware": 950,
        },
        "VCR_CASSETTE_PATH": str(cassette(name)),
        "DOWNLOAD_HANDLERS": {"http": None, "https": None},
        **settings,
    }


def run_of(database: Database, crawler: Crawler) -> CrawlRun:
    """The crawl run the crawler recorded."""
    with database.reading() as session:
        return session.get(CrawlRun, crawler.stats.get_value("tenderwatch/run_id"))


def uk(text: str) -> datetime:
    """A UK wall-clock time, as "2026-08-11T06:00:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)
