"""The bid lead tuning the rules (issue 19, points 8-11), through the real CLI on a real store of
recorded notices: reasons that add up, ranking above 100, rules files tried anywhere, near misses,
word forms, and feedback round trips."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from scoring import score_notice
from scoring.report import wilson_interval
from store.db import Database
from store.ingest import save_notices
from tests.scoring.helpers import example, real
from tests.support.cli import tenderwatch

NOW = datetime(2026, 8, 12, 6, tzinfo=UTC)
VRP = "find_a_tender:076396-2026"  # Violence Reduction Partnership Research and Evaluation: raw 162.5
DFT = "find_a_tender:075573-2026"  # DfT shared research and evaluation framework: raw 172
BHCC = "find_a_tender:076068-2026"  # Pride in Place community engagement: raw 126.75
PROCUREMENT = "find_a_tender:075610-2026"  # Procurement consultancy: 85.75, shown as 86
NELFT = "find_a_tender:075929-2026"  # VCS core contract: a negative raw total, shown as 0
SECURITY = "contracts_finder:490c2177-bd1c-43b0-b35a-896eba9862dc"  # an evaluation tender: raw 152


def store(database: Database, *notices) -> None:
    with database.writing() as session:
        save_notices(session, list(notices), now=NOW)


def reason_rows(output: str) -> list[float]:
    """The points column of explain's reasons table."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("points")) + 1
    rows = []
    for line in lines[start:]:
        if not re.match(r"^[+-]\d", line):
            break
        rows.append(float(line.split()[0]))
    return rows


# ---------------------------------------------------------------------------------------------- point 8


@pytest.mark.parametrize(
    ("key", "score", "clamp_rule"),
    [(VRP, 100, "score cap"), (NELFT, 0, "score floor"), (PROCUREMENT, 86, None)],
)
def test_explains_reasons_add_up_to_the_score_with_the_cap_and_floor_as_rows(
    env, database, key, score, clamp_rule
):
    raw = score_notice(real(key), example()).raw
    assert (raw > 100, raw < 0) == (clamp_rule == "score cap", clamp_rule == "score floor")
    store(database, real(key))
    result = tenderwatch("explain", key)
    assert result.returncode == 0, result.stderr
    rows = reason_rows(result.stdout)
    assert round(sum(rows)) == score  # the rows add up, the cap or the floor included
    if clamp_rule:
        assert f"score {score} (raw {raw:g}, shown as {score})" in result.stdout
        clamp = next(line for line in result.stdout.splitlines() if clamp_rule in line)
        assert clamp.startswith(f"{score - raw:+g}") and f"raw {raw:g}, shown as {score}" in clamp
        assert f"total {score:+g} = score {score}" in result.stdout
    else:
        assert "raw" not in result.stdout.split("why:")[0]
        assert f"total {raw:+g}, rounded to score {score}" in result.stdout


def test_notices_in_a_band_rank_by_the_raw_total_above_100(env, database):
    store(database, real(DFT), real(VRP), real(BHCC), real(PROCUREMENT))
    result = tenderwatch("notices", "--band", "strong")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    # Newest first would be VRP, BHCC, PROCUREMENT, DFT: three of them are shown as 100.
    assert listed == [DFT, VRP, BHCC, PROCUREMENT]
    assert re.search(rf"^{DFT}\s+100 \(raw 172\)", result.stdout, re.M)
    assert re.search(rf"^{PROCUREMENT}\s+86\s", result.stdout, re.M)


