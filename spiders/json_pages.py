"""JsonPagesSpider: a JSON API's whole list, page by page (`?page=1`, `2`, ... up to its last page).

For small lists read whole at every crawl (a framework pipeline of a few hundred agreements): no
window, no cursor. Each page's records are yielded as they arrive; the store keeps what is new or
changed. A page that is not the JSON expected, or a list with no records at all, fails the source:
a changed API must never read as "nothing new".

To add a source of this kind: subclass it in a file of its own, set `name`, `api_path`,
`rate_limit_waits` (and `extra_params`, `results_key` if needed), add the source to
SOURCE_DEFAULTS in tenderwatch/config.py and a RecordFormat to store/normalise/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson
import scrapy
from scrapy.http import Response

from spiders.base import SourceSpider
from spiders.items import CrawlFailure, ReleasePage
from spiders.ocds_json import html_page, without_bom
from spiders.windows import Window


class JsonPagesSpider(SourceSpider):
    # Set by each source:
    api_path: ClassVar[str]
    page_param: ClassVar[str] = "page"
    extra_params: ClassVar[dict[str, str]] = {}
    results_key: ClassVar[str] = "results"
    # Far beyond any real list: a service that pages on and on is broken, and must not keep a crawl going.
    max_pages: ClassVar[int] = 50

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.found = 0
        self.seen_pages: dict[bytes, int] = {}  # each page's records (as JSON) -> its number

    def page_url(self, page: int) -> str:
        return f"{self.base_url}{self.api_path}?{urlencode({**self.extra_params, self.page_param: page})}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.source_request(self.page_url(1), page=1)

    def parse(self, response: Response) -> Iterator[ReleasePage | CrawlFailure | scrapy.Request]:
        page: int = response.meta["page"]
        try:
            body = orjson.loads(without_bom(response.body))
        except orjson.JSONDecodeError:
            yield self.retry_or_fail(response, html_page(response.body) or "not JSON")
            return
        records = body.get(self.results_key) if isinstance(body, dict) else None
        if not isinstance(records, list):
            yield self.retry_or_fail(response, f"not the list expected (no '{self.results_key}' list)")
            return
        if records:
            # A service that ignores the page number answers page 1 again and again: the rest of the
            # list would be missing, and the crawl would say it read it all.
            written = orjson.dumps(records, option=orjson.OPT_SORT_KEYS)
            if written in self.seen_pages:
                yield CrawlFailure(
                    self.name,
                    response.url,
                    f"page {page} of the list repeats page {self.seen_pages[written]}, so the rest of "
                    "the list cannot be read; its paging looks broken, and the next crawl will try again",
                )
                return
            self.seen_pages[written] = page
        self.found += len(records)
        last = last_page(body)
        if page < min(last, self.max_pages):
            yield ReleasePage(self.name, response.url, records)
            yield self.source_request(self.page_url(page + 1), page=page + 1)
            return
        if page >= self.max_pages and last > self.max_pages:
            yield ReleasePage(self.name, response.url, records)
            yield CrawlFailure(
                self.name,
                response.url,
                f"the list runs to {last} pages, more than any real one ({self.max_pages}); "
                "its paging looks broken, and the next crawl will try again",
            )
            return
        if not self.found:
            yield CrawlFailure(
                self.name, response.url, "the service listed nothing at all; it may be failing quietly"
            )
            return
        done = Window(self.window_from, self.window_to)
        yield ReleasePage(self.name, response.url, records, window_done=done, crawl_done=True)


def last_page(body: dict[str, Any]) -> int:
    """The list's last page number (`meta.last_page`), or 1 when the service does not say."""
    meta = body.get("meta")
    value = meta.get("last_page") if isinstance(meta, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1
