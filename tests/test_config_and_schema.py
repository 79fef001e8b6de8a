"""Configuration precedence and validation, and the migrations matching the models."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store.db import SCHEMA_REVISION, head_revision, open_database
from store.migrations import include_object
from store.models import Base
from tenderwatch import config as configuration
from tenderwatch.errors import ConfigError, StoreError


def test_defaults_are_the_live_services_with_polite_delays(env, monkeypatch):
    for name in (
        "TENDERWATCH_FIND_A_TENDER_DELAY",
        "TENDERWATCH_CONTRACTS_FINDER_DELAY",
        "TENDERWATCH_DB_URL",
    ):
        monkeypatch.delenv(name)
    loaded = configuration.load()
    assert loaded.source("find_a_tender").url == "https://www.find-tender.service.gov.uk"
    assert loaded.source("find_a_tender").delay >= 10.5  # 12 requests per rolling 120 s
    assert loaded.source("contracts_finder").url == "https://www.contractsfinder.service.gov.uk"
    assert loaded.db_url == f"sqlite:///{Path(env['TENDERWATCH_DATA_DIR']) / 'tenderwatch.db'}"


def test_environment_overrides_the_file(env, tmp_path, monkeypatch):
    path = tmp_path / "tw.toml"
    path.write_text(
        '[sources.find_a_tender]\nurl = "http://file.example"\ndelay = 20\n'
        "[sources.contracts_finder]\nenabled = false\n"
    )
    monkeypatch.delenv("TENDERWATCH_FIND_A_TENDER_DELAY")
    monkeypatch.setenv("TENDERWATCH_FIND_A_TENDER_URL", "http://127.0.0.1:9/")
    loaded = configuration.load(path)
    assert loaded.source("find_a_tender").url == "http://127.0.0.1:9"
    assert loaded.source("find_a_tender").delay == 20
    assert loaded.enabled_sources() == ["find_a_tender"]


def test_every_documented_variable_is_read_and_a_misspelt_one_is_named(env, tmp_path):
    """A TENDERWATCH_* variable no setting reads is reported, with the one it was meant to be; every
    variable the README documents is read (so none of them is ever reported; DB_ULR is its example of
    a misspelling)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    documented = set(re.findall(r"\bTENDERWATCH_[A-Z0-9_]*[A-Z0-9]\b", readme)) - {"TENDERWATCH_DB_ULR"}
    documented = {name for name in documented if not name.startswith(configuration.NOT_SETTINGS)}
    with_a_feed = tmp_path / "tw.toml"  # the feeds source (and its variables) exist once a feed is listed
    with_a_feed.write_text('[[feeds]]\nname = "council"\nurl = "http://127.0.0.1:9/feed.xml"\n')
    sources = configuration.load(with_a_feed, environ={}).sources
    per_source = {
        f"TENDERWATCH_{name.upper()}_{key}"
        for name in sources
        for key in ("URL", "DELAY", "ENABLED")
        if key != "URL" or sources[name].url  # each feed has its own url, in the file
    }
    values = {
        "TENDERWATCH_WEB_SECRET_KEY": "k" * 32,
        "TENDERWATCH_WEB_PORT": "8080",
        "TENDERWATCH_LOG_LEVEL": "INFO",
    }
    environ = {name: values.get(name, "") for name in documented | per_source}
    environ["TENDERWATCH_CONFIG"] = str(with_a_feed)  # the file given both ways: --config wins
    assert len(environ) > 20 and configuration.load(with_a_feed, environ=environ).unread_variables == ()
    misspelt = {
        **environ,
        "TENDERWATCH_DB_ULR": "sqlite:///x.db",
        "TENDERWATCH_TEST_POSTGRES_URL": "x",
        # deploy/with-secrets' own variables, passed on to the tenderwatch it runs
        "TENDERWATCH_BIN": "/opt/tenderwatch/.venv/bin/tenderwatch",
        "TENDERWATCH_SECRETS": "/etc/tenderwatch/secrets.env",
    }
    assert configuration.load(with_a_feed, environ=misspelt).unread_variables == (
        "environment variable TENDERWATCH_DB_ULR is not a setting and is ignored; did you mean "
        "TENDERWATCH_DB_URL?",
    )