def test_the_digest_ranks_matches_shown_as_100_by_their_raw_total(env, database, tmp_path):
    # The second tender shown as 100 closes sooner: ranked by score, then deadline, it came first.
    security = replace(
        real(SECURITY),
        published_at=datetime(2026, 8, 11, 9, tzinfo=UTC),
        deadline=datetime(2026, 8, 25, 12, tzinfo=UTC),
    )
    assert score_notice(security, example()).raw == 152
    store(database, real(VRP), security)
    out = tmp_path / "digest.html"
    result = tenderwatch("digest", "--dry-run", "--as-of", "2026-08-12T07:30", "--output", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert 0 < html.index("Violence Reduction Partnership") < html.index("Better Security")


# ---------------------------------------------------------------------------------------------- point 9


@pytest.fixture
def candidate(tmp_path):
    """A copy of the example rules that asks 95 points for strong: the procurement notice (86) drops."""
    from tests.scoring.helpers import EXAMPLE

    path = tmp_path / "candidate.yaml"
    path.write_text(EXAMPLE.read_text().replace("strong: 40", "strong: 95"))
    return path


def stored_scores(database: Database, profile: str) -> int:
    from sqlalchemy import func, select

    from store.models import ScoreRow

    with database.reading() as session:
        return session.scalar(select(func.count()).where(ScoreRow.profile == profile))


def test_explain_tries_a_candidate_rules_file_beside_the_live_rules(env, database, candidate):
    store(database, real(PROCUREMENT))
    result = tenderwatch("explain", PROCUREMENT, "--rules", str(candidate))
    assert result.returncode == 0, result.stderr
    assert "score 86, band possible" in result.stdout
    assert "live profile example: score 86, band strong; the candidate moves it strong -> possible" in (
        result.stdout
    )
    as_profile = tenderwatch("explain", PROCUREMENT, "--profile", str(candidate))
    assert "profile file:candidate: score 86, band possible" in as_profile.stdout
    missing = tenderwatch("explain", PROCUREMENT, "--rules", "nope.yaml")
    assert missing.returncode == 2 and "nope.yaml: no such rules file" in missing.stderr


def test_a_rules_file_as_profile_lists_and_exports_its_bands_and_stores_no_score(env, database, candidate):
    store(database, real(DFT), real(VRP), real(BHCC), real(PROCUREMENT))
    tried = tenderwatch("notices", "--band", "strong", "--profile", str(candidate))
    assert tried.returncode == 0, tried.stderr
    assert [line.split()[0] for line in tried.stdout.splitlines()[1:]] == [DFT, VRP, BHCC]
    exported = tenderwatch("export", "--format", "csv", "--band", "possible", "--profile", str(candidate))
    assert exported.returncode == 0, exported.stderr
    assert PROCUREMENT in exported.stdout and VRP not in exported.stdout
    assert stored_scores(database, "file:candidate") == 0  # tried, never stored
    live = tenderwatch("notices", "--band", "strong")
    assert PROCUREMENT in live.stdout and stored_scores(database, "example") == 4


def test_every_scoring_command_takes_a_rules_file_as_profile(env, database, candidate):
    store(database, real(PROCUREMENT))
    checked = tenderwatch("rules", "check", "--profile", str(candidate))
    assert checked.returncode == 0 and f"{candidate}: valid" in checked.stdout
    assert "strong from 95" in checked.stdout
    backtest = tenderwatch("backtest", "--profile", str(candidate))
    assert backtest.returncode == 0, backtest.stderr
    assert re.search(r"^possible\s+1$", backtest.stdout, re.M)
    unknown = tenderwatch("explain", PROCUREMENT, "--profile", "nope")
    assert unknown.returncode == 2
    assert "unknown profile 'nope'" in unknown.stderr and "or give the path of a rules file" in unknown.stderr
    for command in (["explain"], ["notices"], ["export"], ["backtest"], ["digest"], ["rules", "check"]):
        shown = tenderwatch(*command, "--help").stdout
        assert "--profile NAME|FILE" in shown, command


def test_a_candidate_digest_is_previewed_without_a_channel_and_records_nothing(
    env, database, candidate, tmp_path
):
    from sqlalchemy import func, select

    from store.models import DigestRow

    store(database, real(VRP), real(PROCUREMENT))
    out = tmp_path / "candidate.html"
    args = ("digest", "--profile", str(candidate), "--as-of", "2026-08-12T07:30")
    result = tenderwatch(*args, "--dry-run", "--output", str(out))
    assert result.returncode == 0, result.stderr
    strong, possible = result.stdout.split("Strong matches:")[1].split("Possible matches:")
    assert VRP in strong and PROCUREMENT in possible
    assert "nothing sent or recorded" in result.stdout
    assert "Procurement Consultancy" in out.read_text()
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(DigestRow)) == 0
    assert stored_scores(database, "file:candidate") == 0
    assert not (tmp_path / "data" / "digests").exists()
    sent = tenderwatch(*args)
    assert sent.returncode == 2 and "a rules file is only tried (add --dry-run)" in sent.stderr


