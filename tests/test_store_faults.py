"""A full disk and a read-only store: each command fails in one line, `status` says why and exits 1,
nothing stored is harmed, and once the disk has room again the next crawl loses nothing.

The end-to-end cases use real filesystems (tests/support/mounts.py: a few-megabyte tmpfs, a
read-only bind mount) and run `tenderwatch` as a subprocess against the replay server. Where this
machine cannot mount, they are skipped with the reason, and the in-process tests below them inject
the same OSError at the same call sites.
"""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from notify.run import send_digests, targets
from spiders.crawl import result_of
from store import crawls, locks
from store.db import open_database
from store.models import CrawlRun, ReleaseRow
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.errors import StoreError
from tenderwatch.files import write_whole
from tests.support.cli import tenderwatch
from tests.support.crawling import uk
from tests.support.mounts import read_only, resize, small_filesystem
from tests.support.replay_server import FIND_A_TENDER

pytestmark = pytest.mark.sqlite_only(reason="these faults are of the SQLite store's own disk and folder")
TWO_DAYS = ("--from", "2026-08-10T00:00", "--to", "2026-08-12T00:00")  # 955 recorded releases
FULL = (
    "database or disk is full; free some space on the store's disk, then crawl again: nothing stored is lost"
)


def store_in(folder: Path) -> dict[str, str]:
    return {
        "TENDERWATCH_DATA_DIR": str(folder),
        "TENDERWATCH_DB_URL": f"sqlite:///{folder / 'tenderwatch.db'}",
    }


def stored_releases(folder: Path) -> Counter:
    database = open_database(store_in(folder)["TENDERWATCH_DB_URL"], migrate=False)
    try:
        with database.reading() as session:
            return Counter(session.scalars(select(ReleaseRow.release_id)))
    finally:
        database.close()


def one_line_failure(result, expected: str) -> None:
    """Failed with exit 1, saying `expected`, in lines of their own: no traceback."""
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert expected in said
    assert "Traceback" not in said


# ---------------------------------------------------------------------------------------------- full disk


def fill(path: Path) -> None:
    """Write zeros to `path` until its filesystem has no room left."""
    with open(path, "wb", buffering=0) as out:
        try:
            while True:
                out.write(bytes(4096))
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise


