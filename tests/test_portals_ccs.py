"""Crown Commercial Service's agreement pipeline: spiders/json_pages.py and its normaliser.

Unverified against the live service: the pages are written from the API's documented fields
(tests/fixtures/written/README.md) and served on 127.0.0.1.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import func, select

from notify.render import safe_link
from scoring import score_notice
from spiders.crown_commercial_service import CrownCommercialService
from store import crawls
from store.models import NoticeRow
from store.queries import get_notice
from tenderwatch import config as configuration
from tenderwatch.errors import ConfigError
from tests.scoring.helpers import example
from tests.support.crawling import crawl, run_of, uk
from tests.support.pages_server import Page, PagesServer

WRITTEN = Path(__file__).resolve().parent / "fixtures" / "written"
FIRST, SECOND = "/api/frameworks?limit=100&page=1", "/api/frameworks?limit=100&page=2"


def ccs_pages() -> dict[str, Page]:
    return {
        FIRST: Page((WRITTEN / "ccs_frameworks_page-1.json").read_bytes()),
        SECOND: Page((WRITTEN / "ccs_frameworks_page-2.json").read_bytes()),
    }


WINDOW = {"start": uk("2026-12-05T06:00:00"), "end": uk("2026-12-06T06:00:00")}


@pytest_twisted.inlineCallbacks
def test_the_whole_list_is_read_page_by_page_and_each_agreement_kept_once(config, database):
    with PagesServer(pages=ccs_pages()) as server:
        first = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
        again = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    assert server.requests == [FIRST, SECOND, FIRST, SECOND]
    assert server.user_agents[0].startswith("tenderwatch/")
    assert (run_of(database, first).outcome, run_of(database, first).new) == (crawls.OK, 4)
    assert (run_of(database, again).new, run_of(database, again).changed) == (0, 0)
    with database.reading() as session:
        keys = set(
            session.scalars(select(NoticeRow.key).where(NoticeRow.source == "crown_commercial_service"))
        )
    assert keys == {f"crown_commercial_service:{n}" for n in (4012, 3987, 3150, 4101)}  # the record ids


@pytest_twisted.inlineCallbacks
def test_a_page_that_starts_with_a_byte_order_mark_is_read(config, database):
    pages = ccs_pages()
    pages[FIRST] = Page(codecs.BOM_UTF8 + pages[FIRST].body)  # once: "not JSON", the source failed
    with PagesServer(pages=pages) as server:
        crawler = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    assert server.requests == [FIRST, SECOND]
    assert (run_of(database, crawler).outcome, run_of(database, crawler).new) == (crawls.OK, 4)


@pytest_twisted.inlineCallbacks
def test_pipeline_agreements_are_early_warnings_read_as_written(config, database):
    with PagesServer(pages=ccs_pages()) as server:
        yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    with database.reading() as session:
        planned = get_notice(session, "crown_commercial_service:4012")  # RM6400
        underway = get_notice(session, "crown_commercial_service:3987")  # RM6380
        live = get_notice(session, "crown_commercial_service:3150")  # RM6309
        first_seen = session.scalar(select(NoticeRow.first_seen).where(NoticeRow.key == planned.id))
    assert planned.title == "Management Consultancy Framework Five (RM6400)"
    assert (planned.stage, planned.status, planned.is_opportunity, planned.framework) == (
        "planning",
        "planned",
        False,
        True,
    )
    assert planned.description.startswith("A framework for management consultancy services to the public")
    assert "<" not in planned.description  # its HTML read as text
    assert planned.future_notice_date == uk("2027-03-01T00:00:00") and planned.deadline is None
    assert [lot.title for lot in planned.lots] == [
        "Business, Strategy and Policy",
        "Health, Social Care and Community",
    ]
    assert planned.buyer_name == "Crown Commercial Service"
    assert planned.url == "https://www.crowncommercial.gov.uk/agreements/RM6400"
    assert safe_link(planned) == planned.url  # built by the normaliser on CCS's own site
    assert planned.procedure == "Upcoming framework: Planned (Pipeline) (PA2023)"
    assert planned.published_at == first_seen  # the API dates nothing: published when first seen
    assert underway.deadline == uk("2027-01-15T23:59:59")  # its tender is open: the end of the closing day
    assert (live.stage, live.status) == ("contract", "live")


def test_an_agreement_awarded_but_not_yet_live_is_no_early_warning():
    from store.normalise import FORMATS

    page = json.loads((WRITTEN / "ccs_frameworks_page-1.json").read_text())
    record = next(r for r in page["results"] if r["status"] == "Planned (Pipeline)")
    awarded = FORMATS["crown_commercial_service"].to_notice({**record, "status": "Awarded (Pipeline)"})
    assert (awarded.stage, awarded.status, awarded.deadline) == ("award", "awarded (pipeline)", None)
    assert awarded.procedure == "Framework: Awarded (Pipeline) (PA2023)"


@pytest_twisted.inlineCallbacks
def test_the_example_profile_wants_the_consultancy_and_research_pipeline_not_facilities(config, database):
    with PagesServer(pages=ccs_pages()) as server:
        yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    with database.reading() as session:
        rm_numbers = {"RM6400": 4012, "RM6380": 3987, "RM6410": 4101, "RM6309": 3150}
        bands = {
            rm: score_notice(get_notice(session, f"crown_commercial_service:{key}"), example()).band
            for rm, key in rm_numbers.items()
        }
    assert bands["RM6400"] == "strong" and bands["RM6380"] != "none"
    assert bands["RM6410"] == "none"  # facilities management
    assert bands["RM6309"] == "none"  # live: let already, not an early warning


@pytest_twisted.inlineCallbacks
def test_a_changed_api_and_an_empty_list_fail_the_source(config, database):
    reshaped = {FIRST: Page(b'{"data": []}')}
    with PagesServer(pages=reshaped) as server:
        changed = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    assert run_of(database, changed).outcome == crawls.FAILED
    assert run_of(database, changed).message == (
        "unreadable page after retries: not the list expected (no 'results' list)"
    )
    with PagesServer(pages={FIRST: Page(b'{"results": [], "meta": {"last_page": 1}}')}) as server:
        empty = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    assert run_of(database, empty).message == "the service listed nothing at all; it may be failing quietly"


@pytest_twisted.inlineCallbacks
def test_a_list_that_answers_the_same_page_again_fails_the_source(config, database):
    """A service that ignores `page` answers page 1 every time: the rest of the list was never read,
    and the crawl said ok."""
    first = (WRITTEN / "ccs_frameworks_page-1.json").read_bytes()
    with PagesServer(pages={FIRST: Page(first), SECOND: Page(first)}) as server:
        crawler = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    run = run_of(database, crawler)
    assert (run.outcome, run.new) == (crawls.FAILED, 3)  # page 1's agreements are kept
    assert run.message == (
        "page 2 of the list repeats page 1, so the rest of the list cannot be read; "
        "its paging looks broken, and the next crawl will try again"
    )


@pytest_twisted.inlineCallbacks
def test_every_request_says_the_configured_user_agent(config, database, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_USER_AGENT", "tenderwatch (redacted@redacted.invalid)")
    configured = configuration.load()
    assert configured.crawl.user_agent == "tenderwatch (redacted@redacted.invalid)"
    with PagesServer(pages=ccs_pages()) as server:
        yield crawl(configured, CrownCommercialService, base_url=server.url, **WINDOW)
    assert set(server.user_agents) == {"tenderwatch (redacted@redacted.invalid)"}
    monkeypatch.setenv("TENDERWATCH_USER_AGENT", "two\nlines")
    with pytest.raises(ConfigError, match="environment variable TENDERWATCH_USER_AGENT: "):
        configuration.load()


@pytest_twisted.inlineCallbacks
def test_an_agreement_that_gets_its_rm_number_later_stays_one_notice(config, database):
    early = json.loads((WRITTEN / "ccs_frameworks_page-1.json").read_text())
    early["results"][0].update(rm_number=None)  # in the pipeline before it was numbered
    early["meta"]["last_page"] = 1
    with PagesServer(pages={FIRST: Page(json.dumps(early).encode())}) as server:
        yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    with PagesServer(pages=ccs_pages()) as server:
        later = yield crawl(config, CrownCommercialService, base_url=server.url, **WINDOW)
    assert (run_of(database, later).new, run_of(database, later).changed) == (1, 1)  # RM6410 new
    with database.reading() as session:
        numbered = get_notice(session, "crown_commercial_service:4012")
        count = session.scalar(
            select(func.count()).select_from(NoticeRow).where(NoticeRow.source == "crown_commercial_service")
        )
    assert numbered.title == "Management Consultancy Framework Five (RM6400)" and count == 4
