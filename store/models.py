"""The schema: releases as received, notices compiled from them, their changes, crawl runs, watermarks.

Every datetime is stored in UTC. SQLite has no time-zone type, so UtcDateTime writes naive UTC there
and hands back aware datetimes everywhere, which keeps comparisons identical on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints let Alembic's batch mode rebuild SQLite tables safely.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: give it a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def sqlite_text(value: datetime | None) -> str | None:
            # The very text SQLite's DATETIME type writes ("2026-08-10 08:30:00.000000"), by one C call
            # instead of its Python formatting: a release stores nine datetimes on the crawl's hot path.
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return sqlite_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class ReleaseRow(Base):
    """One OCDS release exactly as a source served it (re-serialised JSON), upserted on its id."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("source", "release_id"),
        Index("ix_releases_source_notice", "source", "notice_id"),
        Index("ix_releases_source_ocid", "source", "ocid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    release_id: Mapped[str] = mapped_column(String(200))
    notice_id: Mapped[str] = mapped_column(String(200))
    ocid: Mapped[str] = mapped_column(String(200))
    date: Mapped[datetime | None]
    tags: Mapped[str] = mapped_column(String(200))
    raw: Mapped[str] = mapped_column(Text)
    raw_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class NoticeRow(Base):
    """One source notice in tenderwatch's normalised shape, compiled from its releases."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_notices_source_ocid", "source", "ocid"),
        Index("ix_notices_ocid", "ocid"),  # a procurement's notices on every service (web, show)
        Index("ix_notices_changed_at", "changed_at"),  # has anything changed since? (the web page)
        Index("ix_notices_published_at", "published_at"),
        Index("ix_notices_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250))
    source: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(200))
    ocid: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    notice_type: Mapped[str | None] = mapped_column(String(10))
    stage: Mapped[str | None] = mapped_column(String(20))
    is_opportunity: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    buyer_name: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    future_notice_date: Mapped[datetime | None]
    value_amount: Mapped[float | None] = mapped_column(Float)
    value_currency: Mapped[str | None] = mapped_column(String(3))
    cpv: Mapped[list[Any]]
    regions: Mapped[list[Any]]
    category: Mapped[str | None] = mapped_column(String(20))
    suitable_for_sme: Mapped[bool | None] = mapped_column(Boolean)
    lots: Mapped[list[Any]]
    framework: Mapped[bool] = mapped_column(Boolean, default=False)
    procedure: Mapped[str | None] = mapped_column(Text)
    same_as_ocid: Mapped[str | None] = mapped_column(String(200), index=True)
    details: Mapped[dict[str, Any] | None]  # store.notice.Details as JSON
    # "<service>:<ocid>" (store.notice.procurement_text): its procurement, whichever source holds it.
    # Not a foreign key: the procurement's opportunity is looked up in opportunity_procurements.
    procurement: Mapped[str | None] = mapped_column(String(250), index=True)
    origin: Mapped[str] = mapped_column(String(20), default="crawl")
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    changed_at: Mapped[datetime]


class NoticeChange(Base):
    """A key field of a notice that changed, with both values and when tenderwatch saw it."""

    __tablename__ = "notice_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime]
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))


class CrawlRun(Base):
    """One crawl of one source: its window, what it fetched and how it ended."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    window_from: Mapped[datetime]
    window_to: Mapped[datetime]
    pages: Mapped[int] = mapped_column(Integer, default=0)
    releases: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    message: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)


