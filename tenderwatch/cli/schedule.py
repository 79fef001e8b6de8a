"""Commands that decide when: run (one pass, for cron), daemon, status."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from tenderwatch.cli.base import State, cli, command, echo, echo_table, local_time
from tenderwatch.cli.digest import report
from tenderwatch.cli.notices import crawl_sources
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import counted

if TYPE_CHECKING:
    from notify.check import Reachability
    from notify.run import Target


@command(cli, "run", short_help="The main job once, for cron: crawl, then digests.")
@click.option(
    "--no-crawl",
    is_flag=True,
    help="Only send the digests that are due (after any crawl another process is running).",
)
def run(state: State, no_crawl: bool) -> None:
    """The main job, one pass for cron: crawl every enabled source, then send every digest that is due.

    A digest is due when its scheduled time ([schedule] digest_at, default weekdays 07:30 UK time)
    has passed since it was last sent; with no channel configured it is written to a dated HTML file.
    Exits 1 if any source or channel failed (the rest still run), 2 for bad usage or configuration.

    \b
    Example crontab line (every hour; the 07:30 digest goes out with the first run after 07:30),
    through the wrapper that sets the installed config and the channels' secrets (deploy/install.sh):
      5 * * * *  /opt/tenderwatch/bin/with-secrets run >> /var/log/tenderwatch/run.log 2>&1
    """
    from scheduler import crawling_elsewhere, due_digests, send_due_digests, wait_for_crawls
    from spiders.crawl import SKIPPED
    from store.models import utcnow

    crawled = [] if no_crawl else crawl_sources(state, state.config.enabled_sources(), None, None)
    if stopped := [result.source for result in crawled if result.stopped]:
        # Told to stop (a shutdown, Ctrl-C): a digest now would be built on a crawl cut short and
        # stand in for the scheduled one, leaving what the crawl had still to fetch for the next day.
        echo(
            f"tenderwatch: stopped during the crawl of {', '.join(stopped)}; digests not sent: "
            "the next run resumes the crawl and sends the digests that are due",
            err=True,
        )
        sys.exit(1)
    # --no-crawl waits too: a digest sent while another process crawls would miss what it finds.
    elsewhere = (
        crawling_elsewhere(state.config, state.database)
        if no_crawl
        else [result.source for result in crawled if result.outcome == SKIPPED]
    )
    if elsewhere:
        echo(f"waiting for the crawl of {', '.join(elsewhere)} in another process to finish")
        still = wait_for_crawls(state.config, state.database, elsewhere)
        if still:
            from store import locks

            crawling = "; ".join(f"{s} by {locks.who_holds(state.database, f'crawl:{s}')}" for s in still)
            waited = state.config.schedule.crawl_timeout_minutes
            echo(
                f"tenderwatch: digests not sent: still being crawled after {waited:g} min "
                f"([schedule] crawl_timeout_minutes): {crawling}. If that crawl is stuck, stop its "
                "process; the next run then sends the digests",
                err=True,
            )
            sys.exit(1)
    now = utcnow()
    digests = send_due_digests(
        state.config, state.database, due_digests(state.config, state.database, now), now
    )
    report(digests)
    if not digests:
        echo("no digest is due")
    sys.exit(0 if all(r.ok for r in crawled) and all(r.ok for r in digests) else 1)


@command(cli, "daemon", short_help="Crawl and send digests on schedule until stopped.")
def daemon(state: State) -> None:
    """Run until stopped: crawl each source on its interval, send digests at their scheduled times.

    Crawls run in child processes, one per source at a time; digests wait for crawls in progress
    (at most [schedule] crawl_timeout_minutes).
    After downtime it catches up with one crawl per source and at most one digest per channel.
    SIGTERM, Ctrl-C or closing its terminal stops it at a clean point: a crawl in progress finishes
    its page and the next start resumes from the watermark. See the README for a systemd unit.
    """
    from notify.run import targets, template_problem
    from scheduler import Daemon, crawl_command
    from store import locks

    # A channel that cannot send (its secret unset), a rules file or a digest template with a
    # mistake stops it at once.
    for target in targets(state.config):
        if target.problem:
            raise ConfigError(target.problem)
        state.live_profile(target.profile)
    if problem := template_problem(state.config):
        raise ConfigError(problem)
    config_path = str(state.config.path) if state.config.path else None
    # One daemon per store: a second would only find every crawl and digest busy, tick after tick.
    with locks.hold(state.database, "daemon") as lock:
        if lock is None:
            raise ConfigError(
                f"another daemon ({locks.who_holds(state.database, 'daemon')}) already runs on this store; "
                "stop it first, or give this one a store of its own (TENDERWATCH_DB_URL)"
            )
        code = Daemon(state.config, state.database, crawl_command(config_path, state.verbose)).run()
    sys.exit(code)


@command(cli, "status")
@click.option(
    "--no-channel-check",
    is_flag=True,
    help="Do not contact the channels' servers (offline, or to keep a monitoring check local).",
)
@click.option(
    "--channel-timeout",
    type=click.FloatRange(min=0.1),
    default=10,
    show_default=True,
    metavar="SECONDS",
    help="How long each channel's server may take to answer the check.",
)
def status(state: State, no_channel_check: bool, channel_timeout: float) -> None:
    """What ran, what is next, and anything failing, in plain words.

    Exits 1 when it lists a problem (no store where the config points, a store it cannot write to
    (a full disk, a read-only folder), a failed crawl of an enabled source, a source with no
    successful crawl for too long, a failed or unconfirmed digest, a channel or profile that cannot
    send, a channel's server that cannot be reached), so a monitoring check can run it; warnings (an
    interrupted crawl, which the next one resumes; a source never crawled yet; a PostgreSQL
    database's C locale) leave it at 0.

    Each channel's server is contacted without sending anything: a mail server gets EHLO, STARTTLS
    and the login its URL asks for, then QUIT; a webhook host (Teams) a TCP connection and TLS
    handshake, no HTTP request, so no workflow runs. `--no-channel-check` skips this.

    \b
    Example (a monitoring check every 15 minutes, as the service's user, with its config and secrets):
      runuser -u tenderwatch -- /opt/tenderwatch/bin/with-secrets status --channel-timeout 5
    """
    from store.db import missing_sqlite_file
    from store.models import utcnow

    if path := missing_sqlite_file(state.config.db_url):
        # A shell without the cron job's config, or a mistyped path: opening it would create an
        # empty store and report every source as never crawled.
        missing = (
            f"there is no store at {path}: nothing has been crawled into it; check the config file "
            "(--config, TENDERWATCH_CONFIG) and TENDERWATCH_DB_URL that cron or the daemon use"
        )
        _echo_findings([missing, *_channel_problems(state)], [])
        sys.exit(1)
    found = status_report(state, utcnow(), None if no_channel_check else channel_timeout)
    echo("Sources")
    echo_table(SOURCE_HEADERS, found.sources)
    echo(f"\n{found.digest_heading}")
    echo_table(DIGEST_HEADERS, found.digests)
    _echo_findings(found.problems, found.warnings)
    sys.exit(1 if found.problems else 0)  # so that monitoring can run it


SOURCE_HEADERS = ["source", "enabled", "last crawl", "next due"]
DIGEST_HEADERS = ["channel", "profile", "last digest", "last worked", "server", "next due"]


@dataclass
class StatusReport:
    """What `status` says (and the web page's Sources and digests shows): a row per source and per
    channel, then the problems (to act on: exit 1) and warnings."""

    sources: list[list[str]]
    digest_heading: str
    digests: list[list[str]]
    problems: list[str]
    warnings: list[str]


def status_report(state: State, now: datetime, channel_timeout: float | None = None) -> StatusReport:
    """Everything `status` reports, for a store that exists; each channel's server is checked
    (without sending) within `channel_timeout` seconds, or not at all when it is None."""
    from notify.run import STOPPED_WHILE_SENDING, lock_name, settle_advice, targets
    from scheduler import due_digests, next_slot
    from store import deliveries, locks
    from store.db import sqlite_write_problem

    # Problems need someone to act (and make it exit 1); warnings are worth knowing but resolve
    # themselves, or cannot be fixed in place, so a monitoring check must not stay red for them.
    problems = [problem] if (problem := sqlite_write_problem(state.config.db_url)) else []
    warnings = [problem] if (problem := state.database.search_locale_problem()) else []
    source_rows = _source_rows(state, now, problems, warnings)
    schedule = state.config.schedule
    heading = (
        f"Digests ({', '.join(schedule.digest_days)} at "
        f"{', '.join(t.strftime('%H:%M') for t in schedule.digest_at)} UK time)"
    )
    rows = []
    due = {target.key for target in due_digests(state.config, state.database, now)}
    retry = timedelta(minutes=schedule.retry_failed_digest_minutes)
    # Before reading the store: a slow server must not hold a read transaction open.
    no_channel_check = channel_timeout is None
    checked = {} if no_channel_check else _check_channels(targets(state.config), channel_timeout)
    with state.database.reading() as session:
        for target in targets(state.config):
            last = deliveries.last_attempt(session, target.key)
            worked = deliveries.last_sent(session, target.key)
            following = now if target.key in due else next_slot(schedule, now)
            if last and last.outcome == "failed":
                retry_at = last.created_at + retry
                following = min(following, retry_at) if following else retry_at
                problems.append(
                    f"{target.label}: the last digest failed ({local_time(last.created_at)}): "
                    f"{last.error}; it will be tried again"
                )
            # A digest being sent now is recorded as unconfirmed until its channel answers.
            sending = locks.holder(state.database, lock_name(target.key)) is not None
            problems += [
                f"{target.label}: the digest of {local_time(pending.created_at)} is unconfirmed: "
                f"{pending.error}; its items count as sent: {settle_advice(target.key)}"
                for pending in deliveries.unconfirmed(session, target.key)
                if not (sending and pending.error == STOPPED_WHILE_SENDING)
            ]
            reached = checked.get(target.key)
            if reached and reached.problem:
                problems.append(
                    f"{target.label}: cannot reach {reached.where}: {reached.problem} "
                    f"({f'it last worked {local_time(worked.created_at)}' if worked else 'it never has'})"
                )
            rows.append(
                [
                    target.label,
                    target.profile,
                    _digest_text(last, sending),
                    local_time(worked.created_at) if worked else "never",
                    _reached_text(reached, target, no_channel_check),
                    _due(following, now),
                ]
            )
    problems += _channel_problems(state)
    return StatusReport(source_rows, heading, rows, problems, warnings)


def _check_channels(chosen: list[Target], timeout: float) -> dict[str, Reachability | None]:
    """Each channel's server checked without sending, all at once (so at most one timeout in all);
    none for a file or a channel that cannot send anyway."""
    from notify.check import check_channel

    checkable = [target for target in chosen if target.url is not None and not target.problem]
    if not checkable:
        return {}
    with ThreadPoolExecutor(max_workers=len(checkable)) as pool:
        found = pool.map(lambda target: check_channel(target.url, target.kind, timeout), checkable)
        return {target.key: reached for target, reached in zip(checkable, found, strict=True)}


def _reached_text(reached: Reachability | None, target: Target, not_checked: bool) -> str:
    if target.url is None:
        return "-"  # a file: nothing to reach
    if not_checked or target.problem or reached is None:
        return "not checked"
    return "down" if reached.problem else "up"  # words like the sources' on/off, not yes/no


def _channel_problems(state: State) -> list[str]:
    from notify.run import targets, template_problem

    template = template_problem(state.config)
    return [
        f"{target.label}: no digest can be sent: {problem}"
        for target in targets(state.config)
        if (problem := target.problem or state.profile_problem(target.profile) or template)
    ]


def _echo_findings(problems: list[str], warnings: list[str]) -> None:
    for heading, lines in (("Problems", problems), ("Warnings", warnings)):
        if lines:
            echo(f"\n{heading}:\n" + "\n".join(f"  - {line}" for line in lines))
    if not problems and not warnings:
        echo("\nAll well.")


def _source_rows(state: State, now: datetime, problems: list[str], warnings: list[str]) -> list[list[str]]:
    """One row per source for `status`; adds what went wrong to problems or warnings."""
    from scheduler import next_crawl, overdue_after
    from store import crawls, locks
    from store.models import SourceState

    rows = []
    with state.database.reading() as session:
        for name in state.config.sources:
            source = state.config.source(name)
            last = crawls.latest_runs(session, name)
            run_ = last[0] if last else None
            outcome, message = (run_.outcome, run_.message) if run_ else (None, None)
            crawling = locks.holder(state.database, f"crawl:{name}")
            if outcome == crawls.RUNNING and crawling is None:
                # Its process died (kill -9, power cut): the next crawl records it; say so already.
                outcome, message = crawls.INTERRUPTED, "the crawl process ended before finishing"
            following = next_crawl(state.config, state.database, name) if source.enabled else None
            rows.append(
                [
                    name,
                    "on" if source.enabled else "off",
                    _run_text(run_, outcome),
                    "disabled"
                    if not source.enabled
                    else ("crawling now" if crawling else _due(following, now)),
                ]
            )
            state_row = session.get(SourceState, name)
            succeeded = state_row.last_success_at if state_row else None
            # Cron stopped, a store it cannot write to, crawls interrupted again and again: nothing
            # failed, but nothing succeeds either.
            since = succeeded or (crawls.first_run_started(session, name) if run_ else None)
            timeout = timedelta(minutes=state.config.schedule.crawl_timeout_minutes)
            if crawling and (run_ is None or now - run_.started_at <= timeout):
                pass  # it reports its outcome when it ends (a cron crawl that hangs does not: below)
            elif source.enabled and since and now - since > overdue_after(state.config, name):
                every = state.config.crawl_interval_minutes(name)
                what = (
                    f"since {local_time(since)}" if succeeded else f"ever (first tried {local_time(since)})"
                )
                problems.append(
                    f"{name}: no successful crawl {what} (it should succeed every {every:g} min); "
                    f"run `tenderwatch crawl {name}` to see why"
                )
            elif source.enabled and run_ is None:
                # A new store, or a cron job or daemon that never ran with this config.
                warnings.append(
                    f"{name}: never crawled; run `tenderwatch crawl {name}`, and check that cron or the "
                    "daemon uses this config"
                )
            if source.enabled and run_ and outcome in (crawls.FAILED, crawls.INTERRUPTED):
                when = local_time(run_.started_at)
                said = f"{name}: the last crawl {outcome} ({when}): {message or 'no detail'}"
                if outcome == crawls.FAILED:
                    problems.append(said)
                else:
                    warnings.append(f"{said}; the next crawl resumes where it stopped")
    return rows


def _run_text(run_, outcome: str | None) -> str:
    if run_ is None:
        return "never"
    counts = f"{counted(run_.pages, 'page')}, {run_.new} new, {run_.changed} changed"
    counts += f", {run_.errors} unreadable" if run_.errors else ""
    return f"{local_time(run_.started_at)} {outcome} ({counts})"


def _digest_text(digest, sending: bool = False) -> str:
    from notify.digest import headline
    from store.deliveries import UNCONFIRMED

    if digest is None:
        return "never"
    counts = headline(digest.counts)
    outcome = "being sent" if sending and digest.outcome == UNCONFIRMED else digest.outcome
    return f"{local_time(digest.created_at)} {outcome} ({counts})"


def _due(moment: datetime | None, now: datetime) -> str:
    if moment is None or moment <= now + timedelta(seconds=1):
        return "now"
    return local_time(moment)
