"""Scoring one notice against one profile: a pure function, no database, no clock.

Points, in order:
1. gates: a notice the firm cannot bid for scores 0, band none, with the gates as reasons (CPV codes
   alone gate the kind of contract only when the title names none of the firm's work);
2. each service line adds its keywords' points, each keyword once, at the best place it appears:
   the title (x title_weight), the description's opening or a lot's title (x opening_weight), the
   rest of the description (x description_weight), or x opening_weight in a part of the title that
   ends in a negative adjustment keyword (its subject: "Community Engagement Support Service"),
   unless another part of the title names it;
   and its CPV rules' points (the most specific rule per code, summed, capped at cpv_cap); an
   exclusion in the title or opening vetoes the line;
3. the best line (most points) is the notice's service line, with a share of the runner-up line's
   own words; profile-wide adjustments (keywords, route or value band, SME, buyer, kind mismatch)
   are added to it; a negative adjustment keyword counts only in the title or the opening, and
   together they take at most negative_cap; a route's points need a line keyword that names the
   work (in the title, the opening or a lot's title); a notice only its title keeps from the kind
   gate is held below strong;
4. a near miss that reads like notices judged relevant (the profile's `learned` words) is lifted to
   `possible`;
5. the score is the total, held to 0-100 by a "score cap" or "score floor" reason (so the reasons
   always add up to the score); the uncapped total is kept as Score.raw, which ranks notices that
   are all shown as 100; the band comes from the profile's thresholds.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from scoring.gates import Buyers, adjustments, gate_reasons, kind_from_title
from scoring.learned import likeness
from scoring.matching import Matcher, Term, split_words
from scoring.profile import NOTICE_TYPES, STAGES, Profile
from scoring.result import LEARNED, NO_KEYWORD, Reason, Score
from store.notice import Notice

KEYWORD, EXCLUDE, ADJUST = "keyword", "exclude", "adjust"
_COMPILED_LIMIT = 32
_OPENING_WORDS, _OPENING_MAX_WORDS = 12, 80
# A stop and the space after it, or a line break (a lookbehind instead is several times slower).
_SENTENCE_END = re.compile(r"[.!?:]\s+|\n+")
_FIRST_WORDS = re.compile(rf"(?:\S+\s+){{{_OPENING_MAX_WORDS}}}")


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
        # The terms that are signs of other work (negative adjustments), and lines' positive keywords.
        uses_of = list(terms.values())
        self.negative = frozenset(
            i for i, uses in enumerate(uses_of) if any(u.points < 0 and u.role == ADJUST for u in uses)
        )
        self.positive = [any(u.points > 0 and u.role == KEYWORD for u in uses) for uses in uses_of]
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


T = TypeVar("T")
_compiled: dict[str, Compiled] = {}


def _per_profile(cache: dict[str, T], profile: Profile, make: Callable[[Profile], T]) -> T:
    """`make(profile)`, made once per rules hash; a bounded cache (trial rules come and go)."""
    found = cache.get(profile.hash)
    if found is None:
        if len(cache) >= _COMPILED_LIMIT:
            cache.clear()
        found = cache[profile.hash] = make(profile)
    return found


def compiled(profile: Profile) -> Compiled:
    return _per_profile(_compiled, profile, Compiled)


def score_notice(notice: Notice, profile: Profile) -> Score:
    """The notice's fit to the profile; never raises for a valid Notice."""
    prepared = compiled(profile)
    gates = gate_reasons(notice, profile, prepared.buyers, lambda: _title_names_work(prepared, notice))
    if gates:
        return Score(0, "none", None, tuple(gates), 0.0)
    found = _Found(prepared, notice)
    lines, vetoes, adjusting, naming = _line_reasons(profile, prepared, found)
    _add_cpv(notice, profile, prepared, lines, vetoes)
    totals = {index: sum(reason.points for reason in reasons) for index, reasons in lines.items()}
    open_lines = [index for index in totals if index not in vetoes and totals[index] > 0]
    vetoed = [vetoes[index] for index in sorted(vetoes) if totals.get(index, 0) > 0]
    if not open_lines:
        return Score(0, "none", None, tuple(vetoed), 0.0)
    ranked = sorted(open_lines, key=lambda index: (-totals[index], index))
    best = ranked[0]
    work_named = any(index in naming for index in open_lines)
    reasons = [*lines[best], *_second_line(profile, ranked, totals, lines)]
    reasons += [*adjusting, *_negative_cap(profile, adjusting)]
    reasons += [*adjustments(notice, profile, prepared.buyers, work_named=work_named), *vetoed]
    if kind_from_title(notice, profile.gates.kinds):
        reasons += _below_strong(profile, reasons)
    reasons += _promotion(profile, notice, reasons)
    return _finish(profile, profile.service_lines[best].name, reasons)


