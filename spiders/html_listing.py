"""HtmlListingSpider: a website's public listing of opportunities, page by page, read with BeautifulSoup.

The listing's first page says how many there are; the spider reads pages until it has them all (at
most `max_pages`). Each row becomes a record of the text it shows (the normaliser reads it), so the
spider only collects. A website, unlike the APIs, is read only as its robots.txt allows.

A page without the listing's markup is a changed website, and a listing of nothing where there are
always some is a failing one: both fail the source, never read as "nothing new".

To add a source of this kind: subclass it in a file of its own, set `name`, `listing_path`,
`rate_limit_waits`, and write `rows` and `total` for its markup; add the source to SOURCE_DEFAULTS
in tenderwatch/config.py and a RecordFormat to store/normalise/.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

import scrapy
from bs4 import BeautifulSoup
from scrapy.http import Response

from spiders.base import SourceSpider
from spiders.items import CrawlFailure, ReleasePage
from spiders.windows import Window

Record = dict[str, Any]


class ChangedPage(ValueError):
    """The page does not have the markup the spider reads; the message says which."""


class HtmlListingSpider(SourceSpider):
    # Set by each source:
    listing_path: ClassVar[str]
    page_param: ClassVar[str] = "p"
    extra_params: ClassVar[dict[str, str]] = {}
    max_pages: ClassVar[int] = 20
    custom_settings: ClassVar[dict[str, Any]] = {"ROBOTSTXT_OBEY": True}  # a website: obey robots.txt

    def rows(self, page: BeautifulSoup) -> list[Record]:
        """The opportunities on one page; ChangedPage when its markup is not the listing's."""
        raise NotImplementedError

    def total(self, page: BeautifulSoup) -> int | None:
        """How many opportunities the listing says it has, if it says."""
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.found = 0
        self.pages: int | None = None
        self.seen: set[Any] = set()  # the ids of the opportunities read so far

    def page_url(self, page: int) -> str:
        query = urlencode({self.page_param: page, **self.extra_params})
        return f"{self.base_url}{self.listing_path}?{query}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.source_request(self.page_url(1), page=1)

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        number: int = response.meta["page"]
        page = BeautifulSoup(response.text, "html.parser")
        try:
            records = self.rows(page)
        except ChangedPage as exc:
            yield self.retry_or_fail(response, str(exc))
            return
        if self.pages is None:
            total = self.total(page)
            if total is None and records:
                # Without it the spider cannot tell how many pages to read, and read only the first.
                yield self.retry_or_fail(response, "the listing no longer says how many opportunities it has")
                return
            self.pages = math.ceil(total / len(records)) if total and records else 1
        ids = [record.get("id") for record in records]
        if records and set(ids) <= self.seen:
            # A site that ignores the page number shows page 1 again: the rest would never be read.
            yield CrawlFailure(
                self.name,
                response.url,
                f"page {number} of the listing shows only opportunities of earlier pages, so the rest "
                "cannot be read; its paging looks broken, and the next crawl will try again",
            )
            return
        self.seen.update(ids)
        self.found += len(records)
        if number < min(self.pages, self.max_pages) and records:
            yield ReleasePage(self.name, response.url, records)
            yield self.source_request(self.page_url(number + 1), page=number + 1)
            return
        if number >= self.max_pages and self.pages > self.max_pages:
            yield ReleasePage(self.name, response.url, records)
            yield CrawlFailure(
                self.name,
                response.url,
                f"the listing runs to {self.pages} pages, more than any real one ({self.max_pages}); "
                "its paging looks broken, and the next crawl will try again",
            )
            return
        if not self.found:
            yield CrawlFailure(
                self.name, response.url, "the listing showed nothing at all; it may be failing quietly"
            )
            return
        done = Window(self.window_from, self.window_to)
        yield ReleasePage(self.name, response.url, records, window_done=done, crawl_done=True)


def text(element: Any) -> str:
    """An element's text on one line, or "" when there is no element."""
    return " ".join(element.get_text(" ").split()) if element is not None else ""
