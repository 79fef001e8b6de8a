"""A scoring profile: the bid lead's YAML rules file, validated into frozen dataclasses.

Every mistake is reported as ``FILE:LINE: field.path: what is wrong; what to do`` (ProfileError, an
InputError, so the CLI exits 2). The layout is documented in the shipped example profile
(scoring/profiles/example.yaml) and in docs/scoring.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scoring.learned import PROMOTE_AT, PROMOTE_FROM, Learned, read_words
from scoring.matching import Term, parse_term
from scoring.yamlnodes import Field, ProfileError, compose, compose_text
from store.regions import known_region
from tenderwatch.errors import ConfigError, InputError

if TYPE_CHECKING:
    from tenderwatch.config import ScoringConfig

# Bump when the engine's arithmetic changes, so every stored score is recomputed.
# 4: a runner-up line counts words only; a route earns points only when the work is named.
# (negative_cap needed no new version: it is a rule of the profile, and Scale is in the rules hash.)
# 5: a stated framework value ("total framework value", "value of the framework") marks a route.
# 6: the firm's words before a negative that ends a part of the title count as the opening's
#    ("Community Engagement Support Service" is a support service).
# 7: words joined by "and" share the words after them ("process and impact evaluation").
# 8: a title term named as the work in another part of the title keeps its title weight.
# 9: CPV codes alone (no category) gate the kind only when the title names none of the firm's work.
# 10: such a notice is held below strong; another title part names the work only on its own.
# 11: a near miss that reads like notices judged relevant is lifted to possible (scoring/learned.py).
ENGINE_VERSION = 11
KINDS = ("services", "goods", "works")
STAGES = ("planning", "tender", "award", "contract")
NOTICE_TYPES = tuple(f"UK{number}" for number in range(1, 18))
POINTS = (-100.0, 100.0)
_CPV = re.compile(r"^(\d{2,8})\*?(?:-\d)?$")
TRIAL_PREFIX = "file:"
SHIPPED = Path(__file__).resolve().parent / "profiles"  # the example profile and its learned words
_RULES_FILE = re.compile(r"[/\\]|\.ya?ml$", re.I)  # a path, not a profile name


@dataclass(frozen=True)
class Keyword:
    term: Term
    points: float


@dataclass(frozen=True)
class CpvRule:
    prefix: str  # digits without trailing zeros: "79419" matches 79419000 and below
    points: float


@dataclass(frozen=True)
class ServiceLine:
    name: str
    keywords: tuple[Keyword, ...]
    cpv: tuple[CpvRule, ...] = ()
    exclude_terms: tuple[Term, ...] = ()
    exclude_cpv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scale:
    title_weight: float = 2.0
    description_weight: float = 1.0
    opening_weight: float = 1.0  # the description's first sentence and the lots' titles
    cpv_cap: float = 20.0
    second_line_share: float = 0.0  # how much of the runner-up service line's points also count
    negative_cap: float | None = None  # negative adjustment keywords take away at most this, together
    strong: float = 50.0
    possible: float = 25.0


@dataclass(frozen=True)
class Gates:
    kinds: tuple[str, ...] = KINDS
    notice_types: tuple[str, ...] = NOTICE_TYPES
    untyped_stages: tuple[str, ...] = STAGES
    regions: tuple[str, ...] = ()
    max_value: float | None = None
    exclude_buyers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueBand:
    low: float | None = None
    high: float | None = None
    in_range: float = 0.0
    below: float = 0.0
    above: float = 0.0


@dataclass(frozen=True)
class Adjustments:
    value: ValueBand = ValueBand()
    sme_suitable: float = 0.0
    sme_not_suitable: float = 0.0
    kind_mismatch: float = 0.0
    route: float = 0.0  # a framework, DPS, dynamic market or approved list (scoring/routes.py)
    buyers: tuple[tuple[str, float], ...] = ()
    keywords: tuple[Keyword, ...] = ()


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path | None
    service_lines: tuple[ServiceLine, ...]
    scale: Scale = Scale()
    gates: Gates = Gates()
    adjustments: Adjustments = Adjustments()
    min_response_days: int = 7
    description: str = ""
    learned: Learned | None = None
    # Always computed from the rules, so a changed copy (dataclasses.replace) never keeps a stale hash.
    hash: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", rules_hash(self))


def rules_hash(profile: Profile) -> str:
    """sha256 of what decides scores (not the name, description or timing), in a canonical form."""
    rules = {
        "engine": ENGINE_VERSION,
        "scale": asdict(profile.scale),
        "gates": asdict(profile.gates),
        "adjustments": asdict(profile.adjustments),
        "service_lines": [asdict(line) for line in profile.service_lines],
    }
    if profile.learned is not None:
        learned = profile.learned
        rules["learned"] = [learned.promote_from, learned.promote_at, learned.digest]
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()


def load_profile(path: str | Path, name: str | None = None) -> Profile:
    """Read and validate a rules file; raises ProfileError naming file, line and field."""
    path = Path(path)
    return _profile(compose(path), name, path)


def load_profile_text(text: str, name: str, label: str, folder: Path | None = None) -> Profile:
    """Rules given as text (a draft in the browser, a published version in the store), validated as a
    file is; errors name `label` in place of a file. A learned words file is found in `folder` (the
    profile's rules file's folder), as it would be beside a rules file."""
    return _profile(compose_text(text, label), name, None, folder)


def _profile(root: Field, name: str | None, path: Path | None, folder: Path | None = None) -> Profile:
    """Each top-level section and each service line is validated on its own, so one save shows
    every independent mistake (ProfileError.mistakes); the first is the one raised."""
    top = root.mapping(
        (
            "name",
            "description",
            "min_response_days",
            "scoring",
            "gates",
            "adjustments",
            "learned",
            "service_lines",
        ),
        required=("service_lines",),
    )
    found = _Mistakes()
    scale = found.check(_scale, top["scoring"]) if "scoring" in top else Scale()
    lines = found.check(_service_lines, top["service_lines"], found)
    gates = found.check(_gates, top["gates"]) if "gates" in top else Gates()
    adjustments = found.check(_adjustments, top["adjustments"]) if "adjustments" in top else Adjustments()
    days = found.check(_number, top["min_response_days"], 0, 365, "7") if "min_response_days" in top else 7
    description = found.check(_text, top["description"]) if "description" in top else ""
    folder = path.parent if path else folder
    possible = scale.possible if scale else None  # unknown when the scoring section has a mistake
    learned = found.check(_learned, top["learned"], folder, possible) if "learned" in top else None
    if name is None and "name" in top:
        name = found.check(Field.text, top["name"])
    found.raise_any()
    return Profile(
        name=name or (path.stem if path else "draft"),
        path=path,
        service_lines=lines,
        scale=scale,
        gates=gates,
        adjustments=adjustments,
        min_response_days=int(days),
        description=description,
        learned=learned,
    )


class _Mistakes:
    """The mistakes found so far; `check` runs one independent part and keeps its mistake."""

    def __init__(self) -> None:
        self.found: list[ProfileError] = []

    def check(self, part: Callable[..., Any], *args: Any) -> Any:
        try:
            return part(*args)
        except ProfileError as exc:
            self.found.extend(exc.mistakes)
            return None

    def raise_any(self) -> None:
        if not self.found:
            return
        ordered = sorted(self.found, key=lambda mistake: mistake.line or 0)
        first = ordered[0]
        first.mistakes = ordered
        raise first


def _service_lines(node: Field, found: _Mistakes) -> tuple[ServiceLine, ...]:
    items = node.sequence()
    if not items:
        raise node.error("needs at least one service line")
    lines = [found.check(_service_line, item) for item in items]
    seen: set[str] = set()
    for item, line in zip(items, lines, strict=True):
        if line is None:
            continue
        if line.name in seen:
            found.found.append(
                item.error(f"two service lines are called '{line.name}'; give each a different name")
            )
        seen.add(line.name)
    return tuple(line for line in lines if line is not None)


def _number(node: Field, low: float, high: float, example: str) -> float:
    return node.number(low, high, example)


def _text(node: Field) -> str:
    return node.text().strip()


def configured_profile(config: ScoringConfig, name: str | None = None) -> Profile:
    """The profile called `name` in the configuration (default: its default profile), loaded."""
    name = name or config.default_profile
    path = config.profile_path(name)
    if not path.is_file():
        raise ConfigError(
            f"profile '{name}': its rules file {path} does not exist; check [scoring.profiles] {name}"
        )
    return load_profile(path, name=name)


def chosen_profile(config: ScoringConfig, value: str | None) -> Profile:
    """What `--profile NAME|FILE` names: a profile of [scoring.profiles], else a rules file to try.

    A name wins over a file of the same name. A rules file is tried, never live: its profile is
    called "file:STEM", a name no configured profile can have, so commands keep its scores apart
    from the configured profiles' (and out of the store: see is_trial).
    """
    if value is None or value in config.profiles:
        return configured_profile(config, value)
    path = Path(value).expanduser()
    if path.is_file() or _RULES_FILE.search(value):
        return load_profile(path, name=(TRIAL_PREFIX + path.stem)[:40])
    return configured_profile(config, value)  # the unknown-profile error, listing the configured ones


def is_trial(profile: Profile) -> bool:
    """Whether the profile came from a rules file given on the command line, not from the config."""
    return profile.name.startswith(TRIAL_PREFIX)


def _scale(node: Field) -> Scale:
    fields = node.mapping(
        (
            "title_weight",
            "opening_weight",
            "description_weight",
            "cpv_cap",
            "second_line_share",
            "negative_cap",
            "bands",
        )
    )
    defaults = Scale()
    bands = fields["bands"].mapping(("strong", "possible")) if "bands" in fields else {}
    strong = bands["strong"].number(1, 100, "50") if "strong" in bands else defaults.strong
    possible = bands["possible"].number(1, 100, "25") if "possible" in bands else defaults.possible
    if possible >= strong:
        raise (bands.get("possible") or node).error(
            f"possible ({possible:g}) must be below strong ({strong:g})"
        )
    cap = fields["cpv_cap"].number(0, 100, "20") if "cpv_cap" in fields else defaults.cpv_cap
    if cap >= strong:
        raise (fields.get("cpv_cap") or node).error(
            f"must be below bands.strong ({strong:g}) so CPV codes alone never make a strong match"
        )
    return Scale(
        title_weight=fields["title_weight"].number(0, 10, "2") if "title_weight" in fields else 2.0,
        description_weight=fields["description_weight"].number(0, 10, "1")
        if "description_weight" in fields
        else 1.0,
        opening_weight=fields["opening_weight"].number(0, 10, "1") if "opening_weight" in fields else 1.0,
        cpv_cap=cap,
        second_line_share=fields["second_line_share"].number(0, 1, "0.5")
        if "second_line_share" in fields
        else 0.0,
        negative_cap=fields["negative_cap"].number(1, 100, "25") if "negative_cap" in fields else None,
        strong=strong,
        possible=possible,
    )


def _learned(node: Field, folder: Path | None, possible: float | None) -> Learned:
    """`learned:` the words file `tenderwatch rules learn` wrote, and when its likeness lifts a near
    miss to possible. A relative path is found beside the rules file, else among the shipped
    profiles, so a copy of the example made to try a change keeps the example's words."""
    fields = node.mapping(("words", "promote_from", "promote_at"), required=("words",))
    promote_from = fields["promote_from"].number(0, 100, "14") if "promote_from" in fields else PROMOTE_FROM
    if possible is not None and promote_from >= possible:
        raise fields.get("promote_from", node).error(
            f"promote_from ({promote_from:g}) must be below bands.possible ({possible:g}), "
            "or no notice is ever lifted"
        )
    promote_at = fields["promote_at"].number(0.5, 1, "0.8") if "promote_at" in fields else PROMOTE_AT
    words = Path(fields["words"].text()).expanduser()
    if not words.is_absolute():
        places = [place / words for place in (folder, SHIPPED) if place is not None]
        words = next((path for path in places if path.is_file()), places[0])
    try:
        weights, digest = read_words(words)
    except InputError as exc:
        raise fields["words"].error(str(exc)) from None
    return Learned(words, promote_from, promote_at, weights, digest)


