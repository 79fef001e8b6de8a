"""Golden explanations: the example profile's score, band, line and every reason for chosen real notices.

After a deliberate change to the example profile, regenerate the file and review the diff by hand:

    .venv/bin/python -m tests.scoring.golden
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scoring import score_notice
from tests.scoring.helpers import example, real

GOLDEN = Path(__file__).resolve().parent / "golden_explanations.json"
# Why each notice is here: one of each kind of outcome the bid lead must be able to trust.
CHOSEN = {
    "find_a_tender:076396-2026": "strong: research and evaluation for a violence reduction partnership",
    "find_a_tender:076068-2026": "strong: community engagement partner (market engagement notice)",
    "contracts_finder:490c2177-bd1c-43b0-b35a-896eba9862dc": "strong although the buyer filed it as goods",
    "find_a_tender:075573-2026": "strong: a framework, judged by scope not its £6m value",
    "find_a_tender:075534-2026": "strong: leadership and management skills programme",
    "find_a_tender:076138-2026": "possible: procurement action plan for a council",
    "contracts_finder:45ad1b11-f706-4d1e-b4c6-342a253acc6e": "none: domestic abuse support delivery",
    "find_a_tender:076323-2026": "none: home care platform (care delivery)",
    "find_a_tender:076407-2026": "none: HR and payroll software",
    "find_a_tender:075943-2026": "gated: works",
    "find_a_tender:075953-2026": "gated: goods (category and CPV codes agree)",
    "find_a_tender:075734-2026": "gated: an excluded buyer (its CPV codes include services)",
    "find_a_tender:075961-2026": "gated: a contract details notice, not an opportunity",
}


def current() -> dict[str, Any]:
    explained = {}
    for key, why in CHOSEN.items():
        score = score_notice(real(key), example())
        explained[key] = {
            "why_chosen": why,
            "title": real(key).title,
            "score": score.score,
            "band": score.band,
            "service_line": score.service_line,
            "summary": score.summary,
            "reasons": [[reason.points, reason.rule, reason.detail] for reason in score.reasons],
        }
    return explained


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(current(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {GOLDEN}: review the diff before committing")
