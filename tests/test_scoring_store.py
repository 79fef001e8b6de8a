"""Stored scores and feedback on a real SQLite store: rescoring only what changed, backtests, agreement."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from scoring import load_profile, score_notice
from scoring.backtest import agreement, backtest
from scoring.feedback import Judgement
from store.ingest import save_notices
from store.models import FeedbackRow, NoticeRow, ScoreRow
from store.scores import (
    add_feedback,
    import_feedback,
    latest_feedback,
    list_feedback,
    rescore,
    run_backtest,
    scores_for,
)
from tests.scoring.helpers import EXAMPLE, example, notice, real, real_notices, write
from tests.support.stored import filled_store

NOW = datetime(2026, 8, 12, 6, 0, tzinfo=UTC)
VRP = "find_a_tender:076396-2026"  # Violence Reduction Partnership Research and Evaluation (UK4)


@pytest.fixture
def stored(request, env):
    return filled_store(request, env, "the recorded notices saved at NOW", save_at_now)


def save_at_now(database) -> None:
    with database.writing() as session:
        save_notices(session, real_notices(), now=NOW)


def score_rows(database) -> dict[int, tuple[str, str, int]]:
    with database.reading() as session:
        rows = session.execute(
            select(ScoreRow.notice_id, ScoreRow.rules_hash, ScoreRow.computed_at, ScoreRow.score)
        )
        return {row.notice_id: (row.rules_hash, row.computed_at, row.score) for row in rows}


def test_rescore_scores_everything_once_then_nothing(stored):
    with stored.writing() as session:
        assert rescore(session, example(), now=NOW) == len(real_notices())
    with stored.writing() as session:
        assert rescore(session, example(), now=NOW + timedelta(hours=1)) == 0
    rows = score_rows(stored)
    assert len(rows) == len(real_notices())
    assert {computed for _, computed, _ in rows.values()} == {NOW}


def test_rescore_recomputes_a_changed_notice_only(stored):
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
        before = {row.key: row.id for row in session.scalars(select(NoticeRow))}
        changed = replace(
            real(VRP), title="Grass cutting", description="Grounds maintenance", lots=(), cpv=()
        )
        save_notices(session, [changed], now=NOW)
    later = NOW + timedelta(days=1)
    with stored.writing() as session:
        assert rescore(session, example(), now=later) == 1
    rows = score_rows(stored)
    assert rows[before[VRP]][1:] == (later, 0)
    assert sum(1 for _, computed, _ in rows.values() if computed == later) == 1


def test_rescore_recomputes_everything_when_the_rules_change(stored, tmp_path):
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
    edited = write(tmp_path, EXAMPLE.read_text().replace("strong: 40", "strong: 55"), "example.yaml")
    changed = load_profile(edited, name="example")
    assert changed.hash != example().hash
    with stored.writing() as session:
        assert rescore(session, changed, now=NOW) == len(real_notices())
        assert rescore(session, changed, now=NOW) == 0
    assert {rules for rules, _, _ in score_rows(stored).values()} == {changed.hash}


def test_each_profile_keeps_its_own_scores(stored, tmp_path):
    other = load_profile(write(tmp_path, EXAMPLE.read_text()), name="other")
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
        assert rescore(session, other, now=NOW) == len(real_notices())
        query = select(ScoreRow.profile, func.count()).group_by(ScoreRow.profile)
        counts = dict(session.execute(query).all())
    assert counts == {"example": len(real_notices()), "other": len(real_notices())}


def test_scores_are_deleted_with_their_notice(stored):
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
        session.execute(delete(NoticeRow).where(NoticeRow.key == VRP))
    with stored.reading() as session:
        assert session.scalar(select(func.count()).select_from(ScoreRow)) == len(real_notices()) - 1


def keywords_off(tmp_path):
    """The example profile with keywords switched off: a changed rules file, for stale-score tests."""
    text = re.sub(r"(title|opening|description)_weight: [0-9.]+", r"\1_weight: 0", EXAMPLE.read_text())
    return load_profile(write(tmp_path, text, "example.yaml"), name="example")


def test_scores_for_returns_stored_scores_and_never_stale_ones(stored, tmp_path):
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
    with stored.reading() as session:
        found = scores_for(session, example(), [VRP, "find_a_tender:does-not-exist"])
    assert list(found) == [VRP]
    assert found[VRP] == score_notice(real(VRP), example())
    assert found[VRP].summary.startswith("Evaluation, research and economic analysis: ")
    with stored.reading() as session:
        assert scores_for(session, keywords_off(tmp_path), [VRP])[VRP].band == "none"  # not the stored strong


def test_feedback_latest_judgement_wins(database):
    with database.writing() as session:
        add_feedback(session, VRP, "not-relevant", now=NOW)
        add_feedback(session, VRP, "relevant", "VRU evaluation", now=NOW)
        import_feedback(
            session,
            [Judgement("contracts_finder:x", "relevant"), Judgement("contracts_finder:x", "not-relevant")],
        )
    with database.reading() as session:
        assert latest_feedback(session) == {VRP: "relevant", "contracts_finder:x": "not-relevant"}
        assert [(row.notice_key, row.label, row.note) for row in list_feedback(session)] == [
            ("contracts_finder:x", "not-relevant", None),
            (VRP, "relevant", "VRU evaluation"),
        ]
        assert len(list_feedback(session, limit=1)) == 1
        assert session.scalar(select(func.count()).select_from(FeedbackRow)) == 4


def test_a_backtest_lists_what_a_candidate_would_move(tmp_path):
    live = load_profile(write(tmp_path, "service_lines:\n  - name: E\n    keywords: {evaluation: 30}\n"))
    candidate = load_profile(
        write(tmp_path, "service_lines:\n  - name: E\n    keywords: {evaluation: 30, review: 30}\n", "c.yaml")
    )
    items = [
        notice("Evaluation", source_id="1"),  # 60 under both
        notice("Review of services", source_id="2"),  # 0 -> 60
        notice("An evaluation", description="and a review", source_id="3"),  # 60 -> 90
        notice("Grass cutting", source_id="4"),
    ]
    result = backtest((item, score_notice(item, live), score_notice(item, candidate)) for item in items)
    assert result.notices == 4
    assert result.live == {"strong": 2, "none": 2}
    assert result.candidate == {"strong": 3, "none": 1}
    assert [(change.key, change.before.band, change.after.band) for change in result.added] == [
        ("find_a_tender:2", "none", "strong")
    ]
    assert result.dropped == [] and result.live_agreement is None


def test_precision_and_recall_against_a_small_labelled_set():
    bands = {"a": "strong", "b": "strong", "c": "possible", "d": "none", "e": "none", "f": "possible"}
    labels = {"a": "relevant", "b": "not-relevant", "c": "relevant", "d": "relevant", "e": "not-relevant"}
    found = agreement(bands, labels)
    assert (found.labelled, found.relevant, found.shortlisted, found.shortlisted_relevant) == (5, 3, 3, 2)
    assert found.precision == pytest.approx(2 / 3) and found.recall == pytest.approx(2 / 3)
    assert found.strong_precision == pytest.approx(1 / 2) and found.strong_recall == pytest.approx(1 / 3)
    assert agreement({}, labels).precision is None


def test_run_backtest_on_the_store_with_feedback_and_a_window(stored, tmp_path):
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
        add_feedback(session, VRP, "relevant", now=NOW)
        add_feedback(session, "find_a_tender:075943-2026", "not-relevant", now=NOW)  # a works tender
    with stored.reading() as session:
        everything = run_backtest(session, example(), keywords_off(tmp_path))
        recent = run_backtest(session, example(), None, since=datetime(2026, 8, 11, 12, tzinfo=UTC))
    assert everything.notices == len(real_notices())
    assert everything.live["strong"] > 0 and everything.candidate["strong"] == 0
    assert len(everything.dropped) >= everything.live["strong"] and not everything.added
    assert [(c.before.band, c.after.band) for c in everything.dropped if c.key == VRP] == [("strong", "none")]
    assert everything.live_agreement.relevant == 1 and everything.live_agreement.recall == 1.0
    assert everything.candidate_agreement.recall == 0.0
    assert 0 < recent.notices < everything.notices and recent.candidate is None


def test_a_notice_changed_since_it_was_scored_is_scored_afresh_everywhere(stored):
    """Between a crawl and the next rescore, exports and backtests must not use the stored score."""
    with stored.writing() as session:
        rescore(session, example(), now=NOW)
        grass = replace(real(VRP), title="Grass cutting", description="Grounds maintenance", lots=(), cpv=())
        save_notices(session, [grass], now=NOW + timedelta(hours=1))
    with stored.reading() as session:
        found = scores_for(session, example(), [VRP])
        backtested = run_backtest(session, example(), None)
    assert found[VRP] == score_notice(grass, example()) and found[VRP].band == "none"
    assert backtested.live["strong"] == sum(
        score_notice(n if n.id != VRP else grass, example()).band == "strong" for n in real_notices()
    )


@pytest.mark.parametrize(("strong", "possible"), [(50, 18), (50, 40), (30, 5), (70, 25)])
def test_a_backtest_of_new_thresholds_matches_scoring_every_notice_afresh(stored, strong, possible):
    """Only the thresholds changed: the live scores are re-banded, not scored again; same result."""
    live = example()
    candidate = replace(live, scale=replace(live.scale, strong=strong, possible=possible))
    with stored.writing() as session:
        rescore(session, live, now=NOW)
        add_feedback(session, VRP, "relevant", now=NOW)
    with stored.reading() as session:
        found = run_backtest(session, live, candidate)
    expected = backtest(
        ((n, score_notice(n, live), score_notice(n, candidate)) for n in real_notices()), {VRP: "relevant"}
    )

    def moved(result):
        return [(c.key, c.before.band, c.before.score, c.after, c.after.raw) for c in result.changes]

    assert (found.live, found.candidate) == (expected.live, expected.candidate)
    assert moved(found) == moved(expected) and found.changes
    assert found.candidate_agreement == expected.candidate_agreement
    assert [j.candidate for j in found.judged] == [j.candidate for j in expected.judged]