def _promotion(profile: Profile, notice: Notice, reasons: list[Reason]) -> list[Reason]:
    """A near miss (at least `promote_from` points and a line keyword, short of `possible`) that reads
    like notices judged relevant is lifted to `possible`: the rules saw some of the firm's work in it,
    and the judged notices say such notices were worth seeing. Likeness alone never lifts a notice."""
    learned, needed = profile.learned, profile.scale.possible
    if learned is None:
        return []
    total = sum(reason.points for reason in reasons)
    if total < learned.promote_from or shown_score(total) >= needed:  # a band as it is: nothing to lift
        return []
    if not any(_is_line_keyword(reason) and reason.points > 0 for reason in reasons):
        return []
    liked = likeness(learned.weights, notice)
    if liked.value < learned.promote_at:
        return []
    return [Reason(math.ceil(needed) - total, LEARNED, liked.detail)]  # the lowest score in possible


def _below_strong(profile: Profile, reasons: list[Reason]) -> list[Reason]:
    """A notice whose CPV codes all say goods or works, scored only because its title names the
    work, is at most possible: the title may name what goods are about ("Leadership development
    books"), so it is worth a look, not a strong match."""
    total = sum(reason.points for reason in reasons)
    ceiling = profile.scale.strong - 1
    if total <= ceiling:
        return []
    return [
        Reason(
            ceiling - total, "kind uncertain", f"CPV codes of another kind: held below strong ({ceiling:g})"
        )
    ]


def _title_names_work(prepared: Compiled, notice: Notice) -> bool:
    """Whether a service line's positive keyword is in the title."""
    return any(prepared.positive[term_id] for term_id in prepared.matcher.find(notice.title))


def _negative_cap(profile: Profile, adjusting: list[Reason]) -> list[Reason]:
    """Negative adjustment keywords held to `negative_cap` together: "homecare", "care homes" and
    "nursing care" in a cost-of-care review's title name one market the work is about, not three
    reasons against it. (A ceiling: a look-alike with many positive points keeps some of them.)"""
    cap = profile.scale.negative_cap
    taken = sum(reason.points for reason in adjusting if reason.points < 0)
    if cap is None or taken >= -cap:
        return []
    return [Reason(-cap - taken, "negative cap", f"negative keywords {taken:g}, held to -{cap:g}")]


def score_contract(notice: Notice, profile: Profile) -> Score:
    """The fit of a contract awarded (an award or contract-details notice) to the profile, to list the
    contracts in the firm's field that end soon (`tenderwatch expiring`): scored as its tender would
    be. Only the notice-type gate is lifted, here and nowhere else: stored scores keep awards gated,
    so an award never reaches the digest's new opportunities."""
    return score_notice(notice, _per_profile(_contract_profiles, profile, _for_contracts))


_contract_profiles: dict[str, Profile] = {}


def _for_contracts(profile: Profile) -> Profile:
    gates = replace(profile.gates, notice_types=NOTICE_TYPES, untyped_stages=STAGES)
    return replace(profile, gates=gates)


TITLE, OPENING, LOTS, REST = "title", "opening", "lots", "description"
_ZONES = (TITLE, OPENING, LOTS, REST)  # in the order of split_description's parts, after the title
_SHOWN = {
    TITLE: "the title",
    OPENING: "the description's opening",
    LOTS: "a lot's title",
    REST: "the description",
}
_NAMING_ZONES = (TITLE, OPENING, LOTS)  # where a notice says what the work is


class _Found:
    """Where the profile's terms occur: per term, its best zone and the words found there.

    Zones, best first: the title and the opening (the description's first sentence), which say what
    the work is; the lots' titles; the rest of the description and the lots' descriptions, which
    mostly say why and how. Negative adjustments and exclusions count only in the first two, so a
    "maintenance" in the boilerplate of a long description never vetoes the firm's work, nor one
    lot of other work a lot the firm could bid for.
    """

    def __init__(self, prepared: Compiled, notice: Notice):
        parts = (notice.title, *split_description(notice))  # the zones, best first
        # Lists ("process and impact evaluation") are read where the notice says what it buys.
        found = prepared.matcher.find_in_parts(parts, read_lists_in=len(_NAMING_ZONES))
        self.zones = {term_id: (_ZONES[part], words) for term_id, (part, words) in found.items()}
        self.subjects = _subjects(notice.title, prepared, self.zones)


