"""The command line: exit codes, one-line errors, and the round trip of export and import.

Crawls run `tenderwatch` as a real subprocess (Scrapy's reactor runs once per process) against the
local replay server; the other commands run in-process through click's CliRunner.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from store.db import open_database
from store.ingest import store_releases
from store.models import CrawlRun, NoticeChange, NoticeRow, ReleaseRow
from store.notice import LONDON
from store.queries import get_notice
from tenderwatch.cli import cli
from tests.support.cli import TENDERWATCH, tenderwatch
from tests.support.recorded import cassette_releases

CHECKED_BEFORE_THE_STORE = "help, usage and configuration are checked before the store is opened"


def crawl_morning(server, *sources: str, env_extra: dict[str, str] | None = None):
    """`tenderwatch crawl` of 11 August 2026, 06:00-12:00 UK time (203 recorded releases), from server."""
    return tenderwatch(
        "crawl",
        *(sources or ("find_a_tender",)),
        "--from",
        "2026-08-11T06:00",
        "--to",
        "2026-08-11T12:00",
        env_extra={"TENDERWATCH_FIND_A_TENDER_URL": server.url, **(env_extra or {})},
    )


def import_notices(tmp_path: Path, *notices: dict):
    """`tenderwatch import` of these notices, one per line of a JSONL file."""
    path = tmp_path / "calloffs.jsonl"
    path.write_text("".join(json.dumps(notice) + "\n" for notice in notices))
    return CliRunner().invoke(cli, ["import", str(path)])


CALL_OFF = {"source": "email", "source_id": "x", "title": "Call-off"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def count(db_url: str, model) -> int:
    database = open_database(db_url)
    try:
        with database.reading() as session:
            return session.scalar(select(func.count()).select_from(model))
    finally:
        database.close()


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_help_describes_every_command(env):
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("crawl", "sources", "notices", "show", "export", "import", "run"):
        assert name in result.output
        sub = CliRunner().invoke(cli, [name, "--help"])
        assert sub.exit_code == 0 and len(sub.output.splitlines()) > 3


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize("group", [[], ["db"], ["feedback"], ["notify"], ["rules"], ["web"]])
def test_every_command_is_summed_up_in_whole_in_its_groups_help(env, group):
    result = CliRunner().invoke(cli, [*group, "--help"])  # 80 columns, as in a plain terminal
    listed = result.output.split("Commands:")[1].splitlines()
    assert len(listed) > 1 and not [line for line in listed if line.rstrip().endswith("...")]


OURS = "tenderwatch: "  # tenderwatch's own check: its one line, nothing else
CLICKS = "Error: "  # a value click checks: its usage and help lines, then the one line saying what is wrong


@pytest.mark.parametrize(
    ("args", "said_by", "message"),
    [
        (
            ["crawl", "nosuch"],
            OURS,
            "unknown source 'nosuch': known sources are contracts_finder, crown_commercial_service, "
            "digital_outcomes, find_a_tender, public_contracts_scotland, sell2wales",
        ),
        (
            ["crawl", "feeds"],
            OURS,
            "no feed is configured: list each RSS or Atom feed as [[feeds]] with a name",
        ),
        (["crawl", "--from", "2026-13-01"], CLICKS, "'2026-13-01' is not a date"),
        (
            ["crawl", "--from", "2026-08-12", "--to", "2026-08-11"],
            OURS,
            "--from (2026-08-12 00:00) must be before",
        ),
        (["show", "find_a_tender:000000-2020"], OURS, "no notice 'find_a_tender:000000-2020'"),
        (
            ["crawl", "--from", "2026-03-29T01:30", "--to", "2026-03-29T02:30"],
            CLICKS,
            "'2026-03-29T01:30' does not exist in UK time: the clocks go forward an hour that night and skip "
            "it; write 2026-03-29T02:30 (BST) or 2026-03-29T01:30+00:00 (GMT), which are the same moment",
        ),
        # A negative limit once listed everything, as 0 does.
        (["notices", "--limit", "-5"], CLICKS, "Invalid value for '--limit': -5 is not in the range x>=0"),
        (
            ["feedback", "list", "--limit", "-1"],
            CLICKS,
            "Invalid value for '--limit': -1 is not in the range x>=0",
        ),
        (["backtest", "--limit", "-1"], CLICKS, "Invalid value for '--limit': -1 is not in the range x>=0"),
        (
            ["rules", "suggest", "--limit", "-1"],
            CLICKS,
            "Invalid value for '--limit': -1 is not in the range x>=0",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_code_2(env, args, said_by, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    [said] = [line for line in lines if message in line]  # the whole of it on one line
    assert said.startswith(said_by), result.output
    if said_by == OURS:
        assert lines == [said], result.output
    else:
        assert lines[0].startswith("Usage: ") and lines[-1] == said, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["notices"],
        ["notices", "--band", "strong"],
        ["opportunities"],
        ["backtest"],
        ["feedback", "list"],
        ["rules", "suggest"],
    ],
)
def test_a_limit_larger_than_the_database_can_count_lists_everything(env, tmp_path, args):
    # "As many as there are": 20 nines once reached SQLite as an OverflowError and a traceback.
    import_notices(tmp_path, CALL_OFF)
    result = CliRunner().invoke(cli, [*args, "--limit", "9" * 20])
    assert "Traceback" not in result.output and not isinstance(result.exception, OverflowError)
    assert result.exit_code == 0, result.output
    everything = CliRunner().invoke(cli, [*args, "--limit", "0"])
    assert result.output == everything.output


def test_a_backfill_in_the_hour_the_clocks_go_back_covers_both_of_its_times(env, replay_server):
    from tests.support.replay_server import FIND_A_TENDER

    # 01:30 happened twice on 26 October 2025: --from reads the first (BST), --to the second (GMT).
    result = tenderwatch(
        "crawl",
        "find_a_tender",
        "--from",
        "2025-10-26T01:30",
        "--to",
        "2025-10-26T01:30",
        env_extra={"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
    )
    assert result.returncode == 0, result.stderr
    served, again = replay_server.requests_to(FIND_A_TENDER)  # nothing there: asked once more
    assert again.query == served.query
    # Each boundary in the repeated hour is widened by an hour again, as the service reads local times.
    assert (served.query["updatedFrom"], served.query["updatedTo"]) == (
        "2025-10-26T00:30:00",
        "2025-10-26T02:30:00",
    )


def test_answers_cut_off_every_time_fail_in_one_line_without_scrapys_advice(env, replay_server):
    from tests.support.replay_server import FIND_A_TENDER, Fault

    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, dropped=True, times=100))
    result = tenderwatch(
        "crawl",
        "find_a_tender",
        "--from",
        "2026-08-11T06:00",
        "--to",
        "2026-08-11T12:00",
        env_extra={"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
    )
    assert result.returncode == 1
    said = result.stdout + result.stderr
    fetching, failed = result.stderr.strip().splitlines()  # "fetching ..." and the one line saying why
    assert fetching.startswith("find_a_tender: fetching ") and result.stdout == ""
    assert failed == (
        f"find_a_tender: FAILED: {replay_server.url} cut its answer off part-way each time it was asked; "
        "nothing of that page is kept, and the next crawl will try again"
    )
    assert "cannot reach" not in said  # it was reached
    assert "DOWNLOAD_FAIL_ON_DATALOSS" not in said  # Scrapy's advice would keep broken pages


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_malformed_config_file_names_the_file_and_line(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_text('[sources.find_a_tender]\ndelay = "fast"\n[crawl\n')
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert "tenderwatch.toml: not valid TOML" in result.output and "line 3" in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_config_file_saved_with_a_byte_order_mark_is_read(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_bytes(codecs.BOM_UTF8 + b"[web]\nport = 8081\n")
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 0, result.output
    from tenderwatch import config as configuration

    assert configuration.load().web.port == 8081


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize(
    ("text", "line", "advice"),
    [
        # tomllib says only "at end of document" here, or names the line where it gave up.
        ('log_level = "INFO"\n[schedule]\ndigest_at = ["07:30",\n  "12:00"\n', 3, "add its ']'"),
        ('[schedule]\ndigest_at = ["07:30",\n  "12:00"\n[crawl]\ntimeout_seconds = 30\n', 2, "add its ']'"),
        ('[digest]\ntoo_soon = """brief\n', 2, "add its closing quotes"),
    ],
)
def test_a_list_or_text_left_open_in_the_config_file_names_the_line_it_opens_on(
    env, tmp_path, text, line, advice
):
    (tmp_path / "tenderwatch.toml").write_text(text)
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert "tenderwatch.toml: not valid TOML" in result.output
    assert f"opened on line {line} is not closed; {advice}" in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize(
    "args", [["--help"], ["crawl", "--help"], ["rules", "check", "--help"], ["db", "copy", "-h"]]
)
def test_help_works_whatever_the_config_file_says(env, tmp_path, args):
    (tmp_path / "tenderwatch.toml").write_text("foo = [\n")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_channel_for_an_unknown_profile_names_the_file_and_channel(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_text(
        '[[channels]]\nname = "bids"\nurl = "json://127.0.0.1"\nprofile = "zzz"\n'
    )
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert (
        "tenderwatch.toml: [[channels]] #1: unknown profile 'zzz'; configured profiles are example"
        in result.output
    )


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_bad_config_value_names_the_key(env, tmp_path, monkeypatch):
    monkeypatch.delenv("TENDERWATCH_FIND_A_TENDER_DELAY")  # the environment would win over the file
    (tmp_path / "tenderwatch.toml").write_text('[sources.find_a_tender]\ndelay = "fast"\n')
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert "tenderwatch.toml: [sources.find_a_tender] delay must be a number, not 'fast'" in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize(
    ("setting", "minimum"),
    [
        # Each once read as 0 and failed every crawl with "--to ... is before ...".
        ("initial_lookback_hours = 0", 1),
        ("initial_lookback_hours = 0.5", 1),
        ("timeout_seconds = 0", 1),
        ("max_rate_limit_wait = 0", 1),
        ("overlap_minutes = 2.5", 0),  # once cut to 2 in silence
    ],
)
def test_a_crawl_setting_that_is_no_whole_number_in_range_is_refused_naming_the_key(
    env, tmp_path, setting, minimum
):
    (tmp_path / "tenderwatch.toml").write_text(f"[crawl]\n{setting}\n")
    result = tenderwatch("crawl", "find_a_tender")
    assert result.returncode == 2
    key, value = setting.split(" = ")
    assert result.stderr.splitlines() == [
        f"tenderwatch: tenderwatch.toml: [crawl] {key} must be a whole number of at least {minimum}, "
        f"not {value}"
    ]
    assert count(env["TENDERWATCH_DB_URL"], CrawlRun) == 0


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_bad_environment_value_names_the_variable(env, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_CONTRACTS_FINDER_URL", "ftp://example.org")
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert "environment variable TENDERWATCH_CONTRACTS_FINDER_URL must be an http(s) URL" in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://host.example:99999", "its port must be a number from 1 to 65535"),
        ("http://[::1", "its host cannot be read (an IPv6 address is written in [ ])"),
        ("https://exa mple.com", "it holds a space or an unprintable character"),
        (
            "https://host.example?page=2",
            "a source's URL is its service's address, without ?query or #fragment",
        ),
    ],
)
def test_a_source_url_no_crawl_could_fetch_is_refused_at_start_naming_its_variable(env, url, problem):
    # Each once passed the config and crashed the crawl with a traceback, recording the run as
    # interrupted, which the daemon retried on every tick.
    result = tenderwatch("crawl", "find_a_tender", env_extra={"TENDERWATCH_FIND_A_TENDER_URL": url})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"tenderwatch: environment variable TENDERWATCH_FIND_A_TENDER_URL must be an http(s) URL, "
        f"not '{url}': {problem}"
    ]
    assert count(env["TENDERWATCH_DB_URL"], CrawlRun) == 0  # no crawl started, none recorded


