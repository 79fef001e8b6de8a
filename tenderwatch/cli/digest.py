"""Commands that tell people: digest, notify test, and notify resend / arrived for unconfirmed digests."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from store.models import utcnow
from tenderwatch.cli.base import (
    CONTEXT,
    State,
    cli,
    command,
    echo,
    local_time,
    parse_time_option,
    profile_option,
    shorten,
)
from tenderwatch.errors import ConfigError, InputError, TenderwatchError


@command(cli, "digest", short_help="Send the digests of new matching opportunities now.")
@profile_option(
    "Only channels serving this profile (with --to or no channel: the profile to use). With --dry-run, "
    "also a profile no channel serves, or a rules file to try: its digest is shown, nothing recorded."
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
    warning (pipeline), on [digest] expiring_day (default Monday) the contracts in the firm's field
    ending soon, and the health of every source. Each notice is announced once per channel; a
    channel that is down gets the undelivered items next time. A mail server that is handed the
    digest but never confirms it leaves it "unconfirmed": its items are not sent again until you say
    so (`tenderwatch notify resend` or `notify arrived`). With no channel configured the digest is
    written to a dated HTML file in DATA_DIR/digests (or [digest] output_dir). Exits 1 if any channel
    failed or did not confirm.

    With --dry-run nothing is sent or recorded. `--profile NAME|FILE --dry-run` previews the digest
    a profile or a candidate rules file would give (the channel's history with --channel, else that
    of the digest file), and needs no channel configured: it lists the items and, with --output,
    writes the HTML.

    \b
    Examples:
      tenderwatch digest --dry-run --output preview.html
      tenderwatch digest --profile my-candidate.yaml --dry-run --output candidate.html
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
    previewed = _previewed(state, profile, channel, to, dry_run) if profile is not None else None
    if previewed is not None:
        _preview(state, previewed, channel, as_of or utcnow(), output)
        return
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
    report(results, one_off=bool(to))
    sys.exit(0 if all(result.ok for result in results) else 1)


def _previewed(state: State, profile: str, channel: str | None, to: str | None, dry_run: bool) -> Any:
    """The rules to preview the digest of, when it is a preview: a rules file being tried, or (with
    --dry-run) a profile no configured channel serves; None for a digest of the channels."""
    from scoring.profile import is_trial

    rules = state.profile(profile)
    if is_trial(rules):
        if not dry_run:
            raise ConfigError(
                f"--profile {profile}: a rules file is only tried (add --dry-run); to send its digests, "
                "name it under [scoring.profiles] and give a channel that profile"
            )
        return rules
    if not dry_run or to:
        return None
    config = state.config
    serving = [c for c in config.channels if (c.profile or config.scoring.default_profile) == profile]
    unserved = not serving or (channel is not None and channel not in {c.name for c in serving})
    return rules if unserved else None


def _preview(state: State, rules, channel: str | None, as_of: datetime, output: Path | None) -> None:
    """The digest `rules` would give now, built in a transaction rolled back: printed, and written
    to --output; nothing is sent or recorded."""
    from notify.digest import SECTION_TITLES, SECTIONS, build_digest
    from notify.render import environment, render_html
    from notify.run import FILE_CHANNEL
    from store.scores import rescore

    config = state.config
    key = config.channel(channel).name if channel else FILE_CHANNEL
    with state.database.trying() as session:
        rescore(session, rules)
        digest = build_digest(
            session,
            channel=key,
            profile=rules.name,
            min_response_days=rules.min_response_days,
            settings=config.digest,
            sources=config.enabled_sources(),
            as_of=as_of,
        )
    html = render_html(digest, environment(config.digest.templates_dir))
    echo(f"dry run, profile {rules.name}, as {key} would get it (nothing sent or recorded):")
    echo(digest.subject)
    for section in SECTIONS:
        if digest.sections[section]:
            echo(f"\n{SECTION_TITLES[section]}:")
        for item in digest.sections[section]:
            echo(f"  {item.notice.id}  {shorten(item.notice.title, 70)}")
            echo(f"    {shorten(item.why, 100)}")
    if output:
        _write_output(output, html)
        echo(f"wrote {output}")


def report(results, *, one_off: bool = False) -> None:
    """Each digest's outcome on stdout; what to do about failed and unconfirmed ones on stderr."""
    from notify.run import settle_advice
    from store.deliveries import UNCONFIRMED

    for result in results:
        echo(describe(result))
    failed = [result.target.label for result in results if result.outcome == "failed"]
    if failed:
        # A configured channel's items wait for its next digest; a one-off --to has no next time.
        then = "send it again to retry" if one_off else "those items will be sent next time"
        echo(f"tenderwatch: digest failed for {', '.join(failed)}; {then}", err=True)
    for result in results:
        if result.outcome == UNCONFIRMED:
            channel = None if one_off else result.target.key
            echo(
                f"tenderwatch: {result.target.label}: the mail server may have the digest; its items count "
                f"as sent and are not sent again unless you say so: {settle_advice(channel)}",
                err=True,
            )


