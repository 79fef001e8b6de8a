"""Golden explanations on real notices, reviewed by hand (tests/scoring/golden_explanations.json)."""

from __future__ import annotations

import json

import pytest

from tests.scoring.golden import CHOSEN, GOLDEN, current

EXPECTED = json.loads(GOLDEN.read_text())


def test_the_golden_file_covers_the_chosen_notices():
    assert list(EXPECTED) == list(CHOSEN)


@pytest.mark.parametrize("key", list(CHOSEN))
def test_score_band_line_and_every_reason_match_the_reviewed_explanation(key):
    # If the example profile changed on purpose: python -m tests.scoring.golden, then review the diff.
    assert current()[key] == EXPECTED[key]


def test_the_golden_set_has_every_kind_of_outcome():
    bands = [EXPECTED[key]["band"] for key in CHOSEN]
    assert {"strong", "possible", "none"} <= set(bands)
    gates = {
        reason[1] for item in EXPECTED.values() for reason in item["reasons"] if reason[1].startswith("gate")
    }
    assert gates >= {"gate: kind", "gate: notice type", "gate: region", "gate: buyer"}
