"""Named locks between processes: one holder at a time, who holds it, and recovery when a holder dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import locks

HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from store.db import Database
    from store import locks

    database = Database(sys.argv[1])
    if len(sys.argv) > 3:  # wait for the starting signal (a file) to contend with the others
        while not os.path.exists(sys.argv[3]):
            time.sleep(0.002)
    lock = locks.try_lock(database, sys.argv[2])
    print("got" if lock else "busy", flush=True)
    sys.stdin.readline()  # hold it until told to let go (or killed)
    if lock:
        lock.release()
    print("released", flush=True)
    """
)


def holder_process(db_url: str, name: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url, name, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def test_one_holder_at_a_time_even_within_one_process(database):
    first = locks.try_lock(database, "crawl:find_a_tender")
    assert first is not None and first.held
    assert locks.try_lock(database, "crawl:find_a_tender") is None
    other = locks.try_lock(database, "crawl:contracts_finder")  # another name is another lock
    assert other is not None
    first.release()
    first.release()  # harmless
    again = locks.try_lock(database, "crawl:find_a_tender")
    assert again is not None
    again.release()
    other.release()


def test_the_holder_is_recorded_and_cleared_on_release(database):
    assert locks.holder(database, "digest:team") is None
    with locks.hold(database, "digest:team") as lock:
        assert lock is not None
        who = locks.holder(database, "digest:team")
        assert (who.pid, who.host) == (os.getpid(), socket.gethostname())
        assert datetime.now(UTC) - who.since < timedelta(minutes=1)
        assert who.describe().startswith(f"pid {os.getpid()} on {socket.gethostname()} since ")
        assert locks.held_locks(database, ["digest:team", "digest:other"]) == {"digest:team": who}
    assert locks.holder(database, "digest:team") is None
    assert locks.held_locks(database, ["digest:team"]) == {}


def test_another_process_holding_the_lock_keeps_it_until_it_lets_go(database):
    child = holder_process(database.url, "crawl:find_a_tender")
    try:
        assert child.stdout.readline().strip() == "got"
        assert locks.try_lock(database, "crawl:find_a_tender") is None
        assert locks.holder(database, "crawl:find_a_tender").pid == child.pid
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
        lock = locks.acquire(database, "crawl:find_a_tender", timeout=10)
        assert lock is not None
        lock.release()
    finally:
        child.kill()
        child.wait()


def test_a_lock_left_by_a_killed_process_is_free_at_once(database):
    child = holder_process(database.url, "crawl:find_a_tender")
    assert child.stdout.readline().strip() == "got"
    child.send_signal(signal.SIGKILL)
    child.wait()
    # PostgreSQL ends the session when the connection drops; give it a moment, not a timeout's worth.
    lock = locks.acquire(database, "crawl:find_a_tender", timeout=5, poll=0.02)
    assert lock is not None
    assert locks.holder(database, "crawl:find_a_tender").pid == os.getpid()
    lock.release()


def test_waiting_for_a_lock_gets_it_when_the_holder_lets_go(database):
    child = holder_process(database.url, "digest:team")
    try:
        assert child.stdout.readline().strip() == "got"
        assert locks.acquire(database, "digest:team", timeout=0.3) is None
        threading.Timer(0.5, lambda: (child.stdin.write("\n"), child.stdin.flush())).start()
        started = time.monotonic()
        with locks.hold(database, "digest:team", timeout=10) as lock:
            assert lock is not None
            assert 0.4 < time.monotonic() - started < 5
    finally:
        child.kill()
        child.wait()


def test_of_four_processes_starting_at_once_exactly_one_gets_the_lock(database, tmp_path):
    go = tmp_path / "go"
    children = [holder_process(database.url, "crawl:find_a_tender", str(go)) for _ in range(4)]
    try:
        time.sleep(0.5)  # let them all start and wait for the signal
        go.touch()
        answers = sorted(child.stdout.readline().strip() for child in children)
        assert answers == ["busy", "busy", "busy", "got"]
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_lock_keys_are_stable_64_bit_numbers_not_pythons_salted_hash():
    assert -(2**63) <= locks.key("crawl:find_a_tender") < 2**63
    assert locks.key("crawl:find_a_tender") != locks.key("crawl:contracts_finder")
    # The same in every process, whatever PYTHONHASHSEED says:
    code = "from store import locks; print(locks.key('crawl:find_a_tender'))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert int(other.stdout) == locks.key("crawl:find_a_tender")


@pytest.mark.parametrize("name", ["", "crawl:", "../etc/passwd", "crawl find_a_tender", "a/b"])
def test_lock_names_are_checked(database, name):
    with pytest.raises(ValueError, match="lock name"):
        locks.try_lock(database, name)


@pytest.mark.sqlite_only(reason="SQLite's locks are files next to the database")
def test_sqlite_locks_are_files_next_to_the_database(database):
    with locks.hold(database, "crawl:find_a_tender"):
        path = Path(database.url.removeprefix("sqlite:///") + ".locks") / "crawl:find_a_tender.lock"
        assert path.exists() and str(os.getpid()) in path.read_text()
    assert path.read_text() == ""  # released: the file stays (deleting it would race), emptied


def test_a_crawl_skips_a_source_whose_lock_another_process_holds(env, database, replay_server):
    from sqlalchemy import func, select

    from store.models import CrawlRun
    from store.notice import LONDON

    with locks.hold(database, "crawl:find_a_tender") as held:
        result = subprocess.run(
            [sys.executable, "-m", "tenderwatch", "crawl", "find_a_tender", "--from", "2026-08-11T06:00"],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
            cwd=Path(__file__).resolve().parent.parent,
        )
    since = held.holder.since.astimezone(LONDON)
    assert result.returncode == 0, result.stderr  # skipping is not a failure
    assert result.stdout.strip() == (
        f"find_a_tender: skipped, another crawl of it is running "
        f"(pid {os.getpid()} on {socket.gethostname()} since {since:%H:%M})"
    )
    assert replay_server.log == []
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 0