def test_a_misspelt_variable_is_a_warning_on_stderr_not_a_failure(env):
    ran = subprocess.run(
        [sys.executable, "-m", "tenderwatch", "rules", "list"],
        env={**env, "TENDERWATCH_FIND_A_TENDER_DELAI": "30"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == (
        "tenderwatch: warning: environment variable TENDERWATCH_FIND_A_TENDER_DELAI is not a setting and "
        "is ignored; did you mean TENDERWATCH_FIND_A_TENDER_DELAY?\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sources.nosuch]\n", "[sources] unknown key 'nosuch'"),
        ("[crawl]\noverlap_minutes = -5\n", "[crawl] overlap_minutes must be a whole number of at least 0"),
        (
            "[sources.find_a_tender]\nenabled = 'maybe'\n",
            "[sources.find_a_tender] enabled must be true or false",
        ),
        ("colour = 'blue'\n", "unknown key 'colour'"),
    ],
)
def test_config_mistakes_name_the_file_and_key(env, tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        configuration.load(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_crawl_settings_at_their_least_are_kept(env, tmp_path):
    (tmp_path / "tenderwatch.toml").write_text(
        "[crawl]\noverlap_minutes = 0\ninitial_lookback_hours = 1\ntimeout_seconds = 1.0\n"
        "max_rate_limit_wait = 1\n"
    )
    crawl = configuration.load().crawl
    assert (crawl.overlap_minutes, crawl.initial_lookback_hours, crawl.timeout_seconds) == (0, 1, 1)
    assert crawl.max_rate_limit_wait == 1 and isinstance(crawl.timeout_seconds, int)


@pytest.mark.parametrize(
    ("text", "variable", "message"),
    [
        (
            '[sources.find_a_tender]\ndelay = "fast"\n',
            "TENDERWATCH_FIND_A_TENDER_DELAY",
            "[sources.find_a_tender] delay must be a number, not 'fast'",
        ),
        (
            '[sources.contracts_finder]\nurl = "www.contractsfinder.example"\n',
            "TENDERWATCH_CONTRACTS_FINDER_URL",
            "[sources.contracts_finder] url must be an http(s) URL",
        ),
        (
            "[sources.sell2wales]\nenabled = 'maybe'\n",
            "TENDERWATCH_SELL2WALES_ENABLED",
            "[sources.sell2wales] enabled must be true or false",
        ),
        ('log_level = "loud"\n', "TENDERWATCH_LOG_LEVEL", "log_level must be DEBUG, INFO, WARNING or ERROR"),
        ("[crawl]\nuser_agent = 7\n", "TENDERWATCH_USER_AGENT", "[crawl] user_agent must be one line"),
        ('[scoring]\ndefault_profile = "nosuch"\n', "TENDERWATCH_PROFILE", "unknown profile 'nosuch'"),
        ("data_dir = 3\n", "TENDERWATCH_DATA_DIR", "data_dir must be a folder path in quotes"),
    ],
)
def test_a_bad_value_in_the_file_is_reported_even_while_the_environment_overrides_it(
    env, tmp_path, monkeypatch, text, variable, message
):
    overrides = {
        "TENDERWATCH_FIND_A_TENDER_DELAY": "0",
        "TENDERWATCH_CONTRACTS_FINDER_URL": "http://127.0.0.1:9",
        "TENDERWATCH_SELL2WALES_ENABLED": "false",
        "TENDERWATCH_LOG_LEVEL": "INFO",
        "TENDERWATCH_USER_AGENT": "tenderwatch tests",
        "TENDERWATCH_PROFILE": "example",
        "TENDERWATCH_DATA_DIR": str(tmp_path / "data"),
    }
    monkeypatch.setenv(variable, overrides[variable])  # a good value, which alone would be used
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        configuration.load(path)
    assert str(error.value).startswith(f"{path}: ")  # the file, not the variable, holds the mistake
    assert message in str(error.value)


def test_a_missing_config_file_is_an_error_not_a_silent_default(env, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        configuration.load(tmp_path / "missing.toml")


def test_a_config_file_saved_in_latin_1_names_its_line_and_says_to_save_it_as_utf_8(env, tmp_path):
    path = tmp_path / "tenderwatch.toml"
    path.write_bytes("[crawl]\n# \u00a3 matters\ntimeout_seconds = 60\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        configuration.load(path)
    assert str(caught.value) == (
        f"{path}:2: not UTF-8 text (a character such as \u00a3 or \u00e9 on that line is in another "
        "encoding); save the config file as UTF-8 and run again"
    )


def test_lists_nested_hundreds_deep_in_the_config_are_reported_not_a_recursion_traceback(env, tmp_path):
    path = tmp_path / "tenderwatch.toml"
    path.write_text("[crawl]\nuser_agent = " + "[" * 1000 + "]" * 1000 + "\n")
    with pytest.raises(ConfigError) as caught:
        configuration.load(path)
    assert str(caught.value) == (
        f"{path}: not valid TOML: lists or tables nested too deeply; no setting nests so deep"
    )


def test_the_schema_revision_constant_is_alembics_head():
    assert head_revision() == SCHEMA_REVISION


def test_migrations_build_exactly_the_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, Base.metadata) == []


def test_an_unreadable_database_url_is_a_clear_error(env):
    with pytest.raises(ConfigError, match="the database URL is malformed: use sqlite:///PATH"):
        open_database("not a url")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://tw:Sec@ret:Pw0rd9@localhost/tw",  # the rest reads as a port
        "postgresql+psycopg://tw:Sec@retPart2@localhost/tw",  # the rest reads as a host
    ],
)
def test_a_password_with_a_bare_at_sign_is_refused_without_showing_any_of_it(env, monkeypatch, url):
    monkeypatch.setenv("TENDERWATCH_DB_URL", url)
    result = subprocess.run(
        [sys.executable, "-m", "tenderwatch", "status"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tenderwatch: the database URL is malformed; an '@' in the password")
    assert not any(part in result.stdout + result.stderr for part in ("Sec", "ret:", "retPart2", "Pw0rd9"))
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_file_that_is_not_a_database_is_a_clear_error_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("minutes of the bid meeting")
    with pytest.raises(
        StoreError, match=f"cannot open the database at sqlite:///{path}: file is not a database"
    ):
        open_database(f"sqlite:///{path}")
    assert path.read_text() == "minutes of the bid meeting"


def test_a_database_folder_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "data").write_text("")
    with pytest.raises(StoreError) as error:
        open_database(f"sqlite:///{tmp_path / 'data' / 'tenderwatch.db'}")
    assert f"cannot create the database's folder {tmp_path / 'data'}: " in str(error.value)


def test_a_relative_data_dir_in_the_file_is_relative_to_the_file(env, tmp_path, monkeypatch):
    monkeypatch.delenv("TENDERWATCH_DATA_DIR")
    monkeypatch.delenv("TENDERWATCH_DB_URL")
    (tmp_path / "conf").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "conf" / "tenderwatch.toml").write_text('data_dir = "data"\n')
    monkeypatch.chdir(tmp_path / "elsewhere")  # as cron runs it
    loaded = configuration.load("../conf/tenderwatch.toml")
    assert loaded.data_dir == tmp_path / "conf" / "data"
    assert loaded.db_url == f"sqlite:///{tmp_path / 'conf' / 'data' / 'tenderwatch.db'}"
    monkeypatch.setenv("TENDERWATCH_DATA_DIR", "data")  # the environment's is the shell's, from here
    assert configuration.load("../conf/tenderwatch.toml").data_dir == Path("data")


def test_days_are_read_by_short_or_full_name(env, tmp_path):
    path = tmp_path / "days.toml"
    path.write_text('[schedule]\ndigest_days = ["Mon", "friday", "WED"]\n')
    assert configuration.load(path).schedule.digest_days == ("mon", "fri", "wed")


def test_a_bad_log_level_in_the_environment_names_the_variable(env, monkeypatch):
    monkeypatch.setenv("TENDERWATCH_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as error:
        configuration.load()
    assert "environment variable TENDERWATCH_LOG_LEVEL: log_level must be DEBUG" in str(error.value)


def test_a_database_other_than_sqlite_or_postgresql_is_a_config_error(env):
    with pytest.raises(ConfigError, match="tenderwatch stores notices in SQLite or PostgreSQL"):
        open_database("mysql://db.example.org/bids")


def test_a_database_that_cannot_be_reached_is_one_line(env):
    with pytest.raises(StoreError) as error:
        open_database("postgresql+psycopg://tenderwatch@127.0.0.1:1/bids")
    assert "cannot open the database at postgresql+psycopg://tenderwatch@127.0.0.1:1/bids" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_data_dir_that_is_a_file_names_the_setting(env, tmp_path, monkeypatch):
    (tmp_path / "data").write_text("")
    monkeypatch.setenv("TENDERWATCH_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ConfigError) as error:
        configuration.load()
    assert f"environment variable TENDERWATCH_DATA_DIR: data_dir {tmp_path / 'data'} is a file" in str(
        error.value
    )


@pytest.mark.sqlite_only(reason="WAL, busy_timeout and BEGIN IMMEDIATE are how SQLite shares a file")
def test_sqlite_runs_in_wal_mode_and_writers_take_the_lock_up_front(database):
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    statements = []
    from sqlalchemy import event, text

    event.listen(
        database.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    with database.writing() as session:
        session.execute(text("SELECT 1"))
    assert statements[0] == "BEGIN IMMEDIATE"


# Each worker waits for round N's go file, connects to round N's new database file (switching it to
# WAL), and leaves a mark; a worker that fails prints why and stops.
WAL_RACER = """
import os, sys, time
from store.db import make_engine

folder, rounds = sys.argv[1], int(sys.argv[2])
for number in range(rounds):
    while not os.path.exists(f"{folder}/go-{number}"):
        time.sleep(0.001)
    make_engine(f"sqlite:///{folder}/new-{number}.db").connect().close()
    open(f"{folder}/done-{number}-{os.getpid()}", "w").close()
"""


@pytest.mark.sqlite_only(reason="switching a new file to WAL is SQLite's")
def test_processes_opening_a_new_sqlite_store_at_once_all_get_in(tmp_path):
    """SQLite answers a process that loses the race to switch a new file to WAL with "database is
    locked" at once, whatever the busy timeout; opening must wait and try again instead."""
    racers, rounds = 8, 60
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WAL_RACER, str(tmp_path), str(rounds)],
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(racers)
    ]
    try:
        for number in range(rounds):
            (tmp_path / f"go-{number}").touch()
            deadline = time.monotonic() + 60
            while len(list(tmp_path.glob(f"done-{number}-*"))) < racers:
                failed = [worker for worker in workers if worker.poll() not in (None, 0)]
                assert not failed and time.monotonic() < deadline, [w.stderr.read()[-600:] for w in failed]
                time.sleep(0.005)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[crawl]\ntimeout_seconds = nan\n", "[crawl] timeout_seconds must be a finite number, not 'nan'"),
        (
            "[digest]\nclosing_soon_days = inf\n",
            "[digest] closing_soon_days must be a finite number, not 'inf'",
        ),
        (
            "[digest]\nclosing_soon_days = 2.7\n",
            "[digest] closing_soon_days must be a whole number of at least 1, not 2.7",
        ),
        ("[sources.find_a_tender]\ndelay = nan\n", "[sources.find_a_tender] delay must be a finite number"),
        ("data_dir = 3\n", "data_dir must be a folder path in quotes"),
        (
            "[sources.find_a_tender]\ndelay = true\n",
            "[sources.find_a_tender] delay must be a number, not true",
        ),
        ('[schedule]\ndigest_days = ["friyay"]\n', "[schedule] digest_days must list days such as"),
        ('[[channels]]\nname = "x"\nurl = "mailtox://a@b"\n[scoring]\n', None),
    ],
)
def test_impossible_values_are_config_errors_not_tracebacks(env, tmp_path, monkeypatch, text, message):
    monkeypatch.delenv("TENDERWATCH_FIND_A_TENDER_DELAY")
    monkeypatch.delenv("TENDERWATCH_DATA_DIR")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    if message is None:  # a channel apprise cannot use is refused when channels are chosen
        from notify.run import targets

        [target] = targets(configuration.load(path))
        assert target.problem.startswith("channel 'x': apprise cannot use this 'mailtox://' URL")
        return
    with pytest.raises(ConfigError) as error:
        configuration.load(path)
    assert message in str(error.value)


