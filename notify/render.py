"""Rendering a digest from the templates in notify/templates (a firm may restyle its own copies).

Notice text is untrusted: the HTML template autoescapes it, Teams text is Markdown-escaped (and
JSON-escaped by apprise), and links are only ever http(s) to the source's own public host.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError

from notify.digest import SECTION_TITLES, SECTIONS, Digest, Item
from store.normalise import FORMATS
from store.normalise.ocds import RecordFormat
from store.notice import LONDON, Notice
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import money, when

TEMPLATES = Path(__file__).parent / "templates"
SOURCE_NAMES = {
    "find_a_tender": "Find a Tender",
    "contracts_finder": "Contracts Finder",
    "public_contracts_scotland": "Public Contracts Scotland",
    "sell2wales": "Sell2Wales",
}
# What can format, link or mention in a Teams card (<at> tags): escaped. Nothing more, because Teams
# on phones shows a needless backslash as it is ("\(RFI\)"). Text is one line, so nothing starts one.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")
# Well inside Teams' ~28 KB message limit once apprise wraps the text in an Adaptive Card.
TEAMS_MAX_BODY = 18_000


@dataclass(frozen=True)
class Message:
    """One message for a channel, and the digest items whose delivery it carries."""

    title: str
    body: str
    items: tuple[Item, ...]


@functools.cache  # compiling the templates takes longer than building a digest; Jinja reloads changed files
def environment(templates_dir: Path | None = None) -> Environment:
    search = [str(templates_dir)] if templates_dir else []
    env = Environment(
        loader=FileSystemLoader([*search, str(TEMPLATES)]),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        money=money,
        when=when,
        md=markdown_escape,
        link=safe_link,
        shown_link=shown_link,
        source_name=lambda source: SOURCE_NAMES.get(source, source),
        days_left=days_left,
        tender_expected=tender_expected,
        planned_close=planned_close,
        capfirst=lambda text: text[:1].upper() + text[1:],  # Jinja's capitalize lowercases the rest
    )
    env.globals.update(section_titles=SECTION_TITLES)
    return env


def render_html(digest: Digest, env: Environment) -> str:
    with template_errors():
        return env.get_template("digest.html.j2").render(**_context(digest))


def teams_messages(digest: Digest, env: Environment, items_per_post: int) -> list[Message]:
    """The digest as Teams posts of whole items: split, never truncated mid-item."""
    chunks = _chunks(digest, items_per_post)
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        part = f" (part {number} of {len(chunks)})" if len(chunks) > 1 else ""
        with template_errors():
            body = env.get_template("teams.md.j2").render(
                digest=digest, sections=chunk, first=number == 1, last=number == len(chunks)
            )
        items = tuple(item for section in chunk.values() for item in section)
        if len(body) > TEAMS_MAX_BODY and len(items) > 1:
            return teams_messages(digest, env, max(1, items_per_post // 2))
        messages.append(Message(digest.subject + part, body, items))
    return messages


@contextmanager
def template_errors() -> Iterator[None]:
    """A firm's own template that fails: one line naming its file and line, not a traceback."""
    try:
        yield
    except TemplateError as exc:
        if isinstance(exc, TemplateSyntaxError) and exc.filename:
            where = f"{exc.filename}:{exc.lineno}"
        else:  # a render error: Jinja puts the template's own line in the traceback
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "a digest template"
        problem = (exc.message or "cannot render").rstrip(".")
        raise ConfigError(f"{where}: {problem}; fix the template ([digest] templates_dir)") from None


def _chunks(digest: Digest, items_per_post: int) -> list[dict[str, list[Item]]]:
    chunks: list[dict[str, list[Item]]] = [{}]
    count = 0
    for section in SECTIONS:
        for item in digest.sections[section]:
            if count == items_per_post:
                chunks.append({})
                count = 0
            chunks[-1].setdefault(section, []).append(item)
            count += 1
    return chunks


def _context(digest: Digest) -> dict:
    return {"digest": digest, "sections": {s: digest.sections[s] for s in SECTIONS if digest.sections[s]}}


def safe_link(notice: Notice) -> str | None:
    """The notice's page on its source's own site, built from its id; None for other sources.

    The stored `url` is used only for a crawled feed entry, whose normaliser kept it only when it
    leads to the feed's own site: an imported notice could point anywhere.
    """
    fmt = FORMATS.get(notice.source)
    if fmt is None:
        return None
    if isinstance(fmt, RecordFormat) and fmt.links_from_data:
        own = notice.origin == "crawl" and (notice.url or "").startswith(("http://", "https://"))
        return notice.url if own else None
    return fmt.notice_url(quote(notice.source_id, safe="-"))


def shown_link(notice: Notice) -> str:
    """The link as a reader sees it (host and path), so plain text and wary readers know where it goes."""
    link = safe_link(notice)
    if not link:
        return ""
    parts = urlsplit(link)
    return f"{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def tender_expected(notice: Notice, as_of: datetime) -> str | None:
    """When a pipeline notice's tender is expected (its futureNoticeDate, the buyer's estimate), as
    "expected by Tue 25 Aug 2026", or "was expected by ..." once that day has passed; else None."""
    expected = notice.future_notice_date if notice.stage == "planning" else None
    if expected is None:
        return None
    passed = expected.astimezone(LONDON).date() < as_of.astimezone(LONDON).date()
    return f"{'was expected' if passed else 'expected'} by {when(expected, 'day')}"


def planned_close(notice: Notice, as_of: datetime) -> str | None:
    """A pipeline notice's deadline, which is the buyer's plan for its tender rather than a date to
    respond by: "expected to close Wed 30 Sep 2026 12:00", or "was expected to close ..." once passed."""
    if notice.stage != "planning" or notice.deadline is None:
        return None
    return f"{'was expected' if notice.deadline < as_of else 'expected'} to close {when(notice.deadline)}"


def days_left(days: int) -> str:
    """The days left beside a deadline, in UK calendar days (scoring.timing)."""
    if days < 0:
        return "closed"
    return "today" if days == 0 else "tomorrow" if days == 1 else f"{days} days left"


def markdown_escape(text: object) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text or "").split()))
