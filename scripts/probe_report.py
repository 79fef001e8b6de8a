"""The example profile on the written probe: notices written, not recorded, to check vocabulary.

    .venv/bin/python scripts/probe_report.py [--rules FILE] [--quiet]

scripts/probe/fits.jsonl holds 110 notices the firm must see (80) or would look at (30);
scripts/probe/look-alikes.jsonl 110 it would not bid for that use its words; hard-fits.jsonl 70
must-see notices written the hard way (a programme's name or a reference for a title, the ask put
indirectly or after background, wrong CPV codes, Welsh, NHS and police wording). Helpers wrote them
from the firm's description alone (../shared/firm-profile.md, beside the repository), without
seeing the rules or the labelled set, in the styles UK buyers use. They are no substitute for real
graded notices (docs/scoring.md says what they are for): they show which kinds of phrasing the rules
miss and which look-alikes they let in. Prints the counts, then every notice the bands get wrong
with its one-line why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import Score, load_profile, score_notice  # noqa: E402
from store.notice import Notice  # noqa: E402

EXAMPLE = ROOT / "scoring" / "profiles" / "example.yaml"
PROBE = ROOT / "scripts" / "probe"
STAGES = {"UK1": "planning", "UK2": "planning", "UK3": "planning"}  # the rest are tenders


def probe_notices() -> list[tuple[Notice, int]]:
    """(notice, grade) for every written notice: 2 must see, 1 worth a look, 0 not relevant."""
    found = []
    for path in (PROBE / "fits.jsonl", PROBE / "look-alikes.jsonl", PROBE / "hard-fits.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            item = json.loads(line)
            notice = Notice(
                source="probe",
                source_id=f"{path.stem}-{number}",
                title=item["title"],
                description=item["description"],
                buyer_name=item["buyer_name"],
                notice_type=item["notice_type"],
                stage=STAGES.get(item["notice_type"], "tender"),
                is_opportunity=True,
                value_amount=item["value_amount"],
                value_currency="GBP",
                cpv=tuple(item["cpv"]),
                category=item["category"],
            )
            found.append((notice, item["grade"]))
    return found


def wrong(grade: int, score: Score) -> bool:
    """A fit (grade 1 or 2) in no band, or a look-alike (grade 0) in one."""
    return (grade >= 1) == (score.band == "none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=EXAMPLE, help="the rules file (default: example)")
    parser.add_argument("--quiet", action="store_true", help="only the counts")
    arguments = parser.parse_args()
    profile = load_profile(arguments.rules)
    scored = [(notice, grade, score_notice(notice, profile)) for notice, grade in probe_notices()]
    listed = [(grade, score) for _, grade, score in scored if score.band != "none"]
    strong = [grade for grade, score in listed if score.band == "strong"]
    def hard(notice: Notice) -> bool:
        return notice.source_id.startswith("hard-fits")

    for name, found in (
        ("must see", [score for notice, grade, score in scored if grade == 2 and not hard(notice)]),
        ("worth a look", [score for _, grade, score in scored if grade == 1]),
        ("must see, written the hard way", [score for notice, _, score in scored if hard(notice)]),
    ):
        print(f"{name}: {sum(score.band != 'none' for score in found)} of {len(found)} in strong or possible")
    print(f"strong + possible: {sum(grade >= 1 for grade, _ in listed)} of {len(listed)} are fits")
    print(f"strong: {sum(grade >= 1 for grade in strong)} of {len(strong)} are fits")
    if not arguments.quiet:
        for notice, grade, score in sorted(scored, key=lambda item: item[2].score):
            if wrong(grade, score):
                print(f"  grade {grade}, {score.band} {score.score}: {notice.title[:90]}")
                print(f"      {score.summary}")


if __name__ == "__main__":
    main()
