"""How amounts and times read wherever tenderwatch shows them: CLI tables, reasons, digests."""

from __future__ import annotations

from datetime import datetime

from store.notice import LONDON


def money(amount: float | None, currency: str | None = "GBP") -> str:
    """£250,000; £1.2m from a million up; "value not stated" when there is none."""
    if amount is None:
        return "value not stated"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency or "GBP", f"{currency} ")
    if amount >= 1_000_000:
        return f"{symbol}{amount / 1_000_000:,.1f}m".replace(".0m", "m")
    return f"{symbol}{amount:,.0f}"


def when(moment: datetime | None, style: str = "deadline") -> str:
    if moment is None:
        return "no deadline stated" if style == "deadline" else "never"
    local = moment.astimezone(LONDON)
    return f"{local:%a %-d %b %Y %H:%M}" if style != "date" else f"{local:%A %-d %B %Y}"
