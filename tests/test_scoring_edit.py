"""Applying a suggested rule change to the rules as written (scoring.edit), comments and all."""

from __future__ import annotations

from scoring.edit import apply_suggestion
from scoring.profile import load_profile_text
from tenderwatch.config import EXAMPLE_PROFILE

EXAMPLE = EXAMPLE_PROFILE.read_text()
EVALUATION = "service_lines > Evaluation, research and economic analysis > keywords"


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    return [
        (old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=False) if old != new
    ]


def test_a_new_keyword_is_added_as_the_last_of_its_mapping_at_its_indentation():
    after = apply_suggestion(EXAMPLE, "adjustments > keywords", '"hedge trimming": -10')
    assert after is not None and len(after.splitlines()) == len(EXAMPLE.splitlines()) + 1
    profile = load_profile_text(after, "example", "draft")
    assert profile.adjustments.keywords[-1].term.text == "hedge trimming"
    assert profile.adjustments.keywords[-1].points == -10
    assert [line for line in after.splitlines() if "hedge" in line] == ['    "hedge trimming": -10']


def test_a_keywords_weight_is_changed_where_it_is_written_and_a_quoted_key_is_another_key():
    after = apply_suggestion(EXAMPLE, EVALUATION, '"evaluation": 30')
    assert changed_lines(EXAMPLE, after) == [('      "evaluation": 10', '      "evaluation": 30')]
    after = apply_suggestion(EXAMPLE, EVALUATION, "theory of change: 8")
    assert changed_lines(EXAMPLE, after) == [("      theory of change: 15", "      theory of change: 8")]
    assert "#" in after and after.count("\n#") == EXAMPLE.count("\n#")  # the comments stay


def test_band_thresholds_change_in_place():
    after = apply_suggestion(EXAMPLE, "scoring > bands", "strong: 45\npossible: 20")
    profile = load_profile_text(after, "example", "draft")
    assert (profile.scale.strong, profile.scale.possible) == (45, 20)
    assert len(changed_lines(EXAMPLE, after)) == 2


def test_an_inline_mapping_is_changed_inside_its_braces():
    rules = "scoring: {bands: {strong: 50}}\nservice_lines:\n  - name: R\n    keywords: {survey: 4}\n"
    after = apply_suggestion(rules, "scoring > bands", "strong: 40\npossible: 20")
    assert after.startswith("scoring: {bands: {strong: 40, possible: 20}}\n")
    after = apply_suggestion(rules, "service_lines > R > keywords", "social research: 10")
    assert after.endswith("    keywords: {survey: 4, social research: 10}\n")
    assert load_profile_text(after, "r", "draft").service_lines[0].keywords[1].points == 10


def test_a_place_that_cannot_be_found_gives_none():
    assert apply_suggestion(EXAMPLE, "service_lines > No such line > keywords", "x: 1") is None
    assert apply_suggestion("not: [valid\n", "scoring > bands", "strong: 40") is None
