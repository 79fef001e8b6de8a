"""When things run: the daemon loop, and the one-shot pass that cron calls (`tenderwatch run`).

Both decide digests the same way from what the store records: a channel is due for a digest when
the latest scheduled slot (UK time) has passed and it has had no digest since, so a missed day sends
one digest, not one per missed slot. The daemon also decides crawls (`run` crawls every enabled
source each time cron runs it): a source is due when its last crawl started at least its interval
ago; the crawl itself covers everything since the watermark, so after any downtime one crawl catches
up. The daemon's crawls run in child processes (Scrapy's reactor cannot restart in one process);
every crawl takes a per-source lock and every digest a per-channel lock, so the daemon and cron
never do the same work twice at once.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy.exc import DBAPIError

from notify.run import HELD, DigestResult, Target, send_digests, settle_advice, targets
from store import crawls, deliveries, locks
from store.db import Database, database_failure
from store.models import utcnow
from store.notice import LONDON
from tenderwatch.config import WEEKDAYS, Config, ScheduleConfig
from tenderwatch.errors import TenderwatchError

logger = logging.getLogger("tenderwatch.scheduler")
STOP_GRACE_SECONDS = 60  # a crawl told to stop gets this long to finish its page and close cleanly


def latest_slot(schedule: ScheduleConfig, now: datetime) -> datetime | None:
    """The most recent scheduled digest time at or before `now`, within the past week."""
    local, moment = now.astimezone(LONDON), now.astimezone(UTC)
    for days_back in range(8):
        day = local.date() - timedelta(days=days_back)
        if WEEKDAYS[day.weekday()] not in schedule.digest_days:
            continue
        for at in reversed(schedule.digest_at):
            slot = _scheduled(day, at)
            # Compared as moments (UTC): by the wall clock, 01:30 BST would be still to come in the
            # hour the clocks go back (at 01:10 GMT), though it passed forty minutes before.
            if slot.astimezone(UTC) <= moment:
                return slot
    return None


def _scheduled(day: date, at: time) -> datetime:
    """The moment `at` on `day` in UK time. Aware datetimes that share a zone compare by wall clock,
    so a time the clocks skip (01:30 on the last Sunday of March) is first turned into the moment it
    stands for (an hour later by the clock); compared as written, it would be "passed" at 02:00 BST
    while its digest, built before 01:30 UTC, never counted as built for it: due on every tick."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC).astimezone(LONDON)


def next_slot(schedule: ScheduleConfig, now: datetime) -> datetime | None:
    local, moment = now.astimezone(LONDON), now.astimezone(UTC)
    for days_ahead in range(8):
        day = local.date() + timedelta(days=days_ahead)
        if WEEKDAYS[day.weekday()] in schedule.digest_days:
            for at in schedule.digest_at:
                slot = _scheduled(day, at)
                if slot.astimezone(UTC) > moment:  # as moments, as in latest_slot
                    return slot
    return None


def next_crawl(config: Config, database: Database, source: str) -> datetime | None:
    """When `source` is next due: its last crawl's start plus its interval; None means now (never
    crawled, or the last crawl was stopped or died part-way and should resume at once)."""
    with database.reading() as session:
        last = crawls.latest_runs(session, source)
    if not last or last[0].outcome in (crawls.RUNNING, crawls.INTERRUPTED):
        return None
    return last[0].started_at + timedelta(minutes=config.crawl_interval_minutes(source))


def overdue_after(config: Config, source: str) -> timedelta:
    """How long a source may go without a successful crawl before someone should look: two of its
    intervals and a crawl's time-out, so one failed or slow crawl is not yet an alarm."""
    return 2 * timedelta(minutes=config.crawl_interval_minutes(source)) + timedelta(
        minutes=config.schedule.crawl_timeout_minutes
    )


def due_crawls(config: Config, database: Database, now: datetime) -> list[str]:
    """Enabled sources whose next crawl is due and that no process (cron, another worker) is crawling."""
    due = []
    for source in config.enabled_sources():
        following = next_crawl(config, database, source)
        if (following is None or following <= now) and locks.holder(database, f"crawl:{source}") is None:
            due.append(source)
    return due


def crawling_elsewhere(config: Config, database: Database) -> list[str]:
    """Enabled sources that some process (this machine or another) is crawling right now."""
    names = {f"crawl:{source}": source for source in config.enabled_sources()}
    return [names[name] for name in locks.held_locks(database, names)]


