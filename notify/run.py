"""Sending digests: for each channel, choose, render, send, and record what the channel accepted.

Each message's items are recorded as delivered before it is handed to the channel, in a digest
recorded as unconfirmed; once the channel answers they are kept (and the digest is sent), or
withdrawn if it refused them (failed). So a channel that is down simply gets the undelivered items in
its next digest, a process stopped mid-send leaves an unconfirmed digest, and nothing is ever
announced twice.

A mail the server was handed but never acknowledged may have arrived: its digest is recorded as
"unconfirmed" with its items counted as told (at most once rather than twice), and `status` names it
until the operator says which it was (`tenderwatch notify arrived` or `notify resend`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from notify.digest import SECTIONS, Digest, FoundExpiring, build_digest
from notify.redact import scrub
from notify.render import Message, environment, render_html
from notify.send import channel_key, check_url, markdown_limit, reads_html, send
from notify.teams import markdown_messages, teams_messages
from scoring.profile import Profile
from scoring.yamlnodes import ProfileError
from store import deliveries, locks
from store.db import Database
from store.models import DigestRow, utcnow
from store.notice import LONDON
from store.profiles import live_profile
from store.scores import rescore
from tenderwatch.config import ChannelConfig, Config
from tenderwatch.errors import ConfigError
from tenderwatch.files import write_whole

FILE_CHANNEL = "file"
# A channel whose profile's rules cannot be read: nothing built, sent or recorded until they are fixed.
HELD = "held"
# What a digest says if tenderwatch is stopped while a channel is being handed it.
STOPPED_WHILE_SENDING = "tenderwatch stopped before the channel answered; the digest may have arrived"


@dataclass(frozen=True)
class Target:
    """Where one digest goes: a configured channel, a --to URL, or (with neither) a dated HTML file."""

    key: str  # the name deliveries are logged under
    label: str  # what users see; never the URL, which may hold secrets
    url: str | None
    kind: str  # email, teams, other, file
    profile: str
    # Why this channel cannot send (its secret unset, a URL apprise refuses): it fails alone, and the
    # other channels still get their digests.
    problem: str | None = None


@dataclass
class DigestResult:
    target: Target
    # sent, failed, unconfirmed (handed over, not acknowledged), skipped (nothing new), written (file),
    # busy (another sender), dry-run
    outcome: str
    digest: Digest
    reason: str | None = None
    path: Path | None = None
    html: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.outcome not in ("failed", deliveries.UNCONFIRMED, HELD)


def targets(
    config: Config, *, channel: str | None = None, profile: str | None = None, to: str | None = None
) -> list[Target]:
    default = profile or config.scoring.default_profile
    if to:
        problem = check_url(to)
        if problem:
            raise ConfigError(f"--to: {problem}")
        kind = ChannelConfig("--to", to).kind
        return [Target(channel_key(to), f"--to {to.split('://', 1)[0]}://…", to, kind, default)]
    chosen = [config.channel(channel)] if channel else list(config.channels)
    chosen = [
        c for c in chosen if profile is None or (c.profile or config.scoring.default_profile) == profile
    ]
    if not chosen:
        if channel or config.channels:
            raise ConfigError(f"no configured channel serves profile '{profile}'")
        return [Target(FILE_CHANNEL, f"file in {config.digest_dir}", None, "file", default)]
    return [
        Target(c.name, c.name, c.url, c.kind, c.profile or config.scoring.default_profile, _problem(c))
        for c in chosen
    ]


def _problem(channel: ChannelConfig) -> str | None:
    if channel.problem:
        return channel.problem
    problem = check_url(channel.url)
    return f"channel '{channel.name}': {problem}" if problem else None


def send_digests(
    config: Config,
    database: Database,
    chosen: list[Target],
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    profiles: dict[str, Profile] | None = None,
    still_due: Callable[[Target], bool] | None = None,
) -> list[DigestResult]:
    """Build and send each chosen digest. `profiles` are live rules already loaded and scored, by
    name (the web page keeps its own up to date); any other is loaded from the store
    (store.profiles.live_profile) and its stored scores brought up to date first. `still_due` (the
    scheduler's) is asked again once the channel's lock is held: another process (cron beside the
    daemon) may have sent the digest after this one chose it."""
    as_of = as_of or utcnow()
    env = environment(config.digest.templates_dir, config.web.public_url)
    profiles = dict(profiles or {})
    rescored: set[str] = set(profiles)  # the caller's are scored
    expiring_found: FoundExpiring = {}  # the week's expiring contracts, found once for channels sharing rules
    results = []
    for target in chosen:
        if target.profile not in profiles:
            try:
                profiles[target.profile] = live_profile(database, config.scoring, target.profile)
            except (ProfileError, ConfigError) as exc:  # a mistake in one profile holds its channels alone
                results.append(DigestResult(target, HELD, _empty(target, as_of), reason=str(exc)))
                continue
        if target.profile not in rescored:
            rescored.add(target.profile)
            with database.writing() as session:
                rescore(session, profiles[target.profile])
        results.append(
            _send_one(
                config,
                database,
                target,
                profiles[target.profile],
                env,
                as_of,
                dry_run,
                still_due,
                expiring_found,
            )
        )
    return results


def _send_one(
    config: Config,
    database: Database,
    target: Target,
    profile: Profile,
    env,
    as_of: datetime,
    dry_run: bool,
    still_due: Callable[[Target], bool] | None = None,
    expiring_found: FoundExpiring | None = None,
) -> DigestResult:
    if dry_run:
        return _build_and_send(
            config, database, target, profile, env, as_of, dry_run=True, expiring_found=expiring_found
        )
    # One sender per channel at a time (daemon, cron, other machines): what is chosen, sent and
    # recorded must not interleave with another sender's.
    name = lock_name(target.key)
    with locks.hold(database, name) as lock:
        if lock is None:
            busy = f"another process is sending it ({locks.who_holds(database, name)})"
        elif still_due is not None and not still_due(target):
            busy = "another process has just sent it"
        else:
            return _build_and_send(
                config, database, target, profile, env, as_of, dry_run=False, expiring_found=expiring_found
            )
    return DigestResult(target, "busy", _empty(target, as_of, profile), reason=busy)


def lock_name(channel: str) -> str:
    """The lock a sender holds on a channel (by its delivery log name) while it chooses, sends and
    records a digest."""
    return "digest:" + re.sub(r"[^A-Za-z0-9_.-]", "_", channel)


def _empty(target: Target, as_of: datetime, profile: Profile | None = None) -> Digest:
    """A digest of nothing, for a channel not sent to now (busy, or its profile's rules held)."""
    nothing = {section: [] for section in SECTIONS}
    if profile is None:  # its rules could not be read
        return Digest(target.key, target.profile, as_of, nothing, [])
    return Digest(target.key, profile.name, as_of, nothing, [], min_response_days=profile.min_response_days)


def _build_and_send(
    config: Config,
    database: Database,
    target: Target,
    profile: Profile,
    env,
    as_of: datetime,
    *,
    dry_run: bool,
    expiring_found: FoundExpiring | None = None,
) -> DigestResult:
    with database.reading() as session:
        digest = build_digest(
            session,
            channel=target.key,
            profile=profile.name,
            min_response_days=profile.min_response_days,
            settings=config.digest,
            sources=config.enabled_sources(),
            as_of=as_of,
            rules=profile,
            expiring_found=expiring_found,
        )
    html = _rendered(database, target, digest, env, dry_run=dry_run)
    result = DigestResult(target, "dry-run", digest, html=html)
    if dry_run:
        return result
    if target.problem:
        result.outcome, result.reason = "failed", target.problem
        _record(database, target, digest, "failed", error=target.problem)
        return result
    if digest.is_empty and config.digest.empty == "skip":
        result.outcome = "skipped"
        _record(database, target, digest, "skipped")
        return result
    if target.kind == "file":
        result.path, problem = _write_file(config, database, target, digest, html)
        if problem:  # a full or read-only digest folder: nothing half-written is left behind
            result.outcome, result.reason = "failed", problem
            _record(database, target, digest, "failed", error=problem)
            return result
        result.outcome = "written"
        return result
    # Written ahead: each message's items count as told before it is handed over, so a process
    # stopped while the channel answers leaves an unconfirmed digest, not a message sent twice.
    digest_id = _record(database, target, digest, deliveries.UNCONFIRMED, error=STOPPED_WHILE_SENDING)
    failure = None
    as_mail = target.kind == "email" or (target.kind == "other" and reads_html(target.url or ""))
    for message in _messages(target, digest, html, config, as_mail=as_mail):
        told = digest.announcements(list(message.items))
        _told(database, digest_id, told, confirmed=False)
        outcome = send(
            target.url,
            message,
            html=as_mail,  # Teams: a card; chat services: Markdown (notify.teams)
            smtp_timeout=config.digest.smtp_timeout_seconds,
        )
        if not outcome.ok:
            failure = outcome
            if not outcome.unconfirmed:  # refused or never handed over: not told after all
                _withdrawn(database, digest_id, told)
            break
        _confirmed(database, digest_id, told)  # accepted: never released by `notify resend`
    if failure is None or failure.unconfirmed:  # counted in it, so told about
        _told(database, digest_id, digest.announcements(digest.omitted), confirmed=failure is None)
    if failure is None:
        result.outcome = "sent"
    else:
        result.outcome = deliveries.UNCONFIRMED if failure.unconfirmed else "failed"
        result.reason = failure.reason
    _settle(database, target, digest_id, result.outcome, result.reason)
    return result  # the caller reports it: the CLI prints it, the daemon logs it


def _rendered(database: Database, target: Target, digest: Digest, env, *, dry_run: bool) -> str:
    try:
        return render_html(digest, env)
    except ConfigError as exc:  # the firm's own template: recorded, so `status` names it until fixed
        if not dry_run:
            _record(database, target, digest, "failed", error=str(exc))
        raise


def template_problem(config: Config) -> str | None:
    """Why the digest templates cannot render (a firm's own copy with a mistake), tried on an empty
    digest: `status` and the daemon's start say so before a digest is due. None when they render."""
    env = environment(config.digest.templates_dir, config.web.public_url)
    empty = Digest(FILE_CHANNEL, config.scoring.default_profile, utcnow(), {s: [] for s in SECTIONS}, [])
    try:
        render_html(empty, env)
    except ConfigError as exc:
        return str(exc)
    return None


def settle_advice(channel: str | None) -> str:
    """What the operator can do about an unconfirmed digest (channel: a configured one, or None for --to)."""
    which = f"--channel {channel}" if channel else "--to URL"
    return (
        f"if it did not arrive, run `tenderwatch notify resend {which}` to send its items again; "
        f"if it did, `tenderwatch notify arrived {which}`"
    )


def _messages(target: Target, digest: Digest, html: str, config: Config, *, as_mail: bool) -> list[Message]:
    if target.kind == "teams":
        return teams_messages(digest, config.web.public_url, config.digest.teams_items_per_post)
    if not as_mail:  # chat services read Markdown, which apprise makes badly of the e-mail
        limit = markdown_limit(target.url or "", digest.subject)
        return markdown_messages(digest, config.web.public_url, limit)
    return [Message(digest.subject, html, tuple(i for items in digest.sections.values() for i in items))]


def _write_file(
    config: Config, database: Database, target: Target, digest: Digest, html: str
) -> tuple[Path, str | None]:
    """Write the dated file and record it as written, with what it announced; returns the file and
    why it could not be written (None when it was).

    The file is put in place inside the transaction that records it, once that transaction holds
    the store (a crawl's batch may hold SQLite's write lock for a while): a process killed while it
    waits has written no file, and one killed after the file is in place has only the commit left.
    Recorded after the file, as it once was, a kill during that wait left a file the store never
    heard of, and the next run wrote its items into a second file.
    """
    folder = config.digest_dir
    local = digest.as_of.astimezone(LONDON)  # the bid manager's date, whatever the server's zone
    path = folder / f"digest-{local:%Y-%m-%d}.html"
    if path.exists():
        path = folder / f"digest-{local:%Y-%m-%d-%H%M%S}.html"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        placed = False
        try:
            with database.writing() as session:
                _record_in(session, target, digest, "written", delivered=digest.announcements())
                session.flush()  # the store is held from here to the commit
                write_whole(path, lambda out: out.write(html))
                placed = True
        except BaseException:
            if placed:  # the record did not commit: no file the store does not know of
                path.unlink(missing_ok=True)
            raise
    except OSError as exc:
        why = exc.strerror or str(exc)
        return path, f"cannot write {path}: {why} (the digest folder must be writable, with free space)"
    return path, None


def _record(
    database: Database,
    target: Target,
    digest: Digest,
    outcome: str,
    *,
    error: str | None = None,
    delivered: list | None = None,
) -> int:
    with database.writing() as session:
        return _record_in(session, target, digest, outcome, error=error, delivered=delivered)


def _record_in(
    session: Session,
    target: Target,
    digest: Digest,
    outcome: str,
    *,
    error: str | None = None,
    delivered: list | None = None,
) -> int:
    return deliveries.record_digest(
        session,
        channel=target.key,
        profile=digest.profile,
        as_of=digest.as_of,
        outcome=outcome,
        counts=digest.recorded_counts,
        error=_stored_error(target, error),
        announcements=delivered or (),
    )


def _stored_error(target: Target, error: str | None) -> str | None:
    """A channel's error as stored: without the channel's secrets, which its URL holds."""
    if not error or not target.url or error == STOPPED_WHILE_SENDING:  # ours: nothing to hide
        return error
    return scrub(error, target.url)


def _told(database: Database, digest_id: int, told: list, *, confirmed: bool) -> None:
    with database.writing() as session:
        deliveries.add_deliveries(session, session.get(DigestRow, digest_id), told, confirmed=confirmed)


def _confirmed(database: Database, digest_id: int, told: list) -> None:
    with database.writing() as session:
        deliveries.confirm_deliveries(session, digest_id, told)


def _withdrawn(database: Database, digest_id: int, told: list) -> None:
    with database.writing() as session:
        deliveries.withdraw_deliveries(session, digest_id, told)


def _settle(database: Database, target: Target, digest_id: int, outcome: str, error: str | None) -> None:
    """The digest's outcome once the channel has answered (it was recorded as unconfirmed before)."""
    with database.writing() as session:
        digest = session.get(DigestRow, digest_id)
        digest.outcome = outcome
        digest.error = _stored_error(target, error)
