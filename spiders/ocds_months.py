"""OcdsMonthSpider: OCDS release packages a calendar month at a time (Proactis's "OCDS Web API").

Public Contracts Scotland and Sell2Wales answer `GET /v1/Notices?dateFrom=MM-YYYY&noticeType=N&
outputType=0` with every notice of that type published in the month: no cursor, no finer date. So a
crawl asks, one request at a time, for each notice type in each month its period touches, from a week
before it (a notice reaches the API some days after the date it carries), and the idempotent store
keeps what is new or changed. A poll therefore reads the current month again, and the previous one
in a month's first week.

One month and type the service cannot answer (Sell2Wales's "Error converting data type nvarchar to
float" comes from a notice's data) must not hide every later one: once a request of the crawl has
been answered, one failed with an HTTP error (not a rate limit) is passed over and the rest are
read; the crawl then fails naming it, so the watermark stays before it and the next crawl asks
again. A second failure in a row, or one before anything was answered, is the service failing: the
crawl stops there.

To add a source of this kind: subclass it in a file of its own, set `name`, `notice_types` and
`rate_limit_waits` (and `extra_params` if the service needs some), each with a comment quoting the
service, and add its URL and delay to SOURCE_DEFAULTS in tenderwatch/config.py and a normaliser to
store/normalise/.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.base import SourceSpider
from spiders.items import CrawlFailure, ReleasePage
from spiders.ocds_json import InvalidPackage, decode_package
from spiders.windows import LONDON, Window


class OcdsMonthSpider(SourceSpider):
    # Set by each source:
    notice_types: ClassVar[tuple[str, ...]]
    api_path: ClassVar[str] = "/v1/Notices"
    extra_params: ClassVar[dict[str, str]] = {}
    # Notices carry their publication day but can reach the API days later: start a week early, so
    # that one dated 31 December and listed after the New Year holidays is still read. It costs a
    # request per notice type in a month's first week; three days missed such a notice for good.
    late_by: ClassVar[timedelta] = timedelta(days=7)

    def __init__(self, base_url: str, window_from: datetime, window_to: datetime, **kwargs: Any):
        super().__init__(base_url, window_from, window_to, **kwargs)
        self.months = months_touched(window_from - self.late_by, window_to)
        self.queue = deque(self.month_url(month, kind) for month in self.months for kind in self.notice_types)
        self.asked = deque((month, kind) for month in self.months for kind in self.notice_types)
        self.found = 0  # releases received so far in this crawl
        self.answered = 0  # requests answered so far in this crawl
        self.passed_over: CrawlFailure | None = None  # the first failed request the crawl went on past
        self.failed_last = False  # whether the last request failed

    def month_url(self, month: str, notice_type: str) -> str:
        query = {"dateFrom": month, "noticeType": notice_type, "outputType": "0", **self.extra_params}
        return f"{self.base_url}{self.api_path}?{urlencode(query)}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.source_request(self.queue[0])

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        try:
            releases = decode_package(response.body)["releases"]
        except InvalidPackage as exc:
            yield self.retry_or_fail(response, str(exc))  # an HTML page or cut short: the service's state
            return
        self.found += len(releases)
        self.answered += 1
        self.failed_last = False
        self.queue.popleft()
        self.asked.popleft()
        if self.queue:
            yield ReleasePage(self.name, response.url, releases)
            yield self.source_request(self.queue[0])
            return
        if self.passed_over:
            yield ReleasePage(self.name, response.url, releases)  # kept; the window is not complete
            yield self.passed_over
            return
        if not self.found:
            # Both services list notices every working week: a crawl that finds none in a month or
            # two is the service failing quietly, not a quiet month.
            yield ReleasePage(self.name, response.url, releases)
            yield CrawlFailure(
                self.name,
                response.url,
                f"the service listed no notices at all for {' and '.join(self.months)}, "
                "where it lists some every week; it may be failing, and the next crawl will try again",
            )
            return
        done = Window(self.window_from, self.window_to)
        yield ReleasePage(self.name, response.url, releases, window_done=done, crawl_done=True)

    def failed(self, failure: Failure) -> Iterator[CrawlFailure | scrapy.Request]:
        for told in super().failed(failure):
            response = failure.value.response if failure.check(HttpError) else None
            # A rate limit or a redirect concerns the whole service, as do network failures.
            if (
                response is not None
                and response.status >= 400
                and response.status not in self.rate_limit_waits
            ):
                yield from self.pass_over(told)
            else:
                yield told

    def pass_over(self, failure: CrawlFailure) -> Iterator[CrawlFailure | scrapy.Request]:
        """Go on past a month and type that failed, if the service answers others; else stop."""
        if not self.answered or self.failed_last:
            yield self.passed_over or failure
            return
        month, kind = self.asked.popleft()
        self.queue.popleft()
        self.failed_last = True
        if self.passed_over is None:
            self.passed_over = CrawlFailure(
                failure.source,
                failure.url,
                f"notices of type {kind} for {month} (the others were read): {failure.message}",
            )
        if self.queue:
            yield self.source_request(self.queue[0])
        else:
            yield self.passed_over


def months_touched(start: datetime, end: datetime) -> list[str]:
    """Each calendar month (UK time) from `start` to `end`, as the API writes it: "09-2026"."""
    first, last = start.astimezone(LONDON), end.astimezone(LONDON)
    year, month = first.year, first.month
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{month:02d}-{year}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
