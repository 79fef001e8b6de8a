"""An opportunity as a bid manager reads it: what it is now, and what happened to it, from its notices.

Pure: built from the notices of one opportunity, their recorded changes and their contracts, so it
is the same on both databases and needs no stored copy that could drift from the notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from store.models import ContractRow, NoticeChange, OpportunityLink
from store.notice import Notice, procurement_text
from tenderwatch.formatting import describe_change, money, when

STAGE_ORDER = ("planning", "tender", "award", "contract")
TYPE_NAMES = {
    "UK1": "pipeline notice",
    "UK2": "preliminary market engagement notice",
    "UK3": "planned procurement notice",
    "UK4": "tender notice",
    "UK5": "transparency notice",
    "UK6": "contract award notice",
    "UK7": "contract details notice",
    "UK9": "contract performance notice",
    "UK10": "contract change notice",
    "UK11": "contract termination notice",
    "UK12": "procurement termination notice",
    "UK13": "dynamic market notice",
}
ENDED = ("cancelled", "withdrawn", "unsuccessful")


@dataclass(frozen=True)
class Event:
    at: datetime | None
    # published, update, deadline moved, value changed, title changed, cancelled, awarded, contract signed
    kind: str
    text: str
    notice_key: str


@dataclass(frozen=True)
class Opportunity:
    key: str
    notices: tuple[Notice, ...]  # oldest first
    title: str
    buyer_name: str | None
    value_amount: float | None
    value_currency: str | None
    deadline: datetime | None
    status: str  # planned, open, closed, cancelled, awarded, contract signed
    stage: str | None
    events: tuple[Event, ...] = ()
    links: tuple[OpportunityLink, ...] = field(default=(), compare=False)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(notice.source for notice in self.notices))


def build_opportunity(
    key: str,
    notices: Sequence[Notice],
    *,
    changes: dict[str, list[NoticeChange]],
    contracts: dict[str, list[ContractRow]],
    links: Sequence[OpportunityLink] = (),
    now: datetime,
) -> Opportunity:
    """The opportunity's current view and timeline from its notices (each with its changes and
    contracts, by notice key)."""
    ordered = sorted(notices, key=_published_order)
    lead = _lead(ordered)
    stage = max((n.stage for n in ordered if n.stage), key=STAGE_ORDER.index, default=None)
    return Opportunity(
        key=key,
        notices=tuple(ordered),
        title=lead.title,
        buyer_name=lead.buyer_name or next((n.buyer_name for n in ordered if n.buyer_name), None),
        value_amount=lead.value_amount,
        value_currency=lead.value_currency,
        deadline=lead.deadline,
        status=_status(ordered, lead, stage, now),
        stage=stage,
        events=tuple(_events(ordered, changes, contracts)),
        links=tuple(links),
    )


def _published_order(notice: Notice) -> tuple[str, str]:
    moment = notice.published_at or notice.updated_at
    return (moment.isoformat() if moment else "", notice.id)


def _lead(ordered: Sequence[Notice]) -> Notice:
    """The notice the current view is read from: the latest tender notice (updates applied), else the
    latest pipeline notice, else the latest of any kind."""
    for stage in ("tender", "planning"):
        of_stage = [n for n in ordered if n.stage == stage and n.notice_type != "UK12"]
        if of_stage:
            return of_stage[-1]
    return ordered[-1]


def _status(ordered: Sequence[Notice], lead: Notice, stage: str | None, now: datetime) -> str:
    if stage == "contract":
        return "contract signed"
    if stage == "award":
        return "awarded"
    if lead.status in ENDED or any(n.notice_type == "UK12" for n in ordered):
        return "cancelled" if lead.status != "withdrawn" else "withdrawn"
    if stage == "tender":
        open_now = lead.is_opportunity and (lead.deadline is None or lead.deadline > now)
        return "open" if open_now else "closed"
    return "planned"


def _events(
    ordered: Sequence[Notice], changes: dict[str, list[NoticeChange]], contracts: dict[str, list[ContractRow]]
) -> list[Event]:
    events: list[Event] = []
    seen: set[tuple[str | None, str]] = set()  # (stage, procurement) of the notices before
    cancelled_by_notice = any(n.notice_type == "UK12" for n in ordered)
    told: set[tuple[str, str | None, str | None, datetime]] = set()  # one change told once
    for notice in ordered:
        events.append(_notice_event(notice, seen, contracts.get(notice.id, [])))
        seen.add((notice.stage, procurement_text(notice)))
        own = changes.get(notice.id, [])
        for change in own:
            # An update changes every earlier notice of its procurement alike: tell it once.
            said = (change.field, change.old_value, change.new_value, change.seen_at)
            if said not in told and (event := _change_event(notice, change, cancelled_by_notice)):
                told.add(said)
                events.append(event)
        if (
            notice.status == "cancelled"
            and not cancelled_by_notice
            and not any(c.field == "status" for c in own)
        ):
            events.append(Event(notice.updated_at, "cancelled", f"cancelled ({notice.id})", notice.id))
    return sorted(events, key=_event_order)


def _event_order(event: Event) -> tuple[str, bool]:
    return (event.at.isoformat() if event.at else "", event.kind != "published")


def _notice_event(notice: Notice, seen: set[tuple[str | None, str]], contracts: list[ContractRow]) -> Event:
    name = TYPE_NAMES.get(notice.notice_type or "", f"{notice.stage or 'other'} notice")
    where = f"{name} {notice.id}"
    if notice.notice_type == "UK12":
        return Event(notice.published_at, "cancelled", f"cancelled: {where}", notice.id)
    if notice.stage in ("award", "contract"):
        kind = "contract signed" if notice.stage == "contract" else "awarded"
        text = f"{kind}: {_award_text(notice, contracts)} ({where})"
        return Event(notice.published_at, kind, text, notice.id)
    if notice.stage == "tender" and (notice.stage, procurement_text(notice)) in seen:
        return Event(notice.published_at, "update", f"clarification or update: {where}", notice.id)
    also = " (on another service)" if any(stage == notice.stage for stage, _ in seen) else ""
    return Event(notice.published_at, "published", f"published: {where}{also}", notice.id)


def _award_text(notice: Notice, contracts: list[ContractRow]) -> str:
    if not contracts:
        return f"to a supplier not stated, for {money(notice.value_amount, notice.value_currency)}"
    parts = []
    for contract in contracts:
        who = ", ".join(contract.suppliers) or "a supplier not stated"
        text = f"to {who} for {money(contract.value_amount, contract.value_currency)}"
        if contract.end_date:
            text += f", until {when(contract.end_date, 'day')}"
        parts.append(text)
    return "; ".join(parts)


def _change_event(notice: Notice, change: NoticeChange, cancelled_by_notice: bool) -> Event | None:
    if change.field == "status" and change.new_value == "cancelled":
        if cancelled_by_notice:
            return None  # the termination notice is the event
        return Event(change.seen_at, "cancelled", f"cancelled (seen on {notice.id})", notice.id)
    kind = {"deadline": "deadline moved", "value_amount": "value changed", "title": "title changed"}.get(
        change.field, "status changed"
    )
    return Event(
        change.seen_at, kind, f"{describe_change(change, notice.value_currency)} ({notice.id})", notice.id
    )
