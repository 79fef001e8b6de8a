"""The example profile on the written probe (notices written to check vocabulary) and on real notices
read blind.

    .venv/bin/python scripts/probe_report.py [--rules FILE] [--quiet]

Round 1: fits.jsonl holds 110 notices the firm must see (80) or
would look at (30); look-alikes.jsonl 110 it would not bid for that use its words; hard-fits.jsonl
70 must-see notices written the hard way (a programme's name or a reference for a title, the ask
put indirectly or after background, wrong CPV codes, Welsh, NHS and police wording).
Round 2: fits-2.jsonl, 60 must see and 25 worth a look written as the real feed words
them (terse Contracts Finder notices, the ask after background, misleading codes), and
look-alikes-2.jsonl, 80 notices the firm would not bid for. Round 3: fits-3.jsonl, 50 must see
and 20 worth a look in Find a Tender's Procurement Act style, and look-alikes-3.jsonl, 90 of the
kinds that most fool a keyword alert (other professional services, delivery contracts written in
strategy language, technical training, scientific and market research, communications). Round 4:
fits-4.jsonl, 50 must see and 20 worth a look from the sources earlier rounds had few of (Public
Contracts Scotland, Sell2Wales with Welsh titles, Northern Ireland, universities, NHS trusts, the
firm's work as one lot of many), and look-alikes-4.jsonl, 80 ordinary notices of a day's feed.
Round 5: fits-5.jsonl, 60 must see and 20 worth a look in every style, and look-alikes-5.jsonl,
80 (half ordinary, half confusable); it is kept out of tuning, so that the next change to the rules
can be measured on notices nobody tuned on. Round 6: look-alikes-6.jsonl, 120 look-alikes each of
a different kind, and fits-6.jsonl, 40 must-see notices that use the same risky words in the firm's
sense, to check that a negative which drops a look-alike keeps the fits. Round 7: fits-7.jsonl, 50
must see and 15 worth a look that name the firm's work indirectly (research questions as titles,
sessions, partnership support written as a role, change described by its outcome), and
look-alikes-7.jsonl, 65 in the same styles. Round 8: fits-8.jsonl, 45 must see (five per service
line) and 15 worth a look written thin, as low-value, call-off and award notices are (a short title,
one to three sentences), and look-alikes-8.jsonl, 70 thin ones of thirteen kinds. Rounds 2 to 4 and
6 to 8 were measured before any rule was changed for them; docs/scoring.md gives both figures.

Real 1 and real 2 are recorded notices, not written ones: real-1.jsonl, 65 Contracts Finder
opportunity notices of October 2022, and real-2.jsonl, 89 Public Contracts Scotland contract notices
of spring 2019, found in public repositories' test data and not in the labelled set (provenance:
REAL.md). Two helpers graded each one blind from the firm's description and agreed on every grade.
Real 1 was measured, then tuned on; real 2 was measured once, after that, and is held out. Real 3,
89 Find a Tender notices of 2026 that two bid-alert projects saved (descriptions cut at 600
characters, no CPV codes), was graded the same way, a third reader deciding six disagreements;
real 4, 23 more such notices, was measured once and is held out. Real 5, 78 Contracts Finder
notices of 2012-2014 from the Open Contracting Partnership's sample data, was graded the same way
(the readers agreed on all 78), measured, and then tuned on (one engine rule). Real 6, 58 contract
awards (Contracts Finder 2021-2025, and four of 2018-2021 from a data company's sample), is graded
for the work as if it were advertised and scored as its tender would be (`score_contract`); it was
measured once and is held out. Real 7, 289 Contracts Finder, Find a Tender and Public Contracts
Scotland opportunity notices of 2015-2026 copied from a tender search site's stored pages, was
graded the same way and measured before any change; it was split by a hash of the ocid into 7a
(tuned on first) and 7b (measured again after 7a's changes, then tuned on), and 7c, the Find a
Tender notices of 2026 or undated (which may share notices with the team's own held-back set), is
held out. Real 8, 196 more from the same pages, found by CPV code, by the domains the firm's
clients work in and by the ordinary mix, was graded the same way and measured once, after the
changes taken from 7a; it is held out. Real 9, 128 Find a Tender notices of 2025-2026 from the
same pages (and five from other copies of them), found by buyer, by client domain and by the ordinary
mix, was graded the same way and measured once, after the changes taken from 7b; it is held out.
Real 10, 131 more from the same pages, found by naming buyers that often commission advisory work
(the Local Government Association, departments, police and crime commissioners, councils), was
graded the same way and measured once, after every change of the round; it is held out. Real 11,
152 more, found by naming other buyers (district, unitary and combined authorities, NHS trusts,
universities, departments, housing associations), was graded and measured the same way, with no
rule changed after real 10; it is held out. Real 12, 160 more of other councils, police forces and
national agencies, was graded and measured the same way; it is held out. Real 13, 393 more, found by
naming Scottish, Welsh, Northern Irish, national and local buyers, client domains and the ordinary
mix by CPV code and year (never a kind of work), was graded the same way and measured before any
change; it was split by a hash of the ocid into 13a (then tuned on) and 13b (held out; its errors
were read with 13a's before the split). Real 14, 212 more, found by naming national bodies, client
domains and the ordinary mix of 2025-2026, was graded the same way and measured once, after 13a's
changes; then, with 7b, it was tuned on (a section 202 exclusion from their look-alikes, DoLS words
from their misses). Real 15, 204 more, found by naming departments and their agencies, district and
town councils and more client domains, was graded the same way and measured once, after real 14's
changes; it is held out. Real 16, 219 more, found by naming departments and agencies, county and city
councils, police, fire, NHS bodies and combined authorities, was graded the same way and measured
once, after real 15; then it was tuned on ("research" at 11, a candidate written down before it
was read). Real 17, 211 more, found by naming Scottish, Welsh and Northern Irish bodies, English
metropolitan and unitary councils, NHS bodies, housing associations, charities, cultural bodies and
academy trusts, was graded the same way and measured once, after real 16's change; it is held out.
Real 18, 213 more, found by naming district and borough councils and London boroughs, national bodies
and regulators, and Scottish, Welsh and Northern Irish bodies, universities, colleges and housing
associations, was graded the same way and measured once, rules alone and with the learned words; it
is held out from the rules, and the words have learnt from it since. Real 19 (226: police, fire and
combined authorities, NHS bodies, departments, county councils and boroughs) and real 20 (231:
unitary and district councils, universities, colleges, housing associations, heritage, arts and
environment bodies) were found and graded the same way and measured once; they are held out from the
rules and from the words (scripts/learn_example.py never learns from them), as are real 21 (187:
English city councils, NHS trusts, Scottish and Northern Irish bodies) and real 22 (93: regulators
and national bodies, devolved governments and their agencies, justice bodies, departments, public
employers' bodies and councils; the stored pages these sets come from are nearly used up).

Helpers wrote each file from the firm's description alone (../shared/firm-profile.md, beside the
repository), without seeing the rules, the labelled set or the earlier probes, in the styles UK
buyers use. They are no substitute for real graded notices (docs/scoring.md says what they are
for): they show which kinds of phrasing the rules miss and which look-alikes they let in. Prints
the counts per round, then every notice the bands get wrong, with the writer's reason for its
grade and the score's summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import Profile, Score, load_profile, score_notice  # noqa: E402
from scoring.engine import score_contract  # noqa: E402
from store.notice import Notice  # noqa: E402

EXAMPLE = ROOT / "scoring" / "profiles" / "example.yaml"
PROBE = ROOT / "scripts" / "probe"
ROUNDS = {
    "round 1": ("fits", "look-alikes", "hard-fits"),
    "round 2": ("fits-2", "look-alikes-2"),
    "round 3": ("fits-3", "look-alikes-3"),
    "round 4": ("fits-4", "look-alikes-4"),
    "round 5 (held out: never tuned on)": ("fits-5", "look-alikes-5"),
    "round 6": ("fits-6", "look-alikes-6"),
    "round 7": ("fits-7", "look-alikes-7"),
    "round 8": ("fits-8", "look-alikes-8"),
    "real 1 (65 recorded Contracts Finder notices)": ("real-1",),
    "real 2 (89 recorded Public Contracts Scotland notices; held out)": ("real-2",),
    "real 3 (89 recorded Find a Tender notices, bid-alert selections)": ("real-3",),
    "real 4 (23 more of them; held out)": ("real-4",),
    "real 5 (78 recorded Contracts Finder notices of 2012-2014)": ("real-5",),
    "real 6 (58 recorded contract awards, judged as their tenders; held out)": ("real-6",),
    "real 7a (122 recorded notices of 2015-2026; tuned on)": ("real-7a",),
    "real 7b (133 more of them; measured, then tuned on)": ("real-7b",),
    "real 7c (34 recorded Find a Tender notices of 2026 or undated; held out)": ("real-7c",),
    "real 8 (196 more, found by CPV code, client domain and the ordinary mix; held out)": ("real-8",),
    "real 9 (128 recorded Find a Tender notices of 2025-2026; held out)": ("real-9",),
    "real 10 (131 recorded notices of buyers that commission advisory work; held out)": ("real-10",),
    "real 11 (152 more, of other buyers: councils, NHS, universities, departments; held out)": ("real-11",),
    "real 12 (160 more, of county, metropolitan and London councils, police, agencies; held out)": (
        "real-12",
    ),
    "real 13a (192 of buyers in Scotland, Wales, Northern Ireland and England; tuned on)": ("real-13a",),
    "real 13b (201 more of them; held out)": ("real-13b",),
    "real 14 (212 of national bodies, client domains, 2025-2026's mix; measured, then tuned on)": (
        "real-14",
    ),
    "real 15 (204 of departments, district councils, more client domains; held out)": ("real-15",),
    "real 16 (219 of departments, county and city councils, police, NHS; measured, then tuned on)": (
        "real-16",
    ),
    "real 17 (211 of Scottish, Welsh, metropolitan and unitary bodies, NHS, charities; held out)": (
        "real-17",
    ),
    "real 18 (213 of district councils, national bodies, Scottish and Welsh bodies; held out, learnt)": (
        "real-18",
    ),
    "real 19 (226 of police, fire, combined authorities, NHS, departments, boroughs; held out, not learnt)": (
        "real-19",
    ),
    "real 20 (231 of unitary and district councils, universities, colleges, housing; held out, not learnt)": (
        "real-20",
    ),
    "real 21 (187 of city councils, NHS trusts, Scottish and Northern Irish bodies; held out, not learnt)": (
        "real-21",
    ),
    "real 22 (93 of regulators, devolved and justice bodies, departments, councils; held out, not learnt)": (
        "real-22",
    ),
}
HARD = "hard-fits"  # must-see notices written the hard way, counted apart
STAGES = {"UK1": "planning", "UK2": "planning", "UK3": "planning"}  # the rest are tenders


@dataclass(frozen=True)
class Written:
    """One probe notice: the file it was written in, the notice, its grade and the writer's why."""

    file: str
    notice: Notice
    grade: int
    why: str


