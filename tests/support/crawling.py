"""Running real Scrapy crawls inside pytest (pytest-twisted, asyncio reactor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from spiders.crawl import scrapy_settings
from tenderwatch.config import Config


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
