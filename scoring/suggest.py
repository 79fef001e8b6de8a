"""Rule changes the team's feedback supports: the bid lead's assistant behind `tenderwatch rules suggest`.

From the judged notices (relevant / not relevant) it proposes, each tried on those notices first:

* a keyword for a service line, from the words that name the work (title and description's opening)
  of relevant notices no band found;
* a negative keyword, from the words that name the work of not-relevant notices a band holds and of
  no relevant notice;
* half the weight of a line's keyword that fires on a not-relevant notice in a band, or half as much
  again for one that fires on a relevant notice no band found;
* band thresholds calibrated on the feedback.

A suggestion is kept only when it helps: the shortlist's F2 (strong + possible; recall weighs twice
as much as precision, as a missed opportunity costs more than one to read) rises, or stays and the
strong band's F0.5 (precision weighs twice as much) rises. A keyword or weight must also move at
least two judged notices the right way (`_sound`); thresholds are chosen over all of them. They are
ranked by that gain. Everything here is pure:
the store supplies the judged notices and, for what a change adds and drops on history, the rest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from scoring.backtest import Agreement, Change, agreement
from scoring.engine import score_notice, shown_score, split_description
from scoring.matching import Matcher, Term, parse_term, split_words, stems_of
from scoring.profile import Keyword, Profile
from scoring.result import LEARNED, Score
from store.notice import Notice

RELEVANT = "relevant"
_MAX_WORDS = 3
_CANDIDATES = 40  # phrases of each kind tried in full (the most promising first)
_POINTS = (5.0, 10.0, 15.0, 20.0)  # tried for each phrase; the best is kept
# Words too common in notices to name the work on their own (the ends of a phrase are never these).
_STOPWORD_TEXT = """
a an the and or of for to in on at by with from into as is are be will this that these those its
their our we you it all any each per via under over within across between up out new other such
than then there which who whom whose what when where how not no nor only also both either
provision provide providing provider providers supply service services contract contracts tender
tenders tendering procurement procure procuring notice lot lots requirement requirements council
county borough city district authority authorities department government nhs trust uk england
wales scotland northern ireland london 2024 2025 2026 2027 2028 2029 2030 year years phase
project projects programme programmes work works support deliver delivery seeking seek invite
invites invited opportunity organisation organisations suppliers supplier bidders bidder
including include includes required require requires intend intends intended whether would could
should may might must can has have had been being was were do does did so if but about after
before during while through more most some very well own same further here once again because
since until upon whilst however therefore thus etc
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Fit:
    """How a set of bands agrees with the feedback, as the two numbers suggestions are ranked on."""

    agreement: Agreement

    @property
    def shortlist(self) -> float:
        """F2 of strong + possible: recall weighs twice as much as precision."""
        return _f_beta(self.agreement.precision, self.agreement.recall, 2.0)

    @property
    def strong(self) -> float:
        """F0.5 of strong alone: precision weighs twice as much as recall."""
        return _f_beta(self.agreement.strong_precision, self.agreement.strong_recall, 0.5)


@dataclass
class Suggestion:
    """One rule change: what to paste, the changed profile, and what it does."""

    summary: str
    where: str  # the place in the rules file, e.g. "service_lines > Evaluation > keywords"
    yaml: str  # the line to paste there (or the value to change)
    profile: Profile
    before: Fit
    after: Fit
    moved: list[Change] = field(default_factory=list)  # labelled notices whose band changes
    history_added: list[Change] = field(default_factory=list)
    history_dropped: list[Change] = field(default_factory=list)
    touches: Callable[[Notice], bool] | None = None  # which notices it can change (None: every one)
    sound: bool = True  # moves enough judged notices the right way to trust it beyond them
    replaces: bool = False  # its lines change keys the file has (a weight, a band), not new ones

    @property
    def gain(self) -> tuple[float, float]:
        return (
            round(self.after.shortlist - self.before.shortlist, 9),
            round(self.after.strong - self.before.strong, 9),
        )

    @property
    def helps(self) -> bool:
        shortlist, strong = self.gain
        return self.sound and (shortlist > 0 or (shortlist == 0 and strong > 0))


