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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from store.ingest import notice_from_row
from store.models import NoticeReference, NoticeRow
from store.normalise.references import BUYER_REFERENCE, LINKS_TO
from store.notice import LONDON, Notice
from store.opportunities import merge_procurement, opportunity_id_of

CANONICAL_LINK, BUYER_REFERENCE_RULE, SIMILAR = (
    "canonical link",
    "buyer reference",
    "buyer, title, deadline and value",
)
TITLE_SIMILARITY = 0.92  # difflib's ratio of the normalised titles; measured, see README
DESCRIPTION_SIMILARITY, DESCRIPTION_OPENING = 0.8, 400  # the first 400 characters, normalised
VALUE_TOLERANCE = 0.01  # net and gross are different values: only rounding may differ
MATCHED_STAGES = ("planning", "tender")
BATCH = 500
SIMILARITY_BATCH = 50  # deadline windows in one query
DAY = timedelta(days=1)
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
    shows one; returns how many were merged. Each rule looks at a batch of procurements in a few
    queries: this runs on every page a crawl stores."""
    merged = 0
    for start in range(0, len(procurements), BATCH):
        part = list(procurements[start : start + BATCH])
        rows = list(session.scalars(select(NoticeRow).where(NoticeRow.procurement.in_(part))))
        found: dict[str, list[list[Match]]] = {procurement: [] for procurement in part}
        for rule in (_by_link, _by_buyer_reference, _by_similarity):
            by_procurement: dict[str, list[Match]] = {procurement: [] for procurement in part}
            for match in rule(session, rows):
                by_procurement[match.procurement].append(match)
            for procurement, matches in by_procurement.items():
                found[procurement].append(matches)
        for procurement in part:
            match = next((m for matches in found[procurement] if (m := _only_one(session, matches))), None)
            if match and merge_procurement(
                session,
                match.procurement,
                match.into,
                rule=match.rule,
                notice_key=match.notice_key,
                matched_notice_key=match.matched_notice_key,
                evidence=match.evidence,
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


def service_of(procurement: str) -> str:
    return procurement.split(":", 1)[0]


def _by_link(session: Session, rows: Sequence[NoticeRow]) -> list[Match]:
    """Rule 2, both ways: these notices link to a stored notice elsewhere, or one links to them."""
    by_id = {row.id: row for row in rows}
    by_key = {row.key: row for row in rows}
    links = session.execute(
        select(NoticeReference.notice_id, NoticeReference.value).where(
            NoticeReference.notice_id.in_(list(by_id)), NoticeReference.kind == LINKS_TO
        )
    ).all()
    found = []
    if links:
        targets: dict[str, list[NoticeRow]] = {}
        for notice_id, value in links:
            targets.setdefault(value, []).append(by_id[notice_id])
        for target in session.scalars(select(NoticeRow).where(NoticeRow.key.in_(list(targets)))):
            for source in targets[target.key]:
                if target.procurement != source.procurement:
                    evidence = {"link": f"{source.key} links to {target.key}"}
                    found.append(_match(source, target, CANONICAL_LINK, evidence))
    linking = session.execute(
        select(NoticeRow, NoticeReference.value)
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .where(NoticeReference.kind == LINKS_TO, NoticeReference.value.in_(list(by_key)))
    ).all()
    for other, value in linking:
        own = by_key[value]
        if other.procurement != own.procurement:
            found.append(_match(own, other, CANONICAL_LINK, {"link": f"{other.key} links to {value}"}))
    return found


def _by_buyer_reference(session: Session, rows: Sequence[NoticeRow]) -> list[Match]:
    """Rule 3: the same ProContract reference on a notice of another service."""
    by_id = {row.id: row for row in rows}
    own: dict[str, list[NoticeRow]] = {}
    for notice_id, value in session.execute(
        select(NoticeReference.notice_id, NoticeReference.value).where(
            NoticeReference.notice_id.in_(list(by_id)), NoticeReference.kind == BUYER_REFERENCE
        )
    ):
        own.setdefault(value, []).append(by_id[notice_id])
    if not own:
        return []
    others = session.execute(
        select(NoticeRow, NoticeReference.value)
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .where(NoticeReference.kind == BUYER_REFERENCE, NoticeReference.value.in_(list(own)))
    ).all()
    return [
        _match(row, other, BUYER_REFERENCE_RULE, {"buyer reference": value})
        for other, value in others
        for row in own[value]
        if service_of(other.procurement or "") != service_of(row.procurement or "")
    ]


def _by_similarity(session: Session, rows: Sequence[NoticeRow]) -> list[Match]:
    """Rule 4, between pipeline or tender notices with a deadline: the other services' notices
    within a day of each deadline, fetched for many notices at once (their ids and buyers first,
    then in full those of the same buyers), then compared in full."""
    wanted: dict[str, list[NoticeRow]] = {}
    for row in rows:
        if row.stage in MATCHED_STAGES and row.deadline is not None:
            wanted.setdefault(service_of(row.procurement or ""), []).append(row)
    found = []
    for service, of_service in wanted.items():
        for start in range(0, len(of_service), SIMILARITY_BATCH):
            part = of_service[start : start + SIMILARITY_BATCH]
            windows = [NoticeRow.deadline.between(row.deadline - DAY, row.deadline + DAY) for row in part]
            # Ids and buyers first: many notices close on the same days, few of them for these buyers,
            # and a whole row costs far more to load than its buyer's name.
            named = session.execute(
                select(NoticeRow.id, NoticeRow.buyer_name).where(
                    or_(*windows),
                    NoticeRow.stage.in_(MATCHED_STAGES),
                    ~NoticeRow.procurement.startswith(f"{service}:", autoescape=True),
                )
            ).all()
            buyers = {normal_buyer(row.buyer_name) for row in part} - {""}
            same_buyer = [notice_id for notice_id, name in named if normal_buyer(name) in buyers]
            candidates = [  # in id order, so that the same store always records the same pair
                candidate
                for ids in _batches(sorted(same_buyer), BATCH)  # BATCH ids in a query, as above
                for candidate in session.scalars(
                    select(NoticeRow).where(NoticeRow.id.in_(ids)).order_by(NoticeRow.id)
                )
            ]
            by_buyer: dict[str, list[NoticeRow]] = {}
            for candidate in candidates:
                by_buyer.setdefault(normal_buyer(candidate.buyer_name), []).append(candidate)
            for row in part:
                found += _similar_among(row, by_buyer.get(normal_buyer(row.buyer_name), []))
    return found


def _batches(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def _similar_among(row: NoticeRow, same_buyer: Sequence[NoticeRow]) -> list[Match]:
    # The buyer and the day are compared on the rows first: building notices is the slow part.
    near = [other for other in same_buyer if abs(other.deadline - row.deadline) <= DAY]
    if not near or not normal_buyer(row.buyer_name):
        return []
    notice = notice_from_row(row)
    found = []
    for other in near:
        evidence = similar(notice, notice_from_row(other))
        if evidence:
            found.append(_match(row, other, SIMILAR, evidence))
    return found


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
        "value": f"{one.value_amount:,.0f} / {other.value_amount:,.0f}",  # both stated (same_value)
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


def _match(own: NoticeRow, other: NoticeRow, rule: str, evidence: dict[str, object]) -> Match:
    return Match(own.procurement or "", other.procurement or "", own.key, other.key, rule, evidence)


def _only_one(session: Session, found: Iterable[Match]) -> Match | None:
    """The match, when every piece of evidence points at one opportunity (one procurement, or the
    copies on two services already merged, which a third service's copy matches both of); None
    when they disagree."""
    targets = {match.into: match for match in found}
    if len(targets) > 1:
        opportunities = {opportunity_id_of(session, into) for into in targets}
        if len(opportunities) > 1 or None in opportunities:
            return None
    return targets[min(targets)] if targets else None  # one opportunity either way: the first by name
