"""The spiders' base classes: SourceSpider (what every source shares: its URL, the period to fetch,
failures in one line) and OcdsWindowSpider (OCDS release packages for a time window, paged by
`links.next`). spiders/ocds_months.py holds OcdsMonthSpider, for APIs that answer a month at a time.

To add a source of the window kind:

1. Subclass OcdsWindowSpider in a file of its own, named after the source.
2. Set `name`, `api_path`, `from_param`/`to_param`, `max_window` and `rate_limit_waits`, each with a
   comment quoting the service's rule.
3. Add the source's live URL and polite delay to SOURCE_DEFAULTS in tenderwatch/config.py and a
   normaliser to store/normalise/.

The spider walks the windows oldest first, one request at a time: each window's pages follow its
`links.next` until a page has none. A full page without a next link means the service dropped the
rest, so that window is split in halves and fetched again; a window answered with nothing at all is
asked once more, in case the service hiccuped. Each page is yielded as it arrives; the
page that completes a window says so, which is what lets the store advance the watermark only past
windows fetched completely. The spider never touches the database.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from spiders.items import CrawlFailure, ReleasePage
from spiders.middlewares import ASKED_TOO_LONG, RobotsUnreadable, StoppedWaiting
from spiders.ocds_json import InvalidPackage, decode_package
from spiders.windows import Window, slices


class SourceSpider(scrapy.Spider):
    """One source's crawl of a period: its base URL, the period, and how a failed request is told.

    A subclass yields ReleasePage items as pages arrive (the last one says the period is done) and a
    CrawlFailure for a request that cannot be completed; it never touches the database.
    """

    rate_limit_waits: ClassVar[dict[int, float]]  # HTTP status -> seconds to wait without Retry-After

    def __init__(
        self,
        base_url: str,
        window_from: datetime,
        window_to: datetime,
        *,
        backfill: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.backfill = backfill  # a period given by hand: told to the pipeline, which keeps the watermark
        self.base_url = base_url.rstrip("/")
        self.window_from, self.window_to = window_from, window_to

    @property
    def url_advice(self) -> str:
        """Where a user fixes this source's URL, as failure messages advise."""
        return f"the source's URL ({url_setting(self.name)})"

    def source_request(self, url: str, **meta: Any) -> scrapy.Request:
        """A request to this source: its own download slot (one at a time, its delay), failures told."""
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            dont_filter=True,
            meta={**meta, "download_slot": self.name},
        )

    def retry_or_fail(self, response: Response, problem: str) -> scrapy.Request | CrawlFailure:
        retry = get_retry_request(response.request, spider=self, reason=problem)
        if retry:
            retry.meta.pop("download_latency", None)  # the downloader's, for the response just read
        return retry or CrawlFailure(self.name, response.url, f"unreadable page after retries: {problem}")

    def failed(self, failure: Failure) -> Iterator[CrawlFailure]:
        request = failure.request
        if failure.check(StoppedWaiting):
            return  # not a failure: the crawl is stopping, and records itself as interrupted
        if failure.check(HttpError):
            response = failure.value.response
            yield CrawlFailure(
                self.name, request.url, http_problem(response, self.rate_limit_waits, self.url_advice)
            )
        elif too_large(failure):
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            yield CrawlFailure(self.name, request.url, size_problem(limit, self.url_advice))
        elif failure.check(RobotsUnreadable):
            yield CrawlFailure(
                self.name, request.url, robots_unreadable(request.url, failure.getErrorMessage())
            )
        elif failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            yield CrawlFailure(self.name, request.url, robots_problem(request.url))
        else:
            base = self.base_url or shown_origin(request.url)
            yield CrawlFailure(self.name, request.url, network_problem(failure, self.url_advice, base))


