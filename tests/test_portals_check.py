"""`tenderwatch sources check`: one small live request per source, against local stand-ins.

Each check runs `tenderwatch` as a real subprocess (Scrapy's reactor runs once per process).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from spiders.check import PERIOD
from spiders.ocds_months import OcdsMonthSpider, months_touched
from store.db import open_database
from store.models import NoticeRow
from store.notice import LONDON
from tests.support.month_server import MonthFault, MonthServer
from tests.support.receivers import free_port
from tests.support.recorded import cassette_releases

PCS = "TENDERWATCH_PUBLIC_CONTRACTS_SCOTLAND"
WALES = "TENDERWATCH_SELL2WALES"


def check(*sources: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tenderwatch", "sources", "check", *sources],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def this_month_served() -> dict:
    """The recorded contract notices, served for every month a check made now asks for."""
    now = datetime.now(UTC)
    releases = cassette_releases("public_contracts_scotland_2026-09_102")
    # The check's own period, then the spider's look back: on the 8th, that reaches the month before.
    start = now - PERIOD - OcdsMonthSpider.late_by
    return {(month, "102"): releases for month in months_touched(start, now)}


def test_a_source_with_the_expected_shape_is_ok_and_nothing_is_stored(env):
    with MonthServer(releases=this_month_served()) as server:
        result = check("public_contracts_scotland", **{f"{PCS}_URL": server.url})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "public_contracts_scotland: ok: 62 notices on the first page, all readable "
        "(the first: 'Immersive Theater Installation and Exhibition Alterations')\n"
    )
    assert len(server.requests) == 1  # one small request
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(NoticeRow)) == 0
    database.close()


def test_a_changed_shape_an_empty_answer_and_an_unreachable_host_each_say_so_and_exit_1(env):
    changed = MonthFault(1, 200, b'{"notices": []}', "application/json", times=5)
    with MonthServer(faults=[changed]) as reshaped, MonthServer() as empty:
        result = check(
            "public_contracts_scotland",
            "sell2wales",
            **{f"{PCS}_URL": reshaped.url, f"{WALES}_URL": empty.url},
        )
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "public_contracts_scotland: CHANGED: unreadable page after retries: "
        "not an OCDS release package (no 'releases' list)",
        "sell2wales: EMPTY: the answer held no notices, where recent ones were expected",
    ]
    port = free_port()
    refused = check("sell2wales", **{f"{WALES}_URL": f"http://127.0.0.1:{port}"})
    assert refused.returncode == 1
    assert refused.stdout.startswith(
        f"sell2wales: FAILED: cannot reach http://127.0.0.1:{port} (connection refused)"
    )


def test_every_enabled_source_is_checked_by_default_and_an_unknown_one_is_refused(env):
    with MonthServer(releases=this_month_served()) as server:
        result = check(
            **{
                f"{PCS}_URL": server.url,
                f"{PCS}_ENABLED": "true",
                "TENDERWATCH_FIND_A_TENDER_ENABLED": "false",
                "TENDERWATCH_CONTRACTS_FINDER_ENABLED": "false",
            }
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("public_contracts_scotland: ok: ")
    unknown = check("scotland")
    assert unknown.returncode == 2 and "scotland" in unknown.stderr and "Traceback" not in unknown.stderr


@pytest.mark.above_the_store(reason="the check asks the service and stores nothing")
def test_the_check_uses_a_recent_period(env):
    with MonthServer(releases=this_month_served()) as server:
        result = check("public_contracts_scotland", **{f"{PCS}_URL": server.url})
    today = datetime.now(UTC).astimezone(LONDON)
    last_month = today.replace(day=1) - timedelta(days=1)
    asked = {month for month, _ in server.asked()}
    assert asked and asked <= {f"{today:%m-%Y}", f"{last_month:%m-%Y}"}, (asked, result.stdout)
