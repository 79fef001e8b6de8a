"""Opportunities: one procurement's notices as one item, with its current view and its timeline.

Real releases throughout: Find a Tender tender 075593-2026 and its two real updates (075734-2026,
076079-2026); the cancellation is the real UK12 076272-2026 moved onto that procurement (no recorded
procurement has a tender, updates and a cancellation); the UK3 planning notice and its UK4 tender of
the foretender conversions fixture (ocds-h6vhtk-069311).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from notify.run import send_digests, targets
from store.db import Database
from store.ingest import notice_from_row, save_notices, store_releases
from store.models import (
    ContractRow,
    NoticeChange,
    NoticeReference,
    NoticeRow,
    OpportunityLink,
    OpportunityProcurement,
    OpportunityRow,
)
from store.notice import LONDON
from store.opportunities import load_opportunity, opportunity_key_of
from tenderwatch import config as configuration
from tenderwatch.cli import cli
from tests.support.recorded import fts_releases, recorded_package, release_by_id
from tests.support.schema import migrate

NOW = datetime(2026, 8, 14, 9, 0, tzinfo=UTC)
TENDER = "ocds-h6vhtk-061261"
CONVERSION = "find_a_tender:ocds-h6vhtk-069311"


def cancellation_of(tender: dict) -> dict:
    cancellation = copy.deepcopy(release_by_id("076272-2026"))
    cancellation.update(ocid=tender["ocid"], date="2026-08-12T10:00:00+01:00", id="079999-2026")
    return cancellation


def store_in_turn(database: Database, releases: list[dict]) -> None:
    """Each release in its own crawl, a day apart, as the service published them."""
    for day, release in enumerate(releases):
        with database.writing() as session:
            store_releases(
                session, "find_a_tender", [release], now=datetime(2026, 8, 10 + day, 9, tzinfo=UTC)
            )


def tender_with_updates_and_cancellation(database: Database) -> None:
    tender = release_by_id("075593-2026")
    updates = [release_by_id("075734-2026"), release_by_id("076079-2026")]
    store_in_turn(database, [tender, *updates, cancellation_of(tender)])


def test_a_tender_its_updates_and_its_cancellation_are_one_opportunity_with_those_events(database):
    tender_with_updates_and_cancellation(database)
    with database.reading() as session:
        key = opportunity_key_of(session, "find_a_tender:075593-2026")
        opportunity = load_opportunity(session, key, NOW)
    assert key == f"find_a_tender:{TENDER}"
    assert [n.id for n in opportunity.notices] == [
        "find_a_tender:075593-2026",
        "find_a_tender:075734-2026",
        "find_a_tender:076079-2026",
        "find_a_tender:079999-2026",
    ]
    assert (opportunity.title, opportunity.status, opportunity.stage) == (
        "Medical Simulations Devices and Technologies",
        "cancelled",
        "tender",
    )
    assert opportunity.deadline == datetime(2026, 9, 28, 14, 0, tzinfo=UTC)  # as the first update moved it
    assert [(event.kind, event.notice_key) for event in opportunity.events] == [
        ("published", "find_a_tender:075593-2026"),
        ("update", "find_a_tender:075734-2026"),
        ("deadline moved", "find_a_tender:075593-2026"),  # told once, though each earlier notice took it
        ("update", "find_a_tender:076079-2026"),
        ("cancelled", "find_a_tender:079999-2026"),
    ]
    moved = opportunity.events[2].text
    assert "from Thu 29 Oct 2026 15:00 to Mon 28 Sep 2026 15:00" in moved


def test_a_planning_notice_and_its_tender_are_one_opportunity(database):
    with database.writing() as session:
        store_releases(
            session, "find_a_tender", recorded_package("find_a_tender_uk3_to_uk4_069311")["releases"]
        )
    with database.reading() as session:
        assert opportunity_key_of(session, "find_a_tender:069280-2026") == CONVERSION
        assert opportunity_key_of(session, "find_a_tender:069310-2026") == CONVERSION
        opportunity = load_opportunity(session, CONVERSION, NOW)
    assert [(n.notice_type, n.id) for n in opportunity.notices] == [
        ("UK3", "find_a_tender:069280-2026"),
        ("UK4", "find_a_tender:069310-2026"),
    ]
    assert (opportunity.title, opportunity.stage) == ("Refurbishment of NLB Oban Base Store Roof", "tender")
    assert opportunity.status == "open"  # its tender closes on 26 Aug 2026
    with database.reading() as session:
        assert load_opportunity(session, CONVERSION, datetime(2026, 8, 27, tzinfo=UTC)).status == "closed"
    assert [event.kind for event in opportunity.events] == ["published", "published"]


def test_the_upgrade_from_schema_0008_keeps_every_notice_and_change_and_gives_each_an_opportunity(database):
    tender_with_updates_and_cancellation(database)
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
        store_releases(
            session, "find_a_tender", recorded_package("find_a_tender_uk3_to_uk4_069311")["releases"]
        )

    def snapshot():
        with database.reading() as session:
            notices = session.execute(select(NoticeRow.id, NoticeRow.key, NoticeRow.content_hash)).all()
            changes = session.execute(
                select(NoticeChange.id, NoticeChange.notice_id, NoticeChange.field, NoticeChange.new_value)
            ).all()
        return sorted(notices), sorted(changes)

    before = snapshot()
    migrate(database, "downgrade", "0008")  # the store as today's tenderwatch left it
    Database(database.url).upgrade()

    assert snapshot() == before
    assert len(before[0]) == 955 + 1 + 2 and len(before[1]) > 0  # the two days, the cancellation, 069311
    with database.reading() as session:
        unassigned = session.scalar(
            select(func.count())
            .select_from(NoticeRow)
            .outerjoin(OpportunityProcurement, OpportunityProcurement.procurement == NoticeRow.procurement)
            .where(OpportunityProcurement.id.is_(None))
        )
        opportunities = session.scalar(select(func.count()).select_from(OpportunityRow))
        procurements = session.scalar(select(func.count(NoticeRow.procurement.distinct())))
        assert opportunity_key_of(session, "find_a_tender:069310-2026") == CONVERSION
        assert opportunity_key_of(session, "find_a_tender:079999-2026") == f"find_a_tender:{TENDER}"
        upgraded = load_opportunity(session, f"find_a_tender:{TENDER}", NOW)
    assert unassigned == 0 and opportunities == procurements
    with database.reading() as session:  # read from the stored releases by the upgrade
        contracts = session.scalar(select(func.count()).select_from(ContractRow))
        references = session.scalar(select(func.count()).select_from(NoticeReference))
    assert contracts >= 700 and references >= 40  # 711 contracts of 575 notices; 43 DN references
    assert [event.kind for event in upgraded.events][-1] == "cancelled"


def test_opportunities_lists_one_row_per_procurement_with_the_filters_of_notices(env, database):
    tender_with_updates_and_cancellation(database)
    with database.writing() as session:
        store_releases(
            session, "find_a_tender", recorded_package("find_a_tender_uk3_to_uk4_069311")["releases"]
        )
    runner = CliRunner()
    listed = runner.invoke(cli, ["opportunities", "--limit", "0"])
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.output.splitlines() if line.startswith("find_a_tender:")]
    assert [row.split()[0] for row in rows] == [f"find_a_tender:{TENDER}", CONVERSION]  # newest first
    assert "cancelled" in rows[0] and "4 (find_a_tender)" in rows[0]
    planning = runner.invoke(cli, ["opportunities", "--type", "UK3"])
    assert [line.split()[0] for line in planning.output.splitlines()[1:]] == [CONVERSION]
    searched = runner.invoke(cli, ["opportunities", "--search", "simulations"])
    assert [line.split()[0] for line in searched.output.splitlines()[1:]] == [f"find_a_tender:{TENDER}"]
    assert runner.invoke(cli, ["opportunities", "--type", "UK99"]).exit_code == 2


def test_show_gives_an_opportunitys_timeline_and_notices_and_a_notice_names_its_opportunity(env, database):
    tender_with_updates_and_cancellation(database)
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", f"find_a_tender:{TENDER}"])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "status: cancelled" in text and "Timeline:" in text
    assert "clarification or update: tender notice find_a_tender:075734-2026" in text
    assert "cancelled: procurement termination notice find_a_tender:079999-2026" in text
    assert all(f"find_a_tender:{n}" in text for n in ("075593-2026", "075734-2026", "076079-2026"))
    assert runner.invoke(cli, ["show", TENDER]).output == text  # the ocid alone names it
    assert runner.invoke(cli, ["show", "--opportunity", "075734-2026"]).output == text
    notice = runner.invoke(cli, ["show", "075593-2026"]).output
    assert f"opportunity: find_a_tender:{TENDER} (tenderwatch show find_a_tender:{TENDER})" in notice


def test_export_carries_each_notices_opportunity_and_import_ignores_it(env, database, tmp_path):
    with database.writing() as session:
        store_releases(
            session, "find_a_tender", recorded_package("find_a_tender_uk3_to_uk4_069311")["releases"]
        )
    runner = CliRunner()
    exported = runner.invoke(cli, ["export"])
    records = [json.loads(line) for line in exported.output.splitlines()]
    assert {record["id"]: record["opportunity_id"] for record in records} == {
        "find_a_tender:069280-2026": CONVERSION,
        "find_a_tender:069310-2026": CONVERSION,
    }
    path = tmp_path / "notices.jsonl"
    path.write_text(exported.output)
    assert runner.invoke(cli, ["import", str(path)]).exit_code == 0
    spreadsheet = list(csv.DictReader(io.StringIO(runner.invoke(cli, ["export", "--format", "csv"]).output)))
    assert [row["opportunity_id"] for row in spreadsheet] == [CONVERSION, CONVERSION]


# ---------------------------------------------------------------------------------------------- digests

DIGEST_AT = datetime(2026, 8, 12, 7, 30, tzinfo=LONDON)


def digest(tmp_path, database, as_of):
    (tmp_path / "tenderwatch.toml").write_text('[digest]\nexpiring_day = "never"\n')
    config = configuration.load()
    [result] = send_digests(config, database, targets(config), as_of=as_of)
    return result.digest


def listed(built) -> dict[str, list[str]]:
    return {name: [item.notice.id for item in items] for name, items in built.sections.items() if items}


def test_a_change_seen_on_several_notices_of_one_opportunity_is_told_once(env, database, tmp_path):
    tender, update = release_by_id("076396-2026"), release_by_id("076396-2026")
    update = copy.deepcopy(update)  # a real tender notice re-published as its own update (constructed)
    update.update(id="079001-2026", tag=["tenderUpdate"], date="2026-08-12T10:00:00+01:00")
    later = copy.deepcopy(update)  # and a second update moving the deadline again
    later.update(id="079002-2026", date="2026-08-13T10:00:00+01:00")
    later["tender"]["tenderPeriod"]["endDate"] = "2026-09-30T17:00:00+01:00"
    with database.writing() as session:
        store_releases(session, "find_a_tender", [tender], now=datetime(2026, 8, 11, 20, tzinfo=UTC))
    first = digest(tmp_path, database, DIGEST_AT)
    assert "find_a_tender:076396-2026" in listed(first)["strong"]
    with database.writing() as session:
        store_releases(session, "find_a_tender", [update], now=datetime(2026, 8, 12, 11, tzinfo=UTC))
        store_releases(session, "find_a_tender", [later], now=datetime(2026, 8, 13, 11, tzinfo=UTC))
        moved = session.scalar(
            select(func.count()).select_from(NoticeChange).where(NoticeChange.field == "deadline")
        )
    assert moved == 2  # the tender and the first update both took the new deadline
    second = digest(tmp_path, database, DIGEST_AT + timedelta(days=2))
    assert listed(second) == {"changed": ["find_a_tender:076396-2026"]}  # not its updates as new
    [item] = second.sections["changed"]
    assert item.why == "deadline changed from Fri 28 Aug 2026 17:00 to Wed 30 Sep 2026 17:00"
    assert len(item.announcements) == 4  # both changes, and the two updates that made them, recorded as told
    assert digest(tmp_path, database, DIGEST_AT + timedelta(days=3)).sections["changed"] == []


def test_a_tender_on_two_services_is_announced_once_and_followed_on_the_other(env, database, tmp_path):
    tender = release_by_id("076396-2026")  # the VRP research and evaluation tender: a strong match
    with database.writing() as session:
        store_releases(session, "find_a_tender", [tender], now=datetime(2026, 8, 11, 20, tzinfo=UTC))
        [fts] = list(session.scalars(select(NoticeRow)))
    # Its copy on Contracts Finder, as buyers' portals write it there (constructed from the real notice).
    copy_on_cf = replace(
        notice_from_row(fts),
        source="contracts_finder",
        source_id="5a1f0c2e-0000-4000-8000-000000000001",
        ocid="ocds-b5fd17-5a1f0c2e-0000-4000-8000-000000000001",
        title=f"CA18999 - {fts.title}",
        url=None,
    )
    with database.writing() as session:
        save_notices(session, [copy_on_cf], now=datetime(2026, 8, 11, 21, tzinfo=UTC))
        rule = session.scalar(select(OpportunityLink.rule))
    assert rule == "buyer, title, deadline and value"
    first = digest(tmp_path, database, DIGEST_AT)
    shown = [key for keys in listed(first).values() for key in keys]
    assert len({"find_a_tender:076396-2026", copy_on_cf.id} & set(shown)) == 1
    moved = replace(copy_on_cf, deadline=copy_on_cf.deadline + timedelta(days=7))
    with database.writing() as session:
        save_notices(session, [moved], now=datetime(2026, 8, 12, 11, tzinfo=UTC))
    second = digest(tmp_path, database, DIGEST_AT + timedelta(days=1))
    assert [item.why for item in second.sections["changed"]] == [
        "deadline changed from Fri 28 Aug 2026 17:00 to Fri 4 Sep 2026 17:00"
    ]