def _service_line(node: Field) -> ServiceLine:
    fields = node.mapping(("name", "keywords", "cpv", "exclude"), required=("name",))
    name = fields["name"].text().strip()
    if not name:
        raise fields["name"].error("must not be empty; give the service line a short name")
    keywords = _keywords(fields["keywords"]) if "keywords" in fields else ()
    cpv = _cpv_rules(fields["cpv"]) if "cpv" in fields else ()
    if not keywords and not cpv:
        raise node.error(f"service line '{name}' needs keywords (or cpv codes) to match anything")
    terms: tuple[Term, ...] = ()
    codes: tuple[str, ...] = ()
    if "exclude" in fields:
        exclude = fields["exclude"].mapping(("keywords", "cpv"))
        if "keywords" in exclude:
            terms = tuple(_term(item) for item in exclude["keywords"].sequence(allow_single=True))
        if "cpv" in exclude:
            codes = tuple(_cpv_code(item) for item in exclude["cpv"].sequence(allow_single=True))
    return ServiceLine(name, keywords, cpv, terms, codes)


def _keywords(node: Field) -> tuple[Keyword, ...]:
    keywords: dict[tuple[str, tuple[str, ...]], Keyword] = {}
    for key, value in node.pairs():
        term = _term(key)
        same = keywords.get((term.kind, term.words))
        if same is not None:
            raise key.error(
                f"'{term.text}' matches the same words as '{same.term.text}' "
                f"(both stem to '{' '.join(term.words)}'); keep one"
            )
        keywords[term.kind, term.words] = Keyword(term, value.number(*POINTS, f"{key.text()}: 10"))
    return tuple(keywords.values())