def test_a_profile_no_channel_serves_is_previewed_with_dry_run(env, database, candidate, tmp_path):
    from tests.scoring.helpers import EXAMPLE

    config = tmp_path / "tenderwatch.toml"
    config.write_text(
        f'[scoring.profiles]\nstrict = "{candidate}"\nloose = "{EXAMPLE}"\n\n'
        '[[channels]]\nname = "bids"\nurl = "mailto://127.0.0.1:9/?to=bids@example.org"\nprofile = "loose"\n'
    )
    store(database, real(VRP), real(PROCUREMENT))
    result = tenderwatch("digest", "--profile", "strict", "--dry-run", "--as-of", "2026-08-12T07:30")
    assert result.returncode == 0, result.stderr
    assert "profile strict, as file would get it" in result.stdout
    assert PROCUREMENT in result.stdout.split("Possible matches:")[1]
    as_bids = tenderwatch(
        "digest", "--profile", str(candidate), "--channel", "bids", "--dry-run", "--as-of", "2026-08-12T07:30"
    )
    assert as_bids.returncode == 0 and "as bids would get it" in as_bids.stdout


# ---------------------------------------------------------------------------------------------- point 10

NEAR_MISS = "find_a_tender:075933-2026"  # 4 points; its last adjustment: not marked suitable for SMEs


def test_a_near_miss_says_how_far_it_fell_short_first(env, database):
    import csv

    store(database, real(NEAR_MISS))
    why = "4 points, 22 needed (Digital change and channel shift): for 'it strategies' in the description"
    explained = tenderwatch("explain", NEAR_MISS)
    assert explained.returncode == 0, explained.stderr
    assert f"why: {why}; against not marked suitable for SMEs (-2)" in explained.stdout
    exported = tenderwatch("export", "--format", "csv", "--profile", "example")  # from the stored score
    rows = list(csv.DictReader(exported.stdout.lstrip("\ufeff").splitlines()))
    assert rows[0]["why"].startswith(why)


# ---------------------------------------------------------------------------------------------- point 11


def csv_rows(text: str) -> list[dict[str, str]]:
    import csv

    return list(csv.DictReader(text.lstrip("\ufeff").splitlines()))


def latest_labels(database: Database) -> dict[str, str]:
    from store.scores import latest_feedback

    with database.reading() as session:
        return latest_feedback(session)


def test_the_export_csv_with_a_label_column_added_imports_as_it_is(env, database, tmp_path):
    import csv

    store(database, real(VRP), real(PROCUREMENT), real(NEAR_MISS))
    exported = tenderwatch("export", "--format", "csv", "--profile", "example", "-o", "matches.csv")
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "matches.csv").open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    # As a spreadsheet would: a label column inserted after the title, one row left unjudged.
    at = rows[0].index("title") + 1
    labels = {VRP: "Relevant", PROCUREMENT: "not relevant", NEAR_MISS: ""}
    judged = [[*row[:at], "label" if row[0] == "id" else labels[row[0]], *row[at:]] for row in rows]
    with (tmp_path / "judged.csv").open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(judged)
    result = tenderwatch("feedback", "import", "judged.csv")
    assert result.returncode == 0, result.stderr
    assert "judged.csv: imported 2 judgements; skipped 1 row without a label" in result.stdout
    assert latest_labels(database) == {VRP: "relevant", PROCUREMENT: "not-relevant"}


