"""The scoring figures on the labelled development set, as docs/scoring.md quotes them.

    .venv/bin/python scripts/devset_report.py [--rules FILE] [--suggest-steps 3]

1. the profile on all 837 notices, on each fold, and on the two sources of the set;
2. band thresholds chosen by cross-validation: the `possible` threshold that maximises F2 and the
   `strong` threshold with the best F0.5 on one fold (as `rules suggest` chooses them), measured on
   the other fold, then swapped;
3. `rules suggest` cross-validated: its best suggestion applied, again and again, on one fold, and
   the other fold measured after each step.

Relevant means graded 1 or 2; recall counts must-see notices (grade 2). See tests/support/labels.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import Profile, load_profile, score_notice  # noqa: E402
from scoring.suggest import Judged, suggest  # noqa: E402
from tests.scoring.helpers import EXAMPLE  # noqa: E402
from tests.support.labels import Measured, grades, imported, keys_of, measure, notices  # noqa: E402


def bands_of(profile: Profile, keys: list[str]) -> dict[str, str]:
    return {key: score_notice(notices()[key], profile).band for key in keys}


def measured(profile: Profile, keys: list[str]) -> Measured:
    return measure(bands_of(profile, keys), keys)


def judged(profile: Profile, keys: list[str]) -> list[Judged]:
    label = {2: "relevant", 1: "relevant", 0: "not-relevant"}
    found = notices()
    return [Judged(found[key], label[grades()[key]], score_notice(found[key], profile)) for key in keys]


def the_profile(profile: Profile) -> None:
    print(f"1. {profile.path} (bands strong {profile.scale.strong:g}, possible {profile.scale.possible:g})")
    outside = {notice.id for notice in imported()}
    fixtures = [key for key in grades() if key not in outside]
    for name, keys in (
        ("all 837", list(grades())),
        ("fold A", keys_of("A")),
        ("fold B", keys_of("B")),
        ("583 from other months, services and portals", sorted(outside)),
        ("254 Find a Tender notices of the shared fixtures", fixtures),
    ):
        print(f"   {name}: {measured(profile, keys)}")


def thresholds(profile: Profile) -> None:
    print("2. band thresholds chosen on one fold, measured on the other")
    for train, test in (("A", "B"), ("B", "A")):
        found = suggest(profile, judged(profile, keys_of(train)), limit=50)
        chosen = next((item.profile for item in found if item.where == "scoring > bands"), profile)
        scale = chosen.scale
        print(
            f"   chosen on {train}: strong {scale.strong:g}, possible {scale.possible:g}; "
            f"on {test}: {measured(chosen, keys_of(test))}"
        )


def suggestions(profile: Profile, steps: int) -> None:
    print(f"3. `rules suggest` applied {steps} times on one fold, measured on the other")
    for train, test in (("A", "B"), ("B", "A")):
        current = profile
        print(f"   tuned on {train}, before: {test} {measured(current, keys_of(test))}")
        for _ in range(steps):
            found = suggest(current, judged(current, keys_of(train)), limit=1)
            if not found:
                print("     no further suggestion")
                break
            current = found[0].profile
            print(f"     + {found[0].summary}")
            print(f"       {train} {measured(current, keys_of(train))}")
            print(f"       {test} {measured(current, keys_of(test))}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=Path, default=EXAMPLE, help="the rules file (default: example)")
    parser.add_argument("--suggest-steps", type=int, default=3, help="suggestions applied per fold")
    arguments = parser.parse_args()
    profile = load_profile(arguments.rules)
    the_profile(profile)
    thresholds(profile)
    suggestions(profile, arguments.suggest_steps)


if __name__ == "__main__":
    main()