class OcdsWindowSpider(SourceSpider):
    # Set by each source:
    api_path: ClassVar[str]
    from_param: ClassVar[str]
    to_param: ClassVar[str]
    max_window: ClassVar[timedelta]
    extra_params: ClassVar[dict[str, str]] = {}  # fixed query parameters, if a source needs any
    page_size: ClassVar[int] = 100
    # Far beyond any real window (100,000 releases): a service that pages on and on with new
    # cursors is broken or hostile, and would otherwise keep a cron crawl going for ever.
    max_pages_per_window: ClassVar[int] = 1000
    min_window: ClassVar[timedelta] = timedelta(minutes=1)

    def __init__(self, base_url: str, window_from: datetime, window_to: datetime, **kwargs: Any):
        super().__init__(base_url, window_from, window_to, **kwargs)
        self.windows = deque(slices(window_from, window_to, self.max_window))
        self.parts: deque[Window] = deque()  # what is left of the current window (after splits)
        # Every URL requested for the current window: a next link back to one of them is a loop.
        self.fetched_in_window: set[str] = set()
        self.asked_again: set[Window] = set()  # windows whose empty answer was checked once more

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.windows:
            self.parts.append(self.windows[0])
            yield self.window_request(self.parts[0])

    def window_request(self, window: Window) -> scrapy.Request:
        start, end = window.query()
        query = urlencode(
            {self.from_param: start, self.to_param: end, **self.extra_params, "limit": self.page_size}
        )
        return self.page_request(f"{self.base_url}{self.api_path}?{query}", window, first=True)

    def page_request(self, url: str, window: Window, *, first: bool = False) -> scrapy.Request:
        self.fetched_in_window.add(canonicalize_url(url))
        return self.source_request(url, window=window, first=first)

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        window: Window = response.meta["window"]
        try:
            package = decode_package(response.body)
        except InvalidPackage as exc:
            yield self.retry_or_fail(response, str(exc))
            return
        releases = package["releases"]
        next_url = (package.get("links") or {}).get("next")
        if not releases and not next_url and response.meta.get("first") and window not in self.asked_again:
            # Nothing at all for a whole window may be a busy service's hiccup, not a quiet spell:
            # asked once more before the store moves its watermark past the window for good.
            self.asked_again.add(window)
            yield self.window_request(window)
            return
        if next_url:
            yield ReleasePage(self.name, response.url, releases)
            yield self.follow(response, str(next_url), window)
            return
        if len(releases) >= self.page_size:
            # A full last page: the service dropped the rest (kingfisher-collect #1306); split and refetch.
            if window.length / 2 < self.min_window:
                yield ReleasePage(self.name, response.url, releases)
                yield CrawlFailure(
                    self.name,
                    response.url,
                    f"window {window} still returns a full page "
                    "without a next link when split to a minute; the service is dropping results",
                )
                return
            self.parts.popleft()
            self.parts.extendleft(reversed(window.halves()))
            yield ReleasePage(self.name, response.url, releases)
            yield self.window_request(self.parts[0])
            return
        yield from self.part_finished(response.url, releases)

    def follow(self, response: Response, next_url: str, window: Window) -> scrapy.Request | CrawlFailure:
        """The request for a page's next link, or the failure it is: a link may lead neither off the
        configured service (a hostile or compromised API could steer the crawler anywhere) nor back
        to a page of this window already fetched, nor on past any real window's length (either
        would keep the crawl going for ever)."""
        url = response.urljoin(next_url)
        if origin(url) != origin(self.base_url):
            own = shown_origin(self.base_url)
            return CrawlFailure(
                self.name,
                response.url,
                f"the service's next link leads to another host ({shown_origin(url)}); "
                f"tenderwatch fetches only from {own}: check {self.url_advice}",
            )
        if canonicalize_url(url) in self.fetched_in_window:
            return CrawlFailure(
                self.name,
                response.url,
                f"the service's next link repeats a page already fetched in window {window}; "
                "its paging is broken, and the next crawl will try again",
            )
        if len(self.fetched_in_window) >= self.max_pages_per_window:
            return CrawlFailure(
                self.name,
                response.url,
                f"window {window} runs to more than {self.max_pages_per_window} pages, more than any "
                "real window; the service's paging looks broken, and the next crawl will try again",
            )
        return self.page_request(url, window)

    def part_finished(
        self, url: str, releases: list[dict[str, Any]]
    ) -> Iterator[ReleasePage | scrapy.Request]:
        self.parts.popleft()
        if self.parts:
            yield ReleasePage(self.name, url, releases)
            yield self.window_request(self.parts[0])
            return
        done = self.windows.popleft()
        self.fetched_in_window.clear()
        yield ReleasePage(self.name, url, releases, window_done=done, crawl_done=not self.windows)
        if self.windows:
            self.parts.append(self.windows[0])
            yield self.window_request(self.parts[0])


