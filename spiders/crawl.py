"""Running crawls: plan each source's window from its watermark, run the spiders, report outcomes.

One process runs the requested sources side by side (each service still gets one request at a time).
Scrapy's reactor cannot be restarted, so a long-lived caller (the daemon) runs this in a child
process per crawl. A source is crawled only while this process holds its lock `crawl:<source>`
(store.locks), so cron, the daemon and workers on other machines never crawl one source at once.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from scrapy.settings import default_settings
from sqlalchemy.exc import DBAPIError

from spiders import SPIDERS
from spiders.windows import LONDON, Window
from store import crawls, locks
from store.db import Database, database_failure
from store.models import CrawlRun, SourceState, utcnow
from tenderwatch.config import FEEDS, Config
from tenderwatch.errors import ConfigError, StoreError

logger = logging.getLogger("tenderwatch.crawl")
SKIPPED = "skipped"  # another process holds the source's crawl lock: not a failure


@dataclass(frozen=True)
class CrawlPlan:
    source: str
    window: Window
    backfill: bool = False  # a period given with --from/--to; it never starts a watermark of its own


@dataclass(frozen=True)
class CrawlResult:
    source: str
    outcome: str
    pages: int = 0
    releases: int = 0
    new: int = 0
    changed: int = 0
    message: str | None = None
    unreadable: int = 0  # releases left out and notices not compiled: bad data, logged by id
    stopped: bool = False  # told to stop (SIGTERM, Ctrl-C) before it finished

    @property
    def ok(self) -> bool:
        """Crawled to the end, or skipped because another process is crawling the source."""
        return self.outcome in (crawls.OK, SKIPPED)


def plan_crawls(
    config: Config,
    database: Database,
    sources: list[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> list[CrawlPlan]:
    """The window each source should fetch: the given one (a backfill), else from its watermark."""
    now = now or utcnow()
    for source in sources:
        config.source(source)  # unknown names fail before anything is fetched
    if end is not None and end > now:
        end = now
    if start is not None and start >= (end or now):
        first, last = start.astimezone(LONDON), (end or now).astimezone(LONDON)
        raise ConfigError(
            f"--from ({first:%Y-%m-%d %H:%M}) must be before --to/now ({last:%Y-%m-%d %H:%M}), UK time"
        )
    plans = []
    with database.reading() as session:
        for source in sources:
            default_start, default_end = crawls.crawl_range(
                session,
                source,
                now=now,
                overlap=timedelta(minutes=config.crawl.overlap_minutes),
                initial_lookback=timedelta(hours=config.crawl.initial_lookback_hours),
            )
            first, last = start or default_start, end or default_end
            if first >= last:
                state = session.get(SourceState, source)
                since = (
                    "its watermark"
                    if state and state.watermark
                    else f"{config.crawl.initial_lookback_hours:g} hours ago, as it has not been crawled yet"
                )
                raise ConfigError(
                    f"--to ({last.astimezone(LONDON):%Y-%m-%d %H:%M}) is before {source}'s crawl would start "
                    f"({default_start.astimezone(LONDON):%Y-%m-%d %H:%M}: {since}): "
                    "give --from as well to fetch that period"
                )
            plans.append(
                CrawlPlan(source, Window(first, last), backfill=start is not None or end is not None)
            )
    return plans


# Scrapy components a JSON API crawl never needs, taken out of Scrapy's *_BASE lists: listing one as
# None in the ordinary setting still imports it. About 0.2 s of every crawl's start-up, most of it
# aiohttp for the remote-control server (which would also open a port) and tldextract for cookies.
UNUSED_COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES_BASE": {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware",
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
        "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
    },
    "EXTENSIONS_BASE": {
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
        "scrapy.extensions.feedexport.FeedExporter",
        "scrapy.extensions.logstats.LogStats",
        "scrapy.extensions.memdebug.MemoryDebugger",
        "scrapy.extensions.throttle.AutoThrottle",
    },
    "DOWNLOAD_HANDLERS_BASE": {"data", "file", "s3", "ftp"},
}


def without_unused_components() -> dict[str, dict[str, Any]]:
    return {
        setting: {key: value for key, value in getattr(default_settings, setting).items() if key not in skip}
        for setting, skip in UNUSED_COMPONENTS.items()
    }


def scrapy_settings(config: Config, *, verbose: bool = False, **overrides: Any) -> dict[str, Any]:
    settings = {
        "BOT_NAME": "tenderwatch",
        "USER_AGENT": config.crawl.user_agent,
        # Documented public APIs, not site pages: robots.txt does not govern them (a website's
        # spider obeys it: spiders.html_listing).
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,  # Find a Tender sets a session cookie nothing needs
        # The official APIs do not redirect; a redirect could steer the crawler to any host, so it is
        # a clear failure naming where it pointed (spiders.base.redirect_problem), never followed.
        "REDIRECT_ENABLED": False,
        # Scrapy trusts any certificate unless told otherwise: tenderwatch verifies every one against
        # the machine's trusted authorities (OpenSSL's, which SSL_CERT_FILE can point elsewhere), so
        # nobody on the network can pose as a source.
        "DOWNLOAD_VERIFY_CERTIFICATES": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # a crawler must not open a listening port
        "WARN_ON_GENERATOR_RETURN_VALUE": False,  # re-reads the callback's source on every page (~3 ms)
        # One slot per source (spiders put their name in request.meta["download_slot"]): one request
        # at a time, the source's delay between them, and no jitter, which would push some gaps under
        # the service's rate limit.
        "DOWNLOAD_SLOTS": {
            name: {"concurrency": 1, "delay": source.delay, "jitter": 0}
            for name, source in config.sources.items()
        },
        "DOWNLOAD_TIMEOUT": config.crawl.timeout_seconds,
        # A page of 100 releases is about 1 MB. Scrapy's default limit (1 GiB, also after inflating
        # gzip) let a 1 MB gzip bomb take 3 GB of memory; a bigger page fails the source in one line.
        "DOWNLOAD_MAXSIZE": 64 * 2**20,
        "DOWNLOAD_WARNSIZE": 8 * 2**20,
        "DNS_TIMEOUT": 10,
        "RETRY_TIMES": 3,
        # 429/503 (and Contracts Finder's 403) are rate limits, handled by RetryAfterMiddleware.
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],
        # Not retried: an unknown host or a refused connection will not heal in seconds, and a crawl
        # without network must fail fast. The next scheduled crawl resumes from the watermark.
        "RETRY_EXCEPTIONS": [
            "scrapy.exceptions.DownloadTimeoutError",
            "scrapy.exceptions.ResponseDataLossError",
            "twisted.internet.error.ConnectionDone",
            "twisted.internet.error.ConnectionLost",
            "scrapy.exceptions.DownloadFailedError",
        ],
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",  # the crawl's summary says why it failed, in one line
        # A retried request keeps its retry count (get_retry_request copies it on purpose).
        "META_COPY_WARN_SKIP_KEYS": ["retry_times"],
        "RETRY_AFTER_MAX": config.crawl.max_rate_limit_wait,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "spiders.middlewares.RetryAfterMiddleware": 550,
            # Only a spider that reads a website turns it on (ROBOTSTXT_OBEY in its custom_settings).
            "spiders.middlewares.ObeyingRobotsTxtMiddleware": 100,
        },
        **without_unused_components(),
        "ITEM_PIPELINES": {"spiders.pipelines.StorePipeline": 300},
        "TENDERWATCH_DB_URL": config.db_url,
        "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI configures logging once, concisely
        "LOG_LEVEL": "DEBUG" if verbose else "WARNING",
    }
    settings.update(overrides)
    return settings


def spider_arguments(config: Config, plan: CrawlPlan) -> dict[str, Any]:
    source = config.source(plan.source)
    return {
        "base_url": source.url,
        "backfill": plan.backfill,
        "window_from": plan.window.start,
        "window_to": plan.window.end,
        **({"feeds": config.feeds} if plan.source == FEEDS else {}),
    }


@contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Scrapy's process answers SIGTERM and Ctrl-C by stopping the crawl cleanly, and leaves those
    handlers in place once it is done: restored, a signal during what follows in this process (`run`
    sending its digest) stops it at once, as it stops `digest`, instead of being ignored while a
    mail server takes up to ten minutes to answer."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; nothing to keep
        return
    kept = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def run_crawls(config: Config, plans: list[CrawlPlan], *, verbose: bool = False) -> list[CrawlResult]:
    """Run the planned crawls to completion in this process (once per process: Scrapy's rule).

    Each source is crawled while holding its lock `crawl:<source>`; a source whose lock another
    process holds is not crawled, and its result is SKIPPED with a message naming that process.
    Results come in the order of `plans`.
    """
    from scrapy.crawler import AsyncCrawlerProcess

    database = Database(config.db_url)
    try:
        with ExitStack() as held:
            skipped, runnable = {}, []
            for plan in plans:
                lock = _take_crawl_lock(database, plan.source)
                if isinstance(lock, CrawlResult):
                    skipped[plan.source] = lock
                else:
                    held.callback(lock.release)
                    runnable.append(plan)
            crawlers = []
            if runnable:
                process = AsyncCrawlerProcess(scrapy_settings(config, verbose=verbose))
                for plan in runnable:
                    logger.info("%s: fetching %s (UK time)", plan.source, plan.window)
                    crawler = process.create_crawler(SPIDERS[plan.source])
                    process.crawl(crawler, **spider_arguments(config, plan))
                    crawlers.append((plan.source, crawler))
                # What is loaded by now lives as long as this one-crawl process: frozen, it is no longer
                # walked by every full collection the crawl's parsing triggers (about 8% of a crawl).
                gc.freeze()
                with _signal_handlers_kept():
                    process.start()
    finally:
        database.close()
    ran = {source: result_of(source, crawler.stats.get_stats(), config) for source, crawler in crawlers}
    if any(crawler.stats.get_value("finish_reason") == "shutdown" for _, crawler in crawlers):
        # Scrapy heard SIGTERM or Ctrl-C and stopped every crawl of this process.
        ran = {source: replace(result, stopped=True) for source, result in ran.items()}
    return [skipped.get(plan.source) or ran[plan.source] for plan in plans]


def _take_crawl_lock(database: Database, source: str) -> locks.Lock | CrawlResult:
    """The source's crawl lock, or the SKIPPED result saying who holds it."""
    name = f"crawl:{source}"
    try:
        lock = locks.try_lock(database, name)
        if lock is not None:
            return lock
        holder = locks.holder(database, name)
        if holder is None:  # it let go a moment ago
            lock = locks.try_lock(database, name)
            if lock is not None:
                return lock
    except StoreError as exc:  # a full or read-only store folder: this source fails, in one line
        return CrawlResult(source, crawls.FAILED, message=str(exc))
    who = f" ({holder.describe()})" if holder else ""
    return CrawlResult(source, SKIPPED, message=f"skipped, another crawl of it is running{who}")


def result_of(source: str, stats: dict[str, Any], config: Config) -> CrawlResult:
    """The crawl's result as its run was recorded, or as the pipeline saw it if the store failed."""
    run_id, failure = stats.get("tenderwatch/run_id"), stats.get("tenderwatch/failure")
    if run_id is None:
        failure = failure or "the crawl could not start; run `tenderwatch --verbose crawl` to see why"
        return CrawlResult(source, crawls.FAILED, message=failure)
    database = Database(config.db_url)
    try:
        with database.writing() as session:
            run = session.get(CrawlRun, run_id)
            if run.outcome == crawls.RUNNING and failure:
                # The store failed (a full disk), and so did recording it: say so now that it may work.
                crawls.finish_run(session, run_id, crawls.FAILED, failure)
            elif run.outcome == crawls.RUNNING:
                # Stopped while Scrapy was still opening the spider, or forced to stop (a second signal):
                # the pipeline was never closed. What it committed is kept; the watermark says where
                # the next crawl resumes.
                message = "stopped as it was starting" if not run.pages else "stopped before it could finish"
                crawls.finish_run(session, run_id, crawls.INTERRUPTED, message)
            return CrawlResult(
                source, run.outcome, run.pages, run.releases, run.new, run.changed, run.message, run.errors
            )
    except DBAPIError as exc:
        return CrawlResult(source, crawls.FAILED, message=failure or database_failure(exc))
    finally:
        database.close()
