"""The example profile on the labelled development set (tests/support/labels.py, docs/scoring.md).

These figures are in-sample: the profile's vocabulary and thresholds were tuned while reading these
notices (fold A, then fold B). The floors guard against regressions; the honest, cross-validated
figures are in docs/scoring.md, and the real measure is a labelled set kept outside the project.
"""

from __future__ import annotations

from collections import Counter

import pytest

from scoring import score_notice
from tests.scoring.helpers import example
from tests.support.labels import fold, grades, keys_of, measure, notices


@pytest.fixture(scope="module")
def bands() -> dict[str, str]:
    return {key: score_notice(notice, example()).band for key, notice in notices().items()}


def test_every_graded_notice_is_here_and_the_folds_are_stratified():
    assert len(notices()) == len(grades()) == 837
    assert Counter(grades().values()) == {0: 797, 1: 22, 2: 18}
    for grade in (0, 1, 2):
        split = Counter(fold(key) for key, found in grades().items() if found == grade)
        assert abs(split["A"] - split["B"]) <= 1


def test_the_example_profile_finds_the_must_see_notices_of_both_folds(bands):
    for name in ("A", "B"):
        found = measure(bands, keys_of(name))
        assert found.must_see_found >= found.must_see - 1, (name, str(found))


def test_the_example_profile_meets_its_floors_on_the_whole_set(bands):
    found = measure(bands, grades())
    assert found.recall >= 0.94, str(found)
    assert found.precision >= 0.6, str(found)
    assert found.strong_precision >= 0.85, str(found)
