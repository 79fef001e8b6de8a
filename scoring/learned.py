"""Likeness to judged notices: a word model learnt from notices judged relevant or not, and the
promotion of near misses it allows.

The rules find the firm's work by its words; some must-see notices name it once, thinly, or in words
no rule holds, and fall a few points short of `possible`. A word model trained on judged notices
(the team's feedback, or the graded sets the example profile was measured on) says how much a notice
reads like the relevant ones. It never scores a notice alone: one in no band that already has
`promote_from` points and a line keyword is lifted to `possible` when its likeness reaches
`promote_at`, and the reason names the words that counted most.

The model is logistic regression over words (two letters or more, lower-cased, cut to their first
`STEM` letters) of the title, and of the description's first `DESCRIPTION_CHARS` characters at half
weight. Its weights are a plain-text file (`write_words`), so a bid lead can read what it learnt.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from store.notice import Notice
from tenderwatch.errors import InputError
from tenderwatch.files import undecodable_line

if TYPE_CHECKING:
    from scoring.profile import Profile

STEM, DESCRIPTION_CHARS, DESCRIPTION_WEIGHT = 7, 800, 0.5
TITLE, DESCRIPTION, BIAS = "title", "description", "bias"
_PLACES = {TITLE: "t:", DESCRIPTION: "d:"}
_PLACE_OF = {prefix: place for place, prefix in _PLACES.items()}
PROMOTE_FROM, PROMOTE_AT = 14.0, 0.8  # the defaults of a rules file's learned section
_WORD = re.compile(r"[a-z][a-z]+")
_COMMON = (
    "the and for of to in an on with by be is are will this that from as or at it its our their which all any"
)
_STOP = frozenset(_COMMON.split(" "))  # too common to tell notices apart
_PASSES, _STEP, _L2, _SEED = 15, 0.1, 1e-4, 1
_SHOWN_WORDS = 3
MIN_JUDGED = 20  # relevant and not relevant notices each: fewer teach the model nothing it can use
# `rules learn` learns a word only if three judged notices or more hold it: a name or an address part
# that one notice mentions (contacts are personal data) stays out of the words file and its output.
SEEN_IN = 3
GRADE_WEIGHT = {2: 3.0, 1: 1.5, 0: 1.0}  # a graded must see counts most: missing one costs most
LABEL_WEIGHT = {True: 2.0, False: 1.0}  # the team's relevant / not relevant, when no grade is known


@dataclass(frozen=True)
class Example:
    """A judged notice to learn from: relevant or not, and how much it counts (a must see most)."""

    notice: Notice
    relevant: bool
    weight: float = 1.0


@dataclass(frozen=True)
class Learned:
    """The `learned` section of a rules file, with the words file it names read in."""

    words: Path
    promote_from: float
    promote_at: float
    weights: Mapping[str, float] = field(compare=False, repr=False)
    digest: str = ""  # sha256 of the words file: a new model rescores every stored notice


@dataclass(frozen=True)
class Likeness:
    value: float  # 0-1: how much the notice reads like the relevant judged ones
    words: tuple[tuple[str, str], ...]  # the words that counted most: (word as written, place)

    @property
    def detail(self) -> str:
        shown = ", ".join(f"'{word}' in the {place}" for word, place in self.words)
        return f"reads like notices judged relevant ({self.value:.2f})" + (f": {shown}" if shown else "")


def features(notice: Notice) -> dict[str, tuple[float, str]]:
    """Each word-stem feature of the notice: its value and the word as first written."""
    found: dict[str, tuple[float, str]] = {}
    texts = (
        (TITLE, notice.title or "", 1.0),
        (DESCRIPTION, (notice.description or "")[:DESCRIPTION_CHARS], DESCRIPTION_WEIGHT),
    )
    for place, text, value in texts:
        for word in _WORD.findall(text.lower()):
            if word not in _STOP:
                found.setdefault(_PLACES[place] + word[:STEM], (value, word))
    return found


def likeness(weights: Mapping[str, float], notice: Notice) -> Likeness:
    found = features(notice)
    parts = [(weights.get(key, 0.0) * value, word, key) for key, (value, word) in found.items()]
    total = weights.get(BIAS, 0.0) + sum(part for part, _, _ in parts)
    best = sorted((part for part in parts if part[0] > 0), reverse=True)[:_SHOWN_WORDS]
    named = tuple((word, _PLACE_OF[key[:2]]) for _, word, key in best)
    return Likeness(_sigmoid(total), named)


def _sigmoid(total: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, total))))


def train(examples: Iterable[Example], *, seen_in: int = 1) -> dict[str, float]:
    """Weights learnt from the examples by stochastic gradient descent; the same examples in the same
    order always give the same weights. A word in fewer than `seen_in` notices is not learnt."""
    rows = [
        ({key: value for key, (value, _) in features(ex.notice).items()}, float(ex.relevant), ex.weight)
        for ex in examples
    ]
    if seen_in > 1:
        counts = Counter(key for found, _, _ in rows for key in found)
        rows = [({k: v for k, v in found.items() if counts[k] >= seen_in}, *rest) for found, *rest in rows]
    weights: dict[str, float] = {}
    shuffled = random.Random(_SEED)
    for _ in range(_PASSES):
        shuffled.shuffle(rows)
        for found, target, weight in rows:
            total = _total(weights, found)
            error = (_sigmoid(total) - target) * weight
            for key, value in (*found.items(), (BIAS, 1.0)):
                old = weights.get(key, 0.0)
                weights[key] = old - _STEP * (error * value + _L2 * old)
    return weights


def judged_examples(
    notices: Iterable[Notice], labels: Mapping[str, str], grades: Mapping[str, int]
) -> list[Example]:
    """The judged notices as examples, by id (so the same judgements always teach the same words): a
    grade (2, 1, 0) where one is given, else the team's label."""
    found = []
    for notice in sorted(notices, key=lambda notice: notice.id):
        if notice.id in grades:
            found.append(Example(notice, grades[notice.id] >= 1, GRADE_WEIGHT[grades[notice.id]]))
        elif notice.id in labels:
            relevant = labels[notice.id] == "relevant"
            found.append(Example(notice, relevant, LABEL_WEIGHT[relevant]))
    return found


