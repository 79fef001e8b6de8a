"""Sending through apprise, one channel at a time, with its verdict and a reason that is safe to log.

apprise reports failures through its result and its log rather than exceptions; both are read here.
A channel URL carries secrets (passwords, webhook signatures), so any text that could echo it is
scrubbed before it is shown or stored.

A mail that fails is told apart by where it failed, from apprise's log (see mail_failure): before
anything was handed over (no connection, no STARTTLS, no login) or refused by the server's reply,
it is safe to send again; anything else (no final reply, a dropped connection mid-transaction) may
have reached the mailbox and is "unconfirmed": not sent again without the operator's say-so.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import tempfile
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import apprise
from apprise.conversion import convert_between
from apprise.plugins.workflows import NotifyWorkflows

from notify.digest import Item
from notify.facts import excerpt
from notify.redact import scrub
from notify.render import Message
from notify.teams import card_json
from tenderwatch.config import ChannelConfig, DigestConfig
from tenderwatch.formatting import tidy_title

# apprise's email plugin (apprise/plugins/email/base.py and smtp.py, 2.x) logs these:
CONNECTION_ERROR = "Connection error while submitting email"  # connecting, STARTTLS or login failed
ACCEPTED = "Sent Email to "  # a recipient's message was accepted
EXCEPTION = "Socket Exception: "  # what smtplib raised, logged at DEBUG
# A server's reply in smtplib's exceptions: (554, b'5.7.1 rejected') or {'to@x': (550, b'...')}.
SMTP_REPLY = re.compile(r"\((\d{3}), b(['\"])(.*?)\2")
# apprise's webhook plugins: "Failed to send Workflows notification: Internal Server Error, error=500."
HTTP_STATUS = re.compile(r"error=(?P<code>\d{3})")
ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")  # "[Errno 111] Connection refused" in requests' errors
# A Markdown message's length, whatever more a service takes (Slack 35,000 characters): longer
# digests are split into several messages of whole items.
MARKDOWN_MAX = 20_000
MARKDOWN_MIN = 500  # a service that takes less (an SMS) gets one item a message, cut by the service
TITLE_ROOM = 30  # " (part 12 of 20)" and the Markdown around a title apprise puts atop the body
TITLE_PROBE = 40  # a title's first letters and digits, enough to tell it is there
# apprise's Workflows plugin: "Could not access Workflow template file:///tmp/.../card.json." (e.g.
# over its 35,000 bytes), "Workflow template file://... contains invalid JSON."
WORKFLOW_TEMPLATE = "Workflow template"
CARD_FILE = re.compile(r"Workflow template file://\S+")
MAX_TEMPLATE = NotifyWorkflows.max_workflows_template_size


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str | None = None
    # Handed over but not acknowledged: the message may have arrived, so it must not be re-sent blindly.
    unconfirmed: bool = False


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


def send(
    url: str,
    message: Message,
    *,
    html: bool,
    smtp_timeout: float = DigestConfig.smtp_timeout_seconds,
) -> Outcome:
    problem = check_url(url)
    if problem:
        return Outcome(False, problem)
    kind = ChannelConfig("", url).kind
    email = kind == "email"
    body_format = apprise.NotifyFormat.HTML if html else apprise.NotifyFormat.MARKDOWN
    body = message.body or message.title  # a card is posted as it is; apprise wants a body
    with tempfile.TemporaryDirectory(prefix="tenderwatch-card-") as folder:
        if email:
            plugin = apprise.Apprise.instantiate(with_smtp_timeout(url, smtp_timeout))
        elif kind == "teams":
            plugin = apprise.Apprise.instantiate(with_card(url, _card_file(message, Path(folder))))
        else:
            plugin = apprise.Apprise.instantiate(url)
        lost = lost_items(message, body, body_format, plugin)
        if lost:
            return Outcome(False, lost_reason(lost, message, plugin, body_format))
        notifier = apprise.Apprise()
        notifier.add(plugin)
        # DEBUG: where a mail failed is said only there (the exception smtplib raised).
        with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelno)d\t%(message)s") as log:
            result = notifier.notify(title=message.title, body=body, body_format=body_format)
            captured = _records(log.getvalue())
    if result:
        return Outcome(True)
    if email:
        return mail_failure(captured, smtp_timeout_of(url, smtp_timeout), url)
    if kind == "teams":
        return Outcome(False, web_failure(captured, url, result.status.name, message.items))
    # Other services: apprise reads tokens where a host would be (discord://ID/TOKEN), so no host.
    warnings = [text for level, text in captured if level >= logging.WARNING]
    reason = warnings[-1] if warnings else f"the service did not accept it ({result.status.name})"
    return Outcome(False, scrub(reason, url))


def lost_items(message: Message, body: str, body_format: apprise.NotifyFormat, plugin: Any) -> list[Item]:
    """The message's items whose titles the service would not be shown, as apprise would convert the
    body for it (or in the card): sent, they would count as delivered and never be sent again."""
    if message.card is not None:
        shown = json.dumps(message.card, ensure_ascii=False)
    else:
        target = plugin.resolve_format(body_format)
        shown = convert_between(body_format, target, body)
        if target == apprise.NotifyFormat.HTML:  # what a reader sees, not the markup
            shown = convert_between(target, apprise.NotifyFormat.TEXT, shown)
    seen = _letters(shown)
    return [item for item in message.items if _title_probe(item) not in seen]


def _title_probe(item: Item) -> str:
    return _letters(tidy_title(item.notice.title))[:TITLE_PROBE]


def lost_reason(lost: list[Item], message: Message, plugin: Any, body_format: apprise.NotifyFormat) -> str:
    first = lost[0].notice
    shown_as = plugin.resolve_format(body_format).value
    return (
        f"not sent: as {plugin.service_name} would get it ({shown_as}), the message shows "
        f"{len(message.items) - len(lost)} of its {len(message.items)} notices' titles (missing "
        f"{first.id}, '{excerpt(tidy_title(first.title), 80)}'), and the rest would count as sent "
        "unseen; a digest template of your own ([digest] templates_dir) must show every title"
    )


def _letters(text: str) -> str:
    """The text's letters and digits only, in one case: the same words whatever the markup or escaping."""
    return "".join(character for character in html.unescape(text).casefold() if character.isalnum())


