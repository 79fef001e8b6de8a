"""Normalisation of 17 real releases of every kind, field by field, against values checked by hand.

tests/golden/normalised_notices.json was written from the normaliser's output and then each field was
compared with the raw release (shown by `tests/support/recorded.release_by_id`): notice type from the
notice's own document (or the tag equivalent for legacy and Contracts Finder releases), net value
before gross, awarded/contracted values past the tender stage, the earliest of the expression-of-
interest and tender deadlines, a pipeline notice's futureNoticeDate, delivery regions before the
buyer's, CPV from tender and items, and the ocid a Find a Tender copy of a Public Contracts Scotland
notice names by its canonical link (075904-2026), and the details a bid/no-bid decision needs
(`details`: the clarification deadline from enquiryPeriod, the earliest lot start and latest lot end
and maxExtentDate, the first renewal or options text, the tender's or else the first lot's award
criteria, the biddingDocuments URL, submissionMethodDetails and the CPV names; checked by hand on
076396-2026's three lots).
Long descriptions are compared by their first 120 characters.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from store.normalise import compile_notice, format_for
from tests.support.recorded import release_by_id

GOLDEN = json.loads((Path(__file__).parent / "golden" / "normalised_notices.json").read_text())


def shorten(notice: dict) -> dict:
    if notice.get("description") and len(notice["description"]) > 120:
        notice["description"] = notice["description"][:120] + "…"
    for lot in notice["lots"]:
        if lot.get("description") and len(lot["description"]) > 80:
            lot["description"] = lot["description"][:80] + "…"
    for name in ("extensions", "submission"):
        details = notice["details"] or {}
        if details.get(name) and len(details[name]) > 80:
            details[name] = details[name][:80] + "…"
    return notice


def test_the_golden_set_covers_every_kind_of_notice():
    kinds = {(expected["source"], expected["notice_type"]) for expected in GOLDEN.values()}
    for notice_type in ("UK1", "UK2", "UK3", "UK4", "UK5", "UK6", "UK7", "UK12", "UK13"):
        assert ("find_a_tender", notice_type) in kinds
    legacy = [
        rid
        for rid in GOLDEN
        if release_by_id(rid).get("tender", {}).get("legalBasis", {}).get("scheme") == "CELEX"
    ]
    assert len(legacy) == 3
    assert {e["notice_type"] for e in GOLDEN.values() if e["source"] == "contracts_finder"} == {
        "UK3",
        "UK4",
        "UK6",
    }


@pytest.mark.parametrize("release_id", sorted(GOLDEN))
def test_normalised_fields_match_the_hand_checked_values(release_id):
    expected = dict(GOLDEN[release_id])
    source = expected.pop("source")
    actual = shorten(compile_notice([release_by_id(release_id)], [], format_for(source)).to_json())
    for field, value in expected.items():
        assert actual[field] == value, f"{release_id}: {field}"
    assert actual["source"] == source
    assert set(actual) == {*expected, "source"}


def test_only_a_link_to_the_other_service_itself_names_the_same_procurement():
    import copy

    from store.normalise.ocds import same_as_ocid

    release = copy.deepcopy(release_by_id("075904-2026"))
    assert same_as_ocid(release) == "ocds-r6ebe6-0000833714"
    release["links"] = [{"href": "https://evil.example/v1/Notice?id=ocds-r6ebe6-0000833714"}]
    assert same_as_ocid(release) is None  # a link a buyer could write anywhere proves nothing
    release["links"] = [{"href": "https://api.sell2wales.gov.wales/v1/Notice?id=ocds-kuma6s-123456"}]
    assert same_as_ocid(release) == "ocds-kuma6s-123456"
