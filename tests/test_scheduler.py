"""The daemon and cron together: schedules, locks, catching up, and stopping cleanly.

Daemons run as real `tenderwatch daemon` processes with short intervals against the local replay
server (serving the recorded days moved to the last 48 hours) and a local SMTP server.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from scheduler import due_crawls, due_digests, latest_slot, next_slot
from store import locks
from store.deliveries import record_digest
from store.models import CrawlRun, DigestRow, ReleaseRow, SourceState, utcnow
from store.notice import LONDON
from tenderwatch import config as configuration
from tests.support.receivers import SmtpReceiver
from tests.support.recorded import fts_releases, shifted
from tests.support.replay_server import FIND_A_TENDER, ReplayServer
from tests.support.waiting import wait_until

TENDERWATCH = [sys.executable, "-m", "tenderwatch"]


def uk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def schedule(**values) -> configuration.ScheduleConfig:
    return configuration._schedule(values, "test")


def test_the_latest_slot_is_the_last_scheduled_weekday_time():
    weekdays = schedule()
    assert latest_slot(weekdays, uk("2026-11-30T07:29:00")) == uk(
        "2026-11-27T07:30:00"
    )  # Monday before 07:30
    assert latest_slot(weekdays, uk("2026-11-30T07:30:00")) == uk("2026-11-30T07:30:00")
    assert latest_slot(weekdays, uk("2026-11-29T12:00:00")) == uk("2026-11-27T07:30:00")  # Sunday
    assert next_slot(weekdays, uk("2026-11-28T12:00:00")) == uk("2026-11-30T07:30:00")
    twice = schedule(digest_at=["16:00", "07:30"], digest_days=["sat"])
    assert latest_slot(twice, uk("2026-11-28T17:00:00")) == uk("2026-11-28T16:00:00")
    assert latest_slot(twice, uk("2026-10-24T12:00:00")).utcoffset() == timedelta(hours=1)  # BST
    assert latest_slot(twice, uk("2026-10-31T12:00:00")).utcoffset() == timedelta(0)  # GMT


def test_a_digest_time_the_clocks_skip_is_sent_once_an_hour_later_by_the_clock(config, database):
    # 01:30 does not exist on 29 March 2026 (01:00 GMT is 02:00 BST): its moment is 01:30 GMT.
    nightly = replace(config, schedule=schedule(digest_at=["01:30"], digest_days=["sun"]))
    assert latest_slot(nightly.schedule, uk("2026-03-29T02:29:00")) == uk("2026-03-22T01:30:00")
    assert next_slot(nightly.schedule, uk("2026-03-29T02:00:00")) == uk("2026-03-29T02:30:00")
    sent = []
    start = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 BST, the clocks just gone forward
    for tick in range(80):  # the daemon's 30-second ticks for 40 minutes
        now = start + timedelta(seconds=30 * tick)
        for target in due_digests(nightly, database, now):
            with database.writing() as session:
                record_digest(
                    session, channel=target.key, profile="example", as_of=now, outcome="written", counts={}
                )
            sent.append(now)
    # One digest for the week before it, at once, and one at 01:30 GMT: not one per tick.
    assert sent == [start, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]


def test_in_the_hour_the_clocks_go_back_a_digest_time_already_passed_is_not_still_to_come():
    # 25 October 2026: 01:30 BST is 00:30 UTC; at 01:10 GMT (01:10 UTC) the clock reads 01:10 again.
    # Compared by the wall clock, 01:30 was "next" (status said the digest was due now) and the
    # latest slot was last week's (a daemon started then waited for 01:30 GMT to send it).
    nightly = schedule(digest_at=["01:30"], digest_days=["sun"])
    second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert latest_slot(nightly, second_pass).astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_slot(nightly, second_pass).astimezone(UTC) == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    first_pass = datetime(2026, 10, 25, 0, 10, tzinfo=UTC)  # 01:10 BST: still to come
    assert next_slot(nightly, first_pass).astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_after_a_day_of_downtime_one_digest_is_due_not_one_per_missed_slot(config, database):
    thursday, saturday = uk("2026-11-26T07:31:00"), uk("2026-11-28T09:00:00")
    with database.writing() as session:
        record_digest(
            session, channel="file", profile="example", as_of=thursday, outcome="written", counts={}
        )
        session.execute(DigestRow.__table__.update().values(created_at=thursday))
    assert [t.key for t in due_digests(config, database, saturday)] == ["file"]
    with database.writing() as session:
        record_digest(
            session, channel="file", profile="example", as_of=saturday, outcome="written", counts={}
        )
    assert due_digests(config, database, saturday) == []
    retry = timedelta(minutes=config.schedule.retry_failed_digest_minutes)
    assert due_digests(config, database, saturday + retry + timedelta(minutes=1)) == []  # sent: not retried


def test_a_backdated_digest_does_not_stand_in_for_the_scheduled_one(config, database):
    saturday = uk("2026-11-28T09:00:00")

    def sent(as_of: datetime) -> None:
        with database.writing() as session:
            record_digest(session, channel="file", profile="example", as_of=as_of, outcome="sent", counts={})

    sent(uk("2026-08-12T07:30"))  # `digest --as-of` on Saturday, for a day in August
    assert [t.key for t in due_digests(config, database, saturday)] == ["file"]
    sent(saturday)  # the scheduled one, then another backdated one after it
    sent(uk("2026-08-13T07:30"))
    assert due_digests(config, database, saturday + timedelta(hours=1)) == []  # not sent twice


def test_a_digest_cron_and_the_daemon_both_found_due_is_sent_once(config, database):
    # Both decide before taking the channel's lock: the second to take it once sent it again
    # (a second "nothing new" message, or the items found meanwhile, outside the schedule).
    from scheduler import send_due_digests

    config = replace(config, digest=replace(config.digest, empty="send"))
    now = utcnow()
    found_by_cron = due_digests(config, database, now)
    [daemon] = send_due_digests(config, database, due_digests(config, database, now), now)
    [cron] = send_due_digests(config, database, found_by_cron, now)  # the lock free again
    assert daemon.outcome == "written"
    assert (cron.outcome, cron.reason) == ("busy", "another process has just sent it")
    assert len(list(config.digest_dir.iterdir())) == 1


def test_a_failed_digest_is_due_again_after_the_retry_interval(config, database):
    with database.writing() as session:
        record_digest(
            session,
            channel="file",
            profile="example",
            as_of=utcnow(),
            outcome="failed",
            counts={},
            error="connection refused",
        )
    now = utcnow()
    assert due_digests(config, database, now) == []
    retry = timedelta(minutes=config.schedule.retry_failed_digest_minutes)
    assert [t.key for t in due_digests(config, database, now + retry)] == ["file"]


def test_each_source_is_due_on_its_own_interval(env, tmp_path, database):
    (tmp_path / "tenderwatch.toml").write_text(
        "[schedule]\ncrawl_every_minutes = 60\n[sources.contracts_finder]\ncrawl_every_minutes = 240\n"
    )
    config = configuration.load()
    started = utcnow() - timedelta(minutes=90)
    with database.writing() as session:
        for source in ("find_a_tender", "contracts_finder"):
            session.add(
                CrawlRun(
                    source=source,
                    started_at=started,
                    window_from=started,
                    window_to=started,
                    outcome="ok",
                    pages=0,
                    releases=0,
                    new=0,
                    changed=0,
                    errors=0,
                )
            )
    assert due_crawls(config, database, utcnow()) == ["find_a_tender"]


def test_the_daemon_crawls_enabled_portals_too_and_the_agreement_pipeline_daily(
    env, tmp_path, database, monkeypatch
):
    for source in ("public_contracts_scotland", "crown_commercial_service"):
        monkeypatch.setenv(f"TENDERWATCH_{source.upper()}_ENABLED", "true")
    (tmp_path / "tenderwatch.toml").write_text("[schedule]\ncrawl_every_minutes = 60\n")
    config = configuration.load()
    started = utcnow() - timedelta(minutes=90)
    with database.writing() as session:
        for source in (
            "find_a_tender",
            "contracts_finder",
            "public_contracts_scotland",
            "crown_commercial_service",
        ):
            session.add(
                CrawlRun(
                    source=source, started_at=started, window_from=started, window_to=started, outcome="ok"
                )
            )
    # An hourly interval for the OCDS sources; the pipeline's default is a day.
    assert due_crawls(config, database, utcnow()) == [
        "find_a_tender",
        "contracts_finder",
        "public_contracts_scotland",
    ]
    assert "crown_commercial_service" in due_crawls(config, database, utcnow() + timedelta(hours=23))


# ------------------------------------------------------------------------------------ real daemons


@pytest.fixture
def recent_server():
    """Find a Tender's two recorded days, moved so that they end an hour ago."""
    releases = fts_releases()
    newest = max(datetime.fromisoformat(r["date"]) for r in releases)
    moved = shifted(releases, (utcnow() - timedelta(hours=1)) - newest)
    with ReplayServer({FIND_A_TENDER: moved}) as server:
        yield server