def test_a_bad_label_in_a_feedback_file_names_its_line_and_imports_nothing(env, database, tmp_path):
    store(database, real(VRP), real(PROCUREMENT))
    rows = f"note,label,title,key\n,relevant,x,{VRP}\nmaybe,perhaps,y,{PROCUREMENT}\n"  # any column order
    (tmp_path / "bad.csv").write_text(rows)
    result = tenderwatch("feedback", "import", "bad.csv")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "tenderwatch: bad.csv:3: field 'label': 'perhaps' is not a label; write relevant or not relevant "
        "(any case); fix the row and import again"
    )
    assert latest_labels(database) == {}
    (tmp_path / "no-id.csv").write_text("title,label\nx,relevant\n")
    no_id = tenderwatch("feedback", "import", "no-id.csv")
    assert no_id.returncode == 2 and "no-id.csv:1: the first line must name an id column" in no_id.stderr


def test_a_description_longer_than_the_csv_modules_limit_imports_as_exported(env, database, tmp_path):
    # The export writes descriptions whole; one of 200,000 characters was refused as "field larger
    # than field limit (131072)", with advice about a double quote the file had closed.
    store(database, real(VRP))
    description = "A review of the service. " * 8000
    (tmp_path / "judged.csv").write_text(f'id,label,description\n{VRP},relevant,"{description}"\n')
    result = tenderwatch("feedback", "import", "judged.csv")
    assert result.returncode == 0, result.stderr
    assert latest_labels(database) == {VRP: "relevant"}


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_file_saved_with_semicolons_or_tabs_imports_as_with_commas(env, database, tmp_path, separator):
    # Excel where the comma is the decimal mark saves "CSV" with semicolons; "Text" with tabs. The
    # note holds a comma, which such a file need not quote.
    store(database, real(VRP), real(PROCUREMENT))
    rows = [["id", "label", "note"], [VRP, "Relevant", "yes, a review"], [PROCUREMENT, "not relevant", ""]]
    text = "".join(separator.join(row) + "\r\n" for row in rows)
    (tmp_path / "judged.csv").write_text(text, encoding="utf-8-sig")
    result = tenderwatch("feedback", "import", "judged.csv")
    assert result.returncode == 0, result.stderr
    assert latest_labels(database) == {VRP: "relevant", PROCUREMENT: "not-relevant"}
    (tmp_path / "grades.csv").write_text(f"id{separator}grade\n{VRP}{separator}2\n")
    graded = tenderwatch("backtest", "--grades", "grades.csv")
    assert graded.returncode == 0, graded.stderr
    assert "Against the grades (1 judged notice" in graded.stdout


@pytest.mark.parametrize("written", ["Relevant", "RELEVANT", "not relevant", "Not-Relevant", "not_relevant"])
def test_a_label_is_accepted_on_the_command_line_in_any_case_and_stored_in_one_form(env, database, written):
    store(database, real(VRP))
    result = tenderwatch("feedback", VRP, written)
    assert result.returncode == 0, result.stderr
    stored = "not-relevant" if "not" in written.lower() else "relevant"
    assert result.stdout == f"{VRP}: {stored}\n" and latest_labels(database) == {VRP: stored}


def test_a_mistyped_notice_id_is_refused_with_the_nearest_stored_ids(env, database):
    store(database, real(VRP), real(PROCUREMENT))
    typo = "find_a_tender:076369-2026"  # 076396 with two digits swapped
    for command in (["feedback", "add", typo, "relevant"], ["explain", typo], ["show", typo]):
        result = tenderwatch(*command)
        assert result.returncode == 2, command
        assert result.stderr.strip() == (
            f"tenderwatch: no notice '{typo}' in the store: did you mean {VRP}? (see `tenderwatch notices`)"
        )
    short = tenderwatch("explain", "076369-2026")
    assert short.returncode == 2 and f"did you mean {VRP}?" in short.stderr
    assert latest_labels(database) == {}
    nothing_near = tenderwatch("feedback", "add", "find_a_tender:999999-2026", "relevant")
    assert nothing_near.returncode == 2 and "ids look like find_a_tender:076396-2026" in nothing_near.stderr


