"""Sending through apprise, one channel at a time, with its verdict and a reason that is safe to log.

apprise reports failures through its result and its log rather than exceptions; both are read here.
A channel URL carries secrets (passwords, webhook signatures), so any text that could echo it is
scrubbed before it is shown or stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import apprise

from notify.redact import scrub
from notify.render import Message


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str | None = None


def channel_key(url: str) -> str:
    """How a --to URL is named in the delivery log: a digest of it, never the URL (it holds secrets)."""
    return "to:" + hashlib.sha256(url.encode()).hexdigest()[:16]


def check_url(url: str) -> str | None:
    """Why apprise cannot use this URL, or None if it can."""
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
        usable = apprise.Apprise().add(url)
        said = log.getvalue()
    if usable:
        return None
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    reason = scrub(_first_line(said), url)
    return (
        f"apprise cannot use this '{scheme}://' URL{f' ({reason})' if reason else ''}: use mailto://, "
        "mailtos:// or workflows:// (msteams:// connectors are retired); see the README"
    )


def send(url: str, message: Message, *, html: bool) -> Outcome:
    problem = check_url(url)
    if problem:
        return Outcome(False, problem)
    notifier = apprise.Apprise()
    notifier.add(url)
    body_format = apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.MARKDOWN
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
        result = notifier.notify(title=message.title, body=message.body, body_format=body_format)
        captured = log.getvalue()
    if result:
        return Outcome(True)
    reason = _last_line(captured) or f"the service did not accept it ({result.status.name})"
    return Outcome(False, scrub(reason, url))


def _first_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[0] if lines else ""


def _last_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else ""
