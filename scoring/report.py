"""Plain-text reports for the bid lead's commands: a profile's summary, a backtest's results, and
suggested rule changes."""

from __future__ import annotations

import math
from collections.abc import Mapping

from scoring.backtest import BacktestResult, Change, Judged
from scoring.feedback import GRADE_NAMES
from scoring.profile import Profile
from scoring.result import BANDS, Score
from scoring.suggest import Suggestion
from tenderwatch.formatting import counted, money

Table = tuple[list[str], list[list[str]]]


def describe_profile(profile: Profile) -> list[str]:
    """A few lines a bid lead can check the profile against: thresholds, gates, lines."""
    scale, gates, adjust = profile.scale, profile.gates, profile.adjustments
    limit = f"; value at most {money(gates.max_value)} (frameworks by scope)" if gates.max_value else ""
    lines = [
        # No path: the version last published with `tenderwatch web` (store.profiles.live_profile).
        f"{profile.path or 'the rules published with tenderwatch web'}: valid. "
        f"Profile '{profile.name}', rules hash {profile.hash[:12]}",
        f"bands: strong from {scale.strong:g}, possible from {scale.possible:g} (scores 0-100); "
        f"title x{scale.title_weight:g}, description x{scale.description_weight:g}; "
        f"CPV codes add at most {scale.cpv_cap:g}; runner-up line counts x{scale.second_line_share:g}"
        + (f"; negative keywords take at most {scale.negative_cap:g} together" if scale.negative_cap else ""),
        f"gates: kinds {', '.join(gates.kinds)}; notice types {', '.join(gates.notice_types)}; "
        f"regions {', '.join(gates.regions) or 'any'}{limit}; {len(gates.exclude_buyers)} excluded buyers",
    ]
    band = adjust.value
    if band.low is not None and band.high is not None:
        lines.append(
            f"value band {money(band.low)}-{money(band.high)}: "
            f"{band.in_range:+g} within, {band.below:+g} below, {band.above:+g} above"
        )
    positive = sum(1 for keyword in adjust.keywords if keyword.points > 0)
    lines.append(
        f"adjustments: {positive} positive and {len(adjust.keywords) - positive} negative keywords, "
        f"{len(adjust.buyers)} buyer patterns, SME {adjust.sme_suitable:+g}/{adjust.sme_not_suitable:+g}"
    )
    lines.append(f"timing (used by the digest): at least {profile.min_response_days} days to respond")
    if profile.learned is not None:
        learned = profile.learned
        lines.append(
            f"learned words: {learned.words} ({len(learned.weights) - 1:,} words); a notice in no band with "
            f"{learned.promote_from:g}+ points and a line keyword is lifted to possible at likeness "
            f"{learned.promote_at:g}+"
        )
    lines.append(f"service lines ({len(profile.service_lines)}):")
    for line in profile.service_lines:
        excluded = len(line.exclude_terms) + len(line.exclude_cpv)
        lines.append(
            f"  {line.name}: {counted(len(line.keywords), 'keyword')}, {counted(len(line.cpv), 'CPV rule')}, "
            f"exclusions: {excluded}"
        )
    return lines


def band_table(result: BacktestResult) -> Table:
    """Notices per band, live and (when tried) candidate, with the change."""
    headers = ["band", "live"]
    rows = [[band, f"{result.live[band]:,}"] for band in BANDS]
    if result.candidate is not None:
        headers += ["candidate", "change"]
        for row, band in zip(rows, BANDS, strict=True):
            row += [f"{result.candidate[band]:,}", f"{result.candidate[band] - result.live[band]:+,}"]
    return headers, rows


