"""Contracts in the firm's field that end soon: the best early warning of a re-tender.

From the contracts read off award and contract-details notices (store.normalise.contracts), those
whose term ends in a window of months from now, one procurement's latest notice only (a contract
details notice after its award notice), each scored against a profile as its tender would have been
(scoring.engine.score_contract) and kept when it is a strong or possible match.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scoring import Profile, Score
from scoring.engine import score_contract
from store.ingest import notice_from_row
from store.models import ContractRow, NoticeRow, OpportunityProcurement, OpportunityRow
from store.notice import LONDON, Notice

# Buyers usually go to market about six months before a contract ends (an assumption, stated as such
# wherever it is shown: "re-tender expected from about ...").
RETENDER_LEAD_MONTHS = 6
MATCHING_BANDS = ("strong", "possible")


@dataclass(frozen=True)
class Expiring:
    contract: ContractRow
    notice: Notice  # the award or contract-details notice it was read from
    opportunity: str  # its opportunity's key
    score: Score
    retender_from: datetime

    @property
    def why(self) -> str:
        """Why it is listed: when it ends, what extensions allow, and why it fits the firm."""
        ends = f"ends {self.contract.end_date.astimezone(LONDON):%-d %b %Y}"
        if self.contract.max_end_date and self.contract.max_end_date > self.contract.end_date:
            ends += f" (extensions allow up to {self.contract.max_end_date.astimezone(LONDON):%-d %b %Y})"
        return f"{ends}; {self.score.summary}"


def contract_ref(contract: ContractRow) -> str:
    """What a contract is announced under, the same for as long as its notice says it: its award id
    (hashed to fit a delivery's ref). Its row id is not: a notice's contracts are written again
    each time the notice is compiled (`db recompile`, a changed release)."""
    return hashlib.sha1(contract.award_id.encode("utf-8")).hexdigest()


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months on (the month's last day when it has fewer days)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def expiring_contracts(
    session: Session, profile: Profile, *, now: datetime, months: tuple[int, int] = (3, 18)
) -> list[Expiring]:
    """Contracts ending between `months[0]` and `months[1]` months from `now` that fit the profile,
    the soonest first."""
    start, end = add_months(now, months[0]), add_months(now, months[1])
    rows = session.execute(
        select(ContractRow, NoticeRow, OpportunityRow.key)
        .join(NoticeRow, NoticeRow.id == ContractRow.notice_id)
        .join(OpportunityProcurement, OpportunityProcurement.procurement == NoticeRow.procurement)
        .join(OpportunityRow, OpportunityRow.id == OpportunityProcurement.opportunity_id)
        .where(ContractRow.end_date >= start, ContractRow.end_date <= end)
        # Published by `now`: as of an earlier time, a contract published since is not listed.
        .where(func.coalesce(NoticeRow.published_at, NoticeRow.first_seen) <= now)
        .order_by(ContractRow.end_date, ContractRow.id)
    ).all()
    found = []
    for contract, row, opportunity in _latest_notice_only(session, rows):
        notice = notice_from_row(row)
        score = score_contract(notice, profile)
        if score.band in MATCHING_BANDS:
            retender = max(add_months(contract.end_date, -RETENDER_LEAD_MONTHS), now)
            found.append(Expiring(contract, notice, opportunity, score, retender))
    return found


def _latest_notice_only(session: Session, rows: Sequence) -> list:
    """Those of `rows` read from their opportunity's latest notice stating contracts (a contract
    details notice that moved the end date out of the window leaves its award notice out too)."""
    opportunities = sorted({opportunity for _, _, opportunity in rows})
    latest: dict[str, tuple[str, int]] = {}
    for start in range(0, len(opportunities), 500):
        stating = session.execute(
            select(OpportunityRow.key, NoticeRow.id, NoticeRow.published_at, NoticeRow.first_seen)
            .join(OpportunityProcurement, OpportunityProcurement.opportunity_id == OpportunityRow.id)
            .join(NoticeRow, NoticeRow.procurement == OpportunityProcurement.procurement)
            .where(
                OpportunityRow.key.in_(opportunities[start : start + 500]),
                # Correlated, so each batch reads its own notices' contracts by index: `IN (SELECT
                # notice_id FROM contracts)` read every contract stored for each batch of 500
                # (6 s of a Monday digest's 15 on a year of Find a Tender).
                select(ContractRow.id).where(ContractRow.notice_id == NoticeRow.id).exists(),
            )
        ).all()
        for opportunity, notice_id, published, seen in stating:
            mark = ((published or seen).isoformat(), notice_id)
            latest[opportunity] = max(latest.get(opportunity, mark), mark)
    return [entry for entry in rows if latest[entry[2]][1] == entry[1].id]
