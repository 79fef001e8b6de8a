"""Timing, for the digest: is there still time to respond? Never part of a notice's score or band.

Fit is what scoring measures and it is the same whatever day it is computed; whether a notice can
still be answered depends on today, so the digest asks here, with `now`, and records the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.notice import LONDON, Notice, deadline_day


@dataclass(frozen=True)
class Timing:
    """Whether a response fits before the deadline, and why (None when there is nothing to say)."""

    in_time: bool
    reason: str | None
    days_left: int | None = None


def response_window(notice: Notice, min_days: int, now: datetime) -> Timing:
    """At least `min_days` days before the deadline? Notices without a deadline are in time.

    Days are UK calendar days, as a bid team counts them: a deadline at noon tomorrow is 1 day away
    however late it is today, and one later today is 0 ("closes today"); one at midnight closes at
    the end of the day before (`deadline_day`).
    """
    if notice.deadline is None:
        return Timing(True, None)
    last_day = deadline_day(notice.deadline)
    days = (last_day - now.astimezone(LONDON).date()).days
    if notice.deadline <= now:  # days left below 0, even for a deadline earlier today
        return Timing(False, f"closed on {last_day:%Y-%m-%d}", min(days, -1))
    if days < min_days:
        return Timing(False, f"{closes_in(days)}; minimum {min_days}", days)
    return Timing(True, closes_in(days), days)


def closes_in(days: int) -> str:
    return "closes today" if days == 0 else "closes tomorrow" if days == 1 else f"closes in {days} days"
