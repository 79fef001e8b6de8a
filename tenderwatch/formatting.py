"""How amounts and times read wherever tenderwatch shows them: CLI tables, reasons, digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.notice import LONDON


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


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 page', '2 pages', '1,204 releases'."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def when(moment: datetime | None, style: str = "deadline") -> str:
    if moment is None:
        return "no deadline stated" if style == "deadline" else "never"
    local = moment.astimezone(LONDON)
    formats = {"date": "%A %-d %B %Y", "day": "%a %-d %b %Y"}
    return local.strftime(formats.get(style, "%a %-d %b %Y %H:%M"))


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