def test_feedback_list_shows_titles_labels_notes_and_when(env, database):
    store(database, real(VRP), real(PROCUREMENT))
    tenderwatch("feedback", VRP, "relevant", "--note", "VRU evaluation")
    tenderwatch("feedback", PROCUREMENT, "not relevant")
    result = tenderwatch("feedback", "list")
    assert result.returncode == 0, result.stderr
    header, newest, older = result.stdout.splitlines()
    assert header.split() == ["notice", "label", "recorded", "title", "note"]
    assert newest.startswith(PROCUREMENT) and "not-relevant" in newest
    assert "Procurement Consultancy" in newest
    assert older.startswith(VRP) and "Violence Reduction Partnership" in older
    assert older.endswith("VRU evaluation")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", older)


def test_backtest_rules_shows_the_teams_label_beside_each_moved_notice(env, database, candidate):
    store(database, real(VRP), real(PROCUREMENT), real("find_a_tender:075735-2026"))
    tenderwatch("feedback", PROCUREMENT, "relevant")
    result = tenderwatch("backtest", "--rules", str(candidate))
    assert result.returncode == 0, result.stderr
    moved = result.stdout.split("Moved down (")[1].split("\n\n")[0].splitlines()[1:]
    assert len(moved) == 2  # 075735 (69) and the procurement notice (86) drop to possible
    procurement = next(line for line in moved if PROCUREMENT in line)
    other = next(line for line in moved if "075735" in line)
    assert re.search(rf"86 -> 86 +relevant +{PROCUREMENT}  Procurement Consultancy", procurement)
    assert re.search(r"69 -> 69 +not judged +find_a_tender:075735-2026  Economic impact", other)


def test_notices_band_none_lists_near_misses_first_with_why(env, database):
    store(database, real(VRP), real(NEAR_MISS), real(NELFT), real("find_a_tender:075943-2026"))
    result = tenderwatch("notices", "--band", "none")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-1] == "why"
    listed = [line.split()[0] for line in lines[1:]]
    assert listed[0] == NEAR_MISS and VRP not in listed and len(listed) == 3
    assert "4 points, 22 needed (Digital change" in lines[1]
    assert "not a fit: works contract" in result.stdout


@pytest.mark.parametrize(
    ("hits", "total", "shown"),
    [(22, 30, "56-86%"), (8, 8, "68-100%"), (0, 10, "0-28%"), (1, 2, "9-91%")],  # Wilson's, as tabulated
)
def test_a_figures_interval_is_wilsons(hits, total, shown):
    assert wilson_interval(hits, total) == shown


def test_backtest_against_grades_lists_must_see_misses_apart_and_what_it_could_not_measure(
    env, database, tmp_path
):
    store(database, real(VRP), real(NELFT))
    unstored = "find_a_tender:999999-2026"
    rows = f"id,grade,title\n{VRP},2,x\n{NELFT},2,y\n{unstored},2,z\n{PROCUREMENT},,not graded yet\n"
    (tmp_path / "grades.csv").write_text("\ufeff" + rows, encoding="utf-8")  # as a spreadsheet saves it
    result = tenderwatch("backtest", "--grades", "grades.csv")
    assert result.returncode == 0, result.stderr
    assert "Against the grades (2 judged notices, 2 relevant):" in result.stdout
    assert re.search(r"^must see +- +50% \(1 of 2\)$", result.stdout, re.MULTILINE)
    # Two judged notices say little: the intervals (Wilson's, 1 of 2: 9-91%) say how little.
    assert "How rough these figures are with so few judged notices (95% intervals):" in result.stdout
    assert (
        "  live: strong+possible precision 21-100%, recall 9-91%, strong precision 21-100%, "
        "must-see recall 9-91%\n" in result.stdout
    )
    assert "1 row without a grade left out." in result.stdout
    assert (
        f"1 graded notice (1 must see) not measured, not in the store: import or crawl them: {unstored}"
        in (result.stdout)
    )
    missed = result.stdout.split("Must see, in no band under the live rules (1):\n")[1].splitlines()[0]
    assert NELFT in missed
    assert latest_labels(database) == {}  # grades are measured, never recorded as feedback
    # Notices published before --since are not measured, and said so apart.
    since = tenderwatch("backtest", "--grades", "grades.csv", "--since", "2099-01-01")
    assert since.returncode == 0, since.stderr
    assert "2 graded notices (2 must see) not measured, published (undated: first stored) before --since" in (
        since.stdout
    )
    # A notice with no publication date counts from when it was stored (NOW), not as published never.
    store(database, replace(real(PROCUREMENT), published_at=None))
    undated = f"id,grade\n{PROCUREMENT},2\n"
    (tmp_path / "grades.csv").write_text(undated)
    kept = tenderwatch("backtest", "--grades", "grades.csv", "--since", NOW.date().isoformat())
    assert kept.returncode == 0 and "Against the grades (1 judged notice, 1 relevant):" in kept.stdout


