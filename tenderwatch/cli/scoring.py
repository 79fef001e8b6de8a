"""Commands for the bid lead's rules: rules check/list, explain, backtest, and feedback."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from store.models import utcnow
from tenderwatch.cli.base import (
    CONTEXT,
    PROFILE_OPTION,
    State,
    cli,
    command,
    echo,
    echo_table,
    local_time,
    notice_key,
    parse_since,
    shorten,
    stored_notice,
)
from tenderwatch.formatting import counted, money

# ---------------------------------------------------------------------------------------------- rules


@cli.group("rules", context_settings=CONTEXT, short_help="Check, list and improve the scoring rules files.")
def rules() -> None:
    """Check, list and improve the scoring rules files (one YAML file per profile).

    \b
    Examples:
      tenderwatch rules check                      # the default profile's file
      tenderwatch rules check my-rules.yaml        # any file, before it goes live
      tenderwatch rules list
      tenderwatch rules suggest                    # changes the team's feedback supports
    """


@command(rules, "check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@PROFILE_OPTION
def rules_check(state: State, file: Path | None, profile: str | None) -> None:
    """Validate a rules file and print a summary of its profile.

    FILE defaults to the rules of --profile (or of the default profile). A mistake is reported as
    FILE:LINE: field: what is wrong, with exit code 2.

    \b
    Example:
      tenderwatch rules check scoring/profiles/example.yaml
    """
    from scoring.profile import load_profile
    from scoring.report import describe_profile

    loaded = load_profile(file) if file else state.live_profile(profile)
    for line in describe_profile(loaded):
        echo(line)


@command(rules, "list", short_help="List the configured profiles and their rules files.")
def rules_list(state: State) -> None:
    """List the configured profiles and their rules files; the default is marked with *.

    \b
    Example:
      tenderwatch rules list
    """
    scoring = state.config.scoring
    rows = []
    for name, path in sorted(scoring.profiles.items()):
        problem = state.profile_problem(name)
        check = f"INVALID: {problem}" if problem else "valid"
        rows.append([("* " if name == scoring.default_profile else "  ") + name, str(path), check])
    echo_table(["profile", "rules file", "check"], rows)


@command(rules, "suggest", short_help="Rule changes the team's feedback supports, best first.")
@PROFILE_OPTION
@click.option(
    "--since",
    callback=parse_since,
    metavar="AGE|ISO",
    help="Count what each change moves among notices published since, e.g. 90d (default: all).",
)
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many suggestions to show (0: every one).",
)
def rules_suggest(state: State, profile: str | None, since: datetime | None, limit: int) -> None:
    """Propose rule changes from the team's feedback (`tenderwatch feedback`), best first.

    Each suggestion is a keyword to add to a service line, a negative keyword, a keyword's weight,
    or the band thresholds, tried on the judged notices first: it is shown only if it improves how
    the bands agree with the feedback (recall of strong+possible first, then the strong band's
    precision), and a keyword or weight only if it moves at least two judged notices the right
    way. Each comes with its effect on
    precision and recall, the judged notices it moves, what it moves among the stored notices, and
    the YAML line to paste. Nothing is changed: copy the rules file, paste, then `rules check` and
    `backtest --rules` the copy. Suggestions learn from a few judged notices: read each one.

    \b
    Examples:
      tenderwatch rules suggest
      tenderwatch rules suggest --since 90d --limit 5
    """
    from scoring.report import suggestion_lines
    from store.scores import suggest_rules

    live = state.live_profile(profile)
    with state.database.reading() as session:
        suggestions, labels, tried = suggest_rules(session, live, since, limit or None)
    relevant = sum(1 for label in labels.values() if label == "relevant")
    if not relevant:
        echo("No notice judged relevant yet: record some with `tenderwatch feedback`.", err=True)
        return
    echo(f"From {counted(len(labels), 'judged notice')} ({relevant:,} relevant), profile {live.name}.")
    if not suggestions:
        echo("No change to the rules is supported by the feedback: the rules agree with it as well as")
        echo("any single keyword, weight or threshold could make them.")
        return
    shown = counted(len(suggestions), "suggestion")
    echo(f"{shown}, best first; what each moves is counted over {counted(tried, 'stored notice')}:")
    for line in suggestion_lines(suggestions, labels):
        echo(line)


# ---------------------------------------------------------------------------------------------- explain


@command(cli, "explain", short_help="A notice's score and every reason for it.")
@click.argument("notice_id")
@PROFILE_OPTION
def explain(state: State, notice_id: str, profile: str | None) -> None:
    """A notice, its score under a profile, and every reason: each rule that added or removed points.

    NOTICE_ID is like find_a_tender:076396-2026, or 076396-2026 when only one source has that id
    (see `tenderwatch notices`). The score uses the rules file as it is now, whatever is stored.

    \b
    Example:
      tenderwatch explain find_a_tender:076396-2026 --profile example
    """
    from scoring import score_notice
    from scoring.timing import response_window

    rules = state.live_profile(profile)
    with state.database.reading() as session:
        notice = stored_notice(session, notice_id)
    score = score_notice(notice, rules)
    timing = response_window(notice, rules.min_response_days, utcnow())
    echo(f"{notice.id}  {notice.title}")
    echo(
        f"buyer: {notice.buyer_name or '-'}; {notice.notice_type or notice.stage or '-'}; "
        f"{_value(notice.value_amount, notice.value_currency)}; deadline {local_time(notice.deadline)}"
        + (f" ({timing.reason})" if timing.reason else "")
    )
    echo(
        f"profile {rules.name}: score {score.score}, band {score.band}, "
        f"service line {score.service_line or '-'}"
    )
    echo(f"why: {score.summary}")
    if score.reasons:
        echo_table(
            ["points", "rule", "detail"], [[f"{r.points:+g}", r.rule, r.detail] for r in score.reasons]
        )


# ---------------------------------------------------------------------------------------------- backtest


@command(cli, "backtest", short_help="Test rules against history and past decisions.")
@PROFILE_OPTION
@click.option(
    "--since", callback=parse_since, metavar="AGE|ISO", help="Only notices published since, e.g. 90d."
)
@click.option(
    "--rules",
    "candidate_file",
    type=click.Path(path_type=Path),
    metavar="CANDIDATE.yaml",
    help="A changed rules file: show which notices it would move into or out of strong/possible.",
)
@click.option(
    "--limit",
    default=25,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many moved notices to list each way (0: all).",
)
def backtest(
    state: State, profile: str | None, since: datetime | None, candidate_file: Path | None, limit: int
) -> None:
    """How the stored notices fall into bands, and what a candidate rules file would change.

    With feedback recorded (`tenderwatch feedback`), also the precision and recall of the bands:
    of the judged notices in strong or possible, how many the team found relevant, and of the
    relevant ones, how many reached strong or possible.

    \b
    Examples:
      tenderwatch backtest --since 90d
      tenderwatch backtest --since 90d --rules my-candidate.yaml
    """
    from scoring import load_profile
    from store.scores import run_backtest

    live = state.live_profile(profile)
    candidate = load_profile(candidate_file, name=live.name) if candidate_file else None
    with state.database.reading() as session:
        result = run_backtest(session, live, candidate, since)
    _print_backtest(result, limit or None)


def _print_backtest(result: Any, limit: int | None) -> None:
    from scoring.report import agreement_table, band_table, misses, moved

    echo(f"{result.notices:,} notices")
    echo_table(*band_table(result))
    for line in moved(result, limit):
        echo(line)
    agreements = agreement_table(result)
    if agreements is None:
        echo("\nNo feedback on these notices yet: record some with `tenderwatch feedback`.")
        return
    heading, headers, rows = agreements
    echo(f"\n{heading}")
    echo_table(headers, rows)
    for line in misses(result, limit):
        echo(line)


# ---------------------------------------------------------------------------------------------- feedback


class FeedbackGroup(click.Group):
    """`feedback NOTICE_ID LABEL` is short for `feedback add NOTICE_ID LABEL`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