class SourceState(Base):
    """Per-source watermark: everything updated before it has been fetched completely."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    watermark: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]


class ScoreRow(Base):
    """A notice's score under one profile, with the hashes of the rules and the notice it came from."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("notice_id", "profile"),
        Index("ix_scores_profile_band", "profile", "band"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    profile: Mapped[str] = mapped_column(String(40))
    rules_hash: Mapped[str] = mapped_column(String(64))
    notice_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    # The total before it was held to 0-100: ranks notices all shown as 100 (NULL: scored before 0010).
    raw_score: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    service_line: Mapped[str | None] = mapped_column(String(200))
    reasons: Mapped[list[Any]]
    computed_at: Mapped[datetime]


class FeedbackRow(Base):
    """The team's judgement of a notice (by its "source:source_id" key); the latest row per key wins."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_notice_key", "notice_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(250))
    label: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class DigestRow(Base):
    """One digest built for one channel: when, as of when, how it went, and what it held."""

    __tablename__ = "digests"
    __table_args__ = (Index("ix_digests_channel_created", "channel", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(120))
    profile: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[datetime]
    created_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))  # sent, failed, skipped (nothing new), written (file)
    counts: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    """A notice announced on a channel: recorded as its message is handed over, kept once the channel
    accepts it, withdrawn if the channel refuses it.

    `kind` is what it was announced as (new, too_soon, closing_soon, change, early_warning); `ref`
    tells apart several announcements of one kind (the change's id), so each is made once.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("channel", "notice_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(120))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(40), default="")
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    delivered_at: Mapped[datetime]
    # False from handing the message over until the channel accepts it: what `notify resend` releases
    # of a digest stopped part-way (the posts Teams had accepted stay told).
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class WebUser(Base):
    """Someone who may sign in to `tenderwatch web`: a name and an argon2 hash of their password."""

    __tablename__ = "web_users"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    last_visit_at: Mapped[datetime | None]  # the inbox shows what is new since then
    # Every session carries it; a new one (password changed, signed out) ends the sessions signed before.
    session_key: Mapped[str | None] = mapped_column(String(64))


class BidDecision(Base):
    """The team's bid decision on a notice (bid, no-bid with a reason, watching); the latest wins."""

    __tablename__ = "bid_decisions"
    __table_args__ = (Index("ix_bid_decisions_notice_key", "notice_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(250))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime]


class ProfileVersion(Base):
    """A published version of a profile's rules (YAML text); the highest number is the live one."""

    __tablename__ = "profile_versions"
    __table_args__ = (UniqueConstraint("profile", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    rules: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class OpportunityRow(Base):
    """One opportunity: the procurements (usually one) a bid manager sees as one piece of work.

    `key` is the procurement it was founded by ("find_a_tender:ocds-h6vhtk-069311"); it stays the
    same whatever is merged into it, so exports and digests can name it.
    """

    __tablename__ = "opportunities"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250))
    created_at: Mapped[datetime]


class OpportunityProcurement(Base):
    """Which opportunity a procurement belongs to: its own, or one it was merged into with evidence."""

    __tablename__ = "opportunity_procurements"
    __table_args__ = (UniqueConstraint("procurement"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procurement: Mapped[str] = mapped_column(String(250))
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )


class OpportunityLink(Base):
    """The evidence for one merge: which rule joined which two notices, with the values it compared."""

    __tablename__ = "opportunity_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    procurement: Mapped[str] = mapped_column(String(250))  # the one merged in
    matched_procurement: Mapped[str] = mapped_column(String(250))  # the one it was found to be
    notice_key: Mapped[str] = mapped_column(String(250))
    matched_notice_key: Mapped[str] = mapped_column(String(250))
    rule: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class OpportunitySplit(Base):
    """Two procurements a user split apart (`tenderwatch unmerge`): never merged again."""

    __tablename__ = "opportunity_splits"
    __table_args__ = (UniqueConstraint("procurement_a", "procurement_b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procurement_a: Mapped[str] = mapped_column(String(250))  # the smaller of the two, as text
    procurement_b: Mapped[str] = mapped_column(String(250))
    created_at: Mapped[datetime]


class ContractRow(Base):
    """A contract awarded, read from an award or contract-details notice (one row per award)."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("notice_id", "award_id"), Index("ix_contracts_end_date", "end_date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    award_id: Mapped[str] = mapped_column(String(200))
    suppliers: Mapped[list[Any]]
    value_amount: Mapped[float | None] = mapped_column(Float)
    value_currency: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    max_end_date: Mapped[datetime | None]  # with every extension or renewal the notice allows
    signed_at: Mapped[datetime | None]


class NoticeReference(Base):
    """What a notice's releases say that names its procurement elsewhere: a link to another service's
    notice page (`links_to`, that notice's id) or the buyer's own reference (`buyer_reference`, a
    ProContract "DN..." number in tender.id). Read when the notice is compiled; used to match."""

    __tablename__ = "notice_references"
    __table_args__ = (
        UniqueConstraint("notice_id", "kind", "value"),
        Index("ix_notice_references_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(250))
