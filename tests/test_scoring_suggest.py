"""`rules suggest`: rule changes the team's feedback supports, on a small labelled store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from scoring import load_profile, score_notice
from scoring.report import suggestion_lines
from scoring.suggest import Judged, add_history, suggest
from store.ingest import save_notices
from store.scores import add_feedback
from tenderwatch.cli import cli
from tests.scoring.helpers import notice, write

RULES = """
name: firm
scoring: {bands: {strong: 40, possible: 20}}
service_lines:
  - name: Research
    keywords: {evaluation: 10, survey: 4}
  - name: Training
    keywords: {training programme: 10}
"""
NOW = datetime(2026, 8, 12, 6, tzinfo=UTC)
# (title, label): relevant social research the rules miss, research that is not the firm's, and
# evaluations of asbestos the rules wrongly hold.
JUDGED = [
    ("Social research on loneliness among older residents", "relevant"),
    ("Social research into youth services", "relevant"),
    ("Social research panel for the county", "relevant"),
    ("Evaluation of the youth offer", "relevant"),
    ("Clinical research trial of a new medicine", "not-relevant"),
    ("Research vessel hire for the summer", "not-relevant"),
    ("Laboratory research equipment", "not-relevant"),
    ("Evaluation of asbestos surveys in schools", "not-relevant"),
    ("Asbestos removal evaluation", "not-relevant"),
    ("Asbestos management evaluation", "not-relevant"),
    ("Grounds maintenance", "not-relevant"),
]
UNJUDGED = [("Social research on transport", None), ("Asbestos evaluation for depots", None)]


def labelled_notices():
    return [
        (notice(title, source_id=f"{number:06d}-2026", description=f"{title}."), label)
        for number, (title, label) in enumerate(JUDGED + UNJUDGED, 1)
    ]


@pytest.fixture
def rules(tmp_path):
    return load_profile(write(tmp_path, RULES))


def judged_items(rules):
    return [Judged(found, label, score_notice(found, rules)) for found, label in labelled_notices() if label]


def test_a_keyword_that_helps_is_proposed_with_its_effect_and_the_line_to_paste(rules):
    suggestions = suggest(rules, judged_items(rules))
    keyword = next(item for item in suggestions if item.yaml.startswith("social research:"))
    assert keyword.where == "service_lines > Research > keywords"
    assert keyword.summary.startswith('add "social research: ')
    assert keyword.before.agreement.recall == 0.25 and keyword.after.agreement.recall == 1.0
    assert keyword.after.agreement.precision > keyword.before.agreement.precision
    assert {change.key for change in keyword.moved} == {f"find_a_tender:00000{n}-2026" for n in (1, 2, 3)}
    changed = keyword.profile.service_lines[0].keywords[-1]
    assert (str(changed.term), f"{changed.term}: {changed.points:g}") == ("social research", keyword.yaml)


def test_a_negative_keyword_that_helps_is_proposed(rules):
    suggestions = suggest(rules, judged_items(rules))
    negative = next(item for item in suggestions if item.yaml.startswith("asbestos:"))
    assert negative.where == "adjustments > keywords"
    assert {change.key for change in negative.moved} == {f"find_a_tender:00000{n}-2026" for n in (8, 9)} | {
        "find_a_tender:000010-2026"
    }
    assert all(change.after.band == "none" for change in negative.moved)
    assert negative.after.agreement.precision == 1.0


def test_changes_that_would_hurt_are_not_proposed(rules):
    proposed = [item.yaml.split(":")[0] for item in suggest(rules, judged_items(rules), limit=100)]
    assert "research" not in proposed  # lifts three relevant notices and three that are not
    assert "youth" not in proposed and "evaluation" not in proposed  # relevant notices hold them
    assert "clinical research" not in proposed  # names no relevant notice's work
    assert all(item.helps for item in suggest(rules, judged_items(rules), limit=100))


def test_suggestions_are_best_first_and_say_what_they_move_on_history(rules):
    suggestions = suggest(rules, judged_items(rules))
    gains = [item.gain for item in suggestions]
    assert gains == sorted(gains, reverse=True)
    history = [(found, score_notice(found, rules)) for found, _ in labelled_notices()]
    add_history(suggestions, history)
    keyword = next(item for item in suggestions if item.yaml.startswith("social research:"))
    assert "find_a_tender:000012-2026" in {change.key for change in keyword.history_added}  # not judged
    negative = next(item for item in suggestions if item.yaml.startswith("asbestos:"))
    assert "find_a_tender:000013-2026" in {change.key for change in negative.history_dropped}


def test_without_relevant_feedback_there_is_nothing_to_suggest(rules):
    assert suggest(rules, [item for item in judged_items(rules) if item.label != "relevant"]) == []


def test_rules_suggest_on_a_labelled_store(env, database, tmp_path, monkeypatch):
    path = write(tmp_path, RULES, "firm.yaml")
    config = write(
        tmp_path, f'[scoring]\ndefault_profile = "firm"\n[scoring.profiles]\nfirm = "{path}"\n', "t.toml"
    )
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(config))
    with database.writing() as session:
        save_notices(session, [found for found, _ in labelled_notices()], now=NOW)
        for found, label in labelled_notices():
            if label:
                add_feedback(session, found.id, label, now=NOW)
    result = CliRunner().invoke(cli, ["rules", "suggest"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "From 11 judged notices (4 relevant), profile firm."
    assert "what each moves is counted over 13 stored notices:" in lines[1]
    first = lines.index(next(line for line in lines if line.startswith("1. ")))
    assert lines[first].startswith('1. Add "social research: ') or lines[first].startswith(
        "1. Add the negative"
    )
    assert "   paste under service_lines > Research > keywords:" in lines
    assert any(line.strip().startswith("social research: ") for line in lines)
    assert "     none -> strong  find_a_tender:000012-2026  Social research on transport" in lines
    assert any("(relevant)" in line for line in lines)


def test_rules_suggest_without_feedback_says_how_to_give_it(env, database):
    result = CliRunner().invoke(cli, ["rules", "suggest"])
    assert result.exit_code == 0
    assert "No notice judged relevant yet" in result.output


def test_a_threshold_is_never_said_to_lift_a_notice_no_keyword_matched(tmp_path):
    rules = load_profile(
        write(
            tmp_path,
            """
            scoring: {bands: {strong: 40, possible: 20}}
            service_lines:
              - name: Research
                keywords: {evaluation: 10}
                cpv: {'79419': 10}
            """,
        )
    )
    items = [
        (notice("Untitled requirement", source_id="000001-2026", cpv=("79419000",)), "relevant"),
        (notice("Evaluation of services", source_id="000002-2026"), "relevant"),
        (notice("Evaluation of pumps", source_id="000003-2026"), "not-relevant"),
    ]
    judged = [Judged(found, label, score_notice(found, rules)) for found, label in items]
    assert judged[0].live.score == 10 and judged[0].live.band == "none"  # CPV codes alone
    for suggestion in suggest(rules, judged, limit=None):
        assert "find_a_tender:000001-2026" not in {change.key for change in suggestion.moved}
        assert score_notice(items[0][0], suggestion.profile).band == "none"


LEARNING_RULES = """
scoring: {bands: {strong: 40, possible: 20}}
learned: {words: words.tsv, promote_from: PROMOTE, promote_at: 0.8}
service_lines:
  - name: Research
    keywords: {evaluation: 10, survey: 6, review: 8}