def test_a_source_url_in_the_file_is_checked_as_well(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_text('[sources.contracts_finder]\nurl = "https://host.example:0"\n')
    result = CliRunner().invoke(cli, ["sources"])
    assert result.exit_code == 2
    assert result.output == (
        "tenderwatch: tenderwatch.toml: [sources.contracts_finder] url must be an http(s) URL, "
        "not 'https://host.example:0': its port must be a number from 1 to 65535\n"
    )


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
def test_a_source_url_with_a_password_is_refused_without_repeating_it(env):
    url = f"http://bids:pw-7f3a@127.0.0.1:{closed_port()}"  # a password that must be shown nowhere
    result = tenderwatch("crawl", "find_a_tender", env_extra={"TENDERWATCH_FIND_A_TENDER_URL": url})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tenderwatch: environment variable TENDERWATCH_FIND_A_TENDER_URL must not hold a user name or "
        "password (user:password@): the sources are public, and tenderwatch would show them in its messages"
    ]
    assert "pw-7f3a" not in result.stdout + result.stderr
    assert count(env["TENDERWATCH_DB_URL"], CrawlRun) == 0


def test_unreachable_sources_fail_fast_with_one_line_each(env):
    result = tenderwatch(
        "--verbose",  # Scrapy's statistics for each crawl: its requests and its own time
        env_extra={
            "TENDERWATCH_FIND_A_TENDER_URL": f"http://127.0.0.1:{closed_port()}",
            "TENDERWATCH_CONTRACTS_FINDER_URL": "http://tenderwatch-test.invalid",
        },
    )
    # Fast: one request each, not retried, and neither crawl waits out a timeout (DNS_TIMEOUT is
    # 10 s). The crawls' own time, not the command's: starting Python and Scrapy once took over 20 s
    # on a loaded machine, though each crawl was over in half a second.
    assert re.findall(r"'downloader/request_count': (\d+)", result.stderr) == ["1", "1"], result.stderr
    assert "Retrying" not in result.stderr
    crawl_seconds = [float(s) for s in re.findall(r"'elapsed_time_seconds': ([\d.]+)", result.stderr)]
    assert len(crawl_seconds) == 2 and max(crawl_seconds) < 10, crawl_seconds
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "FAILED" in line]
    assert len(lines) == 2, result.stderr
    assert (
        "find_a_tender: FAILED: cannot reach http://127.0.0.1" in lines[0]
        and "connection refused" in lines[0]
    )
    assert (
        "contracts_finder: FAILED: cannot reach http://tenderwatch-test.invalid (DNS lookup failed)"
        in lines[1]
    )
    assert "Traceback" not in result.stderr


