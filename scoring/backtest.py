"""Trying rules on history: band counts, what a candidate profile would change, and how both agree
with the team's feedback (precision and recall of the bands).

Everything here is pure: the caller supplies (notice, live score, candidate score) triples, so the same
code serves the CLI (notices from the store) and the tests (notices in memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from scoring.feedback import Grades
from scoring.result import BANDS, Score
from store.notice import Notice

_RANK = {band: rank for rank, band in enumerate(reversed(BANDS))}  # none 0, possible 1, strong 2


@dataclass(frozen=True)
class Change:
    """A notice whose band the candidate rules would change."""

    key: str
    title: str
    before: Score
    after: Score

    @property
    def direction(self) -> str:
        return "up" if _RANK[self.after.band] > _RANK[self.before.band] else "down"


@dataclass(frozen=True)
class Agreement:
    """How a profile's bands agree with feedback: of the labelled notices in a band set, how many are
    relevant (precision); of the relevant ones, how many are in it (recall). None when undefined."""

    labelled: int
    relevant: int
    shortlisted: int  # labelled notices in strong or possible
    shortlisted_relevant: int
    strong: int
    strong_relevant: int
    must_see: int = 0  # judged notices graded must see (measured against grades, not feedback)
    must_see_found: int = 0  # of them, in strong or possible

    @property
    def must_see_recall(self) -> float | None:
        return _ratio(self.must_see_found, self.must_see)

    @property
    def possible(self) -> int:
        return self.shortlisted - self.strong

    @property
    def possible_relevant(self) -> int:
        return self.shortlisted_relevant - self.strong_relevant

    @property
    def precision(self) -> float | None:
        return _ratio(self.shortlisted_relevant, self.shortlisted)

    @property
    def recall(self) -> float | None:
        return _ratio(self.shortlisted_relevant, self.relevant)

    @property
    def strong_precision(self) -> float | None:
        return _ratio(self.strong_relevant, self.strong)

    @property
    def strong_recall(self) -> float | None:
        return _ratio(self.strong_relevant, self.relevant)

    @property
    def possible_precision(self) -> float | None:
        return _ratio(self.possible_relevant, self.possible)

    @property
    def possible_recall(self) -> float | None:
        return _ratio(self.possible_relevant, self.relevant)


@dataclass(frozen=True)
class Judged:
    """A notice the team judged, with its label and its scores under the live and candidate rules."""

    key: str
    title: str
    label: str
    live: Score
    candidate: Score | None


@dataclass
class BacktestResult:
    notices: int = 0
    live: Counter[str] = field(default_factory=Counter)
    candidate: Counter[str] | None = None
    changes: list[Change] = field(default_factory=list)
    live_agreement: Agreement | None = None
    candidate_agreement: Agreement | None = None
    judged: list[Judged] = field(default_factory=list)
    grades: Grades | None = None  # measured against grades rather than the team's feedback

    @property
    def added(self) -> list[Change]:
        """Notices the candidate puts in a better band (e.g. none -> possible, possible -> strong)."""
        return [change for change in self.changes if change.direction == "up"]

    @property
    def dropped(self) -> list[Change]:
        return [change for change in self.changes if change.direction == "down"]


def backtest(
    scored: Iterable[tuple[Notice, Score, Score | None]],
    feedback: Mapping[str, str] | None = None,
    grades: Grades | None = None,
) -> BacktestResult:
    """Compare live and (optional) candidate scores of the same notices; feedback maps id -> label
    (a graded set's `labels` when measured against `grades`, which add the must-see recall)."""
    result = BacktestResult(grades=grades)
    must_see = grades.must_see if grades is not None else frozenset()
    live_bands: dict[str, str] = {}
    candidate_bands: dict[str, str] = {}
    for notice, live, candidate in scored:
        result.notices += 1
        result.live[live.band] += 1
        if feedback is not None and notice.id in feedback:
            live_bands[notice.id] = live.band
            result.judged.append(Judged(notice.id, notice.title, feedback[notice.id], live, candidate))
        if candidate is None:
            continue
        result.candidate = result.candidate if result.candidate is not None else Counter()
        result.candidate[candidate.band] += 1
        if feedback is not None and notice.id in feedback:
            candidate_bands[notice.id] = candidate.band
        if candidate.band != live.band:
            result.changes.append(Change(notice.id, notice.title, live, candidate))
    result.changes.sort(key=lambda change: (-_RANK[change.after.band], -_ranked(change.after), change.key))
    if feedback:
        result.live_agreement = agreement(live_bands, feedback, must_see)
        if result.candidate is not None:
            result.candidate_agreement = agreement(candidate_bands, feedback, must_see)
    return result


def _ranked(score: Score) -> float:
    """Notices shown as 100 rank by their raw total (when known)."""
    return score.score if score.raw is None else score.raw


def agreement(
    bands: Mapping[str, str], feedback: Mapping[str, str], must_see: Collection[str] = frozenset()
) -> Agreement:
    """Precision and recall counts of `bands` (notice id -> band) against labels for the same ids, and
    of the recall of the ids in `must_see` (graded must see) alone."""
    labelled = [key for key in bands if key in feedback]
    relevant = {key for key in labelled if feedback[key] == "relevant"}
    shortlisted = {key for key in labelled if bands[key] in ("strong", "possible")}
    strong = {key for key in labelled if bands[key] == "strong"}
    must = relevant.intersection(must_see)
    return Agreement(
        labelled=len(labelled),
        relevant=len(relevant),
        shortlisted=len(shortlisted),
        shortlisted_relevant=len(shortlisted & relevant),
        strong=len(strong),
        strong_relevant=len(strong & relevant),
        must_see=len(must),
        must_see_found=len(must & shortlisted),
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