@dataclass(frozen=True)
class Judged:
    """A judged notice, its label, and its score under the live rules."""

    notice: Notice
    label: str
    live: Score


def suggest(profile: Profile, judged: Iterable[Judged], limit: int | None = 10) -> list[Suggestion]:
    """The rule changes that help most against the feedback, best first (at most `limit`; None: all)."""
    judged = list(judged)
    if not any(item.label == RELEVANT for item in judged):
        return []
    labels = {item.notice.id: item.label for item in judged}
    live_bands = {item.notice.id: item.live.band for item in judged}
    before = Fit(agreement(live_bands, labels))
    grams = {item.notice.id: _grams(tuple(stems_of(split_words(_work_text(item.notice))))) for item in judged}
    tried: list[Suggestion] = []
    for make in (_keyword_candidates, _negative_candidates, _weight_candidates):
        for summary, where, yaml, changed, touches in make(profile, judged, grams):
            tried.append(_try(summary, where, yaml, changed, touches, judged, labels, before))
            tried[-1].replaces = make is _weight_candidates
    tried += _band_suggestions(profile, judged, labels, before)
    helpful = [item for item in tried if item.helps]
    helpful.sort(key=lambda item: (item.gain, -len(item.moved)), reverse=True)
    return _distinct(helpful)[:limit]


def add_history(suggestions: list[Suggestion], history: Iterable[tuple[Notice, Score]]) -> None:
    """Fill each suggestion's moves on history (every stored notice, with its live score)."""
    for notice, live in history:
        for suggestion in suggestions:
            if suggestion.touches is not None and not suggestion.touches(notice):
                continue
            after = score_notice(notice, suggestion.profile)
            if after.band != live.band:
                change = Change(notice.id, notice.title, live, after)
                moves = suggestion.history_added if change.direction == "up" else suggestion.history_dropped
                moves.append(change)


# ------------------------------------------------------------------------------------------ candidates

Candidate = tuple[str, str, str, Profile, Callable[[Notice], bool] | None]


def _keyword_candidates(
    profile: Profile, judged: list[Judged], grams: Mapping[str, set[tuple[str, ...]]]
) -> Iterable[Candidate]:
    """A keyword for a line, from the words naming the work of relevant notices no band found."""
    missed = [item for item in judged if item.label == RELEVANT and item.live.band == "none"]
    usual = _usual_line(profile, judged)
    for phrase, sources in _phrases(profile, missed, judged, grams, for_relevant=True):
        line = _line_for(profile, sources[0], phrase, usual)
        term = parse_term(phrase)
        touches = _containing(term)
        name = profile.service_lines[line].name
        for points in _POINTS:
            lines = list(profile.service_lines)
            lines[line] = replace(lines[line], keywords=(*lines[line].keywords, Keyword(term, points)))
            yield (
                f'add "{phrase}: {points:g}" to the service line "{name}"',
                f"service_lines > {name} > keywords",
                f"{phrase}: {points:g}",
                replace(profile, service_lines=tuple(lines)),
                touches,
            )


def _negative_candidates(
    profile: Profile, judged: list[Judged], grams: Mapping[str, set[tuple[str, ...]]]
) -> Iterable[Candidate]:
    """A negative keyword, from the words naming the work of not-relevant notices in a band."""
    wrong = [item for item in judged if item.label != RELEVANT and item.live.band != "none"]
    for phrase, _ in _phrases(profile, wrong, judged, grams, for_relevant=False):
        term = parse_term(phrase)
        touches = _containing(term)
        for points in _POINTS:
            keywords = (*profile.adjustments.keywords, Keyword(term, -points))
            yield (
                f'add the negative keyword "{phrase}: {-points:g}"',
                "adjustments > keywords",
                f"{phrase}: {-points:g}",
                replace(profile, adjustments=replace(profile.adjustments, keywords=keywords)),
                touches,
            )


