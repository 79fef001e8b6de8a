"""Plain-text reports for the bid lead's commands: a profile's summary, a backtest's results."""

from __future__ import annotations

from scoring.backtest import BacktestResult
from scoring.profile import Profile
from scoring.result import BANDS
from tenderwatch.formatting import counted, money

Table = tuple[list[str], list[list[str]]]


def describe_profile(profile: Profile) -> list[str]:
    """A few lines a bid lead can check the profile against: thresholds, gates, lines."""
    scale, gates, adjust = profile.scale, profile.gates, profile.adjustments
    limit = f"; value at most {money(gates.max_value)} (frameworks by scope)" if gates.max_value else ""
    lines = [
        f"{profile.path}: valid. Profile '{profile.name}', rules hash {profile.hash[:12]}",
        f"bands: strong from {scale.strong:g}, possible from {scale.possible:g} (scores 0-100); "
        f"title x{scale.title_weight:g}, description x{scale.description_weight:g}; "
        f"CPV codes add at most {scale.cpv_cap:g}; runner-up line counts x{scale.second_line_share:g}",
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
    """The notices a candidate moves up and down a band, with titles, `limit` each way."""
    if result.candidate is None:
        return []
    lines = []
    for heading, changes in (("Moved up by the candidate", result.added), ("Moved down", result.dropped)):
        lines.append(f"\n{heading} ({len(changes)}):")
        for change in changes[:limit]:
            title = change.title if len(change.title) <= 70 else change.title[:69] + "\u2026"
            lines.append(
                f"  {change.before.band} -> {change.after.band}  {change.before.score:>3} -> "
                f"{change.after.score:<3} {change.key}  {title}"
            )
        if limit and len(changes) > limit:
            lines.append(f"  ... and {len(changes) - limit} more (--limit 0 shows all)")
    return lines


def agreement_table(result: BacktestResult) -> tuple[str, list[str], list[list[str]]] | None:
    """Precision and recall of live and candidate bands against feedback, or None without feedback."""
    agreements = [("live", result.live_agreement), ("candidate", result.candidate_agreement)]
    found = [(name, agreement) for name, agreement in agreements if agreement is not None]
    if not found:
        return None
    first = found[0][1]
    heading = f"Against feedback ({first.labelled} judged notices, {first.relevant} relevant):"
    headers = ["rules", "strong+possible precision", "recall", "strong precision", "recall"]
    rows = [
        [name, *map(_percent, (a.precision, a.recall, a.strong_precision, a.strong_recall))]
        for name, a in found
    ]
    return heading, headers, rows


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
