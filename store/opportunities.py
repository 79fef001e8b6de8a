"""Opportunities: the notices of one procurement, and of its copies on other services, as one item.

A procurement is a service's ocid (notices.procurement, "find_a_tender:ocds-h6vhtk-069311"): its
pipeline, tender, update, cancellation, award and contract notices all carry it, and a Find a Tender
copy of a Public Contracts Scotland notice carries the PCS one (its canonical link). Each procurement
belongs to one opportunity (opportunity_procurements): its own, founded by it and named after it, or
another one it was merged into by evidence across services (store.matching), each merge recorded with
its evidence (opportunity_links). `unmerge` splits a procurement off again and remembers the split
(opportunity_splits), so no later ingest merges the two again.

What an opportunity is now (title, buyer, value, deadline, status, stage) and what happened to it (its
timeline) are read from its notices, their recorded changes and their contracts (store.timeline).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.ingest import notice_from_row, upsert
from store.models import (
    ContractRow,
    NoticeChange,
    NoticeRow,
    OpportunityLink,
    OpportunityProcurement,
    OpportunityRow,
    OpportunitySplit,
)
from store.notice import Notice, procurement_text
from store.queries import NoticeFilter, filtered
from store.timeline import Opportunity


def assign_opportunities(session: Session, notices: Sequence[Notice], now: datetime) -> None:
    """Give every procurement of these (new or changed) notices an opportunity (its own, unless it
    has one), then look for the same procurement on other services (store.matching): a new one, or
    one still alone whose notice changed (a value or deadline stated later may now match)."""
    procurements = sorted({procurement_text(notice) for notice in notices})
    if not procurements:
        return
    # Idempotent and safe when two workers store the same procurement at once (unique keys).
    known = dict(
        session.execute(
            select(OpportunityProcurement.procurement, OpportunityProcurement.opportunity_id).where(
                OpportunityProcurement.procurement.in_(procurements)
            )
        ).all()
    )
    fresh = [procurement for procurement in procurements if procurement not in known]
    if fresh:
        _found_opportunities(session, fresh, now)
    from store.matching import match_procurements

    match_procurements(session, fresh + _alone(session, known), now)


def _found_opportunities(session: Session, procurements: list[str], now: datetime) -> None:
    """An opportunity of its own for each of these procurements, named after it."""
    connection = session.connection()
    connection.execute(
        upsert(session, OpportunityRow).on_conflict_do_nothing(index_elements=["key"]),
        [{"key": procurement, "created_at": now} for procurement in procurements],
    )
    ids = dict(
        session.execute(
            select(OpportunityRow.key, OpportunityRow.id).where(OpportunityRow.key.in_(procurements))
        ).all()
    )
    connection.execute(
        upsert(session, OpportunityProcurement).on_conflict_do_nothing(index_elements=["procurement"]),
        [{"procurement": procurement, "opportunity_id": ids[procurement]} for procurement in procurements],
    )


def _alone(session: Session, known: dict[str, int]) -> list[str]:
    """Those of these procurements whose opportunity holds no other procurement."""
    if not known:
        return []
    sizes = dict(
        session.execute(
            select(OpportunityProcurement.opportunity_id, func.count())
            .where(OpportunityProcurement.opportunity_id.in_(set(known.values())))
            .group_by(OpportunityProcurement.opportunity_id)
        ).all()
    )
    return [procurement for procurement, opportunity in known.items() if sizes.get(opportunity) == 1]


def opportunity_id_of(session: Session, procurement: str) -> int | None:
    return session.scalar(
        select(OpportunityProcurement.opportunity_id).where(OpportunityProcurement.procurement == procurement)
    )


def opportunity_key_of(session: Session, notice_key: str) -> str | None:
    """The key of the opportunity a notice belongs to."""
    return session.scalar(
        select(OpportunityRow.key)
        .join(OpportunityProcurement, OpportunityProcurement.opportunity_id == OpportunityRow.id)
        .join(NoticeRow, NoticeRow.procurement == OpportunityProcurement.procurement)
        .where(NoticeRow.key == notice_key)
    )


def opportunity_keys_of(session: Session, notice_keys: Sequence[str]) -> dict[str, str]:
    """Each notice's opportunity key (for export), a batch at a time."""
    found: dict[str, str] = {}
    for start in range(0, len(notice_keys), 500):
        part = list(notice_keys[start : start + 500])
        found.update(
            session.execute(
                select(NoticeRow.key, OpportunityRow.key)
                .join(OpportunityProcurement, NoticeRow.procurement == OpportunityProcurement.procurement)
                .join(OpportunityRow, OpportunityRow.id == OpportunityProcurement.opportunity_id)
                .where(NoticeRow.key.in_(part))
            ).all()
        )
    return found


