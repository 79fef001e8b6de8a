"""Time windows in UK local time, and lenient decoding of what the services really send."""

from __future__ import annotations

import codecs
import gzip
from datetime import UTC, datetime, timedelta

import pytest

from spiders.ocds_json import UNLIMITED, InvalidPackage, decode_package
from spiders.windows import Window, parse_moment, slices
from tenderwatch.errors import ConfigError
from tests.support.recorded import FIXTURES


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_slices_cover_the_range_in_steps_oldest_first():
    windows = list(slices(utc("2026-08-11T00:00:00"), utc("2026-08-11T14:30:00"), timedelta(hours=6)))
    assert [(w.start.hour, w.end.hour, w.end.minute) for w in windows] == [
        (0, 6, 0),
        (6, 12, 0),
        (12, 14, 30),
    ]


def test_queries_are_uk_local_time_with_seconds():
    summer = Window(utc("2026-08-10T23:00:00"), utc("2026-08-11T05:00:00"))
    winter = Window(utc("2026-01-10T23:00:00"), utc("2026-01-11T05:00:00"))
    assert summer.query() == ("2026-08-11T00:00:00", "2026-08-11T06:00:00")
    assert winter.query() == ("2026-01-10T23:00:00", "2026-01-11T05:00:00")


def test_a_boundary_inside_the_repeated_hour_is_widened_to_cover_both():
    # Clocks go back at 02:00 BST on 2026-10-25: 01:00-02:00 UK time happens twice.
    first_pass = Window(utc("2026-10-25T00:30:00"), utc("2026-10-25T00:45:00"))  # 01:30-01:45 BST
    second_pass = Window(utc("2026-10-25T01:30:00"), utc("2026-10-25T01:45:00"))  # 01:30-01:45 GMT
    assert first_pass.query() == ("2026-10-25T00:30:00", "2026-10-25T01:45:00")
    assert second_pass.query() == ("2026-10-25T01:30:00", "2026-10-25T02:45:00")


def test_halves_split_at_the_middle_second():
    left, right = Window(utc("2026-08-11T00:00:00"), utc("2026-08-11T00:00:03")).halves()
    assert (left.end, right.start) == (utc("2026-08-11T00:00:01"), utc("2026-08-11T00:00:01"))


def test_user_dates_without_offset_are_uk_time():
    assert parse_moment("2026-08-11") == utc("2026-08-10T23:00:00")
    assert parse_moment("2026-08-11T06:00+00:00") == utc("2026-08-11T06:00:00")
    with pytest.raises(ValueError, match="Invalid isoformat"):
        parse_moment("11/08/2026")


def test_a_uk_time_the_clocks_repeat_is_read_as_either_and_one_they_skip_is_refused():
    assert parse_moment("2026-10-25T01:30") == utc("2026-10-25T00:30:00")  # the first 01:30, BST
    assert parse_moment("2026-10-25T01:30", later=True) == utc("2026-10-25T01:30:00")  # the second, GMT
    assert parse_moment("2026-03-29T02:00") == utc("2026-03-29T01:00:00")
    with pytest.raises(ConfigError) as error:
        parse_moment("2026-03-29T01:59:30", later=True)
    assert str(error.value) == (
        "'2026-03-29T01:59:30' does not exist in UK time: the clocks go forward an hour that night and "
        "skip it; write 2026-03-29T02:59:30 (BST) or 2026-03-29T01:59:30+00:00 (GMT), "
        "which are the same moment"
    )
    assert parse_moment("2026-03-29T01:30+00:00") == utc("2026-03-29T01:30:00")  # an offset says which


def test_unlimited_numbers_become_finite():
    package = decode_package(b'{"releases": [{"maximumLotsBidPerSupplier": 1e9999, "value": 12.5}]}')
    assert package["releases"][0] == {"maximumLotsBidPerSupplier": UNLIMITED, "value": 12.5}


def test_numbers_with_leading_zeros_are_repaired_only_when_needed():
    package = decode_package(b'{"releases": [{"amount": 000, "note": "ref: 007"}]}')
    assert package["releases"][0] == {"amount": 0, "note": "ref: 007"}


def test_negative_numbers_with_leading_zeros_are_repaired_too():
    package = decode_package(b'{"releases": [{"amount": -007, "rate": -00.5, "note": "-007"}]}')
    assert package["releases"][0] == {"amount": -7, "rate": -0.5, "note": "-007"}


@pytest.mark.parametrize("lenient", [False, True], ids=["well-formed", "needing-repair"])
def test_a_page_that_starts_with_a_byte_order_mark_is_read_as_without_it(lenient):
    # A recorded Find a Tender page; a server that writes a UTF-8 BOM first once failed its source
    # on every crawl. Also with a leading zero, so that the lenient path reads it too.
    page = gzip.decompress(
        (FIXTURES / "recorded" / "find_a_tender_whole_stream_page-050.json.gz").read_bytes()
    )
    if lenient:
        page = page.replace(b'"releases":', b'"padding": 007, "releases":', 1)
    package = decode_package(codecs.BOM_UTF8 + page)
    assert package == decode_package(page)
    assert len(package["releases"]) == 100


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"releases": [{"id": "1"', "not valid JSON"),
        (b"<html><title>Forbidden - Contracts Finder</title></html>", "not valid JSON"),
        (b'{"status": 404, "error": "Not found"}', "no 'releases' list"),
    ],
)
def test_unreadable_bodies_are_reported(body, problem):
    with pytest.raises(InvalidPackage, match=problem):
        decode_package(body)