def test_a_candidate_against_grades_shows_each_moved_notices_grade(env, database, candidate, tmp_path):
    store(database, real(VRP), real(PROCUREMENT), real("find_a_tender:075735-2026"))
    (tmp_path / "grades.csv").write_text(f"id,grade\n{PROCUREMENT},2\nfind_a_tender:075735-2026,0\n")
    result = tenderwatch("backtest", "--grades", "grades.csv", "--rules", str(candidate))
    assert result.returncode == 0, result.stderr
    moved = result.stdout.split("Moved down (")[1].split("\n\n")[0]
    assert re.search(rf"86 -> 86 +must see +{PROCUREMENT}", moved)
    assert re.search(r"69 -> 69 +not relevant +find_a_tender:075735-2026", moved)
    assert re.search(r"^must see +- +100% \(1 of 1\) +- +100% \(1 of 1\)$", result.stdout, re.MULTILINE)


@pytest.mark.above_the_store(reason="a grades file's mistakes are found before the store is read")
@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"g.csv": f"id,grade\n{VRP},3\n"},
            "g.csv:2: field 'grade': '3' is not a grade; write 2 (must see), "
            "1 (worth a look) or 0 (not relevant); fix the row and run the command again",
        ),
        (
            {"g.csv": f"id,label\n{VRP},relevant\n"},
            "g.csv:1: the first line must name an id column (id, key, "
            "notice, notice_id) and a grade column, e.g. 'id,grade' (other columns are ignored)",
        ),
        ({"g.csv": f"id,grade\n{VRP},\n"}, "no graded notice in the grades files: fill in the grade column"),
        (
            {"g.csv": f"id,grade\n{VRP},2\n", "h.csv": f"id,grade\n{VRP},0\n"},
            f"h.csv:2: {VRP} is graded 0 here but 2 at g.csv:2; keep one grade and run the command again",
        ),
        (
            {"g.csv": f"id,grade,title\n{VRP},2,Evaluation, review\n"},
            "g.csv:2: 4 fields, but the first line names 3 columns; put a value that holds commas",
        ),
        (
            {"g.csv": "id,grade,title\nfind_a_tender:1-2026,2,Review \u2013 phase 2\n".encode("cp1252")},
            "g.csv: not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8' and run the command again",
        ),
    ],
)
def test_a_bad_grades_file_says_where_and_what_to_do(env, database, tmp_path, files, message):
    store(database, real(VRP))
    for name, text in files.items():
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    result = tenderwatch("backtest", *[arg for name in files for arg in ("--grades", name)])
    assert result.returncode == 2
    assert message in result.stderr
    same_twice = tmp_path / "twice.csv"
    same_twice.write_text(f"id,grade\n{VRP},2\n{VRP},2\n")  # the same grade twice is no conflict
    assert tenderwatch("backtest", "--grades", "twice.csv").returncode == 0
