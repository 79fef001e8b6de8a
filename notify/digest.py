"""What a digest shows, for one channel at one moment: chosen from scores, deliveries and timing.

Fit comes from scoring (the band); timing is decided here, with the reason shown. A new match that
closes sooner than the profile's minimum response time is listed briefly as "closing too soon?" or,
by setting, left out and counted. Nothing already announced on the channel is announced again, a
notice appears once per digest, and once the team marks a notice not-relevant (`feedback`) nothing
more of its procurement is mentioned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scoring import Profile
from scoring.feedback import NOT_RELEVANT
from scoring.timing import response_window
from store import deliveries
from store.deliveries import Announcement, Scored
from store.expiring import Expiring, contract_ref, expiring_contracts
from store.models import NoticeChange
from store.notice import LONDON, Notice, procurement_of
from store.opportunities import load_opportunities, opportunities_of_procurements, opportunity_keys_of
from store.scores import declined_procurements, stored_score
from tenderwatch.config import DigestConfig
from tenderwatch.formatting import counted, describe_change, money

SECTIONS = ("strong", "possible", "too_soon", "closing_soon", "changed", "early_warning", "expiring")
SUBJECT_LABELS = {  # the subject counts sections in the order the digest shows them
    "strong": "strong",
    "possible": "possible",
    "too_soon": "closing too soon",
    "closing_soon": "closing soon",
    "changed": "changed",
    "early_warning": "early warning",
    "expiring": "ending soon",
}
LEFT_OUT, FAILING = "left_out", "sources_failing"  # the headline's counts beside the sections'
SECTION_TITLES = {
    "strong": "Strong matches",
    "possible": "Possible matches",
    "too_soon": "Closing too soon?",
    "closing_soon": "Closing soon",
    "changed": "Changed since we told you",
    "early_warning": "Early warning: pipeline and pre-market engagement",
    "expiring": "Contracts in your field ending soon: re-tenders ahead (weekly)",
}
# The week's expiring contracts by (rules hash, moment, months): found once per digest run.
FoundExpiring = dict[tuple[str, datetime, tuple[int, int]], list[Expiring]]


def headline(counts: dict[str, int]) -> str:
    """A digest's counts in words, '2 strong, 1 source failing', as its subject and `status` say them."""
    parts = [f"{counts[key]} {SUBJECT_LABELS[key]}" for key in SECTIONS if counts.get(key)]
    if counts.get(LEFT_OUT):
        parts.append(f"{counts[LEFT_OUT]} too soon, left out")
    if counts.get(FAILING):
        parts.append(f"{counted(counts[FAILING], 'source')} failing")
    return ", ".join(parts) if parts else "nothing new"


@dataclass(frozen=True)
class Item:
    notice: Notice
    band: str
    why: str  # one line: why it matched, what changed, or the timing reason
    days_left: int | None
    announcements: tuple[Announcement, ...]
    timing: str | None = None  # e.g. "minimum 7 days to respond"
    contract_ends: datetime | None = None  # an expiring contract's end, shown where a deadline would be


@dataclass(frozen=True)
class Digest:
    channel: str
    profile: str
    as_of: datetime
    sections: dict[str, list[Item]]
    health: list[dict[str, Any]]
    omitted: list[Item] = field(default_factory=list)  # too soon to answer, left out (too_soon = "omit")
    min_response_days: int = 7

    @property
    def counts(self) -> dict[str, int]:
        return {section: len(self.sections[section]) for section in SECTIONS}

    @property
    def failing_sources(self) -> list[str]:
        return [entry["source"] for entry in self.health if entry["failing"]]

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not self.failing_sources and not self.omitted

    @property
    def recorded_counts(self) -> dict[str, int]:
        """What the headline counts, as the store records it for `status`."""
        return self.counts | {LEFT_OUT: len(self.omitted), FAILING: len(self.failing_sources)}

    @property
    def headline(self) -> str:
        """What the digest holds, in counts: '2 strong, 1 closing soon'."""
        return headline(self.recorded_counts)

    @property
    def subject(self) -> str:
        # Dated, so that mail clients do not thread every day's digest into one conversation.
        return f"tenderwatch {self.as_of.astimezone(LONDON):%a %-d %b}: {self.headline}"

    def announcements(self, items: list[Item] | None = None) -> list[Announcement]:
        if items is None:
            items = [item for section in SECTIONS for item in self.sections[section]] + self.omitted
        return [announcement for item in items for announcement in item.announcements]