def _term(node: Field) -> Term:
    try:
        return parse_term(node.text(), quoted=node.is_quoted())
    except ValueError as exc:
        raise node.error(f"'{node.text()}' {exc}; write a word or phrase") from None


def _cpv_rules(node: Field) -> tuple[CpvRule, ...]:
    return tuple(CpvRule(_cpv_code(key), value.number(0, 100, "'79419': 10")) for key, value in node.pairs())


def _cpv_code(node: Field) -> str:
    """A CPV code or prefix ("79419000", "794*", "45") as the digits that matter."""
    value = node.scalar()
    if isinstance(value, int) and not isinstance(value, bool):
        value = node.node.value  # as written: YAML reads an unquoted 03221000 as an octal number
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    match = _CPV.match(text)
    if not match:
        raise node.error(
            f"{node.shown()} is not a CPV code or prefix; "
            "write 2 to 8 digits in quotes, e.g. '79419000' or '45'"
        )
    return match.group(1).rstrip("0").ljust(2, "0")


def _gates(node: Field) -> Gates:
    fields = node.mapping(
        ("kinds", "notice_types", "untyped_stages", "regions", "max_value", "exclude_buyers")
    )
    defaults = Gates()
    return Gates(
        kinds=_choices(fields["kinds"], KINDS) if "kinds" in fields else defaults.kinds,
        notice_types=_choices(fields["notice_types"], NOTICE_TYPES)
        if "notice_types" in fields
        else defaults.notice_types,
        untyped_stages=_choices(fields["untyped_stages"], STAGES)
        if "untyped_stages" in fields
        else defaults.untyped_stages,
        regions=tuple(_region(item) for item in fields["regions"].sequence()) if "regions" in fields else (),
        max_value=fields["max_value"].number(0, 1e13, "20000000") if "max_value" in fields else None,
        exclude_buyers=tuple(_buyer(item) for item in fields["exclude_buyers"].sequence())
        if "exclude_buyers" in fields
        else (),
    )


