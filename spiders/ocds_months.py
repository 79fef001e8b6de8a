"""OcdsMonthSpider: OCDS release packages a calendar month at a time (Proactis's "OCDS Web API").

Public Contracts Scotland and Sell2Wales answer `GET /v1/Notices?dateFrom=MM-YYYY&noticeType=N&
outputType=0` with every notice of that type published in the month: no cursor, no finer date. So a
crawl asks, one request at a time, for each notice type in each month its period touches, from a few
days before it (a notice reaches the API some days after the date it carries), and the idempotent
store keeps what is new or changed. A poll therefore reads the current month again, and the previous
one near a month boundary.

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

from spiders.base import SourceSpider
from spiders.items import CrawlFailure, ReleasePage
from spiders.ocds_json import InvalidPackage, decode_package
from spiders.windows import LONDON, Window


class OcdsMonthSpider(SourceSpider):
    # Set by each source:
    notice_types: ClassVar[tuple[str, ...]]
    api_path: ClassVar[str] = "/v1/Notices"
    extra_params: ClassVar[dict[str, str]] = {}
    # Notices carry their publication day but can reach the API days later: start a few days early.
    late_by: ClassVar[timedelta] = timedelta(days=3)

    def __init__(self, base_url: str, window_from: datetime, window_to: datetime, **kwargs: Any):
        super().__init__(base_url, window_from, window_to, **kwargs)
        self.months = months_touched(window_from - self.late_by, window_to)
        self.queue = deque(self.month_url(month, kind) for month in self.months for kind in self.notice_types)
        self.found = 0  # releases received so far in this crawl

    def month_url(self, month: str, notice_type: str) -> str:
        query = {"dateFrom": month, "noticeType": notice_type, "outputType": "0", **self.extra_params}
        return f"{self.base_url}{self.api_path}?{urlencode(query)}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.source_request(self.queue[0])

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        try:
            releases = decode_package(response.body)["releases"]
        except InvalidPackage as exc:
            yield self.retry_or_fail(response, str(exc))
            return
        self.found += len(releases)
        self.queue.popleft()
        if self.queue:
            yield ReleasePage(self.name, response.url, releases)
            yield self.source_request(self.queue[0])
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


def months_touched(start: datetime, end: datetime) -> list[str]:
    """Each calendar month (UK time) from `start` to `end`, as the API writes it: "09-2026"."""
    first, last = start.astimezone(LONDON), end.astimezone(LONDON)
    year, month = first.year, first.month
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{month:02d}-{year}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
