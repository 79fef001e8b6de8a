"""The delivery log: which notices each channel has been told about, and the digests that told them.

A notice is recorded as delivered to a channel as its message is handed over, and withdrawn if the
channel refuses it; a unique (channel, notice, kind, ref) row makes every announcement happen at most
once, even if two digests race. A digest the channel was handed but never acknowledged
("unconfirmed", also the digest of a process stopped mid-send) counts its items as delivered, until
the operator says it did not arrive (settle_unconfirmed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from store.ingest import notice_from_row
from store.models import (
    CrawlRun,
    DeliveryRow,
    DigestRow,
    NoticeChange,
    NoticeRow,
    OpportunityProcurement,
    OpportunityRow,
    ScoreRow,
    SourceState,
    utcnow,
)
from store.notice import Notice
from store.queries import ranking

UNCONFIRMED = "unconfirmed"  # a digest's outcome: handed to the mail server, never acknowledged
OPPORTUNITY_KINDS = ("new", "too_soon")  # announcements of a notice as something to bid for
ANNOUNCED_KINDS = (*OPPORTUNITY_KINDS, "closing_soon", "early_warning")


@dataclass(frozen=True)
class Scored:
    notice: Notice
    row_id: int
    score: int
    band: str
    service_line: str | None
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class Announcement:
    """One thing to record as delivered: a notice (by row id), what it was announced as, and a ref."""

    notice_row_id: int
    kind: str
    ref: str = ""


def matching_notices(
    session: Session,
    profile: str,
    *,
    bands: Sequence[str],
    stages: Sequence[str],
    published_since: datetime,
    as_of: datetime,
) -> list[Scored]:
    """Notices in the given bands and stages, published in [published_since, as_of], best first."""
    rows = session.execute(
        select(NoticeRow, ScoreRow)
        .join(ScoreRow, and_(ScoreRow.notice_id == NoticeRow.id, ScoreRow.profile == profile))
        .where(
            ScoreRow.band.in_(bands),
            NoticeRow.stage.in_(stages),
            NoticeRow.published_at >= published_since,
            NoticeRow.published_at <= as_of,
        )
        .order_by(ranking().desc(), NoticeRow.deadline, NoticeRow.id)
    ).all()
    return [
        Scored(
            notice_from_row(notice),
            notice.id,
            score.score,
            score.band,
            score.service_line,
            list(score.reasons),
        )
        for notice, score in rows
    ]


def scored(session: Session, profile: str, notice_row_ids: Iterable[int]) -> dict[int, Scored]:
    ids = list(notice_row_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(NoticeRow, ScoreRow)
        .outerjoin(ScoreRow, and_(ScoreRow.notice_id == NoticeRow.id, ScoreRow.profile == profile))
        .where(NoticeRow.id.in_(ids))
    ).all()
    return {
        notice.id: Scored(
            notice_from_row(notice),
            notice.id,
            score.score if score else 0,
            score.band if score else "none",
            score.service_line if score else None,
            list(score.reasons) if score else [],
        )
        for notice, score in rows
    }


def delivered(
    session: Session, channel: str, notice_row_ids: Iterable[int], kinds: Sequence[str] = ANNOUNCED_KINDS
) -> dict[int, set[str]]:
    """For each of these notices, the kinds it has already been announced as on this channel."""
    ids = list(notice_row_ids)
    found: dict[int, set[str]] = {}
    for start in range(0, len(ids), 500):
        for notice_id, kind in session.execute(
            select(DeliveryRow.notice_id, DeliveryRow.kind).where(
                DeliveryRow.channel == channel,
                DeliveryRow.kind.in_(kinds),
                DeliveryRow.notice_id.in_(ids[start : start + 500]),
            )
        ):
            found.setdefault(notice_id, set()).add(kind)
    return found


def delivered_refs(session: Session, channel: str, kind: str) -> set[tuple[int, str]]:
    """The (notice, ref) pairs this channel was told of as `kind` (e.g. the contracts announced as
    expiring: their notices and award ids, store.expiring.contract_ref)."""
    rows = session.execute(
        select(DeliveryRow.notice_id, DeliveryRow.ref).where(
            DeliveryRow.channel == channel, DeliveryRow.kind == kind
        )
    )
    return {(notice_id, ref) for notice_id, ref in rows}


def opportunities_announced(
    session: Session, channel: str, opportunities: Iterable[str], kinds: Sequence[str] = OPPORTUNITY_KINDS
) -> set[str]:
    """Which opportunities (by key) already had a notice announced here as one of `kinds`, whichever
    service published that notice."""
    wanted = list(dict.fromkeys(opportunities))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(OpportunityRow.key)
                .join(OpportunityProcurement, OpportunityProcurement.opportunity_id == OpportunityRow.id)
                .join(NoticeRow, NoticeRow.procurement == OpportunityProcurement.procurement)
                .join(DeliveryRow, DeliveryRow.notice_id == NoticeRow.id)
                .where(
                    OpportunityRow.key.in_(wanted[start : start + 500]),
                    DeliveryRow.channel == channel,
                    DeliveryRow.kind.in_(kinds),
                )
            )
        )
    return found


def last_awarded(session: Session, opportunities: Iterable[str], as_of: datetime) -> dict[str, datetime]:
    """When each of these opportunities (by key) last had an award or contract notice published, by
    `as_of`, on whichever service."""
    wanted = list(dict.fromkeys(opportunities))
    found: dict[str, datetime] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(OpportunityRow.key, func.max(NoticeRow.published_at))
            .join(OpportunityProcurement, OpportunityProcurement.opportunity_id == OpportunityRow.id)
            .join(NoticeRow, NoticeRow.procurement == OpportunityProcurement.procurement)
            .where(
                OpportunityRow.key.in_(wanted[start : start + 500]),
                NoticeRow.stage.in_(("award", "contract")),
                NoticeRow.published_at <= as_of,
            )
            .group_by(OpportunityRow.key)
        )
        found.update({key: published for key, published in rows if published is not None})
    return found


def open_announced(
    session: Session, channel: str, *, closing_after: datetime, closing_by: datetime
) -> list[int]:
    """Notices announced here as new matches whose deadline falls in (closing_after, closing_by].

    Not those listed as closing too soon to answer, or left out for it: no reminder of what the
    channel was told it had no time for.
    """
    return list(
        session.scalars(
            select(NoticeRow.id)
            .join(DeliveryRow, DeliveryRow.notice_id == NoticeRow.id)
            .where(
                DeliveryRow.channel == channel,
                DeliveryRow.kind == "new",
                NoticeRow.is_opportunity.is_(True),
                NoticeRow.deadline > closing_after,
                NoticeRow.deadline <= closing_by,
            )
            .distinct()
        )
    )


def _first_told(channel: str) -> Any:
    """Per opportunity this channel was told about: when it was first told, and a notice it was told of."""
    return (
        select(
            OpportunityProcurement.opportunity_id,
            func.min(DeliveryRow.delivered_at).label("told_at"),
            func.min(DeliveryRow.notice_id).label("told_notice"),
        )
        .join(NoticeRow, NoticeRow.id == DeliveryRow.notice_id)
        .join(OpportunityProcurement, OpportunityProcurement.procurement == NoticeRow.procurement)
        .where(DeliveryRow.channel == channel, DeliveryRow.kind.in_(ANNOUNCED_KINDS))
        .group_by(OpportunityProcurement.opportunity_id)
        .subquery()
    )


def _told_changes(session: Session, channel: str) -> set[str]:
    """The refs of the changes (and later notices) already told on this channel."""
    return set(
        session.scalars(
            select(DeliveryRow.ref).where(DeliveryRow.channel == channel, DeliveryRow.kind == "change")
        )
    )


def later_notices(session: Session, channel: str, as_of: datetime) -> list[LaterNotice]:
    """Notices of opportunities this channel was told about, first stored after it was told and by
    `as_of`, past the planning stage and not yet told here (as news, `later_ref`, or as matches): an
    update or clarification, an award, a contract, or a copy on another service (the caller judges)."""
    first_told = _first_told(channel)
    rows = session.execute(
        select(OpportunityRow.id, OpportunityRow.key, first_told.c.told_notice, NoticeRow.id, NoticeRow.key)
        .join(OpportunityProcurement, OpportunityProcurement.procurement == NoticeRow.procurement)
        .join(first_told, first_told.c.opportunity_id == OpportunityProcurement.opportunity_id)
        .join(OpportunityRow, OpportunityRow.id == OpportunityProcurement.opportunity_id)
        .where(
            NoticeRow.first_seen > first_told.c.told_at,
            NoticeRow.first_seen <= as_of,
            NoticeRow.stage.in_(("tender", "award", "contract")),
        )
        .order_by(NoticeRow.first_seen, NoticeRow.id)
    ).all()
    told = _told_changes(session, channel)
    announced = delivered(session, channel, [row[3] for row in rows])
    return [LaterNotice(*row) for row in rows if later_ref(row[3]) not in told and not announced.get(row[3])]


def later_ref(notice_row_id: int) -> str:
    """How a later notice told under Changed is recorded (a change's ref is its number)."""
    return f"notice {notice_row_id}"


@dataclass(frozen=True)
class LaterNotice:
    opportunity_id: int
    opportunity_key: str
    told_notice: int  # a notice of the opportunity the channel was told of
    notice_row_id: int
    notice_key: str


def unannounced_changes(session: Session, channel: str, as_of: datetime) -> dict[int, list[NoticeChange]]:
    """Changes, seen by `as_of`, to the notices of opportunities this channel was told about (on
    whichever service: the tender it was told of, or its copy on another), made after it was told."""
    first_told = _first_told(channel)
    told = _told_changes(session, channel)
    changes = session.scalars(
        select(NoticeChange)
        .join(NoticeRow, NoticeRow.id == NoticeChange.notice_id)
        .join(OpportunityProcurement, OpportunityProcurement.procurement == NoticeRow.procurement)
        .join(first_told, first_told.c.opportunity_id == OpportunityProcurement.opportunity_id)
        .where(NoticeChange.seen_at > first_told.c.told_at, NoticeChange.seen_at <= as_of)
        .order_by(NoticeChange.notice_id, NoticeChange.seen_at, NoticeChange.id)
    )
    grouped: dict[int, list[NoticeChange]] = {}
    for change in changes:
        if str(change.id) not in told:
            grouped.setdefault(change.notice_id, []).append(change)
    return grouped


def last_sent(session: Session, channel: str) -> DigestRow | None:
    return session.scalars(
        select(DigestRow)
        .where(DigestRow.channel == channel, DigestRow.outcome.in_(("sent", "written")))
        .order_by(DigestRow.created_at.desc(), DigestRow.id.desc())
        .limit(1)
    ).first()


def last_attempt(
    session: Session, channel: str, *, built_for_since: datetime | None = None
) -> DigestRow | None:
    """The latest digest recorded for this channel, whatever its outcome; with `built_for_since`,
    the latest of those built for that moment or later (a backdated `digest --as-of` is not one)."""
    query = select(DigestRow).where(DigestRow.channel == channel)
    if built_for_since is not None:
        query = query.where(DigestRow.as_of >= built_for_since)
    return session.scalars(query.order_by(DigestRow.created_at.desc(), DigestRow.id.desc()).limit(1)).first()


def source_health(
    session: Session, sources: Sequence[str], since: datetime | None, as_of: datetime
) -> list[dict[str, Any]]:
    """Per source, as it stood at `as_of`: its last successful crawl, the crawls that failed since
    `since`, and whether it is failing (its last crawl to end, failed), with that crawl's message.

    An interrupted crawl is not a failure: the next crawl resumes it (`status` calls it a warning).
    """
    health = []
    for source in sources:
        state = session.get(SourceState, source)
        last_success = state.last_success_at if state else None
        if last_success and last_success > as_of:  # a digest built --as-of an earlier time
            last_success = _success_as_of(session, source, as_of)
        query = select(CrawlRun).where(
            CrawlRun.source == source,
            CrawlRun.outcome == "failed",
            CrawlRun.started_at <= as_of,
        )
        if since is not None:
            query = query.where(CrawlRun.started_at > since)
        failed = session.scalars(query.order_by(CrawlRun.started_at)).all()
        ended = session.scalars(
            select(CrawlRun)
            .where(
                CrawlRun.source == source,
                CrawlRun.outcome.in_(("ok", "failed")),
                CrawlRun.started_at <= as_of,
            )
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        failing = ended is not None and ended.outcome == "failed"
        health.append(
            {
                "source": source,
                "last_success": last_success,
                "failures": [(run.started_at, run.message or run.outcome) for run in failed],
                "failing": failing,
                "last_failure": (ended.message or ended.outcome) if failing else None,
            }
        )
    return health


def _success_as_of(session: Session, source: str, as_of: datetime) -> datetime | None:
    """The last successful crawl by `as_of`; failing that, the first one after it.

    A digest built --as-of a moment before the crawls that fetched what it lists (a crawl run just
    now, a backfill) shows notices those crawls stored: the source was crawled successfully, and
    saying "not crawled successfully yet" would send the reader to fix a source that works.
    """
    ok = (CrawlRun.source == source, CrawlRun.outcome == "ok")
    before = session.scalar(select(func.max(CrawlRun.finished_at)).where(*ok, CrawlRun.finished_at <= as_of))
    return before or session.scalar(select(func.min(CrawlRun.finished_at)).where(*ok))


def record_digest(
    session: Session,
    *,
    channel: str,
    profile: str,
    as_of: datetime,
    outcome: str,
    counts: dict[str, int],
    error: str | None = None,
    announcements: Sequence[Announcement] = (),
) -> int:
    """Record a digest and, when it reached the channel, what it announced (each at most once).

    Deliveries are dated `as_of`, the moment the digest speaks for (now, unless built --as-of), so
    later digests compare changes and deadlines against what the channel was told then.
    """
    now = utcnow()
    digest = DigestRow(
        channel=channel,
        profile=profile,
        as_of=as_of,
        created_at=now,
        outcome=outcome,
        counts=counts,
        error=error,
    )
    session.add(digest)
    session.flush()
    add_deliveries(session, digest, announcements)
    return digest.id


def add_deliveries(
    session: Session, digest: DigestRow, announcements: Sequence[Announcement], *, confirmed: bool = True
) -> None:
    """Record these announcements as made by `digest`, each at most once on its channel; `confirmed`
    False while their message is with the channel (see confirm_deliveries)."""
    if not announcements:
        return
    existing = {
        (row.notice_id, row.kind, row.ref)
        for row in session.scalars(
            select(DeliveryRow).where(
                DeliveryRow.channel == digest.channel,
                DeliveryRow.notice_id.in_({a.notice_row_id for a in announcements}),
            )
        )
    }
    fresh = {(a.notice_row_id, a.kind, a.ref) for a in announcements} - existing
    session.add_all(
        DeliveryRow(
            channel=digest.channel,
            notice_id=notice_id,
            kind=kind,
            ref=ref,
            digest_id=digest.id,
            delivered_at=digest.as_of,
            confirmed=confirmed,
        )
        for notice_id, kind, ref in fresh
    )


def confirm_deliveries(session: Session, digest_id: int, announcements: Sequence[Announcement]) -> None:
    """The channel accepted the message that made these announcements: they stay told, whatever
    becomes of the rest of the digest."""
    for a in announcements:
        session.execute(update(DeliveryRow).where(*_made_by(digest_id, a)).values(confirmed=True))


def withdraw_deliveries(session: Session, digest_id: int, announcements: Sequence[Announcement]) -> None:
    """Forget what this digest recorded of these announcements: the channel refused the message."""
    for a in announcements:
        session.execute(delete(DeliveryRow).where(*_made_by(digest_id, a)))


def _made_by(digest_id: int, a: Announcement) -> tuple:
    return (
        DeliveryRow.digest_id == digest_id,
        DeliveryRow.notice_id == a.notice_row_id,
        DeliveryRow.kind == a.kind,
        DeliveryRow.ref == a.ref,
    )


def unconfirmed(session: Session, channel: str) -> list[DigestRow]:
    """This channel's digests that may or may not have arrived, oldest first."""
    return list(
        session.scalars(
            select(DigestRow)
            .where(DigestRow.channel == channel, DigestRow.outcome == UNCONFIRMED)
            .order_by(DigestRow.created_at, DigestRow.id)
        )
    )


def channels_unconfirmed(session: Session) -> list[str]:
    """The channels (delivery log names) with a digest waiting for the operator's word."""
    return list(
        session.scalars(
            select(DigestRow.channel)
            .where(DigestRow.outcome == UNCONFIRMED)
            .distinct()
            .order_by(DigestRow.channel)
        )
    )


def settle_unconfirmed(session: Session, channel: str, *, arrived: bool) -> list[tuple[DigestRow, int]]:
    """Record the operator's word on this channel's unconfirmed digests, with how many announcements
    each released.

    It arrived: each becomes a sent digest. It did not: its deliveries the channel never confirmed are
    removed, so their items go in the next digest (those of posts it accepted before it stopped stay
    told), and it becomes a failed one, which the daemon and `run` try again like any other.
    """
    settled = []
    now = utcnow()
    for digest in unconfirmed(session, channel):
        if arrived:
            digest.outcome = "sent"
            digest.error = f"{digest.error}; the operator confirmed it arrived ({now:%Y-%m-%d %H:%M} UTC)"
            session.execute(
                update(DeliveryRow).where(DeliveryRow.digest_id == digest.id).values(confirmed=True)
            )
            settled.append((digest, 0))
            continue
        in_flight = (DeliveryRow.digest_id == digest.id, DeliveryRow.confirmed.is_(False))
        released = session.execute(delete(DeliveryRow).where(*in_flight)).rowcount
        digest.outcome = "failed"
        digest.error = f"{digest.error}; the operator said it did not arrive, so its items are sent again"
        settled.append((digest, released))
    return settled
