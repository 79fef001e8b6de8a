"""The example profile on the written probe: notices written, not recorded, to check vocabulary.

    .venv/bin/python scripts/probe_report.py [--rules FILE] [--quiet]

Round 1 (session of 2026-12-06 morning): fits.jsonl holds 110 notices the firm must see (80) or
would look at (30); look-alikes.jsonl 110 it would not bid for that use its words; hard-fits.jsonl
70 must-see notices written the hard way (a programme's name or a reference for a title, the ask
put indirectly or after background, wrong CPV codes, Welsh, NHS and police wording).
Round 2 (afternoon): fits-2.jsonl, 60 must see and 25 worth a look written as the real feed words
them (terse Contracts Finder notices, the ask after background, misleading codes), and
look-alikes-2.jsonl, 80 notices the firm would not bid for. Round 3: fits-3.jsonl, 50 must see
and 20 worth a look in Find a Tender's Procurement Act style, and look-alikes-3.jsonl, 90 of the
kinds that most fool a keyword alert (other professional services, delivery contracts written in
strategy language, technical training, scientific and market research, communications). Round 4:
fits-4.jsonl, 50 must see and 20 worth a look from the sources earlier rounds had few of (Public
Contracts Scotland, Sell2Wales with Welsh titles, Northern Ireland, universities, NHS trusts, the
firm's work as one lot of many), and look-alikes-4.jsonl, 80 ordinary notices of a day's feed.
Rounds 2 to 4 were measured before any rule was changed for them; docs/scoring.md gives both
figures.

Helpers wrote each file from the firm's description alone (../shared/firm-profile.md, beside the
repository), without seeing the rules, the labelled set or the earlier probes, in the styles UK
buyers use. They are no substitute for real graded notices (docs/scoring.md says what they are
for): they show which kinds of phrasing the rules miss and which look-alikes they let in. Prints
the counts per file, then every notice the bands get wrong with its one-line why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import Score, load_profile, score_notice  # noqa: E402
from store.notice import Lot, Notice  # noqa: E402

EXAMPLE = ROOT / "scoring" / "profiles" / "example.yaml"
PROBE = ROOT / "scripts" / "probe"
STAGES = {"UK1": "planning", "UK2": "planning", "UK3": "planning"}  # the rest are tenders


def probe_notices() -> list[tuple[Notice, int]]:
    """(notice, grade) for every written notice: 2 must see, 1 worth a look, 0 not relevant."""
    found = []
    for path in sorted(PROBE.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            item = json.loads(line)
            notice = Notice(
                source="probe",
                source_id=f"{path.stem}:{number}",
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
                lots=tuple(
                    Lot(id=str(index), title=lot["title"], description=lot.get("description"))
                    for index, lot in enumerate(item.get("lots", []), start=1)
                ),
            )
            found.append((notice, item["grade"]))
    return found


def wrong(grade: int, score: Score) -> bool:
    """A fit (grade 1 or 2) in no band, or a look-alike (grade 0) in one."""
    return (grade >= 1) == (score.band == "none")


def summary(graded: list[tuple[int, Score]]) -> str:
    """How many must-see and worth-a-look notices are in a band, how many look-alikes, and strong."""
    def found(grade: int) -> str:
        scores = [score for g, score in graded if g == grade]
        return f"{sum(score.band != 'none' for score in scores)} of {len(scores)}" if scores else ""

    parts = {2: "must see in a band", 1: "worth a look in a band", 0: "look-alikes in a band"}
    strong = [grade for grade, score in graded if score.band == "strong"]
    said = [f"{found(grade)} {text}" for grade, text in parts.items() if found(grade)]
    return ", ".join([*said, f"strong {sum(grade >= 1 for grade in strong)} of {len(strong)} fits"])


def from_file(notice: Notice) -> str:
    """The probe file a notice was written in (its name without .jsonl)."""
    return notice.source_id.split(":")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=EXAMPLE, help="the rules file (default: example)")
    parser.add_argument("--quiet", action="store_true", help="only the counts")
    arguments = parser.parse_args()
    profile = load_profile(arguments.rules)
    scored = [(notice, grade, score_notice(notice, profile)) for notice, grade in probe_notices()]
    for path in sorted(PROBE.glob("*.jsonl")):
        graded = [(grade, score) for notice, grade, score in scored if from_file(notice) == path.stem]
        print(f"{path.name}: {summary(graded)}")
    print(f"all: {summary([(grade, score) for _, grade, score in scored])}")
    if not arguments.quiet:
        for notice, grade, score in sorted(scored, key=lambda item: item[2].score):
            if wrong(grade, score):
                print(f"  grade {grade}, {score.band} {score.score}: {notice.title[:90]}")
                print(f"      {score.summary}")


if __name__ == "__main__":
    main()