def _write_output(path: Path, html: str) -> None:
    from tenderwatch.files import write_whole

    try:
        write_whole(path, lambda out: out.write(html))
    except OSError as exc:
        raise InputError(f"--output: cannot write {path}: {exc.strerror or exc}") from None


def describe(result) -> str:
    from notify.run import HELD
    from store.deliveries import UNCONFIRMED

    subject, reason = result.digest.subject, result.reason
    if result.outcome == "written":
        return f"{result.target.label}: {subject}\nwrote {result.path}"
    verb = "write" if result.target.kind == "file" else "send"
    said = {
        "skipped": 'nothing new, not sent (digest.empty = "skip")',
        "busy": f"not sent now: {reason}",
        HELD: f"NOT SENT until its rules are fixed: {reason}",
        "failed": f'FAILED to {verb} "{subject}": {reason}',
        UNCONFIRMED: f'NOT CONFIRMED "{subject}": {reason}',
    }
    return f"{result.target.label}: {said.get(result.outcome, f'{result.outcome}: {subject}')}"


@cli.group("notify", context_settings=CONTEXT, short_help="Test the channels; settle unconfirmed digests.")
def notify_group() -> None:
    """Check the notification channels; settle a digest the mail server did not confirm."""


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
        outcome = (
            Outcome(False, target.problem)
            if target.problem
            else send(target.url, message, html=False, smtp_timeout=state.config.digest.smtp_timeout_seconds)
        )
        echo(f"{target.label}: {'ok' if outcome.ok else 'FAILED: ' + (outcome.reason or '')}")
        if not outcome.ok:
            failed.append(target.label)
    sys.exit(1 if failed else 0)


CHANNEL_OR_TO = (
    click.option("--channel", help="The configured channel (needed when several have such a digest)."),
    click.option(
        "--to",
        "to",
        metavar="APPRISE_URL",
        help="The URL a `digest --to` sent it to ('${NAME}' reads it from the environment).",
    ),
)


def channel_or_to(function):
    for option in reversed(CHANNEL_OR_TO):
        function = option(function)
    return function


@command(notify_group, "arrived", short_help="Say that a digest the mail server did not confirm arrived.")
@channel_or_to
def notify_arrived(state: State, channel: str | None, to: str | None) -> None:
    """Record that the unconfirmed digests of a channel did arrive: they count as sent.

    A digest is unconfirmed when the mail server was handed it but gave no final answer (see
    [digest] smtp_timeout_seconds); `tenderwatch status` lists them.
    """
    _settle(state, channel, to, arrived=True)


@command(
    notify_group, "resend", short_help="Send again the items of a digest the mail server did not confirm."
)
@channel_or_to
def notify_resend(state: State, channel: str | None, to: str | None) -> None:
    """Record that the unconfirmed digests of a channel did not arrive: their items go in the next
    digest, which the daemon or `tenderwatch run` sends as a retry (or send it now with `digest`)."""
    _settle(state, channel, to, arrived=False)


def _settle(state: State, channel: str | None, to: str | None, *, arrived: bool) -> None:
    from notify.run import lock_name
    from notify.send import channel_key
    from store import deliveries, locks

    if to and channel:
        raise ConfigError("use either --to or --channel, not both")
    with state.database.reading() as session:
        if to:
            key, label = channel_key(state.channel_url(to)), "--to"
        elif channel:
            key = label = state.config.channel(channel).name
        else:
            key = label = _only_unconfirmed_channel(state, deliveries.channels_unconfirmed(session))
    # A digest being sent now is unconfirmed until its channel answers: wait for the sender.
    with locks.hold(state.database, lock_name(key)) as lock:
        if lock is None:
            raise TenderwatchError(
                f"{label}: a digest is being sent on this channel now "
                f"({locks.who_holds(state.database, lock_name(key))}); run this again when it has finished"
            )
        with state.database.writing() as session:
            settled = deliveries.settle_unconfirmed(session, key, arrived=arrived)
    if not settled:
        echo(f"{label}: no digest is waiting to be confirmed")
        return
    for digest, released in settled:
        when = local_time(digest.created_at)
        if arrived:
            echo(f"{label}: the digest of {when} UK time counts as sent")
        else:
            echo(f"{label}: the digest of {when} UK time did not arrive: {released} items released")
    if not arrived:
        again = f"--channel {key}" if not to else "--to URL"
        echo(
            f"{label}: its items go in the next digest (the daemon or `tenderwatch run` retries it); "
            f"to send them now: tenderwatch digest {again}"
        )


def _only_unconfirmed_channel(state: State, keys: list[str]) -> str:
    """The one channel with unconfirmed digests, when the operator named none."""
    configured = {channel.name for channel in state.config.channels}
    named = [key if key in configured else "a `digest --to` URL" for key in keys]
    if not keys:
        raise ConfigError("no digest is waiting to be confirmed (see `tenderwatch status`)")
    if len(keys) > 1:
        raise ConfigError(f"digests of {', '.join(named)} are waiting: give --channel or --to")
    if keys[0] not in configured:
        raise ConfigError("the digest waiting was sent with `digest --to`: give the same --to URL")
    return keys[0]
