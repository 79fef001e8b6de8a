"""The same procurement on two services, found by evidence, strongest first (store.opportunities).

The services share no identifiers (docs: apis.md §0, §4), so a procurement published on two of
them is two procurements until evidence joins them. Each rule below is tried in turn; the first that
finds exactly one procurement on another service merges the two opportunities and records the rule
and the values it compared (opportunity_links). A wrong merge hides an opportunity, so every rule
prefers missing a duplicate: a rule that finds two candidates merges neither, and a pair a user split
(`tenderwatch unmerge`) is never merged again.

1. **same ocid**: one procurement by definition (store.notice.procurement_key): an imported notice
   with a Find a Tender ocid, a Find a Tender copy whose canonical link names its Public Contracts
   Scotland release (same_as_ocid). Never a merge: the notices share a procurement.
2. **canonical link**: a notice's release links to the other national service's page of a stored
   notice (a Contracts Finder award's "Find a Tender Service (FTS) Contract Award Notice").
3. **buyer reference**: the same ProContract advert number ("DN808470") in tender.id on two services.
4. **buyer, title, deadline and value**: the same buyer once normalised, a near-identical title
   (a leading "CA1234" or a trailing "- award" aside) with the same numbers in it (a lot, a round, a
   year), the same deadline day, the same value (stated on both), and descriptions that open alike
   (where both have one), between planning or tender notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.ingest import notice_from_row
from store.models import NoticeReference, NoticeRow
from store.normalise.references import BUYER_REFERENCE, LINKS_TO
from store.notice import LONDON, Notice
from store.opportunities import merge_procurement

CANONICAL_LINK, BUYER_REFERENCE_RULE, SIMILAR = (
    "canonical link",
    "buyer reference",
    "buyer, title, deadline and value",
)
RULES = (CANONICAL_LINK, BUYER_REFERENCE_RULE, SIMILAR)
TITLE_SIMILARITY = 0.92  # difflib's ratio of the normalised titles; measured, see README
DESCRIPTION_SIMILARITY, DESCRIPTION_OPENING = 0.8, 400  # the first 400 characters, normalised
VALUE_TOLERANCE = 0.01  # net and gross are different values: only rounding may differ
MATCHED_STAGES = ("planning", "tender")
BATCH = 500
# A reference a buyer writes before or after the title on one service only.
TITLE_NOISE = (
    re.compile(r"^\s*(?:ca|dn|ref)\s*\d+\s*[-:\u2013]?\s*", re.I),
    re.compile(r"\s*[-\u2013]\s*award\s*$", re.I),
)
BUYER_NOISE = re.compile(r"\b(?:the|ltd|limited|plc)\b")


@dataclass(frozen=True)
class Match:
    procurement: str  # the procurement merged in
    into: str  # the one it was found to be
    notice_key: str
    matched_notice_key: str
    rule: str
    evidence: dict[str, object]


def match_procurements(session: Session, procurements: Sequence[str], now: datetime) -> int:
    """Merge each of these procurements into the same procurement on another service, if evidence
    shows one; returns how many were merged."""
    merged = 0
    for start in range(0, len(procurements), BATCH):
        part = list(procurements[start : start + BATCH])
        rows = list(session.scalars(select(NoticeRow).where(NoticeRow.procurement.in_(part))))
        for procurement in part:
            own = [row for row in rows if row.procurement == procurement]
            found = find_match(session, procurement, own)
            if found and merge_procurement(
                session,
                found.procurement,
                found.into,
                rule=found.rule,
                notice_key=found.notice_key,
                matched_notice_key=found.matched_notice_key,
                evidence=found.evidence,
                now=now,
            ):
                merged += 1
    return merged


def match_all(session: Session, now: datetime) -> int:
    """Match every stored procurement (after an upgrade); returns how many were merged."""
    procurements = sorted(
        set(session.scalars(select(NoticeRow.procurement).where(NoticeRow.procurement.is_not(None))))
    )
    return match_procurements(session, procurements, now)


def find_match(session: Session, procurement: str, rows: Sequence[NoticeRow]) -> Match | None:
    """The strongest evidence that this procurement is one on another service, or None."""
    for rule in (_by_link, _by_buyer_reference, _by_similarity):
        found = rule(session, procurement, rows)
        if found:
            return found
    return None


def service_of(procurement: str) -> str:
    return procurement.split(":", 1)[0]


def _by_link(session: Session, procurement: str, rows: Sequence[NoticeRow]) -> Match | None:
    ids = [row.id for row in rows]
    links = session.execute(
        select(NoticeReference.notice_id, NoticeReference.value).where(
            NoticeReference.notice_id.in_(ids), NoticeReference.kind == LINKS_TO
        )
    ).all()
    keys = {row.key: row for row in rows}
    by_id = {row.id: row for row in rows}
    found: list[Match] = []
    # This procurement's notices link to a stored notice elsewhere...
    targets = {value: by_id[notice_id] for notice_id, value in links}
    for target in session.scalars(select(NoticeRow).where(NoticeRow.key.in_(list(targets)))):
        if target.procurement != procurement:
            source = targets[target.key]
            found.append(
                _match(
                    procurement,
                    target,
                    source,
                    CANONICAL_LINK,
                    {"link": f"{source.key} links to {target.key}"},
                )
            )
    # ...or a stored notice elsewhere links to one of this procurement's notices.
    linking = session.execute(
        select(NoticeRow, NoticeReference.value)
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .where(NoticeReference.kind == LINKS_TO, NoticeReference.value.in_(list(keys)))
    ).all()
    for other, value in linking:
        if other.procurement != procurement:
            evidence = {"link": f"{other.key} links to {value}"}
            found.append(_match(procurement, other, keys[value], CANONICAL_LINK, evidence))
    return _only_one(found)


def _by_buyer_reference(session: Session, procurement: str, rows: Sequence[NoticeRow]) -> Match | None:
    by_id = {row.id: row for row in rows}
    own = dict(
        session.execute(
            select(NoticeReference.value, NoticeReference.notice_id).where(
                NoticeReference.notice_id.in_(list(by_id)), NoticeReference.kind == BUYER_REFERENCE
            )
        ).all()
    )
    if not own:
        return None
    others = session.execute(
        select(NoticeRow, NoticeReference.value)
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .where(NoticeReference.kind == BUYER_REFERENCE, NoticeReference.value.in_(list(own)))
    ).all()
    found = [
        _match(procurement, other, by_id[own[value]], BUYER_REFERENCE_RULE, {"buyer reference": value})
        for other, value in others
        if service_of(other.procurement or "") != service_of(procurement)
    ]
    return _only_one(found)


def _by_similarity(session: Session, procurement: str, rows: Sequence[NoticeRow]) -> Match | None:
    found: list[Match] = []
    for row in rows:
        if row.stage not in MATCHED_STAGES or row.deadline is None:
            continue
        notice = notice_from_row(row)
        candidates = session.scalars(
            select(NoticeRow).where(
                NoticeRow.deadline.between(
                    row.deadline - timedelta(days=1), row.deadline + timedelta(days=1)
                ),
                NoticeRow.stage.in_(MATCHED_STAGES),
                NoticeRow.procurement != procurement,
            )
        )
        for other in candidates:
            if service_of(other.procurement or "") == service_of(procurement):
                continue
            evidence = similar(notice, notice_from_row(other))
            if evidence:
                found.append(_match(procurement, other, row, SIMILAR, evidence))
    return _only_one(found)


def similar(one: Notice, other: Notice) -> dict[str, object] | None:
    """The evidence that two notices are one procurement by rule 4, or None."""
    buyer = normal_buyer(one.buyer_name)
    if not buyer or buyer != normal_buyer(other.buyer_name):
        return None
    if not (one.deadline and other.deadline and _day(one.deadline) == _day(other.deadline)):
        return None
    if not same_value(one.value_amount, other.value_amount):
        return None  # both must state one: a county's taxi routes share title, deadline and no value
    if description_similarity(one.description, other.description) < DESCRIPTION_SIMILARITY:
        return None
    ratio = title_similarity(one.title, other.title)
    if ratio < TITLE_SIMILARITY or _numbers(one.title) != _numbers(other.title):
        return None  # "Category 1" and "Category 2", "2025-26" and "2026-27", "(V2)": different work
    return {
        "buyer": buyer,
        "titles": f"{one.title!r} / {other.title!r} ({ratio:.2f})",
        "deadline": _day(one.deadline),
        "value": "not stated"
        if one.value_amount is None
        else f"{one.value_amount:,.0f} / {other.value_amount:,.0f}",
    }


def normal_buyer(name: str | None) -> str:
    text = (name or "").lower().replace("&", " and ")
    text = BUYER_NOISE.sub(" ", re.sub(r"[^a-z0-9&]+", " ", text))
    return " ".join(text.split())


def normal_title(title: str) -> str:
    for noise in TITLE_NOISE:
        title = noise.sub("", title)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", title.lower()).split())


def title_similarity(one: str, other: str) -> float:
    a, b = normal_title(one), normal_title(other)
    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0


def _numbers(title: str) -> list[str]:
    """The numbers in a title (its noise aside), which must agree: lots, rounds, years, versions."""
    return re.findall(r"\d+", normal_title(title))


def same_value(one: float | None, other: float | None) -> bool:
    if one is None or other is None:
        return False
    return abs(one - other) <= VALUE_TOLERANCE * max(one, other)


def description_similarity(one: str | None, other: str | None) -> float:
    """How alike the openings of two descriptions are; 1.0 when either has none (nothing to tell)."""
    if not one or not other:
        return 1.0
    a, b = (normal_title(text)[:DESCRIPTION_OPENING] for text in (one, other))
    return SequenceMatcher(None, a, b).ratio()


def _day(moment: datetime) -> str:
    return moment.astimezone(LONDON).date().isoformat()


def _match(
    procurement: str, other: NoticeRow, own: NoticeRow, rule: str, evidence: dict[str, object]
) -> Match:
    return Match(procurement, other.procurement or "", own.key, other.key, rule, evidence)


def _only_one(found: Iterable[Match]) -> Match | None:
    """The match, when every piece of evidence points at one procurement; None when they disagree."""
    targets = {match.into: match for match in found}
    return next(iter(targets.values())) if len(targets) == 1 else None
