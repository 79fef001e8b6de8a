"""Learn the example profile's words from the graded notices, and measure the promotion honestly.

    .venv/bin/python scripts/learn_example.py            # write scoring/profiles/example.words.tsv
    .venv/bin/python scripts/learn_example.py --measure  # and the figures docs/scoring.md quotes

The model (scoring/learned.py) learns from the real sets read blind (scripts/probe/real-*.jsonl) and
the written rounds; never from the labelled development set (../shared/labels) nor from real 18,
which measure it.
--measure prints, beside the rules alone:
1. leave one real set out: for each real set, a model trained on every other real set and the written
   rounds, measured on the set it never saw (the held-out sets apart);
2. the labelled set (837): the shipped model, which never saw it, on all of it and on each fold.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from probe_report import ROUNDS, Written, probe_notices, scored_as_tender  # noqa: E402

from scoring import Profile, load_profile, score_notice  # noqa: E402
from scoring.learned import GRADE_WEIGHT, Example, train, write_words  # noqa: E402
from tests.support.labels import grades, keys_of, notices  # noqa: E402

EXAMPLE = ROOT / "scoring" / "profiles" / "example.yaml"
WORDS = ROOT / "scoring" / "profiles" / "example.words.tsv"
NOT_LEARNT = ("real-18",)  # held out to measure the shipped words on notices they never saw
FILES = [file for files in ROUNDS.values() for file in files if file not in NOT_LEARNT]
REAL = [file for file in FILES if file.startswith("real-")]
HELD = {name.split()[1] for name in ROUNDS if "held out" in name and name.startswith("real")}


def examples(written: Iterable[Written]) -> list[Example]:
    return [Example(item.notice, item.grade >= 1, GRADE_WEIGHT[item.grade]) for item in written]


def with_model(profile: Profile, written: list[Written], label: str) -> Profile:
    """The profile with a model trained on `written` (its promotion settings kept)."""
    assert profile.learned is not None
    learned = replace(profile.learned, weights=train(examples(written)), digest=label)
    return replace(profile, learned=learned)


def tally(pairs: Iterable[tuple[int, str]]) -> str:
    pairs = list(pairs)
    must = [band for grade, band in pairs if grade == 2]
    shown = [grade for grade, band in pairs if band != "none"]
    found = sum(band != "none" for band in must)
    relevant = sum(grade >= 1 for grade in shown)
    precision = relevant / len(shown) if shown else 0.0
    share = f"{relevant} of {len(shown)} relevant ({precision:.2f})"
    return f"must see {found} of {len(must)}, strong + possible {share}"


def leave_one_set_out(profile: Profile, by_file: dict[str, list[Written]]) -> None:
    alone = replace(profile, learned=None)
    rows: dict[str, list[tuple[str, int, str, str]]] = {}
    for held in REAL:
        trained = [item for file, items in by_file.items() if file != held for item in items]
        model = with_model(profile, trained, f"without {held}")
        rows[held] = [
            (held, item.grade, *(scored_as_tender(item.notice, each).band for each in (alone, model)))
            for item in by_file[held]
        ]
        print(f"   {held}: rules {tally((g, a) for _, g, a, _ in rows[held])}")
        print(f"   {' ' * len(held)}  with {tally((g, b) for _, g, _, b in rows[held])}")
    for name, kept in (("all real sets", set(REAL)), ("held-out sets", {f"real-{n}" for n in HELD})):
        chosen = [row for held in REAL if held in kept for row in rows[held]]
        print(f"   {name}: rules alone {tally((g, a) for _, g, a, _ in chosen)}")
        print(f"   {' ' * len(name)}  with the promotion {tally((g, b) for _, g, _, b in chosen)}")


def labelled_set(profile: Profile) -> None:
    alone = replace(profile, learned=None)
    found, graded = notices(), grades()
    for fold in ("A", "B", None):
        keys = keys_of(fold) if fold else list(graded)
        name = f"fold {fold}" if fold else "all 837"
        before = tally((graded[key], score_notice(found[key], alone).band) for key in keys)
        after = tally((graded[key], score_notice(found[key], profile).band) for key in keys)
        print(f"   {name}: rules alone {before}; with the promotion {after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="also print the measured figures")
    arguments = parser.parse_args()
    by_file = {file: probe_notices(file) for file in FILES}
    everything = [item for items in by_file.values() for item in items]
    relevant = sum(item.grade >= 1 for item in everything)
    heading = (
        f"The example profile's learned words: written by scripts/learn_example.py from {len(everything):,}\n"
        f"graded notices ({relevant:,} relevant) of scripts/probe (the real sets and the written rounds)."
    )
    write_words(WORDS, train(examples(everything)), heading)
    print(f"wrote {WORDS} from {len(everything):,} graded notices ({relevant:,} relevant)")
    if arguments.measure:
        profile = load_profile(EXAMPLE)
        if profile.learned is None:
            raise SystemExit("example.yaml has no learned section to measure")
        print("1. leave one real set out (the model never saw the set it is measured on)")
        leave_one_set_out(profile, by_file)
        print("2. the labelled set (837; the shipped model never saw it)")
        labelled_set(profile)


if __name__ == "__main__":
    main()
