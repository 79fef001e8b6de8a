"""Learn the example profile's words from the graded notices, and measure the promotion honestly.

    .venv/bin/python scripts/learn_example.py            # write scoring/profiles/example.words.tsv
    .venv/bin/python scripts/learn_example.py --measure  # and the figures docs/scoring.md quotes

The model (scoring/learned.py) learns from the real sets read blind (scripts/probe/real-*.jsonl) and
the written rounds; never from the labelled development set (../shared/labels) nor from real 19
to 22, which measure it.
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

from probe_report import ROUNDS, Written, probe_notices, scored_as_tender, summary  # noqa: E402

from scoring import Profile, Score, load_profile, score_notice  # noqa: E402
from scoring.learned import GRADE_WEIGHT, Example, train, with_weights, write_words  # noqa: E402
from tests.support.labels import grades, keys_of, measure, notices  # noqa: E402

EXAMPLE = ROOT / "scoring" / "profiles" / "example.yaml"
WORDS = ROOT / "scoring" / "profiles" / "example.words.tsv"
NOT_LEARNT = ("real-19", "real-20", "real-21", "real-22")  # held out: the shipped words are measured on them
FILES = [file for files in ROUNDS.values() for file in files if file not in NOT_LEARNT]
REAL = [file for file in FILES if file.startswith("real-")]
HELD = {name.split()[1] for name in ROUNDS if "held out" in name and name.startswith("real")}


def examples(written: Iterable[Written]) -> list[Example]:
    return [Example(item.notice, item.grade >= 1, GRADE_WEIGHT[item.grade]) for item in written]


def leave_one_set_out(profile: Profile, by_file: dict[str, list[Written]]) -> None:
    alone = replace(profile, learned=None)
    scored: dict[str, list[list[tuple[Written, Score]]]] = {}  # per set: rules alone, with the words
    for held in REAL:
        trained = [item for file, items in by_file.items() if file != held for item in items]
        model = with_weights(profile, train(examples(trained)), f"without {held}")
        scored[held] = [
            [(item, scored_as_tender(item.notice, each)) for item in by_file[held]] for each in (alone, model)
        ]
        print(f"   {held}: rules alone {summary(scored[held][0])}")
        print(f"   {' ' * len(held)}  with the promotion {summary(scored[held][1])}")
    for name, kept in (("all real sets", set(REAL)), ("held-out sets", {f"real-{n}" for n in HELD})):
        for number, what in enumerate(("rules alone", "with the promotion")):
            chosen = [pair for held in REAL if held in kept for pair in scored[held][number]]
            print(f"   {name}, {what}: {summary(chosen)}")


def labelled_set(profile: Profile) -> None:
    alone = replace(profile, learned=None)
    found = notices()
    for fold in ("A", "B", None):
        keys = keys_of(fold) if fold else list(grades())
        before, after = (
            measure({key: score_notice(found[key], each).band for key in keys}, keys)
            for each in (alone, profile)
        )
        print(f"   {f'fold {fold}' if fold else 'all 837'}: rules alone {before}; with the promotion {after}")


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
