"""Scoring: how well each notice fits a firm, why, and tools to tune the rules on history.

The public API:

* `load_profile(path)` reads and validates a rules file (errors name file, line and field);
* `score_notice(notice, profile)` is pure: a `Score` with score 0-100, band, service line, reasons;
* `backtest` compares bands under live and candidate rules, and against the team's feedback;
* `response_window(notice, min_days, now)` is the digest's timing check (never part of the score).

Storing scores and feedback is store.scores: `rescore`, `scores_for`, `run_backtest`, feedback.
"""

from scoring.engine import score_notice
from scoring.profile import Profile, ServiceLine, configured_profile, load_profile
from scoring.result import BANDS, EXPORT_FIELDS, Reason, Score
from scoring.timing import Timing, response_window
from scoring.yamlnodes import ProfileError

__all__ = [
    "BANDS",
    "EXPORT_FIELDS",
    "Profile",
    "ProfileError",
    "Reason",
    "Score",
    "ServiceLine",
    "Timing",
    "configured_profile",
    "load_profile",
    "response_window",
    "score_notice",
]