def test_times_are_stored_as_utc_instants_and_read_back_aware(database):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select, text

    from store.models import SourceState

    summer = datetime(2026, 8, 10, 9, 30, 15, 250, tzinfo=ZoneInfo("Europe/London"))  # 08:30:15 UTC
    with database.writing() as session:
        session.add(SourceState(source="find_a_tender", watermark=summer))
    with database.reading() as session:
        stored = session.scalars(select(SourceState)).one().watermark
        found = select(func.count()).where(SourceState.watermark == summer.astimezone(UTC))
        assert session.scalar(found) == 1
        if database.engine.dialect.name == "sqlite":
            # The text SQLAlchemy's own SQLite DATETIME writes, so stores written before keep comparing.
            raw = session.execute(text("SELECT watermark FROM source_state")).scalar()
            assert raw == "2026-08-10 08:30:15.000250"
    assert stored == summer and stored.tzinfo == UTC


def test_a_time_without_a_zone_is_refused_not_guessed(database):
    from datetime import datetime

    from sqlalchemy.exc import StatementError

    from store.models import SourceState

    with database.writing() as session:
        session.add(SourceState(source="find_a_tender", watermark=datetime(2026, 8, 10, 9, 30)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_a_relative_sqlite_path_in_the_file_is_beside_the_file_wherever_the_command_runs(
    env, tmp_path, monkeypatch
):
    # Cron runs in another folder than the shell that set the store up: both must use one file.
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "tw.toml"
    path.write_text('[store]\nurl = "sqlite:///stores/bids.db?timeout=5"\n')
    monkeypatch.delenv("TENDERWATCH_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert configuration.load(path).db_url == f"sqlite:///{folder / 'stores' / 'bids.db'}?timeout=5"
    # A full path (four slashes) and the environment's relative path are left as written.
    path.write_text('[store]\nurl = "sqlite:////srv/bids.db"\n')
    assert configuration.load(path).db_url == "sqlite:////srv/bids.db"
    monkeypatch.setenv("TENDERWATCH_DB_URL", "sqlite:///bids.db")
    assert configuration.load(path).db_url == "sqlite:///bids.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the path is what comes before the query: a database in memory stays in memory
        ("sqlite:///:memory:?cache=shared", "sqlite:///:memory:?cache=shared"),
        ("sqlite:///?mode=memory", "sqlite:///?mode=memory"),
        # a URI filename's path is after "file:"
        ("sqlite:///file:bids.db?mode=ro&uri=true", "sqlite:///file:{folder}/bids.db?mode=ro&uri=true"),
        ("sqlite:///file:/srv/bids.db?uri=true", "sqlite:///file:/srv/bids.db?uri=true"),
    ],
)
def test_a_sqlite_url_in_the_file_in_memory_or_a_uri_filename_is_read_as_sqlite_reads_it(
    env, tmp_path, monkeypatch, url, expected
):
    folder = tmp_path / "etc"
    folder.mkdir()
    path = folder / "tw.toml"
    path.write_text(f'[store]\nurl = "{url}"\n')
    monkeypatch.delenv("TENDERWATCH_DB_URL", raising=False)
    assert configuration.load(path).db_url == expected.format(folder=folder.resolve())
