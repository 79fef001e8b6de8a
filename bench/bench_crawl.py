"""Crawl throughput and memory: tenderwatch against a minimal baseline, on recorded Find a Tender pages.

    .venv/bin/python bench/bench_crawl.py [--copies 1 4 16] [--repeat 3]

A local server (tests/support/replay_server.py) serves the 955 recorded releases of two days, and
for each extra copy the same releases again with new ids, shifted by two days. For each size:

- tenderwatch: `tenderwatch crawl find_a_tender --from ... --to ...` in a child process with no delay
  (real Scrapy, 6-hour windows, normalisation, change tracking, a few pages per transaction);
- baseline: the same windows fetched in a child process that imports only the standard library:
  urllib, `json.loads`, and one bulk insert of the raw releases into SQLite at the end.

Each is run --repeat times after one warm-up pass of the server; the medians are reported. It prints
releases per second for both and their ratio (target <= 2.0), twice: end to end (the whole process,
interpreter and library start-up included), and crawl only (tenderwatch from its crawl run's start to
its finish as the store records them; the baseline from its first request to its commit). Last,
tenderwatch's peak memory (target < 250 MB, flat as releases grow).
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# Only the standard library at module level: the baseline child imports this file too, and must not
# pay for Scrapy or SQLAlchemy.
ROOT = Path(__file__).resolve().parent.parent
PEAK_RSS_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
FIRST_DAY = datetime.fromisoformat("2026-08-10T00:00:00+01:00")
PACKAGES = ("tenderwatch", "spiders", "store", "scoring", "notify")


def releases_for(copies: int) -> list[dict[str, Any]]:
    from tests.support.recorded import fts_releases

    recorded = fts_releases()
    releases = list(recorded)
    for number in range(1, copies):
        for release in recorded:
            twin = copy.deepcopy(release)
            shift = timedelta(days=2 * number)
            twin["id"] = f"{release['id']}-c{number}"
            twin["ocid"] = f"{release['ocid']}-c{number}"
            twin["date"] = (datetime.fromisoformat(release["date"]) + shift).isoformat()
            releases.append(twin)
    return releases


def window_urls(server_url: str, start: datetime, end: datetime) -> list[str]:
    """The first page of each 6-hour window, as tenderwatch asks for it."""
    from urllib.parse import urlencode

    from spiders.windows import slices
    from tests.support.replay_server import FIND_A_TENDER

    urls = []
    for window in slices(start, end, timedelta(hours=6)):
        low, high = window.query()
        query = urlencode({"updatedFrom": low, "updatedTo": high, "limit": 100})
        urls.append(f"{server_url}{FIND_A_TENDER.path}?{query}")
    return urls


def run_tenderwatch(
    server_url: str, start: datetime, end: datetime, workdir: Path
) -> tuple[float, float, float]:
    """(seconds end to end, seconds of the crawl run as stored, peak MB) of one crawl into a new store."""
    workdir = Path(tempfile.mkdtemp(dir=workdir))
    database = workdir / "tenderwatch.db"
    env = {
        **os.environ,
        "TENDERWATCH_FIND_A_TENDER_URL": server_url,
        "TENDERWATCH_FIND_A_TENDER_DELAY": "0",
        "TENDERWATCH_DB_URL": f"sqlite:///{database}",
        "TENDERWATCH_DATA_DIR": str(workdir),
        "HOME": str(workdir),
    }
    subprocess.run(
        [sys.executable, "-m", "tenderwatch", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    crawl = [sys.executable, "-m", "tenderwatch", "crawl", "find_a_tender"]
    crawl += ["--from", start.isoformat(), "--to", end.isoformat()]
    # A fresh wrapper process per measurement, so ru_maxrss of its children is this crawl's peak alone.
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, *crawl],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    elapsed = time.perf_counter() - started
    with sqlite3.connect(database) as connection:
        runs = connection.execute("SELECT started_at, finished_at FROM crawl_runs").fetchall()
    crawling = sum(
        (datetime.fromisoformat(finished) - datetime.fromisoformat(began)).total_seconds()
        for began, finished in runs
    )
    return elapsed, crawling, int(result.stdout.strip().splitlines()[-1]) / 1024


def run_baseline(urls: list[str], workdir: Path) -> tuple[float, float, int]:
    """(seconds end to end, seconds from first request to commit, releases) in a child process."""
    database = Path(tempfile.mkdtemp(dir=workdir)) / "baseline.db"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--baseline-child", str(database)],
        input=json.dumps(urls),
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    crawling, fetched = json.loads(result.stdout)
    return elapsed, crawling, fetched


def baseline(urls: list[str], db_path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    releases = []
    for first_page in urls:
        url = first_page
        while url:
            with urllib.request.urlopen(url) as response:
                package = json.loads(response.read())
            releases += package["releases"]
            url = (package.get("links") or {}).get("next")
    connection = sqlite3.connect(db_path)
    connection.execute("CREATE TABLE releases (id TEXT PRIMARY KEY, raw TEXT)")
    connection.executemany(
        "INSERT OR REPLACE INTO releases VALUES (?, ?)", [(r["id"], json.dumps(r)) for r in releases]
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - started, len(releases)


def measure(copies: int, repeat: int) -> dict[str, float]:
    from tests.support.replay_server import FIND_A_TENDER, ReplayServer

    releases = releases_for(copies)
    unique = len({r["id"] for r in releases})
    start, end = FIRST_DAY, FIRST_DAY + timedelta(days=2 * copies)
    with ReplayServer({FIND_A_TENDER: releases}) as server, tempfile.TemporaryDirectory() as tmp:
        workdir, urls = Path(tmp), window_urls(server.url, start, end)
        run_baseline(urls, workdir)  # warm-up: the server builds its pages on first use
        base = [run_baseline(urls, workdir) for _ in range(repeat)]
        ours = [run_tenderwatch(server.url, start, end, workdir) for _ in range(repeat)]
    assert all(fetched == len(releases) for _, _, fetched in base), (base, len(releases))

    def median(runs: list[tuple], column: int) -> float:
        return statistics.median(run[column] for run in runs)

    return {
        "releases": unique,
        "tw": unique / median(ours, 0),
        "base": len(releases) / median(base, 0),
        "tw_crawl": unique / median(ours, 1),
        "base_crawl": len(releases) / median(base, 1),
        "peak_mb": max(run[2] for run in ours),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, medians reported (default 3)")
    parser.add_argument("--baseline-child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_child:
        print(json.dumps(baseline(json.load(sys.stdin), Path(args.baseline_child))))
        return
    sys.path.insert(0, str(ROOT))  # the measuring side uses tenderwatch's test server and recordings
    # Byte-compiled, as an installed package is: an editable install under PYTHONDONTWRITEBYTECODE
    # would otherwise compile tenderwatch's own modules afresh in every crawl process.
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    print(f"{'':>9} {'end to end (releases/s)':^28} {'crawl only (releases/s)':^28}")
    header = ("releases", "tenderwatch", "baseline", "ratio", "tenderwatch", "baseline", "ratio", "peak MB")
    print("{:>9} {:>11} {:>9} {:>6} {:>11} {:>9} {:>6} {:>8}".format(*header))
    for copies in args.copies:
        m = measure(copies, args.repeat)
        print(
            f"{m['releases']:>9} {m['tw']:>11.0f} {m['base']:>9.0f} {m['base'] / m['tw']:>6.2f}"
            f" {m['tw_crawl']:>11.0f} {m['base_crawl']:>9.0f} {m['base_crawl'] / m['tw_crawl']:>6.2f}"
            f" {m['peak_mb']:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
