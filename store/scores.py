"""Stored scores and feedback: rescoring what changed, reading scores back, backtests over history.

A stored score carries the hash of the rules and of the notice it was computed from, so `rescore` only
recomputes rows whose rules or notice changed, and `scores_for` never returns a stale score.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, Text, and_, func, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from scoring.backtest import BacktestResult, backtest
from scoring.engine import band_for, score_notice
from scoring.feedback import Grades, Judgement
from scoring.profile import Profile
from scoring.result import Reason, Score
from scoring.suggest import Judged, Suggestion, add_history, suggest
from store.ingest import upsert
from store.models import FeedbackRow, NoticeRow, ScoreRow, utcnow
from store.notice import Lot, Notice, procurement_key

# The notice fields scoring reads (and the backtest shows): loading only these keeps backtests fast.
SCORED_FIELDS = (
    "source",
    "source_id",
    "title",
    "description",
    "buyer_name",
    "notice_type",
    "stage",
    "category",
    "cpv",
    "regions",
    "value_amount",
    "value_currency",
    "suitable_for_sme",
    "lots",
    "framework",
)
_JSON_FIELDS = ("cpv", "regions", "lots")
# JSON columns are read as text and decoded here: most are "[]", and SQLAlchemy's decoder is slow.
_NOTICE_COLUMNS = [
    type_coerce(getattr(NoticeRow, name), Text).label(name)
    if name in _JSON_FIELDS
    else getattr(NoticeRow, name)
    for name in SCORED_FIELDS
]
_STORED = [ScoreRow.rules_hash, ScoreRow.notice_hash, ScoreRow.score, ScoreRow.raw_score, ScoreRow.band]
_BATCH = 5000
_KEYS_PER_QUERY = 500


def rescore(session: Session, profile: Profile, *, now: datetime | None = None) -> int:
    """Score every notice whose score under `profile` is missing or stale; returns how many were scored.

    Call it after each crawl and whenever the rules file may have changed (it is cheap when nothing did).
    """
    now = now or utcnow()
    count = 0
    for rows in _batches(session, _stale(profile)):
        inserts, updates = [], []
        for row in rows:
            score = score_notice(_notice(row), profile)
            values = _score_values(row.id, profile, row.content_hash, score, now)
            if row.score_id is None:
                inserts.append(values)
            else:
                updates.append({**values, "id": row.score_id})
        if inserts:
            # Another worker may be scoring the same new notices at this moment: the later write wins.
            stmt = upsert(session, ScoreRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=["notice_id", "profile"],
                set_={
                    name: stmt.excluded[name]
                    for name in (
                        "rules_hash",
                        "notice_hash",
                        "score",
                        "raw_score",
                        "band",
                        "service_line",
                        "reasons",
                        "computed_at",
                    )
                },
            )
            session.execute(stmt, inserts)
        if updates:
            session.execute(update(ScoreRow), updates)
        count += len(rows)
    return count


def any_stale(session: Session, profile: Profile) -> bool:
    """Whether some notice's score under `profile` is missing or stale (a read: no write lock)."""
    return session.execute(_stale(profile).limit(1)).first() is not None


def _stale(profile: Profile) -> Select[Any]:
    return _with_stored(profile).where(
        or_(
            ScoreRow.id.is_(None),
            ScoreRow.rules_hash != profile.hash,
            ScoreRow.notice_hash != NoticeRow.content_hash,
        )
    )


def scores_for(session: Session, profile: Profile, keys: Iterable[str]) -> dict[str, Score]:
    """The score of each stored notice among `keys` ("source:source_id"), computed now if stale."""
    keys = list(dict.fromkeys(keys))
    found: dict[str, Score] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        query = _with_stored(profile).add_columns(NoticeRow.key, ScoreRow.service_line, ScoreRow.reasons)
        for row in session.execute(query.where(NoticeRow.key.in_(chunk))):
            fresh = row.rules_hash == profile.hash and row.notice_hash == row.content_hash
            found[row.key] = (
                stored_score(row, profile.scale.possible) if fresh else score_notice(_notice(row), profile)
            )
    return found