def build_digest(
    session: Session,
    *,
    channel: str,
    profile: str,
    min_response_days: int,
    settings: DigestConfig,
    sources: list[str],
    as_of: datetime,
    rules: Profile | None = None,
    expiring_found: FoundExpiring | None = None,
) -> Digest:
    """Choose everything the channel has not been told yet, as it stood at `as_of` (with the
    profile's `rules`, on the weekday of `settings.expiring_day`, contracts ending soon too).
    `expiring_found` keeps those contracts for the next channel of the same rules and moment: finding
    them scores every contract ending in the window (some 20,000 in a year of Find a Tender)."""
    sections: dict[str, list[Item]] = {section: [] for section in SECTIONS}
    _new_matches(session, channel, profile, min_response_days, settings, as_of, sections)
    omitted = sections.pop("too_soon") if settings.too_soon == "omit" else []
    sections.setdefault("too_soon", [])
    chosen = {_opportunity(session, item.notice) for items in sections.values() for item in items}
    sections["early_warning"] = [
        item
        for item in _early_warnings(session, channel, profile, settings, as_of)
        if _opportunity(session, item.notice) not in chosen  # its tender is in this digest already
    ]
    sections["changed"], sections["closing_soon"] = _once_each(
        _changed(session, channel, profile, as_of), _closing_soon(session, channel, profile, settings, as_of)
    )
    sections["expiring"] = (
        _expiring(session, channel, rules, settings, as_of, {} if expiring_found is None else expiring_found)
        if rules
        else []
    )
    # A no-bid: nothing more of that opportunity (its change notices, its tender after a pipeline
    # notice, its copy on another service).
    declined = opportunities_of_procurements(
        session, [":".join(key) for key in declined_procurements(session, NOT_RELEVANT, until=as_of)]
    )
    sections = {name: _not_in(session, items, declined) for name, items in sections.items()}
    omitted = _not_in(session, omitted, declined)
    last = deliveries.last_sent(session, channel)
    health = deliveries.source_health(session, sources, last.created_at if last else None, as_of)
    return Digest(
        channel,
        profile,
        as_of,
        {section: sections[section] for section in SECTIONS},
        health,
        omitted,
        min_response_days,
    )


def _new_matches(
    session: Session,
    channel: str,
    profile: str,
    min_days: int,
    settings: DigestConfig,
    as_of: datetime,
    sections: dict[str, list[Item]],
) -> None:
    candidates = [
        scored
        for scored in _not_awarded(
            session, _unannounced(session, channel, profile, ("tender",), settings, as_of), as_of
        )
        if scored.notice.is_opportunity and (scored.notice.deadline is None or scored.notice.deadline > as_of)
    ]
    for scored in candidates:
        timing = response_window(scored.notice, min_days, as_of)
        if timing.in_time:
            sections[scored.band].append(_item(scored, "new", timing.days_left))
        else:
            short = f"minimum {min_days} days to respond"  # the days left are shown beside the deadline
            sections["too_soon"].append(_item(scored, "too_soon", timing.days_left, timing=short))
    sections["too_soon"].sort(key=lambda item: item.notice.deadline)  # about time: soonest first


def _not_awarded(session: Session, matches: list[Scored], as_of: datetime) -> list[Scored]:
    """The tenders whose procurement has had no award since they were published: one awarded already
    (a tender notice published for transparency, its award minutes later) is no longer open to bids.
    An award before the tender (a dynamic purchasing system opened again) leaves the tender open."""
    awarded = deliveries.last_awarded(session, [_opportunity(session, m.notice) for m in matches], as_of)

    def still_open(match: Scored) -> bool:
        award = awarded.get(_opportunity(session, match.notice))
        published = match.notice.published_at
        return award is None or published is None or award < published

    return [match for match in matches if still_open(match)]


def _early_warnings(
    session: Session, channel: str, profile: str, settings: DigestConfig, as_of: datetime
) -> list[Item]:
    return [
        _item(scored, "early_warning", response_window(scored.notice, 0, as_of).days_left)
        for scored in _unannounced(session, channel, profile, ("planning",), settings, as_of)
        if scored.notice.status not in ("cancelled", "withdrawn")
    ]