def reads_html(url: str) -> bool:
    """Whether the service's own format is HTML (apprise's mail services: mailgun://, sendgrid://,
    ses://, o365://...): it gets the digest e-mail as a mailto:// channel does."""
    plugin = apprise.Apprise.instantiate(url)
    own = plugin.notify_format if plugin is not None else None
    own = own[0] if isinstance(own, tuple) else own  # a service that reads several: its first
    return own == apprise.NotifyFormat.HTML


def markdown_limit(url: str, subject: str) -> int:
    """The most characters a Markdown message to this service should hold: its own limit (within
    MARKDOWN_MAX), less the subject where the service puts it atop the body, and half that where
    apprise turns the Markdown into HTML (the tags take room)."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return MARKDOWN_MAX
    limit = min(plugin.body_maxlen, MARKDOWN_MAX) if plugin.body_maxlen > 0 else MARKDOWN_MAX
    if plugin.title_maxlen <= 0:
        limit -= len(subject) + TITLE_ROOM
    if plugin.resolve_format(apprise.NotifyFormat.MARKDOWN) != apprise.NotifyFormat.MARKDOWN:
        limit //= 2
    return max(limit, MARKDOWN_MIN)


def web_failure(log: list[tuple[int, str]], url: str, status: str, items: tuple[Item, ...] = ()) -> str:
    """Why a webhook post (Teams) failed, naming its host and the HTTP status or the network's cause,
    never the URL: its path and query are the workflow's secret signature. Where the post itself was
    refused (by apprise, or by the webhook as a bad request), the notices it carried are named."""
    where = f"the webhook at {webhook_host(url)}"
    warnings = [text for level, text in log if level >= logging.WARNING]
    said = warnings[-1] if warnings else ""
    if answered := HTTP_STATUS.search(said):
        code = int(answered["code"])
        refused = f" carrying {carried(items)}" if 400 <= code < 500 and items else ""
        return f"{where} answered {http_status(code)}: it did not take the post{refused}"
    if WORKFLOW_TEMPLATE in said:  # apprise would not read our card: nothing was posted
        detail = CARD_FILE.sub("the card", said).rstrip(".")
        if "could not access" in said.lower():  # what apprise says of a card over its size limit
            detail += f" (apprise reads at most {MAX_TEMPLATE:,} bytes)"
        return f"apprise did not post the card carrying {carried(items)}: {detail}"
    raw = next((text.split(EXCEPTION, 1)[1] for _, text in reversed(log) if EXCEPTION in text), "")
    if raw:
        return f"could not post to {where}: {network_cause(scrub(raw, url))}"
    detail = scrub(said, url) or f"apprise gave no detail ({status})"
    return f"{where} did not take the post: {detail}"


def carried(items: tuple[Item, ...]) -> str:
    """The notices a post carried, for an error: the first named, by id."""
    first = excerpt(items[0].notice.id, 120) if items else "no notice"
    return first if len(items) <= 1 else f"{len(items)} notices, the first {first}"


def http_status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:  # a code no standard names
        return f"HTTP {code}"


def webhook_host(url: str) -> str:
    """HOST:PORT as apprise posts to it (a Workflows URL's host is Microsoft's, not a secret)."""
    plugin = apprise.Apprise.instantiate(url)
    host = getattr(plugin, "host", None)
    if not host:
        return "its host"
    port = getattr(plugin, "port", None) or (443 if getattr(plugin, "secure", True) else 80)
    return f"{host}:{port}"


def network_cause(exception: str) -> str:
    """The part of a requests exception that says what went wrong, without the URL it quotes."""
    if found := ERRNO.search(exception):
        return found[1].strip()
    lowered = exception.lower()
    if "certificate verify failed" in lowered:
        detail = exception[lowered.index("certificate verify failed") :].split("(_ssl", 1)[0].strip(" '\")")
        return f"its TLS certificate was refused ({detail})"
    if "timed out" in lowered or "timeout" in lowered:
        return "no answer in time (timed out)"
    return exception[:300]


def with_card(url: str, card: Path | None) -> str:
    """The Workflows URL (workflows:// or the https:// one Teams gives out) with apprise's `image=no`
    (else its default card shows an icon fetched from a third-party site) and, for a card of ours,
    `template=` its file: apprise then posts the card as it is instead of one Markdown block."""
    return with_arguments(url, {"image": "no", **({"template": str(card)} if card else {})})


def with_arguments(url: str, arguments: dict[str, str]) -> str:
    """The URL with these query arguments in place of any of the same name it had."""
    base, _, query = url.partition("?")
    given = parse_qsl(query, keep_blank_values=True)
    kept = [(name, value) for name, value in given if name not in arguments]
    return f"{base}?{urlencode([*kept, *arguments.items()])}"


def _card_file(message: Message, folder: Path) -> Path | None:
    if message.card is None:
        return None
    path = folder / "card.json"
    path.write_text(card_json(message.card), encoding="utf-8")
    return path


def with_smtp_timeout(url: str, seconds: float) -> str:
    """The mail URL with apprise's `cto` argument: its email plugin gives smtplib that one timeout for
    connecting and for every reply, the final one after the message included. A `cto` the URL
    already has is the operator's choice and is kept."""
    if "cto" in dict(parse_qsl(urlsplit(url).query)):
        return url
    return f"{url}{'&' if '?' in url else '?'}cto={seconds:g}"


def smtp_timeout_of(url: str, default: float) -> float:
    given = dict(parse_qsl(urlsplit(url).query)).get("cto")
    try:
        return float(given) if given else default
    except ValueError:
        return default


def mail_failure(log: list[tuple[int, str]], timeout: float, url: str) -> Outcome:
    """Why a mail failed, and whether it may have arrived all the same (from apprise's log records).

    Safe to send again only when apprise says so plainly: it failed while connecting, securing or
    logging in (nothing handed over), or the server replied with a refusal. Anything else, including
    wording a later apprise may use, is unconfirmed: a duplicate is not risked on a guess.
    """
    texts = [text for _, text in log]
    raw = next((text.split(EXCEPTION, 1)[1] for text in reversed(texts) if EXCEPTION in text), "")
    detail = scrub(raw, url) or "apprise gave no detail"  # it may echo the server's reply to the login
    reply = SMTP_REPLY.search(raw)
    replied = scrub(f"{reply[1]} {reply[3]}", url) if reply else ""
    if any(text.startswith(ACCEPTED) for text in texts):  # one of several recipients has it
        return Outcome(False, f"the mail server took it for some recipients only ({detail})", True)
    if any(text.startswith(CONNECTION_ERROR) for text in texts):
        return Outcome(False, not_connected(raw.lower(), detail, replied, timeout))
    if replied:
        return Outcome(False, f"the mail server refused the message: {replied}")
    within = f" within {timeout:g} s" if "timed out" in raw else ""
    said = f"the mail server did not confirm the message{within} ({detail}): it may have arrived"
    return Outcome(False, said, unconfirmed=True)


def not_connected(lowered: str, detail: str, replied: str, timeout: float) -> str:
    """What went wrong before a mail was handed over, in words that say what to change."""
    if "connection refused" in lowered:
        return "Connection refused by the mail server: check that it runs at the URL's host and port"
    if "smtp auth extension not supported" in lowered:
        return (
            "the mail server does not offer login (SMTP AUTH) here: remove the user and password from "
            "the URL, or use mailtos:// if it offers login only over TLS"
        )
    if "starttls extension not supported" in lowered:
        return (
            "the mail server does not offer STARTTLS (mailtos://): add ?mode=ssl if it takes TLS from "
            "the start (port 465), or use mailto:// on a network you trust"
        )
    if replied[:3] in ("530", "534", "535", "538"):
        return f"the mail server refused the login ({replied}): check the user and password"
    if "timed out" in lowered:
        return f"no answer from the mail server within {timeout:g} s while connecting"
    return f"could not connect to the mail server ({detail})"


def _records(log: str) -> list[tuple[int, str]]:
    """apprise's captured log as (level, message); a line without a level continues the one before."""
    records: list[tuple[int, str]] = []
    for line in log.splitlines():
        level, tab, text = line.partition("\t")
        if tab and level.isdigit():
            records.append((int(level), text.strip()))
        elif records and line.strip():
            records[-1] = (records[-1][0], f"{records[-1][1]} {line.strip()}")
    return records


def _first_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[0] if lines else ""
