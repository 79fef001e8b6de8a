"""Crown Commercial Service agreements (its public frameworks API): each record is one agreement.

Unverified against the live service: built from the record's documented fields (a CSV dump of the
API that CCS itself published, January 2026: id, title, rm_number, status, summary,
upcoming_deal_summary, description, tenders_open_date, tenders_close_date, expected_live_date,
regulation, lots, ...). The pipeline statuses "Future", "Planned" and "Underway" (each "(Pipeline)")
are early warnings of frameworks to come; "Awarded (Pipeline)" is awarded, soon live, too late to bid
for; a live or expired agreement is a contract already let. Text fields may hold HTML, read as plain
text.
"""

from __future__ import annotations

import re
from typing import Any

from store.normalise.ocds import RecordFormat, Release, as_dicts, as_text, parse_deadline, parse_time
from store.normalise.text import plain
from store.notice import Lot, Notice

NAME = "crown_commercial_service"
PUBLIC_SITE = "https://www.crowncommercial.gov.uk"
BUYER = "Crown Commercial Service"
PIPELINE = "(pipeline)"
AWARDED = "awarded (pipeline)"
RM_NUMBER = re.compile(r"[A-Za-z0-9]{2,20}")


def notice_id(record: Release) -> str:
    """The record's id: it names the agreement from its first appearance in the pipeline, before it
    may have an RM number (a notice named by its RM number would then be a second notice)."""
    return as_text(record.get("id")) or ""


def page_url(rm_number: str | None) -> str | None:
    """The agreement's page on CCS's own site, built from its RM number (letters and digits only)."""
    return f"{PUBLIC_SITE}/agreements/{rm_number}" if rm_number and RM_NUMBER.fullmatch(rm_number) else None


def to_notice(record: Release) -> Notice:
    rm_number = (as_text(record.get("rm_number")) or "").strip() or None
    status = (as_text(record.get("status")) or "").strip()
    # "Awarded (Pipeline)" is in the pipeline only until it goes live: too late to bid for.
    awarded = status.lower() == AWARDED
    upcoming = (status.lower().endswith(PIPELINE) and not awarded) or status.lower() == "upcoming"
    title = plain(record.get("title")) or "(untitled agreement)"
    summary = plain(record.get("upcoming_deal_summary")) if upcoming else None
    regulation = as_text(record.get("regulation"))
    return Notice(
        source=NAME,
        source_id=notice_id(record),
        title=f"{title} ({rm_number})" if rm_number else title,
        url=page_url(rm_number),
        stage="planning" if upcoming else "award" if awarded else "contract",
        status="planned" if upcoming else status.lower() or None,
        description=summary or plain(record.get("summary")) or plain(record.get("description")),
        buyer_name=BUYER,
        # When suppliers can respond: the tender's closing date once it is open, else when it opens.
        deadline=parse_deadline(record.get("tenders_close_date")) if upcoming else None,
        future_notice_date=parse_time(record.get("tenders_open_date")) if upcoming else None,
        regions=("UK",),
        lots=tuple(_lots(record.get("lots"))),
        framework=True,
        procedure=f"{'Upcoming framework' if upcoming else 'Framework'}: {status}"
        + (f" ({regulation})" if regulation else ""),
    )


def _lots(value: Any) -> list[Lot]:
    lots = []
    for index, lot in enumerate(as_dicts(value), 1):
        number = as_text(lot.get("number")) or as_text(lot.get("lot_number")) or str(index)
        lots.append(Lot(id=number, title=plain(lot.get("title")), description=plain(lot.get("description"))))
    return lots


def no_page(notice_id: str) -> None:
    return None  # the page is named by the RM number, not the id: to_notice builds it


FORMAT = RecordFormat(
    name=NAME, notice_id=notice_id, to_notice=to_notice, notice_url=no_page, links_from_data=True
)
