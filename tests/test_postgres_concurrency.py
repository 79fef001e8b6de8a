"""Several workers on one store at once: four `tenderwatch` processes crawling the same recorded day.

Written for a team's PostgreSQL server (workers on several machines, coordinated by advisory locks) and
run on SQLite too (one machine, file locks). Without the crawl locks the idempotent store must still
end with every release and notice exactly once and no deadlock; with them, one worker crawls each
source and the others skip it, naming the worker that has it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from store import crawls, locks
from store.db import Database, open_database
from store.ingest import store_releases
from store.models import (
    CrawlRun,
    DeliveryRow,
    DigestRow,
    NoticeChange,
    NoticeRow,
    ReleaseRow,
    SourceState,
    utcnow,
)
from store.notice import LONDON
from tests.support.receivers import SmtpReceiver
from tests.support.recorded import cassette_releases, shifted
from tests.support.replay_server import CONTRACTS_FINDER, FIND_A_TENDER, ReplayServer
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
DAY = ["--from", "2026-08-11T00:00", "--to", "2026-08-12T00:00"]
SOURCES = ("find_a_tender", "contracts_finder")
# A worker with the crawl locks switched off: everything else is the real command.
WITHOUT_LOCKS = """
import sys
from store import locks

class Unlocked:
    def release(self):
        pass

locks.try_lock = lambda database, name: Unlocked()
from tenderwatch.cli import main
main()
"""


class GatedReplayServer(ReplayServer):
    """Holds every request until the gate opens, so that the workers really do overlap."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()

    def respond(self, path, query):
        self.gate.wait(timeout=120)
        return super().respond(path, query)