def test_an_unreadable_page_is_one_summary_line_without_scrapys_own_messages(env, replay_server):
    from tests.support.replay_server import FIND_A_TENDER, Fault

    html = b"<html><body>Service unavailable</body></html>"
    replay_server.add_fault(FIND_A_TENDER, Fault(on_request=1, body=html, times=10))
    result = crawl_morning(replay_server)
    assert result.returncode == 1
    assert "find_a_tender: FAILED: unreadable page after retries" in result.stderr
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 4  # it was fetched again, 3 times
    assert "meta keys" not in result.stderr and "Gave up retrying" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2, result.stderr  # "fetching ..." and the summary


def test_crawl_then_list_show_and_export(env, replay_server):
    result = crawl_morning(replay_server)
    assert result.returncode == 0, result.stderr
    assert "find_a_tender: ok, 3 pages, 203 releases, 203 new and 0 changed notices" in result.stdout
    runner = CliRunner()
    sources = runner.invoke(cli, ["sources"])
    assert "find_a_tender              on       verified " in sources.output
    assert "sell2wales                 off      unverified against the live service" in sources.output
    assert "2026-08-11 12:00" not in sources.output  # a backfill does not start the watermark
    listed = runner.invoke(cli, ["notices", "--type", "UK4", "--limit", "0"])
    assert listed.exit_code == 0
    notice_id = listed.output.splitlines()[1].split()[0]
    shown = runner.invoke(cli, ["show", notice_id])
    assert shown.exit_code == 0 and "type: UK4 (tender)" in shown.output
    exported = runner.invoke(cli, ["export"])
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert len(lines) == count(env["TENDERWATCH_DB_URL"], NoticeRow)
    assert {"id", "source", "deadline", "cpv", "lots", "is_opportunity"} <= set(lines[0])


def test_export_then_import_into_an_empty_store_round_trips(env, replay_server, tmp_path, monkeypatch):
    tenderwatch(
        "crawl",
        "find_a_tender",
        "--from",
        "2026-08-11T12:00",
        "--to",
        "2026-08-11T18:00",
        env_extra={"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
    )
    runner = CliRunner()
    first = tmp_path / "first.jsonl"
    assert runner.invoke(cli, ["export", "-o", str(first)]).exit_code == 0
    assert '"future_notice_date": "2026-08-24T23:59:59+01:00"' in first.read_text()  # 076334-2026's
    monkeypatch.setenv("TENDERWATCH_DB_URL", f"sqlite:///{tmp_path / 'other.db'}")
    imported = runner.invoke(cli, ["import", str(first)])
    assert imported.exit_code == 0, imported.output
    again = runner.invoke(cli, ["import", str(first)])
    assert "0 new, 0 changed" in again.output
    second = tmp_path / "second.jsonl"
    runner.invoke(cli, ["export", "-o", str(second)])
    assert second.read_text() == first.read_text()


def test_show_gives_a_pipeline_notices_expected_tender_date_only_when_it_has_one(env):
    from store.ingest import store_releases
    from tests.support.recorded import release_by_id

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076334-2026"), release_by_id("076396-2026")])
    database.close()
    pipeline = CliRunner().invoke(cli, ["show", "076334-2026"]).output.splitlines()
    assert [line.strip() for line in pipeline[7:9]] == [
        "deadline: 2026-09-28 12:00",
        "tender expected: 2026-08-24",
    ]
    assert "tender expected" not in CliRunner().invoke(cli, ["show", "076396-2026"]).output


def test_a_bad_line_mid_import_says_the_lines_before_it_were_not_imported_either(env, tmp_path):
    # Lines 1 and 2 are good and not stored: the message must say so, and what to do.
    notices = [{**CALL_OFF, "source_id": f"cf-{n}", "id": f"email:cf-{n}"} for n in range(4)]
    lines = [json.dumps(notice) for notice in notices]
    lines[2] = lines[2][:30]  # cut off, as a copy and paste can leave it
    path = tmp_path / "calloffs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.rstrip().endswith(
        "; nothing in the file was imported: fix line 3 and import the file again"
    ), result.output
    assert "each line must be one whole notice, a JSON object on a line of its own" in result.output
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 0


