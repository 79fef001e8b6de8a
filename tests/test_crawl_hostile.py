"""A hostile or compromised API: what it sends must not steer the crawler, exhaust the machine or
block a source, and what the crawl reports must not repeat what it sent.

Real crawls against the local replay server (tests/support/replay_server.py), whose faults play the
hostile service, and a bystander on another local address that must never be reached.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from collections.abc import Iterator

import pytest
import pytest_twisted
from click.testing import CliRunner
from sqlalchemy import select, text

from spiders.crawl import result_of
from store import crawls
from store.ingest import notice_from_row, notice_values
from store.models import ContractRow, NoticeRow, ReleaseRow, SourceState
from tenderwatch.cli import cli
from tests.support.bystander import Bystander
from tests.support.replay_server import FIND_A_TENDER, Fault
from tests.test_crawl_faults import crawl_fts, releases_in, run_of, stored, uk

WINDOW = ("2026-08-11T06:00:00", "2026-08-11T12:00:00")


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    with Bystander("127.0.0.2") as server:
        yield server


@pytest.fixture
def bystander_on_another_port() -> Iterator[Bystander]:
    with Bystander("127.0.0.1") as server:
        yield server


def package(releases: list, next_url: str | None = None) -> bytes:
    return json.dumps({"releases": releases, **({"links": {"next": next_url}} if next_url else {})}).encode()


def json_fault(body: bytes, *, on_request: int = 1, times: int = 1) -> Fault:
    return Fault(on_request=on_request, headers={"Content-Type": "application/json"}, body=body, times=times)


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("elsewhere", ["bystander", "bystander_on_another_port"])
def test_a_next_link_to_another_host_is_not_followed_and_fails_the_crawl(
    config, database, replay_server, elsewhere, request
):
    target: Bystander = request.getfixturevalue(elsewhere)
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], f"{target.url}/latest/meta-data/iam")))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert target.hits == []
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        f"the service's next link leads to another host ({target.url}); tenderwatch fetches only "
        f"from {replay_server.url}: check the source's URL (TENDERWATCH_FIND_A_TENDER_URL)"
    )
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender") is None  # the window was not completed


@pytest_twisted.inlineCallbacks
def test_a_window_that_pages_on_past_any_real_length_fails_the_crawl(
    config, database, replay_server, monkeypatch
):
    from spiders.base import OcdsWindowSpider

    assert len(releases_in(replay_server, FIND_A_TENDER, *WINDOW)) > 200  # three pages or more
    monkeypatch.setattr(OcdsWindowSpider, "max_pages_per_window", 2)  # as if the cursors never ended
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 2
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert "runs to more than 2 pages, more than any real window" in run.message
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender") is None  # the window was not completed


@pytest_twisted.inlineCallbacks
def test_a_next_link_on_the_services_own_host_is_followed(config, database, replay_server):
    # Absolute, with the scheme in capitals: still the configured service (relative links are
    # followed in the tests below).
    own = f"{replay_server.url}{FIND_A_TENDER.path}?updatedFrom=2026-08-11T07:00:00&updatedTo={WINDOW[1]}"
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], own.replace("http://", "HTTP://"))))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert replay_server.requests_to(FIND_A_TENDER)[1].query["updatedFrom"] == "2026-08-11T07:00:00"
    assert run_of(database, crawler).outcome == crawls.OK


@pytest_twisted.inlineCallbacks
def test_a_redirect_is_not_followed_and_says_where_it_pointed(config, database, replay_server, bystander):
    replay_server.add_fault(
        FIND_A_TENDER,
        Fault(on_request=1, status=302, headers={"Location": f"{bystander.url}/redirected?token=abc"}),
    )
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert bystander.hits == []
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1  # not retried either
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        f"the service redirected to {bystander.url} (HTTP 302), and redirects are not followed; "
        "check the source's URL (TENDERWATCH_FIND_A_TENDER_URL)"
    )


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize(
    ("next_url", "fetched"),
    [
        (f"{FIND_A_TENDER.path}?cursor=same", 2),  # the first page, then cursor=same once
        # The window's first page itself, its query written in another order and encoding.
        (f"{FIND_A_TENDER.path}?limit=100&updatedTo=2026-08-11T12:00:00&updatedFrom=2026-08-11T06:00:00", 1),
    ],
)
def test_a_next_link_back_to_a_page_already_fetched_fails_instead_of_looping(
    config, database, replay_server, next_url, fetched
):
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], next_url), times=1000))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == fetched
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == (
        "the service's next link repeats a page already fetched in window 2026-08-11 06:00 to 12:00; "
        "its paging is broken, and the next crawl will try again"
    )


@pytest_twisted.inlineCallbacks
def test_a_cursor_that_cycles_between_pages_fails_too(config, database, replay_server):
    first, second = f"{FIND_A_TENDER.path}?cursor=a", f"{FIND_A_TENDER.path}?cursor=b"
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], first), on_request=1))
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], second), on_request=2))
    replay_server.add_fault(FIND_A_TENDER, json_fault(package([], first), on_request=3, times=1000))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 3
    assert "repeats a page already fetched" in run_of(database, crawler).message


@pytest_twisted.inlineCallbacks
def test_the_services_error_text_is_reported_on_one_printable_line(config, database, replay_server):
    replay_server.add_fault(
        FIND_A_TENDER,
        Fault(
            on_request=1,
            status=400,
            headers={"Content-Type": "text/plain"},
            body=b"Bad request:\r\n\x1b[2J  'limit' is wrong\n\nSubject: injected",
        ),
    )
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert run_of(database, crawler).message == (
        "the service rejected the request (HTTP 400): Bad request: [2J 'limit' is wrong Subject: injected"
    )


def gzip_bomb(mebibytes: int) -> bytes:
    """A valid release package of `mebibytes` MiB, gzipped to about a thousandth of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
    parts = [packer.compress(b'{"releases": [], "padding": "')]
    parts += [packer.compress(b"A" * 2**20) for _ in range(mebibytes)]
    parts += [packer.compress(b'"}'), packer.flush()]
    return b"".join(parts)


