"""Scoring one notice against one profile: a pure function, no database, no clock.

Points, in order:
1. gates: a notice the firm cannot bid for scores 0, band none, with the gates as reasons;
2. each service line adds its keywords' points (title matches x title_weight, description and lot
   text x description_weight; each keyword counts once per field) and its CPV rules' points (the most
   specific rule per code, summed, capped at cpv_cap); an exclusion vetoes the line;
3. the best line (most points) is the notice's service line; profile-wide adjustments (keywords,
   value band, SME, buyer, kind mismatch) are added to it;
4. the score is the total, clamped to 0-100; the band comes from the profile's thresholds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from scoring.gates import Buyers, adjustments, gate_reasons
from scoring.matching import Matcher, Term
from scoring.profile import Profile
from scoring.result import Reason, Score
from store.notice import Notice

KEYWORD, EXCLUDE, ADJUST = "keyword", "exclude", "adjust"
_COMPILED_LIMIT = 32


@dataclass(frozen=True)
class _Use:
    """One place a term appears in the profile: a line's keyword or exclusion, or an adjustment."""

    role: str
    line: int
    points: float
    term: Term

    @property
    def rule(self) -> str:
        return {KEYWORD: "keyword", EXCLUDE: "exclusion", ADJUST: "adjustment keyword"}[
            self.role
        ] + f" {self.term}"


class Compiled:
    """A profile prepared for fast scoring: one matcher for all its terms, compiled buyer patterns."""

    def __init__(self, profile: Profile):
        terms: dict[Term, list[_Use]] = defaultdict(list)
        for index, line in enumerate(profile.service_lines):
            for keyword in line.keywords:
                terms[keyword.term].append(_Use(KEYWORD, index, keyword.points, keyword.term))
            for term in line.exclude_terms:
                terms[term].append(_Use(EXCLUDE, index, 0.0, term))
        for keyword in profile.adjustments.keywords:
            terms[keyword.term].append(_Use(ADJUST, -1, keyword.points, keyword.term))
        self.matcher = Matcher(terms)
        # Per term: (use, its rule's name), named once here rather than for every notice.
        self.uses = [[(use, use.rule) for use in uses] for uses in terms.values()]
        self.buyers = Buyers(profile)
        self._lines = profile.service_lines
        self._codes: dict[str, tuple[list[tuple[int, str, float]], list[tuple[int, str]]]] = {}

    def cpv(self, code: str) -> tuple[list[tuple[int, str, float]], list[tuple[int, str]]]:
        """For one CPV code: each line's most specific rule (line, prefix, points), and vetoes."""
        found = self._codes.get(code)
        if found is None:
            rules, vetoes = [], []
            for index, line in enumerate(self._lines):
                matching = [rule for rule in line.cpv if code.startswith(rule.prefix)]
                if matching:
                    rule = max(matching, key=lambda rule: len(rule.prefix))
                    rules.append((index, rule.prefix, rule.points))
                vetoes += [(index, prefix) for prefix in line.exclude_cpv if code.startswith(prefix)][:1]
            found = self._codes[code] = (rules, vetoes)
        return found


_compiled: dict[str, Compiled] = {}


def compiled(profile: Profile) -> Compiled:
    found = _compiled.get(profile.hash)
    if found is None:
        if len(_compiled) >= _COMPILED_LIMIT:
            _compiled.clear()
        found = _compiled[profile.hash] = Compiled(profile)
    return found


def score_notice(notice: Notice, profile: Profile) -> Score:
    """The notice's fit to the profile; never raises for a valid Notice."""
    prepared = compiled(profile)
    gates = gate_reasons(notice, profile, prepared.buyers)
    if gates:
        return Score(0, "none", None, tuple(gates))
    title = prepared.matcher.find(notice.title)
    body = prepared.matcher.find(description_text(notice))
    lines, vetoes, adjusting = _line_reasons(profile, prepared, title, body)
    _add_cpv(notice, profile, prepared, lines, vetoes)
    totals = {index: sum(reason.points for reason in reasons) for index, reasons in lines.items()}
    open_lines = [index for index in totals if index not in vetoes and totals[index] > 0]
    vetoed = [vetoes[index] for index in sorted(vetoes) if totals.get(index, 0) > 0]
    if not open_lines:
        return Score(0, "none", None, tuple(vetoed))
    ranked = sorted(open_lines, key=lambda index: (-totals[index], index))
    best = ranked[0]
    reasons = [*lines[best], *_second_line(profile, ranked, totals, lines)]
    reasons += [*adjusting, *adjustments(notice, profile, prepared.buyers), *vetoed]
    return _finish(profile, profile.service_lines[best].name, reasons)


