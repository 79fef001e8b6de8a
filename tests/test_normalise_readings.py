"""Three readings of real releases that were wrong (issue 20, point 9): a deadline given as a date
alone, a placeholder value with its VAT, and mojibake in Contracts Finder text."""

from __future__ import annotations

import copy
import json
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import select

from scoring import response_window
from store.db import open_database
from store.ingest import store_releases
from store.models import NoticeRow, ReleaseRow
from store.normalise import compile_notice, format_for
from store.notice import LONDON
from tenderwatch.cli import cli
from tenderwatch.formatting import notice_value
from tests.support.recorded import cassette_releases, release_by_id

FTS = format_for("find_a_tender")
CF = format_for("contracts_finder")
CF_PAGE = "contracts_finder_2025-01-20"  # the cfserver1 page: 27 pieces of mojibake in 11 notices
BUDGET = "8f124d5d-fa11-457c-a0ed-431674a867c1-819916"  # "a maximum budget of Â£95,000 excluding VAT"
BULLETS = "306fb694-922b-4fe9-bbf5-943cf55d1ef0-819539"  # "â€¢\tChildren, Young People ..."
MOJIBAKE = ("Â", "â€")
APOSTROPHE = "dff009c9-c955-4f82-8f54-455a64c5bee0-819904"  # tender.title "... St Bede&apos;s ..."


def fts_notice(release_id: str, release: dict | None = None):
    return compile_notice([release or release_by_id(release_id)], [], FTS)


def cf_release(release_id: str) -> dict:
    return next(release for release in cassette_releases(CF_PAGE) if release["id"] == release_id)


def test_a_deadline_given_as_a_date_alone_is_the_end_of_that_day_in_uk_time():
    # 076444-2026 and 076069-2026 write tender.tenderPeriod.endDate as "2026-08-25" and "2026-08-26".
    assert release_by_id("076444-2026")["tender"]["tenderPeriod"] == {"endDate": "2026-08-25"}
    first, second = fts_notice("076444-2026"), fts_notice("076069-2026")
    assert first.deadline.isoformat() == "2026-08-25T23:59:59+01:00"
    assert second.deadline == datetime(2026, 8, 26, 23, 59, 59, tzinfo=LONDON)
    # On its last day the notice is still open (read as 00:00 it had closed before the day began).
    timing = response_window(first, 0, datetime(2026, 8, 25, 18, 0, tzinfo=LONDON))
    assert (timing.in_time, timing.reason) == (True, "closes today")


def test_a_legacy_call_for_competition_tagged_planning_and_tender_is_a_tender():
    # 076069-2026 (restricted procedure, requests to participate by 26 Aug 2026) and 076323-2026 (a
    # Light Touch Regime platform open to tenders) are PCR 2015 notices without a UK notice type,
    # tagged ["planning", "tender"] with an active tender: calls for competition. Read as pre-market
    # engagement (UK2) they were no opportunity, and the digest listed them as early warnings whose
    # real deadline was "expected to close".
    for release_id in ("076069-2026", "076323-2026"):
        release = release_by_id(release_id)
        assert release["tag"] == ["planning", "tender"] and release["tender"]["status"] == "active"
        notice = fts_notice(release_id)
        assert (notice.notice_type, notice.stage, notice.is_opportunity) == ("UK4", "tender", True)
    # A planning release alone is still early engagement.
    planning = copy.deepcopy(release_by_id("076069-2026"))
    planning["tag"] = ["planning"]
    assert fts_notice("076069-2026", planning).notice_type == "UK2"


def test_an_end_date_at_23_59_59_is_the_end_of_the_day_written_whatever_its_offset():
    # 076180-2026 (a tender) writes tender.lots[0].contractPeriod.endDate "2027-07-31T23:59:59Z" and
    # 075960-2026 (contract details) contracts[0].period.endDate the same: in British Summer Time that
    # instant is 00:59 on 1 August, and the digest said "Contract: Fri 25 Sep 2026 to Sun 1 Aug 2027".
    from notify.facts import contract_period
    from store.normalise.contracts import contract_terms

    assert release_by_id("076180-2026")["tender"]["lots"][0]["contractPeriod"]["endDate"] == (
        "2027-07-31T23:59:59Z"
    )
    assert contract_period(fts_notice("076180-2026")) == (
        "Fri 25 Sep 2026 to Sat 31 Jul 2027, up to Mon 31 Jan 2028 with extensions"
    )
    assert release_by_id("075960-2026")["contracts"][0]["period"]["endDate"] == "2027-07-31T23:59:59Z"
    [terms] = contract_terms(release_by_id("075960-2026"))
    assert terms.end_date == datetime(2027, 7, 31, 23, 59, 59, tzinfo=LONDON)
    # In winter, or with the UK offset, the instant is the one written.
    assert fts_notice("076180-2026").details.contract_max_end.isoformat() == "2028-01-31T23:59:59+00:00"
    # 075593-2026: "2029-05-11T23:59:59+01:00", the UK offset.
    assert fts_notice("075593-2026").details.contract_end == datetime.fromisoformat(
        "2029-05-11T23:59:59+01:00"
    )


