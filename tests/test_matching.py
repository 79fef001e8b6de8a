"""Matching across services: real duplicates merged with their evidence, real near misses kept apart.

Measured on every real notice the project has (tests/support/every_fixture.py; the README quotes
scripts/measure_matching.py): one pair found by rule 4 (buyer, title, deadline and value), none by a
canonical link or a buyer reference (no stored notice of one service is linked or referenced by a
stored notice of the other), and no wrong merge. The pairs below were each inspected by hand.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from store.ingest import save_notices, store_releases
from store.matching import match_all, match_procurements, similar
from store.models import NoticeReference, NoticeRow, OpportunityLink
from store.opportunities import opportunity_key_of
from tenderwatch.cli import cli
from tests.support.every_fixture import every_notice, fill_with_every_fixture
from tests.support.labels import imported
from tests.support.recorded import cassette_releases, release_by_id

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The same tender on both services (CF published it 3 minutes before FTS): "CA18436 - " is the
# buyer's portal reference, written on Contracts Finder only.
CHICHESTER = ("contracts_finder:287ed446-ae14-4b1b-bef8-0fabe8744c07", "find_a_tender:085233-2026")
# Near misses that must stay apart, each read by hand: same buyer, different work...
DIFFERENT_WORK = {
    # East Sussex's school taxi routes: the same title, deadline and no value; different routes.
    "taxi routes": (
        "contracts_finder:36da036c-885f-43be-8e36-725563970304",
        "contracts_finder:a067d50d-653a-4eed-8395-87ffaf8f62bc",
    ),
    # Newham's dynamic purchasing vehicle: categories 1 and 2 of one round, same deadline.
    "categories": ("find_a_tender:084818-2026", "find_a_tender:084820-2026"),
    "children and adults": (
        "contracts_finder:43fda075-f559-47d2-96de-038f2d1633c4",
        "contracts_finder:45ad1b11-f706-4d1e-b4c6-342a253acc6e",
    ),
    "electricity and gas": ("find_a_tender:093650-2026", "find_a_tender:093647-2026"),
    "kitchens and bathrooms": ("public_contracts_scotland:SEP563850", "public_contracts_scotland:SEP563852"),
}
# ...and the same work let again: the next round of a category, a re-issued tender.
LET_AGAIN = {
    "next round": ("find_a_tender:084820-2026", "find_a_tender:094664-2026"),
    "version 2": ("find_a_tender:076174-2026", "find_a_tender:076177-2026"),
}
# Very likely one tender (same buyer, title, value and description), but Find a Tender's copy came
# three weeks later with a deadline a week later: missed, as the rules prefer missing to merging.
HARTPURY = ("contracts_finder:4fe5665b-bf23-460b-b259-409235f7b31f", "find_a_tender:091453-2026")


def opportunity(database, key):
    with database.reading() as session:
        return opportunity_key_of(session, key)


def test_on_every_real_notice_one_duplicate_is_merged_with_its_evidence_and_near_misses_stay_apart(database):
    fill_with_every_fixture(database)
    with database.reading() as session:
        links = list(session.scalars(select(OpportunityLink)))
    assert [(link.notice_key, link.matched_notice_key, link.rule) for link in links] == [
        (*CHICHESTER, "buyer, title, deadline and value")
    ]
    assert links[0].evidence == {
        "buyer": "chichester college group",
        "titles": "'CA18436 - Provision of PPA funded Solar PV Roof Array with battery storage' / "
        "'Provision of PPA funded Solar PV Roof Array with battery storage' (1.00)",
        "deadline": "2026-10-07",
        "value": "900,000 / 900,000",
    }
    assert opportunity(database, CHICHESTER[0]) == opportunity(database, CHICHESTER[1])
    for name, (one, other) in {**DIFFERENT_WORK, **LET_AGAIN, "hartpury": HARTPURY}.items():
        assert opportunity(database, one) != opportunity(database, other), name


@pytest.mark.parametrize("name", [*DIFFERENT_WORK, *LET_AGAIN])
def test_a_near_miss_would_stay_apart_even_if_its_two_notices_were_on_two_services(name):
    one, other = (every_notice()[key] for key in {**DIFFERENT_WORK, **LET_AGAIN}[name])
    assert similar(one, other) is None


def test_a_re_let_a_year_later_is_not_the_same_tender():
    cf, fts = (every_notice()[key] for key in CHICHESTER)
    assert similar(cf, fts) is not None
    a_year_on = timedelta(days=364)
    re_let = replace(cf, deadline=cf.deadline + a_year_on, published_at=cf.published_at + a_year_on)
    assert similar(re_let, fts) is None


def test_show_gives_the_evidence_and_unmerge_splits_for_good(env, database):
    labelled = {notice.id: notice for notice in imported()}
    with database.writing() as session:
        save_notices(session, [labelled[key] for key in CHICHESTER], now=NOW)
    merged = opportunity(database, CHICHESTER[1])
    assert opportunity(database, CHICHESTER[0]) == merged == "find_a_tender:ocds-h6vhtk-06f544"
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", merged]).output
    assert "services: contracts_finder, find_a_tender" in shown  # CF published it first
    assert f"{CHICHESTER[0]} = {CHICHESTER[1]}: buyer, title, deadline and value" in shown
    assert "deadline: 2026-10-07; value: 900,000 / 900,000" in shown
    assert f"Wrong? tenderwatch unmerge {CHICHESTER[0]}" in shown

    split = runner.invoke(cli, ["unmerge", CHICHESTER[0]])
    assert split.exit_code == 0, split.output
    assert "split off contracts_finder:ocds-b5fd17-287ed446-ae14-4b1b-bef8-0fabe8744c07" in split.output
    apart = opportunity(database, CHICHESTER[0])
    assert apart != merged and opportunity(database, CHICHESTER[1]) == merged
    with database.writing() as session:  # what the next crawl, an import or an upgrade would try
        cf = session.scalar(select(NoticeRow.procurement).where(NoticeRow.key == CHICHESTER[0]))
        assert match_procurements(session, [cf], NOW) == 0 and match_all(session, NOW) == 0
        save_notices(
            session, [replace(labelled[CHICHESTER[0]], title=labelled[CHICHESTER[0]].title + " ")], now=NOW
        )
    assert opportunity(database, CHICHESTER[0]) == apart
    assert "Merged across services" not in runner.invoke(cli, ["show", merged]).output
    again = runner.invoke(cli, ["unmerge", CHICHESTER[0]])
    assert again.exit_code == 0 and "nothing was merged with it" in again.output
    assert runner.invoke(cli, ["unmerge", "contracts_finder:nope"]).exit_code == 2


def test_a_contracts_finder_award_linking_to_its_find_a_tender_notice_is_merged(database):
    award = next(
        r for r in cassette_releases("contracts_finder_2025-01-20") if r["id"].startswith("edc9d363")
    )
    # The linked Find a Tender notice 002433-2025 was not recorded: a real award release of Find a
    # Tender stands in for it, under that id.
    linked = copy.deepcopy(release_by_id("075956-2026"))
    linked["id"] = "002433-2025"
    with database.writing() as session:
        store_releases(session, "find_a_tender", [linked], now=NOW)
        store_releases(session, "contracts_finder", [award], now=NOW)
        link = session.scalars(select(OpportunityLink)).one()
    assert (link.rule, link.evidence) == (
        "canonical link",
        {"link": "contracts_finder:edc9d363-cd9f-4de8-9db6-1db8110d43e9 links to find_a_tender:002433-2025"},
    )
    assert opportunity(database, "find_a_tender:002433-2025") == opportunity(
        database, "contracts_finder:edc9d363-cd9f-4de8-9db6-1db8110d43e9"
    )


def test_a_shared_procontract_reference_merges_and_a_placeholder_one_is_not_read(database):
    cf = next(r for r in cassette_releases("contracts_finder_2025-01-20") if r["id"].startswith("c5b3ac8e"))
    assert cf["tender"]["id"] == "BOURN001-DN760314-57092371"
    # No recorded Find a Tender notice shares a reference with a Contracts Finder one: a real tender
    # release of Find a Tender is given that reference, as ProContract writes it there ("DN760314").
    fts = copy.deepcopy(release_by_id("076396-2026"))
    fts["tender"]["id"] = "DN760314"
    with database.writing() as session:
        store_releases(session, "find_a_tender", [fts, release_by_id("076132-2026")], now=NOW)
        store_releases(session, "contracts_finder", [cf], now=NOW)
        link = session.scalars(select(OpportunityLink)).one()
        placeholder = session.scalars(
            select(NoticeReference.value)
            .join(NoticeRow, NoticeRow.id == NoticeReference.notice_id)
            .where(NoticeRow.key == "find_a_tender:076132-2026")
        ).all()
    assert (link.rule, link.evidence) == ("buyer reference", {"buyer reference": "DN760314"})
    assert placeholder == []  # its tender.id is "DN00000005"


def test_unmerging_an_opportunity_splits_off_everything_merged_into_it(env, database):
    labelled = {notice.id: notice for notice in imported()}
    with database.writing() as session:
        save_notices(session, [labelled[key] for key in CHICHESTER], now=NOW)
    merged = opportunity(database, CHICHESTER[1])
    result = CliRunner().invoke(cli, ["unmerge", merged])
    assert result.exit_code == 0, result.output
    assert "split off contracts_finder:ocds-b5fd17-287ed446-ae14-4b1b-bef8-0fabe8744c07" in result.output
    assert opportunity(database, CHICHESTER[1]) == merged != opportunity(database, CHICHESTER[0])
    with database.reading() as session:
        assert list(session.scalars(select(OpportunityLink))) == []  # its evidence went with it


def test_a_procurement_still_alone_is_matched_again_when_its_notice_changes(database):
    cf, fts = (every_notice()[key] for key in CHICHESTER)
    unpriced = replace(cf, value_amount=None, value_currency=None)  # as if Contracts Finder had no value yet
    with database.writing() as session:
        save_notices(session, [unpriced], now=NOW)
        save_notices(session, [fts], now=NOW)
    assert opportunity(database, CHICHESTER[0]) != opportunity(database, CHICHESTER[1])  # no value: apart
    with database.writing() as session:
        save_notices(session, [cf], now=NOW + timedelta(hours=1))  # the value stated later
    assert opportunity(database, CHICHESTER[0]) == opportunity(database, CHICHESTER[1])


def test_a_third_services_copy_joins_the_two_already_merged(database):
    cf, fts = (every_notice()[key] for key in CHICHESTER)
    # The same tender on a third service: it matches both copies, which are one opportunity already.
    pcs_ocid = "ocds-r6ebe6-000001"
    third = replace(fts, source="public_contracts_scotland", source_id="SEP000001", ocid=pcs_ocid, url=None)
    with database.writing() as session:
        save_notices(session, [cf, fts], now=NOW)
        save_notices(session, [third], now=NOW + timedelta(hours=1))
    merged = opportunity(database, CHICHESTER[0])
    assert opportunity(database, CHICHESTER[1]) == merged == opportunity(database, third.id)
    # Unmerged by its ocid, the third copy alone leaves: the two others stay one opportunity.
    result = CliRunner().invoke(cli, ["unmerge", pcs_ocid])
    assert result.exit_code == 0 and f"split off public_contracts_scotland:{pcs_ocid}:" in result.output
    assert opportunity(database, CHICHESTER[0]) == opportunity(database, CHICHESTER[1]) == merged
    assert opportunity(database, third.id) != merged