def the_day() -> dict:
    """Find a Tender's recorded 11 August 2026, and the recorded Contracts Finder page moved onto it."""
    shift = datetime(2026, 8, 11).date() - datetime(2025, 1, 23).date()
    moved = []
    for release in cassette_releases("contracts_finder_2025-01-20"):
        when = datetime.fromisoformat(release["date"].replace("Z", "+00:00")) + timedelta(days=shift.days)
        moved.append({**release, "date": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    start, end = datetime(2026, 8, 11, tzinfo=LONDON), datetime(2026, 8, 12, tzinfo=LONDON)
    fts = [
        release
        for release in cassette_releases("find_a_tender_2026-08-11")
        if start <= datetime.fromisoformat(release["date"]) < end
    ]
    return {FIND_A_TENDER: fts, CONTRACTS_FINDER: moved}


@pytest.fixture
def server():
    with GatedReplayServer(the_day(), response_delay=0.02) as replay:
        yield replay


def start_workers(server: ReplayServer, *, use_locks: bool) -> list[subprocess.Popen[str]]:
    command = ["-m", "tenderwatch"] if use_locks else ["-c", WITHOUT_LOCKS]
    env = {
        **os.environ,
        "TENDERWATCH_FIND_A_TENDER_URL": server.url,
        "TENDERWATCH_CONTRACTS_FINDER_URL": server.url,
    }
    return [
        subprocess.Popen(
            [sys.executable, *command, "crawl", *DAY],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(WORKERS)
    ]


def finish(workers: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    try:
        outputs = [worker.communicate(timeout=timeout) for worker in workers]
        return [(worker.returncode, out, err) for worker, (out, err) in zip(workers, outputs, strict=True)]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()


def blocked_sessions(connection) -> int:
    """How many sessions on this PostgreSQL database are waiting for a lock another holds."""
    return connection.exec_driver_sql(
        # A transaction-id lock names no database: the waiting session's does.
        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
        "WHERE NOT granted AND datname = current_database()"
    ).scalar()


def store_contents(db_url: str) -> dict:
    database = open_database(db_url)
    try:
        with database.reading() as session:
            return {
                "releases": Counter(session.execute(select(ReleaseRow.source, ReleaseRow.release_id)).all()),
                "notices": dict(session.execute(select(NoticeRow.key, NoticeRow.content_hash)).all()),
                "changes": changes_of(session),
                "runs": session.execute(
                    select(CrawlRun.source, CrawlRun.outcome).order_by(CrawlRun.id)
                ).all(),
            }
    finally:
        database.close()


def stored_in_one_go(tmp_path: Path) -> tuple[dict[str, str], list[tuple[str, str, str | None, str | None]]]:
    """Every notice of the day as one worker alone would store it (key -> content hash), and the
    changes the day's own updates record."""
    database = open_database(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        day = the_day()
        with database.writing() as session:
            store_releases(session, "find_a_tender", day[FIND_A_TENDER])
            store_releases(session, "contracts_finder", day[CONTRACTS_FINDER])
        with database.reading() as session:
            return dict(session.execute(select(NoticeRow.key, NoticeRow.content_hash)).all()), changes_of(
                session
            )
    finally:
        database.close()


def changes_of(session) -> list[tuple[str, str, str | None, str | None]]:
    """Each change recorded (notice, field, from, to), sorted: which crawl recorded it first may vary."""
    found = session.execute(
        select(NoticeRow.key, NoticeChange.field, NoticeChange.old_value, NoticeChange.new_value).join(
            NoticeRow, NoticeRow.id == NoticeChange.notice_id
        )
    )
    return sorted(tuple(row) for row in found)


# ---------------------------------------------------------------------------------------------- crawling


def test_four_workers_crawling_at_once_without_locks_store_everything_exactly_once(env, server, tmp_path):
    workers = start_workers(server, use_locks=False)
    # Open the gate once every worker has asked for its first page of both sources.
    wait_until(lambda: len(server.log) >= 2 * WORKERS, what="every worker's first requests")
    server.gate.set()
    results = finish(workers)
    for code, out, err in results:
        assert code == 0, err
        assert "find_a_tender: ok" in out and "contracts_finder: ok" in out, out + err
        assert "Traceback" not in err and "deadlock" not in err.lower(), err
    day = the_day()
    contents = store_contents(env["TENDERWATCH_DB_URL"])
    expected = Counter(
        {("find_a_tender", r["id"]) for r in day[FIND_A_TENDER]}
        | {("contracts_finder", r["id"]) for r in day[CONTRACTS_FINDER]}
    )
    assert contents["releases"] == expected  # each release once, none missing
    # Each notice once, compiled identically; the day's own updates, each told once.
    assert (contents["notices"], contents["changes"]) == stored_in_one_go(tmp_path)
    assert Counter(source for source, _ in contents["runs"]) == dict.fromkeys(SOURCES, WORKERS)
    assert {outcome for _, outcome in contents["runs"]} == {"ok"}


def test_four_workers_with_locks_crawl_each_source_once_and_the_others_skip_it(env, server, tmp_path):
    database = Database(env["TENDERWATCH_DB_URL"])
    workers = start_workers(server, use_locks=True)
    try:
        holders = {}

        def every_source_held_and_the_rest_gone() -> bool:
            holders.update(locks.held_locks(database, [f"crawl:{s}" for s in SOURCES]))
            crawling = {holder.pid for holder in holders.values()}
            others_done = all(w.poll() is not None for w in workers if w.pid not in crawling)
            asked = {served.path for served in server.log}
            return len(holders) == len(SOURCES) and others_done and len(asked) == len(SOURCES)

        # The workers that won the locks wait at the gate; the others must have tried and given up.
        wait_until(every_source_held_and_the_rest_gone, what="one crawling worker per source")
    finally:
        server.gate.set()
        database.close()
    results = finish(workers)
    assert all(code == 0 for code, _, _ in results), results
    for source in SOURCES:
        winner = holders[f"crawl:{source}"].pid
        for worker, (_, out, _) in zip(workers, results, strict=True):
            line = next(line for line in out.splitlines() if line.startswith(f"{source}: "))
            if worker.pid == winner:
                assert line.startswith(f"{source}: ok, "), out
            else:
                assert line.startswith(
                    f"{source}: skipped, another crawl of it is running (pid {winner} on "
                ), out
    contents = store_contents(env["TENDERWATCH_DB_URL"])
    assert sorted(contents["runs"]) == sorted((source, "ok") for source in SOURCES)  # one crawl each
    assert sum(contents["releases"].values()) == len(contents["releases"])
    assert (contents["notices"], contents["changes"]) == stored_in_one_go(tmp_path)


# ---------------------------------------------------------------------------------------------- digesting


def test_four_workers_crawling_and_digesting_at_once_announce_each_notice_once(env, tmp_path):
    """Four `tenderwatch run` passes at once (cron on several machines): one email, each notice once."""
    day = the_day()
    newest = max(datetime.fromisoformat(r["date"]) for r in day[FIND_A_TENDER])
    recent = {api: shifted(releases, utcnow() - timedelta(hours=1) - newest) for api, releases in day.items()}
    smtp = SmtpReceiver().start()
    (tmp_path / "tenderwatch.toml").write_text(
        "[crawl]\ninitial_lookback_hours = 72\n"
        '[schedule]\ndigest_at = ["00:00"]\ndigest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        f'[[channels]]\nname = "bids"\nurl = "{smtp.url()}"\n'
    )
    try:
        with GatedReplayServer(recent, response_delay=0.02) as server:
            env_urls = {
                "TENDERWATCH_FIND_A_TENDER_URL": server.url,
                "TENDERWATCH_CONTRACTS_FINDER_URL": server.url,
            }
            workers = [
                subprocess.Popen(
                    [sys.executable, "-m", "tenderwatch", "run"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, **env_urls},
                    cwd=tmp_path,
                )
                for _ in range(WORKERS)
            ]
            wait_until(lambda: len(server.log) >= len(SOURCES), what="the crawls to start")
            server.gate.set()
            results = finish(workers)
    finally:
        smtp.stop()
    for code, out, err in results:
        assert code == 0, out + err
        assert "Traceback" not in err and "deadlock" not in err.lower(), err
    assert len(smtp.messages) == 1  # one digest, however many workers found it due
    database = open_database(env["TENDERWATCH_DB_URL"])
    try:
        with database.reading() as session:
            delivered = session.execute(
                select(DeliveryRow.notice_id, DeliveryRow.kind, DeliveryRow.ref)
            ).all()
            outcomes = Counter(session.scalars(select(DigestRow.outcome)))
            runs = session.execute(select(CrawlRun.source, CrawlRun.outcome)).all()
    finally:
        database.close()
    assert delivered and len(delivered) == len(set(delivered))  # each notice announced once
    assert outcomes["sent"] == 1 and set(outcomes) <= {"sent", "skipped"}
    assert sorted(runs) == sorted((source, "ok") for source in SOURCES)  # each source crawled once
    html = next(
        part for part in smtp.messages[0].walk() if part.get_content_type() == "text/html"
    ).get_content()
    assert html.count("www.find-tender.service.gov.uk/Notice/") >= len(
        {n for n, kind, _ in delivered if kind == "new"}
    )


# ---------------------------------------------------------------------------------------------- schema


def test_four_workers_starting_on_a_new_database_at_once_all_find_it_ready(env, request, tmp_path):
    if env["TENDERWATCH_DB_URL"].startswith("postgresql"):
        server = request.getfixturevalue("postgres_server")
        name = server.create_database()  # empty: no schema yet
        request.addfinalizer(lambda: server.drop_database(name))
        url = server.sqlalchemy_url(name)
    else:
        url = f"sqlite:///{tmp_path / 'new.db'}"
    go = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "from store.db import open_database\n"
        "while not os.path.exists(sys.argv[2]):\n"
        "    time.sleep(0.002)\n"
        "open_database(sys.argv[1]).close()\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(WORKERS)
    ]
    time.sleep(1.0)  # all started and waiting
    go.touch()
    results = finish(workers)
    assert [code for code, _, _ in results] == [0] * WORKERS, [err for _, _, err in results]


def test_workers_finishing_a_sources_first_crawl_together_share_its_state_row(env):
    """Without the crawl locks, another worker can insert the source's state row between this one
    looking for it and writing it: this one then updates that row, not fails on a duplicate key."""
    database = open_database(env["TENDERWATCH_DB_URL"])
    start = datetime(2026, 8, 11, tzinfo=LONDON)
    with database.writing() as session:
        run_id = crawls.start_run(session, "find_a_tender", start, start + timedelta(days=1))
    other = database.engine.connect()
    other.begin()
    other.execute(insert(SourceState).values(source="find_a_tender", watermark=start))
    outcome: list[object] = []

    def finish() -> None:
        try:
            with database.writing() as session:
                crawls.finish_run(session, run_id, crawls.OK)
            outcome.append("finished")
        except Exception as exc:  # reported by the assertion below
            outcome.append(exc)

    finishing = threading.Thread(target=finish)
    finishing.start()
    if database.dialect == "postgresql":
        # Until it has looked for the row and waits on the other worker's uncommitted insert.
        wait_until(lambda: blocked_sessions(other) > 0, 30, "the worker to wait on the other's insert")
    else:
        time.sleep(0.5)  # SQLite: it waits in BEGIN IMMEDIATE for the other writer, which nothing shows
    other.commit()
    other.close()
    finishing.join(timeout=60)
    assert outcome == ["finished"]
    with database.reading() as session:
        state = session.get(SourceState, "find_a_tender")
        assert state.watermark == start and state.last_success_at is not None
    database.close()