"""


def learning_rules(tmp_path, promote_from: int):
    (tmp_path / "words.tsv").write_text("bias\t\t-2\ntitle\tsocial\t6\n")  # "social" in a title is liked
    return load_profile(write(tmp_path, LEARNING_RULES.replace("PROMOTE", str(promote_from))))


def judged_titles(rules, titles: list[tuple[str, str]]) -> list[Judged]:
    found = [
        notice(title, source_id=f"{n:06d}-2026", description=f"{title}.")
        for n, (title, _) in enumerate(titles, 1)
    ]
    return [
        Judged(item, label, score_notice(item, rules)) for item, (_, label) in zip(found, titles, strict=True)
    ]


def test_a_threshold_suggestion_says_what_scoring_again_does_with_the_learned_words(tmp_path):
    rules = learning_rules(tmp_path, promote_from=10)
    judged = judged_titles(
        rules,
        [
            ("Social survey of residents", "not-relevant"),  # 12, lifted to possible (20) by the words
            ("Social survey of tenants", "not-relevant"),
            ("Social review of tenants", "relevant"),
            ("Review of parks", "relevant"),  # 16: below possible
            ("Review of libraries", "relevant"),
            ("Review of roads", "relevant"),
            ("Evaluation of services", "relevant"),
            ("Evaluation of pumps", "relevant"),
            ("Evaluation review of pumps", "relevant"),
        ],
    )
    assert [item.live.score for item in judged[:4]] == [20, 20, 20, 16]
    bands = [s for s in suggest(rules, judged, limit=None) if s.where == "scoring > bands"]
    assert bands
    for suggestion in bands:  # a lifted notice is lifted to the new `possible`, not left at 20
        exact = {
            item.notice.id
            for item in judged
            if score_notice(item.notice, suggestion.profile).band != item.live.band
        }
        assert {change.key for change in suggestion.moved} == exact
    # Its lines change keys the file has: to paste them under `bands` again would give them twice.
    labels = {item.notice.id: item.label for item in judged}
    lines = suggestion_lines(bands[:1], labels, limit=2)
    assert "   change these lines in scoring > bands:" in lines and not any("paste under" in x for x in lines)
    more = len(bands[0].moved) - 2
    assert more > 1 and f"     ... and {more} more judged notices" in lines


def test_no_threshold_is_suggested_that_the_learned_section_forbids(tmp_path):
    rules = learning_rules(tmp_path, promote_from=14)
    titles = [(f"Survey of {place}", "relevant") for place in ("parks", "libraries", "roads", "halls")]
    judged = judged_titles(
        rules, [*titles, ("Survey of bridges", "not-relevant"), ("Evaluation of pumps", "relevant")]
    )
    assert {item.live.score for item in judged[:5]} == {12}  # relevant, below promote_from (14)
    for suggestion in suggest(rules, judged, limit=None):
        # `rules check` refuses a `possible` at or below promote_from: nothing would ever be lifted.
        assert suggestion.profile.scale.possible > 14, suggestion.summary
