"""Timing, for the digest: whether a response still fits before the deadline, and the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scoring import response_window, score_notice
from tests.scoring.helpers import example, notice

NOW = datetime(2026, 8, 12, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("deadline", "in_time", "reason", "days"),
    [
        (None, True, None, None),
        (NOW + timedelta(days=20, hours=3), True, "closes in 20 days", 20),
        (NOW + timedelta(days=7), True, "closes in 7 days", 7),
        (NOW + timedelta(days=6, hours=23), False, "closes in 6 days; minimum 7", 6),
        (NOW + timedelta(days=1, hours=2), False, "closes in 1 day; minimum 7", 1),
        (NOW + timedelta(hours=5), False, "closes in less than a day; minimum 7", 0),
        (datetime(2026, 8, 10, 11, tzinfo=UTC), False, "closed on 2026-08-10", -1),
    ],
)
def test_the_response_window(deadline, in_time, reason, days):
    timing = response_window(notice("Evaluation", deadline=deadline), 7, NOW)
    assert (timing.in_time, timing.reason, timing.days_left) == (in_time, reason, days)


def test_timing_never_changes_the_band():
    item = notice("Independent evaluation", deadline=NOW + timedelta(days=2))
    assert not response_window(item, example().min_response_days, NOW).in_time
    assert score_notice(item, example()) == score_notice(notice("Independent evaluation"), example())