def moved(result: BacktestResult, limit: int | None) -> list[str]:
    """The notices a candidate moves up and down a band, each with the team's label (a column of
    its own, so a long title never hides it) and title, `limit` each way."""
    if result.candidate is None:
        return []
    labels = _shown_labels(result)
    lines = []
    for heading, changes in (("Moved up by the candidate", result.added), ("Moved down", result.dropped)):
        lines.append(f"\n{heading} ({len(changes)}):")
        for change in changes[:limit]:
            label = labels.get(change.key, "not judged")
            lines.append(
                f"  {change.before.band} -> {change.after.band}  {change.before.score:>3} -> "
                f"{change.after.score:<3} {label:<12}  {change.key}  {_short(change.title, 70)}"
            )
        if limit and len(changes) > limit:
            lines.append(f"  ... and {len(changes) - limit} more (--limit 0 shows all)")
    return lines


def _shown_labels(result: BacktestResult) -> dict[str, str]:
    """Each judged notice's label as shown: its grade's name when measured against grades."""
    if result.grades is not None:
        return {key: GRADE_NAMES[grade] for key, grade in result.grades.grades.items()}
    return {judged.key: judged.label for judged in result.judged}


def agreement_table(result: BacktestResult) -> tuple[str, list[str], list[list[str]]] | None:
    """Precision and recall of each band, and of both together, against feedback (live and candidate);
    None without feedback."""
    agreements = [("live", result.live_agreement), ("candidate", result.candidate_agreement)]
    found = [(name, agreement) for name, agreement in agreements if agreement is not None]
    if not found:
        return None
    first = found[0][1]
    graded = result.grades is not None
    against = "the grades" if graded else "feedback"
    heading = f"Against {against} ({counted(first.labelled, 'judged notice')}, {first.relevant:,} relevant):"
    headers = ["band"]
    for name, _ in found:
        headers += [f"{name} precision", "recall"]
    rows = []
    for band, measures in (
        ("strong", lambda a: (a.strong_precision, a.strong_recall, a.strong_relevant, a.strong)),
        ("possible", lambda a: (a.possible_precision, a.possible_recall, a.possible_relevant, a.possible)),
        (
            "strong+possible",
            lambda a: (a.precision, a.recall, a.shortlisted_relevant, a.shortlisted),
        ),
    ):
        row = [band]
        for _, agreement in found:
            precision, recall, hits, held = measures(agreement)
            row += [f"{_percent(precision)} ({hits} of {held})", f"{_percent(recall)}"]
        rows.append(row)
    if graded:  # the must-see notices' recall: what matters most
        row = ["must see"]
        for _, agreement in found:
            row += [
                "-",
                f"{_percent(agreement.must_see_recall)} ({agreement.must_see_found} of {agreement.must_see})",
            ]
        rows.append(row)
    return heading, headers, rows


def rough_figures(result: BacktestResult) -> list[str]:
    """How far the table's main figures could be from what the rules would do on every notice like
    these: 95% intervals, one line per rule set. Thirty judged notices in a band make its precision
    good to about fifteen points either way, which decides whether a change's gain is real."""
    lines = []
    for name, agreement in (("live", result.live_agreement), ("candidate", result.candidate_agreement)):
        if agreement is None:
            continue
        figures = [
            ("strong+possible precision", agreement.shortlisted_relevant, agreement.shortlisted),
            ("recall", agreement.shortlisted_relevant, agreement.relevant),
            ("strong precision", agreement.strong_relevant, agreement.strong),
        ]
        if result.grades is not None:
            figures.append(("must-see recall", agreement.must_see_found, agreement.must_see))
        shown = [f"{label} {wilson_interval(hits, total)}" for label, hits, total in figures if total]
        if shown:
            lines.append(f"  {name}: {', '.join(shown)}")
    if not lines:
        return []
    return ["How rough these figures are with so few judged notices (95% intervals):", *lines]


def wilson_interval(hits: int, total: int, z: float = 1.96) -> str:
    """Wilson's score interval of hits/total as "56-86%": unlike p +/- 2 standard errors, it stays
    within 0-100% and is not zero wide at 8 of 8."""
    share, spread = hits / total, z * z / total
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / total + spread / (4 * total)) / (1 + spread)
    return f"{max(0.0, centre - half) * 100:.0f}-{min(1.0, centre + half) * 100:.0f}%"


