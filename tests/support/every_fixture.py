"""A store holding every real notice the project has: all recorded sources and the labelled set.

Used to measure matching across services (scripts/measure_matching.py) and to test it on real pairs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from store.db import Database
from store.ingest import save_notices, store_releases
from store.normalise import compile_notice, format_for
from store.notice import Notice
from tests.support.labels import imported
from tests.support.recorded import cassette_releases, recorded_package

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CRAWLED = {
    "find_a_tender": {
        "cassettes": ("find_a_tender_2026-08-10", "find_a_tender_2026-08-11"),
        "packages": (
            "find_a_tender_whole_stream_page-001",
            "find_a_tender_whole_stream_page-050",
            "find_a_tender_whole_stream_page-111",
            "find_a_tender_uk3_to_uk4_069311",
            "find_a_tender_notice_032703-2026",
            "find_a_tender_notice_037689-2026",
        ),
    },
    "contracts_finder": {
        "cassettes": ("contracts_finder_2025-01-20", "contracts_finder_tenders_2026-09-19"),
        "packages": ("contracts_finder_limit1_2022-10-18",),
    },
    "public_contracts_scotland": {"cassettes": ("public_contracts_scotland_2026-09_102",), "packages": ()},
}


def fill_with_every_fixture(database: Database, *, labelled: bool = True) -> None:
    """Crawled sources first, then the labelled set imported (an imported notice of a crawled source
    replaces the crawled one, as `tenderwatch import` does)."""
    for source, recorded in CRAWLED.items():
        releases = [release for name in recorded["cassettes"] for release in cassette_releases(name)]
        releases += [
            release for name in recorded["packages"] for release in recorded_package(name)["releases"]
        ]
        with database.writing() as session:
            store_releases(session, source, releases, now=NOW)
    if labelled:
        with database.writing() as session:
            save_notices(session, imported(), now=NOW)


@cache
def every_notice() -> dict[str, Notice]:
    """Notice id -> notice, compiled from every recorded source's releases (without a store), then the
    labelled set (an imported notice replaces a crawled one of the same id, as in the store)."""
    found: dict[str, Notice] = {}
    for source, recorded in CRAWLED.items():
        fmt = format_for(source)
        releases = [release for name in recorded["cassettes"] for release in cassette_releases(name)]
        releases += [
            release for name in recorded["packages"] for release in recorded_package(name)["releases"]
        ]
        own: dict[str, dict[str, dict]] = {}
        for release in releases:
            own.setdefault(fmt.notice_id(release), {})[fmt.release_key(str(release["id"]))] = release
        for notice_id, by_id in own.items():
            found[f"{source}:{notice_id}"] = compile_notice(list(by_id.values()), [], fmt)
    return {**found, **{notice.id: notice for notice in imported()}}
