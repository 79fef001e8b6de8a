"""The bid lead's commands, through click: rules check/list, explain, backtest, feedback; exit codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from scoring import score_notice
from store.ingest import save_notices
from store.models import utcnow
from store.notice import Notice
from tenderwatch.cli import cli
from tests.scoring.helpers import EXAMPLE, example, real, real_notices, write

VRP = "find_a_tender:076396-2026"  # Violence Reduction Partnership Research and Evaluation
WORKS = "find_a_tender:075943-2026"  # Building 260 Refurbishment (works)
NOW = datetime(2026, 8, 12, 6, tzinfo=UTC)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def stored(database):
    with database.writing() as session:
        save_notices(session, [real(VRP), real(WORKS), real("find_a_tender:075962-2026")], now=NOW)
    return database


def test_rules_check_summarises_the_default_profile(env):
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert f"{EXAMPLE}: valid. Profile 'example'" in result.output
    assert "bands: strong from 40, possible from 22" in result.output
    assert "service lines (9):" in result.output
    assert "  Evaluation, research and economic analysis: " in result.output


def test_rules_check_and_explain_use_the_version_published_on_the_web_page(stored):
    from store.profiles import publish

    with stored.writing() as session:
        publish(session, "example", EXAMPLE.read_text().replace("strong: 40", "strong: 99"), "alice")
    checked = run("rules", "check")
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("the rules published with tenderwatch web: valid. Profile 'example'")
    assert "bands: strong from 99, possible from 22" in checked.output
    explained = run("explain", "find_a_tender:075962-2026")  # scores 43: strong under the file's 40
    assert "score 43, band possible" in explained.output  # strong from 99, as published


def test_rules_check_reports_a_bad_file_with_line_and_field_and_exits_2(env, tmp_path):
    bad = write(tmp_path, "service_lines:\n  - name: E\n    keywords:\n      evaluation: lots\n", "bad.yaml")
    result = CliRunner().invoke(cli, ["rules", "check", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"tenderwatch: {bad}:4: service_lines[1].keywords.evaluation: must be a number"
    )
    assert "Traceback" not in result.output


def test_rules_check_prints_every_mistake_each_on_its_line_the_first_as_before(env, tmp_path):
    text = (
        "scoring:\n  cpv_cap: 200\n"
        "service_lines:\n  - name: E\n    keywords:\n      evaluation: lots\n"
        "  - name: R\n    keywords:\n      review: 10\n"
        "  - name: S\n    cpv: {'7941': high}\n"
    )
    bad = write(tmp_path, text, "bad.yaml")
    result = CliRunner().invoke(cli, ["rules", "check", str(bad)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"tenderwatch: {bad}:2: scoring.cpv_cap: must be from 0 to 100, not 200; e.g. 20",
        f"tenderwatch: {bad}:6: service_lines[1].keywords.evaluation: must be a number from -100 to 100, "
        "not 'lots'; e.g. evaluation: 10",
        f"tenderwatch: {bad}:11: service_lines[3].cpv.7941: must be a number from 0 to 100, not 'high'; "
        "e.g. '79419': 10",
    ]


def test_rules_check_of_an_unknown_profile_exits_2(env):
    result = CliRunner().invoke(cli, ["rules", "check", "--profile", "nope"])
    assert result.exit_code == 2 and "unknown profile 'nope'" in result.output


def test_rules_list_marks_the_default(env, tmp_path, monkeypatch):
    rules = write(tmp_path, EXAMPLE.read_text(), "mine.yaml")
    config = write(
        tmp_path,
        f'[scoring]\ndefault_profile = "mine"\n[scoring.profiles]\nmine = "{rules.name}"\n',
        "t.toml",
    )
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(config))
    result = run("rules", "list")
    assert result.exit_code == 0
    assert "  example  " in result.output and f"* mine     {rules}  the file" in result.output


def test_a_broken_rules_file_is_reported_by_rules_list_and_status_and_stops_the_daemon(
    env, tmp_path, monkeypatch
):
    bad = write(tmp_path, "service_lines:\n  - name: E\n    keywords:\n      consultancy: high\n", "bad.yaml")
    config = write(
        tmp_path,
        f'[scoring]\ndefault_profile = "firm"\n[scoring.profiles]\nfirm = "{bad.name}"\n',
        "t.toml",
    )
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(config))
    problem = f"{bad}:4: service_lines[1].keywords.consultancy: must be a number"
    listed = run("rules", "list")
    assert listed.exit_code == 0 and f"* firm     {bad}  the file    INVALID: {problem}" in listed.output
    status = run("status")
    assert status.exit_code == 1
    assert f"no digest can be sent: {problem}" in status.output and "All well" not in status.output
    daemon = run("daemon")  # refuses before it starts: no crawl, no loop
    assert daemon.exit_code == 2 and problem in daemon.output


def test_a_missing_rules_file_stops_only_the_commands_that_use_its_profile(env, tmp_path, monkeypatch):
    config = write(tmp_path, '[scoring.profiles]\nspare = "moved.yaml"\n', "t.toml")
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(config))
    moved = tmp_path / "moved.yaml"
    problem = f"profile 'spare': its rules file {moved} does not exist; check [scoring.profiles] spare"
    listed = run("rules", "list")
    assert listed.exit_code == 0 and f"spare    {moved}  the file    INVALID: {problem}" in listed.output
    assert run("sources").exit_code == 0  # crawling and the example profile's digest go on
    assert run("status", "--no-channel-check").exit_code == 0
    used = run("notices", "--band", "strong", "--profile", "spare")
    assert used.exit_code == 2 and used.output.strip() == f"tenderwatch: {problem}"


def test_explain_shows_the_notice_its_score_and_every_reason(stored):
    result = run("explain", VRP)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{VRP}  Violence Reduction Partnership Research and Evaluation"
    assert (
        "profile example: score 100 (raw 162.5, shown as 100), band strong, "
        "service line Evaluation, research and economic analysis" in lines
    )
    assert any(
        line.startswith("why: Evaluation, research and economic analysis: 'research and evaluation'")
        for line in lines
    )
    assert any(line.startswith("+40") and "keyword research and evaluation" in line for line in lines)
    assert "(closed on 2026-08-28)" in lines[1]
    reasons = score_notice(real(VRP), example()).reasons
    table = lines[lines.index(next(line for line in lines if line.startswith("points"))) + 1 : -1]
    assert len(reasons) > 4 and len(table) == len(reasons)  # one row per reason, in order
    assert lines[-1] == "total +100 = score 100"
    for row, reason in zip(table, reasons, strict=True):
        assert row.split()[0] == f"{reason.points:+g}" and reason.rule in row


def test_explain_a_gated_notice_says_why(stored):
    result = run("explain", WORKS)
    assert "score 0, band none, service line -" in result.output
    assert "why: not a fit: works contract (CPV 45*)" in result.output


def test_explain_an_unknown_notice_exits_2(stored):
    result = CliRunner().invoke(cli, ["explain", "find_a_tender:nope"])
    assert result.exit_code == 2 and "no notice 'find_a_tender:nope'" in result.output


def test_backtest_counts_bands_and_lists_what_a_candidate_moves(stored, tmp_path):
    candidate = write(tmp_path, EXAMPLE.read_text().replace("strong: 40", "strong: 90"), "candidate.yaml")
    run("feedback", VRP, "relevant")
    result = run("backtest", "--rules", str(candidate))
    assert result.exit_code == 0, result.output
    assert "3 notices" in result.output
    assert (
        "strong    2     1          -1\npossible  0     1          +1\nnone      1     1          +0"
        in result.output
    )
    assert "Moved up by the candidate (0):" in result.output
    assert (
        "Moved down (1):\n  strong -> possible   43 -> 43  not judged    find_a_tender:075962-2026  "
        "HULME PLAN DEVELOPMENT" in (result.output)
    )
    assert "Against feedback (1 judged notice, 1 relevant):" in result.output
    assert (
        "band             live precision  recall  candidate precision  recall\n"
        "strong           100% (1 of 1)   100%    100% (1 of 1)        100%\n"
        "possible         - (0 of 0)      0%      - (0 of 0)           0%\n"
        "strong+possible  100% (1 of 1)   100%    100% (1 of 1)        100%\n"
    ) in result.output
    assert "Relevant, in no band under the candidate rules (0):" in result.output


def test_backtest_lists_the_judged_notices_each_band_gets_wrong(stored, tmp_path):
    run("feedback", VRP, "relevant")
    run("feedback", "find_a_tender:075962-2026", "not-relevant")  # Hulme, strong under the example rules
    result = run("backtest")
    lines = result.output.splitlines()
    assert "strong           50% (1 of 2)    100%" in result.output
    wrong = lines.index("Not relevant, yet strong or possible under the live rules (1):")
    assert lines[wrong + 1].split()[:3] == ["strong", "43", "find_a_tender:075962-2026"]
    stricter = write(tmp_path, EXAMPLE.read_text().replace("strong: 40", "strong: 100"), "c.yaml")
    with_candidate = run("backtest", "--rules", str(stricter))
    assert (  # moved notices show the team's label
        "strong -> possible   43 -> 43  not-relevant  find_a_tender:075962-2026  HULME PLAN DEVELOPMENT"
        in with_candidate.output
    )
    assert "Not relevant, yet strong or possible under the candidate rules (1):" in with_candidate.output
    assert "strong           50% (1 of 2)    100%    100% (1 of 1)        100%" in with_candidate.output


def test_backtest_without_feedback_says_how_to_record_it(stored):
    result = run("backtest", "--since", "1d")
    assert result.exit_code == 0
    assert "0 notices" in result.output  # published more than a day ago
    assert "No feedback on these notices yet" in result.output


def test_a_bad_candidate_file_exits_2(stored, tmp_path):
    candidate = write(tmp_path, "service_lines: []\n", "candidate.yaml")
    result = CliRunner().invoke(cli, ["backtest", "--rules", str(candidate)])
    assert (
        result.exit_code == 2
        and "candidate.yaml:1: service_lines: needs at least one service line" in result.output
    )


def test_feedback_add_the_shorthand_and_list(stored):
    assert run("feedback", "add", VRP, "not-relevant").exit_code == 0
    result = run("feedback", VRP, "relevant", "--note", "VRU evaluation")
    assert result.exit_code == 0 and result.output == f"{VRP}: relevant\n"
    unknown = CliRunner().invoke(cli, ["feedback", "contracts_finder:abc", "not-relevant"])
    assert unknown.exit_code == 2 and "no notice 'contracts_finder:abc' in the store" in unknown.output
    listed = run("feedback", "list").output.splitlines()
    assert listed[1].split()[:2] == [VRP, "relevant"] and listed[1].endswith("VRU evaluation")
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feedback", VRP, "maybe"], "'maybe' is not a label; write relevant or not relevant (any case)"),
        (
            ["feedback", "999999-2026", "relevant"],
            "no notice '999999-2026' in the store: ids look like find_a_tender:076396-2026",
        ),
        (["feedback", "find_a_tender", "relevant"], "no notice 'find_a_tender' in the store"),
    ],
)
def test_feedback_rejects_bad_arguments_with_exit_2(stored, args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output


def test_a_notice_can_be_named_by_the_id_its_link_shows(stored):
    """The digest links to .../Notice/076396-2026: that id is enough while only one source has it."""
    runner = CliRunner()
    shown = runner.invoke(cli, ["show", "076396-2026"]).output.splitlines()[0]
    assert shown.strip() == "title: Violence Reduction Partnership Research and Evaluation"
    assert runner.invoke(cli, ["explain", "076396-2026"]).output.startswith(f"{VRP}  ")
    assert runner.invoke(cli, ["feedback", "076396-2026", "relevant"]).output == f"{VRP}: relevant\n"
    with stored.writing() as session:  # another source with the same id of its own
        save_notices(session, [Notice(source="email", source_id="076396-2026", title="x")], now=utcnow())
    both = runner.invoke(cli, ["show", "076396-2026"])
    assert both.exit_code == 2
    both_ids = "email:076396-2026, find_a_tender:076396-2026"
    assert f"'076396-2026' is the id of 2 notices ({both_ids}): give one in full" in both.output


def test_feedback_import_checks_the_whole_file_first(stored, tmp_path):
    good = write(tmp_path, f"id,label,note\n{VRP},relevant,VRU\n{WORKS},not-relevant,\n", "good.csv")
    result = run("feedback", "import", str(good))
    assert result.exit_code == 0 and result.output == f"{good}: imported 2 judgements\n"
    bad = write(tmp_path, f"id,label\n{VRP},relevant\n{WORKS},maybe\n", "bad.csv")
    result = CliRunner().invoke(cli, ["feedback", "import", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3: field 'label': 'maybe' is not a label; write relevant or not relevant" in result.output
    assert len(run("feedback", "list").output.splitlines()) == 3  # nothing of bad.csv was imported


def test_feedback_import_notes_ids_not_in_the_store_yet(stored, tmp_path):
    # A spreadsheet's export: empty trailing cells.
    rows = f"id,label,note\n{VRP},relevant,,\ncontracts_finder:abc,not-relevant,,\n"
    path = write(tmp_path, rows, "labels.csv")
    result = run("feedback", "import", str(path))
    assert result.exit_code == 0
    assert (
        "note: not in the store yet: contracts_finder:abc; they count once they are crawled" in result.output
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title,label\nx:1,relevant\n", ":1: the first line must name an id column"),
        ("id,note\nx:1,relevant\n", ":1: the first line must name an id column (id, key, notice, notice_id)"),
        ("id,label\n,relevant\n", ":2: field 'id' is empty"),
        ("id,label\nnot an id,relevant\n", ":2: field 'id': 'not an id' is not a notice id"),
        ("id,label\nx:1,relevant,too late, sadly\n", ":2: 4 fields, but the first line names 2 columns"),
        # Read leniently, an unclosed quote swallowed the rest of the file: "imported 0 judgements".
        ('id,label\n"x:1,relevant\n', ":2: not valid CSV (unexpected end of data); a value that opens"),
    ],
)
def test_feedback_import_errors_name_line_and_field(stored, tmp_path, text, message):
    path = write(tmp_path, text, "labels.csv")
    result = CliRunner().invoke(cli, ["feedback", "import", str(path)])
    assert result.exit_code == 2 and f"{path}{message}" in result.output


def test_the_profile_can_come_from_the_environment(stored, tmp_path, monkeypatch):
    rules = write(tmp_path, EXAMPLE.read_text().replace("strong: 40", "strong: 100"), "strict.yaml")
    config = write(tmp_path, f'[scoring.profiles]\nstrict = "{rules}"\n', "t.toml")
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(config))
    monkeypatch.setenv("TENDERWATCH_PROFILE", "strict")
    assert "profile strict: score 43, band possible" in run("explain", "find_a_tender:075962-2026").output
    assert (
        "profile example: score 43, band strong"
        in run("explain", "find_a_tender:075962-2026", "--profile", "example").output
    )


def test_every_scoring_command_has_help_with_an_example(env):
    for args in (["rules"], ["rules", "check"], ["rules", "list"], ["explain"], ["backtest"], ["feedback"]):
        result = run(*args, "--help")
        assert result.exit_code == 0 and "Example" in result.output, args
    for sub in ("add", "import", "list"):
        assert "Example" in run("feedback", sub, "--help").output


def listed(output: str) -> dict[str, int]:
    """`notices` table rows with a score column: {notice id: score}."""
    rows = [line.split() for line in output.splitlines()[1:]]
    return {row[0]: int(row[1]) for row in rows}


def test_notices_of_a_band_are_the_notices_the_rules_put_there_each_with_its_score(env, database):
    notices = real_notices()
    with database.writing() as session:
        save_notices(session, list(notices), now=NOW)
    scores = {notice.id: score_notice(notice, example()) for notice in notices}

    strong = listed(run("notices", "--band", "strong", "--limit", "0").output)
    either = listed(run("notices", "--band", "strong", "--band", "possible", "--limit", "0").output)

    assert strong == {key: s.score for key, s in scores.items() if s.band == "strong"} != {}
    assert either == {key: s.score for key, s in scores.items() if s.band in ("strong", "possible")}
    assert len(either) > len(strong)
    everything = run("notices", "--profile", "example", "--limit", "0").output  # a score column only
    assert listed(everything) == {key: s.score for key, s in scores.items()}


def test_notices_of_a_band_follow_a_rules_change_at_once(env, database, tmp_path, monkeypatch):
    hulme = "find_a_tender:075962-2026"  # Hulme Plan Development: 43 under the example rules
    with database.writing() as session:
        save_notices(session, [real(hulme), real(WORKS)], now=NOW)
    assert listed(run("notices", "--band", "strong").output) == {hulme: 43}
    stricter = write(tmp_path, EXAMPLE.read_text().replace("strong: 40", "strong: 80"), "strict.yaml")
    config = f'[scoring]\ndefault_profile = "example"\n[scoring.profiles]\nexample = "{stricter.name}"\n'
    monkeypatch.setenv("TENDERWATCH_CONFIG", str(write(tmp_path, config, "t.toml")))
    result = run("notices", "--band", "strong")
    assert "No notice matches these filters (2 notices stored): widen them." in result.output
    assert listed(run("notices", "--band", "possible").output) == {hulme: 43}


@pytest.mark.sqlite_only(reason="SQLite's one writer at a time: a held write lock")
def test_notices_of_a_band_need_no_write_lock_when_scores_are_current_and_say_so_when_busy(
    env, database, monkeypatch
):
    import sqlite3

    import store.db

    with database.writing() as session:
        save_notices(session, [real(VRP)], now=NOW)
    assert set(listed(run("notices", "--band", "strong").output)) == {VRP}  # scores stored
    monkeypatch.setattr(store.db, "BUSY_TIMEOUT", 1)  # for the CLI's own engine
    writer = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a long crawl holds it
    try:
        assert set(listed(run("notices", "--band", "strong").output)) == {VRP}  # a read, at once
        writer.execute("UPDATE scores SET rules_hash = 'older rules'")  # stale: now it must write
        writer.execute("COMMIT")
        writer.execute("BEGIN IMMEDIATE")
        busy = CliRunner().invoke(cli, ["notices", "--band", "strong"])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert busy.exit_code == 1
    assert busy.output.startswith("tenderwatch: the store is busy: another process has been writing to it")
    assert "Traceback" not in busy.output
