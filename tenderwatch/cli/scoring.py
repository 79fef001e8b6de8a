"""Commands for the bid lead's rules: rules check/list/suggest/learn, explain, backtest, and feedback."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from store.models import utcnow
from tenderwatch.cli.base import (
    CONTEXT,
    LIMIT,
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
    unknown_notice,
)
from tenderwatch.errors import InputError
from tenderwatch.formatting import counted, money

# ---------------------------------------------------------------------------------------------- rules


def grades_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--grades GRADES.csv (repeatable), as `backtest` and `rules learn` read graded notices."""
    return click.option(
        "--grades",
        "grades_files",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="GRADES.csv",
        help=help_text,
    )


@cli.group("rules", context_settings=CONTEXT, short_help="Check, list and improve the scoring rules files.")
def rules() -> None:
    """Check, list and improve the scoring rules files (one YAML file per profile).

    \b
    Examples:
      tenderwatch rules check                      # the default profile's live rules
      tenderwatch rules check my-rules.yaml        # any file, before it goes live
      tenderwatch rules list
      tenderwatch rules suggest                    # changes the team's feedback supports
      tenderwatch rules learn our-words.tsv        # the words of the notices the team judged
    """


@command(rules, "check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@PROFILE_OPTION
def rules_check(state: State, file: Path | None, profile: str | None) -> None:
    """Validate a rules file and print a summary of its profile.

    FILE defaults to the rules of --profile (a profile's name or a rules file; without it, the
    default profile): a profile's live rules, the version last published with `tenderwatch web`,
    else its rules file. Each mistake is reported on its own line as FILE:LINE: field: what is wrong,
    with exit code 2 (each top-level section and each service line is checked on its own).

    \b
    Example:
      tenderwatch rules check scoring/profiles/example.yaml
    """
    from scoring.profile import load_profile
    from scoring.report import describe_profile
    from scoring.yamlnodes import ProfileError

    try:
        loaded = load_profile(file) if file else state.profile(profile)
    except ProfileError as exc:
        for mistake in exc.mistakes:
            echo(f"tenderwatch: {mistake}", err=True)
        click.get_current_context().exit(exc.exit_code)
    for line in describe_profile(loaded):
        echo(line)


@command(rules, "list", short_help="List the configured profiles and their rules files.")
def rules_list(state: State) -> None:
    """List the configured profiles, their rules files and which rules are live (the file, or a
    version published with `tenderwatch web`), checked; the default is marked with *.

    \b
    Example:
      tenderwatch rules list
    """
    scoring = state.config.scoring
    rows = []
    for name, path in sorted(scoring.profiles.items()):
        problem = state.profile_problem(name)
        check = f"INVALID: {problem}" if problem else "valid"
        marked = ("* " if name == scoring.default_profile else "  ") + name
        rows.append([marked, str(path), _live_rules(state, name), check])
    echo_table(["profile", "rules file", "live rules", "check"], rows)


def _live_rules(state: State, name: str) -> str:
    """Which rules scoring uses: "the file", or the version published with `tenderwatch web`."""
    from store.db import missing_sqlite_file
    from store.notice import LONDON
    from store.profiles import published

    if missing_sqlite_file(state.config.db_url):
        return "the file"
    with state.database.reading() as session:
        live = published(session, name)
        if live is None:
            return "the file"
        day = live.published_at.astimezone(LONDON)
        return f"version {live.number} (web, {day:%Y-%m-%d} by {live.published_by})"


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
    type=LIMIT,
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

    live = state.profile(profile)
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


@command(rules, "learn", short_help="Learn the words of the notices the team judged, for the rules.")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@PROFILE_OPTION
@grades_option(
    "Also learn from graded notices: a CSV of id and grade (2 must see, 1 worth a look, 0 not "
    "relevant), as backtest --grades reads; a grade wins over feedback for the same notice. Never the "
    "set you measure with backtest --grades: learning from it makes that measure in-sample."
)
def rules_learn(state: State, out: Path, profile: str | None, grades_files: tuple[Path, ...]) -> None:
    """Learn which words the notices judged relevant share, and write them to OUT (a text file).

    The judged notices are the stored ones with feedback (`tenderwatch feedback`) or a grade
    (--grades): at least 20 relevant and 20 not relevant. A word is learnt only if three judged
    notices or more hold it, so a name one notice mentions stays out of the file.

    Point the rules at OUT to use it: a near miss (in no band, with `promote_from` points and a
    service line's keyword) that reads like the relevant ones (likeness `promote_at` or more) is
    lifted to possible, and `explain` names the words that counted. Likeness alone never scores a
    notice. Before you do, this command tries the promotion honestly: learnt from half of the
    judged notices and tried on the other half (then swapped), it says how many notices it would
    lift and how many of those were relevant.

    \b
    Examples:
      tenderwatch rules learn our-words.tsv
      tenderwatch rules learn our-words.tsv --grades our-grades.csv
    then, in the rules file:
      learned:
        words: our-words.tsv    # beside the rules file, or a full path
        promote_from: 14
        promote_at: 0.8
    """
    from scoring.feedback import read_grades
    from scoring.learned import (
        SEEN_IN,
        checked_on_halves,
        enough_to_learn,
        judged_examples,
        strongest,
        train,
        write_words,
    )
    from scoring.yamlnodes import ProfileError
    from store.scores import latest_feedback, stored_notices

    try:
        live = state.profile(profile)
    except ProfileError as exc:
        if exc.field != "learned.words":
            raise
        raise InputError(
            f"{exc}. `rules learn` scores the judged notices with these rules: point learned: words at a "
            "readable file, or take the learned section out for now, then run it again"
        ) from None
    grades = read_grades(grades_files).grades if grades_files else {}
    with state.database.reading() as session:
        labels = latest_feedback(session)
        judged = stored_notices(session, live, {*labels, *grades})
    examples = judged_examples(judged, labels, grades)
    enough_to_learn(examples)
    relevant = sum(example.relevant for example in examples)
    weights = train(examples, seen_in=SEEN_IN)
    heading = (
        f"Learnt by `tenderwatch rules learn` from {len(examples):,} judged notices ({relevant:,} relevant)."
    )
    write_words(out, weights, heading)
    echo(f"Learnt from {counted(len(examples), 'judged notice')} ({relevant:,} relevant): wrote {out}.")
    liked, disliked = strongest(weights, 8)
    echo(f"Words that count most for: {', '.join(liked)}.")
    echo(f"Words that count most against: {', '.join(disliked)}.")
    lifted, wrongly = checked_on_halves(live, examples, seen_in=SEEN_IN)
    echo(
        f"Learnt from half of the judged notices and tried on the other half, the promotion lifts "
        f"{counted(lifted + wrongly, 'notice')} into possible: {lifted} relevant, {wrongly} not relevant."
    )
    echo("To use it, name it in the rules (learned: words: FILE), then `tenderwatch rules check`.")


# ---------------------------------------------------------------------------------------------- explain


@command(cli, "explain", short_help="A notice's score and every reason for it.")
@click.argument("notice_id")
@PROFILE_OPTION
@click.option(
    "--rules",
    "candidate_file",
    type=click.Path(path_type=Path),
    metavar="CANDIDATE.yaml",
    help="A changed rules file: explain the score under it, compared with --profile's.",
)
def explain(state: State, notice_id: str, profile: str | None, candidate_file: Path | None) -> None:
    """A notice, its score under a profile, and every reason: each rule that added or removed points.

    NOTICE_ID is like find_a_tender:076396-2026, or 076396-2026 when only one source has that id
    (see `tenderwatch notices`). The score uses the profile's live rules as they are now (the version
    last published with `tenderwatch web`, else its rules file), whatever score is stored.
    With --rules, the reasons are the candidate's, and a line compares its score with the live one.

    \b
    Examples:
      tenderwatch explain find_a_tender:076396-2026 --profile example
      tenderwatch explain 076396-2026 --rules my-candidate.yaml
    """
    from scoring import load_profile, score_notice
    from scoring.timing import response_window

    live = state.profile(profile)
    rules = load_profile(candidate_file, name=f"candidate {candidate_file}") if candidate_file else live
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
    clamped = f" ({score.clamped})" if score.clamped else ""
    echo(
        f"profile {rules.name}: score {score.score}{clamped}, band {score.band}, "
        f"service line {score.service_line or '-'}"
    )
    if candidate_file:
        before = score_notice(notice, live)
        echo(f"live profile {live.name}: score {before.score}, band {before.band}" + _moved(before, score))
    echo(f"why: {score.summary}")
    if score.reasons:
        echo_table(
            ["points", "rule", "detail"], [[f"{r.points:+g}", r.rule, r.detail] for r in score.reasons]
        )
        echo(_total_line(score))


def _moved(before: Any, after: Any) -> str:
    if before.band != after.band:
        return f"; the candidate moves it {before.band} -> {after.band}"
    change = after.score - before.score
    return f"; the candidate changes its score by {change:+d}" if change else "; no change"


def _total_line(score: Any) -> str:
    """The rows' sum and the score it gives: they add up, but for rounding to whole points."""
    total = round(sum(reason.points for reason in score.reasons), 2)
    if total == score.score:
        return f"total {total:+g} = score {score.score}"
    return f"total {total:+g}, rounded to score {score.score}"


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
@grades_option(
    "Measure against graded notices instead of the team's feedback: a CSV of id and grade "
    "(2 must see, 1 worth a look, 0 not relevant), as the labelled set's grades.csv; repeat for "
    "several files. Adds the recall of the must-see notices."
)
@click.option(
    "--limit",
    default=25,
    show_default=True,
    type=LIMIT,
    help="How many moved notices to list each way (0: all).",
)
def backtest(
    state: State,
    profile: str | None,
    since: datetime | None,
    candidate_file: Path | None,
    grades_files: tuple[Path, ...],
    limit: int,
) -> None:
    """How the stored notices fall into bands, and what a candidate rules file would change.

    With feedback recorded (`tenderwatch feedback`), also the precision and recall of the bands:
    of the judged notices in strong or possible, how many the team found relevant, and of the
    relevant ones, how many reached strong or possible. With --grades, the same against a graded
    set of notices kept aside (import them into a store of their own first, so that they never
    reach a digest), and how many must-see notices the bands found.

    \b
    Examples:
      tenderwatch backtest --since 90d
      tenderwatch backtest --since 90d --rules my-candidate.yaml
      TENDERWATCH_DB_URL=sqlite:///held-back.db tenderwatch import held-back.jsonl
      TENDERWATCH_DB_URL=sqlite:///held-back.db tenderwatch backtest --grades held-back-grades.csv
    """
    from scoring import load_profile
    from scoring.feedback import read_grades
    from store.scores import run_backtest

    live = state.profile(profile)
    candidate = load_profile(candidate_file, name=live.name) if candidate_file else None
    grades = read_grades(grades_files) if grades_files else None
    with state.database.reading() as session:
        result = run_backtest(session, live, candidate, since, grades)
        unmeasured = _unmeasured(session, result, limit or None) if grades else []
    _print_backtest(result, limit or None, unmeasured)


def _unmeasured(session: Any, result: Any, limit: int | None) -> list[str]:
    """Lines on the graded notices the backtest could not measure (its figures leave them out):
    not stored, or published (undated: first stored) before --since; and on rows without a grade."""
    from scoring.feedback import MUST_SEE
    from store.queries import missing_notices

    grades = result.grades
    lines = []
    if grades.ungraded:
        lines.append(f"{counted(grades.ungraded, 'row')} without a grade left out.")
    measured = {judged.key for judged in result.judged}
    not_stored = missing_notices(session, [key for key in grades.grades if key not in measured])
    before = [key for key in grades.grades if key not in measured.union(not_stored)]
    for keys, why in (
        (not_stored, "not in the store: import or crawl them"),
        (before, "published (undated: first stored) before --since"),
    ):
        if keys:
            must_see = sum(1 for key in keys if grades.grades[key] == MUST_SEE)
            shown = ", ".join(keys[:limit]) + (
                f" and {len(keys) - limit} more" if limit and len(keys) > limit else ""
            )
            lines.append(
                f"{counted(len(keys), 'graded notice')} ({must_see} must see) not measured, {why}: {shown}"
            )
    return lines


def _print_backtest(result: Any, limit: int | None, notes: Sequence[str] = ()) -> None:
    from scoring.report import agreement_table, band_table, misses, moved, rough_figures

    echo(f"{result.notices:,} notices")
    echo_table(*band_table(result))
    for line in moved(result, limit):
        echo(line)
    agreements = agreement_table(result)
    if agreements is None:  # never against grades: a graded set always gives a table
        echo("\nNo feedback on these notices yet: record some with `tenderwatch feedback`.")
    else:
        heading, headers, rows = agreements
        echo(f"\n{heading}")
        echo_table(headers, rows)
        for line in rough_figures(result):
            echo(line)
    for line in notes:
        echo(line)
    if agreements is not None:
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


class Label(click.ParamType):
    """relevant or not relevant, in any case and spelling (not-relevant, not_relevant), as in CSV."""

    name = "label"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from scoring.feedback import check_label

        try:
            return check_label(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "relevant|not-relevant"


@command(feedback, "add")
@click.argument("notice_id")
@click.argument("label", type=Label())
@click.option("--note", metavar="TEXT", help="Why, in a few words (kept with the judgement).")
def feedback_add(state: State, notice_id: str, label: str, note: str | None) -> None:
    """Record that a notice is relevant or not-relevant to the firm.

    NOTICE_ID must be a stored notice (a mistyped id is refused, with the closest stored ids);
    LABEL may be written in any case: Relevant, "not relevant", not_relevant. To judge notices not
    crawled yet, use `feedback import`.

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
        if get_notice(session, key) is None:
            raise unknown_notice(session, notice_id)
        add_feedback(session, key, label, note)
    echo(f"{key}: {label}")


@command(feedback, "import", short_help="Import judgements from a CSV file (id and label columns).")
@click.argument("file", type=click.Path(path_type=Path))
def feedback_import(state: State, file: Path) -> None:
    """Import judgements from a CSV file with an id and a label column (and optionally note).

    The columns are found by the first line's names, in any order: id (or key, notice,
    notice_id), label, note; any other column is ignored, so a file from `tenderwatch export
    --format csv` with a label column added imports as it is. Labels are relevant or not relevant,
    in any case; rows with an empty label are skipped and counted. The whole file is checked first:
    one bad row imports nothing and names its line and field (exit code 2).

    \b
    Examples:
      tenderwatch feedback import decisions.csv
      tenderwatch export --format csv --band strong --band possible -o matches.csv
      (add a label column in a spreadsheet, fill in some rows, save as CSV)
      tenderwatch feedback import matches.csv
    """
    from scoring.feedback import read_feedback
    from store.queries import missing_notices
    from store.scores import import_feedback

    read = read_feedback(file)
    judgements = read.judgements
    with state.database.writing() as session:
        count = import_feedback(session, judgements)
        missing = missing_notices(session, [judgement.notice_key for judgement in judgements])
    skipped = f"; skipped {counted(read.unlabelled, 'row')} without a label" if read.unlabelled else ""
    echo(f"{file}: imported {counted(count, 'judgement')}{skipped}")
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        echo(f"note: not in the store yet: {shown}; they count once they are crawled", err=True)


@command(feedback, "list")
@click.option(
    "--limit",
    default=30,
    show_default=True,
    type=LIMIT,
    help="How many to show (0 for all).",
)
def feedback_list(state: State, limit: int) -> None:
    """The latest judgement of each notice, newest first, with its title.

    Each row: the notice id, the label, when it was recorded, the notice's title and the note.

    \b
    Example:
      tenderwatch feedback list --limit 0
    """
    from store.queries import titles_of
    from store.scores import list_feedback

    with state.database.reading() as session:
        rows = list_feedback(session, limit or None)
        titles = titles_of(session, [row.notice_key for row in rows])
    echo_table(
        ["notice", "label", "recorded", "title", "note"],
        [
            [
                row.notice_key,
                row.label,
                local_time(row.created_at),
                shorten(titles.get(row.notice_key, "(not in the store yet)"), 50),
                shorten(row.note, 40),
            ]
            for row in rows
        ],
    )
    if not rows:
        echo("No feedback yet: `tenderwatch feedback NOTICE_ID relevant|not-relevant`.", err=True)


def _value(amount: float | None, currency: str | None) -> str:
    shown = money(amount, currency)
    return f"value {shown}" if amount is not None else shown  # money says "value not stated"