def http_problem(response: Response, rate_limits: dict[int, float], advice: str) -> str:
    status = response.status
    if 300 <= status < 400:
        return redirect_problem(response, advice)
    detail = _error_detail(response)
    if status in rate_limits:
        return _rate_limit_problem(response, detail)
    detail = f": {detail}" if detail else ""
    if status == 404:
        return f"no such page (HTTP 404){detail}; check {advice}"
    if status >= 500:
        return (
            f"the service failed (HTTP {status}){detail}; it may be down, and the next crawl will try again"
        )
    return f"the service rejected the request (HTTP {status}){detail}"


def _rate_limit_problem(response: Response, detail: str) -> str:
    """Why a page refused as a rate limit (or a 503) was given up after waiting, and what to do."""
    status, said = response.status, f": {detail}" if detail else ""
    asked = response.meta.get(ASKED_TOO_LONG) if response.request is not None else None
    if asked:
        return (
            f"the service asked to wait {_spoken_wait(asked)} (HTTP {status}{said}), longer than a crawl "
            "waits (max_rate_limit_wait in [crawl]); the next crawl will try again"
        )
    if status == 503 and "rate limit" not in detail.lower():
        # Some services say "rate limit" with a 503, most mean down for maintenance.
        return (
            f"the service stayed unavailable (HTTP 503{said}) after waiting as asked; it may be down "
            "for maintenance, and the next crawl will try again"
        )
    return (
        f"still rate limited (HTTP {status}) after waiting as asked; raise this source's delay in the "
        "config file"
    )


def _spoken_wait(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min" if minutes else f"{seconds:.0f} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


NETWORK_PROBLEMS = {
    "CannotResolveHostError": "DNS lookup failed",
    "DownloadConnectionRefusedError": "connection refused",
    "DownloadTimeoutError": "timed out",
    "IgnoreRequest": "the request was not sent",
}


def network_problem(failure: Failure, advice: str, base_url: str) -> str:
    message = failure.getErrorMessage()
    # OpenSSL refused the chain (expired, unknown authority), or service_identity the name on it.
    if "certificate verify failed" in message or "VerificationError" in message:
        return (
            f"{shown_origin(base_url)} did not prove who it is: its TLS certificate could not be "
            "verified (expired, issued for another name, or missing an authority this machine trusts); "
            "nothing is fetched over such a connection, and the next crawl will try again"
        )
    if failure.type.__name__ == "ResponseDataLossError":  # reached, but the answer stopped short
        return (
            f"{shown_origin(base_url)} cut its answer off part-way each time it was asked; "
            "nothing of that page is kept, and the next crawl will try again"
        )
    reason = NETWORK_PROBLEMS.get(failure.type.__name__) or message or failure.type.__name__
    # The origin only, and the error without it: a URL's user:password@ must never reach status or a
    # digest (Twisted's "invalid hostname: user:password@host" quotes it).
    reason = one_line(without_user_info(reason, base_url), 200)
    return f"cannot reach {shown_origin(base_url)} ({reason}); check the network, or {advice}"


def without_user_info(text: str, url: str) -> str:
    """The text with the URL's user name and password (`user:password@`) shown as `***@`."""
    authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]  # urlsplit may refuse the URL
    user_info = authority.rpartition("@")[0]
    return text.replace(f"{user_info}@", "***@") if user_info else text


