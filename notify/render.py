"""Rendering a digest from the templates in notify/templates (a firm may restyle its own copies).

Notice text is untrusted: the HTML template autoescapes it, Teams text is Markdown-escaped and
JSON-escaped (notify.teams), and links are only ever http(s): to the source's own public host, the
bidding documents of a crawled notice, and the configured web app.
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
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError

from notify.digest import SECTION_TITLES, SECTIONS, Digest, Item
from notify.facts import facts
from store.normalise import FORMATS
from store.normalise.ocds import RecordFormat
from store.notice import LONDON, Notice
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import money, notice_value, tidy_title, when

TEMPLATES = Path(__file__).parent / "templates"
SOURCE_NAMES = {
    "find_a_tender": "Find a Tender",
    "contracts_finder": "Contracts Finder",
    "public_contracts_scotland": "Public Contracts Scotland",
    "sell2wales": "Sell2Wales",
    "crown_commercial_service": "Crown Commercial Service",
    "digital_outcomes": "Digital Outcomes",
    "feeds": "RSS and Atom feeds",
}
# What can format, link or mention in a Teams card (<at> tags): escaped. Nothing more, because Teams
# on phones shows a needless backslash as it is ("\(RFI\)"). Text is one line, so nothing starts one.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


@dataclass(frozen=True)
class Message:
    """One message for a channel, and the digest items whose delivery it carries."""

    title: str
    body: str
    items: tuple[Item, ...]
    card: dict[str, Any] | None = None  # a Teams post of our own making (notify.teams), sent as it is


# Long words and addresses wrap wherever they must, so nothing a notice says can widen a message:
# overflow-wrap:anywhere also shrinks a table cell's minimum width (break-word alone does not);
# word-break:break-word is what older WebKit mail clients read.
WRAP_STYLE = "overflow-wrap:anywhere;word-wrap:break-word;word-break:break-word;"


@functools.cache  # compiling the templates takes longer than building a digest; Jinja reloads changed files
def environment(templates_dir: Path | None = None, public_url: str | None = None) -> Environment:
    """The templates' environment; `public_url` is the web app's address ([web] public_url), which
    each item links to when set."""
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
        value=notice_value,
        when=when,
        link=safe_link,
        shown_link=shown_link,
        source_name=lambda source: SOURCE_NAMES.get(source, source),
        days_left=days_left,
        tender_expected=tender_expected,
        planned_close=planned_close,
        capfirst=lambda text: text[:1].upper() + text[1:],  # Jinja's capitalize lowercases the rest
        tidy=tidy_title,
        facts=lambda item, digest: facts(
            item.notice, min_response_days=digest.min_response_days, as_of=digest.as_of, public_url=public_url
        ),
    )
    env.globals.update(section_titles=SECTION_TITLES, wrap=WRAP_STYLE, public_url=public_url)
    return env


def render_html(digest: Digest, env: Environment) -> str:
    with template_errors():
        return env.get_template("digest.html.j2").render(**_context(digest))


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
    """The link as a reader sees it (host and path, no scheme); the digest shows the whole link, so the
    plain-text part's links can be followed. Kept for a firm's own template copies."""
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