def run_backtest(
    session: Session,
    live: Profile,
    candidate: Profile | None = None,
    since: datetime | None = None,
    grades: Grades | None = None,
) -> BacktestResult:
    """Bands of the stored notices (published since `since`) under the live rules, and the candidate's,
    against the team's feedback, or against `grades` (a graded set kept aside)."""
    query = _with_stored(live)
    if since is not None:
        query = query.where(_published_since(since))
    feedback = latest_feedback(session) if grades is None else grades.labels
    bands_only = candidate is not None and _only_bands_differ(live, candidate)

    def scored() -> Iterator[tuple[Notice, Score, Score | None]]:
        for rows in _batches(session, query):
            for row in rows:
                notice = _notice(row)
                fresh = row.rules_hash == live.hash and row.notice_hash == row.content_hash
                # Only the band and score of a fresh stored score are needed: skip its reasons.
                before = _bare(row) if fresh else score_notice(notice, live)
                after = None
                if candidate is not None:
                    after = _rebanded(before, live, candidate) if bands_only and fresh else None
                    if after is None or after.band != before.band or notice.id in feedback:
                        after = score_notice(notice, candidate)  # shown: with its reasons
                yield notice, before, after

    return backtest(scored(), feedback, grades)


def _only_bands_differ(live: Profile, candidate: Profile) -> bool:
    """Whether the candidate's rules are the live ones but for the strong and possible thresholds."""
    scale = replace(candidate.scale, strong=live.scale.strong, possible=live.scale.possible)
    return replace(candidate, scale=scale).hash == live.hash


def _rebanded(before: Score, live: Profile, candidate: Profile) -> Score | None:
    """The candidate's score from the live one when only the thresholds differ, without scoring the
    notice again; None when it must be scored (the total may be held below `possible` by the
    "no keyword" rule, which moves with `possible`: scoring.engine._finish)."""
    raw = before.raw
    if raw is None:
        return None
    live_ceiling, candidate_ceiling = live.scale.possible - 1, candidate.scale.possible - 1
    # Above the live ceiling the notice has a keyword, so no ceiling applies under either rules;
    # below both, neither ceiling was reached. Either way the total, and so the score, is the same.
    if raw > live_ceiling or (raw < live_ceiling and raw < candidate_ceiling):
        return Score(before.score, band_for(before.score, candidate), None, (), raw)
    return None


def suggest_rules(
    session: Session, profile: Profile, since: datetime | None = None, limit: int | None = 10
) -> tuple[list[Suggestion], dict[str, str], int]:
    """Rule changes the feedback supports (scoring.suggest), with what each moves on the stored
    notices (published since `since`); also the labels used and how many notices were tried."""
    labels = latest_feedback(session)
    judged = [
        Judged(notice, labels[notice.id], score_notice(notice, profile))
        for notice in stored_notices(session, profile, labels)
    ]
    suggestions = suggest(profile, judged, limit)
    history = _with_stored(profile)
    if since is not None:
        history = history.where(_published_since(since))
    count = 0

    def scored() -> Iterator[tuple[Notice, Score]]:
        nonlocal count
        for rows in _batches(session, history):
            for row in rows:
                count += 1
                notice = _notice(row)
                fresh = row.rules_hash == profile.hash and row.notice_hash == row.content_hash
                yield notice, _bare(row) if fresh else score_notice(notice, profile)

    if suggestions:
        add_history(suggestions, scored())
    return suggestions, {item.notice.id: item.label for item in judged}, count


def stored_notices(session: Session, profile: Profile, keys: Iterable[str]) -> list[Notice]:
    """The stored notices of these ids (as scoring reads them); ids not stored are left out."""
    keys = list(keys)
    found: list[Notice] = []
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        query = _with_stored(profile).where(NoticeRow.key.in_(keys[start : start + _KEYS_PER_QUERY]))
        found += [_notice(row) for row in session.execute(query)]
    return found


def add_feedback(
    session: Session, key: str, label: str, note: str | None = None, *, now: datetime | None = None
) -> None:
    session.add(FeedbackRow(notice_key=key, label=label, note=note, created_at=now or utcnow()))


def import_feedback(session: Session, judgements: Sequence[Judgement], *, now: datetime | None = None) -> int:
    """Store judgements read from a file (later rows win over earlier ones for the same notice)."""
    now = now or utcnow()
    rows = [
        {"notice_key": item.notice_key, "label": item.label, "note": item.note, "created_at": now}
        for item in judgements
    ]
    if rows:
        session.execute(insert(FeedbackRow), rows)
    return len(rows)