def opportunities_of_procurements(session: Session, procurements: Sequence[str]) -> set[str]:
    """The keys of the opportunities these procurements ("service:ocid") belong to."""
    found: set[str] = set()
    for start in range(0, len(procurements), 500):
        found.update(
            session.scalars(
                select(OpportunityRow.key)
                .join(OpportunityProcurement, OpportunityProcurement.opportunity_id == OpportunityRow.id)
                .where(OpportunityProcurement.procurement.in_(list(procurements[start : start + 500])))
            )
        )
    return found


def get_opportunity_row(session: Session, key: str) -> OpportunityRow | None:
    return session.scalars(select(OpportunityRow).where(OpportunityRow.key == key)).first()


def member_rows(session: Session, opportunity_ids: Sequence[int]) -> dict[int, list[NoticeRow]]:
    """The notices of each opportunity, oldest first."""
    rows = session.execute(
        select(OpportunityProcurement.opportunity_id, NoticeRow)
        .join(NoticeRow, NoticeRow.procurement == OpportunityProcurement.procurement)
        .where(OpportunityProcurement.opportunity_id.in_(list(opportunity_ids)))
        .order_by(NoticeRow.published_at.nulls_first(), NoticeRow.id)
    ).all()
    members: dict[int, list[NoticeRow]] = defaultdict(list)
    for opportunity_id, row in rows:
        members[opportunity_id].append(row)
    return members


