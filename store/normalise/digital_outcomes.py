"""Digital Outcomes (DOS7) opportunities, from the rows of the Contract Award Service's listing.

Unverified against the live service. A row shows the title (linked to its project page), then lines
of text: the buyer, "Procurement route: ...", "Value: ...", the framework and lot ("Digital Outcomes
7, Lot 1: Digital outcomes"), the status, and sometimes "Closing date: ...". Each listed row is an
open call for bids (the listing is filtered to open ones).
"""

from __future__ import annotations

import re
from datetime import datetime

from store.normalise.ocds import RecordFormat, Release, as_text, end_of_day
from store.notice import Notice, stated_amount

NAME = "digital_outcomes"
PUBLIC_SITE = "https://www.contractawardservice.crowncommercial.gov.uk"
# The whole number (never part of it: "£80,000max" is not £8,000), then a unit only as a word of its
# own: the "m" of "£80,000 maximum" or "more or less" is no million.
AMOUNT = re.compile(r"£\s?(\d[\d,]*(?:\.\d+)?)(?!\d|[.,]\d)(?:\s*(k|m|million)(?![a-z]))?", re.IGNORECASE)
MULTIPLIERS = {"k": 1e3, "m": 1e6, "million": 1e6}
LABELLED = re.compile(r"^(procurement route|value|closing date|closes)\s*:\s*(.*)$", re.IGNORECASE)


def notice_id(record: Release) -> str:
    return as_text(record.get("id")) or ""


def notice_url(notice_id: str) -> str | None:
    return f"{PUBLIC_SITE}/digital-outcomes/opportunity-details/project/{notice_id}" if notice_id else None


def to_notice(record: Release) -> Notice:
    lines = [line for line in record.get("lines") or [] if isinstance(line, str) and line]
    labelled = {match.group(1).lower(): match.group(2) for line in lines if (match := LABELLED.match(line))}
    others = [line for line in lines if not LABELLED.match(line)]
    framework_lot = next((line for line in others if "digital outcomes" in line.lower()), None)
    buyer = next((line for line in others if line != framework_lot), None)
    reference = notice_id(record)
    closing = labelled.get("closing date") or labelled.get("closes")
    route = labelled.get("procurement route")
    value = _amount(labelled.get("value"))
    return Notice(
        source=NAME,
        source_id=reference,
        title=as_text(record.get("title")) or "(untitled opportunity)",
        url=notice_url(reference),
        stage="tender",
        is_opportunity=True,
        status="active",
        description=". ".join(part for part in (framework_lot, route) if part) or None,
        buyer_name=buyer,
        deadline=_date(closing),
        value_amount=value,
        value_currency="GBP" if value is not None else None,
        category="services",
        regions=("UK",),
        procedure=route,
    )


def _amount(text: str | None) -> float | None:
    """The largest amount a value line states ("£100,000 to £250,000" -> 250000), or None (also for a
    placeholder)."""
    amounts = [
        float(number.replace(",", "")) * MULTIPLIERS.get((unit or "").lower(), 1)
        for number, unit in AMOUNT.findall(text or "")
    ]
    return stated_amount(max(amounts)) if amounts else None


def _date(text: str | None) -> datetime | None:
    """ "12 December 2026" (the end of that day, UK time), or None when it is not such a date."""
    try:
        day = datetime.strptime(" ".join((text or "").split()[:3]), "%d %B %Y")
    except ValueError:
        return None
    return end_of_day(day)


FORMAT = RecordFormat(name=NAME, notice_id=notice_id, to_notice=to_notice, notice_url=notice_url)