def latest_feedback(session: Session, *, until: datetime | None = None) -> dict[str, str]:
    """Notice id -> its latest label (given by `until`, if set)."""
    query = select(FeedbackRow.notice_key, FeedbackRow.label).order_by(FeedbackRow.id)
    if until is not None:
        query = query.where(FeedbackRow.created_at <= until)
    return dict(session.execute(query).all())


def declined_procurements(session: Session, label: str, *, until: datetime) -> set[tuple[str, str]]:
    """Every procurement (store.notice.procurement_key) one of whose notices, on any service, has
    `label` as its latest label by `until`."""
    keys = [key for key, latest in latest_feedback(session, until=until).items() if latest == label]
    rows = session.execute(
        select(NoticeRow.source, NoticeRow.ocid, NoticeRow.source_id, NoticeRow.same_as_ocid).where(
            NoticeRow.key.in_(keys)
        )
    )
    return {procurement_key(*row) for row in rows}


def list_feedback(session: Session, limit: int | None = None) -> list[FeedbackRow]:
    """The latest judgement of each notice, newest first."""
    latest: dict[str, FeedbackRow] = {}
    for row in session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)):
        latest[row.notice_key] = row
    newest = sorted(latest.values(), key=lambda row: row.id, reverse=True)
    return newest[:limit] if limit else newest


def _published_since(since: datetime) -> ColumnElement[bool]:
    """Published at or after `since`; a notice with no publication date, first stored then (75 of
    the labelled set's 583 have none: they were left out of every --since as if published before)."""
    return func.coalesce(NoticeRow.published_at, NoticeRow.first_seen) >= since


def _with_stored(profile: Profile) -> Select[Any]:
    """Notices with their stored score under `profile` (None columns where there is none), by id."""
    return (
        select(NoticeRow.id, NoticeRow.content_hash, *_NOTICE_COLUMNS, *_STORED)
        .add_columns(ScoreRow.id.label("score_id"))
        .outerjoin(ScoreRow, and_(ScoreRow.notice_id == NoticeRow.id, ScoreRow.profile == profile.name))
        .order_by(NoticeRow.id)
    )


def _batches(session: Session, query: Select[Any]) -> Iterator[list[Any]]:
    """The query's rows in batches, paged on the notice id so memory stays flat."""
    last = 0
    while True:
        # Core execution: these are plain rows, and the ORM's row processing would double the time.
        rows = session.connection().execute(query.where(NoticeRow.id > last).limit(_BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def _notice(row: Any) -> Notice:
    values = dict(zip(SCORED_FIELDS, row[2 : 2 + len(SCORED_FIELDS)], strict=True))
    values.update(
        cpv=tuple(_json_list(values["cpv"])),
        regions=tuple(_json_list(values["regions"])),
        lots=tuple(Lot(**lot) for lot in _json_list(values["lots"])),
        framework=bool(values["framework"]),
    )
    return Notice(**values)


def _json_list(value: Any) -> list[Any]:
    """A JSON list column read as text (or already decoded, as some drivers do)."""
    if isinstance(value, str):
        return [] if value == "[]" else orjson.loads(value)
    return value or []


def stored_score(row: Any, needed: float | None = None) -> Score:
    """The Score a stored row (or anything with its score, band, service_line and reasons) says;
    `needed` is its profile's possible threshold, which a near miss's summary names."""
    reasons = tuple(Reason.from_json(reason) for reason in row.reasons or ())
    return Score(row.score, row.band, row.service_line, reasons, getattr(row, "raw_score", None), needed)


def _bare(row: Any) -> Score:
    """A fresh stored score without its reasons: all a backtest needs."""
    return Score(row.score, row.band, None, (), row.raw_score)


def _score_values(
    notice_id: int, profile: Profile, notice_hash: str, score: Score, now: datetime
) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "profile": profile.name,
        "rules_hash": profile.hash,
        "notice_hash": notice_hash,
        "score": score.score,
        "raw_score": score.raw,
        "band": score.band,
        "service_line": score.service_line,
        "reasons": [reason.to_json() for reason in score.reasons],
        "computed_at": now,
    }