def enough_to_learn(examples: list[Example]) -> None:
    """InputError unless there are MIN_JUDGED relevant and MIN_JUDGED not relevant notices."""
    relevant = sum(example.relevant for example in examples)
    other = len(examples) - relevant
    if min(relevant, other) < MIN_JUDGED:
        raise InputError(
            f"too few judged notices to learn from: {relevant} relevant and {other} not relevant among "
            f"the stored notices; judge at least {MIN_JUDGED} of each (`tenderwatch feedback`, or "
            "`tenderwatch feedback import`) and run it again"
        )


def strongest(weights: Mapping[str, float], count: int) -> tuple[list[str], list[str]]:
    """The words that count most for and against relevance: "'evaluat' (title)"."""
    ranked = sorted((weight, key) for key, weight in weights.items() if key != BIAS)
    named = [f"'{key[2:]}' ({_PLACE_OF[key[:2]]})" for _, key in ranked]
    return named[::-1][:count], named[:count]


def with_weights(profile: Profile, weights: Mapping[str, float], label: str) -> Profile:
    """The profile scoring with these weights (its promotion settings, or the defaults); `label` stands
    in for the words file's digest in its rules hash."""
    settings = profile.learned or Learned(Path("-"), PROMOTE_FROM, PROMOTE_AT, {})
    return replace(profile, learned=replace(settings, weights=weights, digest=label))


def checked_on_halves(profile: Profile, examples: list[Example], *, seen_in: int = 1) -> tuple[int, int]:
    """Notices the promotion lifts into possible when the model is learnt from one half of the
    examples and tried on the other (then swapped): (relevant, not relevant). An honest preview: a
    model always agrees with the notices it learnt from."""
    from scoring.engine import score_notice  # the engine reads this module: imported when needed

    alone = replace(profile, learned=None)
    halves: tuple[list[Example], list[Example]] = ([], [])
    for example in examples:
        halves[hashlib.sha1(example.notice.id.encode()).digest()[0] % 2].append(example)
    lifted = [0, 0]
    for number, tried in enumerate(halves):
        model = with_weights(profile, train(halves[1 - number], seen_in=seen_in), f"half {number}")
        for example in tried:
            if score_notice(example.notice, alone).band == "none" != score_notice(example.notice, model).band:
                lifted[0 if example.relevant else 1] += 1
    return lifted[0], lifted[1]


def _total(weights: Mapping[str, float], found: Mapping[str, float]) -> float:
    return weights.get(BIAS, 0.0) + sum(weights.get(key, 0.0) * value for key, value in found.items())


def write_words(path: Path, weights: Mapping[str, float], heading: str) -> None:
    """The weights as a tab-separated text file: place, word (its first letters), weight; the words
    that count most first. Weights too small to matter are left out."""
    kept = sorted(
        ((key, weight) for key, weight in weights.items() if key == BIAS or abs(weight) >= 0.01),
        key=lambda item: (item[0] != BIAS, -abs(item[1]), item[0]),
    )
    lines = [f"# {line}" for line in heading.splitlines()]
    lines += ["# place\tword\tweight (place: title or description; a word is its first 7 letters)"]
    for key, weight in kept:
        place, word = (BIAS, "") if key == BIAS else (_PLACE_OF[key[:2]], key[2:])
        lines.append(f"{place}\t{word}\t{weight:.4f}")
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write {path} ({exc.strerror or exc}); choose a folder that exists"
        ) from None


def read_words(path: Path) -> tuple[dict[str, float], str]:
    """The weights of a words file and its sha256; InputError naming the file and line if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the learned words file ({exc.strerror or exc}); check the path "
            "(`tenderwatch rules learn` writes such a file)"
        ) from None
    except UnicodeDecodeError as exc:  # edited and saved by a spreadsheet or an editor in Latin-1
        raise InputError(
            f"{path}:{undecodable_line(exc)}: not UTF-8 text; save the learned words file as UTF-8 "
            "(or write it again with `tenderwatch rules learn`)"
        ) from None
    weights: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        weights.update([_weight(path, number, line)])
    if BIAS not in weights:
        raise InputError(f"{path}: no bias line; write the file with `tenderwatch rules learn`")
    return weights, hashlib.sha256(text.encode()).hexdigest()


def _weight(path: Path, number: int, line: str) -> tuple[str, float]:
    parts = line.split("\t")
    fix = "each line is place, word and weight separated by tabs, e.g. title<tab>review<tab>1.25"
    if len(parts) != 3 or parts[0] not in (TITLE, DESCRIPTION, BIAS):
        raise InputError(f"{path}:{number}: '{line[:60]}' is not a weight; {fix}")
    place, word, weight = parts
    try:
        value = float(weight)
    except ValueError:
        raise InputError(f"{path}:{number}: weight '{weight}' is not a number; {fix}") from None
    if not math.isfinite(value) or (place != BIAS and not _WORD.fullmatch(word)):
        raise InputError(f"{path}:{number}: '{line[:60]}' is not a weight; {fix}")
    return (BIAS if place == BIAS else _PLACES[place] + word), value