@cli.group(
    "feedback",
    cls=FeedbackGroup,
    context_settings=CONTEXT,
    short_help="Record the team's relevant / not-relevant judgements.",
)
def feedback() -> None:
    """Record the team's judgement of notices; `backtest` measures the bands against it.

    The latest judgement of a notice wins. `feedback NOTICE_ID LABEL` is short for `feedback add`.

    \b
    Examples:
      tenderwatch feedback find_a_tender:076396-2026 relevant --note "evaluation for a VRU"
      tenderwatch feedback import decisions.csv        # columns id,label (and optionally note)
      tenderwatch feedback list
    """


@command(feedback, "add")
@click.argument("notice_id")
@click.argument("label", type=click.Choice(["relevant", "not-relevant"]))
@click.option("--note", metavar="TEXT", help="Why, in a few words (kept with the judgement).")
def feedback_add(state: State, notice_id: str, label: str, note: str | None) -> None:
    """Record that a notice is relevant or not-relevant to the firm.

    \b
    Example:
      tenderwatch feedback add find_a_tender:076396-2026 relevant --note "VRU evaluation"
    """
    from scoring.feedback import check_key
    from store.queries import get_notice
    from store.scores import add_feedback

    with state.database.writing() as session:
        try:
            key = check_key(notice_key(session, notice_id))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="NOTICE_ID") from None
        known = get_notice(session, key) is not None
        add_feedback(session, key, label, note)
    echo(f"{key}: {label}")
    if not known:
        echo(f"note: {key} is not in the store yet; the judgement counts once it is crawled.", err=True)


@command(feedback, "import", short_help="Import judgements from a CSV file (id,label[,note]).")
@click.argument("file", type=click.Path(path_type=Path))
def feedback_import(state: State, file: Path) -> None:
    """Import judgements from a CSV file with columns id,label (and optionally note).

    Labels are relevant or not-relevant. The whole file is checked first: one bad row imports
    nothing and names its line and field (exit code 2).

    \b
    Example:
      tenderwatch feedback import decisions.csv
    """
    from scoring.feedback import read_csv
    from store.queries import missing_notices
    from store.scores import import_feedback

    judgements = read_csv(file)
    with state.database.writing() as session:
        count = import_feedback(session, judgements)
        missing = missing_notices(session, [judgement.notice_key for judgement in judgements])
    echo(f"{file}: imported {counted(count, 'judgement')}")
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        echo(f"note: not in the store yet: {shown}; they count once they are crawled", err=True)


@command(feedback, "list")
@click.option(
    "--limit",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="How many to show (0 for all).",
)
def feedback_list(state: State, limit: int) -> None:
    """The latest judgement of each notice, newest first.

    \b
    Example:
      tenderwatch feedback list --limit 0
    """
    from store.scores import list_feedback

    with state.database.reading() as session:
        rows = list_feedback(session, limit or None)
    echo_table(
        ["notice", "label", "recorded", "note"],
        [[row.notice_key, row.label, local_time(row.created_at), shorten(row.note, 50)] for row in rows],
    )
    if not rows:
        echo("No feedback yet: `tenderwatch feedback NOTICE_ID relevant|not-relevant`.", err=True)


def _value(amount: float | None, currency: str | None) -> str:
    shown = money(amount, currency)
    return f"value {shown}" if amount is not None else shown  # money says "value not stated"
