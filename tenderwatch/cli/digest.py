"""Commands that tell people: digest, notify test."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from store.models import utcnow
from tenderwatch.cli.base import CONTEXT, State, cli, command, echo, local_time, parse_time_option
from tenderwatch.errors import ConfigError, InputError


@command(cli, "digest", short_help="Send the digests of new matching opportunities now.")
@click.option(
    "--profile", help="Only channels serving this profile (with --to or no channel: the profile to use)."
)
@click.option("--channel", help="Only this configured channel.")
@click.option(
    "--to",
    "to",
    metavar="APPRISE_URL",
    help="Send to this URL instead of the configured channels "
    "(e.g. mailtos://user:pass@smtp.example.org?to=bids@example.org, or '${BIDS_MAIL_URL}' to read it "
    "from the environment); deliveries are logged against it.",
)
@click.option(
    "--as-of",
    "as_of",
    callback=parse_time_option,
    metavar="TIME",
    help="Build the digest as it would have been at TIME (UK time unless an offset is given). Without "
    "--dry-run it is sent, and what it lists counts as sent; the scheduled digest is still due.",
)
@click.option("--dry-run", is_flag=True, help="Render only: send nothing and record no deliveries.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML digest here."
)
def digest(
    state: State,
    profile: str | None,
    channel: str | None,
    to: str | None,
    as_of: datetime | None,
    dry_run: bool,
    output: Path | None,
) -> None:
    """Send the digest of new matching opportunities to every configured channel.

    In order: strong matches, possible matches, closing too soon?, closing soon, changed, early
    warning (pipeline), and the health of every source. Each notice is announced once per channel; a
    channel that is down gets the undelivered items next time. With no channel configured the digest
    is written to a dated HTML file in DATA_DIR/digests (or [digest] output_dir). Exits 1 if any
    channel failed.

    \b
    Examples:
      tenderwatch digest --dry-run --output preview.html
      tenderwatch digest --to 'mailto://localhost:25?to=bids@example.org&from=tenders@example.org'
      tenderwatch digest --as-of 2026-08-12T07:30 --dry-run --output august.html
    """
    from notify.run import send_digests, targets
    from scheduler import crawling_elsewhere, wait_for_crawls

    if to and channel:
        raise ConfigError("use either --to or --channel, not both")
    to = state.channel_url(to) if to else None
    if as_of and as_of > utcnow():
        raise ConfigError(f"--as-of ({local_time(as_of)} UK time) is in the future; give a time already past")
    if output and not output.parent.is_dir():
        raise ConfigError(f"--output: the folder {output.parent} does not exist; create it or choose another")
    busy = [] if dry_run or as_of else crawling_elsewhere(state.config, state.database)
    if busy:  # a digest sent now would miss what those crawls are finding
        echo(f"waiting for the crawl of {', '.join(busy)} to finish", err=True)
        wait_for_crawls(state.config, state.database, busy)
    results = send_digests(
        state.config,
        state.database,
        targets(state.config, channel=channel, profile=profile, to=to),
        as_of=as_of,
        dry_run=dry_run,
    )
    for result in results:
        if output:
            _write_output(output, result.html)
        echo(describe(result))
    failed = [result.target.label for result in results if not result.ok]
    if failed:
        # A configured channel's items wait for its next digest; a one-off --to has no next time.
        then = "send it again to retry" if to else "those items will be sent next time"
        echo(f"tenderwatch: digest failed for {', '.join(failed)}; {then}", err=True)
    sys.exit(1 if failed else 0)


def _write_output(path: Path, html: str) -> None:
    from tenderwatch.files import write_whole

    try:
        write_whole(path, lambda out: out.write(html))
    except OSError as exc:
        raise InputError(f"--output: cannot write {path}: {exc.strerror or exc}") from None


def describe(result) -> str:
    subject = result.digest.subject
    if result.outcome == "written":
        return f"{result.target.label}: {subject}\nwrote {result.path}"
    if result.outcome == "skipped":
        return f'{result.target.label}: nothing new, not sent (digest.empty = "skip")'
    if result.outcome == "busy":
        return f"{result.target.label}: not sent now: {result.reason}"
    if result.outcome == "failed":
        verb = "write" if result.target.kind == "file" else "send"
        return f'{result.target.label}: FAILED to {verb} "{subject}": {result.reason}'
    return f"{result.target.label}: {result.outcome}: {subject}"


@cli.group("notify", context_settings=CONTEXT)
def notify_group() -> None:
    """Check the notification channels."""


@command(notify_group, "test", short_help="Send a test message to each channel.")
@click.option("--channel", help="Only this channel (default: every configured channel).")
@click.option(
    "--to",
    "to",
    metavar="APPRISE_URL",
    help="Test this URL instead of the configured channels ('${NAME}' reads it from the environment).",
)
def notify_test(state: State, channel: str | None, to: str | None) -> None:
    """Send a short test message to each channel and report which accepted it. Exits 1 if any failed."""
    from notify.render import Message
    from notify.run import targets
    from notify.send import Outcome, send

    to = state.channel_url(to) if to else None
    chosen = [t for t in targets(state.config, channel=channel, to=to) if t.url]
    if not chosen:
        raise ConfigError("no channel is configured: add [[channels]] to the config file or use --to")
    failed = []
    for target in chosen:
        message = Message(
            "tenderwatch: test message",
            "This is a test from tenderwatch. If you can read it, digests will reach this channel.",
            (),
        )
        outcome = Outcome(False, target.problem) if target.problem else send(target.url, message, html=False)
        echo(f"{target.label}: {'ok' if outcome.ok else 'FAILED: ' + (outcome.reason or '')}")
        if not outcome.ok:
            failed.append(target.label)
    sys.exit(1 if failed else 0)
