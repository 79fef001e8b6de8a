"""A hostile or compromised API: what it sends must not steer the crawler, exhaust the machine or
block a source, and what the crawl reports must not repeat what it sent.

Real crawls against the local replay server (tests/support/replay_server.py), whose faults play the
hostile service, and a bystander on another local address that must never be reached.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterator

import pytest
import pytest_twisted

from store import crawls
from store.models import SourceState
from tests.support.bystander import Bystander
from tests.support.replay_server import FIND_A_TENDER, Fault
from tests.test_crawl_faults import crawl_fts, run_of

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
