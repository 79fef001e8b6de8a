"""Crawl bookkeeping: runs, their counts and outcomes, and each source's watermark.

The watermark is the end of the last window fetched completely, with nothing missing before it. A
crawl starts a little before it (the overlap), so a failure or a kill part-way loses nothing: the
next crawl fetches the unfinished windows again and the idempotent ingest ignores what it has.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from store.ingest import IngestCounts, upsert
from store.models import CrawlRun, SourceState, utcnow

RUNNING, OK, FAILED, INTERRUPTED = "running", "ok", "failed", "interrupted"


def crawl_range(
    session: Session, source: str, *, now: datetime, overlap: timedelta, initial_lookback: timedelta
) -> tuple[datetime, datetime]:
    """What the next incremental crawl of `source` should fetch."""
    state = session.get(SourceState, source)
    if state is None or state.watermark is None:
        return now - initial_lookback, now
    return min(state.watermark - overlap, now - overlap), now


def start_run(
    session: Session, source: str, window_from: datetime, window_to: datetime, *, pid: int | None = None
) -> int:
    # Only one crawl of a source runs at a time (see scheduler locks), so a run still marked running
    # belongs to a process that died.
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.source == source, CrawlRun.outcome == RUNNING)
        .values(outcome=INTERRUPTED, finished_at=utcnow(), message="the crawl process ended before finishing")
    )
    run = CrawlRun(
        source=source,
        started_at=utcnow(),
        window_from=window_from,
        window_to=window_to,
        pid=pid,
        pages=0,
        releases=0,
        new=0,
        changed=0,
        errors=0,
        outcome=RUNNING,
    )
    session.add(run)
    session.flush()
    return run.id


def record_page(session: Session, run_id: int, counts: IngestCounts, *, pages: int = 1) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(
            pages=CrawlRun.pages + pages,
            releases=CrawlRun.releases + counts.releases,
            new=CrawlRun.new + counts.new,
            changed=CrawlRun.changed + counts.changed,
            errors=CrawlRun.errors + counts.left_out,  # releases left out as bad data
        )
    )


def record_failure(session: Session, run_id: int, message: str) -> None:
    # Not counted in `errors`: those are releases left out as bad data, and a failure (the network,
    # the service, our own store) is the run's outcome and message.
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(message=message))


def complete_window(
    session: Session, source: str, start: datetime, end: datetime, *, may_start: bool = True
) -> None:
    """Advance the watermark to `end` if the window joins up with what is already complete.

    Without a watermark yet, an incremental crawl's first window starts one (`may_start`); a
    backfill does not, or the next crawl would skip from the backfill's end to now in one go.
    """
    state = session.get(SourceState, source)
    if state is None or state.watermark is None:
        if may_start:
            (state or _new_state(session, source)).watermark = end
    elif start <= state.watermark:
        state.watermark = max(state.watermark, end)


def finish_run(session: Session, run_id: int, outcome: str, message: str | None = None) -> None:
    run = session.get(CrawlRun, run_id)
    run.outcome, run.finished_at = outcome, utcnow()
    if message:
        run.message = message
    if outcome == OK:
        state = session.get(SourceState, run.source) or _new_state(session, run.source)
        state.last_success_at = run.finished_at


def _new_state(session: Session, source: str) -> SourceState:
    """The source's state row, inserted unless another process has just inserted it (PostgreSQL
    workers finishing crawls of one source together): theirs is then used, not a duplicate key."""
    session.execute(upsert(session, SourceState).values(source=source).on_conflict_do_nothing())
    return session.get(SourceState, source, populate_existing=True)


def latest_runs(session: Session, source: str, limit: int = 1) -> list[CrawlRun]:
    return list(
        session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source == source)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(limit)
        )
    )


def first_run_started(session: Session, source: str) -> datetime | None:
    return session.scalar(select(func.min(CrawlRun.started_at)).where(CrawlRun.source == source))


def source_state(session: Session, source: str) -> SourceState | None:
    return session.get(SourceState, source)