def probe_notices(file: str) -> list[Written]:
    """Every notice of scripts/probe/FILE.jsonl, read as `tenderwatch import` reads a notice: 2 must
    see, 1 worth a look, 0 not relevant."""
    found: list[Written] = []
    path = PROBE / f"{file}.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        item = json.loads(line)
        grade, why = item.pop("grade"), item.pop("why", "")
        item.pop("description_cut", None)  # real 7-15: the copy's excerpt ended mid-description
        if "source" in item:  # a recorded notice, already in the import format
            found.append(Written(file, Notice.from_json(item), grade, why))
            continue
        lots = [  # a lot's title and description; writers added other keys the import format lacks
            {"id": str(index), "title": lot.get("title"), "description": lot.get("description")}
            for index, lot in enumerate(item.pop("lots", []), start=1)
        ]
        item |= {
            "source": "probe",
            "source_id": f"{file}:{number}",
            "stage": STAGES.get(item["notice_type"], "tender"),
            "is_opportunity": True,
            "value_currency": "GBP",
            "lots": lots,
        }
        found.append(Written(file, Notice.from_json(item), grade, why))
    return found


def in_band(scored: list[tuple[Written, Score]], kept: Callable[[Written], bool]) -> str:
    """'N of M' of the scored notices `kept` selects that landed in strong or possible."""
    chosen = [score for written, score in scored if kept(written)]
    return f"{sum(score.band != 'none' for score in chosen)} of {len(chosen)}"