@pytest.fixture
def smtp():
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


def daemon_config(
    tmp_path,
    smtp,
    *,
    digest_at: str,
    crawl_every: float = 0.05,
    empty: str = "send",
    request_timeout: int = 60,
) -> None:
    (tmp_path / "tenderwatch.toml").write_text(
        f"[crawl]\ninitial_lookback_hours = 72\ntimeout_seconds = {request_timeout}\n"
        f'[schedule]\ntick_seconds = 0.2\ncrawl_every_minutes = {crawl_every}\ndigest_at = ["{digest_at}"]\n'
        'digest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        f'[digest]\nempty = "{empty}"\n'
        f'[sources.contracts_finder]\nenabled = false\n[[channels]]\nname = "bids"\nurl = "{smtp.url()}"\n'
    )


def start_daemon(server, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": server.url}
    return subprocess.Popen(
        [*TENDERWATCH, "daemon"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
    )


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    return output


def scalar(database, query):
    with database.reading() as session:
        return session.scalar(query)


def crawls_done(database, outcome="ok") -> int:
    return scalar(database, select(func.count()).select_from(CrawlRun).where(CrawlRun.outcome == outcome))


def now_minute() -> str:
    return utcnow().astimezone(LONDON).strftime("%H:%M")


def test_the_daemon_crawls_and_sends_on_schedule(env, tmp_path, database, recent_server, smtp):
    daemon_config(tmp_path, smtp, digest_at=now_minute())
    process = start_daemon(recent_server, tmp_path)
    try:
        wait_until(lambda: crawls_done(database) >= 2)  # crawled, and again after its 3-second interval
        wait_until(lambda: len(smtp.messages) == 1)
        time.sleep(1.5)  # several more ticks: the digest for this slot is not sent again
    finally:
        output = stop(process)
    assert len(smtp.messages) == 1
    subject = smtp.messages[0]["Subject"]
    assert "strong" in subject and "possible" in subject, subject
    assert scalar(database, select(func.count()).select_from(ReleaseRow)) == 955
    assert "daemon stopped" in output
    assert output.count("bids: digest sent") == 1, output  # logged once, with its subject
    assert f"bids: digest sent ({subject})" in output


def releases_between(server, start: str, end: str) -> int:
    """How many of the server's Find a Tender releases fall in the window [start, end) of UK time."""
    dates = (datetime.fromisoformat(release["date"]) for release in server.releases[FIND_A_TENDER])
    return sum(uk(start) <= date < uk(end) for date in dates)


def test_cron_run_while_the_daemon_crawls_a_source_does_not_crawl_it_twice(
    env, tmp_path, database, recent_server, smtp
):
    # Requests held longer than the server holds them are not timed out and fetched again.
    daemon_config(tmp_path, smtp, digest_at="00:00", crawl_every=60, request_timeout=300)
    # The daemon's crawl waits for its first answer until cron has skipped the source and waits for
    # that crawl: cron once started so slowly on a loaded machine that the crawl (a few seconds) had
    # ended by then, and cron rightly crawled the source itself.
    recent_server.answering.clear()
    process = start_daemon(recent_server, tmp_path)
    try:
        wait_until(lambda: recent_server.requests_to(FIND_A_TENDER), timeout=120, what="the daemon's crawl")
        cron = subprocess.Popen(
            [*TENDERWATCH, "run"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": recent_server.url},
        )
        said: list[str] = []

        def read() -> None:
            for line in cron.stdout:
                said.append(line)

        reading = threading.Thread(target=read, daemon=True)
        reading.start()
        try:
            # Until cron waits for the daemon's crawl, or asks for a page itself (the daemon's crawl,
            # held, has asked for one), or ends.
            wait_until(
                lambda: (
                    any("in another process to finish" in line for line in said)
                    or len(recent_server.requests_to(FIND_A_TENDER)) > 1
                    or cron.poll() is not None
                ),
                timeout=120,
                what="cron to skip the source or crawl it",
            )
            recent_server.answering.set()
            cron.wait(120)
            reading.join(30)
        finally:
            cron.kill()
        output = "".join(said)
        assert cron.returncode == 0, output
        assert "find_a_tender: skipped, another crawl of it is running" in output
        assert "waiting for the crawl of find_a_tender in another process to finish" in output
        wait_until(lambda: crawls_done(database) == 1, timeout=120)
    finally:
        recent_server.answering.set()
        stop(process)
    first_pages = Counter(
        (s.query["updatedFrom"], s.query["updatedTo"])
        for s in recent_server.requests_to(FIND_A_TENDER)
        if "cursor" not in s.query
    )
    # Every window fetched once; a window the service answers with nothing is asked once more.
    answered = {(start, end) for start, end in first_pages if releases_between(recent_server, start, end)}
    assert {first_pages[window] for window in answered} == {1}
    assert set(first_pages.values()) <= {1, 2}
    assert scalar(database, select(func.count()).select_from(ReleaseRow)) == 955


def test_a_second_daemon_on_the_same_store_is_refused(env, tmp_path, database, recent_server, smtp):
    daemon_config(tmp_path, smtp, digest_at="00:00", crawl_every=60)
    process = start_daemon(recent_server, tmp_path)
    try:
        wait_until(lambda: crawls_done(database) >= 1, timeout=120)
        second = subprocess.run(
            [*TENDERWATCH, "daemon"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode == 2
        assert (
            f"another daemon (pid {process.pid} " in second.stderr
            and "already runs on this store" in second.stderr
        )
    finally:
        stop(process)


def test_sigterm_during_a_crawl_then_restart_loses_and_duplicates_nothing(
    env, tmp_path, database, recent_server, smtp
):
    daemon_config(tmp_path, smtp, digest_at="00:00", crawl_every=60)
    recent_server.response_delay = 0.3
    process = start_daemon(recent_server, tmp_path)
    wait_until(lambda: (scalar(database, select(func.max(CrawlRun.pages))) or 0) >= 3)
    stop(process)
    assert scalar(database, select(CrawlRun.outcome)) == "interrupted"
    partial = scalar(database, select(func.count()).select_from(ReleaseRow))
    assert 0 < partial < 955
    recent_server.response_delay = 0
    process = start_daemon(recent_server, tmp_path)
    try:
        wait_until(lambda: crawls_done(database) == 1, timeout=120)
    finally:
        stop(process)
    with database.reading() as session:
        ids = list(session.scalars(select(ReleaseRow.release_id)))
        watermark = session.get(SourceState, "find_a_tender").watermark
    assert len(ids) == len(set(ids)) == 955
    assert watermark > utcnow() - timedelta(minutes=5)


def start_cron_run(tmp_path, server) -> subprocess.Popen:
    """`tenderwatch run` as cron starts it, crawling the replay server."""
    return subprocess.Popen(
        [*TENDERWATCH, "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": server.url},
    )


def test_cron_run_told_to_stop_during_its_crawl_sends_no_digest_and_the_next_run_sends_it_whole(
    env, tmp_path, database, recent_server, smtp
):
    # A `run` stopped during its crawl (a shutdown's SIGTERM) once went on to send the due digest,
    # built on the crawl cut short: today's digest listed what a page or two held, and the rest
    # waited for tomorrow's.
    daemon_config(tmp_path, smtp, digest_at=now_minute(), crawl_every=60)
    recent_server.response_delay = 0.3
    cron = start_cron_run(tmp_path, recent_server)
    try:
        wait_until(lambda: (scalar(database, select(func.max(CrawlRun.pages))) or 0) >= 3)
        cron.send_signal(signal.SIGTERM)
        _, said = cron.communicate(timeout=90)
    finally:
        cron.kill()
    assert cron.returncode == 1
    assert "tenderwatch: stopped during the crawl of find_a_tender; digests not sent" in said, said
    assert scalar(database, select(func.count()).select_from(DigestRow)) == 0
    assert smtp.messages == []
    recent_server.response_delay = 0
    again = subprocess.run(
        [*TENDERWATCH, "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": recent_server.url},
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert scalar(database, select(func.count()).select_from(ReleaseRow)) == 955
    [digest] = smtp.messages
    assert "strong" in digest["Subject"], digest["Subject"]


def test_cron_run_told_to_stop_while_the_mail_server_answers_stops_at_once(
    env, tmp_path, database, recent_server
):
    # Scrapy's handlers outlived the crawl: SIGTERM while the digest waited for a slow mail server's
    # answer (up to ten minutes) was ignored. Now it stops `run` as it stops `digest`, leaving the
    # digest unconfirmed (never sent twice), for `status` to name.
    slow = SmtpReceiver(reply_delay=120).start()
    try:
        daemon_config(tmp_path, slow, digest_at=now_minute(), crawl_every=60)
        cron = start_cron_run(tmp_path, recent_server)
        try:
            wait_until(lambda: len(slow.messages) == 1, what="the digest handed to the mail server")
            cron.send_signal(signal.SIGTERM)
            cron.communicate(timeout=30)  # not the mail server's 120 s
        finally:
            cron.kill()
    finally:
        slow.stop()
    assert cron.returncode == -signal.SIGTERM
    status = subprocess.run(
        [*TENDERWATCH, "status"], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 1 and "notify resend --channel bids" in status.stdout, status.stdout


@pytest.mark.parametrize(
    "stopped_by",
    [
        lambda process: os.killpg(process.pid, signal.SIGINT),  # Ctrl-C: the terminal's foreground group
        lambda process: process.send_signal(signal.SIGHUP),  # its terminal closed
    ],
    ids=["ctrl-c", "hangup"],
)
def test_ctrl_c_or_a_closed_terminal_stops_the_daemon_and_its_crawl_cleanly(
    env, tmp_path, database, recent_server, smtp, stopped_by
):
    daemon_config(tmp_path, smtp, digest_at="00:00", crawl_every=60)
    recent_server.response_delay = 0.3
    process = start_daemon(recent_server, tmp_path)
    wait_until(lambda: (scalar(database, select(func.max(CrawlRun.pages))) or 0) >= 3)
    stopped_by(process)
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    with database.reading() as session:
        run = session.scalars(select(CrawlRun)).one()
    assert (run.outcome, run.message) == ("interrupted", "stopped before the last window"), output


def test_after_a_day_of_downtime_the_daemon_sends_exactly_one_digest(
    env, tmp_path, database, recent_server, smtp
):
    yesterday = utcnow() - timedelta(days=1)
    with database.writing() as session:
        record_digest(session, channel="bids", profile="example", as_of=yesterday, outcome="sent", counts={})
        session.execute(DigestRow.__table__.update().values(created_at=yesterday))
    # Today's slot was two hours ago, well clear of now: exactly one slot was missed.
    two_hours_ago = (utcnow() - timedelta(hours=2)).astimezone(LONDON).strftime("%H:%M")
    daemon_config(tmp_path, smtp, digest_at=two_hours_ago, crawl_every=60)
    process = start_daemon(recent_server, tmp_path)
    try:
        wait_until(lambda: len(smtp.messages) >= 1, timeout=120)
        time.sleep(2)
    finally:
        stop(process)
    assert len(smtp.messages) == 1


def test_a_lock_left_by_a_process_that_died_is_recovered(env, tmp_path, database, recent_server, smtp):
    daemon_config(tmp_path, smtp, digest_at="00:00", crawl_every=60)
    config = configuration.load()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from tenderwatch import config; from store.db import open_database; "
                "from store import locks; db = open_database(config.load().db_url); "
                "lock = locks.try_lock(db, 'crawl:find_a_tender'); print('held', flush=True); time.sleep(600)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert holder.stdout.readline().strip() == "held"
    assert locks.holder(database, "crawl:find_a_tender") is not None
    assert "find_a_tender" not in due_crawls(config, database, utcnow())  # the daemon leaves it alone
    holder.kill()
    holder.wait()
    # A dead process's note holds nothing; PostgreSQL frees its locks as soon as it sees the connection drop.
    wait_until(lambda: locks.holder(database, "crawl:find_a_tender") is None, timeout=5, what="the lock")
    assert "find_a_tender" in due_crawls(config, database, utcnow())  # so the daemon crawls it again
    run = subprocess.run(
        [*TENDERWATCH, "crawl", "find_a_tender"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": recent_server.url},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "find_a_tender: ok" in run.stdout


def quiet_daemon(config, database, **scoring):
    """A daemon in this process that only sends digests: ticks every 10 ms, a digest due at once."""
    import scheduler

    fast = replace(
        config,
        sources={name: replace(source, enabled=False) for name, source in config.sources.items()},
        schedule=replace(
            schedule(digest_at=["00:00"], digest_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            tick_seconds=0.01,
        ),
        scoring=replace(config.scoring, **scoring),
    )
    return scheduler.Daemon(fast, database, ["true"])


def run_daemon_while(daemon, script) -> None:
    """Run the daemon here (signal handlers need the main thread) while `script` runs beside it; the
    daemon stops when the script ends, and the script's failure fails the test."""
    failures = []

    def beside() -> None:
        try:
            script()
        except BaseException as exc:
            failures.append(exc)
        finally:
            daemon.stopping.set()

    helper = threading.Thread(target=beside)
    helper.start()
    assert daemon.run() == 0
    helper.join()
    if failures:
        raise failures[0]


def messages(caplog, level: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == level]


def digests_recorded(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(DigestRow))


def test_a_rules_file_broken_while_the_daemon_runs_is_logged_once_and_its_fix_picked_up(
    config, database, tmp_path, caplog
):
    """A bid lead saves a rules file with a mistake while the daemon runs: the due digest fails in one
    line, logged once rather than on every tick, and goes out on the first tick after the fix."""
    caplog.set_level(logging.INFO, logger="tenderwatch")
    rules = tmp_path / "bids.yaml"
    rules.write_text("service_lines: [\n")
    daemon = quiet_daemon(config, database, profiles={"bids": rules}, default_profile="bids")

    def break_then_fix() -> None:
        wait_until(lambda: messages(caplog, "ERROR"))
        time.sleep(0.3)  # some thirty more ticks, each meeting the same mistake
        assert digests_recorded(database) == 0
        # Saved whole, as an editor saves: a tick must not read the file half-written ("empty").
        fixed = tmp_path / "bids.yaml.new"
        fixed.write_text(configuration.EXAMPLE_PROFILE.read_text())
        fixed.replace(rules)
        wait_until(lambda: "working again" in messages(caplog, "INFO"))
        wait_until(lambda: digests_recorded(database) == 1)

    run_daemon_while(daemon, break_then_fix)
    [error] = messages(caplog, "ERROR")
    assert error.startswith(str(rules))
    assert error.endswith("; will try again every tick until it is fixed")
    assert "\n" not in error


def test_a_digest_waits_for_a_crawl_that_starts_while_it_waits(config, database):
    """Cron on several machines: while a digest waits for one source's crawl, another machine starts
    crawling the other source. The digest waits for that crawl too, then finds nothing running."""
    from scheduler import wait_for_crawls

    first = locks.try_lock(database, "crawl:find_a_tender")
    second_ended: list[float] = []

    def other_machines() -> None:
        time.sleep(0.3)
        second = locks.try_lock(database, "crawl:contracts_finder")  # starts while the first runs
        first.release()
        time.sleep(0.6)
        second_ended.append(time.monotonic())
        second.release()

    elsewhere = threading.Thread(target=other_machines)
    elsewhere.start()
    still = wait_for_crawls(config, database, ["find_a_tender", "contracts_finder"])
    waited_until = time.monotonic()
    elsewhere.join()
    assert still == []
    assert waited_until >= second_ended[0]


def test_a_digest_waits_only_for_the_sources_it_was_told_of(config, database):
    from scheduler import wait_for_crawls

    other = locks.try_lock(database, "crawl:contracts_finder")
    try:
        started = time.monotonic()
        assert wait_for_crawls(config, database, ["find_a_tender"]) == []
        assert time.monotonic() - started < 5
    finally:
        other.release()


def test_run_no_crawl_waits_for_a_crawl_in_another_process_before_the_digest(
    env, tmp_path, database, monkeypatch
):
    # `run --no-crawl` once sent the digest at once, missing what a daemon's or cron's crawl was finding.
    from tests.support.cli import TENDERWATCH

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tenderwatch.toml").write_text(
        '[digest]\nempty = "send"\n[schedule]\ndigest_at = ["00:00"]\n'
        'digest_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    )
    crawl = locks.try_lock(database, "crawl:find_a_tender")
    run = subprocess.Popen([*TENDERWATCH, "run", "--no-crawl"], stdout=subprocess.PIPE, text=True)
    try:
        # The crawl ends only once the run says it waits for it, however slowly the run starts.
        said = run.stdout.readline()
        assert said.strip() == "waiting for the crawl of find_a_tender in another process to finish"
        assert run.poll() is None  # still waiting: nothing sent yet
        released = utcnow()
        crawl.release()
        run.wait(120)
    finally:
        run.kill()
        crawl.release()
    assert run.returncode == 0
    with database.reading() as session:
        built_for = session.scalar(select(DigestRow.as_of))
    assert built_for.replace(tzinfo=built_for.tzinfo or UTC) >= released


def test_a_digest_held_back_by_a_stuck_crawl_elsewhere_names_its_process_and_what_to_do(
    env, tmp_path, database, monkeypatch
):
    # It once said only "find_a_tender still being crawled elsewhere; digests not sent", every hour.
    from tests.support.cli import tenderwatch

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tenderwatch.toml").write_text("[schedule]\ncrawl_timeout_minutes = 0.02\n")
    with locks.hold(database, "crawl:find_a_tender"):
        done = tenderwatch("run", "--no-crawl")
    assert done.returncode == 1
    said = done.stderr.strip()
    assert said.startswith("tenderwatch: digests not sent: still being crawled after 0.02 min"), said
    assert f"find_a_tender by pid {os.getpid()} on " in said
    assert said.endswith("If that crawl is stuck, stop its process; the next run then sends the digests")
    assert digests_recorded(database) == 0


def test_a_crawl_past_its_timeout_is_stopped_and_one_within_it_left_to_finish(config, database):
    import scheduler

    daemon = scheduler.Daemon(config, database, ["true"])
    now = utcnow()
    timeout = timedelta(minutes=config.schedule.crawl_timeout_minutes)
    hung = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    recent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    daemon.running = {
        "find_a_tender": (hung, now - timeout - timedelta(minutes=1)),
        "contracts_finder": (recent, now),
    }
    try:
        daemon._reap(now)
        assert hung.wait(10) is not None  # stopped
        assert recent.poll() is None  # within its time: left to finish
        daemon._reap(now)
        assert list(daemon.running) == ["contracts_finder"]
    finally:
        for process in (hung, recent):
            process.kill()
            process.wait()


IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: print('told', flush=True))\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


def test_a_crawl_past_its_timeout_is_signalled_once_then_killed_after_the_grace_period(
    config, database, caplog
):
    # A second SIGTERM makes Scrapy stop at once, without closing the crawl: the daemon once sent
    # one on every tick (30 s) to a crawl still finishing.
    import scheduler

    caplog.set_level(logging.INFO, logger="tenderwatch")
    daemon = scheduler.Daemon(config, database, ["true"])
    started, timeout = utcnow(), timedelta(minutes=config.schedule.crawl_timeout_minutes)
    overdue = started + timeout + timedelta(seconds=1)
    slow = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, text=True)
    daemon.running = {"find_a_tender": (slow, started)}
    try:
        assert slow.stdout.readline() == "ready\n"
        daemon._reap(overdue)
        assert slow.stdout.readline() == "told\n"  # signalled once
        for seconds in (30, 60):  # ticks within the grace period: neither signalled again nor killed
            daemon._reap(overdue + timedelta(seconds=seconds))
        time.sleep(0.5)
        assert slow.poll() is None
        daemon._reap(overdue + timedelta(seconds=scheduler.STOP_GRACE_SECONDS + 1))
        assert slow.wait(10) == -signal.SIGKILL
        daemon._reap(overdue + timedelta(seconds=scheduler.STOP_GRACE_SECONDS + 31))
        assert daemon.running == {} and daemon.told_to_stop == {}
    finally:
        slow.kill()
        slow.wait()
    slow.stdout.close()
    said = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert said == [
        f"find_a_tender: crawl still running after {timeout}; stopping it",
        f"find_a_tender: crawl did not stop in {scheduler.STOP_GRACE_SECONDS} s; killing it",
        f"find_a_tender: crawl finished (exit {-signal.SIGKILL})",
    ]


def test_stopping_the_daemon_gives_its_crawls_one_grace_period_and_signals_each_once(
    config, database, monkeypatch
):
    # It once waited the grace period for each crawl in turn (three stuck crawls: 3 min, past
    # systemd's TimeoutStopSec), and sent a second SIGTERM to a crawl already stopping after its timeout.
    import scheduler

    monkeypatch.setattr(scheduler, "STOP_GRACE_SECONDS", 2)
    daemon = scheduler.Daemon(config, database, ["true"])
    started = utcnow()
    stuck = [
        subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        assert [process.stdout.readline() for process in stuck] == ["ready\n"] * 3
        daemon.running = {
            "find_a_tender": (stuck[0], started - timedelta(days=1)),  # past its timeout
            "contracts_finder": (stuck[1], started),
            "sell2wales": (stuck[2], started),
        }
        daemon._reap(started)
        assert stuck[0].stdout.readline() == "told\n"
        before = time.monotonic()
        daemon._stop_children()
        took = time.monotonic() - before
        assert [process.wait(10) for process in stuck] == [-signal.SIGKILL] * 3
        assert [process.stdout.read() for process in stuck] == ["", "told\n", "told\n"]
        assert took < 2 * scheduler.STOP_GRACE_SECONDS
    finally:
        for process in stuck:
            process.kill()
            process.wait()
            process.stdout.close()


def test_a_digest_waits_for_the_daemons_crawls_at_most_the_crawl_timeout(
    config, database, monkeypatch, caplog
):
    """A crawl that outlasts its timeout (a first crawl's backfill, a slow service) is stopped and,
    interrupted, resumed at once: the daemon once held the digest back for as long as that went on."""
    import scheduler

    monkeypatch.setattr(scheduler, "STOP_GRACE_SECONDS", 1)
    caplog.set_level(logging.INFO, logger="tenderwatch")
    one_source = replace(
        config,
        sources={
            name: replace(source, enabled=name == "find_a_tender") for name, source in config.sources.items()
        },
        schedule=replace(
            schedule(digest_at=["00:00"], digest_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            crawl_timeout_minutes=60,
        ),
    )
    endless = [sys.executable, "-c", "import time; time.sleep(600)"]  # never finishes, nor records
    daemon = scheduler.Daemon(one_source, database, endless)
    # Six hours of ticks from 06:00 UK time today: clear of the next 00:00 slot. Started from the
    # clock, they crossed midnight whenever the test ran after 18:05, and the next day's digest
    # was due (and waited for) again.
    start = uk(f"{utcnow().astimezone(LONDON).date()}T06:00").astimezone(UTC)
    sent_at = None
    try:
        for minutes in range(0, 6 * 60, 5):
            now = start + timedelta(minutes=minutes)
            daemon.tick(now)
            time.sleep(0.05)  # a crawl told to stop ends before the next tick
            if sent_at is None and digests_recorded(database):
                sent_at = now
            assert daemon.running  # always a crawl in progress
    finally:
        daemon._stop_children()
    assert sent_at is not None, "no digest in six hours of back-to-back crawls"
    assert timedelta(minutes=60) <= sent_at - start <= timedelta(minutes=65)
    assert digests_recorded(database) == 1
    waiting = [m for m in messages(caplog, "INFO") if "waiting for the crawl" in m]
    assert waiting == ["digests due; waiting for the crawl of find_a_tender to finish (at most 60 min)"]
    assert "digests have waited 60 min for the crawl of find_a_tender; sending them now" in messages(
        caplog, "WARNING"
    )


def test_an_unexpected_error_on_every_tick_logs_its_traceback_once_and_its_end(
    config, database, caplog, monkeypatch
):
    """A bug that fails every tick (here a digest that cannot be built) is logged with its traceback
    once, not every 30 s, and its end is noted."""
    import notify.run

    caplog.set_level(logging.INFO, logger="tenderwatch")
    daemon = quiet_daemon(config, database)
    built = notify.run.build_digest
    monkeypatch.setattr(notify.run, "build_digest", lambda *a, **k: 1 / 0)

    def mend() -> None:
        wait_until(lambda: messages(caplog, "ERROR"))
        time.sleep(0.3)  # some thirty more ticks, each failing the same way
        monkeypatch.setattr(notify.run, "build_digest", built)
        wait_until(lambda: "working again" in messages(caplog, "INFO"))

    run_daemon_while(daemon, mend)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert errors[0].getMessage() == (
        "unexpected error: ZeroDivisionError: division by zero; will try again every tick"
    )


def test_a_database_failure_is_logged_once_in_one_line_and_its_return_noted(config, database, caplog):
    """A table the daemon reads every tick goes missing (a restore half done, say), then comes back."""
    caplog.set_level(logging.INFO, logger="tenderwatch")
    daemon = quiet_daemon(config, database)
    with database.writing() as session:
        session.execute(text("ALTER TABLE digests RENAME TO digests_away"))

    def restore() -> None:
        wait_until(lambda: messages(caplog, "ERROR"))
        time.sleep(0.3)  # some thirty more ticks, each failing the same way
        with database.writing() as session:
            session.execute(text("ALTER TABLE digests_away RENAME TO digests"))
        wait_until(lambda: "working again" in messages(caplog, "INFO"))
        wait_until(lambda: digests_recorded(database) == 1)

    run_daemon_while(daemon, restore)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1  # once, in one line, without a traceback
    assert errors[0].getMessage().startswith("the database failed: ")
    assert "digests" in errors[0].getMessage()
    assert errors[0].getMessage().endswith("; will try again every tick until it is fixed")
    assert "\n" not in errors[0].getMessage() and errors[0].exc_info is None
