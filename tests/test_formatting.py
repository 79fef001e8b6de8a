"""How amounts read wherever tenderwatch shows them (CLI, reasons, digests)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store.notice import LONDON
from tenderwatch.formatting import counted, money, tidy_title, when


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (None, "GBP", "value not stated"),
        (250_000, "GBP", "£250,000"),
        (1_000_000, "GBP", "£1m"),
        (1_150_000, "GBP", "£1.15m"),  # was "£1.1m"
        (1_540_000, "GBP", "£1.54m"),  # was "£1.5m", shown as above a limit of £1.5m
        (1_504_000, "GBP", "£1,504,000"),  # no short form is exact: every pound
        (1_500_000.40, "GBP", "£1,500,000.40"),  # just over a £1.5m limit: says so
        (999.5, "GBP", "£999.50"),
        (2_500_000_000, "GBP", "£2.5bn"),
        (2_688_000_000, "GBP", "£2,688m"),
        (1_540_000, "EUR", "€1.54m"),
        (5_000_000, "CHF", "CHF 5m"),
    ],
)
def test_amounts_are_short_only_when_exact(amount, currency, shown):
    assert money(amount, currency) == shown


def test_counts_agree_with_their_nouns():
    assert [counted(n, "page") for n in (0, 1, 2, 1204)] == ["0 pages", "1 page", "2 pages", "1,204 pages"]
    assert counted(1, "CPV rule") == "1 CPV rule" and counted(3, "match", "matches") == "3 matches"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "REQUEST FOR INFORMATION  For   Housing Market Needs Assessment",
            "Request for information For Housing Market Needs Assessment",
        ),
        ("REQUEST FOR INFORMATION  For   Housing", "Request for information for housing"),
        ("NHS ICT SUPPORT SERVICES - LOT 2 (RM6187)", "NHS ICT support services - Lot 2 (RM6187)"),
        ("EVALUATION OF THE UK SHARED PROSPERITY FUND", "Evaluation of the UK shared prosperity fund"),
        ("Supply of CCTV AND ALARM SYSTEMS", "Supply of CCTV and alarm systems"),
        ("Independent review - evaluation of a pilot", "Independent review - evaluation of a pilot"),
        ("HCC- Oct/25 - The Provision", "HCC- Oct/25 - The Provision"),  # not shouting: as published
    ],
)
def test_titles_are_tidied_for_display_keeping_acronyms(raw, shown):
    assert tidy_title(raw) == shown


@pytest.mark.parametrize(
    ("moment", "style", "shown"),
    [
        (datetime(2026, 9, 4, 17, 0, tzinfo=LONDON), "deadline", "Fri 4 Sep 2026 17:00"),
        # Midnight is the end of the day before: buyers write it for "by the end of Friday".
        (datetime(2026, 9, 5, 0, 0, tzinfo=LONDON), "deadline", "Fri 4 Sep 2026 24:00"),
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), "deadline", "Mon 30 Nov 2026 24:00"),  # GMT: UTC is UK time
        (datetime(2026, 9, 1, 0, 0, tzinfo=UTC), "deadline", "Tue 1 Sep 2026 01:00"),  # 01:00 BST
        (datetime(2026, 9, 5, 0, 0, 30, tzinfo=LONDON), "deadline", "Sat 5 Sep 2026 00:00"),  # past midnight
        (datetime(2026, 9, 5, 0, 0, tzinfo=LONDON), "day", "Sat 5 Sep 2026"),  # a day, not a deadline
        (datetime(2026, 9, 5, 0, 0, tzinfo=LONDON), "time", "Sat 5 Sep 2026 00:00"),
    ],
)
def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before(moment, style, shown):
    assert when(moment, style) == shown
