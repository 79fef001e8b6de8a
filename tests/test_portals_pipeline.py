"""Portal sources go through the whole product like the national ones: crawl, score, digest, status.

A local stand-in for Public Contracts Scotland serves the recorded September 2026 notices with their
dates moved to this week; Sell2Wales answers as it did for weeks in 2026 (HTTP 500).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from scoring import score_notice
from spiders.ocds_months import OcdsMonthSpider, months_touched
from store.db import open_database
from store.queries import get_notice
from tenderwatch.cli import cli
from tests.scoring.helpers import example
from tests.support.month_server import MonthFault, MonthServer
from tests.support.recorded import cassette_releases, shifted

RECORDED_DAY = datetime(2026, 9, 18, tzinfo=UTC)  # the newest release's date


def recent_releases() -> list[dict]:
    """The recorded contract notices, moved so the newest was published this morning."""
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return shifted(cassette_releases("public_contracts_scotland_2026-09_102"), now - RECORDED_DAY)


def tenderwatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenderwatch", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.fixture
def scotland():
    now = datetime.now(UTC)
    months = months_touched(now - OcdsMonthSpider.late_by, now)
    releases = recent_releases()
    with MonthServer(releases={(month, "102"): releases for month in months}) as server:
        yield server


def test_a_portal_is_crawled_scored_and_sent_like_the_national_services(env, scotland, tmp_path, monkeypatch):
    scotland_env = {
        "TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND_URL": scotland.url,
        "TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND_ENABLED": "true",
    }
    crawled = tenderwatch("crawl", "public_contracts_scotland", **scotland_env)
    assert crawled.returncode == 0, crawled.stderr
    # A page per notice type of each month the crawl touches: two in a month's first week.
    pages = len(scotland.asked())
    assert pages == 3 * len({month for month, _ in scotland.asked()})
    said = f"public_contracts_scotland: ok, {pages} pages, 62 releases, 62 new and 0 changed notices"
    assert said in crawled.stdout
    for name, value in scotland_env.items():
        monkeypatch.setenv(name, value)  # for the in-process commands below
    runner = CliRunner()
    out = tmp_path / "digest.html"
    digest = runner.invoke(cli, ["digest", "--dry-run", "--output", str(out)], catch_exceptions=False)
    assert digest.exit_code == 0, digest.output
    html = out.read_text()
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        survey = get_notice(session, "public_contracts_scotland:SEP564523")
        works = get_notice(session, "public_contracts_scotland:SEP564850")
    database.close()
    assert score_notice(survey, example()).band != "none"  # 'Have Your Say' social research
    assert score_notice(works, example()).band == "none"  # an exhibition fit-out: works
    assert "Have Your Say Social Services Research and Report" in html
    assert "https://www.publiccontractsscotland.gov.uk/search/show/search_view.aspx?ID=SEP564523" in html
    assert "Public Contracts Scotland" in html
    assert "Immersive Theater Installation" not in html
    status = runner.invoke(cli, ["status"])
    assert "public_contracts_scotland" in status.output
    shown = runner.invoke(cli, ["show", "public_contracts_scotland:SEP564523"])
    assert "Scottish Social Services Council" in shown.output
    exported = runner.invoke(cli, ["export", "--source", "public_contracts_scotland"])
    assert exported.output.count('"source": "public_contracts_scotland"') == 62


def test_a_failing_portal_is_a_failed_source_in_status_and_the_digest(env, tmp_path, monkeypatch):
    error = b"Error converting data type nvarchar to float."
    with MonthServer(faults=[MonthFault(1, 500, error, times=20)]) as wales:
        wales_env = {"TENDERWATCH_SELL2WALES_URL": wales.url, "TENDERWATCH_SELL2WALES_ENABLED": "true"}
        crawled = tenderwatch("crawl", "sell2wales", **wales_env)
    assert crawled.returncode == 1
    assert crawled.stderr.strip().endswith(
        "sell2wales: FAILED: the service failed (HTTP 500): Error converting data type nvarchar to float.; "
        "it may be down, and the next crawl will try again"
    )
    assert "Traceback" not in crawled.stderr
    for name, value in wales_env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 1
    assert "sell2wales" in status.output and "HTTP 500" in status.output
    out = tmp_path / "digest.html"
    runner.invoke(cli, ["digest", "--dry-run", "--output", str(out)], catch_exceptions=False)
    html = out.read_text()
    assert "Sell2Wales" in html and "HTTP 500" in html
