"""Routes to market: frameworks, dynamic purchasing systems, dynamic markets and approved lists.

Their value is a ceiling shared by many suppliers over years, not one contract's size, so scoring
judges them by scope (the service lines) and never by value. The structured flags say so when a
notice has them (OCDS `techniques`, the dynamic market notice types UK13-UK16); otherwise the words
do: imported notices, Contracts Finder and the portals rarely carry the flags, but their titles and
descriptions say "this notice involves the setting up of a dynamic purchasing system".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from store.notice import Notice

DYNAMIC_MARKET_TYPES = frozenset({"UK13", "UK14", "UK15", "UK16"})
_FLEXIBLE = r"flexible (?:procurement|purchasing) (?:system|agreement|arrangement)s?"
_WHO = r"(?:suppliers?|providers?|contractors?|consultants?)"
_LIST = rf"(?:approved|preferred|select(?:ed)?) {_WHO} (?:list|panel)s?"
_DPS_KIND = "dynamic purchasing system"
# Phrases that say the notice sets up a route, wherever they appear, each with the words one of
# which must be in the lower-cased text for the pattern to be tried: most descriptions hold none,
# and looking for a word costs far less than a pattern. The patterns are lower case and search the
# lower-cased text (a case-blind pattern is several times slower), bar the first: DPS counts only in
# capitals, so it searches the text as written.
_PHRASES = (
    # DPS as a word, not inside an e-mail address (DPS@council.gov.uk)
    (
        _DPS_KIND,
        ("dynamic purchasing", "dps"),
        re.compile(r"(?i:\bdynamic purchasing system)|(?<![\w.@])DPS(?![\w@]|\.\w)"),
    ),
    ("dynamic market", ("dynamic market",), re.compile(r"\bdynamic market\b")),
    ("flexible procurement system", ("flexible",), re.compile(rf"\b{_FLEXIBLE}\b")),
    (
        "approved list",
        ("approved", "preferred", "select list", "selected", "select supplier", "select provider"),
        re.compile(rf"\b(?:{_LIST}|approved list|select list)\b"),
    ),
    (
        "framework",
        ("framework",),
        re.compile(
            r"\b(?:framework agreements?|(?:multi|single)[- ]?(?:supplier|provider|lot) framework"
            r"|open framework|framework (?:of|for) (?:suppliers|providers|consultants|contractors)"
            r"|(?:establish|creat|set(?:ting)? up|put(?:ting)? in place)\w* (?:a|an|the|this|its|new)"
            r"(?: [\w-]+){0,4} framework"
            # a framework's value is the route's ceiling; a call-off states its own value
            r"|framework value|value of (?:the|this) framework)\b"
        ),
    ),
)
_HINTS = tuple(hint for _, hints, _ in _PHRASES for hint in hints)
_REACH = 160  # characters a phrase reaches either side of its hint, with room to spare
# ... or, before it, words: "putting in place a" and four words of any length before "framework" are
# nine spaces back, however long the words (a hyphenated name can be longer than `_REACH`).
_SPACES_BEFORE = 9
# "Framework" alone in a title is the route ("Management Consultancy Framework"), unless it names a
# document the work is about ("Practice Framework Development").
_TITLE_FRAMEWORK = re.compile(r"\bframeworks?\b", re.IGNORECASE)
_DOCUMENT_FRAMEWORK = re.compile(
    r"\b(?:practice|evaluation|outcomes?|competency|competencies|quality|assurance|policy|performance"
    r"|capability|skills|governance|accountability|monitoring|results|risk|strategic|values"
    r"|behaviours?|improvement|safeguarding|reporting|measurement|validation|assessment|testing"
    r"|maturity|prioritisation) frameworks?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Route:
    """A route to market the notice sets up, and the evidence for it."""

    kind: str
    evidence: str

    @property
    def detail(self) -> str:
        return f"{self.kind} ({self.evidence})"


def route_of(notice: Notice) -> Route | None:
    """The route to market the notice sets up, if its data or its words say so."""
    if notice.notice_type in DYNAMIC_MARKET_TYPES:
        return Route("dynamic market", f"a {notice.notice_type} notice")
    if notice.framework:
        return Route("framework or DPS", "flagged in the notice's data")
    for where, text in (("title", notice.title or ""), ("description", notice.description or "")):
        found = _phrase_in(text)
        if found:
            return Route(found[0], f"'{found[1]}' in the {where}")
    title = notice.title or ""
    found = "framework" in title.lower() and _TITLE_FRAMEWORK.search(title)
    if found and not _DOCUMENT_FRAMEWORK.search(title):
        return Route("framework", f"'{found.group(0)}' in the title")
    return None


def _phrase_in(text: str) -> tuple[str, str] | None:
    """(kind of route, the words as written) for the first phrase of `_PHRASES` in the text."""
    lower = text.lower()
    present = [hint for hint in _HINTS if hint in lower]  # each hint looked for once
    if not present:
        return None
    # Lower-casing keeps each character's place except for "İ", which becomes two characters: then
    # the words are shown lower-cased. (A case-blind pattern also read the dotless i and the long s
    # as i and s; no notice writes them.)
    same_places = len(lower) == len(text)
    for kind, hints, pattern in _PHRASES:
        as_written = kind == _DPS_KIND
        searched = text if as_written else lower
        near = [hint for hint in hints if hint in present]
        if not near:
            continue
        found = _first_near(pattern, searched, lower, near) if same_places else pattern.search(searched)
        if found:
            start, end = found.span()
            return kind, text[start:end] if as_written or same_places else found.group(0)
    return None


def _first_near(pattern: re.Pattern[str], text: str, lower: str, hints: list[str]) -> re.Match[str] | None:
    """The pattern's first match in the text, looked for only around its hints (every phrase holds
    one, from `_window_start` before it to `_REACH` characters after it): searching a long description
    whole costs several times more."""
    first = None
    for hint in hints:
        at = lower.find(hint)
        while at >= 0:
            begin = _window_start(lower, at)
            if first is not None and begin >= first.start():
                break  # a later hint's window starts later still
            stop = lower.find(" ", at + len(hint) + _REACH)  # the end of a word: \b must not be cut
            found = pattern.search(text, begin, len(text) if stop < 0 else stop)
            if found and (first is None or found.start() < first.start()):
                first = found
            at = lower.find(hint, at + 1)
    # Matched again from its start in the whole text: a window's end can cut a greedy phrase short
    # ("establish a new framework" of "establish a new framework for the framework").
    return pattern.match(text, first.start()) if first else None


def _window_start(lower: str, at: int) -> int:
    """Where a phrase holding a hint at `at` can begin: `_REACH` characters or `_SPACES_BEFORE`
    spaces before it, whichever is earlier."""
    begin = at
    for _ in range(_SPACES_BEFORE):
        begin = lower.rfind(" ", 0, begin)
        if begin < 0:
            return 0
    return max(0, min(begin, at - _REACH))