@pytest_twisted.inlineCallbacks
def test_a_gzip_bomb_is_cut_off_at_the_page_size_limit_and_fails_the_crawl(config, database, replay_server):
    bomb = gzip_bomb(100)  # 100 KB on the wire, 100 MiB inflated: over the 64 MiB limit
    gzipped = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, headers=gzipped, body=bomb))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1  # not fetched again
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == TOO_LARGE.format(limit="64 MiB")


TOO_LARGE = (
    "a page was larger than {limit}, the most tenderwatch reads of one page (a real one is about "
    "1 MB); check the source's URL (TENDERWATCH_FIND_A_TENDER_URL)"
)


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("content_length", [True, False], ids=["announced", "unannounced"])
def test_a_page_over_the_size_limit_is_not_read_to_the_end(config, database, replay_server, content_length):
    big = package([], None)[:-1] + b', "padding": "' + b"A" * 3 * 2**20 + b'"}'
    replay_server.add_fault(
        FIND_A_TENDER, dataclasses.replace(json_fault(big), content_length=content_length)
    )
    crawler = yield crawl_fts(config, replay_server, *WINDOW, DOWNLOAD_MAXSIZE=2**20)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1
    assert run_of(database, crawler).message == TOO_LARGE.format(limit="1 MiB")


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize(
    ("before", "after"), [(b'{"releases": [', b"]}"), (b'{"releases": [], "x": ', b"}")], ids=["in", "beside"]
)
def test_json_nested_too_deeply_to_read_is_an_unreadable_page(config, database, replay_server, before, after):
    body = before + b"[" * 100_000 + b"]" * 100_000 + after
    replay_server.add_fault(FIND_A_TENDER, json_fault(body, times=10))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 4  # the first try and 3 retries
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message == "unreadable page after retries: JSON nested too deeply (over 1,000 levels)"


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("links", [["next"], "https://x", 5, {"next": 5}])
def test_links_that_are_no_object_with_a_next_url_are_an_unreadable_page(
    config, database, replay_server, links
):
    body = json.dumps({"releases": [], "links": links}).encode()
    replay_server.add_fault(FIND_A_TENDER, json_fault(body, times=10))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 4  # the first try and 3 retries
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED  # not "interrupted", a mere warning, on every crawl
    assert run.message == "unreadable page after retries: its 'links' are not an object with a 'next' URL"


