"""How amounts read wherever tenderwatch shows them (CLI, reasons, digests)."""

from __future__ import annotations

import pytest

from tenderwatch.formatting import counted, money, tidy_title


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