_TITLE_PART = re.compile(r"\s[-\u2013\u2014|/]\s|:\s")  # "Lot 2 - Evaluation: Family Hubs"
_LAST_BRACKETS = re.compile(r"\s*\([^)]*\)\s*$")  # "(SaaS)", "(P26-0006)"
_PREPOSITIONS = frozenset({"of", "for", "into", "on", "in", "to", "about", "across", "within"})
_HEAD_NOUNS = frozenset({"service", "services"})


def _subjects(title: str, prepared: Compiled, zones: dict[int, tuple[str, str]]) -> dict[int, str]:
    """The title's positive terms that say what a delivery or product is about, not the work bought:
    {term id: the negative words they qualify}.

    English puts what is bought last: a "Community Engagement Support Service" is a support service,
    a "Consultation and Engagement Platform (SaaS)" a platform. When a part of the title ends in a
    negative term (a trailing "Service" aside), the firm's words before it are that thing's subject
    and count as the opening's, not twice as the title's, unless another part names them as the work.
    A preposition before the negative makes it the subject instead ("Review of Home Care"), and
    another part of the title is left alone ("Commissioning review - day opportunities").
    """
    negatives = [  # a set intersection first: most notices have no negative term at all
        zones[term_id][1].lower().split()  # an acronym's words are found as written
        for term_id in prepared.negative.intersection(zones)
        if zones[term_id][0] == TITLE
    ]
    if not negatives:  # the usual case: nothing in the title counts against the notice
        return {}
    negatives.sort(key=len, reverse=True)  # "support service" before "support"
    parts = [_LAST_BRACKETS.sub("", part) for part in _TITLE_PART.split(title)]
    for index, part in enumerate(parts):
        head = _negative_head(split_words(part), negatives)
        subjects = head and {  # a term of the title is in the title's zone: the best part
            term_id: head for term_id in prepared.matcher.find(part) if prepared.positive[term_id]
        }
        if subjects:
            # Named as the work in another part ("Community Engagement Strategy - Community
            # Engagement Support Service"), a term keeps its title's weight. Parts are read apart,
            # so that no term spans two.
            others = [other for at, other in enumerate(parts) if at != index]
            work = [other for other in others if not _negative_head(split_words(other), negatives)]
            elsewhere = prepared.matcher.find_in_parts(work)
            return {term_id: head for term_id, head in subjects.items() if term_id not in elsewhere}
    return {}


def _negative_head(words: list[str], negatives: list[list[str]]) -> str | None:
    """The negative the words end with (before a last "service"), unless a preposition precedes it."""
    ends = [len(words), len(words) - 1] if words and words[-1] in _HEAD_NOUNS else [len(words)]
    for negative in negatives:
        for end in ends:
            start = end - len(negative)
            if start >= 0 and words[start:end] == negative and not _PREPOSITIONS.intersection(words[:start]):
                return " ".join(negative)
    return None


def _second_line(
    profile: Profile, ranked: list[int], totals: dict[int, float], lines: dict[int, list[Reason]]
) -> list[Reason]:
    """A share of the runner-up line's own words: a notice that fits two service lines fits better.

    Only words the best line has not counted already (words two lines share are one piece of
    evidence, not two), and no CPV codes: codes are often wrong, so a second line needs words.
    """
    share = profile.scale.second_line_share
    if share <= 0 or len(ranked) < 2:
        return []
    counted = {reason.detail for reason in lines[ranked[0]]}
    own = {
        index: [r for r in lines[index] if r.detail not in counted and _is_line_keyword(r)]
        for index in ranked[1:]
    }
    points = {index: min(totals[index], sum(reason.points for reason in own[index])) for index in own}
    runner_up = max(ranked[1:], key=lambda index: (points[index], -index))
    if points[runner_up] <= 0:
        return []
    name = profile.service_lines[runner_up].name
    evidence = max(own[runner_up], key=lambda reason: reason.points)
    detail = f"also {name}: {evidence.detail}"
    return [Reason(share * points[runner_up], f"second line {name}", detail)]


def _is_line_keyword(reason: Reason) -> bool:
    """A service line's keyword (not a CPV rule, an adjustment or a cap)."""
    return reason.rule.startswith("keyword")


def split_description(notice: Notice) -> tuple[str, str, str]:
    """(opening, lots, rest): the description's first sentence (a dozen words at least); the lots'
    titles; the rest of the description and the lots' descriptions. Lot text that repeats the
    notice's title or description word for word counts once."""
    description = notice.description or ""
    end = _opening_end(description)
    seen = {notice.title, notice.description}
    lot_titles = [lot.title for lot in notice.lots if lot.title and lot.title not in seen]
    lot_texts = [lot.description for lot in notice.lots if lot.description and lot.description not in seen]
    rest = "\n".join([description[end:], *dict.fromkeys(lot_texts)]) if lot_texts else description[end:]
    return description[:end], "\n".join(dict.fromkeys(lot_titles)), rest