def _weight_candidates(
    profile: Profile, judged: list[Judged], grams: Mapping[str, set[tuple[str, ...]]]
) -> Iterable[Candidate]:
    """Halve a line's keyword that fires mostly on wrong notices; raise one that fires on missed ones."""
    fired: dict[str, list[Judged]] = defaultdict(list)
    for item in judged:
        for reason in item.live.reasons:
            if reason.rule.startswith("keyword ") and reason.points > 0:
                fired[reason.rule].append(item)
    for index, line in enumerate(profile.service_lines):
        for position, keyword in enumerate(line.keywords):
            items = fired.get(f"keyword {keyword.term}", [])
            wrong = sum(1 for item in items if item.label != RELEVANT and item.live.band != "none")
            missed = sum(1 for item in items if item.label == RELEVANT and item.live.band == "none")
            for factor, worth in ((0.5, wrong > 0), (1.5, missed > 0)):
                points = float(round(keyword.points * factor))
                if not worth or points == keyword.points or keyword.points <= 0:
                    continue
                keywords = list(line.keywords)
                keywords[position] = Keyword(keyword.term, points)
                lines = list(profile.service_lines)
                lines[index] = replace(line, keywords=tuple(keywords))
                verb = "lower" if factor < 1 else "raise"
                yield (
                    f'{verb} "{keyword.term.text}" in "{line.name}" from {keyword.points:g} to {points:g}',
                    f"service_lines > {line.name} > keywords",
                    f"{_written(keyword.term)}: {points:g}",
                    replace(profile, service_lines=tuple(lines)),
                    _containing(keyword.term),
                )


def _band_suggestions(
    profile: Profile, judged: list[Judged], labels: Mapping[str, str], before: Fit
) -> list[Suggestion]:
    """New band thresholds: `possible` for the best shortlist, then `strong` for the best strong band.

    The search reads the live scores as they would move (a near miss the learned words lifted sits at
    `possible`, and goes with it); each suggestion's figures are then its notices scored again."""
    scale = profile.scale
    scores = [_threshold_free(item.live) for item in judged]
    lifted = [any(reason.rule == LEARNED for reason in item.live.reasons) for item in judged]

    def fit(strong: float, possible: float) -> Fit:
        bands = {}
        for item, score, was_lifted in zip(judged, scores, lifted, strict=True):
            # The learned words lift it to `possible`, wherever that is.
            shown = max(score, possible) if was_lifted else score
            bands[item.notice.id] = (
                "strong" if shown >= strong else "possible" if shown >= possible else "none"
            )
        return Fit(agreement(bands, labels))

    ceiling = min(scale.strong, 100) - 1
    # Above `promote_from`, or the rules would lift nothing (`rules check` refuses that).
    lowest = max(5, int(profile.learned.promote_from) + 1) if profile.learned else 5
    if lowest > ceiling:
        return []
    possible = max(
        range(lowest, int(ceiling) + 1), key=lambda value: (fit(scale.strong, value).shortlist, value)
    )
    strong = max(
        range(int(possible) + 1, 101),
        key=lambda value: (fit(value, possible).strong, -abs(value - scale.strong)),
    )
    found = []
    for new_strong, new_possible in ((scale.strong, possible), (strong, possible)):
        if (new_strong, new_possible) == (scale.strong, scale.possible):
            continue
        changed = replace(
            profile, scale=replace(scale, strong=float(new_strong), possible=float(new_possible))
        )
        summary = f"set the bands to strong {new_strong:g}, possible {new_possible:g}"
        yaml = f"strong: {new_strong:g}\npossible: {new_possible:g}"
        suggestion = _try(summary, "scoring > bands", yaml, changed, None, judged, labels, before)
        suggestion.sound = True  # a threshold is no fluke of a few notices' words
        suggestion.replaces = True
        found.append(suggestion)
    return found


def _threshold_free(score: Score) -> float:
    """The score as no band threshold moved it: without the learned words' lift to `possible`; -1 when
    no keyword matched (CPV codes alone stay below `possible`, wherever it is set)."""
    if not _has_keyword(score):
        return -1
    lift = sum(reason.points for reason in score.reasons if reason.rule == LEARNED)
    return min(100, max(0, shown_score(score.raw - lift))) if lift else score.score


# ------------------------------------------------------------------------------------------ trying


