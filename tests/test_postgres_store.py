"""Where SQLite and PostgreSQL differ by nature, the store must not: each case here differed once.

Run on both backends like every store test.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from store.ingest import save_notices, store_releases
from store.models import NoticeChange, NoticeRow
from store.notice import Notice
from store.queries import NoticeFilter, find_notices, get_notice
from tenderwatch.cli import cli
from tests.support.recorded import release_by_id

NOW = datetime(2026, 8, 12, 9, 0, tzinfo=UTC)


def test_nul_characters_in_notice_text_are_dropped_on_both_stores(database):
    # PostgreSQL text cannot hold NUL; SQLite's can. A source that sends one must not fail a page.
    release = copy.deepcopy(release_by_id("076396-2026"))
    release["tender"]["title"] = "Violence Reduction\u0000 Partnership"
    release["tender"]["description"] = "Research\x00 and evaluation"
    with database.writing() as session:
        counts = store_releases(session, "find_a_tender", [release], now=NOW)
    assert counts.new == 1
    with database.writing() as session:
        again = store_releases(
            session, "find_a_tender", [copy.deepcopy(release)], now=NOW + timedelta(days=1)
        )
    assert (again.new, again.changed) == (0, 0)
    with database.reading() as session:
        notice = get_notice(session, "find_a_tender:076396-2026")
        assert (notice.title, notice.description) == (
            "Violence Reduction Partnership",
            "Research and evaluation",
        )
        assert session.scalars(select(NoticeChange)).all() == []


def test_notices_without_a_publication_date_are_listed_last_on_both_stores(database):
    dated = [
        Notice(
            source="email", source_id=f"n{day}", title=f"dated {day}", published_at=NOW - timedelta(days=day)
        )
        for day in (1, 2)
    ]
    undated = Notice(source="email", source_id="undated", title="no date")
    with database.writing() as session:
        save_notices(session, [undated, *dated], now=NOW)
    with database.reading() as session:
        listed = [n.title for n in find_notices(session, NoticeFilter())]
    assert listed == ["dated 1", "dated 2", "no date"]


def test_times_come_back_as_the_same_moment_in_utc(database):
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=1)))  # the night the clocks change
    notice = Notice(source="email", source_id="t", title="times", published_at=moment, deadline=moment)
    with database.writing() as session:
        save_notices(session, [notice], now=NOW)
    with database.reading() as session:
        row = session.scalars(select(NoticeRow)).one()
    assert row.published_at == moment and row.published_at.tzinfo == UTC
    assert row.first_seen == NOW


def test_an_import_with_text_too_long_for_its_column_is_refused_on_both_stores(env, tmp_path):
    line = {
        "id": "email:cf-1",
        "source": "email",
        "source_id": "cf-1",
        "title": "Call-off",
        "value_currency": "EURO",
    }
    path = tmp_path / "calloffs.jsonl"
    path.write_text(json.dumps(line) + "\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:1: field 'value_currency': at most 3 characters, not 4" in result.output


def test_a_postgresql_url_without_the_driver_installed_says_how_to_install_it(tmp_path):
    code = "import sys; sys.modules['psycopg'] = None\nfrom tenderwatch.cli import main\nmain()"
    result = subprocess.run(
        [sys.executable, "-c", code, "sources"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TENDERWATCH_")},
            "HOME": str(tmp_path),
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
            "TENDERWATCH_DB_URL": "postgresql+psycopg://tenderwatch@127.0.0.1:1/tenderwatch",
        },
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "tenderwatch: postgresql+psycopg needs a driver that is not installed (psycopg): for PostgreSQL, "
        "pip install 'tenderwatch[postgres]' and use postgresql+psycopg://USER@HOST/DB"
    )


def test_a_postgresql_database_with_a_c_character_locale_is_warned_about(
    postgres_server, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in ("TENDERWATCH_DATA_DIR", "TENDERWATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for ctype, warned in (("C", True), ("C.UTF-8", False)):
        name = postgres_server.create_database(ctype=ctype)
        try:
            monkeypatch.setenv("TENDERWATCH_DB_URL", postgres_server.sqlalchemy_url(name))
            upgraded, status = runner.invoke(cli, ["db", "upgrade"]), runner.invoke(cli, ["status"])
            assert upgraded.exit_code == 0, upgraded.output
            assert status.exit_code == 0, status.output  # a warning: it cannot be fixed in place
            message = "the database's character locale (LC_CTYPE) is C, so search misses words joined to"
            assert (message in upgraded.output) == warned and (message in status.output) == warned
        finally:
            postgres_server.drop_database(name)