def wait_for_crawls(config: Config, database: Database, sources: list[str]) -> list[str]:
    """Wait until no other process is crawling any of `sources` (at most the crawl timeout); a digest
    sent before then would miss what they find. A crawl of one of them that starts meanwhile (cron
    on another machine) is waited for too. Returns those of `sources` still being crawled."""
    deadline = utcnow() + timedelta(minutes=config.schedule.crawl_timeout_minutes)
    while busy := [source for source in crawling_elsewhere(config, database) if source in sources]:
        remaining = (deadline - utcnow()).total_seconds()
        if remaining <= 0:
            return busy
        lock = locks.acquire(database, f"crawl:{busy[0]}", timeout=remaining)
        if lock is not None:
            lock.release()
    return []


def due_digests(config: Config, database: Database, now: datetime) -> list[Target]:
    slot = latest_slot(config.schedule, now)
    if slot is None:
        return []
    retry = timedelta(minutes=config.schedule.retry_failed_digest_minutes)
    due = []
    with database.reading() as session:
        for target in targets(config):
            # By the moment a digest was built for: one backdated with `digest --as-of` is not this slot's.
            last = deliveries.last_attempt(session, target.key, built_for_since=slot)
            # Only a failed digest is retried: an unconfirmed one may have arrived (`status` says so).
            if last is None or (last.outcome == "failed" and now - last.created_at >= retry):
                due.append(target)
    return due


def send_due_digests(
    config: Config, database: Database, due: list[Target], now: datetime
) -> list[DigestResult]:
    """Send the `due` digests, each only if it is still due once its channel's lock is held: the
    daemon and cron may both find it due, and the one that takes the lock second must not send it
    again after the first let go."""
    return send_digests(
        config,
        database,
        due,
        as_of=now,
        still_due=lambda target: any(t.key == target.key for t in due_digests(config, database, now)),
    )


