"""What scoring says about one notice: a score, a band, the best service line and every reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BANDS = ("strong", "possible", "none")
# The fields `tenderwatch export --profile P` adds to each exported notice.
EXPORT_FIELDS = ("score", "band", "service_line", "reasons")
_SUMMARY_REASONS = 3
LEARNED = "learned"  # the rule of a near miss lifted to possible by the learned words
NO_KEYWORD = "no keyword"  # the rule holding a notice matched by CPV codes alone below possible
_CLAMPS = ("score cap", "score floor", NO_KEYWORD, "CPV cap", "negative cap")  # held totals, not evidence


@dataclass(frozen=True)
class Reason:
    """One rule that added or removed points (or, with 0 points, gated the notice or vetoed a line)."""

    points: float
    rule: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"points": self.points, "rule": self.rule, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reason:
        return cls(float(data["points"]), str(data["rule"]), str(data["detail"]))


@dataclass(frozen=True)
class Score:
    """A notice's fit to one profile: 0-100, its band, its best service line and why."""

    score: int
    band: str
    service_line: str | None
    reasons: tuple[Reason, ...]
    # The total before it was held to 0-100 (None when not known, e.g. read back from an old store):
    # several notices shown as 100 still rank among themselves by it.
    raw: float | None = field(default=None, compare=False)
    # The profile's `possible` threshold, for saying how far a near miss fell short (None: unknown).
    needed: float | None = field(default=None, compare=False)

    @property
    def clamped(self) -> str | None:
        """ "raw 137, shown as 100" when the total was held to 0-100 (None when it was not)."""
        if self.raw is None or 0 <= self.raw <= 100:
            return None
        return f"raw {self.raw:g}, shown as {self.score}"

    @property
    def gated(self) -> bool:
        """Whether a capability gate ruled the notice out (then its reasons are the gates)."""
        return any(reason.rule.startswith("gate") for reason in self.reasons)

    @property
    def summary(self) -> str:
        """One line of why it matched, for a digest: "Evaluation: 'evaluation' in title, CPV 79419000".

        For a notice in no band it says why not: the gates, or what pulled the score down.
        """
        if self.gated:
            return "not a fit: " + "; ".join(reason.detail for reason in self.reasons)
        if self.service_line is None:
            return "no service line matched"
        if self.band == "none":
            return self._near_miss()
        shown = ", ".join(reason.detail for reason in self._evidence()[:_SUMMARY_REASONS])
        return (f"{self.service_line}: {shown}" if shown else self.service_line) + self._lifted()

    def _lifted(self) -> str:
        """ "; lifted to possible: reads like notices judged relevant (0.86): ..." for a near miss the
        learned words lifted (scoring/learned.py), so a reader knows the rules alone fell short."""
        lifted = [reason.detail for reason in self.reasons if reason.rule == LEARNED]
        return f"; lifted to possible: {lifted[0]}" if lifted else ""

    def _near_miss(self) -> str:
        """ "15 points, 22 needed (Evaluation): for 'evaluation' in the description; against ...":
        how far it fell short first, then what counted for and against it."""
        short = f"{self.needed:g} needed" if self.needed is not None else "too few for a band"
        parts = [f"{self.score} points, {short} ({self.service_line})"]
        evidence = self._evidence()[:2]
        if evidence:
            parts.append("for " + ", ".join(reason.detail for reason in evidence))
        against = sorted(
            (r for r in self.reasons if r.points < 0 and r.rule not in _CLAMPS), key=lambda r: r.points
        )
        if against:
            shown = ", ".join(f"{r.detail} ({r.points:+g})" for r in against[:_SUMMARY_REASONS])
            cap = sum(r.points for r in self.reasons if r.rule == "negative cap")
            if cap:  # the negative keywords above took less than their points add up to
                words = sum(r.points for r in against if r.rule.startswith("adjustment keyword"))
                shown += f" (held to {words + cap:g} together)"
            parts.append(f"against {shown}")
        if any(reason.rule == NO_KEYWORD for reason in self.reasons):  # no points short of a band
            parts.append("no keyword: CPV codes alone are kept below possible")
        return parts[0] + (": " + "; ".join(parts[1:]) if parts[1:] else "")

    def _evidence(self) -> list[Reason]:
        """The keyword and CPV matches that counted, most points first."""
        return sorted(
            (reason for reason in self.reasons if reason.points > 0 and _is_evidence(reason)),
            key=lambda reason: -reason.points,
        )

    def in_plain_words(self, cpv_name: Callable[[str], str | None] = lambda code: None) -> str:
        """Why it matched, for a bid manager rather than a rules author: "Evaluation, research and
        economic analysis: 'process evaluation' in the title; CPV 79419000 (evaluation consultancy
        services)". A match on CPV codes alone says so. `cpv_name` names a code (from the notice)."""
        if self.gated or self.service_line is None or self.band == "none":
            return self.summary
        evidence = self._evidence()[:_SUMMARY_REASONS]
        words = _by_place([reason.detail for reason in evidence if not reason.rule.startswith("CPV")])
        codes = [_named_code(reason.detail, cpv_name) for reason in evidence if reason.rule.startswith("CPV")]
        if not words:
            shown = ", ".join(codes)
            return f"{self.service_line}: matched on CPV codes only, no words of the firm's work: {shown}"
        return f"{self.service_line}: " + "; ".join([*words, *codes]) + self._lifted()

    def export_fields(self) -> dict[str, Any]:
        """The four fields added to an exported notice (see EXPORT_FIELDS)."""
        return {
            "score": self.score,
            "band": self.band,
            "service_line": self.service_line,
            "reasons": [reason.to_json() for reason in self.reasons],
        }


def _by_place(details: list[str]) -> list[str]:
    """ "'research' in the title" and "'evaluation' in the title" as "'research' and 'evaluation' in
    the title": the words found, grouped by where they were found."""
    places: dict[str, list[str]] = {}
    for detail in details:
        words, found, place = detail.rpartition(" in ")
        if not found:
            words, place = detail, ""
        places.setdefault(place, []).append(words)
    return [_listed(words) + (f" in {place}" if place else "") for place, words in places.items()]


def _listed(words: list[str]) -> str:
    return f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0]


def _named_code(detail: str, cpv_name: Callable[[str], str | None]) -> str:
    """ "CPV 79419000 (evaluation consultancy services)": the code with its name, where known."""
    found = re.search(r"\d{8}", detail)
    name = cpv_name(found.group(0)) if found else None
    return f"{detail} ({name[:1].lower()}{name[1:]})" if name else detail


def _is_evidence(reason: Reason) -> bool:
    """Keyword and CPV matches say why a notice matched; value and SME bonuses do not."""
    return reason.rule.startswith(("keyword", "CPV", "adjustment keyword"))
