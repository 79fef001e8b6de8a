"""How values read on the page: the digest's own filters (money, deadlines, links), and a few more."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Flask

from notify.render import SOURCE_NAMES, days_left, safe_link, shown_link
from scoring.report import wilson_interval
from scoring.timing import response_window
from store.models import utcnow
from store.notice import LONDON, Notice
from tenderwatch.formatting import describe_change, money, notice_value, tidy_title, when


def notice_path(key: str) -> str:
    """A notice's id in a URL: percent-encoded except ':' (find_a_tender:076396-2026), as the digest
    e-mail's links write it."""
    return quote(key, safe=":")


def days_left_of(notice: Notice, now: datetime | None = None) -> str:
    """'3 days left', 'tomorrow', 'closed' or '' (no deadline), in UK calendar days."""
    if notice.deadline is None:
        return ""
    timing = response_window(notice, 0, now or utcnow())
    return days_left(timing.days_left) if timing.days_left is not None else ""


def local(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(LONDON):%a %-d %b %Y %H:%M}"


def install(app: Flask) -> None:
    app.jinja_env.globals["describe_change"] = describe_change
    app.jinja_env.filters.update(
        money=money,
        value=notice_value,
        tidy=tidy_title,  # titles as the digest shows them: whitespace collapsed, no shouting
        when=when,
        local=local,
        link=safe_link,
        shown_link=shown_link,
        source_name=lambda source: SOURCE_NAMES.get(source, source),
        days_left=days_left_of,
        notice_path=notice_path,
        points=lambda points: f"{points:+g}",
        percent=lambda ratio: "-" if ratio is None else f"{ratio:.0%}",
        interval=lambda hits, total: wilson_interval(hits, total) if total else "",
    )
