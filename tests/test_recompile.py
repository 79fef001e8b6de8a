"""Compiling stored notices again from their releases: after an upgrade that reads releases better
(automatically), and on demand (`tenderwatch db recompile`)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import func, select, text, update

from store import locks
from store.db import Database
from store.ingest import compiled_notice_ids, recompile_notices, store_releases
from store.models import NoticeChange, NoticeRow, ReleaseRow
from store.normalise import compile_notice, format_for
from store.notice import LONDON, Details
from tenderwatch.cli import cli
from tests.support.recorded import cassette_releases, fts_releases, release_by_id
from tests.support.schema import migrate

UK3 = "find_a_tender:069280-2026"  # a planned procurement whose tender is expected on 23 July 2026
VRP = "find_a_tender:076396-2026"
PIPELINE = "find_a_tender:076334-2026"  # a recorded planned procurement, tender expected 24 August 2026


# Fingerprints (content_hash) that tenderwatch at 3336cdb (schema 0005) gave these notices.
FINGERPRINTS_BY_0005 = {
    VRP: "a236e5c8f00c28f86c005d05f5757f80c031ad738ef19df25d5116154f9b8571",
    UK3: "c59afa489fd0635ac51d4ece12163d9f970e0bcbf18cd9c61b9683e373d686ef",
}


def test_a_notice_without_an_expected_tender_date_keeps_the_fingerprint_0005_gave_it():
    """Else every notice stored before 0006 would read as changed, and be rewritten and rescored."""
    for key, fingerprint in FINGERPRINTS_BY_0005.items():
        notice = compile_notice([release_by_id(key.split(":")[1])], [], format_for("find_a_tender"))
        assert replace(notice, future_notice_date=None, details=None).content_hash() == fingerprint
        unset = notice.future_notice_date is None and notice.details is None
        assert (notice.content_hash() == fingerprint) == unset
    assert compile_notice([release_by_id("069280-2026")], [], format_for("find_a_tender")).future_notice_date


def store_recorded(database) -> None:
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
        store_releases(session, "contracts_finder", cassette_releases("contracts_finder_2025-01-20"))


def notices(database) -> dict[str, NoticeRow]:
    with database.reading() as session:
        return {row.key: row for row in session.scalars(select(NoticeRow))}


def changed_at(database) -> dict[str, object]:
    """When each notice last changed, by plain SQL: the models may be newer than the schema."""
    with database.reading() as session:
        return dict(session.execute(text("SELECT key, changed_at FROM notices")).all())


def changes(database) -> int:
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(NoticeChange))


def test_an_upgrade_past_0006_gives_stored_pipeline_notices_their_expected_tender_date(database):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("069280-2026"), release_by_id("076396-2026")])
    migrate(database, "downgrade", "0005")  # as a store written by the previous tenderwatch,
    with database.writing() as session:  # whose fingerprint of the UK3 lacked its date
        stale = text("UPDATE notices SET content_hash = :old WHERE key = :key")
        session.execute(stale, {"old": FINGERPRINTS_BY_0005[UK3], "key": UK3})
    before = changed_at(database)

    Database(database.url).upgrade()

    after = notices(database)
    assert after[UK3].future_notice_date.isoformat() == "2026-07-23T22:59:59+00:00"  # 23:59:59 BST
    assert changed_at(database)[UK3] != before[UK3]
    # A notice whose releases never mention the date keeps its row and its fingerprint.
    assert changed_at(database)[VRP] == before[VRP]
    assert after[VRP].future_notice_date is None
    assert changes(database) == 0  # not news: nothing for a digest to announce
    with database.writing() as session:  # so a full recompile afterwards finds nothing to change
        again = recompile_notices(session, "find_a_tender", compiled_notice_ids(session, "find_a_tender"))
    assert (len(again.keys), again.changed, again.new) == (2, 0, 0)


def test_an_upgrade_past_0007_links_stored_copies_of_scottish_notices_to_their_procurement(database):
    forwarded, plain = "find_a_tender:075861-2026", "find_a_tender:076396-2026"  # with and without a link
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("075861-2026"), release_by_id("076396-2026")])
    migrate(database, "downgrade", "0006")  # as a store written by the previous tenderwatch,
    with database.writing() as session:  # whose fingerprint of the copy lacked the link
        stale = text("UPDATE notices SET content_hash = 'fingerprint without the link' WHERE key = :key")
        session.execute(stale, {"key": forwarded})
    before = changed_at(database)

    Database(database.url).upgrade()

    after = notices(database)
    assert after[forwarded].same_as_ocid == "ocds-r6ebe6-0000839754"  # its links[0] rel canonical
    assert after[plain].same_as_ocid is None and changed_at(database)[plain] == before[plain]
    assert changes(database) == 0  # not news


def test_an_upgrade_past_0008_reads_every_stored_notice_again_and_keeps_its_releases(database):
    dated, priced = "find_a_tender:076444-2026", "find_a_tender:076278-2026"  # "2026-08-25"; £89
    garbled = "contracts_finder:8f124d5d-fa11-457c-a0ed-431674a867c1"  # "Â£95,000" in its description
    budget = release_by_id("8f124d5d-fa11-457c-a0ed-431674a867c1-819916")
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076444-2026"), release_by_id("076278-2026")])
        store_releases(session, "contracts_finder", [budget])
    migrate(database, "downgrade", "0007")
    old_reading = {  # what tenderwatch at schema 0007 stored for them
        dated: {"deadline": datetime(2026, 8, 25, tzinfo=LONDON)},
        priced: {"value_amount": 89.0, "value_currency": "GBP"},
        garbled: {"description": budget["tender"]["description"].strip()},
    }
    with database.writing() as session:
        for key, values in old_reading.items():
            stale = update(NoticeRow).where(NoticeRow.key == key)
            session.execute(stale.values(**values, content_hash="fingerprint of 0007"))
        raw_before = dict(session.execute(select(ReleaseRow.release_id, ReleaseRow.raw)).all())

    Database(database.url).upgrade()

    after = notices(database)
    assert after[dated].deadline.astimezone(LONDON).isoformat() == "2026-08-25T23:59:59+01:00"
    assert (after[priced].value_amount, after[priced].value_currency) == (None, None)
    assert "budget of £95,000 excluding VAT" in after[garbled].description
    assert changes(database) == 0  # a better reading, not a change by the buyer
    with database.reading() as session:  # the releases stay as received
        assert dict(session.execute(select(ReleaseRow.release_id, ReleaseRow.raw)).all()) == raw_before


def test_an_upgrade_past_0009_reads_the_bid_details_of_every_stored_notice(database):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026")])
    migrate(database, "downgrade", "0008")  # drops notices.details
    notice = compile_notice([release_by_id("076396-2026")], [], format_for("find_a_tender"))
    with database.writing() as session:  # the fingerprint tenderwatch at 0008 gave it
        session.execute(
            text("UPDATE notices SET content_hash = :hash WHERE key = :key"),
            {"hash": replace(notice, details=None).content_hash(), "key": VRP},
        )

    Database(database.url).upgrade()

    details = Details.from_json(notices(database)[VRP].details)
    assert details.enquiry_deadline.astimezone(LONDON).isoformat() == "2026-08-21T23:59:59+01:00"
    assert [(c.type, c.weight) for c in details.award_criteria] == [("quality", 80.0), ("price", 20.0)]
    assert details.contract_max_end.astimezone(LONDON).date().isoformat() == "2029-03-31"
    assert changes(database) == 0  # a better reading, not a change by the buyer


def test_an_upgrade_past_0014_reads_markup_legacy_calls_and_summer_end_dates_again(database):
    marked, legacy = "find_a_tender:076392-2026", "find_a_tender:076069-2026"  # "<br/>"; planning+tender
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id(r) for r in ("076392-2026", "076069-2026")])
    right = notices(database)
    migrate(database, "downgrade", "0013")
    with database.writing() as session:  # what tenderwatch at schema 0013 stored for them
        old = right[marked].description.replace("\n", "<br/><br/>", 1)
        stale = update(NoticeRow).values(content_hash="fingerprint of 0013")
        session.execute(stale.where(NoticeRow.key == marked).values(description=old))
        planning = {"notice_type": "UK2", "stage": "planning", "is_opportunity": False}
        session.execute(stale.where(NoticeRow.key == legacy).values(**planning))

    Database(database.url).upgrade()

    after = notices(database)
    assert "<br/>" in old and "<br/>" not in after[marked].description
    assert after[marked].description == right[marked].description
    assert (after[legacy].notice_type, after[legacy].stage) == ("UK4", "tender")
    assert after[legacy].is_opportunity
    assert changes(database) == 0  # a better reading, not a change by the buyer


def test_an_upgrade_past_0015_keeps_the_lower_end_of_a_stated_value_range(database):
    releases = cassette_releases("contracts_finder_tenders_2026-09-19")
    with database.writing() as session:
        store_releases(session, "contracts_finder", releases)
    right = notices(database)
    ranged = next(key for key, row in right.items() if row.value_amount == 125_000)
    migrate(database, "downgrade", "0014")
    with database.writing() as session:  # what tenderwatch at schema 0014 stored: the top alone
        old = Details.from_json(right[ranged].details).to_json() | {"value_from": None}
        stale = update(NoticeRow).where(NoticeRow.key == ranged)
        session.execute(stale.values(details=old, content_hash="fingerprint of 0014"))

    Database(database.url).upgrade()

    after = Details.from_json(notices(database)[ranged].details)
    assert (notices(database)[ranged].value_amount, after.value_from) == (125_000, 100_000)
    assert changes(database) == 0  # a better reading, not a change by the buyer


def test_an_upgrade_past_0016_marks_values_stated_gross_only_in_a_store_the_first_0014_left(database):
    # 0014 was first released (6f94acb) before it marked gross-only values: such a store stays at 0014.
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    right, recorded = notices(database), changes(database)  # the recorded days' own updates
    gross = [key for key, row in right.items() if row.details and row.details.get("value_includes_vat")]
    assert gross
    migrate(database, "downgrade", "0014")
    with database.writing() as session:  # what tenderwatch 6f94acb stored: not marked
        for key in gross:
            old = Details.from_json(right[key].details).to_json() | {"value_includes_vat": False}
            stale = update(NoticeRow).where(NoticeRow.key == key)
            session.execute(stale.values(details=old, content_hash="fingerprint of 0014"))

    Database(database.url).upgrade()

    after = notices(database)
    assert [key for key in gross if not after[key].details.get("value_includes_vat")] == []
    assert changes(database) == recorded  # a better reading, not a change by the buyer


def test_recompile_repairs_stale_and_missing_notices_announces_nothing_and_is_idempotent(env, database):
    store_recorded(database)
    right, recorded = notices(database), changes(database)  # the recorded days' own updates
    with database.writing() as session:  # as an older normaliser, or a notice that failed to compile
        stale = update(NoticeRow).where(NoticeRow.key == VRP).values(title="Stale", content_hash="stale")
        session.execute(stale)
        session.execute(text("DELETE FROM notices WHERE key = :key"), {"key": PIPELINE})

    first = CliRunner().invoke(cli, ["db", "recompile"])

    assert first.exit_code == 0, first.output
    total = len([key for key in right if key.startswith("find_a_tender:")])
    said = "notices compiled again; {} now read differently, {} compiled for the first time"
    assert f"find_a_tender: {total:,} {said.format(1, 1)}" in first.output
    assert "contracts_finder: " in first.output
    repaired = notices(database)
    assert repaired[VRP].title == right[VRP].title
    assert repaired[PIPELINE].content_hash == right[PIPELINE].content_hash
    assert repaired[PIPELINE].future_notice_date == right[PIPELINE].future_notice_date is not None
    assert changes(database) == recorded  # a better reading of the same releases, not a buyer's change
    second = CliRunner().invoke(cli, ["db", "recompile", "find_a_tender"])
    assert f"find_a_tender: {total:,} {said.format(0, 0)}" in second.output
    assert "contracts_finder" not in second.output


def test_recompile_leaves_an_imported_notice_as_imported_even_beside_a_change_notice(env, database, tmp_path):
    store_recorded(database)
    change = copy.deepcopy(release_by_id("076396-2026"))  # a change notice of VRP's procurement
    change.update(id="079000-2026", tag=["tenderUpdate"], date="2026-08-13T09:00:00+01:00")
    with database.writing() as session:
        store_releases(session, "find_a_tender", [change])
    mine = {"id": VRP, "source": "find_a_tender", "source_id": "076396-2026", "title": "Our own copy"}
    (tmp_path / "mine.jsonl").write_text(json.dumps(mine) + "\n")
    assert CliRunner().invoke(cli, ["import", str(tmp_path / "mine.jsonl")]).exit_code == 0

    result = CliRunner().invoke(cli, ["db", "recompile", "find_a_tender"])

    assert result.exit_code == 0, result.output
    assert (notices(database)[VRP].title, notices(database)[VRP].origin) == ("Our own copy", "import")


def test_an_upgrade_meeting_a_release_edited_into_bad_json_names_it_and_leaves_the_store_as_it_was(
    env, database
):
    store_recorded(database)
    migrate(database, "downgrade", "0007")  # an upgrade past 0008 reads every stored release again
    with database.writing() as session:
        edited = update(ReleaseRow).where(ReleaseRow.release_id == "076396-2026")
        session.execute(edited.values(raw='{"id": "076396-2026", broken'))
    stored = text("SELECT key, title, content_hash, deadline FROM notices ORDER BY key")
    with database.reading() as session:
        before = session.execute(stored).all()

    result = CliRunner().invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 1
    assert "the stored release '076396-2026' of find_a_tender is not valid JSON" in result.output
    assert "Restore the database from a backup, or delete that release" in result.output
    assert "Traceback" not in result.output
    assert database.current_revision() == "0007"  # the upgrade was undone whole
    with database.reading() as session:
        assert session.execute(stored).all() == before


def test_recompile_skips_a_source_being_crawled_and_says_so(env, database):
    store_recorded(database)
    crawl = locks.try_lock(database, "crawl:find_a_tender")  # as a crawl holds it
    try:
        result = CliRunner().invoke(cli, ["db", "recompile"])
    finally:
        crawl.release()
    assert result.exit_code == 1
    assert "find_a_tender: skipped, it is being crawled; run this again when the crawl ends" in result.output
    assert "contracts_finder: 96 notices compiled again" in result.output


def test_recompile_names_a_source_with_nothing_stored(env, database):
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026")])
    result = CliRunner().invoke(cli, ["db", "recompile", "contracts_finder"])
    assert result.exit_code == 2
    expected = "no releases are stored for contracts_finder (sources that have some: find_a_tender)"
    assert expected in result.output
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(ReleaseRow)) == 1