def summary(scored: list[tuple[Written, Score]]) -> str:
    """In a band: must see, hard-way must see, worth a look, look-alikes; then the bands' precision."""
    parts: dict[str, Callable[[Written], bool]] = {
        "must see": lambda w: w.grade == 2 and w.file != HARD,
        "must see written the hard way": lambda w: w.file == HARD,
        "worth a look": lambda w: w.grade == 1,
        "look-alikes": lambda w: w.grade == 0,
    }
    counts = [
        f"{name} {in_band(scored, kept)}"
        for name, kept in parts.items()
        if any(kept(written) for written, _ in scored)
    ]
    listed = [written.grade for written, score in scored if score.band != "none"]
    strong = [written.grade for written, score in scored if score.band == "strong"]
    return (
        f"in a band: {', '.join(counts)}; strong + possible {sum(g >= 1 for g in listed)} of "
        f"{len(listed)} fits, strong {sum(g >= 1 for g in strong)} of {len(strong)}"
    )


def wrong(grade: int, score: Score) -> bool:
    """A fit (grade 1 or 2) in no band, or a look-alike (grade 0) in one."""
    return (grade >= 1) == (score.band == "none")


def scored_as_tender(notice: Notice, profile: Profile) -> Score:
    """An award's work is judged as its tender would have been (real 6 holds awards: fit, not timing)."""
    return score_contract(notice, profile) if notice.stage == "award" else score_notice(notice, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=EXAMPLE, help="the rules file (default: example)")
    parser.add_argument("--quiet", action="store_true", help="only the counts")
    arguments = parser.parse_args()
    profile = load_profile(arguments.rules)
    scored = [
        (written, scored_as_tender(written.notice, profile))
        for files in ROUNDS.values()
        for file in files
        for written in probe_notices(file)
    ]
    for name, files in ROUNDS.items():
        print(f"{name}: {summary([(w, score) for w, score in scored if w.file in files])}")
    print(f"all: {summary(scored)}")
    if not arguments.quiet:
        for written, score in sorted(scored, key=lambda item: item[1].score):
            if wrong(written.grade, score):
                print(
                    f"  {written.notice.source_id} grade {written.grade}, {score.band} {score.score}: "
                    f"{written.notice.title[:80]}"
                )
                print(f"      written as: {written.why}")
                print(f"      {score.summary}")


if __name__ == "__main__":
    main()