def test_a_compressed_file_is_said_to_be_one_and_a_latin_1_file_names_its_line(env, tmp_path):
    import gzip

    lines = [json.dumps({**CALL_OFF, "source_id": f"cf-{n}", "id": f"email:cf-{n}"}) for n in range(3)]
    packed = tmp_path / "calloffs.jsonl.gz"
    packed.write_bytes(gzip.compress("\n".join(lines).encode()))
    result = CliRunner().invoke(cli, ["import", str(packed)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == (
        f"tenderwatch: {packed}: compressed with gzip, not JSON Lines text; decompress it "
        "(gunzip calloffs.jsonl.gz) and import the file it gives"
    )
    lines[2] = lines[2].replace("Call-off", "Caf\u00e9 call-off")
    latin = tmp_path / "calloffs.jsonl"
    latin.write_bytes("\n".join(lines).encode("latin-1"))
    result = CliRunner().invoke(cli, ["import", str(latin)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"tenderwatch: {latin}:3: not UTF-8 text; save it as UTF-8 JSON Lines and import it again "
        "(nothing was imported)"
    )
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 0


def test_import_names_the_bad_line_and_field_and_stores_nothing(env, tmp_path):
    good = {
        "id": "email:cf-123",
        "source": "email",
        "source_id": "cf-123",
        "title": "Call-off: service review",
    }
    bad = {**good, "id": "email:cf-124", "source_id": "cf-124", "deadline": "next Tuesday"}
    path = tmp_path / "calloffs.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert (
        f"{path}:2: field 'deadline': 'next Tuesday' is not a date and time; "
        "write it like 2026-09-01T12:00:00+01:00"
    ) in result.output
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 0
    path.write_bytes(codecs.BOM_UTF8 + (json.dumps(good) + "\n").encode())  # as Windows editors save
    assert CliRunner().invoke(cli, ["import", str(path)]).exit_code == 0
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 1
    cut = json.dumps(good)[:40]  # a line cut off mid-field: the column is where it ends, not 1
    path.write_text(json.dumps(good) + "\n" + cut + "\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: not valid JSON (Expecting ',' delimiter, column 41)" in result.output


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # Each of these was once stored, and then broke the digest or export of every later run.
        (
            {"lots": [{"id": "1", "value_amount": "lots"}]},
            "field 'lots': lot 1 field 'value_amount': expected a number",
        ),
        (
            {"lots": [{"id": "1", "suitable_for_sme": "maybe"}]},
            "field 'lots': lot 1 field 'suitable_for_sme'",
        ),
        ({"lots": [{"id": "1", "title": 7}]}, "field 'lots': lot 1 field 'title': expected text"),
        ({"value_amount": float("inf")}, "field 'value_amount': expected a finite number"),
        (
            {"published_at": "0001-01-01T00:00:00+01:00"},
            "field 'published_at': '0001-01-01T00:00:00+01:00' is out of range",
        ),
        ({"title": "   "}, "field 'title': is required and must not be empty"),
        (
            {"is_opportunity": True, "status": "complete"},
            "field 'status': must be \"active\" for an opportunity (is_opportunity: true)",
        ),
        # A source is part of every notice id and is shown in digests: a plain name, never markup.
        (
            {"source": "<at>x</at>[Click](https://ev.il/p)"},
            "field 'source': '<at>x</at>[Click](https://ev.il/p)' is not a source name: use up to 40",
        ),
        ({"source": "e:mail"}, "field 'source': 'e:mail' is not a source name"),
        ({"cpv": ["7931500"]}, "field 'cpv': CPV code '7931500' must be 8 digits, e.g. '79411000'"),
        # Digits of another script are not CPV digits.
        (
            {"cpv": ["\u0667" * 8]},
            "field 'cpv': CPV code '\u0667\u0667\u0667\u0667\u0667\u0667\u0667\u0667' must be 8",
        ),
        # Half a UTF-16 pair: no database can store it (it was a traceback).
        ({"title": "bad \ud800"}, "field 'title': holds \\ud800, half of a character; fix the text"),
        (
            {"lots": [{"id": "1", "title": "\udfff"}]},
            "field 'lots': lot 1 field 'title': holds \\udfff, half of a character",
        ),
    ],
)
def test_import_refuses_values_the_store_could_not_use(env, tmp_path, fields, message):
    result = import_notices(tmp_path, {**CALL_OFF, **fields})  # json writes infinity as Python reads it
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'calloffs.jsonl'}:1: {message}" in result.output
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 0


