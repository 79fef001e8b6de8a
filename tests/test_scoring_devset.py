"""The example profile on the labelled development set (tests/support/labels.py, docs/scoring.md).

These figures are in-sample: the profile's vocabulary and thresholds were tuned while reading these
notices (fold A, then fold B). The floors guard against regressions; the honest, cross-validated
figures are in docs/scoring.md, and the real measure is a labelled set kept outside the project.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from scoring import score_notice
from tests.scoring.helpers import example
from tests.support.labels import fold, grades, keys_of, measure, notices


@pytest.fixture(scope="module")
def bands() -> dict[str, str]:
    return {key: score_notice(notice, example()).band for key, notice in notices().items()}


def test_every_graded_notice_is_here_and_the_folds_are_stratified():
    assert len(notices()) == len(grades()) == 837
    assert Counter(grades().values()) == {0: 797, 1: 22, 2: 18}
    for grade in (0, 1, 2):
        split = Counter(fold(key) for key, found in grades().items() if found == grade)
        assert abs(split["A"] - split["B"]) <= 1


def test_the_example_profile_finds_the_must_see_notices_of_both_folds(bands):
    for name in ("A", "B"):
        found = measure(bands, keys_of(name))
        assert found.must_see_found >= found.must_see - 1, (name, str(found))


def test_the_example_profile_meets_its_floors_on_the_whole_set(bands):
    found = measure(bands, grades())
    assert found.recall >= 0.94, str(found)
    assert found.precision >= 0.6, str(found)
    assert found.strong_precision >= 0.85, str(found)


def test_the_set_imports_and_backtest_reports_against_its_decisions_and_grades(env, database, tmp_path):
    """The issue's way in: `import`, `feedback import`, then `backtest` reports precision and recall;
    `backtest --grades` measures the set's grades as the issue does, must-see recall first."""
    from click.testing import CliRunner

    from scoring.backtest import agreement
    from store.ingest import save_notices
    from tenderwatch.cli import cli
    from tests.support.labels import FEEDBACK, LABELS, import_file, imported

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "583 new" in run("import", str(import_file(tmp_path)))
    outside = {notice.id for notice in imported()}
    with database.writing() as session:  # the fixtures' notices, as a crawl of them stores them
        crawled = [notice for key, notice in notices().items() if key not in outside]
        save_notices(session, crawled, now=datetime(2026, 8, 12, 6, tzinfo=UTC))
    for path in FEEDBACK:
        assert "imported" in run("feedback", "import", str(path))
    labels = {key: "relevant" if grade else "not-relevant" for key, grade in grades().items()}
    expected = agreement({key: score_notice(n, example()).band for key, n in notices().items()}, labels)
    output = run("backtest")
    assert "Against feedback (837 judged notices, 40 relevant):" in output
    both = next(line for line in output.splitlines() if line.startswith("strong+possible "))
    assert both.split()[1:5] == [
        f"{expected.precision:.0%}",
        f"({expected.shortlisted_relevant}",
        "of",
        f"{expected.shortlisted})",
    ]
    assert both.split()[5] == f"{expected.recall:.0%}"
    graded = measure({key: score_notice(n, example()).band for key, n in notices().items()}, grades())
    files = [str(LABELS / name) for name in ("dev_grades.csv", "dev_fixtures-grades.csv")]
    output = run("backtest", "--grades", files[0], "--grades", files[1])
    assert "Against the grades (837 judged notices, 40 relevant):" in output
    must_see = next(line for line in output.splitlines() if line.startswith("must see "))
    assert must_see.split()[2:] == ["-", f"{graded.recall:.0%}", f"({graded.must_see_found}", "of", "18)"]
    both = next(line for line in output.splitlines() if line.startswith("strong+possible "))
    assert both.split()[2:5] == [f"({graded.shortlisted_relevant}", "of", f"{graded.shortlisted})"]
    assert f"Must see, in no band under the live rules ({graded.must_see - graded.must_see_found}):" in output
    assert "not measured" not in output  # every graded notice is in the store