def _second_line(
    profile: Profile, ranked: list[int], totals: dict[int, float], lines: dict[int, list[Reason]]
) -> list[Reason]:
    """A share of the runner-up line's points: a notice that fits two service lines fits better."""
    share = profile.scale.second_line_share
    if share <= 0 or len(ranked) < 2:
        return []
    runner_up = ranked[1]
    name = profile.service_lines[runner_up].name
    evidence = max(lines[runner_up], key=lambda reason: reason.points)
    detail = f"also {name}: {evidence.detail}"
    return [Reason(share * totals[runner_up], f"second line {name}", detail)]


def description_text(notice: Notice) -> str:
    """Description plus each lot's title and description (lot text counts as description)."""
    parts = [notice.description or ""]
    for lot in notice.lots:
        parts += [lot.title or "", lot.description or ""]
    # Lots often repeat the notice's title or description word for word; count such text once.
    unique = dict.fromkeys(part for part in parts if part and part != notice.title)
    return "\n".join(unique)


def _line_reasons(
    profile: Profile, prepared: Compiled, title: dict[int, str], body: dict[int, str]
) -> tuple[dict[int, list[Reason]], dict[int, Reason], list[Reason]]:
    """Keyword reasons per service line, vetoes per line, and profile-wide keyword adjustments."""
    scale = profile.scale
    lines: dict[int, list[Reason]] = defaultdict(list)
    vetoes: dict[int, Reason] = {}
    adjusting: list[Reason] = []
    for term_id in sorted(title.keys() | body.keys()):
        in_title, in_body = term_id in title, term_id in body
        found = title.get(term_id) or body[term_id]
        where = "title and description" if in_title and in_body else "title" if in_title else "description"
        weight = scale.title_weight * in_title + scale.description_weight * in_body
        for use, rule in prepared.uses[term_id]:
            if use.role == EXCLUDE:
                name = profile.service_lines[use.line].name
                vetoes.setdefault(use.line, Reason(0, rule, f"{name} ruled out: '{found}' in {where}"))
            elif use.points and weight:
                reason = Reason(use.points * weight, rule, f"'{found}' in {where}")
                (lines[use.line] if use.role == KEYWORD else adjusting).append(reason)
    return lines, vetoes, adjusting


def _add_cpv(
    notice: Notice,
    profile: Profile,
    prepared: Compiled,
    lines: dict[int, list[Reason]],
    vetoes: dict[int, Reason],
) -> None:
    """CPV points per line (the most specific rule per code, each rule once, capped) and CPV vetoes."""
    matched: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)
    for code in notice.cpv:
        rules, code_vetoes = prepared.cpv(code)
        for index, prefix, points in rules:
            matched[index].setdefault(prefix, (points, code))
        for index, prefix in code_vetoes:
            name = profile.service_lines[index].name
            vetoes.setdefault(index, Reason(0, f"exclusion CPV {prefix}", f"{name} ruled out: CPV {code}"))
    cap = profile.scale.cpv_cap
    for index, rules in matched.items():
        reasons = [
            Reason(points, f"CPV {prefix}", f"CPV {code}")
            for prefix, (points, code) in rules.items()
            if points
        ]
        total = sum(reason.points for reason in reasons)
        if total > cap:
            reasons.append(Reason(cap - total, "CPV cap", f"CPV points capped at {cap:g}"))
        lines[index] += reasons


def _finish(profile: Profile, line: str, reasons: list[Reason]) -> Score:
    total = sum(reason.points for reason in reasons)
    ceiling = profile.scale.strong - 1
    if total > ceiling and not any(
        reason.rule.startswith("keyword") and reason.points > 0 for reason in reasons
    ):
        # A buyer's CPV codes are often wrong: without a keyword, a notice is never a strong match.
        reasons.append(
            Reason(ceiling - total, "no keyword", f"CPV codes alone: kept below strong ({ceiling:g})")
        )
        total = ceiling
    if total > 100:
        reasons.append(Reason(100 - total, "score cap", "scores stop at 100"))
    score = min(100, max(0, math.floor(total + 0.5)))
    return Score(score, band_for(score, profile), line, tuple(reasons))


def band_for(score: float, profile: Profile) -> str:
    if score >= profile.scale.strong:
        return "strong"
    return "possible" if score >= profile.scale.possible else "none"
