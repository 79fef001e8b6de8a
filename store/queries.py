"""Reading notices back: lists with filters, one notice with its history, everything for export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from store.ingest import notice_from_row
from store.models import NoticeChange, NoticeRow, ReleaseRow, ScoreRow
from store.notice import Notice


@dataclass(frozen=True)
class NoticeFilter:
    source: str | None = None
    notice_types: tuple[str, ...] = ()
    opportunities_only: bool = False
    open_at: datetime | None = None  # only notices whose deadline is after this moment (or unknown)
    published_since: datetime | None = None
    text: str | None = None  # a full-text search (store.search): the best matches come first
    bands: tuple[str, ...] = ()  # only notices scored in these bands under `profile` (stored scores)
    profile: str | None = None
    min_value: float | None = None  # notices without a stated value are left out by either bound
    max_value: float | None = None
    buyer: str | None = None  # words in the buyer's name, in that order (case ignored)
    region: str | None = None  # an ITL/NUTS code prefix, e.g. UKG (notices naming a region under it)
    first_seen_since: datetime | None = None  # new to the store since then


def find_notices(session: Session, where: NoticeFilter, limit: int | None = 50) -> list[Notice]:
    """Matching notices, newest first (best match first when searching for text)."""
    if where.text:
        from store.search import search

        return search(session, where.text, where=where, limit=limit)
    # Notices without a publication date last, as SQLite sorts NULLs and PostgreSQL does not by default.
    newest = (NoticeRow.published_at.desc().nulls_last(), NoticeRow.id.desc())
    # Matches of a band: the best first (several shown as 100 rank by their raw total), then newest.
    query = filtered(where).order_by(*((ranking().desc(),) if where.bands else ()), *newest)
    if limit:
        query = query.limit(limit)
    return [notice_from_row(row) for row in session.scalars(query)]


def ranking() -> ColumnElement[float]:
    """What orders scored matches: the raw (uncapped) total, or the score where none is stored yet."""
    return func.coalesce(ScoreRow.raw_score, ScoreRow.score)


def filtered(where: NoticeFilter) -> Select:
    """Notices meeting every condition of `where` except its text (see store.search), unordered."""
    query = select(NoticeRow)
    if where.source:
        query = query.where(NoticeRow.source == where.source)
    if where.notice_types:
        query = query.where(NoticeRow.notice_type.in_(where.notice_types))
    if where.opportunities_only:
        query = query.where(NoticeRow.is_opportunity.is_(True))
    if where.open_at:
        query = query.where(or_(NoticeRow.deadline.is_(None), NoticeRow.deadline > where.open_at))
    if where.published_since:
        query = query.where(NoticeRow.published_at >= where.published_since)
    if where.min_value is not None:
        query = query.where(NoticeRow.value_amount >= where.min_value)
    if where.max_value is not None:
        query = query.where(NoticeRow.value_amount <= where.max_value)
    if where.buyer:
        query = query.where(func.lower(NoticeRow.buyer_name).contains(_words(where.buyer), autoescape=True))
    if where.region:
        # Regions are a JSON list of codes: '["UKG31", "UKI"]' holds '"UKG' for a notice in UKG.
        wanted = '"' + where.region.strip().upper()
        query = query.where(cast(NoticeRow.regions, Text).contains(wanted, autoescape=True))
    if where.first_seen_since:
        query = query.where(NoticeRow.first_seen >= where.first_seen_since)
    if where.bands:
        query = query.join(
            ScoreRow, (ScoreRow.notice_id == NoticeRow.id) & (ScoreRow.profile == where.profile)
        ).where(ScoreRow.band.in_(where.bands))
    return query


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def same_procurement(session: Session, notice: Notice) -> list[str]:
    """The ids of the other stored notices of the notice's procurement: the same ocid on any
    service, or a notice that names the other's ocid as its own (same_as_ocid)."""
    from store.notice import procurement_of

    _, ocid = procurement_of(notice)
    related = [NoticeRow.ocid == ocid, NoticeRow.same_as_ocid == ocid]
    if notice.ocid:
        related.append(NoticeRow.ocid == notice.ocid)  # the same service's other notices of it
    query = select(NoticeRow.key).where(NoticeRow.key != notice.id, or_(*related)).order_by(NoticeRow.key)
    return list(session.scalars(query))