def test_a_deadline_with_its_time_is_kept_as_published():
    release = release_by_id("076396-2026")
    stated = release["tender"]["tenderPeriod"]["endDate"]
    assert "T" in stated
    assert fts_notice("076396-2026").deadline == datetime.fromisoformat(stated)


def test_a_value_below_100_pounds_is_not_stated_in_the_store_show_and_export(env):
    # 076278-2026, a taxi contract's details, states contracts[0].value {"amount": 89.0}: a rate, not
    # the contract's value; the scoring already read it as a placeholder, now everything does.
    assert release_by_id("076278-2026")["contracts"][0]["value"] == {"amount": 89.0, "currency": "GBP"}
    notice = fts_notice("076278-2026")
    assert (notice.value_amount, notice.value_currency) == (None, None)
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076278-2026")])
    database.close()
    shown = CliRunner().invoke(cli, ["show", "076278-2026"])
    assert "value: value not stated" in shown.output and "£89" not in shown.output
    exported = json.loads(CliRunner().invoke(cli, ["export"]).output)
    assert (exported["value_amount"], exported["value_currency"]) == (None, None)


def test_a_one_pound_placeholder_with_its_vat_is_not_stated():
    # 071520-2026 states tender.value {"amountGross": 1}; 076471-2026 (not among the recorded pages)
    # stated {"amount": 1, "amountGross": 1.2}, read as £1.20. That pair, on the recorded release:
    release = copy.deepcopy(release_by_id("071520-2026"))
    assert release["tender"]["value"] == {"amountGross": 1, "currency": "GBP"}
    release["tender"]["value"] = {"amount": 1, "amountGross": 1.2, "currency": "GBP"}
    assert fts_notice("071520-2026", release).value_amount is None
    # A lot's too; and a real gross beside a net of 0 is still the value (076320-2026's lots).
    lots = fts_notice("076320-2026").lots
    assert [lot.value_amount for lot in lots] == [50000.0, 55000.0, 90000.0]
    release["tender"]["lots"] = [{"id": "1", "value": {"amount": 1, "amountGross": 1.2, "currency": "GBP"}}]
    assert fts_notice("071520-2026", release).lots[0].value_amount is None


def test_mojibake_in_contracts_finder_text_is_repaired_and_the_release_kept_as_received():
    release = cf_release(BUDGET)
    description = compile_notice([release], [], CF).description
    assert "a maximum budget of £95,000 excluding VAT" in description
    assert "Â" not in description
    assert "Â£95,000" in release["tender"]["description"]  # the release is not changed
    bullets = compile_notice([cf_release(BULLETS)], [], CF).description
    assert "Apprenticeship Programme:\r\n\r\n•\tChildren, Young Pe" in bullets


def test_every_piece_of_mojibake_on_the_page_is_repaired_and_nothing_else_changes():
    releases = cassette_releases(CF_PAGE)
    garbled = [
        r for r in releases if any(m in (r.get("tender") or {}).get("description", "") for m in MOJIBAKE)
    ]
    assert len(garbled) == 11
    for release in releases:
        notice = compile_notice([release], [], CF)
        raw = release["tender"].get("description")
        assert not any(m in (notice.description or "") for m in MOJIBAKE), release["id"]
        if release not in garbled:
            assert notice.description == (raw.strip() if raw else None)


def test_every_text_field_of_a_notice_is_repaired():
    # The recorded garbled sentence, written where a source could garble it too.
    garbled = "The Council has a maximum budget of Â£95,000 â€¢ over 5 years"
    fixed = "The Council has a maximum budget of £95,000 • over 5 years"
    release = copy.deepcopy(cf_release(BUDGET))
    release["tender"]["title"] = garbled
    release["tender"]["procurementMethodDetails"] = garbled
    release["buyer"] = {"name": garbled}
    release["tender"]["lots"] = [
        {"id": "1", "title": garbled, "description": garbled, "renewal": {"description": garbled}}
    ]
    release["tender"]["submissionMethodDetails"] = garbled
    notice = compile_notice([release], [], CF)
    assert notice.title == notice.buyer_name == notice.procedure == fixed
    assert (notice.lots[0].title, notice.lots[0].description) == (fixed, fixed)
    assert (notice.details.extensions, notice.details.submission) == (fixed, fixed)