def test_import_reads_ids_as_they_will_be_stored_and_refuses_what_no_notice_is(env, tmp_path):
    # A NUL is never stored (PostgreSQL cannot): "N1\x00" is N1, so two lines are one notice twice.
    path = tmp_path / "twice.jsonl"
    lines = [{**CALL_OFF, "source_id": "N1\x00", "title": "first"}, {**CALL_OFF, "source_id": "N1"}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    twice = CliRunner().invoke(cli, ["import", str(path)])
    assert twice.exit_code == 2 and f"{path}:2: notice 'email:N1' already appears on line 1" in twice.output
    path.write_text("[" * 100_000 + "\n")
    deep = CliRunner().invoke(cli, ["import", str(path)])
    assert (
        deep.exit_code == 2 and f"{path}:1: not a notice (lists or objects nested too deeply)" in deep.output
    )
    assert count(env["TENDERWATCH_DB_URL"], NoticeRow) == 0


def test_every_id_import_accepts_can_be_judged(env, tmp_path):
    # A source with a hyphen and a reference with spaces are valid on import; feedback refused both.
    spaced = {**CALL_OFF, "source": "my-portal", "source_id": "CALL OFF/12?x=1#frag"}
    assert import_notices(tmp_path, spaced).exit_code == 0
    judged = CliRunner().invoke(cli, ["feedback", "my-portal:CALL OFF/12?x=1#frag", "relevant"])
    assert judged.exit_code == 0, judged.output
    assert "my-portal:CALL OFF/12?x=1#frag" in CliRunner().invoke(cli, ["feedback", "list"]).output


def test_an_imported_opportunity_without_a_status_is_active(env, tmp_path):
    assert import_notices(tmp_path, {**CALL_OFF, "is_opportunity": True, "status": None}).exit_code == 0
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        assert get_notice(session, "email:x").status == "active"
    database.close()


def test_an_imported_cpv_code_with_its_check_digit_is_stored_as_the_code(env, tmp_path):
    # Buyers' exports and the CPV list itself write "79315000-1"; scoring reads the 8 digits.
    cpv = ["79315000-1", "79315000", " 85312320-8 ", "85312320\n"]
    assert import_notices(tmp_path, {**CALL_OFF, "cpv": cpv}).exit_code == 0
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        assert get_notice(session, "email:x").cpv == ("79315000", "85312320")
    database.close()


def test_an_imported_lot_keeps_its_checked_values(env, tmp_path):
    lot = {"id": "1", "title": "Discovery", "value_amount": 250000, "suitable_for_sme": True, "status": None}
    assert import_notices(tmp_path, {**CALL_OFF, "lots": [lot]}).exit_code == 0
    exported = tmp_path / "out.jsonl"
    CliRunner().invoke(cli, ["export", "-o", str(exported)])
    (stored_lot,) = json.loads(exported.read_text())["lots"]
    assert stored_lot["value_amount"] == 250000.0 and stored_lot["suitable_for_sme"] is True


STOPPED_AS_IT_STARTS = """
import os, signal, sys
import spiders.pipelines
from tenderwatch.cli import main

opened = spiders.pipelines.StorePipeline.open_spider

def open_then_stopped(self):
    opened(self)
    os.kill(os.getpid(), signal.SIGTERM)  # the daemon stops just as this crawl has recorded its start

spiders.pipelines.StorePipeline.open_spider = open_then_stopped
sys.argv[0] = "tenderwatch"
main()
"""


def test_a_crawl_stopped_as_it_starts_is_recorded_as_interrupted(env, replay_server):
    args = ["crawl", "find_a_tender", "--from", "2026-08-11T00:00", "--to", "2026-08-12T00:00"]
    result = subprocess.run(
        [sys.executable, "-c", STOPPED_AS_IT_STARTS, *args],
        check=False,
        env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "find_a_tender: INTERRUPTED: stopped as it was starting" in result.stderr
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        [run] = session.scalars(select(CrawlRun))
    assert (run.outcome, run.finished_at is not None) == ("interrupted", True)  # not left "running"


def test_sigterm_stops_a_crawl_waiting_out_a_rate_limit_at_once(env, replay_server):
    from tests.support.replay_server import FIND_A_TENDER, Fault

    # The service asks for 10 minutes (the most tenderwatch waits): the wait once held Scrapy's
    # graceful shutdown that long, and the daemon signalled it again on every tick.
    replay_server.add_fault(
        FIND_A_TENDER, Fault(on_request=1, status=429, headers={"Retry-After": "600"}, times=100)
    )
    process = subprocess.Popen(
        [*TENDERWATCH, "crawl", "find_a_tender", "--from", "2026-08-11T06:00", "--to", "2026-08-11T12:00"],
        env={**os.environ, "TENDERWATCH_FIND_A_TENDER_URL": replay_server.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not replay_server.requests_to(FIND_A_TENDER):
            time.sleep(0.05)
        time.sleep(1)  # well into its wait
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert time.monotonic() - stopped < 10
    finally:
        process.kill()
    assert len(replay_server.requests_to(FIND_A_TENDER)) == 1  # not asked again on the way out
    assert "find_a_tender: INTERRUPTED: stopped before the last window" in stderr, stderr
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        [run] = session.scalars(select(CrawlRun))
    assert (run.outcome, run.message) == ("interrupted", "stopped before the last window")


def test_a_crawl_killed_part_way_resumes_and_stores_everything_exactly_once(env, replay_server, tmp_path):
    replay_server.response_delay = 0.3
    base = {"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url}
    args = ["crawl", "find_a_tender", "--from", "2026-08-11T00:00", "--to", "2026-08-12T00:00"]
    process = subprocess.Popen(
        [*TENDERWATCH, *args],
        env={**os.environ, **base},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db_url = env["TENDERWATCH_DB_URL"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _pages_stored(db_url) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = count(db_url, ReleaseRow)
    assert 0 < partial < 496
    replay_server.response_delay = 0
    result = tenderwatch(*args, env_extra=base)
    assert result.returncode == 0, result.stderr
    database = open_database(db_url)
    with database.reading() as session:
        ids = list(session.scalars(select(ReleaseRow.release_id)))
        outcomes = list(session.scalars(select(CrawlRun.outcome).order_by(CrawlRun.id)))
    assert len(ids) == len(set(ids)) == 496
    assert count(db_url, NoticeRow) == 496
    assert outcomes == ["interrupted", "ok"]
    # Re-fetching what was stored changed nothing: the history is the day's own updates, as when
    # its releases are stored at once.
    whole = open_database(f"sqlite:///{tmp_path / 'whole.db'}")
    with whole.writing() as session:
        store_releases(session, "find_a_tender", cassette_releases("find_a_tender_2026-08-11"))
    assert changes_in(database) == changes_in(whole) != []


def changes_in(database) -> list[tuple[str, str, str | None, str | None]]:
    with database.reading() as session:
        found = session.execute(
            select(NoticeRow.key, NoticeChange.field, NoticeChange.old_value, NoticeChange.new_value).join(
                NoticeRow, NoticeRow.id == NoticeChange.notice_id
            )
        )
        return sorted(tuple(row) for row in found)


def _pages_stored(db_url: str) -> int:
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        return 0
    try:
        database = open_database(db_url, migrate=False)
    except Exception:  # the crawl may still be creating the schema
        return 0
    try:
        with database.reading() as session:
            return session.scalar(select(func.coalesce(func.max(CrawlRun.pages), 0))) or 0
    finally:
        database.close()


def test_export_with_a_profile_adds_scores_that_import_ignores(env, tmp_path, monkeypatch):
    from store.ingest import store_releases
    from tests.support.recorded import release_by_id

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026"), release_by_id("075943-2026")])
    database.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--profile", "example"])
    assert result.exit_code == 0, result.output
    records = {record["id"]: record for record in map(json.loads, result.output.splitlines())}
    research, building = records["find_a_tender:076396-2026"], records["find_a_tender:075943-2026"]
    assert research["band"] == "strong" and research["service_line"] and research["score"] >= 60
    assert building["band"] == "none" and "works" in json.dumps(building["reasons"])
    assert {"rule", "points", "detail"} <= set(research["reasons"][0])
    exported = tmp_path / "scored.jsonl"
    exported.write_text(result.output)
    monkeypatch.setenv("TENDERWATCH_DB_URL", f"sqlite:///{tmp_path / 'other.db'}")
    imported = runner.invoke(cli, ["import", str(exported)])
    assert imported.exit_code == 0, imported.output
    assert "2 new" in imported.output


def test_export_as_csv_is_one_row_per_notice_with_scores_and_no_formulas(env, tmp_path):
    import csv

    from scoring import configured_profile, score_notice
    from store.ingest import save_notices, store_releases
    from store.models import utcnow
    from store.notice import Notice
    from tenderwatch import config as configuration
    from tests.support.recorded import release_by_id

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", [release_by_id("076396-2026"), release_by_id("075943-2026")])
        trap = Notice(source="email", source_id="1", title='=HYPERLINK("http://127.0.0.1/x","Open")')
        # Where the list separator is ';' (German, French Excel) a cell begins after each ';'.
        split = Notice(
            source="email", source_id="2", title="Survey;=2+3;@SUM(1+1)", buyer_name="Council,-2+3"
        )
        save_notices(session, [trap, split], now=utcnow())
    database.close()

    result = CliRunner().invoke(cli, ["export", "--format", "csv", "--profile", "example", "-o", "out.csv"])

    assert result.exit_code == 0, result.output
    assert "wrote 4 notices to out.csv" in result.output
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbfid,source,")  # Excel's UTF-8 mark
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8-sig") as table:
        rows = {row["id"]: row for row in csv.DictReader(table)}
    research = rows["find_a_tender:076396-2026"]
    notice = get_notice_from_store(env, "find_a_tender:076396-2026")
    score = score_notice(notice, configured_profile(configuration.load().scoring, None))
    assert research["title"] == notice.title and research["description"] == notice.description  # newlines too
    assert research["cpv"] == "; ".join(notice.cpv) and research["lots"] == str(len(notice.lots))
    assert (research["score"], research["band"], research["why"]) == (
        str(score.score),
        "strong",
        score.summary,
    )
    assert research["deadline"] == notice.deadline.astimezone(LONDON).isoformat()
    assert rows["email:1"]["title"] == '\'=HYPERLINK("http://127.0.0.1/x","Open")'  # shown, never run
    assert (rows["email:2"]["title"], rows["email:2"]["buyer_name"]) == (
        "Survey;'=2+3;'@SUM(1+1)",
        "Council,-2+3",  # a comma is inside the cell's quotes
    )
    assert rows["find_a_tender:075943-2026"]["band"] == "none"
    strong = CliRunner().invoke(cli, ["export", "--format", "csv", "--band", "strong"])
    assert [row["id"] for row in csv.DictReader(strong.output.splitlines(keepends=True))] == [
        "find_a_tender:076396-2026"
    ]


def test_a_failed_export_leaves_the_old_file_whole_and_no_part_file(env, tmp_path):
    from store.ingest import store_releases
    from tests.support.recorded import fts_releases

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases()[:200])
    database.close()
    (tmp_path / "out.jsonl").write_text("yesterday's export\n")

    def small_files() -> None:  # the disk "fills" at 64 KiB; Python then gets EFBIG, not a signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    result = subprocess.run(
        [*TENDERWATCH, "export", "-o", "out.jsonl"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=60,
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("tenderwatch: cannot write out.jsonl: File too large")
    assert (tmp_path / "out.jsonl").read_text() == "yesterday's export\n"
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".part")] == []


def get_notice_from_store(env, key: str):
    database = open_database(env["TENDERWATCH_DB_URL"])
    try:
        with database.reading() as session:
            return get_notice(session, key)
    finally:
        database.close()


def test_a_backfill_extends_a_watermark_it_joins_and_cannot_end_before_it(env, replay_server):
    from store.crawls import complete_window
    from store.models import SourceState
    from tests.support.replay_server import FIND_A_TENDER  # noqa: F401 - the server's Find a Tender

    database = open_database(env["TENDERWATCH_DB_URL"])
    start = datetime(2026, 8, 11, 6, 0, tzinfo=LONDON)
    with database.writing() as session:
        complete_window(session, "find_a_tender", start - timedelta(hours=6), start)
    database.close()
    urls = {"TENDERWATCH_FIND_A_TENDER_URL": replay_server.url}
    joined = tenderwatch(
        "crawl", "find_a_tender", "--from", "2026-08-11T05:00", "--to", "2026-08-11T12:00", env_extra=urls
    )
    assert joined.returncode == 0, joined.stderr
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.reading() as session:
        assert session.get(SourceState, "find_a_tender").watermark == datetime(
            2026, 8, 11, 12, 0, tzinfo=LONDON
        )
    database.close()
    result = CliRunner().invoke(cli, ["crawl", "find_a_tender", "--to", "2026-08-10T00:00"])
    assert result.exit_code == 2
    assert (
        "--to (2026-08-10 00:00) is before find_a_tender's crawl would start "
        "(2026-08-11 11:45: its watermark)" in result.output
    )


def test_to_before_a_first_crawl_says_where_that_crawl_would_start(env):
    result = CliRunner().invoke(cli, ["crawl", "find_a_tender", "--to", "2026-08-10"])
    assert result.exit_code == 2
    assert "is before find_a_tender's crawl would start" in result.output
    assert "48 hours ago, as it has not been crawled yet): give --from as well" in result.output


@pytest.mark.above_the_store(reason=CHECKED_BEFORE_THE_STORE)
@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        ("0001-01-01", "is before 2000; no service publishes notices that old"),
        ("1999-12-31T23:00", "is before 2000; no service publishes notices that old"),
        ("9999-12-31T23:30-01:00", "is out of range"),
    ],
)
def test_a_date_no_service_could_hold_is_refused_before_any_request(env, moment, problem):
    result = CliRunner().invoke(cli, ["crawl", "find_a_tender", "--from", moment, "--to", "2026-08-12"])
    assert result.exit_code == 2
    assert f"'{moment}' {problem}" in result.output


def test_a_source_named_twice_is_crawled_once(env, replay_server):
    result = crawl_morning(replay_server, "find_a_tender", "find_a_tender")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" not in result.stdout
    assert result.stdout.count("find_a_tender: ok") == 1


def test_export_to_a_folder_that_does_not_exist_is_one_line(env, tmp_path):
    path = tmp_path / "missing" / "notices.jsonl"
    result = CliRunner().invoke(cli, ["export", "-o", str(path)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"tenderwatch: cannot write {path}: No such file or directory"]


def test_the_log_level_setting_quietens_progress(env, monkeypatch, replay_server):
    quiet = crawl_morning(replay_server, env_extra={"TENDERWATCH_LOG_LEVEL": "WARNING"})
    assert quiet.returncode == 0
    assert "page 1" not in quiet.stderr and "find_a_tender: ok" in quiet.stdout


def test_notices_open_lists_only_opportunities_still_open(env, monkeypatch):
    from store.ingest import store_releases
    from tests.support.recorded import fts_releases

    as_of = datetime(2026, 8, 12, 9, 0, tzinfo=LONDON)
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        store_releases(session, "find_a_tender", fts_releases())
    with database.reading() as session:
        rows = list(session.scalars(select(NoticeRow)))
    database.close()
    still_open = {
        row.key for row in rows if row.is_opportunity and (row.deadline is None or row.deadline > as_of)
    }
    closed = {row.key for row in rows if row.is_opportunity} - still_open
    no_deadline_awards = {row.key for row in rows if not row.is_opportunity and row.deadline is None}
    assert still_open and closed and no_deadline_awards  # the recordings hold all three
    monkeypatch.setattr("tenderwatch.cli.notices.utcnow", lambda: as_of)
    result = CliRunner().invoke(cli, ["notices", "--open", "--limit", "0"])
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.splitlines()[1:] if line.strip()}  # under the header
    assert listed == still_open


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notices", "--type", "XX9"], "'XX9' is not a notice type; use UK1 to UK17"),
        (["notices", "--source", "find_a_tendr"], "--source: no source 'find_a_tendr'; sources are"),
        (["export", "--source", "fts"], "--source: no source 'fts'; sources are contracts_finder"),
    ],
)
def test_a_mistyped_filter_is_an_error_not_an_empty_list(env, args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output


def test_source_filter_accepts_an_imported_source(env, tmp_path):
    assert import_notices(tmp_path, {**CALL_OFF, "notice_type": "UK4"}).exit_code == 0
    result = CliRunner().invoke(cli, ["notices", "--source", "email", "--type", "uk4"])
    assert result.exit_code == 0 and "email:x" in result.output


def test_show_prints_changes_as_the_digest_words_them(env, tmp_path):
    notice = {
        **CALL_OFF,
        "deadline": "2026-09-28T15:00:00+01:00",
        "value_amount": 250000,
        "value_currency": "EUR",
    }
    for changed in ({}, {"deadline": "2026-10-29T15:00:00+00:00", "value_amount": 300000}):
        assert import_notices(tmp_path, {**notice, **changed}).exit_code == 0
    result = CliRunner().invoke(cli, ["show", "email:x"])
    assert "         type: \n" in result.output  # an imported notice may have neither type nor stage
    assert "deadline changed from Mon 28 Sep 2026 15:00 to Thu 29 Oct 2026 15:00" in result.output
    assert "value changed from €250,000 to €300,000" in result.output  # in the notice's currency


def test_explain_says_value_not_stated_once(env, tmp_path):
    assert import_notices(tmp_path, CALL_OFF).exit_code == 0
    result = CliRunner().invoke(cli, ["explain", "email:x"])
    assert result.exit_code == 0, result.output
    assert "; value not stated; " in result.output and "value value" not in result.output


def test_db_upgrade_says_what_it_did(env):
    from store.db import SCHEMA_REVISION, Database
    from tests.support.schema import migrate

    runner = CliRunner()
    first = runner.invoke(cli, ["db", "upgrade"]).output
    new_store = env["TENDERWATCH_DB_URL"].startswith("sqlite")  # the PostgreSQL run's store is migrated
    assert (f"created the database schema ({SCHEMA_REVISION})" in first) == new_store
    assert "schema is current" in runner.invoke(cli, ["db", "upgrade"]).output
    database = Database(env["TENDERWATCH_DB_URL"])
    migrate(database, "downgrade", "0004")
    database.close()
    upgraded = runner.invoke(cli, ["db", "upgrade"]).output
    assert f"upgraded the database schema from 0004 to {SCHEMA_REVISION}" in upgraded


@pytest.mark.parametrize("command", [["db", "upgrade"], ["status"], ["notices"]])
def test_a_store_from_a_newer_tenderwatch_is_refused_in_one_line(env, command):
    from store.db import SCHEMA_REVISION, Database

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    database.close()
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"tenderwatch: the database at {env['TENDERWATCH_DB_URL']} is at schema 9999, newer than this "
        f"tenderwatch knows ({SCHEMA_REVISION}): upgrade tenderwatch, or point it at another database"
    )
    assert Database(env["TENDERWATCH_DB_URL"]).current_revision() == "9999"  # left as it was


def test_the_schema_is_read_without_waiting_behind_a_writer(env, monkeypatch):
    """A cron crawl holding SQLite's write lock must not make status wait, or think the store empty."""
    from store.db import SCHEMA_REVISION, Database

    database = open_database(env["TENDERWATCH_DB_URL"])
    monkeypatch.setattr("store.db.BUSY_TIMEOUT", 0.1)  # a reader that waited would fail: "locked"
    with database.writing() as session:
        session.connection()  # holds the write lock (BEGIN IMMEDIATE on SQLite)
        reader = Database(env["TENDERWATCH_DB_URL"])
        assert reader.current_revision() == SCHEMA_REVISION
        reader.close()
    database.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/notes.db", "file is not a database; is this the right file?"),
        ("postgresql+psycopg://tenderwatch@127.0.0.1:{port}/bids", "Connection refused"),
    ],
)
def test_db_upgrade_of_a_store_it_cannot_open_is_one_line(env, tmp_path, monkeypatch, url, message):
    (tmp_path / "notes.db").write_text("minutes of the bid meeting")
    url = url.format(tmp=tmp_path, port=closed_port())
    monkeypatch.setenv("TENDERWATCH_DB_URL", url)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.startswith(f"tenderwatch: cannot open the database at {url}: ")
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_status_says_a_crawl_is_running_or_that_its_process_died(env):
    from store import crawls, locks

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:  # as a crawl killed with -9 leaves it
        start = datetime(2026, 8, 11, 6, 0, tzinfo=LONDON)
        crawls.start_run(session, "find_a_tender", start, start + timedelta(hours=6), pid=999999)
    with locks.hold(database, "crawl:find_a_tender") as lock:  # still crawling: running it is
        assert lock is not None
        held = CliRunner().invoke(cli, ["status"])
    database.close()
    assert held.exit_code == 0, held.output  # a crawl in progress is no problem
    [row] = [line for line in held.output.splitlines() if line.startswith("find_a_tender")]
    assert " running (" in row and row.endswith("crawling now") and "Problems:" not in held.output
    assert "contracts_finder: never crawled; run `tenderwatch crawl contracts_finder`" in held.output
    died = CliRunner().invoke(cli, ["status"])
    assert died.exit_code == 0  # a warning: the next crawl resumes, nobody need act
    died = died.output
    assert "Warnings:" in died and "Problems:" not in died
    assert "find_a_tender: the last crawl interrupted" in died
    assert "the crawl process ended before finishing" in died