def misses(result: BacktestResult, limit: int | None) -> list[str]:
    """The judged notices the bands get wrong under the rules tried (the candidate's, else the live
    ones): relevant ones in no band (against grades: must see, then worth a look), relevant ones only
    possible, and not-relevant ones in a band."""
    rules = "candidate" if result.candidate is not None else "live"

    def score(judged: Judged) -> Score:
        return judged.candidate if judged.candidate is not None else judged.live

    def relevant(judged: Judged) -> bool:
        return judged.label == "relevant"

    must_see_keys = result.grades.must_see if result.grades is not None else frozenset()

    def must_see(judged: Judged) -> bool:
        return judged.key in must_see_keys

    none = (  # against grades, must-see notices missed are listed apart, first
        [
            ("Must see, in no band", lambda j: must_see(j) and score(j).band == "none"),
            (
                "Worth a look, in no band",
                lambda j: relevant(j) and not must_see(j) and score(j).band == "none",
            ),
        ]
        if result.grades is not None
        else [("Relevant, in no band", lambda j: relevant(j) and score(j).band == "none")]
    )
    groups = (
        *none,
        ("Relevant, possible but not strong", lambda j: relevant(j) and score(j).band == "possible"),
        ("Not relevant, yet strong or possible", lambda j: not relevant(j) and score(j).band != "none"),
    )
    lines = []
    for heading, wanted in groups:
        found = sorted((j for j in result.judged if wanted(j)), key=lambda j: (-score(j).score, j.key))
        lines.append(f"\n{heading} under the {rules} rules ({len(found)}):")
        for judged in found[:limit]:
            shown = score(judged)
            lines.append(f"  {shown.band:<8} {shown.score:>3}  {judged.key}  {_short(judged.title)}")
        if limit and len(found) > limit:
            lines.append(f"  ... and {len(found) - limit} more (--limit 0 shows all)")
    return lines


def _short(title: str, width: int = 60) -> str:
    return title if len(title) <= width else title[: width - 1] + "\u2026"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def suggestion_lines(
    suggestions: list[Suggestion], labels: Mapping[str, str], limit: int | None = 5
) -> list[str]:
    """Each suggestion: what to change, its effect on feedback and on history, and the YAML to paste."""
    lines = []
    for number, suggestion in enumerate(suggestions, 1):
        before, after = suggestion.before.agreement, suggestion.after.agreement
        lines += [
            f"\n{number}. {suggestion.summary[0].upper()}{suggestion.summary[1:]}",
            f"   against feedback: strong+possible precision {_percent(before.precision)} -> "
            f"{_percent(after.precision)}, recall {_percent(before.recall)} -> {_percent(after.recall)}; "
            f"strong precision {_percent(before.strong_precision)} -> {_percent(after.strong_precision)}",
        ]
        for change in suggestion.moved[:limit]:
            lines.append(f"     {_moved(change)}  ({labels.get(change.key, 'not judged')})")
        if limit is not None and len(suggestion.moved) > limit:
            lines.append(f"     ... and {counted(len(suggestion.moved) - limit, 'more judged notice')}")
        up, down = len(suggestion.history_added), len(suggestion.history_dropped)
        lines.append(f"   on history: {counted(up, 'notice')} up a band, {down:,} down")
        for change in [*suggestion.history_added[:limit], *suggestion.history_dropped[:limit]]:
            if change.key not in labels:
                lines.append(f"     {_moved(change)}")
        # A key the file has is changed where it is: pasted again under it, it would be given twice.
        how = "change these lines in" if suggestion.replaces else "paste under"
        lines.append(f"   {how} {suggestion.where}:")
        lines += [f"       {line}" for line in suggestion.yaml.splitlines()]
    return lines


def _moved(change: Change) -> str:
    return f"{change.before.band} -> {change.after.band}  {change.key}  {_short(change.title)}"
