"""The operator's help: every command's help says what it takes, the same words for the same things,
global options placed after a command get the right order back, Teams failures name the host and
cause, and config mistakes name the file, key and bad value (never a secret). Through the real CLI.
"""

from __future__ import annotations

import pytest

from tenderwatch.config import FEEDS, SOURCE_DEFAULTS
from tests.support.cli import tenderwatch
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.above_the_store(reason="help, and the words of a mistake or a channel's failure")


def test_crawl_help_names_every_source():
    result = tenderwatch("crawl", "--help")
    assert result.returncode == 0
    listed = result.stdout.split("SOURCE is one of", 1)[1].split("Examples:", 1)[0]
    names = [line.split()[0] for line in listed.splitlines()[1:] if line.strip()]
    assert names == [*SOURCE_DEFAULTS, FEEDS]
    assert "sell2wales                 unverified; off unless enabled" in listed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["status", "--config", "x.toml"],
            "put --config before the command: tenderwatch --config x.toml status",
        ),
        (
            ["notices", "--limit", "3", "--config=my file.toml", "-v"],
            "put --config before the command: tenderwatch '--config=my file.toml' -v notices --limit 3",
        ),
        (  # given twice: the one before the command stays, the one after it goes
            ["--config", "x.toml", "status", "--config", "x.toml"],
            "put --config before the command: tenderwatch --config x.toml status",
        ),
        (
            ["sources", "check", "--verbose"],
            "put --verbose before the command: tenderwatch --verbose sources check",
        ),
    ],
)
def test_a_global_option_after_the_command_is_put_before_it_in_the_error(env, args, said):
    result = tenderwatch(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tenderwatch: {said}"


@pytest.mark.parametrize("command", ["export", "opportunities"])
def test_band_help_promises_no_score_order_where_the_command_keeps_its_own(command):
    # export streams the notices oldest first and opportunities lists the newest first, without a
    # score or a why: only `notices` ranks a band by score and says why a near miss fell short.
    result = tenderwatch(command, "--help")
    band_help = " ".join(result.stdout.split("--band [", 1)[1].split("\n  --profile", 1)[0].split())
    assert "best first" not in band_help
    assert "why" not in band_help


def test_notices_help_says_a_band_is_listed_best_first_with_why_for_near_misses():
    said = " ".join(tenderwatch("notices", "--help").stdout.split())
    assert "with --band, the best scores first" in said
    assert "for --band none each near miss with why it fell short" in said


def test_digest_help_names_the_weekly_section_of_contracts_ending_soon():
    said = " ".join(tenderwatch("digest", "--help").stdout.split())
    assert "on [digest] expiring_day (default Monday) the contracts in the firm's field ending soon" in said


def test_an_unknown_option_of_a_command_is_still_clicks_own_error(env):
    result = tenderwatch("status", "--frobnicate")
    assert result.returncode == 2
    assert "No such option '--frobnicate'" in result.stderr


def test_sources_and_status_say_on_and_off_never_yes_or_no(env):
    assert tenderwatch("db", "upgrade").returncode == 0
    sources = tenderwatch("sources").stdout
    status = tenderwatch("status", "--no-channel-check").stdout
    assert "find_a_tender              on       verified " in sources
    assert "sell2wales                 off      unverified against the live service" in sources
    assert "find_a_tender              on " in status and "sell2wales                 off " in status
    for output in (sources, status):
        assert " yes " not in output and " no " not in output


@pytest.mark.parametrize("path", [[], ["crawl"], ["sources", "check"], ["feedback", "import"]])
def test_help_shows_what_dash_dash_help_shows(path):
    asked = tenderwatch("help", *path)
    assert asked.returncode == 0
    assert asked.stdout == tenderwatch(*path, "--help").stdout
    assert asked.stdout.startswith(f"Usage: {' '.join(['tenderwatch', *path])} ")


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (["nope"], "there is no command 'nope': `tenderwatch help` lists them"),
        (["sources", "chek"], "there is no command 'sources chek': `tenderwatch help sources` lists them"),
        (["crawl", "x"], "there is no command 'crawl x': `tenderwatch help crawl` shows how to use it"),
    ],
)
def test_help_on_a_command_that_does_not_exist_says_where_to_look(path, said):
    result = tenderwatch("help", *path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"tenderwatch: {said}"


def test_the_group_help_lists_help_itself():
    listed = tenderwatch("--help").stdout.splitlines()
    help_lines = [line for line in listed if line.split(None, 1)[:1] == ["help"]]
    assert len(help_lines) == 1 and "Help on tenderwatch or one command" in help_lines[0]


# -------------------------------------------------------------------------------- Teams failures


def teams_digest(tmp_path, url: str):
    (tmp_path / "tenderwatch.toml").write_text(
        f'[digest]\nempty = "send"\n[[channels]]\nname = "bids-teams"\nurl = "{url}"\n'
    )
    assert tenderwatch("db", "upgrade").returncode == 0
    return tenderwatch("digest", "--channel", "bids-teams")


def test_a_teams_post_refused_names_the_host_and_the_http_status_never_the_url(env, tmp_path):
    teams = WebhookReceiver(status=500).start()
    try:
        result = teams_digest(tmp_path, teams.url())
        status = tenderwatch("status", "--no-channel-check")
    finally:
        teams.stop()
    assert result.returncode == 1
    said = f"the webhook at 127.0.0.1:{teams.port} answered HTTP 500 Internal Server Error"
    assert said in result.stdout
    assert said in status.stdout  # as the delivery log keeps it
    for text in (result.stdout, result.stderr, status.stdout):
        assert "signatureSECRET99" not in text and "workflow1234abcd" not in text


def test_a_teams_host_that_is_down_names_the_host_and_the_cause(env, tmp_path):
    teams = WebhookReceiver().start()
    teams.stop()
    result = teams_digest(tmp_path, teams.url())
    assert result.returncode == 1
    assert f"could not post to the webhook at 127.0.0.1:{teams.port}: Connection refused" in result.stdout
    assert "signatureSECRET99" not in result.stdout + result.stderr


# -------------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("data_dir = 3\n", "data_dir must be a folder path in quotes, not 3,"),
        ("crawl = 5\n", "[crawl] must be a table ([crawl] on a line of its own), not 5"),
        ("[crawl]\nuser_agent = 7\n", "[crawl] user_agent must be one line of text, not 7,"),
        ('[sources]\nfind_a_tender = "fast"\n', "[sources.find_a_tender] must be a table, not 'fast'"),
        ('feeds = "https://x.example/rss"\n', "not 'https://x.example/rss'"),
        (
            '[scoring]\nprofiles = "x"\n',
            "[scoring.profiles] must be a table of name = \"path/to/rules.yaml\", not 'x'",
        ),
        ("[scoring.profiles]\nbids = 4\n", "[scoring.profiles] bids must be the path of a rules file, e.g. "),
        (
            '[schedule]\ndigest_at = "07:30"\n',
            "[schedule] digest_at must be a list of times, e.g. [\"07:30\"], not '07:30'",
        ),
        ('[schedule]\ndigest_days = ["mon", "friyay"]\n', "not 'friyay'"),
        ("[schedule]\ndigest_days = []\n", "not an empty list"),
        ('[[channels]]\nname = "bids"\n', "[[channels]] #1 needs a name and an apprise url"),
    ],
)
def test_a_config_mistake_names_the_file_the_key_and_the_bad_value(env, tmp_path, text, said):
    (tmp_path / "tenderwatch.toml").write_text(text)
    result = tenderwatch("sources")
    assert result.returncode == 2, result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith("tenderwatch: tenderwatch.toml: ")
    assert said in line


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('channels = "mailtos://u:hunter2pass@redacted.invalid"\n', "tables, not text"),
        (
            'channels = ["mailtos://u:hunter2pass@redacted.invalid"]\n',
            "[[channels]] #1 must be a table with name and url, not text",
        ),
        (
            'store = "postgresql+psycopg://u:hunter2pass@db/tw"\n',
            "[store] must be a table ([store] on a line of its own), not text",
        ),
        (
            '[[channels]]\nurl = "mailtos://u:hunter2pass@redacted.invalid"\n',
            "needs a name and an apprise url",
        ),
    ],
)
def test_a_config_mistake_in_a_secret_setting_says_what_is_wrong_without_the_secret(
    env, tmp_path, text, said
):
    (tmp_path / "tenderwatch.toml").write_text(text)
    result = tenderwatch("sources")
    assert result.returncode == 2
    assert said in result.stderr
    assert "hunter2pass" not in result.stderr + result.stdout