def test_status_exits_1_for_a_failed_crawl_until_its_source_is_disabled(env, tmp_path):
    from store import crawls

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        start = datetime(2026, 8, 11, 6, 0, tzinfo=LONDON)
        run_id = crawls.start_run(session, "contracts_finder", start, start + timedelta(hours=6))
        crawls.finish_run(session, run_id, crawls.FAILED, "the service failed (HTTP 500)")
    database.close()
    failing = CliRunner().invoke(cli, ["status"])
    assert failing.exit_code == 1
    assert "contracts_finder: the last crawl failed" in failing.output.split("Problems:")[1]
    (tmp_path / "tenderwatch.toml").write_text("[sources.contracts_finder]\nenabled = false\n")
    disabled = CliRunner().invoke(cli, ["status"])
    assert disabled.exit_code == 0 and "Problems:" not in disabled.output
    assert "find_a_tender: never crawled" in disabled.output
    assert "contracts_finder:" not in disabled.output  # in the table, as disabled, and nowhere else


def test_status_exits_1_when_a_source_has_gone_too_long_without_a_successful_crawl(env):
    """Cron stopped, or a store it cannot write to: no failure is recorded, but nothing succeeds."""
    from store import crawls
    from store.models import SourceState, utcnow

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        start = utcnow() - timedelta(minutes=5)
        run_id = crawls.start_run(session, "find_a_tender", start - timedelta(hours=1), start)
        crawls.finish_run(session, run_id, crawls.OK)
    assert CliRunner().invoke(cli, ["status"]).exit_code == 0
    with database.writing() as session:  # 5 hours on: two 60-minute intervals and the 120-minute time-out
        session.get(SourceState, "find_a_tender").last_success_at = utcnow() - timedelta(hours=5)
    database.close()
    stale = CliRunner().invoke(cli, ["status"])
    assert stale.exit_code == 1
    problems = stale.output.split("Problems:")[1]
    assert (
        "find_a_tender: no successful crawl since" in problems
        and "(it should succeed every 60 min)" in problems
    )