def _expiring(
    session: Session,
    channel: str,
    rules: Profile,
    settings: DigestConfig,
    as_of: datetime,
    found_before: FoundExpiring,
) -> list[Item]:
    """Weekly: contracts in the profile's field ending soon (store.expiring), each announced once."""
    if as_of.astimezone(LONDON).strftime("%a").lower() != settings.expiring_day:
        return []
    told = deliveries.delivered_refs(session, channel, "expiring")
    items = []
    key = (rules.hash, as_of, settings.expiring_months)
    if key not in found_before:
        found_before[key] = expiring_contracts(session, rules, now=as_of, months=settings.expiring_months)
    for found in found_before[key]:
        contract = found.contract
        ref = contract_ref(contract)
        if (contract.notice_id, ref) in told:
            continue
        incumbent = ", ".join(contract.suppliers) or "supplier not stated"
        why = (
            f"re-tender expected from about {found.retender_from.astimezone(LONDON):%b %Y}; incumbent "
            f"{incumbent}, {money(contract.value_amount, contract.value_currency)}; {found.why}"
        )
        announcement = Announcement(contract.notice_id, "expiring", ref)
        items.append(
            Item(found.notice, found.score.band, why, None, (announcement,), contract_ends=contract.end_date)
        )
    return items


def _unannounced(
    session: Session,
    channel: str,
    profile: str,
    stages: tuple[str, ...],
    settings: DigestConfig,
    as_of: datetime,
) -> list[Scored]:
    """Matches never announced here, one per opportunity (its latest notice), none of an opportunity
    already announced (a Find a Tender change notice, or the same tender on another service, is shown
    as a change instead)."""
    matches = deliveries.matching_notices(
        session,
        profile,
        bands=("strong", "possible"),
        stages=stages,
        published_since=as_of - timedelta(days=settings.lookback_days),
        as_of=as_of,
    )
    told = deliveries.delivered(session, channel, [m.row_id for m in matches])
    # A tender is news even if its pipeline notice was sent; a pipeline notice is not, if anything of
    # its procurement was.
    kinds = deliveries.OPPORTUNITY_KINDS if stages == ("tender",) else deliveries.ANNOUNCED_KINDS
    _remember_opportunities(session, [m.notice for m in matches])
    announced = deliveries.opportunities_announced(
        session, channel, [_opportunity(session, m.notice) for m in matches], kinds
    )
    latest: dict[str, Scored] = {}
    for match in matches:
        key = _opportunity(session, match.notice)
        if match.row_id in told or key in announced:
            continue
        kept = latest.get(key)
        if kept is None or (match.notice.updated_at or as_of) > (kept.notice.updated_at or as_of):
            latest[key] = match
    return [match for match in matches if latest.get(_opportunity(session, match.notice)) is match]


def _opportunity(session: Session, notice: Notice) -> str:
    """The key of the notice's opportunity: one, whichever service published the notice (kept for
    the session's life, which is one digest's)."""
    known = session.info.setdefault("opportunity_of", {})
    if notice.id not in known:
        _remember_opportunities(session, [notice])
    return known[notice.id]


def _remember_opportunities(session: Session, notices: list[Notice]) -> None:
    known = session.info.setdefault("opportunity_of", {})
    found = opportunity_keys_of(session, [notice.id for notice in notices if notice.id not in known])
    for notice in notices:
        known.setdefault(notice.id, found.get(notice.id) or ":".join(procurement_of(notice)))


def _closing_soon(
    session: Session, channel: str, profile: str, settings: DigestConfig, as_of: datetime
) -> list[Item]:
    # Within closing_soon_days in UK calendar days, as days left are counted: to the end of that day,
    # midnight included (a deadline at 00:00 closes at the end of the day before, `deadline_day`).
    last_day = as_of.astimezone(LONDON).date() + timedelta(days=settings.closing_soon_days)
    closing_by = datetime.combine(last_day + timedelta(days=1), time.min, LONDON)
    ids = deliveries.open_announced(session, channel, closing_after=as_of, closing_by=closing_by)
    reminded = deliveries.delivered(session, channel, ids, kinds=("closing_soon",))
    found = deliveries.scored(session, profile, [i for i in ids if i not in reminded])
    items = []
    for scored in _not_awarded(session, list(found.values()), as_of):  # no reminder to bid for it
        items.append(_item(scored, "closing_soon", response_window(scored.notice, 0, as_of).days_left))
    return sorted(items, key=lambda item: item.notice.deadline)


