"""Timing, for the digest: whether a response still fits before the deadline, and the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scoring import response_window, score_notice
from store.notice import LONDON
from tests.scoring.helpers import example, notice

NOW = datetime(2026, 8, 12, 7, 30, tzinfo=UTC)  # 08:30 in the UK (BST)


def uk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("deadline", "in_time", "reason", "days"),
    [
        (None, True, None, None),
        (uk("2026-09-01T11:30"), True, "closes in 20 days", 20),
        (uk("2026-08-19T08:30"), True, "closes in 7 days", 7),
        # UK calendar days, not 24-hour blocks: this is 6 days 23 hours away, on the 7th day.
        (uk("2026-08-19T07:30"), True, "closes in 7 days", 7),
        (uk("2026-08-18T23:59"), False, "closes in 6 days; minimum 7", 6),
        (uk("2026-08-13T00:30"), False, "closes tomorrow; minimum 7", 1),
        (uk("2026-08-12T23:00"), False, "closes today; minimum 7", 0),
        # Midnight tonight is the end of today: "closes today", as the notice means, not "tomorrow".
        (uk("2026-08-13T00:00"), False, "closes today; minimum 7", 0),
        (uk("2026-08-20T00:00"), True, "closes in 7 days", 7),  # the end of the 19th
        (uk("2026-08-12T00:00"), False, "closed on 2026-08-11", -1),  # the end of yesterday
        (uk("2026-08-12T08:00"), False, "closed on 2026-08-12", -1),  # earlier today
        (uk("2026-08-10T12:00"), False, "closed on 2026-08-10", -2),
    ],
)
def test_the_response_window(deadline, in_time, reason, days):
    timing = response_window(notice("Evaluation", deadline=deadline), 7, NOW)
    assert (timing.in_time, timing.reason, timing.days_left) == (in_time, reason, days)


def test_late_in_the_evening_a_deadline_tomorrow_morning_is_a_day_away_not_today():
    late = uk("2026-08-23T23:30")  # a Sunday night
    timing = response_window(notice("Evaluation", deadline=uk("2026-08-24T09:00")), 0, late)
    assert (timing.reason, timing.days_left) == ("closes tomorrow", 1)
    timing = response_window(notice("Evaluation", deadline=uk("2026-08-24T12:00")), 0, uk("2026-08-23T13:00"))
    assert (timing.reason, timing.days_left) == ("closes tomorrow", 1)


def test_days_are_counted_in_uk_dates_across_the_clock_change():
    # 25 October 2026: the clocks go back at 02:00. From 00:30 BST to 23:30 GMT is 24 hours, and
    # the UTC dates differ (the 24th to the 25th), but in the UK it is the same day.
    timing = response_window(notice("Evaluation", deadline=uk("2026-10-25T23:30")), 0, uk("2026-10-25T00:30"))
    assert (timing.reason, timing.days_left) == ("closes today", 0)


def test_timing_never_changes_the_band():
    item = notice("Independent evaluation", deadline=NOW + timedelta(days=2))
    assert not response_window(item, example().min_response_days, NOW).in_time
    assert score_notice(item, example()) == score_notice(notice("Independent evaluation"), example())
