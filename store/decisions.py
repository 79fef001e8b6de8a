"""The team's bid decisions on notices: bid, no-bid (with a reason) or watching; who and when.

Every decision is kept; the latest of a notice is its decision. The bid register reads them as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import BidDecision, NoticeRow, utcnow
from store.notice import LONDON
from store.spreadsheet import spreadsheet_text
from tenderwatch.errors import InputError

DECISIONS = ("bid", "no-bid", "watching")
CSV_COLUMNS = ("notice", "title", "buyer", "value", "deadline", "decision", "reason", "by", "when")


def record_decision(
    session: Session, key: str, decision: str, reason: str | None, by: str, *, now: datetime | None = None
) -> BidDecision:
    if decision not in DECISIONS:
        raise InputError(f"decision must be one of {', '.join(DECISIONS)}, not '{decision}'")
    reason = (reason or "").strip() or None
    if decision == "no-bid" and not reason:
        raise InputError("a no-bid decision needs a reason, for the bid register")
    row = BidDecision(
        notice_key=key, decision=decision, reason=reason, decided_by=by, decided_at=now or utcnow()
    )
    session.add(row)
    return row


def decisions_of(session: Session, key: str) -> list[BidDecision]:
    """Every decision recorded on a notice, newest first."""
    query = select(BidDecision).where(BidDecision.notice_key == key).order_by(BidDecision.id.desc())
    return list(session.scalars(query))


def latest_decisions(session: Session, keys: Iterable[str] | None = None) -> dict[str, BidDecision]:
    """Notice id -> its latest decision (of `keys`, or of every notice), newest decision first."""
    query = select(BidDecision).order_by(BidDecision.id)
    if keys is not None:
        query = query.where(BidDecision.notice_key.in_(list(keys)))
    latest: dict[str, BidDecision] = {}
    for row in session.scalars(query):
        latest[row.notice_key] = row
    return dict(sorted(latest.items(), key=lambda item: item[1].id, reverse=True))


def decisions_csv(session: Session) -> str:
    """The latest decision of each notice as CSV, newest first, with what the register needs of it."""
    latest = latest_decisions(session)
    rows = session.execute(
        select(
            NoticeRow.key, NoticeRow.title, NoticeRow.buyer_name, NoticeRow.value_amount, NoticeRow.deadline
        ).where(NoticeRow.key.in_(list(latest)))
    ).all()
    notices = {row.key: row for row in rows}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for key, decision in latest.items():
        notice = notices.get(key)
        writer.writerow(
            [
                key,
                _cell(notice.title if notice else ""),
                _cell(notice.buyer_name if notice else ""),
                "" if notice is None or notice.value_amount is None else f"{notice.value_amount:.2f}",
                _uk(notice.deadline) if notice else "",
                decision.decision,
                _cell(decision.reason),
                decision.decided_by,
                _uk(decision.decided_at),
            ]
        )
    return out.getvalue()


def _uk(moment: datetime | None) -> str:
    """UK time to the minute, with its offset: a deadline at midnight BST is that day, as the notice
    page shows it, not 23:00 the day before."""
    return moment.astimezone(LONDON).isoformat(timespec="minutes") if moment else ""


def _cell(text: str | None) -> str:
    """Text made safe for a spreadsheet (as `export --format csv`): a leading = would run as a formula."""
    return spreadsheet_text(" ".join((text or "").split()))