def test_clean_text_is_not_touched():
    from store.normalise.text import repaired

    for text in ("Evaluation of the £2m programme \u2013 “phase one”", "plain"):
        assert repaired(text) is text
    assert repaired("AcusorbÂ® AbsorberLine") == "Acusorb® AbsorberLine"
    # Welsh looks like mojibake to the quick check ("I ymuno a-circumflex, apostrophe, r sesiwn"), and
    # ftfy leaves it be.
    welsh = release_by_id("076084-2026")["tender"]["description"]
    assert "I ymuno \u00e2\u2019r sesiwn" in welsh
    assert fts_notice("076084-2026").description == welsh.strip()


def test_html_markup_and_character_references_are_read_as_text():
    # Find a Tender writes line breaks as "<br/>" (076392-2026's tender.description, 20 notices of the
    # recorded days), Contracts Finder an apostrophe as "&apos;": the digest escapes notice text, so
    # both showed as written ("Solihull.<br/><br/>The Adult", "St Bede&apos;s Catholic Middle School").
    raw = release_by_id("076392-2026")["tender"]["description"]
    assert "Solihull.<br/><br/>The Adult Non-Complex" in raw
    notice = fts_notice("076392-2026")
    assert "Solihull.\nThe Adult Non-Complex" in notice.description
    assert "<br" not in notice.description and "<br" not in notice.lots[0].description
    assert "<br/>" in release_by_id("076392-2026")["tender"]["lots"][0]["description"]
    title = cf_release(APOSTROPHE)["tender"]["title"]
    assert "St Bede&apos;s Catholic" in title
    assert compile_notice([cf_release(APOSTROPHE)], [], CF).title == title.replace("&apos;", "'")
    # Text that only looks like markup stays as written.
    from store.normalise.text import unmarked

    for text in ("Contracts of <5 years & under £1m", "R&D; costs < £1m", "Lot <A>"):
        assert unmarked(text) is text


def test_the_store_keeps_the_release_as_received_and_the_notice_repaired(database):
    with database.writing() as session:
        store_releases(session, "contracts_finder", [cf_release(BUDGET)])
    with database.reading() as session:
        raw = session.scalar(select(ReleaseRow.raw))
        description = session.scalar(select(NoticeRow.description))
    assert "Â£95,000" in json.loads(raw)["tender"]["description"]
    assert "£95,000" in description and "Â" not in description


def test_a_value_stated_gross_only_is_shown_with_its_vat():
    # 075907-2026 states tender.value {"amountGross": 75000} alone; 076395-2026 its net £285,000 (and
    # gross £342,000). Both read as the amount; only the first includes VAT, and says so where shown.
    gross, net = fts_notice("075907-2026"), fts_notice("076395-2026")
    assert (gross.value_amount, gross.details.value_includes_vat) == (75000.0, True)
    assert (net.value_amount, net.details.value_includes_vat) == (285000.0, False)
    assert (notice_value(gross), notice_value(net)) == ("£75,000 incl. VAT", "£285,000")
    netted = copy.deepcopy(release_by_id("075907-2026"))
    netted["tender"]["value"]["amount"] = 62500  # with its net amount, the net is shown, without a word
    assert notice_value(fts_notice("075907-2026", netted)) == "£62,500"


def test_a_value_range_keeps_its_lower_end_and_is_shown_as_a_range():
    # Contracts Finder states "£5,000 to £22,000" as tender.minValue beside tender.value.
    tender, award = (
        "25e4588a-6223-4869-ae53-d64966f9c274-819944",
        "2a1e3359-87a0-4fdd-ac61-20d5e6520a13-819950",
    )
    assert cf_release(tender)["tender"]["minValue"] == {"amount": 5000, "currency": "GBP"}
    ranged = compile_notice([cf_release(tender)], [], CF)
    assert (ranged.value_amount, ranged.details.value_from) == (22000.0, 5000.0)
    assert notice_value(ranged) == "£5,000 to £22,000"
    # An award's value is what was agreed: the tender's range is no part of it.
    awarded = compile_notice([cf_release(award)], [], CF)
    assert awarded.details is None or awarded.details.value_from is None
    # A minimum of £0 says nothing ("not stated"), nor one that is the value itself.
    for minimum in (0, 22000):
        release = copy.deepcopy(cf_release(tender))
        release["tender"]["minValue"]["amount"] = minimum
        notice = compile_notice([release], [], CF)
        assert notice_value(notice) == "£22,000"
    # With only a gross top, both ends are the notice's own and the whole range says so.
    gross = copy.deepcopy(cf_release(tender))
    gross["tender"]["value"] = {"amountGross": 22000, "currency": "GBP"}
    assert notice_value(compile_notice([gross], [], CF)) == "£5,000 to £22,000 incl. VAT"
