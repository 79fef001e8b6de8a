"""Capability gates (rule a notice out) and profile-wide adjustments (add or remove points).

Gates are about what the firm can bid for at all: notice type, kind of contract, region, value, buyer.
A gated notice gets band "none" with the gates as its reasons. Adjustments (value band, SME, buyer
preference, kind mismatch) nudge the score of a notice some service line matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from scoring.profile import NOTICE_TYPES, Gates, Profile
from scoring.result import Reason
from scoring.routes import route_of
from store.notice import Notice, stated_amount
from tenderwatch.formatting import money

NOTICE_TYPE_NAMES = {
    "UK1": "pipeline",
    "UK2": "preliminary market engagement",
    "UK3": "planned procurement",
    "UK4": "tender",
    "UK5": "transparency (direct award)",
    "UK6": "contract award",
    "UK7": "contract details",
    "UK8": "contract payments",
    "UK9": "contract performance",
    "UK10": "contract change",
    "UK11": "contract termination",
    "UK12": "procurement termination",
    "UK13": "dynamic market intention",
    "UK14": "dynamic market establishment",
    "UK15": "dynamic market modification",
    "UK16": "dynamic market cessation",
    "UK17": "payments compliance",
}
# CPV 2008 divisions of goods (supplies); 45 is works; the rest (50-98) are services.
GOODS_DIVISIONS = frozenset(
    {"03", "09", "14", "15", "16", "18", "19", "22", "24", "30", "31", "32"}
    | {"33", "34", "35", "37", "38", "39", "41", "42", "43", "44", "48"}
)


def buyer_pattern(pattern: str) -> re.Pattern[str]:
    """Whole words of `pattern`, case-insensitively, with any spacing or punctuation between them."""
    words = re.findall(r"[a-z0-9]+", pattern.lower())
    return re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(words) + r"(?![a-z0-9])")


class Buyers:
    """A profile's buyer patterns: which excludes a buyer, which (first) preference applies.

    Buyers publish many notices, so each name is looked up once and remembered.
    """

    def __init__(self, profile: Profile):
        self._excluded = [(pattern, buyer_pattern(pattern)) for pattern in profile.gates.exclude_buyers]
        self._preferred = [(rule, buyer_pattern(rule[0])) for rule in profile.adjustments.buyers]
        self._verdicts: dict[str, tuple[str | None, tuple[str, float] | None]] = {}

    def verdict(self, name: str) -> tuple[str | None, tuple[str, float] | None]:
        """(the pattern excluding this buyer, the (pattern, points) preferring it), each maybe None."""
        found = self._verdicts.get(name)
        if found is None:
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            lower = name.lower()
            excluded = next((pattern for pattern, regex in self._excluded if regex.search(lower)), None)
            preferred = next((rule for rule, regex in self._preferred if regex.search(lower)), None)
            found = self._verdicts[name] = (excluded, preferred)
        return found


def cpv_kind(code: str) -> str:
    division = code[:2]
    return "works" if division == "45" else "goods" if division in GOODS_DIVISIONS else "services"


@lru_cache(maxsize=8192)
def cpv_kinds(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(map(cpv_kind, codes))


def gate_reasons(
    notice: Notice, profile: Profile, buyers: Buyers, title_names_work: Callable[[], bool]
) -> list[Reason]:
    """Every gate the notice fails (empty when it may be scored). `title_names_work`: whether a
    service line's keyword is in the title, asked only when CPV codes alone would gate the kind."""
    gates = profile.gates
    reasons = [
        reason
        for reason in (
            _notice_type(notice, gates),
            _kind(notice, gates.kinds, title_names_work)[0],
            _region(notice, gates.regions),
            _value_limit(notice, gates.max_value),
        )
        if reason is not None
    ]
    excluded = buyers.verdict(notice.buyer_name)[0] if notice.buyer_name else None
    if excluded:
        reasons.append(Reason(0, "gate: buyer", f"buyer '{notice.buyer_name}' is excluded ('{excluded}')"))
    return reasons


def _notice_type(notice: Notice, gates: Gates) -> Reason | None:
    # A type that is none of UK1-UK17 (a portal's own, or "unknown") says nothing: the stage decides.
    if notice.notice_type in NOTICE_TYPES:
        if notice.notice_type in gates.notice_types:
            return None
        name = NOTICE_TYPE_NAMES.get(notice.notice_type, "other")
        return Reason(0, "gate: notice type", f"{notice.notice_type} {name} notice")
    if notice.stage is None or notice.stage in gates.untyped_stages:
        return None
    return Reason(0, "gate: notice type", f"{notice.stage} notice")


def _kind(
    notice: Notice, allowed: tuple[str, ...], title_names_work: Callable[[], bool]
) -> tuple[Reason | None, str | None]:
    """(gate reason, mismatch detail): gated when category and CPV codes agree on a kind not allowed,
    or CPV codes alone say so and the title names none of the firm's work. Buyers' codes are often
    wrong: "Strategic Transformation Partner" has been published with a food code."""
    kinds = cpv_kinds(notice.cpv)
    permitted = kinds & set(allowed)
    category = notice.category
    if category is not None and category not in allowed:
        if not permitted:
            codes = f" (CPV {_divisions(notice, kinds)})" if kinds else ""
            return Reason(0, "gate: kind", f"{category} contract{codes}"), None
        return (
            None,
            f"says {category} but CPV {_divisions(notice, permitted)} is {' and '.join(sorted(permitted))}",
        )
    if kinds and not permitted:
        return _kind_of_codes(notice, kinds, title_names_work)
    main = notice.cpv[0] if notice.cpv else None
    if main and cpv_kind(main) not in allowed:
        # The first code is the notice's main classification: what is mostly being bought.
        return None, f"has a {cpv_kind(main)} main CPV code ({main})"
    return None, None