# ------------------------------------------------------------------------------ malformed releases

CONTACT = "contact-details-marker-7f3a"  # stands for a contact's details: never in a log or notice


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def with_tender(release: dict, **fields) -> dict:
    return {**release, "tender": {**release["tender"], **fields}}


# Each turns a recorded release into a malformed one. Lenient: normalised as far as it can be, and
# stored. Left out: the store cannot keep it (PostgreSQL would refuse the batch, orjson cannot write it).
LENIENT = {
    "tag is a number": lambda r: {**r, "tag": 5},
    "tag is one string": lambda r: {**r, "tag": "tender"},
    "title is an object": lambda r: with_tender(r, title={"contact": CONTACT}),
    "status too long for the store": lambda r: with_tender(r, status="active " * 10),
    "currency is not a code": lambda r: with_tender(r, value={"amount": 5e4, "currency": "pounds sterling"}),
    "notice type too long": lambda r: with_tender(r, documents=[{"id": r["id"], "noticeType": "UK4" * 10}]),
    "roles is a number": lambda r: {**r, "buyer": None, "parties": [{"name": "Borough", "roles": 5}]},
    "document type is an object": lambda r: {
        **with_tender(r, documents=[{"documentType": {"x": 1}}]),
        "tag": ["planning"],
    },
    "date out of range": lambda r: {**r, "date": "9999-12-31T23:00:00-05:00"},
    # PostgreSQL refuses NUL in text: once written to the contracts table, it failed every crawl.
    "award id holds a NUL": lambda r: {**r, "awards": [{**r["awards"][0], "id": "1\x00"}, *r["awards"][1:]]},
}
# The recorded release each is made from, where not a UK4 tender notice (075968-2026, 07:53).
RECORDED = {"award id holds a NUL": "076165-2026"}  # a UK6 award notice, 11:59, with one award
# What lenient normalisation makes of them, where it differs from the recorded release.
NOTICE_READ = {
    "status too long for the store": {"status": None, "is_opportunity": False},
    "currency is not a code": {"value_amount": 5e4, "value_currency": None},
    "notice type too long": {"notice_type": "UK4"},  # from the tag, as its document names none
    "document type is an object": {"notice_type": "UK2"},  # not a planned procurement
    "title is an object": {"title": "(untitled notice 999001-2026)"},
    "roles is a number": {"buyer_name": None},  # no party is a buyer
}
TAGS_STORED = {"tag is a number": "", "tag is one string": "tender", "document type is an object": "planning"}
AWARDS_STORED = {"award id holds a NUL": ["1"]}  # the contracts the notice states, by award id
LEFT_OUT = {
    "id is an object": lambda r: {**r, "id": {"contact": CONTACT}},
    "ocid too long for the store": lambda r: {**r, "ocid": f"{CONTACT} " * 20},
    "nested deeper than orjson writes": lambda r: {**r, "extension": nested(300)},
    # Read by the standard library, as 1e9999 ("unlimited") on its page stops orjson: it keeps the
    # integer whole, and orjson cannot write it back.
    "integer over 64 bits": lambda r: with_tender(r, value={"amount": 10**30}, maximumLots=float("inf")),
}


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("malformed", [*LENIENT, *LEFT_OUT])
def test_a_malformed_release_cannot_block_its_source(config, database, replay_server, caplog, malformed):
    releases = replay_server.releases[FIND_A_TENDER]
    others = releases_in(replay_server, FIND_A_TENDER, *WINDOW)
    recorded = next(r for r in releases if r["id"] == RECORDED.get(malformed, "075968-2026"))
    poison = (LENIENT | LEFT_OUT)[malformed]({**recorded, "id": "999001-2026"})
    releases.insert(releases.index(recorded), poison)
    caplog.set_level(logging.WARNING)
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    run = run_of(database, crawler)
    assert run.outcome == crawls.OK
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk(WINDOW[1])  # not stuck before it
    kept = set(stored(database, "find_a_tender"))
    assert others <= kept
    if malformed in LENIENT:
        assert run.errors == 0
        with database.reading() as session:
            tags = session.scalar(select(ReleaseRow.tags).where(ReleaseRow.release_id == "999001-2026"))
            row = session.scalar(select(NoticeRow).where(NoticeRow.source_id == "999001-2026"))
            notice = notice_from_row(row)
            awards = session.scalars(select(ContractRow.award_id).where(ContractRow.notice_id == row.id))
            awards = sorted(awards)
        assert tags == TAGS_STORED.get(malformed, ",".join(recorded["tag"]))
        expected = NOTICE_READ.get(malformed, {})
        assert {name: getattr(notice, name) for name in expected} == expected
        if malformed in AWARDS_STORED:
            assert awards == AWARDS_STORED[malformed]
        assert CONTACT not in str(notice_values(notice))
    else:
        assert kept == others
        assert run.errors == 1
        assert "left out" in caplog.text
        assert result_of("find_a_tender", crawler.stats.get_stats(), config).unreadable == 1
        [row] = [line for line in CliRunner().invoke(cli, ["status"]).output.splitlines() if "ok (" in line]
        assert row.startswith("find_a_tender") and " new, 0 changed, 1 unreadable)" in row
    assert CONTACT not in caplog.text