def _choices(node: Field, options: tuple[str, ...]) -> tuple[str, ...]:
    chosen = []
    for item in node.sequence(allow_single=True):
        value = item.text().strip()
        if value not in options:
            raise item.error(f"'{value}' is not one of {', '.join(options)}")
        chosen.append(value)
    return tuple(chosen)


def _region(node: Field) -> str:
    code = node.text().strip().upper()
    if not known_region(code):
        raise node.error(
            f"'{code}' is not a UK region code (ITL/NUTS) or a country's two letters; write e.g. UK, "
            "UKM (Scotland), UKG3 or UKI31"
        )
    return code


def _buyer(node: Field) -> str:
    pattern = " ".join(node.text().lower().split())
    if not re.search(r"[a-z0-9]", pattern):
        raise node.error("must contain words, e.g. 'police and crime commissioner'")
    return pattern


def _adjustments(node: Field) -> Adjustments:
    fields = node.mapping(("value", "sme", "kind_mismatch", "route", "buyers", "keywords"))
    sme = fields["sme"].mapping(("suitable", "not_suitable")) if "sme" in fields else {}
    return Adjustments(
        value=_value_band(fields["value"]) if "value" in fields else ValueBand(),
        sme_suitable=sme["suitable"].number(*POINTS, "2") if "suitable" in sme else 0.0,
        sme_not_suitable=sme["not_suitable"].number(*POINTS, "-2") if "not_suitable" in sme else 0.0,
        kind_mismatch=fields["kind_mismatch"].number(*POINTS, "-5") if "kind_mismatch" in fields else 0.0,
        route=fields["route"].number(*POINTS, "3") if "route" in fields else 0.0,
        buyers=tuple(
            (_buyer(key), value.number(*POINTS, f"{key.text()}: 5"))
            for key, value in fields["buyers"].pairs()
        )
        if "buyers" in fields
        else (),
        keywords=_keywords(fields["keywords"]) if "keywords" in fields else (),
    )


def _value_band(node: Field) -> ValueBand:
    fields = node.mapping(("range", "in_range", "below", "above"), required=("range",))
    bounds = fields["range"].sequence()
    if len(bounds) != 2:
        raise fields["range"].error("must be two amounts, lowest first, e.g. [10000, 1500000]")
    low, high = (bound.number(0, 1e13, "[10000, 1500000]") for bound in bounds)
    if low > high:
        raise fields["range"].error(f"the lower amount ({low:g}) must come first")

    def points(key: str) -> float:
        return fields[key].number(*POINTS, "5") if key in fields else 0.0

    return ValueBand(low, high, points("in_range"), points("below"), points("above"))