def robots_problem(url: str) -> str:
    return (
        f"the robots.txt of {shown_origin(url)} forbids reading {urlsplit(url).path}, and tenderwatch "
        "obeys it; the site may have changed its rules: turn the source off"
    )


def robots_unreadable(url: str, why: str) -> str:
    reason = why.partition("(")[2].rstrip(")") or "no answer"
    return (
        f"the robots.txt of {shown_origin(url)} could not be read ({one_line(reason, 60)}); tenderwatch "
        "reads a website only as its robots.txt allows, so nothing was fetched, and the next crawl "
        "will try again"
    )


def too_large(failure: Failure) -> bool:
    """Scrapy's answer to a page over DOWNLOAD_MAXSIZE: the download is cancelled (announced by its
    Content-Length, or once that much has arrived), or a compressed one is dropped as it inflates."""
    if failure.check(DownloadCancelledError):
        # Scrapy cancels a download past the limit without saying why; the only other cancellation,
        # a crawl being stopped, ends the crawl anyway.
        return True
    return bool(failure.check(IgnoreRequest)) and "DOWNLOAD_MAXSIZE" in failure.getErrorMessage()


def size_problem(limit: int, advice: str) -> str:
    return (
        f"a page was larger than {limit / 2**20:g} MiB, the most tenderwatch reads of one page "
        f"(a real one is about 1 MB); check {advice}"
    )


def redirect_problem(response: Response, advice: str) -> str:
    """Redirects are never followed (REDIRECT_ENABLED is off): the official APIs do not redirect, and
    a redirect could lead the crawler anywhere. Says where it pointed, host only."""
    location = response.headers.get(b"Location")
    target = f" to {shown_origin(response.urljoin(location.decode('latin-1')))}" if location else ""
    return (
        f"the service redirected{target} (HTTP {response.status}), and redirects are not followed; "
        f"check {advice}"
    )


def url_setting(spider_name: str) -> str:
    return f"TENDERWATCH_{spider_name.upper()}_URL"


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, the default port made explicit: what two URLs must share to be one service."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return scheme, parts.hostname or "", None
    return scheme, parts.hostname or "", port or DEFAULT_PORTS.get(scheme)


# What a host may show in a message: anything else a hostile service could write there is not repeated.
UNSAFE_IN_HOST = re.compile(r"[^A-Za-z0-9.\-_:\[\]]")


def shown_origin(url: str) -> str:
    """`scheme://host:port` of a URL, for a one-line message: no path, query or user, nothing unprintable,
    and no port where it is the scheme's own (as the URL is usually written)."""
    scheme, host, port = origin(url)
    scheme, host = UNSAFE_IN_HOST.sub("?", scheme)[:10], UNSAFE_IN_HOST.sub("?", host)[:100]
    if ":" in host:  # an IPv6 address, written in [ ] in a URL
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}" if port and port != DEFAULT_PORTS.get(scheme) else f"{scheme}://{host}"


def _error_detail(response: Response) -> str:
    """The service's own explanation, on one line: FTS sends JSON with `exception`/`message`, others
    plain text. Only the configured service's answers get here (no redirects, no other hosts)."""
    try:
        body = json.loads(response.body)
    except ValueError:
        plain = response.headers.get(b"Content-Type", b"").startswith(b"text/plain")
        return one_line(response.text, 200) if plain else ""
    if isinstance(body, dict):
        return one_line(str(body.get("exception") or body.get("message") or body.get("error") or ""), 300)
    return ""


def one_line(text: str, limit: int) -> str:
    """Printable text on one line, at most `limit` characters: it goes into status and the digest."""
    return " ".join("".join(c if c.isprintable() else " " for c in text[: limit * 2]).split())[:limit]