class Daemon:
    """Crawls each source on its interval in a child process and sends digests when they are due."""

    def __init__(self, config: Config, database: Database, crawl_command: list[str]):
        self.config = config
        self.database = database
        self.crawl_command = crawl_command  # e.g. [python, -m, tenderwatch, --config, FILE, crawl]
        self.running: dict[str, tuple[subprocess.Popen[bytes], datetime]] = {}
        self.told_to_stop: dict[str, datetime] = {}  # crawls past their timeout: when they were signalled
        self.digests_held_since: datetime | None = None  # due digests waiting for crawls: since when
        self.stopping = threading.Event()

    def run(self) -> int:
        # SIGHUP too: closing its terminal must stop its crawls, which do not hear the terminal.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._stop)
        logger.info(
            "daemon started: crawling %s; digests at %s UK time on %s",
            ", ".join(self.config.enabled_sources()) or "no source",
            ", ".join(t.strftime("%H:%M") for t in self.config.schedule.digest_at),
            ", ".join(self.config.schedule.digest_days),
        )
        last_error = None
        while not self.stopping.is_set():
            try:
                self.tick(utcnow())
                if last_error:
                    logger.info("working again")
                last_error = None
            except (TenderwatchError, DBAPIError) as exc:
                # A rules typo, a database that is down: say so (once, not on every tick) and keep
                # crawling and retrying.
                problem = database_failure(exc) if isinstance(exc, DBAPIError) else str(exc)
                if problem != last_error:
                    logger.error("%s; will try again every tick until it is fixed", problem)
                last_error = problem
            except Exception as exc:
                # A bug: its traceback once, not on every tick (30 s), while it repeats.
                problem = f"unexpected error: {type(exc).__name__}: {exc}"
                if problem != last_error:
                    logger.exception("%s; will try again every tick", problem)
                last_error = problem
            self.stopping.wait(self.config.schedule.tick_seconds)
        self._stop_children()
        logger.info("daemon stopped")
        return 0

    def tick(self, now: datetime) -> None:
        self._reap(now)
        for source in due_crawls(self.config, self.database, now):
            if source not in self.running:
                self._start_crawl(source, now)
        due = due_digests(self.config, self.database, now)
        if not due:
            self.digests_held_since = None
            return
        # A digest waits for crawls in progress (here or in another process), so it shows what they
        # find; but at most a crawl's timeout, as `run` and `digest` do: crawls that follow one another
        # (one stopped at its timeout resumes at once) must not hold it back for hours.
        if busy := sorted({*self.running, *crawling_elsewhere(self.config, self.database)}):
            waited = self.config.schedule.crawl_timeout_minutes
            if self.digests_held_since is None:
                self.digests_held_since = now
                logger.info(
                    "digests due; waiting for the crawl of %s to finish (at most %g min)",
                    ", ".join(busy),
                    waited,
                )
            if now - self.digests_held_since < timedelta(minutes=waited):
                return
            logger.warning(
                "digests have waited %g min for the crawl of %s; sending them now", waited, ", ".join(busy)
            )
        self.digests_held_since = None
        results = send_due_digests(self.config, self.database, due, now)
        for result in results:
            if result.outcome != HELD:
                self._report(result)
        if held := [result.reason for result in results if result.outcome == HELD]:
            raise TenderwatchError(held[0])  # said once, not every tick; the next tick tries again

    def _report(self, result: DigestResult) -> None:
        """A digest's outcome: failures as warnings (retried), an unconfirmed one as an error (the
        operator must say whether it arrived), so TENDERWATCH_LOG_LEVEL=WARNING still shows them."""
        level, then = logging.INFO, ""
        if result.outcome == "failed":
            retry = self.config.schedule.retry_failed_digest_minutes
            level, then = logging.WARNING, f"; trying again in {retry:g} min"
        elif result.outcome == deliveries.UNCONFIRMED:
            level, then = logging.ERROR, f"; its items count as sent: {settle_advice(result.target.key)}"
        logger.log(
            level,
            "%s: digest %s (%s)%s%s",
            result.target.label,
            result.outcome,
            result.digest.subject,
            f": {result.reason}" if result.reason else "",
            then,
        )

    def _start_crawl(self, source: str, now: datetime) -> None:
        logger.info("%s: starting a crawl", source)
        # A session of its own: Ctrl-C in the daemon's terminal signals the daemon alone, which then
        # stops the crawl once (a second signal would make Scrapy stop without closing the crawl).
        self.running[source] = (subprocess.Popen([*self.crawl_command, source], start_new_session=True), now)

    def _reap(self, now: datetime) -> None:
        timeout = timedelta(minutes=self.config.schedule.crawl_timeout_minutes)
        for source, (process, started) in list(self.running.items()):
            if process.poll() is not None:
                # The crawl said why in its own line; a failure must show at WARNING too.
                level = logging.INFO if process.returncode == 0 else logging.WARNING
                logger.log(level, "%s: crawl finished (exit %s)", source, process.returncode)
                del self.running[source]
                self.told_to_stop.pop(source, None)
            elif now - started > timeout:
                self._stop_overdue(source, process, timeout, now)

    def _stop_overdue(
        self, source: str, process: subprocess.Popen[bytes], timeout: timedelta, now: datetime
    ) -> None:
        """Signal a crawl past its timeout once (Scrapy stops it cleanly on the first signal and
        abruptly on a second), then kill it if it has not stopped within STOP_GRACE_SECONDS."""
        told = self.told_to_stop.setdefault(source, now)
        if told == now:
            logger.warning("%s: crawl still running after %s; stopping it", source, timeout)
            process.terminate()
        elif now - told > timedelta(seconds=STOP_GRACE_SECONDS):
            logger.warning("%s: crawl did not stop in %s s; killing it", source, STOP_GRACE_SECONDS)
            process.kill()

    def _stop(self, signum: int, _frame: Any) -> None:
        logger.info(
            "received %s: stopping after the crawls in progress reach a clean point",
            signal.Signals(signum).name,
        )
        self.stopping.set()

    def _stop_children(self) -> None:
        for source, (process, _) in self.running.items():
            # Not a crawl already told to stop (past its timeout): a second signal stops Scrapy uncleanly.
            if process.poll() is None and source not in self.told_to_stop:
                process.terminate()  # Scrapy closes the spider; the page in progress is committed or not
        # One grace period for all of them, not one each in turn: systemd's TimeoutStopSec is 90 s.
        deadline = monotonic() + STOP_GRACE_SECONDS
        for source, (process, _) in self.running.items():
            try:
                process.wait(max(0.0, deadline - monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s: crawl did not stop in %s s; killing it", source, STOP_GRACE_SECONDS)
                process.kill()
                process.wait()
        self.running.clear()


def crawl_command(config_path: str | None, verbose: bool) -> list[str]:
    command = [sys.executable, "-m", "tenderwatch"]
    if config_path:
        command += ["--config", config_path]
    if verbose:
        command.append("--verbose")
    return [*command, "crawl"]
