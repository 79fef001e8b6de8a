"""The HTTP failure policy, in one place: rate limits wait as long as the service asks, and a
website whose robots.txt cannot be read is not read either.

Scrapy's stock retry re-sends a 429 at once, which only prolongs a rate-limit block. Here a status a
spider lists in `rate_limit_waits` (429 and 503; 403 on Contracts Finder) waits for Retry-After, or the
spider's default for that status, then retries the same URL. Anything else non-2xx is not retried
by this middleware and reaches the spider's errback as a clear error.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)
RATE_LIMIT_WAITS = "tenderwatch_rate_limit_waits"  # request.meta: waits so far for this page
# request.meta: the seconds a service asked to wait, when that is more than a crawl waits.
ASKED_TOO_LONG = "tenderwatch_asked_to_wait_too_long"
# How often a rate-limit wait (up to 10 minutes) looks whether the crawl was told to stop.
STOP_CHECK_SECONDS = 0.5


class StoppedWaiting(IgnoreRequest):
    """The crawl was told to stop while a page waited out a rate limit: the page is not fetched, and
    nothing failed (the crawl records itself as interrupted)."""


class RobotsUnreadable(IgnoreRequest):
    """The site's robots.txt could not be read (a server error, no answer): the page is not fetched."""


# What a robots.txt that cannot be read allows (RFC 9309 2.3.1.4: assume complete disallow).
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class ObeyingRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's, but a robots.txt answered with a server error (5xx, or a rate limit outlasting its
    waits) or not at all forbids everything, as RFC 9309 asks, where Scrapy read the error page as
    rules and, finding none, crawled the whole site. A 4xx (no robots.txt) still allows everything."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.unreadable: dict[str, str] = {}  # netloc -> why its robots.txt could not be read

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            self.unreadable[netloc] = f"HTTP {response.status}"
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        super()._robots_error(exc, netloc)
        if not isinstance(exc, IgnoreRequest):
            self.unreadable[netloc] = type(exc).__name__

    def process_request_2(self, rp: object, request: Request) -> None:
        why = self.unreadable.get(urlparse_cached(request).netloc)
        if why is not None:
            raise RobotsUnreadable(f"robots.txt could not be read ({why})")
        super().process_request_2(rp, request)


class RetryAfterMiddleware(RetryMiddleware):
    """Replaces RetryMiddleware: honours Retry-After on the statuses a spider marks as rate limits."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 600)
        middleware.max_waits = crawler.settings.getint("RATE_LIMIT_RETRY_TIMES", 5)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        spider = self.crawler.spider
        default_wait = getattr(spider, "rate_limit_waits", {}).get(response.status)
        if default_wait is None or request.meta.get("dont_retry"):
            return super().process_response(request, response)
        asked = retry_after_seconds(response.headers.get(b"Retry-After"), default_wait)
        wait = min(asked, self.max_wait)
        # Counted apart from retry_times: waiting out a rate limit must not use up the retries a
        # truncated page or a 502 gets, nor the other way round.
        waits = request.meta.get(RATE_LIMIT_WAITS, 0)
        if waits >= self.max_waits:
            return response  # gave up: the spider's errback reports it
        if asked > self.max_wait and request.meta.get(ASKED_TOO_LONG):
            # Asked twice for longer than a crawl waits: more short waits would only be refused again.
            request.meta[ASKED_TOO_LONG] = asked
            return response  # the spider's errback reports it
        retry = request.replace(dont_filter=True)
        retry.meta[RATE_LIMIT_WAITS] = waits + 1
        if asked > self.max_wait:
            retry.meta[ASKED_TOO_LONG] = asked
        retry.meta.pop("download_latency", None)
        stats = self.crawler.stats
        stats.inc_value("rate_limit/waits")
        stats.inc_value("rate_limit/asked_seconds", asked)
        stats.inc_value("rate_limit/waited_seconds", wait)
        logger.info(
            "%s: rate limited (HTTP %s); waiting %.0f s as asked, then retrying",
            spider.name,
            response.status,
            wait,
        )
        if not await self.wait_unless_stopped(wait):
            raise StoppedWaiting(f"the crawl was stopped while waiting out a rate limit on {request.url}")
        return retry

    async def wait_unless_stopped(self, seconds: float) -> bool:
        """Sleep `seconds`, cut short once the crawl is told to stop (SIGTERM, the daemon's timeout):
        a 10-minute wait would otherwise hold Scrapy's graceful shutdown. Whether it waited it all."""
        engine = self.crawler.engine
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            if engine is not None and not engine.running:
                return False
            await asyncio.sleep(min(left, STOP_CHECK_SECONDS))
        return engine is None or engine.running


def retry_after_seconds(header: bytes | None, default: float) -> float:
    """Retry-After as seconds: a number, or an HTTP date; `default` when absent or unreadable."""
    if not header:
        return float(default)
    text = header.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return float(default)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