def test_a_full_disk_fails_the_crawl_says_why_in_status_and_the_crawl_after_freeing_space_loses_nothing(
    env, tmp_path, replay_server
):
    with small_filesystem(tmp_path / "small", "8m") as small:
        where = {**store_in(small), "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url}
        filled = tenderwatch("crawl", "find_a_tender", *TWO_DAYS, env_extra=where)
        # Not "INTERRUPTED": the cause, in the crawl's one summary line.
        one_line_failure(
            filled, f"find_a_tender: FAILED: could not store a page: the database failed: {FULL}"
        )
        kept = stored_releases(small)
        assert 0 < len(kept) < 955

        status = tenderwatch("status", env_extra=where)
        assert status.returncode == 1
        problems = status.stdout.split("Problems:")[1].split("Warnings:")[0]
        assert f"the store cannot be written: {small}: No space left on device" in problems
        assert "find_a_tender: the last crawl failed" in problems
        assert "disk is full" in problems

        still_full = tenderwatch("crawl", "find_a_tender", *TWO_DAYS, env_extra=where)
        one_line_failure(still_full, "find_a_tender: FAILED: ")
        assert "disk is full" in still_full.stderr or "No space left on device" in still_full.stderr
        assert tenderwatch("status", env_extra=where).returncode == 1
        assert stored_releases(small) == kept  # nothing stored was harmed

        resize(small, "64m")
        resumed = tenderwatch("crawl", "find_a_tender", *TWO_DAYS, env_extra=where)
        assert resumed.returncode == 0, resumed.stderr
        everything = stored_releases(small)
        assert set(everything) == {r["id"] for r in replay_server.releases[FIND_A_TENDER]}
        assert set(everything.values()) == {1}  # each release once
        assert tenderwatch("status", env_extra=where).returncode == 0


def test_a_full_digest_folder_fails_the_digest_in_one_line_and_leaves_no_half_written_file(env, tmp_path):
    with small_filesystem(tmp_path / "digests", "64k") as folder:
        (tmp_path / "tenderwatch.toml").write_text(f'[digest]\nempty = "send"\noutput_dir = "{folder}"\n')
        filler = folder / "filler"
        fill(filler)
        full = tenderwatch("digest")
        one_line_failure(
            full, "No space left on device (the digest folder must be writable, with free space)"
        )
        assert "FAILED to write" in full.stdout
        assert sorted(path.name for path in folder.iterdir()) == ["filler"]  # no digest, no .part file

        filler.unlink()
        again = tenderwatch("digest")
        assert again.returncode == 0, again.stderr
        [written] = list(folder.iterdir())
        assert written.name.startswith("digest-") and written.read_text().rstrip().endswith("</html>")


# ---------------------------------------------------------------------------------------------- read-only


@pytest.mark.parametrize("held_open", [False, True], ids=["closed", "open-in-another-process"])
def test_a_read_only_store_fails_each_writing_command_in_one_line_and_status_says_so(
    env, tmp_path, replay_server, held_open
):
    data = tmp_path / "store"
    crawled = tenderwatch(
        "crawl",
        "find_a_tender",
        *TWO_DAYS,
        env_extra={**store_in(data), "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
    )
    assert crawled.returncode == 0, crawled.stderr
    before = stored_releases(data)
    # Closed, SQLite has removed its -wal and -shm files and cannot open the store read-only at all;
    # held open (the daemon, say) they are there, and the store opens but refuses writes.
    holder = open_database(store_in(data)["TENDERWATCH_DB_URL"], migrate=False) if held_open else None
    if holder:
        holder.engine.connect().close()
    try:
        with read_only(data) as view:
            where = {**store_in(view), "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url}
            said = {}
            for command in ("crawl", "run", "digest", "status"):
                result = tenderwatch(command, env_extra=where)
                one_line_failure(result, "")
                said[command] = result.stdout + result.stderr
                assert re.search(r"read-?only", said[command], re.IGNORECASE), said[command]
            if held_open:
                assert "find_a_tender: FAILED: cannot take the lock 'crawl:find_a_tender': " in said["crawl"]
                assert f"the store cannot be written: {view}: Read-only file system" in said["status"]
    finally:
        if holder:
            holder.close()
    assert stored_releases(data) == before


# ---------------------------------------------------------------------------------------------- injected


def test_a_lock_file_the_disk_refuses_is_a_one_line_store_error(config, database, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(locks.os, "pwrite", full)
    with pytest.raises(StoreError, match=r"cannot take the lock 'crawl:x': .*No space left on device"):
        locks.try_lock(database, "crawl:x")
    monkeypatch.undo()
    lock = locks.try_lock(database, "crawl:x")  # the failed attempt did not keep it
    assert lock is not None
    lock.release()


def test_a_lock_folder_that_cannot_be_made_fails_the_crawl_of_that_source_only(env, database, replay_server):
    database_file = Path(env["TENDERWATCH_DB_URL"].removeprefix("sqlite:///"))
    (database_file.parent / "tenderwatch.db.locks").write_text("not a folder")  # mkdir cannot make it
    result = tenderwatch(
        "crawl", "find_a_tender", *TWO_DAYS, env_extra={"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url}
    )
    one_line_failure(result, "find_a_tender: FAILED: cannot take the lock 'crawl:find_a_tender': ")


def test_a_run_whose_store_failed_is_recorded_failed_with_the_cause_not_interrupted(config, database):
    # As on a full disk: the page, the note of the failure and the end of the run were all refused,
    # so the run was left "running"; its summary records it once the store takes writes again.
    with database.writing() as session:
        run_id = crawls.start_run(
            session, "find_a_tender", uk("2026-08-10T00:00:00"), uk("2026-08-12T00:00:00")
        )
    cause = "could not store a page: the database failed: database or disk is full"
    stats = {"tenderwatch/run_id": run_id, "tenderwatch/failure": cause}
    result = result_of("find_a_tender", stats, config)
    assert (result.outcome, result.message) == (crawls.FAILED, cause)
    with database.reading() as session:
        run = session.get(CrawlRun, run_id)
        assert (run.outcome, run.message, run.errors) == (crawls.FAILED, cause, 0)  # not "1 unreadable"
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 1
    assert "find_a_tender: the last crawl failed" in status.output and cause in status.output
    assert "unreadable" not in status.output


def test_status_tries_writing_the_store_and_exits_1_when_the_disk_refuses(env, database, monkeypatch):
    from store import db

    assert CliRunner().invoke(cli, ["status"]).exit_code == 0

    def refused(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(db.tempfile, "TemporaryFile", refused)
    status = CliRunner().invoke(cli, ["status"])
    assert status.exit_code == 1
    assert "the store cannot be written: " in status.output and "No space left on device" in status.output


def test_a_file_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "digest.html"
    path.write_text("yesterday's, whole")

    def half_then_full(out):
        out.write("<html>" * 2000)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space left on device"):
        write_whole(path, half_then_full)
    assert [p.name for p in tmp_path.iterdir()] == ["digest.html"]  # no .part left beside it
    assert path.read_text() == "yesterday's, whole"
    assert write_whole(path, lambda out: out.write("today's")) == len("today's")
    assert path.read_text() == "today's"


def test_a_digest_folder_that_cannot_be_made_fails_that_digest_and_records_it(env, tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the digest folder should be")
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(tmp_path / "tw.toml"))
    (tmp_path / "tw.toml").write_text(f'[digest]\nempty = "send"\noutput_dir = "{blocked / "digests"}"\n')
    config = configuration.load()
    database = open_database(config.db_url)
    try:
        [result] = send_digests(config, database, targets(config))
        assert result.outcome == "failed"
        assert result.reason.startswith(f"cannot write {blocked / 'digests'}/digest-")
        assert "the digest folder must be writable" in result.reason
        from store import deliveries

        with database.reading() as session:
            assert deliveries.last_attempt(session, "file").outcome == "failed"
    finally:
        database.close()
