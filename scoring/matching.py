"""Finding a profile's terms in notice text: word forms, exact phrases and case-sensitive acronyms.

A term is written by the bid lead in one of three ways:

* plain words (``service review``) match each word's own forms, word for word and in order: its
  plural, possessive and verb endings (-s, -es, -ies, -ed, -ing, a silent e dropped). "service
  reviews" and "services reviewed" match, "reviewing services" does not; ``consumer`` matches
  "consumers" and "consumer's" but not "consumed" or "consumption", which are other words (a stemmer
  such as Snowball's strips -er, -ion, -ment... and so joins them: `consultancy` matched
  "consultation", `clinics` "clinical");
* a quoted phrase (``"market engagement"``) matches exactly those words (case and punctuation aside);
* an ALL-CAPS term (``SEND``, ``PCC``) matches case-sensitively as whole words, so SEND is not "send".

Words are runs of ASCII letters and digits; a possessive 's is dropped ("children's" -> "children"),
other apostrophes are deleted ("don't" -> "dont"), "&" reads as "and", anything else separates words.
Words joined by "and" share what follows: "process and impact evaluation" also reads "process
evaluation" (for plain and quoted terms; a reading has no case, so never for an acronym).
For speed (a notice is scored in tens of microseconds) a text is split with a byte translation table,
each distinct word is reduced to its form once per matcher, and all terms are found in a single pass of an
Aho-Corasick automaton (pyahocorasick) over the space-joined stems.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import ahocorasick

STEM, EXACT, ACRONYM = "stem", "exact", "acronym"
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_KEEP = bytes(code if code in _ALNUM else 32 for code in range(256))
_LOWER = _KEEP.lower()
_POSSESSIVE = re.compile(r"'s\b")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?:[\s-]+[A-Z][A-Z0-9]*)*")
_VOWELS = frozenset("aeiouy")
_KEEP_DOUBLE = frozenset("lsz")  # "installed" is install, "assessed" assess; "planned" is plan
_NOT_PLURAL = ("ss", "us", "is")  # process, status, analysis
_SIBILANT = ("s", "x", "z", "ch", "sh")  # processes, boxes, churches: -es is the plural
# Word -> stem, shared by every matcher: stems never change, and notices reuse a small vocabulary.
_STEMS: dict[str, str] = {}
_CACHE_LIMIT = 1_000_000


@dataclass(frozen=True)
class Term:
    """A keyword as the bid lead wrote it, and the word sequence it matches."""

    text: str
    kind: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f'"{self.text}"' if self.kind == EXACT else self.text


def parse_term(text: str, *, quoted: bool = False) -> Term:
    """The term for `text`; `quoted` when the YAML scalar was in quotes. Raises ValueError if empty."""
    raw = text.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw, quoted = raw[1:-1].strip(), True
    words = split_words(raw)
    if not words or not any(char.isalnum() for char in raw):  # "&" alone would match every "and"
        raise ValueError("has no letters or digits to match")
    if quoted:
        return Term(raw, EXACT, tuple(words))
    if _ACRONYM.fullmatch(raw):
        return Term(raw, ACRONYM, tuple(split_words(raw, lower=False)))
    return Term(raw, STEM, tuple(stems_of(words)))


def split_words(text: str, *, lower: bool = True) -> list[str]:
    """The text's words, lowercased or as written (ASCII letters and digits; others separate)."""
    return _ascii(text).translate(_LOWER if lower else _KEEP, b"'").decode("ascii").split()


def _ascii(text: str) -> bytes:
    """The text as ASCII bytes, "&" as "and", without possessive 's (other apostrophes: `translate`)."""
    if "&" in text:
        text = text.replace("&", " and ")
    if "'" in text or "\u2019" in text or "\u2018" in text:
        text = _POSSESSIVE.sub("", text.replace("\u2019", "'").replace("\u2018", "'"))
    return text.encode("ascii", "replace")


def stems_of(words: list[str]) -> list[str]:
    if len(_STEMS) > _CACHE_LIMIT:
        _STEMS.clear()  # before looking, so that every word of this call is in it afterwards
    missing = list(set(words).difference(_STEMS))
    if missing:
        _STEMS.update(zip(missing, map(word_form, missing), strict=True))
    return list(map(_STEMS.__getitem__, words))


