"""Text as sources write it, read as plain text; markup and mojibake repaired."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

from bs4 import BeautifulSoup

from store.normalise.ocds import as_text
from store.notice import Details, Lot, Notice

BLOCKS = ["p", "li", "br", "div", "h1", "h2", "h3", "h4", "tr"]  # each ends a line
# Mojibake is UTF-8 read as Windows-1252 or Latin-1 ("Â£" for "£", "â€¢" for "•"): a character a
# UTF-8 lead byte reads as (Â..ô) before one a continuation byte reads as. ftfy on every text made
# storing a release about half as slow again (bench/bench_ingest.py), nearly all of it spent on text
# that was fine, so it sees only text showing that pattern; its own judgement then decides.
MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# HTML where plain text belongs: Find a Tender writes line breaks in descriptions as "<br/>", Contracts
# Finder some titles' apostrophes as "&apos;"; the digest escapes text, so either showed as written.
# Only text holding a common HTML tag is read as HTML: "<5 years" or "costs < £1m" stays as it is.
MARKUP_HINT = re.compile(
    r"</?(?:p|br|li|ul|ol|div|span|strong|b|i|em|u|h[1-6]|table|tbody|tr|td|th)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
ENTITY_HINT = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
NOTICE_TEXT = ("title", "description", "buyer_name", "procedure")
LOT_TEXT = ("title", "description")
DETAILS_TEXT = ("extensions", "submission")


def plain(value: Any) -> str | None:
    """Text that may hold HTML, as plain text on tidy lines (a paragraph or list item each, so the
    first sentence stays apart from the rest); None when there is none."""
    text = as_text(value)
    if not text:
        return None
    if "<" in text:
        soup = BeautifulSoup(text, "html.parser")
        for block in soup.find_all(BLOCKS):
            block.insert_after("\n")
        for cell in soup.find_all(["td", "th"]):
            cell.insert_after(" ")
        text = soup.get_text()
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line) or None


def unmarked(text: str | None) -> str | None:
    """The text with HTML markup read as plain text ("Solihull.<br/><br/>The" on two lines) and
    character references decoded ("St Bede&apos;s" -> "St Bede's"); any other text as it is."""
    if not text or ("<" not in text and "&" not in text):
        return text
    if MARKUP_HINT.search(text):
        return plain(text)  # tags as lines, references decoded
    return html.unescape(text) if ENTITY_HINT.search(text) else text


def repaired(text: str | None) -> str | None:
    """The text with mojibake undone ("Â£95,000" -> "£95,000"); any other text as it is."""
    if not text or text.isascii() or not MOJIBAKE_HINT.search(text):  # isascii() is instant
        return text
    import ftfy  # 50 ms to import: only a process that meets mojibake pays for it

    return ftfy.fix_encoding(text)


def with_repaired_text(notice: Notice) -> Notice:
    """The notice with markup read as text and mojibake undone in its text and its lots' (the release
    stays as received)."""
    changes: dict[str, Any] = _repaired_fields(notice, NOTICE_TEXT)
    lots = tuple(_repaired_lot(lot) for lot in notice.lots)
    if lots != notice.lots:
        changes["lots"] = lots
    if notice.details:
        details = _repaired_fields(notice.details, DETAILS_TEXT)
        if details:
            changes["details"] = replace(notice.details, **details)
    return replace(notice, **changes) if changes else notice


def _repaired_lot(lot: Lot) -> Lot:
    changes = _repaired_fields(lot, LOT_TEXT)
    return replace(lot, **changes) if changes else lot


def _repaired_fields(item: Notice | Lot | Details, names: tuple[str, ...]) -> dict[str, str | None]:
    changes = {}
    for name in names:
        text = getattr(item, name)
        fixed = repaired(unmarked(text))
        if fixed != text:
            changes[name] = fixed
    return changes
