"""Entries of RSS and Atom feeds (spiders/feeds.py): a notice each, as far as the feed allows.

A feed says little: the title, a link, a summary (often HTML), dates, perhaps an author (the buyer
on most portals) and categories. Each entry is taken as an open opportunity (the feeds listed are
the portals' opportunity feeds); nothing in a feed says a deadline, value or CPV code reliably, so
none is guessed. Its link is kept only when it leads to the feed's own site over http(s).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from store.normalise.ocds import RecordFormat, Release, as_text, parse_time
from store.normalise.text import plain
from store.notice import LONDON, Notice

NAME = "feeds"
PLAIN_URL = re.compile(r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+")
ADDRESS = r"[^\s()<>@,;:]+@[^\s()<>@,;:]+"
EMAIL = re.compile(rf"<?{ADDRESS}>?")
EMAIL_WITH_NAME = re.compile(rf"{ADDRESS}\s*\((.*)\)")  # RSS 2.0: "address (name)"


def notice_id(record: Release) -> str:
    return as_text(record.get("id")) or ""


def to_notice(record: Release) -> Notice:
    published = entry_time(record, "published") or entry_time(record, "updated")
    categories = ", ".join(filter(None, (plain(item) for item in record.get("categories") or [])))
    summary = plain(record.get("summary"))
    return Notice(
        source=NAME,
        source_id=notice_id(record),
        title=plain(record.get("title")) or "(untitled entry)",
        url=own_link(record.get("link"), record.get("feed_url")),
        stage="tender",
        is_opportunity=True,
        status="active",
        description="\n".join(part for part in (summary, categories) if part) or None,
        buyer_name=buyer_from_author(plain(record.get("author"))),
        published_at=published,
        updated_at=entry_time(record, "updated") or published,
        procedure=f"from the feed '{as_text(record.get('feed'))}'",
    )


# A zone at the end of a written date: "Z", "+01:00", "+0100", or a name ("GMT", "BST").
_ZONE_AT_END = re.compile(r"(?:[zZ]|[+-]\d\d:?\d\d|\b[A-Za-z]{1,5})$")
_TIME_OF_DAY = re.compile(r"\d:\d\d")


def entry_time(record: Release, name: str) -> datetime | None:
    """An entry's date ("published" or "updated"): feedparser's reading, which takes a time written
    without a zone as UTC and gives nothing for such an RFC 822 date, read again beside the date as
    written. Without a zone it is a UK portal's clock, read as UK time; "BST" (UTC+1), a zone name
    feedparser reads as UTC, is put right. A record stored before the date as written was kept holds
    the date already read so."""
    parsed = parse_time(record.get(name))
    written = record.get(f"{name}_as_written")
    text = written.strip() if isinstance(written, str) else ""
    if _TIME_OF_DAY.search(text) and not _ZONE_AT_END.search(text):
        wall = parsed.replace(tzinfo=None) if parsed else _rfc822_wall_clock(text)
        return wall.replace(tzinfo=LONDON) if wall else None
    if parsed and text.split()[-1:] in (["BST"], ["bst"]):
        return parsed - timedelta(hours=1)
    return parsed


def _rfc822_wall_clock(text: str) -> datetime | None:
    """ "Wed, 03 Jun 2026 09:30:00" (no zone) as a naive datetime; None for anything else."""
    try:
        return parsedate_to_datetime(text).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError):
        return None


def buyer_from_author(author: str | None) -> str | None:
    """The buyer an entry's author names, never an e-mail address: RSS 2.0 writes an author as
    "officer@redacted.invalid (Example Council)", and an officer's address is personal data. Nor the
    name of the person whose own address it is ("jane.smith@... (Jane Smith)"): an officer, not the
    buyer, and personal data too."""
    if not author:
        return None
    named = EMAIL_WITH_NAME.fullmatch(author.strip())
    name = " ".join((named[1] if named else EMAIL.sub("", author)).split())
    address = EMAIL.search(author)
    if address and _a_persons_own_address(name, address[0]):
        return None
    return name or None


def _a_persons_own_address(name: str, address: str) -> bool:
    """Whether the address is made of the name as people's addresses are: jane.smith, j.smith,
    jsmith, smith.jane or smithj for Jane Smith (never "tenders@..." for Example Council)."""
    words = re.findall(r"[a-z]+", name.lower())
    if not 2 <= len(words) <= 4:
        return False
    first, last = words[0], words[-1]
    mailbox = re.sub(r"[^a-z]", "", address.strip("<>").split("@")[0].lower())
    return mailbox in {first + last, first[0] + last, last + first, last + first[0]}


def own_link(link: Any, feed_url: Any) -> str | None:
    """The entry's link if it is a plain http(s) URL on the feed's own host, else None: a digest links
    to it, so it may hold nothing that could end it early in Markdown or HTML (spaces, brackets,
    quotes, angle brackets), which could smuggle in a link to another host. A relative link
    ("/opportunities/view/12", as many portals write) is read against the feed's URL."""
    if not isinstance(link, str) or not isinstance(feed_url, str) or not PLAIN_URL.fullmatch(link.strip()):
        return None
    absolute = urljoin(feed_url, link.strip())
    target, home = urlsplit(absolute), urlsplit(feed_url)
    if target.scheme not in ("http", "https") or not target.hostname:
        return None
    return absolute if target.hostname == home.hostname else None


FORMAT = RecordFormat(
    name=NAME,
    notice_id=notice_id,
    to_notice=to_notice,
    notice_url=lambda notice_id: None,
    links_from_data=True,
)
