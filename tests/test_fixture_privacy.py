"""Committed fixtures hold no contact details: they were redacted by scripts/build_fixtures.py."""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from build_fixtures import BIRTH_MONTH, EMAIL, OFFICER_LINE, TITLED_NAME, UK_PHONE, redact  # noqa: E402

FIXTURES = sorted((ROOT / "tests" / "fixtures").rglob("*.gz"))
PLACEHOLDERS = {"redacted@example.com", "00000 000000", "Redacted Contact", "Redacted Person"}


def strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def bodies(path: Path):
    import yaml

    text = gzip.decompress(path.read_bytes()).decode()
    if path.name.endswith(".yaml.gz"):
        for interaction in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))[
            "interactions"
        ]:
            yield interaction["response"]["body"]["string"]
    elif path.name.endswith(".jsonl.gz"):
        yield from text.splitlines()  # one notice per line
    else:
        yield text


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_no_contact_details_remain(path):
    found = set()
    for body in bodies(path):
        try:
            values = list(strings(json.loads(body)))
        except ValueError:
            values = [body]  # a plain-text body (the recorded 429)
        for value in values:
            found |= contact_details(value) - PLACEHOLDERS
    assert not found, f"{path.name} still holds {sorted(found)[:5]}"


def contact_details(text: str) -> set[str]:
    """What the redaction patterns of scripts/build_fixtures.py find in the text."""
    return {hit.group(0) for pattern in (EMAIL, UK_PHONE, TITLED_NAME) for hit in pattern.finditer(text)}


def contact_points(value):
    if isinstance(value, dict):
        if isinstance(value.get("contactPoint"), dict):
            yield value["contactPoint"]
        for item in value.values():
            yield from contact_points(item)
    elif isinstance(value, list):
        for item in value:
            yield from contact_points(item)


def packages():
    for path in FIXTURES:
        for body in bodies(path):
            try:
                yield json.loads(body)
            except ValueError:
                continue  # the recorded 429's plain text


def test_contact_points_are_placeholders_in_every_fixture():
    contacts = [contact for package in packages() for contact in contact_points(package)]
    assert len(contacts) > 1000
    for contact in contacts:
        assert contact.get("name", "Redacted Contact") == "Redacted Contact"
        assert contact.get("email", "redacted@example.com") == "redacted@example.com"
        assert contact.get("telephone", "00000 000000") == "00000 000000"


# Ofcom's numbers for drama (01632 960xxx, 020 7946 0xxx, 07700 900xxx): shaped like real ones, nobody's.
@pytest.mark.parametrize(
    "text",
    [
        "Tel: 01632 960123.",
        "call +44 (0)20 7946 0321 or",
        "mobile 07700900456",
        "(01632-960-789)",
        "Tel: 01632 960123Email: bids",
        "01632 960123ext 22",
        "01632 960123x22",
        "Telephone01632 960123",
        "Phone/01632 960123",
        "Tel:-01632 960123",
        "tel 01632-960123-ext 2",
    ],
)
def test_phone_numbers_are_found(text):
    assert UK_PHONE.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://api.publiccontractsscotland.gov.uk/v1/Notice?id=ocds-r6ebe6-0000730576",
        "c3a8e0f1-5d2b-84cd-8df7f86dc077-819892",  # digits inside a Contracts Finder id
        "49dfd038-2cb6-4a6c-0123-456789012345-000001",  # a GUID whose groups are mostly digits
        "previous notice 2025/S 000-072431 and 2021/S 045-112345, 2024/s 000-012345",
        "Find a Tender notice 076396-2026",
        "a value of 0.1234 567 890",
    ],
)
def test_identifiers_are_not_taken_for_phone_numbers(text):
    assert not UK_PHONE.search(text)


# Broader than build_fixtures.EMAIL on purpose: anything shaped like an address, found independently.
ANY_EMAIL = re.compile(r"[^\s\"'`<>():;,/]+@[^\s\"'`<>():;,/]+\.[A-Za-z]{2,}")


def found_in_fixtures(pattern: re.Pattern[str]) -> set[str]:
    return {
        hit.group(0)
        for package in packages()
        for value in strings(package)
        for hit in pattern.finditer(value)
    }


def test_no_email_address_remains_by_an_independent_pattern():
    found = found_in_fixtures(ANY_EMAIL) - PLACEHOLDERS
    assert not found, sorted(found)[:5]


# A second net for phone numbers, written apart from build_fixtures.UK_PHONE (which this file also
# uses above), so that narrowing that pattern cannot hide a number: 10 or 11 digits as a UK number
# starts (0 then 1-9, or +44), with spaces, hyphens or brackets between them.
ANY_UK_NUMBER = re.compile(
    r"(?:\+\s?44\s?(?:\(0\)\s?)?|(?<![\w/-])(?!\d{6}-\d{4}\b)\(?0)[1-9](?:[ ()-]{0,2}\d){8,9}(?!\d)"
)


@pytest.mark.parametrize(
    "text", ["Tel: 01632 960123", "+44 (0)20 7946 0321", "(01632) 960 123", "07700-900-456"]
)
def test_the_second_net_catches_phone_numbers(text):
    assert ANY_UK_NUMBER.search(text)


def test_no_phone_number_remains_by_a_second_pattern():
    found = found_in_fixtures(ANY_UK_NUMBER)
    assert not found, sorted(found)[:5]


REAL_NOTICES = sorted((ROOT / "scripts" / "probe").glob("real-*.jsonl"))
REDACTED = "redacted@redacted.invalid"  # how the real sets write a removed e-mail address
# Not private persons: "the Councillor Code of Conduct" (a document) and the "Dr Martin Luther King Jr
# Building" (one of a museum's sites).
NOT_NAMES = {"Councillor Code", "Dr Martin Luther King Jr"}
# Identifiers and addresses, not text: a UUID's "a017-1343494b..." reads as a phone number.
IDENTIFIERS = ("id", "source_id", "ocid", "url")


@pytest.mark.parametrize("path", REAL_NOTICES, ids=lambda path: path.name)
def test_real_notice_sets_hold_no_contact_details(path):
    """The graded real notices in scripts/probe were copied from public pages with contacts removed."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        notice = json.loads(line)
        for value in strings({key: notice[key] for key in notice if key not in IDENTIFIERS}):
            # Some texts run the placeholder on into the next word.
            found |= contact_details(value.replace(REDACTED, " ")) - NOT_NAMES
    assert not found, f"{path.name} still holds {sorted(found)[:5]}"


def test_no_officer_names_or_birth_dates_remain():
    found = found_in_fixtures(OFFICER_LINE) | found_in_fixtures(BIRTH_MONTH)
    assert not found, sorted(found)[:5]


def test_an_officer_listing_is_redacted_when_fixtures_are_built():
    listing = (
        "Persons with significant control\nSMITH, Jane Alice\nCorrespondence address\n1 High Street\n"
        "Role Director\nDate of birth  March 1970\nNationality British"
    )
    redacted = json.loads(redact(json.dumps(listing)))  # a JSON string, as in a recorded body
    assert "SMITH" not in redacted and "Jane" not in redacted and "1970" not in redacted
    assert "[name removed]\nCorrespondence address" in redacted
    assert "Date of birth  [date of birth removed]\nNationality British" in redacted