def kind_from_title(notice: Notice, allowed: tuple[str, ...]) -> bool:
    """Whether only the title speaks for a kind allowed: no category, and every CPV code of a kind not
    allowed (scored because the title names the work; `_kind_of_codes`)."""
    if notice.category is not None:  # most notices: asked of every scored one, so the cheap test first
        return False
    kinds = cpv_kinds(notice.cpv)
    return bool(kinds) and not kinds.intersection(allowed)


def _kind_of_codes(
    notice: Notice, kinds: frozenset[str], title_names_work: Callable[[], bool]
) -> tuple[Reason | None, str | None]:
    """`_kind` when every CPV code is of a kind not allowed and the category (if any) is allowed."""
    named = " and ".join(sorted(kinds))
    detail = f"{named}: CPV {_divisions(notice, kinds)}"
    if notice.category is not None:
        return None, f"says {notice.category} but its CPV codes are {detail}"
    if not title_names_work():
        return Reason(0, "gate: kind", f"{detail}, and the title names none of the firm's work"), None
    return None, f"has only {named} CPV codes ({_divisions(notice, kinds)}), but its title names the work"


def _divisions(notice: Notice, kinds: frozenset[str]) -> str:
    shown = dict.fromkeys(code[:2] for code in notice.cpv if cpv_kind(code) in kinds)
    return ", ".join(f"{division}*" for division in shown)


def _region(notice: Notice, prefixes: tuple[str, ...]) -> Reason | None:
    if not prefixes or not notice.regions:
        return None
    for region in notice.regions:
        if any(region.startswith(prefix) or prefix.startswith(region) for prefix in prefixes):
            return None
    return Reason(
        0, "gate: region", f"delivered in {', '.join(notice.regions)}, outside {', '.join(prefixes)}"
    )


def judged_value(notice: Notice) -> float | None:
    """The value that says whether the firm could deliver it: the smallest lot's when lots have values."""
    lot_values = [value for lot in notice.lots if (value := stated_amount(lot.value_amount))]
    return min(lot_values) if lot_values else stated_amount(notice.value_amount)


def _value_text(notice: Notice, value: float) -> str:
    lot = any(stated_amount(lot.value_amount) for lot in notice.lots)
    return f"value {money(value)}" + (" (smallest lot)" if lot else "")


def _value_limit(notice: Notice, limit: float | None) -> Reason | None:
    if limit is None:
        return None
    value = judged_value(notice)
    if value is None or value <= limit or route_of(notice):
        return None
    return Reason(0, "gate: value", f"{_value_text(notice, value)} above the {money(limit)} limit")


def adjustments(notice: Notice, profile: Profile, buyers: Buyers, *, work_named: bool) -> Iterator[Reason]:
    """Profile-wide points for a notice a service line matched (keyword adjustments are in engine).

    `work_named`: a line's keyword names the work where the notice says what it buys (the title, the
    opening, a lot's title). A route to market is judged by scope, so its bonus needs that scope
    named: a framework matched only by codes or background words is no sign of years of call-offs.
    """
    rules = profile.adjustments
    route = route_of(notice)
    if route:
        shown = f" (up to {money(notice.value_amount)})" if stated_amount(notice.value_amount) else ""
        detail = f"{route.detail}: judged by scope, not value{shown}"
        if work_named or rules.route <= 0:  # a profile's penalty for routes applies to every route
            yield Reason(rules.route, "route to market", detail)
        else:
            withheld = "no points: the work is not named in the title, opening or a lot's title"
            yield Reason(0, "route to market", f"{detail}; {withheld}")
    else:
        yield from _value_band(notice, profile)
    if notice.suitable_for_sme is True and rules.sme_suitable:
        yield Reason(rules.sme_suitable, "SME suitability", "suitable for SMEs")
    elif notice.suitable_for_sme is False and rules.sme_not_suitable:
        yield Reason(rules.sme_not_suitable, "SME suitability", "not marked suitable for SMEs")
    preferred = buyers.verdict(notice.buyer_name)[1] if notice.buyer_name else None
    if preferred:
        yield Reason(preferred[1], f"buyer {preferred[0]}", f"buyer '{notice.buyer_name}'")
    # Scored, so a title naming the work is what let CPV codes of another kind through the gate.
    mismatch = _kind(notice, profile.gates.kinds, title_names_work=lambda: True)[1]
    if mismatch and rules.kind_mismatch:
        yield Reason(rules.kind_mismatch, "kind mismatch", f"the notice {mismatch}")


@lru_cache(maxsize=64)
def _span(low: float, high: float) -> str:
    return f"{money(low)}-{money(high)}"  # the same few bands for every notice: formatted once


def _value_band(notice: Notice, profile: Profile) -> Iterator[Reason]:
    band = profile.adjustments.value
    if band.low is None or band.high is None:
        return
    value = judged_value(notice)
    if value is None:
        if notice.value_amount is not None:
            shown = money(notice.value_amount)
            yield Reason(0, "value band", f"value {shown} is a placeholder: read as not stated")
        return
    span, shown = _span(band.low, band.high), _value_text(notice, value)
    if value < band.low and band.below:
        yield Reason(band.below, "value band", f"{shown} below {span}")
    elif value > band.high and band.above:
        yield Reason(band.above, "value band", f"{shown} above {span}")
    elif band.low <= value <= band.high and band.in_range:
        yield Reason(band.in_range, "value band", f"{shown} within {span}")