def _try(
    summary: str,
    where: str,
    yaml: str,
    changed: Profile,
    touches: Callable[[Notice], bool] | None,
    judged: list[Judged],
    labels: Mapping[str, str],
    before: Fit,
) -> Suggestion:
    """Score the judged notices the change can touch under the changed profile, and measure."""
    moved = _moves(
        judged,
        lambda item: (
            score_notice(item.notice, changed) if touches is None or touches(item.notice) else item.live
        ),
    )
    after_bands = {item.notice.id: item.live.band for item in judged}
    after_bands.update({change.key: change.after.band for change in moved})
    suggestion = Suggestion(summary, where, yaml, changed, before, Fit(agreement(after_bands, labels)))
    suggestion.moved = moved
    suggestion.touches = touches
    suggestion.sound = _sound(moved, labels)
    return suggestion


def _sound(moved: list[Change], labels: Mapping[str, str]) -> bool:
    """Whether a rule change rests on more than one notice: the notices it moves up are relevant two
    to one (at least two), and those it moves down are not relevant (at least two, and none that is).
    Picking the best of many changes on a few judged notices otherwise finds flukes, not rules."""
    shortlist = [change for change in moved if "none" in (change.before.band, change.after.band)]
    weighed = shortlist or moved  # into or out of the shortlist; else into or out of strong
    up = [labels[change.key] == RELEVANT for change in weighed if change.direction == "up"]
    down = [labels[change.key] == RELEVANT for change in weighed if change.direction == "down"]
    ups_hold = not up or (sum(up) >= 2 and 2 * (len(up) - sum(up)) <= sum(up))
    downs_hold = not down or (len(down) >= 2 and not any(down))
    return bool(moved) and ups_hold and downs_hold


def _moves(judged: list[Judged], rescore: Callable[[Judged], Score]) -> list[Change]:
    moves = []
    for item in judged:
        after = rescore(item)
        if after.band != item.live.band:
            moves.append(Change(item.notice.id, item.notice.title, item.live, after))
    return moves


def _has_keyword(score: Score) -> bool:
    return any(reason.rule.startswith("keyword") and reason.points > 0 for reason in score.reasons)


def _distinct(suggestions: list[Suggestion]) -> list[Suggestion]:
    """The best of the suggestions that change the same rule, or move the same judged notices."""
    rules: set[tuple[str, str]] = set()
    effects: set[frozenset[tuple[str, str]]] = set()
    kept = []
    for suggestion in suggestions:
        rule = (suggestion.where, suggestion.yaml.split(":")[0])
        effect = frozenset(change.key for change in suggestion.moved)
        if rule in rules or (effect and effect in effects):
            continue
        rules.add(rule)
        effects.add(effect)
        kept.append(suggestion)
    return kept


# ------------------------------------------------------------------------------------------ words


def _work_text(notice: Notice) -> str:
    """The words that name the work: the title and the description's opening."""
    return f"{notice.title}\n{split_description(notice)[0]}"


def _phrases(
    profile: Profile,
    sources: list[Judged],
    judged: list[Judged],
    grams: Mapping[str, set[tuple[str, ...]]],
    *,
    for_relevant: bool,
) -> list[tuple[str, list[Judged]]]:
    """Phrases of 1-3 words naming the sources' work, most promising first.

    A phrase must name the work of at least two judged notices of its kind (relevant ones for a
    keyword, not-relevant ones for a negative keyword; three for a single word), so one notice's
    peculiar words are never proposed. A keyword's may name no more not-relevant notices' work than
    relevant ones'; a negative one's no relevant notice's.
    """
    known = _known_stems(profile)
    positive = {stem for key in _positive_stems(profile) for stem in key}
    found: dict[tuple[str, ...], tuple[str, list[Judged]]] = {}
    for item in sources:
        words = split_words(_work_text(item.notice))
        for size in range(1, _MAX_WORDS + 1):
            for start in range(len(words) - size + 1):
                phrase = words[start : start + size]
                stems = tuple(stems_of(phrase))
                if stems in known or not _worth_a_keyword(phrase):
                    continue
                if not for_relevant and positive.intersection(stems):
                    continue  # never a negative for the firm's own words ("digital", "strategic")
                text, holders = found.setdefault(stems, (" ".join(phrase), []))
                if item not in holders:
                    holders.append(item)
    kind = [grams[item.notice.id] for item in judged if (item.label == RELEVANT) == for_relevant]
    other = [grams[item.notice.id] for item in judged if (item.label == RELEVANT) != for_relevant]
    ranked = []
    for stems, (text, holders) in found.items():
        support = sum(1 for held in kind if stems in held)
        against = sum(1 for held in other if stems in held)
        # Characteristic of its kind: a keyword's phrase names mostly relevant notices' work (so it
        # is the firm's vocabulary, not a common word), a negative one no relevant notice's.
        needed = 3 if len(stems) == 1 else 2  # a single word is more often a coincidence
        if support < needed or (against > support if for_relevant else against > 0 or len(holders) < 2):
            continue
        ranked.append(((-len(holders), against - support, -len(text)), text, holders))
    ranked.sort(key=lambda found: found[0])
    return [(text, holders) for _, text, holders in ranked[:_CANDIDATES]]


