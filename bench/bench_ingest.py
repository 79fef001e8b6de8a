"""The store's share of a crawl: storing recorded Find a Tender releases in process, per release.

    .venv/bin/python bench/bench_ingest.py [--copies 16] [--repeat 3]

The releases bench_crawl.py serves (the 955 recorded ones, and shifted copies with new ids) are
stored into a new SQLite file as a crawl stores them: 100 per page, the pipeline's
PAGES_PER_TRANSACTION pages per transaction, through store.ingest.store_releases (keep the raw
release, compile and save its notice, record what changed, index it for search). No HTTP and no
crawl, so the figure is steadier than the crawl benchmark's and shows where storing spends its
time: in SQLite executing statements (by table) and committing, and the rest in Python
(normalising, fingerprints, SQLAlchemy's parameter handling).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = 100


def store_all(releases: list[dict[str, Any]]) -> tuple[float, Counter[str]]:
    """(seconds, seconds by what SQLite was doing) to store `releases` into a new store."""
    from sqlalchemy import event

    from spiders.pipelines import PAGES_PER_TRANSACTION
    from store.db import open_database
    from store.ingest import store_releases

    spent: Counter[str] = Counter()
    folder = tempfile.TemporaryDirectory()
    database = open_database(f"sqlite:///{folder.name}/bench.db")

    @event.listens_for(database.engine, "before_cursor_execute")
    def started(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["statement_started"] = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def finished(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        spent[statement_table(statement)] += time.perf_counter() - conn.info["statement_started"]

    batch = PAGE * PAGES_PER_TRANSACTION
    started_at = time.perf_counter()
    for first in range(0, len(releases), batch):
        with database.writing() as session:
            store_releases(session, "find_a_tender", releases[first : first + batch])
            session.flush()
            committing = time.perf_counter()
        spent["COMMIT"] += time.perf_counter() - committing
    elapsed = time.perf_counter() - started_at
    database.close()
    folder.cleanup()
    return elapsed, spent


def statement_table(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper()
    if verb in {"INSERT", "DELETE"}:
        return f"{verb} {words[2].split('(')[0]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}" if "FROM" in words else "SELECT"
    return verb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=16, help="copies of the recorded days (default 16)")
    parser.add_argument("--repeat", type=int, default=3, help="runs, the median reported (default 3)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # tenderwatch and its recordings; bench/ itself is on the path
    from bench_crawl import releases_for

    releases = sorted(releases_for(args.copies), key=lambda release: release["date"])
    runs = sorted((store_all(releases) for _ in range(args.repeat)), key=lambda run: run[0])
    elapsed, spent = runs[len(runs) // 2]  # the median run

    def per_release(seconds: float) -> float:
        return seconds / len(releases) * 1e6

    times = ", ".join(f"{run[0]:.2f}" for run in runs)
    in_sqlite = sum(spent.values())
    print(f"{len(releases):,} releases stored in {elapsed:.2f} s (runs: {times} s)")
    print(f"  per release: {per_release(elapsed):.0f} µs, of which SQLite {per_release(in_sqlite):.0f} µs:")
    for what, seconds in spent.most_common(8):
        print(f"    {what:28} {per_release(seconds):5.0f} µs")


if __name__ == "__main__":
    main()