@pytest_twisted.inlineCallbacks
def test_a_notice_that_cannot_be_compiled_keeps_its_releases_and_the_crawl_goes_on(
    config, database, replay_server, caplog, monkeypatch
):
    # No malformed release is known to break compiling any more: this stands in for the next one
    # found, by making normalisation fail on one release as an unforeseen shape would. (A mock, as no
    # real release does it.)
    from store.normalise import ocds

    releases_in_window = releases_in(replay_server, FIND_A_TENDER, *WINDOW)
    broken = sorted(releases_in_window)[0]
    real_buyer_name = ocds.buyer_name

    def buyer_name_failing_on_one(release):
        if release.get("id") == broken:
            raise KeyError(CONTACT)  # as a normaliser's error could quote the data
        return real_buyer_name(release)

    monkeypatch.setattr(ocds, "buyer_name", buyer_name_failing_on_one)
    caplog.set_level(logging.WARNING)
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    run = run_of(database, crawler)
    assert (run.outcome, run.errors) == (crawls.OK, 1)
    assert set(stored(database, "find_a_tender")) == releases_in_window  # every release kept as received
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == uk(WINDOW[1])
        notices = set(session.scalars(select(NoticeRow.source_id)))
    assert broken not in notices and len(notices) == len(releases_in_window) - 1
    logged = f"notice '{broken}' cannot be compiled (KeyError); its releases are kept as received"
    assert logged in caplog.text
    assert CONTACT not in caplog.text


REFUSE_ONE_RELEASE = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON releases WHEN NEW.release_id = '075968-2026' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.release_id = '075968-2026' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON releases FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


@pytest_twisted.inlineCallbacks
def test_a_database_error_still_stops_the_crawl_and_the_watermark(config, database, replay_server):
    # A real error from the database while storing (a trigger standing in for a full disk): unlike
    # bad data, it is not a release to leave out, and nothing moves past the batch.
    with database.writing() as session:
        for statement in REFUSE_ONE_RELEASE[session.get_bind().dialect.name]:
            session.execute(text(statement))
    crawler = yield crawl_fts(config, replay_server, *WINDOW)
    run = run_of(database, crawler)
    assert run.outcome == crawls.FAILED
    assert run.message.startswith("could not store a page: ")
    assert "disk full" in run.message
    assert stored(database, "find_a_tender") == {}
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender") is None