def test_status_exits_1_for_a_crawl_hanging_past_its_time_out_since_the_last_success(env):
    """A cron crawl that hangs keeps its lock (cron has no time-out): "crawling now" must not hide it."""
    from store import crawls, locks
    from store.models import CrawlRun, SourceState, utcnow

    database = open_database(env["TENDERWATCH_DB_URL"])
    long_ago = utcnow() - timedelta(days=3)
    with database.writing() as session:
        run_id = crawls.start_run(session, "find_a_tender", long_ago - timedelta(hours=1), long_ago)
        crawls.finish_run(session, run_id, crawls.OK)
        session.get(CrawlRun, run_id).started_at = long_ago
        session.get(SourceState, "find_a_tender").last_success_at = long_ago
        hung = crawls.start_run(session, "find_a_tender", long_ago, long_ago + timedelta(hours=1))
        session.get(CrawlRun, hung).started_at = long_ago + timedelta(minutes=1)
    with locks.hold(database, "crawl:find_a_tender") as lock:
        assert lock is not None
        result = CliRunner().invoke(cli, ["status"])
    database.close()
    assert result.exit_code == 1, result.output
    assert "find_a_tender: no successful crawl since" in result.output.split("Problems:")[1]


def test_status_exits_1_when_a_source_has_never_succeeded_for_too_long(env):
    """Crawls tried, each interrupted (killed by a cron timeout, say): nothing failed, nothing succeeded."""
    from store import crawls
    from store.models import CrawlRun, utcnow

    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.writing() as session:
        for hours_ago in (6, 3):
            start = utcnow() - timedelta(hours=hours_ago)
            run_id = crawls.start_run(session, "contracts_finder", start - timedelta(hours=1), start)
            crawls.finish_run(session, run_id, crawls.INTERRUPTED, "stopped before the last window")
            session.get(CrawlRun, run_id).started_at = start
    database.close()
    stale = CliRunner().invoke(cli, ["status"])
    assert stale.exit_code == 1
    problems = stale.output.split("Problems:")[1]
    assert "contracts_finder: no successful crawl ever (first tried" in problems
    assert "find_a_tender: never crawled" in stale.output.split("Warnings:")[1]