def find_opportunity_ids(session: Session, where: NoticeFilter, limit: int | None) -> list[int]:
    """Opportunities with a notice meeting `where`, the one with the newest such notice first (best
    search match first when searching for text): the filters are those of `tenderwatch notices`."""
    if where.text:
        from store.search import ranked

        matching = ranked(session, where.text, filtered(where)).with_only_columns(NoticeRow.procurement)
        best_first = list(dict.fromkeys(session.scalars(matching)))
        found = list(dict.fromkeys(_opportunity_ids(session, best_first)))  # each once, at its best
        return found[:limit] if limit else found
    matching = filtered(where).with_only_columns(NoticeRow.procurement, NoticeRow.published_at).subquery()
    newest = func.max(matching.c.published_at)
    query = (
        select(OpportunityProcurement.opportunity_id)
        .join(matching, matching.c.procurement == OpportunityProcurement.procurement)
        .group_by(OpportunityProcurement.opportunity_id)
        .order_by(newest.desc().nulls_last(), OpportunityProcurement.opportunity_id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def _opportunity_ids(session: Session, procurements: list[str]) -> list[int]:
    """The opportunity of each procurement, in the order given."""
    of: dict[str, int] = {}
    for start in range(0, len(procurements), 500):
        part = procurements[start : start + 500]
        of.update(
            session.execute(
                select(OpportunityProcurement.procurement, OpportunityProcurement.opportunity_id).where(
                    OpportunityProcurement.procurement.in_(part)
                )
            ).all()
        )
    return [of[procurement] for procurement in procurements if procurement in of]


def opportunity_rows(session: Session, ids: Sequence[int]) -> dict[int, OpportunityRow]:
    return {
        row.id: row for row in session.scalars(select(OpportunityRow).where(OpportunityRow.id.in_(list(ids))))
    }


def changes_of(session: Session, notice_row_ids: Sequence[int]) -> dict[int, list[NoticeChange]]:
    found: dict[int, list[NoticeChange]] = defaultdict(list)
    for change in session.scalars(
        select(NoticeChange)
        .where(NoticeChange.notice_id.in_(list(notice_row_ids)))
        .order_by(NoticeChange.seen_at, NoticeChange.id)
    ):
        found[change.notice_id].append(change)
    return found


def contracts_of(session: Session, notice_row_ids: Sequence[int]) -> dict[int, list[ContractRow]]:
    found: dict[int, list[ContractRow]] = defaultdict(list)
    for contract in session.scalars(
        select(ContractRow).where(ContractRow.notice_id.in_(list(notice_row_ids))).order_by(ContractRow.id)
    ):
        found[contract.notice_id].append(contract)
    return found


def links_of(session: Session, opportunity_id: int) -> list[OpportunityLink]:
    return list(
        session.scalars(
            select(OpportunityLink)
            .where(OpportunityLink.opportunity_id == opportunity_id)
            .order_by(OpportunityLink.id)
        )
    )


def procurements_of(session: Session, opportunity_id: int) -> list[str]:
    return list(
        session.scalars(
            select(OpportunityProcurement.procurement)
            .where(OpportunityProcurement.opportunity_id == opportunity_id)
            .order_by(OpportunityProcurement.id)
        )
    )


# ---------------------------------------------------------------------------------------------- merging


def merge_procurement(
    session: Session,
    procurement: str,
    into: str,
    *,
    rule: str,
    notice_key: str,
    matched_notice_key: str,
    evidence: dict[str, object],
    now: datetime,
) -> bool:
    """Move `procurement`'s opportunity (every procurement in it) into `into`'s, recording why; False
    if they are one already or a user split them apart."""
    source_id, target_id = opportunity_id_of(session, procurement), opportunity_id_of(session, into)
    if source_id is None or target_id is None or source_id == target_id:
        return False
    moving = procurements_of(session, source_id)
    staying = procurements_of(session, target_id)
    if split_between(session, moving, staying):
        return False
    session.execute(
        update(OpportunityProcurement)
        .where(OpportunityProcurement.opportunity_id == source_id)
        .values(opportunity_id=target_id)
    )
    session.execute(
        update(OpportunityLink)
        .where(OpportunityLink.opportunity_id == source_id)
        .values(opportunity_id=target_id)
    )
    session.add(
        OpportunityLink(
            opportunity_id=target_id,
            procurement=procurement,
            matched_procurement=into,
            notice_key=notice_key,
            matched_notice_key=matched_notice_key,
            rule=rule,
            evidence=evidence,
            created_at=now,
        )
    )
    session.flush()
    return True


def split_between(session: Session, ours: Sequence[str], theirs: Sequence[str]) -> bool:
    """Whether a user split any of `ours` from any of `theirs`."""
    pairs = {_pair(a, b) for a in ours for b in theirs}
    if not pairs:
        return False
    firsts = sorted({a for a, _ in pairs})
    found = session.execute(
        select(OpportunitySplit.procurement_a, OpportunitySplit.procurement_b).where(
            OpportunitySplit.procurement_a.in_(firsts)
        )
    ).all()
    return any(tuple(row) in pairs for row in found)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def unmerge(session: Session, procurement: str, now: datetime) -> list[str]:
    """Split `procurement` off the opportunity it was merged into (or, for the procurement that
    founded it, split off everything merged into it): each part gets its own opportunity again, the
    evidence of those merges is dropped, and the split is remembered. Returns the procurements split
    off."""
    opportunity_id = opportunity_id_of(session, procurement)
    if opportunity_id is None:
        return []
    members = procurements_of(session, opportunity_id)
    key = session.scalar(select(OpportunityRow.key).where(OpportunityRow.id == opportunity_id))
    leaving = [member for member in members if member != key] if procurement == key else [procurement]
    if not leaving:
        return []
    staying = [member for member in members if member not in leaving]
    for a in leaving:
        for b in staying:
            pair = _pair(a, b)
            session.connection().execute(
                upsert(session, OpportunitySplit).on_conflict_do_nothing(
                    index_elements=["procurement_a", "procurement_b"]
                ),
                [{"procurement_a": pair[0], "procurement_b": pair[1], "created_at": now}],
            )
    for member in leaving:
        own = session.scalar(select(OpportunityRow.id).where(OpportunityRow.key == member))
        if own is None:
            row = OpportunityRow(key=member, created_at=now)
            session.add(row)
            session.flush()
            own = row.id
        session.execute(
            update(OpportunityProcurement)
            .where(OpportunityProcurement.procurement == member)
            .values(opportunity_id=own)
        )
    session.execute(
        OpportunityLink.__table__.delete().where(
            OpportunityLink.opportunity_id == opportunity_id,
            OpportunityLink.procurement.in_(leaving) | OpportunityLink.matched_procurement.in_(leaving),
        )
    )
    session.flush()
    return leaving


def notices_of(rows: Sequence[NoticeRow]) -> list[Notice]:
    return [notice_from_row(row) for row in rows]


def load_opportunities(session: Session, ids: Sequence[int], now: datetime) -> list[Opportunity]:
    """The opportunities with these ids, in that order, each with its notices, timeline and evidence."""
    from store.timeline import build_opportunity

    rows = opportunity_rows(session, ids)
    members = member_rows(session, ids)
    row_ids = [row.id for part in members.values() for row in part]
    changes, contracts = changes_of(session, row_ids), contracts_of(session, row_ids)
    found = []
    for opportunity_id in ids:
        notice_rows = members.get(opportunity_id)
        if opportunity_id not in rows or not notice_rows:
            continue
        found.append(
            build_opportunity(
                rows[opportunity_id].key,
                notices_of(notice_rows),
                changes={row.key: changes.get(row.id, []) for row in notice_rows},
                contracts={row.key: contracts.get(row.id, []) for row in notice_rows},
                links=links_of(session, opportunity_id),
                now=now,
            )
        )
    return found


def load_opportunity(session: Session, key: str, now: datetime) -> Opportunity | None:
    row = get_opportunity_row(session, key)
    found = load_opportunities(session, [row.id], now) if row else []
    return found[0] if found else None
