"""Storing releases: idempotent upserts, compiled notices, procurement updates, and change history."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from store.ingest import recompile_notices, store_releases
from store.models import NoticeChange, NoticeRow, ReleaseRow
from store.queries import get_notice, notice_history
from tests.support.recorded import cassette_releases, fts_releases, release_by_id

NOW = datetime(2026, 8, 12, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 8, 13, 9, 0, tzinfo=UTC)


def store(database, source, releases, now=NOW):
    with database.writing() as session:
        return store_releases(session, source, releases, now=now)


def count(database, model) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_storing_the_same_releases_twice_changes_nothing(database):
    releases = fts_releases()
    first = store(database, "find_a_tender", releases)
    changes = count(database, NoticeChange)  # the two days' updates: 2 deadlines moved, 2 cancelled
    second = store(database, "find_a_tender", releases, now=LATER)
    assert (first.releases, first.new) == (955, 955)
    assert (second.new, second.changed) == (0, 0)
    assert count(database, ReleaseRow) == count(database, NoticeRow) == 955
    assert count(database, NoticeChange) == changes == 4
    with database.reading() as session:
        assert session.scalar(select(func.max(ReleaseRow.last_seen))) == LATER


def test_a_release_repeated_in_one_batch_is_stored_once(database):
    release = release_by_id("076396-2026")
    counts = store(database, "find_a_tender", [release, copy.deepcopy(release)])
    assert (counts.releases, counts.new) == (1, 1)
    assert count(database, ReleaseRow) == 1


def test_a_tender_update_changes_the_notice_already_seen_and_records_each_change(database):
    original, update = release_by_id("075935-2026"), release_by_id("075943-2026")
    assert original["ocid"] == update["ocid"]
    moved = copy.deepcopy(update)
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-21T11:00:00+01:00"
    store(database, "find_a_tender", [original])
    counts = store(database, "find_a_tender", [moved], now=LATER)
    assert (counts.new, counts.changed) == (1, 1)  # the update notice itself, and the original changed
    with database.reading() as session:
        notice = get_notice(session, "find_a_tender:075935-2026")
        assert notice.deadline == datetime(2026, 9, 21, 10, 0, tzinfo=UTC)
        changes = [
            (c.field, c.old_value, c.new_value, c.seen_at)
            for c in notice_history(session, "find_a_tender:075935-2026")
        ]
    assert ("deadline", "2026-09-14T11:00:00+01:00", "2026-09-21T11:00:00+01:00", LATER) in changes


def history(database, key):
    with database.reading() as session:
        return [(c.field, c.old_value, c.new_value) for c in notice_history(session, key)]


def deadline_moved_twice():
    """A tender (deadline 14 September) and two updates of it: to the 21st, then (dated later) the 28th."""
    original, update = release_by_id("075935-2026"), release_by_id("075943-2026")
    moved, moved_again = copy.deepcopy(update), copy.deepcopy(update)
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-21T11:00:00+01:00"
    moved_again["id"] += "-again"
    moved_again["date"] = "2026-08-20T09:00:00+01:00"
    moved_again["tender"]["tenderPeriod"]["endDate"] = "2026-09-28T11:00:00+01:00"
    return original, moved, moved_again


@pytest.mark.parametrize("together", [True, False])
def test_a_tender_and_its_updates_keep_each_change_whether_crawled_together_or_apart(database, together):
    # A backfill or a resumed crawl brings a tender and its updates in one batch or in several: the
    # history is the same either way (it was empty when they came together).
    original, moved, moved_again = deadline_moved_twice()
    releases = [moved_again, original, moved]  # in no particular order: a page is not sorted by date
    if together:
        store(database, "find_a_tender", releases)
    else:
        for release in (original, moved, moved_again):
            store(database, "find_a_tender", [release])
    assert history(database, "find_a_tender:075935-2026") == [
        ("deadline", "2026-09-14T11:00:00+01:00", "2026-09-21T11:00:00+01:00"),
        ("deadline", "2026-09-21T11:00:00+01:00", "2026-09-28T11:00:00+01:00"),
    ]


def test_a_notice_compiled_again_records_no_change_even_from_releases_stored_together(database):
    original, update = release_by_id("075935-2026"), release_by_id("075943-2026")
    moved = copy.deepcopy(update)
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-21T11:00:00+01:00"
    store(database, "find_a_tender", [original, moved])
    with database.writing() as session:
        recompile_notices(session, "find_a_tender", ["075935-2026", "075943-2026"])
    assert len(history(database, "find_a_tender:075935-2026")) == 1  # the one the batch held


def test_a_cancellation_marks_earlier_notices_of_its_procurement_cancelled(database):
    tender = release_by_id("076396-2026")
    cancellation = copy.deepcopy(release_by_id("075954-2026"))
    cancellation.update(ocid=tender["ocid"], date="2026-08-12T10:00:00+01:00", id="079999-2026")
    store(database, "find_a_tender", [tender])
    store(database, "find_a_tender", [cancellation], now=LATER)
    with database.reading() as session:
        notice = get_notice(session, "find_a_tender:076396-2026")
        history = notice_history(session, "find_a_tender:076396-2026")
    assert (notice.status, notice.is_opportunity) == ("cancelled", False)
    assert [(c.field, c.old_value, c.new_value) for c in history] == [("status", "active", "cancelled")]


def test_a_cancellation_stored_before_its_tender_still_applies(database):
    tender = release_by_id("076396-2026")
    cancellation = copy.deepcopy(release_by_id("075954-2026"))
    cancellation.update(ocid=tender["ocid"], date="2026-08-12T10:00:00+01:00", id="079999-2026")
    store(database, "find_a_tender", [cancellation, tender])
    with database.reading() as session:
        assert get_notice(session, "find_a_tender:076396-2026").status == "cancelled"


def test_contracts_finder_releases_of_one_notice_compile_with_later_ones_winning(database):
    tender = next(r for r in cassette_releases("contracts_finder_2025-01-20") if r["tag"] == ["tender"])
    award = copy.deepcopy(tender)
    guid = tender["id"].rsplit("-", 1)[0]
    award.update(
        id=f"{guid}-999999",
        tag=["award"],
        date="2025-03-01T12:00:00Z",
        awards=[{"id": "1", "status": "active", "value": {"amount": 123456, "currency": "GBP"}}],
    )
    award["tender"]["status"] = "complete"
    store(database, "contracts_finder", [tender])
    counts = store(database, "contracts_finder", [award], now=LATER)
    assert (counts.releases, counts.new, counts.changed) == (1, 0, 1)
    with database.reading() as session:
        notice = get_notice(session, f"contracts_finder:{guid}")
        fields = {c.field for c in notice_history(session, f"contracts_finder:{guid}")}
    assert (notice.notice_type, notice.stage, notice.status, notice.value_amount) == (
        "UK6",
        "award",
        "complete",
        123456.0,
    )
    assert notice.title == tender["tender"]["title"]
    assert fields == {"status", "value_amount"}
    assert count(database, NoticeRow) == 1


def test_a_changed_release_with_the_same_id_replaces_the_stored_one(database):
    release = release_by_id("076396-2026")
    edited = copy.deepcopy(release)
    edited["tender"]["title"] = "Violence Reduction Partnership Research and Evaluation (re-issued)"
    store(database, "find_a_tender", [release])
    counts = store(database, "find_a_tender", [edited], now=LATER)
    assert counts.changed == 1
    with database.reading() as session:
        assert get_notice(session, "find_a_tender:076396-2026").title.endswith("(re-issued)")
        assert count(database, ReleaseRow) == 1
        [raw] = session.scalars(select(ReleaseRow.raw))
    assert json.loads(raw) == edited  # kept as received: the new text, not the old


def test_releases_with_nulls_where_objects_belong_are_stored(database):
    odd = copy.deepcopy(release_by_id("076396-2026"))
    for party in odd["parties"]:
        party["address"] = None
    odd["tender"]["items"] = [None, {"deliveryAddresses": None}]
    cf = copy.deepcopy(
        next(r for r in cassette_releases("contracts_finder_2025-01-20") if r["tag"] == ["tender"])
    )
    cf["tender"]["items"] = [{"deliveryAddresses": [None, "UK"]}]
    assert store(database, "find_a_tender", [odd, "not a release", {"no": "id"}]).new == 1
    assert store(database, "contracts_finder", [cf]).new == 1


def test_each_change_is_recorded_with_the_crawl_that_saw_it(database):
    from store import crawls

    tender = release_by_id("076396-2026")
    moved = copy.deepcopy(tender)
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-30T12:00:00+01:00"
    store(database, "find_a_tender", [tender])
    with database.writing() as session:
        run_id = crawls.start_run(session, "find_a_tender", NOW, LATER)
        store_releases(session, "find_a_tender", [moved], crawl_run_id=run_id, now=LATER)
    with database.reading() as session:
        [change] = session.scalars(select(NoticeChange))
    assert (change.field, change.crawl_run_id, change.seen_at) == ("deadline", run_id, LATER)


def test_a_state_between_that_cannot_be_compiled_leaves_the_notice_and_its_net_change(database, monkeypatch):
    # Bad data may make a notice's first release unreadable alone though its releases together read:
    # the notice is stored all the same, with the change from what was stored to what it is now.
    from store import ingest

    original, moved, moved_again = deadline_moved_twice()
    store(database, "find_a_tender", [original])
    whole = ingest.compile_notice

    def unreadable_without_the_last(own, updates, fmt):
        if own[0]["id"] == "075935-2026" and len(updates) == 1:
            raise ValueError("bad data")
        return whole(own, updates, fmt)

    monkeypatch.setattr(ingest, "compile_notice", unreadable_without_the_last)
    counts = store(database, "find_a_tender", [moved, moved_again], now=LATER)
    assert counts.left_out == 0
    assert history(database, "find_a_tender:075935-2026") == [
        ("deadline", "2026-09-14T11:00:00+01:00", "2026-09-28T11:00:00+01:00")
    ]


@pytest.mark.parametrize("together", [True, False])
def test_a_release_served_again_corrected_reads_as_stored_until_its_turn(database, together):
    # Stored: the tender and its update (deadline 21st). Then the update is served again corrected
    # (22nd) with a new update dated before it (28th), which the later-dated one overrides at once:
    # the deadline was never the 28th, together or apart (leaving the corrected release out of the
    # state before it, rather than reading it as stored, recorded 21st -> 28th -> 22nd).
    original, update = release_by_id("075935-2026"), release_by_id("075943-2026")
    moved = copy.deepcopy(update)
    moved["tender"]["tenderPeriod"]["endDate"] = "2026-09-21T11:00:00+01:00"
    store(database, "find_a_tender", [original, moved])
    corrected = copy.deepcopy(moved)
    corrected["tender"]["tenderPeriod"]["endDate"] = "2026-09-22T11:00:00+01:00"
    earlier = copy.deepcopy(update)
    earlier["id"] = "075940-2026"
    earlier["date"] = "2026-08-10T17:20:00+01:00"  # before the update's 17:28
    earlier["tender"]["tenderPeriod"]["endDate"] = "2026-09-28T11:00:00+01:00"
    if together:
        store(database, "find_a_tender", [corrected, earlier], now=LATER)
    else:
        for release in (earlier, corrected):
            store(database, "find_a_tender", [release], now=LATER)
    assert history(database, "find_a_tender:075935-2026") == [
        ("deadline", "2026-09-14T11:00:00+01:00", "2026-09-21T11:00:00+01:00"),
        ("deadline", "2026-09-21T11:00:00+01:00", "2026-09-22T11:00:00+01:00"),
    ]


def test_of_many_updates_arriving_together_the_earliest_count_as_one_step(database):
    # Each step compiles the notice again: twelve updates in one batch (a backfill of a procurement
    # updated often) keep the last ten steps, the first two as one, so storing stays bounded.
    original, update = release_by_id("075935-2026"), release_by_id("075943-2026")
    store(database, "find_a_tender", [original])
    updates = []
    for day in range(1, 13):
        moved = copy.deepcopy(update)
        moved.update(id=f"{update['id']}-{day}", date=f"2026-08-{12 + day}T09:00:00+01:00")
        moved["tender"]["tenderPeriod"]["endDate"] = f"2026-10-{day:02d}T11:00:00+01:00"
        updates.append(moved)
    store(database, "find_a_tender", updates, now=LATER)
    steps = history(database, "find_a_tender:075935-2026")
    assert len(steps) == 11
    assert steps[0] == ("deadline", "2026-09-14T11:00:00+01:00", "2026-10-02T11:00:00+01:00")
    assert steps[-1] == ("deadline", "2026-10-11T11:00:00+01:00", "2026-10-12T11:00:00+01:00")