FULL = "; free some space on the store's disk, and run it again: nothing stored is lost"


@pytest.mark.sqlite_only("a SQLite trigger makes the store refuse a statement, as a stale schema would")
@pytest.mark.parametrize("verbose", [False, True])
def test_a_statement_the_store_refuses_is_one_line_not_a_traceback(env, verbose):
    # Not a busy, gone or full store (those say what to do) but a fault: a constraint, a column missing.
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON web_users BEGIN SELECT RAISE(ABORT, 'refused here'); END"
        )
    database.close()
    command = [sys.executable, "-m", "tenderwatch", *(["--verbose"] if verbose else [])]
    adduser = [*command, "web", "adduser", "alice", "--password-stdin"]
    result = subprocess.run(
        adduser, input="a long enough password\n", capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "tenderwatch: the database failed: refused here" in result.stderr
    assert ("Traceback" in result.stderr) is verbose  # with --verbose, where it failed
    assert ("tenderwatch --verbose shows where" in result.stderr) is not verbose


@pytest.mark.sqlite_only(
    "a SQLite trigger makes the store refuse writes, as a read-only file or a full disk does"
)
@pytest.mark.parametrize(
    ("refused", "said"),
    [
        ("INSERT ON crawl_runs", f"cannot record the crawl: the database failed: the disk is full{FULL}"),
        ("UPDATE ON crawl_runs", f"could not store a page: the database failed: the disk is full{FULL}"),
    ],
    ids=["at-start", "mid-crawl"],
)
def test_a_store_that_refuses_writes_fails_the_crawl_in_one_line(env, replay_server, refused, said):
    database = open_database(env["TENDERWATCH_DB_URL"])
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TRIGGER refuse BEFORE {refused} BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
        )
    database.close()
    result = crawl_morning(replay_server)
    assert result.returncode == 1
    assert result.stderr.splitlines()[1:] == [f"find_a_tender: FAILED: {said}"]  # after "fetching ..."
    assert count(env["TENDERWATCH_DB_URL"], ReleaseRow) == 0


def test_status_where_there_is_no_store_says_so_creates_nothing_and_still_checks_the_channels(
    env, tmp_path, monkeypatch
):
    typo = tmp_path / "tenderwatch-data" / "tenderwach.db"
    monkeypatch.setenv("TENDERWATCH_DB_URL", f"sqlite:///{typo}")
    monkeypatch.delenv("TW_TEST_TEAMS_URL", raising=False)
    (tmp_path / "tenderwatch.toml").write_text('[[channels]]\nname = "teams"\nurl = "${TW_TEST_TEAMS_URL}"\n')
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert f"there is no store at {typo}: nothing has been crawled into it" in result.output
    assert (
        "teams: no digest can be sent: tenderwatch.toml: [[channels]] #1 url uses ${TW_TEST_TEAMS_URL}"
        in result.output
    )
    assert not typo.parent.exists()


@pytest.mark.sqlite_only(reason="the store is a file only on SQLite")
def test_files_holding_notices_are_readable_by_their_owner_alone(env, tmp_path, monkeypatch):
    data = tmp_path / "new" / "data"
    monkeypatch.setenv("TENDERWATCH_DATA_DIR", str(data))
    monkeypatch.setenv("TENDERWATCH_DB_URL", f"sqlite:///{data / 'tenderwatch.db'}")
    calloffs = tmp_path / "calloffs.jsonl"
    calloffs.write_text(json.dumps(CALL_OFF) + "\n")
    made = [data / "tenderwatch.db", tmp_path / "export.jsonl", tmp_path / "preview.html"]
    for args in (
        ["import", str(calloffs)],
        ["export", "--output", str(made[1])],
        ["digest", "--dry-run", "--output", str(made[2])],
    ):
        result = subprocess.run(
            [*TENDERWATCH, *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o022),  # a shell's usual umask: files readable by everyone
        )
        assert result.returncode == 0, result.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    for path in made:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_control_characters_in_notice_text_never_reach_the_terminal(env, tmp_path):
    hostile = "Legit title\x1b]0;owned\x07\r\x1b[2KFAKE: all crawls ok\n       status: cancelled \u202e"
    assert (
        import_notices(tmp_path, {**CALL_OFF, "title": hostile, "buyer_name": "Council\x1b[31m"}).exit_code
        == 0
    )
    runner = CliRunner()
    for args in (["notices"], ["show", "email:x"], ["export"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        if args != ["export"]:  # shown: made harmless
            assert "Legit title\ufffd]0;owned\ufffd" in result.output and "[2KFAKE" in result.output
            assert not any(char in result.output for char in "\x1b\x07\r\u202e")
            assert "\n       status: cancelled" not in result.output  # no line faked by a title
        else:  # exported: kept as published, escaped by JSON
            assert json.loads(result.output)["title"] == hostile


def test_notices_says_why_nothing_is_listed(env, tmp_path):
    runner = CliRunner()
    empty = runner.invoke(cli, ["notices"])
    assert empty.exit_code == 0 and "No notices stored yet: run `tenderwatch crawl` first." in empty.output
    assert import_notices(tmp_path, {**CALL_OFF, "published_at": "2026-08-01T09:00:00+01:00"}).exit_code == 0
    filtered = runner.invoke(cli, ["notices", "--since", "7d"])
    assert "No notice matches these filters (1 notice stored): widen them." in filtered.output
    typo = runner.invoke(cli, ["notices", "--since", "7x"])
    assert typo.exit_code == 2
    assert "'7x' is neither an age such as 7d, 24h or 2w nor a date such as 2026-08-11" in typo.output
    for age in ("99999999d", "100000000000h", "9999w"):  # out of any date's range, or before 2000
        too_old = runner.invoke(cli, ["notices", "--since", age])
        assert too_old.exit_code == 2 and f"'{age}' reaches back before 2000" in too_old.output
    future = runner.invoke(cli, ["expiring", "--as-of", "9999-12-31"])
    assert future.exit_code == 2 and "--as-of (9999-12-31 00:00 UK time) is in the future" in future.output
