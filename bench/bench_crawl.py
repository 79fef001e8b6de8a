"""Crawl throughput and memory: tenderwatch against a minimal baseline, on recorded Find a Tender pages.

    .venv/bin/python bench/bench_crawl.py [--copies 1 4 16]

A local server (tests/support/replay_server.py) serves the 955 recorded releases of two days, and
for each extra copy the same releases again with new ids, shifted by two days. For each size:

- tenderwatch: `tenderwatch crawl find_a_tender --from ... --to ...` in a child process with no delay
  (real Scrapy, 6-hour windows, normalisation, change tracking, one transaction per page);
- baseline: the same windows fetched with urllib, `json.loads`, and one bulk insert of the raw
  releases into SQLite at the end.

It prints releases per second for both, their ratio (target <= 2.0), and tenderwatch's peak memory
(target < 250 MB, flat as releases grow).
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spiders.windows import slices  # noqa: E402
from tests.support.recorded import fts_releases  # noqa: E402
from tests.support.replay_server import FIND_A_TENDER, ReplayServer  # noqa: E402

PEAK_RSS_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
FIRST_DAY = datetime.fromisoformat("2026-08-10T00:00:00+01:00")


def releases_for(copies: int) -> list[dict]:
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


def run_tenderwatch(
    server: ReplayServer, start: datetime, end: datetime, workdir: Path
) -> tuple[float, float]:
    env = {
        **os.environ,
        "TENDERWATCH_FIND_A_TENDER_URL": server.url,
        "TENDERWATCH_FIND_A_TENDER_DELAY": "0",
        "TENDERWATCH_DB_URL": f"sqlite:///{workdir / 'tenderwatch.db'}",
        "TENDERWATCH_DATA_DIR": str(workdir),
        "HOME": str(workdir),
    }
    subprocess.run(
        [sys.executable, "-m", "tenderwatch", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    crawl = [
        sys.executable,
        "-m",
        "tenderwatch",
        "crawl",
        "find_a_tender",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
    ]
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
    return elapsed, int(result.stdout.strip().splitlines()[-1]) / 1024


def run_baseline(server: ReplayServer, start: datetime, end: datetime, workdir: Path) -> tuple[float, int]:
    """The baseline in a child process too, so it does not share the server's CPU and GIL."""
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--baseline-child",
            server.url,
            start.isoformat(),
            end.isoformat(),
            str(workdir / "baseline.db"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, int(result.stdout)


def baseline(url_base: str, start: datetime, end: datetime, db_path: Path) -> int:
    releases = []
    for window in slices(start, end, timedelta(hours=6)):
        low, high = window.query()
        query = urlencode({"updatedFrom": low, "updatedTo": high, "limit": 100})
        url = f"{url_base}{FIND_A_TENDER.path}?{query}"
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
    return len(releases)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--baseline-child", nargs=4, metavar=("URL", "FROM", "TO", "DB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.baseline_child:
        url, start, end, db_path = args.baseline_child
        print(baseline(url, datetime.fromisoformat(start), datetime.fromisoformat(end), Path(db_path)))
        return
    # Byte-compiled, as an installed package is: an editable install under PYTHONDONTWRITEBYTECODE
    # would otherwise compile tenderwatch's own modules afresh in every crawl process.
    for package in ("tenderwatch", "spiders", "store", "scoring", "notify"):
        compileall.compile_dir(ROOT / package, quiet=1)
    print(f"{'releases':>9} {'tenderwatch/s':>14} {'baseline/s':>11} {'ratio':>6} {'peak MB':>8}")
    for copies in args.copies:
        releases = releases_for(copies)
        start, end = FIRST_DAY, FIRST_DAY + timedelta(days=2 * copies)
        with ReplayServer({FIND_A_TENDER: releases}) as server, tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            baseline_seconds, fetched = run_baseline(server, start, end, workdir)
            tw_seconds, peak_mb = run_tenderwatch(server, start, end, workdir)
        unique = len({r["id"] for r in releases})
        assert fetched == len(releases), (fetched, len(releases))
        tw_rate, base_rate = unique / tw_seconds, len(releases) / baseline_seconds
        print(
            f"{unique:>9} {tw_rate:>14.0f} {base_rate:>11.0f} {base_rate / tw_rate:>6.2f} {peak_mb:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