def _opening_end(description: str) -> int:
    """Where the opening ends: after enough sentences for a dozen words (a heading says little), and
    at most eighty words in, should no sentence end by then (one run-on paragraph is not the opening)."""
    end = len(description)
    for found in _SENTENCE_END.finditer(description):
        if description.count(" ", 0, found.start()) + 1 >= _OPENING_WORDS:
            end = found.end()
            break
    if description.count(" ", 0, end) < _OPENING_MAX_WORDS:
        return end  # the usual case: a sentence ended well within the limit
    longest = _FIRST_WORDS.match(description)
    return min(end, longest.end()) if longest else end


def _line_reasons(
    profile: Profile, prepared: Compiled, found: _Found
) -> tuple[dict[int, list[Reason]], dict[int, Reason], list[Reason], set[int]]:
    """Keyword reasons per service line, vetoes per line, profile-wide keyword adjustments, and the
    lines whose keywords name the work (a positive one in the title, the opening or a lot's title).

    A line's keyword counts at its best zone: title_weight times in the title, opening_weight times
    in the description's opening, description_weight times in the rest; a title term that is the
    subject of a negative ending the title ("Community Engagement Support Service", `_subjects`)
    counts as the opening's. Adjustment keywords count once, as written. Negative ones and
    exclusions count only where they say what the work is: the title or the description's opening.
    """
    weights = {
        TITLE: profile.scale.title_weight,
        OPENING: profile.scale.opening_weight,
        LOTS: profile.scale.opening_weight,
        REST: profile.scale.description_weight,
    }
    lines: dict[int, list[Reason]] = defaultdict(list)
    vetoes: dict[int, Reason] = {}
    adjusting: list[Reason] = []
    naming: set[int] = set()
    for term_id in sorted(found.zones):
        zone, words = found.zones[term_id]
        head = found.subjects.get(term_id)
        shown = f"'{words}' in {_SHOWN[zone]}"
        if head:  # "Community Engagement Support Service": what the support service is about
            shown, zone = f"{shown}, the subject of the '{head}' bought (counted once)", OPENING
        weight = weights[zone]
        for use, rule in prepared.uses[term_id]:
            if use.role == KEYWORD:
                # A line's negative keyword ("IT training" in Training) is a negative too: it counts
                # only where it says what the work is.
                counts = use.points > 0 or zone in (TITLE, OPENING)
                if use.points and weight and counts:
                    lines[use.line].append(Reason(use.points * weight, rule, shown))
                if use.points > 0 and weight and zone in _NAMING_ZONES:
                    naming.add(use.line)
            elif use.role == ADJUST and use.points > 0:
                adjusting.append(Reason(use.points, rule, shown))
            elif zone in (LOTS, REST):
                continue
            elif use.role == EXCLUDE:
                name = profile.service_lines[use.line].name
                vetoes.setdefault(use.line, Reason(0, rule, f"{name} ruled out: {shown}"))
            elif use.points:
                adjusting.append(Reason(use.points, rule, shown))
    return lines, vetoes, adjusting, naming


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
    ceiling = profile.scale.possible - 1
    if total > ceiling and not any(_is_line_keyword(reason) and reason.points > 0 for reason in reasons):
        # A buyer's CPV codes are often wrong: without a word of the firm's work, no band.
        reasons.append(
            Reason(ceiling - total, NO_KEYWORD, f"CPV codes alone: kept below possible ({ceiling:g})")
        )
        total = ceiling
    raw = round(total, 2)  # float sums of halves and weights: 137.00000000001 is 137
    if total > 100:
        shown = f"raw {raw:g}, shown as 100; ranked by the raw total"
        reasons.append(Reason(100 - raw, "score cap", shown))
    elif total < 0:
        reasons.append(Reason(-raw, "score floor", f"raw {raw:g}, shown as 0: scores stop at 0"))
    score = min(100, max(0, shown_score(total)))
    return Score(score, band_for(score, profile), line, tuple(reasons), raw, profile.scale.possible)


def shown_score(total: float) -> int:
    """The score a total is shown as: rounded half up (21.5 is 22)."""
    return math.floor(total + 0.5)


def band_for(score: float, profile: Profile) -> str:
    if score >= profile.scale.strong:
        return "strong"
    return "possible" if score >= profile.scale.possible else "none"
