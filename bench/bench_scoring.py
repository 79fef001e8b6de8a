"""Scoring throughput and backtest time with the shipped example profile, on one core.

    .venv/bin/python bench/bench_scoring.py [--notices 100000] [--skip-store]

Notices are built from the recorded real ones (two days of Find a Tender and the Contracts Finder
pages, about 1,065) repeated with variations: new ids, the words of titles and the sentences of
descriptions shuffled, values scaled, publication dates spread over 90 days. Then:

1. scoring: every notice through `score_notice` in this process (pinned to one CPU where the OS
   allows), as notices per second; also for the opportunity and pipeline notices alone, which
   pass the gates and are matched against every keyword (the expensive path);
2. backtest: the notices stored in a temporary SQLite file (store.ingest.save_notices), scored
   once by `rescore` (what the crawl job does), then the wall time of `run_backtest` with a
   candidate rules file, as a bid lead trying a change would run it; the same when no scores are
   stored; and the command itself, `tenderwatch backtest --rules ...`, in a fresh process.

Targets: at least 20,000 notices per second per core; a 100,000-notice backtest under 10 seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import load_profile, score_notice  # noqa: E402
from store.notice import Notice  # noqa: E402
from tests.scoring.helpers import EXAMPLE, real_notices  # noqa: E402

OPPORTUNITY_TYPES = {"UK1", "UK2", "UK3", "UK4", "UK13"}
FIRST_DAY = datetime(2026, 5, 15, 6, tzinfo=UTC)


def variations(count: int, seed: int = 2026) -> list[Notice]:
    """`count` notices: the recorded ones first, then shuffled, re-valued, re-dated copies."""
    rng = random.Random(seed)
    recorded = real_notices()
    made = []
    for number in range(count):
        base = recorded[number % len(recorded)]
        if number < len(recorded):
            made.append(replace(base, published_at=FIRST_DAY))
            continue
        title = base.title.split()
        rng.shuffle(title)
        sentences = (base.description or "").split(". ")
        rng.shuffle(sentences)
        made.append(
            replace(
                base,
                source_id=f"{base.source_id}-v{number}",
                title=" ".join(title),
                description=". ".join(sentences),
                value_amount=base.value_amount * rng.uniform(0.5, 2) if base.value_amount else None,
                published_at=FIRST_DAY + timedelta(minutes=rng.randrange(90 * 24 * 60)),
            )
        )
    return made


def pin_to_one_cpu() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def throughput(notices: list[Notice], label: str) -> None:
    profile = load_profile(EXAMPLE)
    for notice in notices[:2000]:  # warm the stem caches, as a long-running process has them
        score_notice(notice, profile)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for notice in notices:
            score_notice(notice, profile)
        best = min(best, time.perf_counter() - started)
    print(f"  {label}: {len(notices):,} notices in {best:.2f} s = {len(notices) / best:,.0f} notices/s")


def backtest_times(notices: list[Notice]) -> None:
    from store.db import open_database

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        database = open_database(url)
        store_and_rescore(database, notices)
        candidate_file = Path(folder) / "candidate.yaml"
        # A typical trial change: a lower bar for "possible" (whatever the example's bar is now).
        candidate_file.write_text(lower_possible_bar(EXAMPLE.read_text()))
        time_backtests(database, candidate_file)
        database.close()
        time_command(url, folder, candidate_file)


def lower_possible_bar(rules: str) -> str:
    """The rules with `possible` five points lower: a change that moves notices, so the backtest
    computes the candidate's scores rather than finding them equal to the live rules."""
    changed, count = re.subn(
        r"^(\s+possible:\s*)(\d+)", lambda found: f"{found[1]}{int(found[2]) - 5}", rules, count=1, flags=re.M
    )
    if count != 1:
        raise SystemExit("bench: no 'possible:' threshold found in the example profile")
    return changed


def store_and_rescore(database: Any, notices: list[Notice]) -> None:
    from store.ingest import save_notices
    from store.models import utcnow
    from store.scores import rescore

    started = time.perf_counter()
    for start in range(0, len(notices), 5000):
        with database.writing() as session:
            save_notices(session, notices[start : start + 5000], now=utcnow())
    print(f"  stored {len(notices):,} notices in {time.perf_counter() - started:.1f} s")
    live = load_profile(EXAMPLE)
    for label in ("rescore (first scoring of every stored notice)", "rescore again (nothing changed)"):
        started = time.perf_counter()
        with database.writing() as session:
            scored = rescore(session, live)
        print(f"  {label}: {scored:,} scored in {time.perf_counter() - started:.2f} s")


def time_backtests(database: Any, candidate_file: Path) -> None:
    from store.scores import run_backtest

    live = load_profile(EXAMPLE)
    candidate = load_profile(candidate_file, name=live.name)
    for label, rules in (
        ("backtest with a candidate file (live scores stored)", live),
        ("the same with no stored scores (both rule sets computed)", load_profile(EXAMPLE, name="unstored")),
    ):
        started = time.perf_counter()
        with database.reading() as session:
            result = run_backtest(session, rules, candidate)
        elapsed = time.perf_counter() - started
        print(
            f"  {label}: {result.notices:,} notices in {elapsed:.1f} s "
            f"({len(result.added)} moved up, {len(result.dropped)} down)"
        )


def time_command(url: str, folder: str, candidate_file: Path) -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("TENDERWATCH_")}
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "tenderwatch"), "backtest", "--rules", str(candidate_file)],
        env={**environment, "TENDERWATCH_DB_URL": url, "HOME": folder},
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"  `tenderwatch backtest --rules ...` in a fresh process: {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--skip-store", action="store_true", help="Only measure scoring throughput.")
    args = parser.parse_args()
    print(f"scoring benchmark, example profile, {pin_to_one_cpu()}")
    notices = variations(args.notices)
    throughput(notices, "all notices")
    opportunities = [notice for notice in notices if notice.notice_type in OPPORTUNITY_TYPES]
    throughput(opportunities, "opportunity and pipeline notices only (past the gates)")
    if not args.skip_store:
        backtest_times(notices)


if __name__ == "__main__":
    main()