def word_form(word: str) -> str:
    """The word without its inflection (a lower-case word in, the key its forms share out).

    Only endings that make forms of the same word are taken off: plural and third person (-s, -es,
    -ies), past (-ed, -ied) and -ing, then a silent final e, so that review, reviews, reviewed and
    reviewing agree, and so do manage, managed and managing, study and studies. Endings that make
    another word (-er, -ion, -ment, -al, -ity, -ness...) stay: consumer is not consumed.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and word[:-2].endswith(_SIBILANT):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(_NOT_PLURAL):
        word = word[:-1]
    elif word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ed") and not word.endswith("eed") and len(word) > 4 and _VOWELS & set(word[:-2]):
        word = _undoubled(word[:-2])  # not need, proceed, exceed: the e is the word's own
    elif word.endswith("ing") and len(word) > 5 and _VOWELS & set(word[:-3]):
        word = _undoubled(word[:-3])  # not thing, string, spring
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _undoubled(stem: str) -> str:
    """planned -> plan, stopped -> stop; add, install and assess keep their double letter."""
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | _KEEP_DOUBLE:
        return stem[:-1]
    return stem


class Matcher:
    """Finds any of a fixed list of terms in a text; `find` returns {term index: words as found}.

    Every term is looked for by its stems, in one automaton: an exact phrase or an acronym occurs only
    where its stems do, and is then checked word for word (acronyms against the text as written).
    Words whose stems no term uses are replaced by "-" before the scan, which keeps the text short;
    each word is stemmed and classified once per matcher, then looked up.
    """

    def __init__(self, terms: Iterable[Term]):
        self.terms = tuple(terms)
        keys: dict[str, list[int]] = defaultdict(list)
        for term_id, term in enumerate(self.terms):
            stems = term.words if term.kind == STEM else stems_of([word.lower() for word in term.words])
            keys[" ".join(stems)].append(term_id)
        self._vocabulary = {stem for key in keys for stem in key.split()}
        # Neighbouring words within a term: a list "A and B C" is read as "A C" only where both
        # "A C" and "B C" are (see `_shared_readings`).
        self._pairs = {pair for key in keys for pair in itertools.pairwise(key.split())}
        # Every word seen -> its stem if some term uses that stem, else "-" (no term can match there).
        self._word_key: dict[str, str] = {"": "-"}
        self._automaton = ahocorasick.Automaton()
        for key, term_ids in keys.items():
            self._automaton.add_word(f" {key} ", (tuple(term_ids), key.count(" ") + 1, len(key) + 2))
        if keys:
            self._automaton.make_automaton()

    def find(self, text: str | None) -> dict[int, str]:
        """{term index: its words as found} for every term in the text (its first occurrence)."""
        return {term_id: words for term_id, (_, words) in self.find_in_parts([text]).items()}

    def find_in_parts(
        self, parts: Sequence[str | None], read_lists_in: int | None = None
    ) -> dict[int, tuple[int, str]]:
        """{term index: (the first part it occurs in, its words as found there)}, in one scan.

        A term never spans two parts, and each counts once, at its first occurrence: give the
        parts best first. In the first `read_lists_in` parts (all by default, none for 0), words joined by
        "and" share what follows them: "process and impact evaluation" is a process evaluation
        and an impact evaluation (see `_shared_readings`).
        """
        hits: dict[int, tuple[int, str]] = {}
        if not self.terms or not any(parts):
            return hits
        raws = [_ascii(part) if part else b"" for part in parts]
        words: list[str] = []
        ends: list[int] = []  # where each part's words end
        for raw in raws:
            words += raw.translate(_LOWER, b"'").decode("ascii").split()
            words.append("")  # between parts: no term's word, so no term spans two parts
            ends.append(len(words))
        try:
            keys = list(map(self._word_key.__getitem__, words))
        except KeyError:  # words never seen by this matcher: stem them once
            self._learn(set(words))
            keys = list(map(self._word_key.__getitem__, words))
        written = " ".join(keys)
        reading = len(ends) if read_lists_in is None else min(read_lists_in, len(ends))
        lists_end = ends[reading - 1] if reading else 0
        readings = _shared_readings(words, keys, ends, lists_end, self._pairs)
        words += readings.words  # after the text as written, so that its indexes stay as they are
        haystack = f" {written} {' '.join(readings.keys)} " if readings.keys else f" {written} "
        as_written: list[str] | None = None
        counted = _SpaceCount(haystack)
        for end, (term_ids, length, size) in self._automaton.iter(haystack):
            in_reading = end > len(written) + 1
            if term_ids[0] in hits and len(term_ids) == 1 and not in_reading:
                continue  # a word family seen before: each term counts once
            start = counted.before(end - size + 1)  # the index of the term's first word
            owner = readings.part_at(start) if in_reading else bisect_right(ends, start)
            for term_id in term_ids:
                if term_id in hits and hits[term_id][0] <= owner:
                    continue  # found already, in this part or a better one
                term = self.terms[term_id]
                if term.kind == STEM or (
                    term.kind == EXACT and tuple(words[start : start + length]) == term.words
                ):
                    hits[term_id] = (owner, " ".join(words[start : start + length]))
                elif term.kind == ACRONYM and (in_reading or (parts[owner] or "").isupper()):
                    continue  # a reading has no case; in text all in capitals case says nothing
                elif term.kind == ACRONYM:
                    # In text written all in capitals, case says nothing: "PLEASE SEND" is not SEND.
                    as_written = as_written or _written_words(raws)
                    if _is_acronym(as_written[start : start + length], term.words):
                        hits[term_id] = (owner, " ".join(as_written[start : start + length]))
        return hits

    def _learn(self, text_words: set[str]) -> None:
        """Key every word of a text not keyed yet (all of them, if the cache had to be emptied)."""
        if len(self._word_key) > _CACHE_LIMIT:
            self._word_key = {"": "-"}
        words = list(text_words.difference(self._word_key))
        for word, stem in zip(words, stems_of(words), strict=True):
            self._word_key[word] = stem if stem in self._vocabulary else "-"


class _SpaceCount:
    """The spaces before a place in the text, counted on from the last place asked about: matches
    come in order of their end, so the whole text is counted about once, not once per match."""

    def __init__(self, text: str):
        self._text, self._place, self._spaces = text, 0, 0

    def before(self, place: int) -> int:
        if place >= self._place:
            self._spaces += self._text.count(" ", self._place, place)
        else:
            self._spaces -= self._text.count(" ", place, self._place)
        self._place = place
        return self._spaces


@dataclass
class _Readings:
    """Word sequences scanned after the text as written, each owned by the part it was read in."""

    offset: int  # the index of their first word, after all the written words
    words: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    parts: list[int] = field(default_factory=list)

    def part_at(self, index: int) -> int:
        return self.parts[bisect_right(self.starts, index) - 1]


def _shared_readings(
    words: list[str], keys: list[str], ends: list[int], stop: int, pairs: set[tuple[str, str]]
) -> _Readings:
    """For each "A and B C D" within a part, the reading "A C D": buyers write "process and impact
    evaluation", "community and stakeholder engagement", "leadership and management development".
    (B C D is read where it stands.) Only where some term has "A C" and some term "B C", so that A
    and B are parallel modifiers of C, not a verb or a preposition ("capability and identify
    development needs", "home and in care settings"). Like written words, a reading does not see
    punctuation. `list.index` finds each "and" up to `stop`."""
    try:
        at = words.index("and", 1, stop)
    except ValueError:
        return _NO_READINGS  # the usual title and opening: no list to read
    readings = _Readings(offset=len(words))
    while True:
        if (
            at + 2 < len(keys)
            and (keys[at - 1], keys[at + 2]) in pairs
            and (keys[at + 1], keys[at + 2]) in pairs
        ):
            readings.starts.append(readings.offset + len(readings.words))
            readings.parts.append(bisect_right(ends, at))
            readings.words += [words[at - 1], *words[at + 2 : at + 4], ""]
            readings.keys += [keys[at - 1], *keys[at + 2 : at + 4], "-"]
        try:
            at = words.index("and", at + 1, stop)
        except ValueError:
            return readings


_NO_READINGS = _Readings(offset=0)  # shared and never changed: find_in_parts only reads it


def _written_words(raws: list[bytes]) -> list[str]:
    """The parts' words as written (case kept), aligned with the lower-case words `find_in_parts` scans."""
    written: list[str] = []
    for raw in raws:
        written += raw.translate(_KEEP, b"'").decode("ascii").split()
        written.append("")
    return written


def _is_acronym(written: list[str], acronym: tuple[str, ...]) -> bool:
    """The words as written are the acronym's, allowing a plural or possessive s (PCCs, PCC's)."""
    return all(word in (part, f"{part}s") for word, part in zip(written, acronym, strict=True))