def _worth_a_keyword(words: list[str]) -> bool:
    if words[0] in _STOPWORDS or words[-1] in _STOPWORDS:
        return False
    if len(words) == 1 and (len(words[0]) < 5 or words[0].isdigit()):
        return False
    return not any(word.isdigit() for word in words)


def _grams(stems: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {
        stems[start : start + size]
        for size in range(1, _MAX_WORDS + 1)
        for start in range(len(stems) - size + 1)
    }


def _positive_stems(profile: Profile) -> set[tuple[str, ...]]:
    terms = [item.term for line in profile.service_lines for item in line.keywords if item.points > 0]
    terms += [keyword.term for keyword in profile.adjustments.keywords if keyword.points > 0]
    return {_stems(term) for term in terms}


def _known_stems(profile: Profile) -> set[tuple[str, ...]]:
    terms = [keyword.term for line in profile.service_lines for keyword in line.keywords]
    terms += [term for line in profile.service_lines for term in line.exclude_terms]
    terms += [keyword.term for keyword in profile.adjustments.keywords]
    return {tuple(stems_of([word.lower() for word in term.words])) for term in terms}


def _line_for(profile: Profile, item: Judged, phrase: str, usual: int) -> int:
    """The service line a keyword from this notice belongs to: the notice's own; else the line whose
    keywords share most words with the phrase and the notice's title; else `usual`."""
    names = [line.name for line in profile.service_lines]
    if item.live.service_line in names:
        return names.index(item.live.service_line)
    wanted = set(stems_of(split_words(f"{phrase} {item.notice.title}")))
    overlap = [
        len(wanted & {stem for keyword in line.keywords for stem in _stems(keyword.term)})
        for line in profile.service_lines
    ]
    best = max(range(len(overlap)), key=lambda index: overlap[index])
    return best if overlap[best] else usual


def _usual_line(profile: Profile, judged: list[Judged]) -> int:
    """The line most relevant judged notices are matched to (the first line if none is)."""
    names = [line.name for line in profile.service_lines]
    counts = Counter(item.live.service_line for item in judged if item.label == RELEVANT)
    found = [name for name, _ in counts.most_common() if name in names]
    return names.index(found[0]) if found else 0


def _containing(term: Term) -> Callable[[Notice], bool]:
    """Whether a notice's text holds the term anywhere (so a change of it can move the notice)."""
    matcher = Matcher([term])

    def touches(notice: Notice) -> bool:
        text = "\n".join([notice.title, notice.description or ""] + [lot.title or "" for lot in notice.lots])
        text += "\n" + "\n".join(lot.description or "" for lot in notice.lots)
        return bool(matcher.find(text))

    return touches


def _stems(term: Term) -> tuple[str, ...]:
    return tuple(stems_of([word.lower() for word in term.words]))


def _written(term: Term) -> str:
    return f'"{term.text}"' if term.kind == "exact" else term.text


def _f_beta(precision: float | None, recall: float | None, beta: float) -> float:
    if not precision or not recall:
        return 0.0
    weight = beta * beta
    return (1 + weight) * precision * recall / (weight * precision + recall)