def _changed(session: Session, channel: str, profile: str, as_of: datetime) -> list[Item]:
    """One item per changed opportunity: an update changes each earlier notice of its procurement,
    and a copy on another service changes too; a later notice of it (a clarification or update, an
    award, a contract signed) is news too. Each is told once, each recorded as told."""
    changes = deliveries.unannounced_changes(session, channel, as_of)
    news = _later_news(session, channel, as_of)
    found = deliveries.scored(session, profile, [*changes, *(told for told, _ in news.values())])
    by_opportunity: dict[str, list[tuple[int, list[NoticeChange]]]] = {}
    for notice_id, notice_changes in changes.items():
        by_opportunity.setdefault(_opportunity(session, found[notice_id].notice), []).append(
            (notice_id, notice_changes)
        )
    items = []
    for key in dict.fromkeys([*by_opportunity, *news]):
        members = by_opportunity.get(key, [])
        told, later = news.get(key, (0, []))
        scored = found[members[0][0] if members else told]  # its oldest notice: the one first announced
        said = dict.fromkeys(
            [
                *(describe_change(c, scored.notice.value_currency) for _, cs in members for c in cs),
                # An update that changed the deadline, value or title is told by those changes.
                *(text for _, kind, text in later if not (members and kind == "update")),
            ]
        )
        announcements = (
            *(Announcement(notice_id, "change", str(c.id)) for notice_id, cs in members for c in cs),
            *(Announcement(scored.row_id, "change", deliveries.later_ref(row_id)) for row_id, _, _ in later),
        )
        items.append(
            Item(
                scored.notice,
                scored.band,
                "; ".join(said),
                response_window(scored.notice, 0, as_of).days_left,
                announcements,
            )
        )
    return items


# What a later notice of an opportunity already told is news as (store.timeline's events): a copy on
# another service is not, and a cancellation is told by the status it changes.
LATER_NEWS = ("update", "awarded", "contract signed")


def _later_news(
    session: Session, channel: str, as_of: datetime
) -> dict[str, tuple[int, list[tuple[int, str, str]]]]:
    """Per opportunity already told on this channel: a notice it was told of, and its later notices
    that are news, each with its kind and what its timeline says ("awarded: to Sparkminds for
    £64,820 (...)")."""
    later = deliveries.later_notices(session, channel, as_of)
    if not later:
        return {}
    row_ids = {notice.notice_key: notice.notice_row_id for notice in later}
    told = {notice.opportunity_key: notice.told_notice for notice in later}
    news: dict[str, tuple[int, list[tuple[int, str, str]]]] = {}
    ids = list(dict.fromkeys(notice.opportunity_id for notice in later))
    for opportunity in load_opportunities(session, ids, as_of):
        said = [
            (row_ids[event.notice_key], event.kind, event.text)
            for event in opportunity.events
            if event.kind in LATER_NEWS and event.notice_key in row_ids
        ]
        if said:
            news[opportunity.key] = (told[opportunity.key], said)
    return news


def _not_in(session: Session, items: list[Item], opportunities: set[str]) -> list[Item]:
    return [item for item in items if _opportunity(session, item.notice) not in opportunities]


def _once_each(changed: list[Item], closing: list[Item]) -> tuple[list[Item], list[Item]]:
    """A notice that changed and closes soon is shown once, under Changed, with both reminders."""
    closing_by_id = {item.notice.id: item for item in closing}
    changed = [
        replace(item, announcements=item.announcements + closing_by_id[item.notice.id].announcements)
        if item.notice.id in closing_by_id
        else item
        for item in changed
    ]
    shown = {item.notice.id for item in changed}
    return changed, [item for item in closing if item.notice.id not in shown]


def _item(scored: Scored, kind: str, days: int | None, *, timing: str | None = None) -> Item:
    return Item(
        scored.notice, scored.band, why_it_matched(scored), days, (Announcement(scored.row_id, kind),), timing
    )


def why_it_matched(scored: Scored) -> str:
    """Why, in words for a bid manager: CPV codes named as the notice names them."""
    details = scored.notice.details
    return stored_score(scored).in_plain_words(details.cpv_name if details else lambda code: None)
