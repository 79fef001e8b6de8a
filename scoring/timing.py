"""Timing, for the digest: is there still time to respond? Never part of a notice's score or band.

Fit is what scoring measures and it is the same whatever day it is computed; whether a notice can
still be answered depends on today, so the digest asks here, with `now`, and records the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from store.notice import LONDON, Notice

_DAY = 86400


@dataclass(frozen=True)
class Timing:
    """Whether a response fits before the deadline, and why (None when there is nothing to say)."""

    in_time: bool
    reason: str | None
    days_left: int | None = None


def response_window(notice: Notice, min_days: int, now: datetime) -> Timing:
    """At least `min_days` whole days before the deadline? Notices without a deadline are in time."""
    if notice.deadline is None:
        return Timing(True, None)
    seconds = (notice.deadline - now).total_seconds()
    if seconds <= 0:
        return Timing(
            False, f"closed on {notice.deadline.astimezone(LONDON):%Y-%m-%d}", math.ceil(seconds / _DAY)
        )
    days = math.floor(seconds / _DAY)
    if days < min_days:
        return Timing(False, f"closes in {_days(days)}; minimum {min_days}", days)
    return Timing(True, f"closes in {_days(days)}", days)


def _days(days: int) -> str:
    return "less than a day" if days == 0 else "1 day" if days == 1 else f"{days} days"
