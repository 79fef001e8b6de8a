"""How amounts and times read wherever tenderwatch shows them: CLI tables, reasons, digests."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from store.notice import LONDON, Notice, at_midnight, deadline_day


def money(amount: float | None, currency: str | None = "GBP") -> str:
    """£250,000 (£1,500,000.40 with its pence); short, as £1.54m, £1,234m or £2.5bn, only when that is
    the exact amount; "value not stated" when there is none.

    Never rounded: reasons compare values with a profile's limits, and "£1.5m above £1.5m" (for
    £1,540,000) misled.
    """
    if amount is None:
        return "value not stated"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency or "GBP", f"{currency} ")
    for unit, suffix in ((1_000_000_000, "bn"), (1_000_000, "m")):
        if amount >= unit and amount * 100 % unit == 0:
            return f"{symbol}{amount / unit:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{symbol}{amount:,.0f}" if amount == int(amount) else f"{symbol}{amount:,.2f}"


def notice_value(notice: Notice) -> str:
    """A notice's value as a bid manager reads it: "£100,000 to £125,000" where it states a range,
    "£75,000 incl. VAT" where it states only its gross amount (most state the net, shown without a
    word)."""
    shown = money(notice.value_amount, notice.value_currency)
    details = notice.details
    if notice.value_amount is None or details is None:
        return shown
    if details.value_from is not None:
        shown = f"{money(details.value_from, notice.value_currency)} to {shown}"
    return f"{shown} incl. VAT" if details.value_includes_vat else shown


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 page', '2 pages', '1,204 releases'."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def when(moment: datetime | None, style: str = "deadline") -> str:
    if moment is None:
        return "no deadline stated" if style == "deadline" else "never"
    local = moment.astimezone(LONDON)
    if style == "deadline" and at_midnight(moment):  # "Tue 1 Sep 2026 24:00", not "Wed 2 Sep 00:00"
        return f"{deadline_day(moment):%a %-d %b %Y} 24:00"
    formats = {"date": "%A %-d %B %Y", "day": "%a %-d %b %Y"}
    return local.strftime(formats.get(style, "%a %-d %b %Y %H:%M"))


# Capitals kept when a SHOUTING title is sentence-cased: acronyms with a vowel (those without one,
# NHS or CCTV, are kept anyway) that UK public-sector titles use.
# fmt: off
ACRONYMS = frozenset(
    {
        "UK", "GB", "EU", "ICT", "IT", "AI", "API", "ONS", "SEN", "SEND", "MOD", "MOJ", "DFE", "DWP",
        "OPCC", "ITT", "RFI", "RFQ", "RFP", "DPS", "ERP", "CRM", "IOT", "SAAS", "UX", "UI", "EV", "HGV",
        "ICB", "ICS", "FE", "UKRI", "UKHSA", "CIC", "VCSE", "SME", "NHSE", "OHS", "EIA", "BIM", "AV", "PPE",
        "ESG", "COVID",
    }
)
# fmt: on
_VOWELS = frozenset("AEIOUY")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]*")
_SHOUTED_RUN = re.compile(r"\b[A-Z][A-Z'\u2019]+(?:[ ,&/-]+[A-Z][A-Z'\u2019]+){2,}\b")
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\s[-\u2013\u2014]\s+)([a-z])")


def tidy_title(title: str) -> str:
    """A title as the digest shows it: whitespace collapsed; a SHOUTING title (mostly capitals) in
    sentence case, and a shouted run of three or more words within one ("REQUEST FOR INFORMATION
    For Housing") in lower case, keeping acronyms (NHS, UK, ICT) and codes with digits (RM6187).
    Proper nouns in shouted words lose their capitals ("birmingham"): better than shouting."""
    text = " ".join(title.split())
    letters = [char for char in text if char.isalpha()]
    capitals = sum(1 for char in letters if char.isupper())
    if len(letters) >= 12 and capitals >= 0.7 * len(letters):
        lowered = _WORD.sub(_lower_word, text)
        return _SENTENCE_START.sub(lambda found: found.group(1) + found.group(2).upper(), lowered)
    lowered = _SHOUTED_RUN.sub(lambda run: _WORD.sub(_lower_word, run.group(0)), text)
    return lowered[:1].upper() + lowered[1:] if lowered != text else text


def _lower_word(found: re.Match[str]) -> str:
    word = found.group(0)
    if word.upper() in ACRONYMS or (len(word) > 1 and not _VOWELS & set(word.upper())):
        return word
    return word.lower()


def describe_change(change: Any, currency: str | None = "GBP") -> str:
    """One tracked change (a store.models.NoticeChange) in words, as digests, `show` and an
    opportunity's timeline print it."""
    if change.field == "status" and change.new_value == "cancelled":
        return "cancelled"
    label = change.field.removesuffix("_amount")  # title, deadline, value, status
    before = _show(change.field, change.old_value, currency)
    after = _show(change.field, change.new_value, currency)
    return f"{label} changed from {before} to {after}"


def _show(field_name: str, value: str | None, currency: str | None) -> str:
    if value is None:
        return "not stated"
    if field_name == "deadline":
        return when(datetime.fromisoformat(value))
    if field_name == "value_amount":
        return money(float(value), currency)
    return f"'{value}'" if field_name == "title" else value
