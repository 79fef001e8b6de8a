"""The fault matrix of issue 20, end to end: each case that once failed, run as an operator would.

Every case runs `tenderwatch` as a subprocess against the replay server of recorded releases, a real
SMTP server (aiosmtpd) or real filesystems, so a regression in any of them fails CI:

1. a full disk during a crawl: FAILED with the cause, `status` exits 1, nothing lost after freeing space
2. a read-only store: one line per command, no traceback; `status` says so
3. a full digest folder: no half-written file, one digest file once there is room
4. a mail server that acknowledges late: unconfirmed, not sent twice, `status` asks the operator
5. the daemon reports failed digests and crawls at WARNING
6. refused connection, no AUTH and no STARTTLS each say which
7. a network or store failure is not "unreadable" in `status`
8. nits: an unclosed TOML list, a YAML bracket on line 55, `delay = "fast"` under an environment
   variable, a --from the clocks skip, a negative --limit
9. real data: a date-only deadline, a placeholder value, Contracts Finder mojibake

Filesystems are mounted where this machine allows (tests/support/mounts.py); where it does not, those
cases are skipped with the reason, and the in-process tests at the end inject the same OSError at
the same call sites. Finer-grained tests of each case live beside the code's other tests, as do the
matrix's cases that already held: kill -9 and SIGTERM mid-crawl (test_cli, test_scheduler), 429/503,
truncated and duplicated pages, Retry-After (test_crawl_faults), oversized and hostile pages
(test_crawl_hostile), locks after a kill and two crawls at once (test_locks, test_scheduler), escaped
notice text and secrets kept out of logs (test_digest).
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from notify.run import send_digests, targets
from spiders.crawl import result_of
from store import crawls, locks
from store.db import open_database
from store.ingest import store_releases
from store.models import CrawlRun, ReleaseRow, utcnow
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tenderwatch.errors import StoreError
from tenderwatch.files import write_whole
from tests.support.cli import TENDERWATCH, tenderwatch
from tests.support.crawling import uk
from tests.support.mounts import read_only, resize, small_filesystem
from tests.support.receivers import SmtpReceiver, free_port
from tests.support.recorded import fts_releases, shifted
from tests.support.replay_server import FIND_A_TENDER
from tests.support.waiting import wait_until

pytestmark = pytest.mark.sqlite_only(reason="these faults are of the SQLite store's own disk and folder")
TWO_DAYS = ("--from", "2026-08-10T00:00", "--to", "2026-08-12T00:00")  # 955 recorded releases
BUDGET_NOTICE = "8f124d5d-fa11-457c-a0ed-431674a867c1"  # Contracts Finder: "a maximum budget of Â£95,000"
BUDGET_RELEASE = f"{BUDGET_NOTICE}-819916"
FULL = (
    "database or disk is full; free some space on the store's disk, and run it again: nothing stored is lost"
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
        [failed] = full.stdout.splitlines()  # one line, saying what and why
        assert failed.startswith(f"file in {folder}: FAILED to write "), failed
        assert f": cannot write {folder}/digest-" in failed and failed.endswith(
            ".html: No space left on device (the digest folder must be writable, with free space)"
        )
        assert full.stderr.splitlines() == [
            f"tenderwatch: digest failed for file in {folder}; those items will be sent next time"
        ]
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


# ---------------------------------------------------------------------------------------------- mail


def recent_notices_stored(database) -> None:
    """The recorded days of Find a Tender, moved to end an hour ago, so a digest sent now lists them."""
    releases = fts_releases()
    newest = max(datetime.fromisoformat(release["date"]) for release in releases)
    with database.writing() as session:
        store_releases(session, "find_a_tender", shifted(releases, utcnow() - timedelta(hours=1) - newest))


def mail_config(tmp_path: Path, url: str, *extra: str) -> None:
    (tmp_path / "tenderwatch.toml").write_text(
        "\n".join(
            [
                "[digest]",
                "smtp_timeout_seconds = 0.3",
                'empty = "send"',
                "[schedule]",
                'digest_at = ["00:00"]',
                'digest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
                *extra,
                "[[channels]]",
                'name = "bids"',
                f'url = "{url}"',
            ]
        )
        + "\n"
    )


def test_a_mail_server_that_answers_late_gets_the_digest_once_and_status_asks_the_operator(
    env, tmp_path, database
):
    recent_notices_stored(database)
    late = SmtpReceiver(reply_delay=1.5).start()
    try:
        mail_config(tmp_path, late.url())
        first = tenderwatch("digest")
        assert first.returncode == 1 and "NOT CONFIRMED" in first.stdout, first.stdout + first.stderr
        scheduled = tenderwatch("run", "--no-crawl")  # the daemon's and cron's retry path
        assert "no digest is due" in scheduled.stdout, scheduled.stdout + scheduled.stderr
        again = tenderwatch("digest")
        wait_until(lambda: len(late.messages) >= 2, what="the second digest to arrive")
        status = tenderwatch("status")
    finally:
        late.stop()
    # The second digest announces nothing the first did: each notice once.
    first_mail, second_mail = (message.get_body(("html",)).get_content() for message in late.messages)
    assert "Strong matches" in first_mail and "Strong matches" not in second_mail
    assert again.returncode == 1
    assert status.returncode == 1
    assert "unconfirmed" in status.stdout and "notify resend --channel bids" in status.stdout


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("refused", "Connection refused by the mail server"),
        ("no AUTH", "the mail server does not offer login (SMTP AUTH) here"),
        ("no STARTTLS", "the mail server does not offer STARTTLS (mailtos://)"),
    ],
)
def test_each_kind_of_mail_server_failure_says_which_without_the_password(env, case, said):
    plain = SmtpReceiver().start()  # offers neither login nor STARTTLS, as aiosmtpd does by default
    try:
        login = "tenders:S3cretPassw0rd@"
        url = {
            "refused": f"mailto://127.0.0.1:{free_port()}",
            "no AUTH": f"mailto://{login}127.0.0.1:{plain.port}",
            "no STARTTLS": f"mailtos://{login}127.0.0.1:{plain.port}",
        }[case]
        result = tenderwatch("notify", "test", "--to", f"{url}?to=bids@example.org&from=tw@example.org")
    finally:
        plain.stop()
    assert result.returncode == 1
    assert said in result.stdout + result.stderr
    assert "Connection error while submitting email" not in result.stdout + result.stderr
    assert "S3cretPassw0rd" not in result.stdout + result.stderr


def test_the_daemon_reports_a_failed_digest_and_a_failed_crawl_at_log_level_warning(env, tmp_path):
    mail_config(
        tmp_path,
        f"mailto://127.0.0.1:{free_port()}?to=bids@example.org&from=tw@example.org",
        "tick_seconds = 0.2",
    )
    process = subprocess.Popen(
        [*TENDERWATCH, "daemon"],
        env={
            **os.environ,
            "TENDERWATCH_LOG_LEVEL": "WARNING",
            "TENDERWATCH_FIND_A_TENDER_URL": f"http://127.0.0.1:{free_port()}",
            "TENDERWATCH_CONTRACTS_FINDER_ENABLED": "false",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            said = "".join(lines)
            if "bids: digest failed" in said and "find_a_tender: crawl finished (exit 1)" in said:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=90)
    said = "".join(lines) + rest
    assert "bids: digest failed" in said and "Connection refused by the mail server" in said
    assert "find_a_tender: crawl finished (exit 1)" in said
    assert "Traceback" not in said


# ---------------------------------------------------------------------------------------------- status


def test_a_failure_of_the_network_is_not_counted_as_unreadable_data(env):
    failed = tenderwatch(
        "crawl", "find_a_tender", env_extra={"TENDERWATCH_FIND_A_TENDER_URL": "http://tenderwatch.invalid"}
    )
    assert failed.returncode == 1 and "find_a_tender: FAILED: cannot reach" in failed.stderr
    status = tenderwatch("status")
    assert status.returncode == 1
    [row] = [line for line in status.stdout.splitlines() if line.startswith("find_a_tender ")]
    assert " failed (0 pages, 0 new, 0 changed)" in row  # not "1 unreadable"
    assert "find_a_tender: the last crawl failed" in status.stdout


# ---------------------------------------------------------------------------------------------- nits


@pytest.mark.parametrize(
    ("config_text", "args", "by_click", "said"),
    [
        (
            '[crawl]\nuser_agent = "tw"\n[sources.find_a_tender]\nurl = "http://x"\nfoo = [1,\n  2,\n',
            ["sources"],
            False,
            "on line 5 is not ",  # the list's own line, not the end of the file
        ),
        (
            '[sources.find_a_tender]\ndelay = "fast"\n',
            ["sources"],
            False,
            "[sources.find_a_tender] delay must be a number, not 'fast'",
        ),
        (
            "",
            ["crawl", "find_a_tender", "--from", "2026-03-29T01:30"],
            True,
            "'2026-03-29T01:30' does not exist in UK time",
        ),
        ("", ["notices", "--limit", "-5"], True, "-5 is not in the range x>=0"),
    ],
    ids=["toml-unclosed-list", "bad-delay-under-env", "skipped-hour", "negative-limit"],
)
def test_a_mistake_in_the_config_or_on_the_command_line_is_one_line_naming_it(
    env, tmp_path, config_text, args, by_click, said
):
    (tmp_path / "tenderwatch.toml").write_text(config_text)
    result = tenderwatch(*args, env_extra={"TENDERWATCH_FIND_A_TENDER_DELAY": "1"})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    [line] = [line for line in lines if said in line]
    if by_click:  # a value click checks: its usage and help lines, then the one line saying what is wrong
        assert lines[0].startswith("Usage: tenderwatch ") and lines[-1] == line, result.stderr
        assert line.startswith("Error: Invalid value for '--")
    else:  # tenderwatch's own: that one line, naming the file
        assert lines == [line] and line.startswith("tenderwatch: tenderwatch.toml: "), result.stderr
    assert "Traceback" not in result.stderr


def test_a_bracket_left_open_on_line_55_of_a_rules_file_is_reported_at_line_55(env, tmp_path):
    good = "service_lines:\n  - name: Evaluation\n    keywords:\n" + "".join(
        f"      term{n}: 1\n" for n in range(50)
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(good + "    exclude:\n      keywords: [day care, respite\n    cpv:\n      '79': 1\n")
    result = tenderwatch("rules", "check", str(rules))
    assert result.returncode == 2
    assert f"{rules}:55: not valid YAML" in result.stderr
    assert "the bracket opened on this line is not closed; add its ']'" in result.stderr


# ---------------------------------------------------------------------------------------------- real data


def test_real_notices_read_right_a_date_alone_a_placeholder_value_and_mojibake(env, database, replay_server):
    urls = {
        "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url,
        "TENDERWATCH_CONTRACTS_FINDER_URL": replay_server.url,
    }
    for source, start, end in (
        ("find_a_tender", "2026-08-11T12:00", "2026-08-11T18:00"),
        ("contracts_finder", "2025-01-23T14:00", "2025-01-23T23:00"),
    ):
        crawled = tenderwatch("crawl", source, "--from", start, "--to", end, env_extra=urls)
        assert crawled.returncode == 0, crawled.stderr
    # 076444-2026 gives its deadline as "2026-08-25": open all that day, not closed at 00:00.
    assert "deadline: 2026-08-25 23:59" in tenderwatch("show", "076444-2026").stdout
    # 076278-2026 states £89, a rate: not the contract's value.
    assert "value: value not stated" in tenderwatch("show", "076278-2026").stdout
    # Contracts Finder sent "Â£95,000"; the release is kept as received, the notice reads £95,000.
    budget = tenderwatch("show", f"contracts_finder:{BUDGET_NOTICE}").stdout
    assert "maximum budget of £95,000 excluding VAT" in budget and "Â" not in budget
    shown = tenderwatch("export", "--source", "contracts_finder").stdout
    assert "Â£" not in shown and "â€" not in shown
    with database.reading() as session:
        raw = session.scalar(select(ReleaseRow.raw).where(ReleaseRow.release_id == BUDGET_RELEASE))
    assert "Â£95,000" in raw


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


def test_checking_the_store_leaves_this_process_holding_its_sqlite_locks(tmp_path):
    # `status` runs inside the long-running web server too. Opening and closing the store's file
    # there drops the server's SQLite locks (POSIX locks belong to the process, not the handle):
    # another program's clean exit then takes itself for the last user and deletes the live WAL.
    from sqlalchemy import text

    from store.db import sqlite_write_problem

    path = tmp_path / "tw.db"
    database = open_database(f"sqlite:///{path}")
    with database.engine.connect() as held:
        held.execute(text("select count(*) from notices")).scalar()
        assert sqlite_write_problem(f"sqlite:///{path}") is None
        reads_and_exits = (
            f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
            "c.execute('select count(*) from notices').fetchall(); c.close()"
        )
        subprocess.run([sys.executable, "-c", reads_and_exits], check=True)
        assert (tmp_path / "tw.db-wal").exists() and (tmp_path / "tw.db-shm").exists()
    database.close()
