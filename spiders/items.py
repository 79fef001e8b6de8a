"""What spiders yield: a page of raw releases, or a failure. The pipeline turns both into store rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spiders.windows import Window


@dataclass
class ReleasePage:
    """The releases of one API page, as received, and what fetching it finished."""

    source: str
    url: str
    releases: list[dict[str, Any]] = field(repr=False)
    window_done: Window | None = None  # a planned window whose every page is now fetched
    crawl_done: bool = False  # no window is left to fetch


@dataclass
class CrawlFailure:
    """A request that could not be completed after retries; the crawl stops at it."""

    source: str
    url: str
    message: str
