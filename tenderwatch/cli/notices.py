"""Commands for getting notices in and out: crawl, sources, notices, show, export, import."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from store.models import NoticeRow, utcnow
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
    parse_end_time_option,
    parse_since,
    parse_time_option,
    profile_option,
    shorten,
    stored_notice,
)
from tenderwatch.config import FEEDS, SOURCE_DEFAULTS
from tenderwatch.errors import ConfigError, InputError
from tenderwatch.formatting import counted, money

# ---------------------------------------------------------------------------------------------- crawl


@command(cli, "crawl", short_help="Fetch new and changed notices from the sources.")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option(
    "--from",
    "start",
    callback=parse_time_option,
    metavar="ISO",
    help="Backfill from this time (UK time unless an offset is given) instead of the watermark.",
)
@click.option(
    "--to",
    "end",
    callback=parse_end_time_option,
    metavar="ISO",
    help="Backfill up to this time (default now).",
)
def crawl(state: State, sources: tuple[str, ...], start: datetime | None, end: datetime | None) -> None:
    """Fetch new and changed notices from SOURCE (default: every enabled source).

    Each source resumes from its watermark (the end of the last complete window) with a small
    overlap; --from/--to backfill a period, fetched in slices of at most 6 hours on Find a Tender.
    Exits 1 if any source failed (the others still complete).

    \b
    SOURCE is one of (`tenderwatch sources` says which are on):
    {sources}

    \b
    Examples:
      tenderwatch crawl
      tenderwatch crawl find_a_tender --from 2026-08-01 --to 2026-08-02
    """
    chosen = list(dict.fromkeys(sources))  # a source named twice is crawled once
    results = crawl_sources(state, chosen or state.config.enabled_sources(), start, end)
    sys.exit(0 if all(result.ok for result in results) else 1)


def _sources_for_help() -> str:
    """Each source a crawl can name, for `crawl --help` (the list the config module defines)."""
    notes = {
        name: "" if settings.get("verified", True) else "unverified; off unless enabled"
        for name, settings in SOURCE_DEFAULTS.items()
    }
    notes[FEEDS] = "the RSS/Atom feeds listed as [[feeds]]; on when any is"
    # Indented as the docstring it goes into, which click dedents as a whole.
    return "\n    ".join(f"  {name:<27}{note}".rstrip() for name, note in notes.items())


crawl.help = (crawl.help or "").replace("{sources}", _sources_for_help())


def crawl_sources(
    state: State, sources: list[str], start: datetime | None, end: datetime | None
) -> list[Any]:
    from spiders.crawl import SKIPPED, plan_crawls, run_crawls

    if not sources:
        raise ConfigError("no source is enabled: enable one in [sources.NAME] of the config file")
    plans = plan_crawls(state.config, state.database, sources, start=start, end=end)
    results = run_crawls(state.config, plans, verbose=state.verbose)
    for result in results:
        if result.outcome == SKIPPED:
            echo(f"{result.source}: {result.message}")
        elif result.ok:
            pages, releases = counted(result.pages, "page"), counted(result.releases, "release")
            notices = f"{result.new:,} new and {result.changed:,} changed notices"
            unreadable = (
                f"; {result.unreadable:,} unreadable, left out (see the log)" if result.unreadable else ""
            )
            echo(f"{result.source}: ok, {pages}, {releases}, {notices}{unreadable}")
        else:
            echo(f"{result.source}: {result.outcome.upper()}: {result.message}", err=True)
    return results


# ---------------------------------------------------------------------------------------------- sources


@cli.group(
    "sources",
    context_settings=CONTEXT,
    invoke_without_command=True,
    short_help="List the sources: URL, last success, watermark; check them.",
)
@click.pass_context
def sources(ctx: click.Context) -> None:
    """List each source: enabled, verified, base URL, last successful crawl, watermark, last crawl.

    A source "unverified against the live service" was built from its documented shape, as no real
    recorded response backs it: `tenderwatch sources check` tries it.

    \b
    Examples:
      tenderwatch sources
      tenderwatch sources check                  # one small live request per enabled source
      tenderwatch sources check sell2wales
    """
    if ctx.invoked_subcommand is None:
        _list_sources(ctx.obj)


def _list_sources(state: State) -> None:
    from store import crawls

    rows = []
    with state.database.reading() as session:
        for name, source in state.config.sources.items():
            status = crawls.source_state(session, name)
            last = crawls.latest_runs(session, name)
            rows.append(
                [
                    name,
                    "on" if source.enabled else "off",
                    "verified" if source.verified else "unverified against the live service",
                    source.url or ", ".join(feed.name for feed in state.config.feeds),
                    local_time(status.last_success_at if status else None),
                    local_time(status.watermark if status else None),
                    f"{last[0].outcome}" + (f": {last[0].message}" if last and last[0].message else "")
                    if last
                    else "never crawled",
                ]
            )
    echo_table(["source", "enabled", "verified", "base URL", "last success", "watermark", "last crawl"], rows)


@command(sources, "check", short_help="One small live request per source: is its shape still as read?")
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
def sources_check(state: State, names: tuple[str, ...]) -> None:
    """Make one small live request to each source (default: every enabled one) and say whether its
    answer still has the shape tenderwatch reads, so a changed portal shows here, not as quiet digests.

    Prints one line per source: ok (how many notices the first page held, all readable), CHANGED (the
    answer is not what the spider reads), EMPTY (no notices where recent ones were expected) or FAILED
    (unreachable, refused, rate limited); exits 1 unless every source is ok. Nothing is stored.

    \b
    Examples:
      tenderwatch sources check
      tenderwatch sources check public_contracts_scotland sell2wales
    """
    from spiders.check import run_checks
    from spiders.crawl import scrapy_settings
    from store.models import utcnow
    from tenderwatch.config import FEEDS

    config = state.config
    for name in names:
        config.source(name)  # an unknown name fails before any request
    chosen = list(names) or [name for name, source in config.sources.items() if source.enabled]
    if not chosen:
        raise ConfigError("no source is enabled: name one, e.g. `tenderwatch sources check find_a_tender`")
    arguments = {
        name: {"base_url": config.source(name).url, **({"feeds": config.feeds} if name == FEEDS else {})}
        for name in chosen
    }
    results = run_checks(scrapy_settings(config, verbose=state.verbose), arguments, now=utcnow())
    for result in results:
        echo(f"{result.source}: {result.outcome}: {result.message}")
    sys.exit(0 if all(result.ok for result in results) else 1)


# ---------------------------------------------------------------------------------------------- notices

BAND_OPTION = click.option(
    "--band",
    "bands",
    multiple=True,
    type=click.Choice(["strong", "possible", "none"]),
    # Shared by notices, opportunities and export: only `notices` orders by score and adds a why.
    help="Only notices scored in this band under --profile (repeatable).",
)


def notice_filters(function: Any) -> Any:
    """The filters of `tenderwatch notices`, shared with `tenderwatch opportunities`."""
    options = [
        click.option("--source", help="Only this source."),
        click.option(
            "--type",
            "notice_types",
            multiple=True,
            metavar="UKn",
            callback=lambda ctx, param, values: tuple(_notice_type(value) for value in values),
            help="Only these notice types, UK1 to UK17 (repeatable).",
        ),
        click.option(
            "--opportunities",
            is_flag=True,
            help="Only opportunities (UK4, UK13 and equivalents), open or closed.",
        ),
        click.option(
            "--open",
            "still_open",
            is_flag=True,
            help="Only opportunities still open: deadline not passed or not given.",
        ),
        click.option(
            "--since",
            callback=parse_since,
            metavar="AGE|ISO",
            help="Published since, e.g. 7d, 24h or 2026-08-01.",
        ),
        click.option(
            "--search",
            metavar="TEXT",
            help='Words in the title, description or buyer, best matches first; "a phrase", OR, -word.',
        ),
        BAND_OPTION,
        PROFILE_OPTION,
        click.option(
            "--limit",
            default=30,
            show_default=True,
            type=LIMIT,
            help="How many to show (0 for all).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def filter_from_options(state: State, options: dict[str, Any]) -> tuple[Any, Any]:
    """(the NoticeFilter, the scored profile's rules or None) that the filter options ask for."""
    from store.queries import NoticeFilter
    from store.search import parse

    if options["search"] is not None:
        try:
            parse(options["search"])
        except ValueError as exc:
            raise ConfigError(f"--search: {exc}") from None
    bands, profile = options["bands"], options["profile"]
    rules = state.profile(profile) if bands or profile else None  # a score column
    where = NoticeFilter(
        source=_known_source(state, options["source"]),
        notice_types=options["notice_types"],
        opportunities_only=options["opportunities"] or options["still_open"],
        open_at=utcnow() if options["still_open"] else None,
        published_since=options["since"],
        text=options["search"],
        bands=bands,
        profile=rules.name if rules else None,
    )
    return where, rules


@command(cli, "notices", short_help="List recent notices, with filters and search.")
@notice_filters
def notices(state: State, **options: Any) -> None:
    """Recent notices, newest first, as a table (with --band, the best scores first, with their scores,
    and for --band none each near miss with why it fell short; with --search, the best matches
    first). Scores held at 100 rank by their raw total, shown as "100 (raw 137)".

    --search looks for every word in the title, description or buyer name, in any form ("develop"
    finds "developing"): "quoted words" must appear together, OR accepts either side, -word excludes.

    \b
    Examples:
      tenderwatch notices --band strong            # the strong matches, best first, with their score
      tenderwatch notices --band strong --open     # only the strong opportunities still open
      tenderwatch notices --band none --open       # near misses first, with why they fell short
      tenderwatch notices --search "evaluation" --since 7d
    """
    from store.queries import find_notices
    from store.scores import scores_for

    where, rules = filter_from_options(state, options)
    limit = options["limit"]
    with scored(state, rules) as session:
        found = find_notices(session, where, limit=limit or None)
        stored = 0 if found else session.scalar(select(func.count()).select_from(NoticeRow))
        scores = scores_for(session, rules, [n.id for n in found]) if rules else {}
    header = ["id", "type", "published", "deadline", "value", "buyer", "title"]
    rows = [
        [
            n.id,
            n.notice_type or "",
            local_time(n.published_at, date_only=True),
            local_time(n.deadline),
            money(n.value_amount, n.value_currency),
            shorten(n.buyer_name, 28),
            shorten(n.title, 50),
        ]
        for n in found
    ]
    if rules:
        header.insert(1, "score")
        for row, notice in zip(rows, found, strict=True):
            row.insert(1, _shown_score(scores[notice.id]))
    if "none" in options["bands"]:  # a near miss is read for why it fell short
        header.append("why")
        for row, notice in zip(rows, found, strict=True):
            row.append(shorten(scores[notice.id].summary, 90))
    echo_table(header, rows)
    if not found and stored:
        echo(f"No notice matches these filters ({counted(stored, 'notice')} stored): widen them.", err=True)
    elif not found:
        echo("No notices stored yet: run `tenderwatch crawl` first.", err=True)


def _shown_score(score: Any) -> str:
    """The score, with the raw total beside it when it was held to 0-100: "100 (raw 137)"."""
    return f"{score.score} (raw {score.raw:g})" if score.clamped else str(score.score)


@command(cli, "show", short_help="One notice, or one opportunity with its timeline, in full.")
@click.argument("notice_id", metavar="NOTICE_OR_OPPORTUNITY")
@click.option("--opportunity", "as_opportunity", is_flag=True, help="Show the notice's opportunity instead.")
def show(state: State, notice_id: str, as_opportunity: bool) -> None:
    """One notice in full, with every change seen to it and the opportunity it belongs to; or one
    opportunity: what it is now, its timeline, every notice in it, and why notices from other
    services were merged into it.

    NOTICE_OR_OPPORTUNITY is a notice like find_a_tender:076396-2026 (or 076396-2026 when only one
    source has that id), or an opportunity like find_a_tender:ocds-h6vhtk-069311 (its ocid alone will
    do). --opportunity shows the opportunity of the notice named.
    """
    from store.opportunities import opportunity_key_of
    from store.queries import notice_history, release_count
    from tenderwatch.cli.opportunities import opportunity_named, show_opportunity
    from tenderwatch.formatting import describe_change

    with state.database.reading() as session:
        named = None if as_opportunity else opportunity_named(session, notice_id)
        if named is None:
            notice = stored_notice(session, notice_id)
            history, releases = notice_history(session, notice.id), release_count(session, notice)
            opportunity = opportunity_key_of(session, notice.id)
    if named or as_opportunity:
        show_opportunity(state, named or opportunity)
        return
    fields = [
        ("title", notice.title),
        ("buyer", notice.buyer_name),
        ("link", notice.url),
        ("type", " ".join(filter(None, [notice.notice_type, notice.stage and f"({notice.stage})"]))),
        ("opportunity", "yes" if notice.is_opportunity else "no"),
        ("status", notice.status),
        ("published", local_time(notice.published_at)),
        ("deadline", local_time(notice.deadline)),
        # A pipeline notice's estimate of when its tender is published.
        *(
            [("tender expected", local_time(expected, date_only=True))]
            if (expected := notice.future_notice_date)
            else []
        ),
        ("value", money(notice.value_amount, notice.value_currency)),
        ("category", notice.category),
        ("procedure", notice.procedure),
        ("framework", "yes" if notice.framework else "no"),
        ("SME suitable", {True: "yes", False: "no", None: "not stated"}[notice.suitable_for_sme]),
        ("CPV", ", ".join(notice.cpv)),
        ("regions", ", ".join(notice.regions)),
        ("lots", str(len(notice.lots))),
        ("releases", str(releases)),
        ("ocid", notice.ocid),
        *([("same as", same_as)] if (same_as := _same_procurement(state, notice)) else []),
        ("opportunity", f"{opportunity} (tenderwatch show {opportunity})" if opportunity else None),
    ]
    for label, value in fields:
        echo(f"{label:>15}: {' '.join(str(value or '').split())}")  # one line each: a title cannot fake more
    echo(f"\n{notice.description or '(no description)'}")
    if history:
        echo("\nChanges seen:")
        for change in history:
            echo(f"  {local_time(change.seen_at)}  {describe_change(change, notice.value_currency)}")


def _same_procurement(state: State, notice: Any) -> str | None:
    """The same procurement's notices on other services, and the evidence: a canonical link."""
    from store.notice import procurement_of

    _, ocid = procurement_of(notice)
    with state.database.reading() as session:
        keys = session.scalars(
            select(NoticeRow.key).where(
                NoticeRow.source != notice.source,
                (NoticeRow.ocid == ocid) | (NoticeRow.same_as_ocid == ocid),
            )
        ).all()
    if notice.same_as_ocid:
        return f"{', '.join(keys) or 'a notice not stored'} (this notice links to its ocid {ocid})"
    return f"{', '.join(keys)} (each links to this notice's ocid)" if keys else None


# ---------------------------------------------------------------------------------------------- exchange


@command(cli, "export", short_help="Write every notice as JSON Lines or CSV.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl: the normalised schema, which import reads; csv: a row per notice, for spreadsheets.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default stdout)."
)
@click.option("--source", help="Only this source.")
@click.option("--since", callback=parse_since, metavar="AGE|ISO", help="Published since, e.g. 30d.")
@BAND_OPTION
@profile_option(
    "Add score, band, service_line and reasons under this profile (a profile's name, or a rules file)."
)
def export(
    state: State,
    fmt: str,
    output: Path | None,
    source: str | None,
    since: datetime | None,
    bands: tuple[str, ...],
    profile: str | None,
) -> None:
    """Write every notice in the normalised schema, one JSON object per line (or one CSV row).

    With --profile, each line also carries the notice's score, band (strong, possible or none), best
    service line and reasons under that profile; `tenderwatch import` ignores those four fields.
    CSV is for spreadsheets: lists joined with "; ", lots counted, the reasons as one line ("why"),
    and text a spreadsheet would run as a formula prefixed with an apostrophe.

    A file given with -o is replaced only once it is written whole. CSV files start with a UTF-8
    byte order mark, so that Excel reads £ and accents right.

    \b
    Example:
      tenderwatch export --format csv --band strong --band possible --since 30d -o matches.csv
    """
    from store.jsonl import write_jsonl
    from store.queries import NoticeFilter, iter_notices
    from store.spreadsheet import write_csv

    rules = state.profile(profile) if profile or bands else None
    where = NoticeFilter(
        source=_known_source(state, source),
        published_since=since,
        bands=bands,
        profile=rules.name if rules else None,
    )
    with scored(state, rules) as session:
        pairs = _with_scores(session, rules, iter_notices(session, where))

        def write(out: Any) -> int:
            if fmt == "csv":
                return write_csv(pairs, out, scored=rules is not None)
            records = (
                {**n.to_json(), "opportunity_id": o, **(s.export_fields() if s else {})} for n, s, o in pairs
            )
            return write_jsonl(records, out)

        if output:
            count = _write_whole(output, write, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
            echo(f"wrote {count} notices to {output}", err=True)
        else:
            write(sys.stdout)


def _write_whole(path: Path, write: Any, *, encoding: str) -> int:
    from tenderwatch.files import write_whole

    try:
        return write_whole(path, write, encoding=encoding)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


def _notice_type(value: str) -> str:
    from scoring.profile import NOTICE_TYPES

    if value.upper() not in NOTICE_TYPES:
        raise click.BadParameter(f"'{value}' is not a notice type; use UK1 to UK17")
    return value.upper()


def _known_source(state: State, source: str | None) -> str | None:
    """The --source given, if it is configured or has notices stored (imports bring their own)."""
    if source is None or source in state.config.sources:
        return source
    from store.queries import stored_sources

    with state.database.reading() as session:
        stored = stored_sources(session)
    if source not in stored:
        known = ", ".join(sorted(set(state.config.sources) | set(stored)))
        raise ConfigError(f"--source: no source '{source}'; sources are {known}")
    return source


@contextmanager
def scored(state: State, rules: Any) -> Iterator[Any]:
    """A session in which every stored notice's score under `rules` is up to date (a plain read
    without rules). A rules file being tried is scored in a transaction rolled back at the end, so
    its scores never reach the store."""
    from scoring.profile import is_trial
    from store.scores import any_stale, rescore

    if rules is not None and is_trial(rules):
        with state.database.trying() as session:
            rescore(session, rules)
            yield session
        return
    if rules is not None:
        with state.database.reading() as session:  # most of the time nothing is stale: no write lock
            stale = any_stale(session, rules)
        if stale:
            with state.database.writing() as session:
                rescore(session, rules)
    with state.database.reading() as session:
        yield session


def _with_scores(session: Any, rules: Any, notices_: Any, batch: int = 500) -> Any:
    """Each notice with its score under `rules` (None without rules) and its opportunity's id,
    looked up a batch at a time."""
    from itertools import islice

    from store.opportunities import opportunity_keys_of
    from store.scores import scores_for

    while chunk := list(islice(notices_, batch)):
        keys = [notice.id for notice in chunk]
        scores = scores_for(session, rules, keys) if rules else {}
        opportunities = opportunity_keys_of(session, keys)
        for notice in chunk:
            yield notice, scores.get(notice.id), opportunities.get(notice.id)


@command(cli, "import", short_help="Add or update notices from a JSON Lines file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(state: State, file: Path) -> None:
    """Add or update notices from a JSON Lines FILE in the export format.

    For notices from elsewhere, e.g. a framework call-off invitation that arrived by email. The whole
    file is checked first: one bad line stops the import and nothing is written.
    """
    from store.ingest import save_notices
    from store.jsonl import read_jsonl

    notices_ = read_jsonl(file)
    with state.database.writing() as session:
        new, changed = save_notices(session, notices_, now=utcnow())
    echo(
        f"imported {counted(len(notices_), 'notice')} from {file}: {new} new, {changed} changed, "
        f"{len(notices_) - new - changed} unchanged"
    )