def missing_notices(session: Session, keys: list[str]) -> list[str]:
    """Those of `keys` (notice ids) that are not in the store, in the order given."""
    stored: set[str] = set()
    for start in range(0, len(keys), 500):  # bounded IN lists
        part = keys[start : start + 500]
        stored.update(session.scalars(select(NoticeRow.key).where(NoticeRow.key.in_(part))))
    return [key for key in dict.fromkeys(keys) if key not in stored]


def titles_of(session: Session, keys: list[str]) -> dict[str, str]:
    """The title of each stored notice among `keys` (notice ids); those not stored are left out."""
    titles: dict[str, str] = {}
    for start in range(0, len(keys), 500):  # bounded IN lists
        part = keys[start : start + 500]
        query = select(NoticeRow.key, NoticeRow.title).where(NoticeRow.key.in_(part))
        titles.update(session.execute(query).all())  # a list of rows: a Result looks like a mapping
    return titles


def similar_keys(session: Session, text: str, limit: int = 3) -> list[str]:
    """Stored notice ids that look like a mistyped one: those whose source id starts like it (an
    index lookup), the closest first."""
    from difflib import get_close_matches

    source_id = text.rpartition(":")[2]
    if len(source_id) < 3:
        return []
    pattern = source_id[:3].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    candidates = session.scalars(
        select(NoticeRow.key).where(NoticeRow.source_id.like(pattern, escape="\\")).limit(5000)
    ).all()
    if ":" not in text:  # compared with the source's own ids, as typed
        by_id = {key.partition(":")[2]: key for key in candidates}
        return [by_id[found] for found in get_close_matches(text, list(by_id), limit, 0.6)]
    return get_close_matches(text, list(candidates), limit, 0.6)


def stored_sources(session: Session) -> list[str]:
    return list(session.scalars(select(NoticeRow.source).distinct()))


def get_notice(session: Session, notice_id: str) -> Notice | None:
    row = session.scalars(select(NoticeRow).where(NoticeRow.key == notice_id)).first()
    return notice_from_row(row) if row else None


def sources_with_releases(session: Session) -> list[str]:
    return list(session.scalars(select(ReleaseRow.source).distinct().order_by(ReleaseRow.source)))


def keys_of_source_id(session: Session, source_id: str) -> list[str]:
    """The ids of the notices a source calls `source_id` (076396-2026 is find_a_tender:076396-2026)."""
    return list(
        session.scalars(select(NoticeRow.key).where(NoticeRow.source_id == source_id).order_by(NoticeRow.key))
    )


def notice_history(session: Session, notice_id: str) -> list[NoticeChange]:
    return list(
        session.scalars(
            select(NoticeChange)
            .join(NoticeRow, NoticeRow.id == NoticeChange.notice_id)
            .where(NoticeRow.key == notice_id)
            .order_by(NoticeChange.seen_at, NoticeChange.id)
        )
    )


def release_count(session: Session, notice: Notice) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ReleaseRow)
            .where(ReleaseRow.source == notice.source, ReleaseRow.notice_id == notice.source_id)
        )
        or 0
    )


def iter_notices(session: Session, where: NoticeFilter, batch: int = 1000) -> Iterator[Notice]:
    """Every notice meeting `where` (but its text), oldest first, streamed in batches so memory stays flat."""
    last_id = 0
    while True:
        query = filtered(where).where(NoticeRow.id > last_id).order_by(NoticeRow.id).limit(batch)
        rows = list(session.scalars(query))
        if not rows:
            return
        last_id = rows[-1].id
        yield from (notice_from_row(row) for row in rows)
        session.expunge_all()
