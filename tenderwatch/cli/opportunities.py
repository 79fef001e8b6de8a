"""Commands for opportunities: list them, show one with its timeline, split a wrong merge, and the
contracts ending soon (expiring)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import NoticeRow, OpportunityRow, utcnow
from store.notice import LONDON
from tenderwatch.cli.base import (
    LIMIT,
    PROFILE_OPTION,
    State,
    cli,
    command,
    echo,
    echo_table,
    local_time,
    parse_time_option,
    shorten,
)
from tenderwatch.cli.notices import filter_from_options, notice_filters, scored
from tenderwatch.errors import ConfigError
from tenderwatch.formatting import counted, money


@command(cli, "opportunities", short_help="List opportunities: a procurement's notices as one item.")
@notice_filters
def opportunities(state: State, **options: Any) -> None:
    """Opportunities with a notice meeting the filters (those of `tenderwatch notices`), the one with
    the newest such notice first: its current title, buyer, value, deadline, status and stage, and
    how many notices (on which services) it holds.

    An opportunity is one procurement's notices (pipeline, tender, updates, cancellation, award,
    contract) and the same procurement's notices on other services; `tenderwatch show ID` shows its
    timeline.

    \b
    Examples:
      tenderwatch opportunities --open --band strong
      tenderwatch opportunities --search "evaluation" --since 30d
    """
    from store.opportunities import find_opportunity_ids, load_opportunities

    where, rules = filter_from_options(state, options)
    now = utcnow()
    with scored(state, rules) as session:
        ids = find_opportunity_ids(session, where, options["limit"] or None)
        found = load_opportunities(session, ids, now)
    rows = [
        [
            opportunity.key,
            opportunity.status,
            local_time(opportunity.deadline),
            money(opportunity.value_amount, opportunity.value_currency),
            shorten(opportunity.buyer_name, 28),
            shorten(opportunity.title, 44),
            f"{len(opportunity.notices)} ({', '.join(opportunity.sources)})",
        ]
        for opportunity in found
    ]
    echo_table(["opportunity", "status", "deadline", "value", "buyer", "title", "notices"], rows)
    if not found:
        echo("No opportunity matches these filters: widen them (or crawl first).", err=True)


def opportunity_named(session: Session, text: str) -> str | None:
    """The key of the opportunity a user named, or None when they named a notice (or nothing known).

    A notice's own id wins: a notice without an ocid founds an opportunity of the same name, shown
    with `show --opportunity`. An ocid alone names the opportunity its procurement belongs to.
    """
    from store.opportunities import get_opportunity_row, opportunities_of_procurements

    text = text.strip()
    if session.scalar(select(NoticeRow.id).where(NoticeRow.key == text)) is not None:
        return None
    if get_opportunity_row(session, text) is not None:
        return text
    procurement = _procurement_of_ocid(session, text)
    if procurement is not None:
        return next(iter(opportunities_of_procurements(session, [procurement])), None)
    return None


def _procurement_of_ocid(session: Session, text: str) -> str | None:
    """The procurement ("service:ocid") a bare ocid names, or None."""
    if not text.startswith("ocds-"):
        return None
    named = NoticeRow.procurement.endswith(f":{text}", autoescape=True)
    return session.scalar(select(NoticeRow.procurement).where(named).order_by(NoticeRow.procurement).limit(1))


def show_opportunity(state: State, key: str) -> None:
    from store.opportunities import load_opportunity

    with state.database.reading() as session:
        opportunity = load_opportunity(session, key, utcnow())
    if opportunity is None:
        raise ConfigError(f"no opportunity '{key}' in the store (see `tenderwatch opportunities`)")
    fields = [
        ("opportunity", opportunity.key),
        ("title", opportunity.title),
        ("buyer", opportunity.buyer_name),
        ("status", opportunity.status),
        ("stage", opportunity.stage),
        ("deadline", local_time(opportunity.deadline)),
        ("value", money(opportunity.value_amount, opportunity.value_currency)),
        ("services", ", ".join(opportunity.sources)),
    ]
    for label, value in fields:
        echo(f"{label:>12}: {' '.join(str(value or '').split())}")
    echo("\nTimeline:")
    for event in opportunity.events:
        echo(f"  {local_time(event.at)}  {' '.join(event.text.split())}")
    echo(f"\n{counted(len(opportunity.notices), 'notice')}:")
    echo_table(
        ["notice", "type", "published", "status", "deadline", "value", "title"],
        [
            [
                notice.id,
                notice.notice_type or "",
                local_time(notice.published_at, date_only=True),
                notice.status or "",
                local_time(notice.deadline),
                money(notice.value_amount, notice.value_currency),
                shorten(notice.title, 44),
            ]
            for notice in opportunity.notices
        ],
    )
    if opportunity.links:
        echo("\nMerged across services, on this evidence:")
        for link in opportunity.links:
            evidence = "; ".join(f"{name}: {value}" for name, value in link.evidence.items())
            echo(f"  {link.notice_key} = {link.matched_notice_key}: {link.rule} ({evidence})")
        echo(f"  Wrong? tenderwatch unmerge {opportunity.links[-1].notice_key}")


@command(cli, "unmerge", short_help="Split a wrong merge of notices from two services.")
@click.argument("name", metavar="NOTICE_OR_OPPORTUNITY")
def unmerge(state: State, name: str) -> None:
    """Split NOTICE's procurement off the opportunity it was merged into (for an OPPORTUNITY, or the
    notice that founded it: split off everything merged into it; for a bare OCID, that procurement
    alone). Each part is its own opportunity again, and the split is remembered: no later crawl
    merges them again.

    \b
    Example:
      tenderwatch unmerge contracts_finder:c5b3ac8e-052e-42c3-a16d-45c9fa0cd925
    """
    from store.opportunities import unmerge as split

    with state.database.writing() as session:
        procurement = _procurement_named(session, name)
        leaving = split(session, procurement, utcnow())
    if not leaving:
        echo(f"{name}: nothing was merged with it; nothing to split")
        return
    echo(f"split off {', '.join(leaving)}: each is its own opportunity again, and stays apart")


def _procurement_named(session: Session, name: str) -> str:
    from tenderwatch.cli.base import notice_key

    own = _procurement_of_ocid(session, name.strip())  # an ocid: that procurement, not its opportunity
    if own is not None:
        return own
    key = opportunity_named(session, name)
    if key is not None:
        return key  # an opportunity's key is the procurement that founded it
    procurement = session.scalar(
        select(NoticeRow.procurement).where(NoticeRow.key == notice_key(session, name))
    )
    if procurement is None:
        exists = session.scalar(select(OpportunityRow.id).where(OpportunityRow.key == name))
        if exists is None:
            raise ConfigError(
                f"no notice or opportunity '{name}' in the store (see `tenderwatch opportunities`)"
            )
    return procurement or name


def _months(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    found = re.fullmatch(r"\s*(\d{1,3})\s*-\s*(\d{1,3})\s*", value or "")
    if not found or int(found.group(1)) >= int(found.group(2)):
        raise click.BadParameter(f"'{value}' is not a range of months; write it like 3-18")
    return int(found.group(1)), int(found.group(2))


@command(cli, "expiring", short_help="Contracts in the firm's field that end soon: re-tenders ahead.")
@click.option(
    "--months",
    default="3-18",
    show_default=True,
    callback=_months,
    metavar="FROM-TO",
    help="Contracts whose term ends this many months from now.",
)
@PROFILE_OPTION
@click.option(
    "--as-of",
    "as_of",
    callback=parse_time_option,
    metavar="ISO",
    help="As it would have been at this time (UK time unless an offset is given).",
)
@click.option("--limit", default=50, show_default=True, type=LIMIT, help="0 for all.")
def expiring(
    state: State, months: tuple[int, int], profile: str | None, as_of: datetime | None, limit: int
) -> None:
    """Contracts in the firm's field whose term ends within --months (from award and contract-details
    notices: Find a Tender UK6 and UK7, legacy and Contracts Finder awards), the soonest first, each
    with when its re-tender is expected (about six months before it ends), the incumbent, the value,
    and why it is listed: when it ends, the extensions allowed, and why it fits the profile (scored as
    its tender would have been). A procurement's latest award or contract notice is the one read.

    \b
    Examples:
      tenderwatch expiring
      tenderwatch expiring --months 6-12 --profile example
    """
    from store.expiring import expiring_contracts

    if as_of and as_of > utcnow():  # the store holds only what was published until now
        raise ConfigError(f"--as-of ({local_time(as_of)} UK time) is in the future; give a time already past")
    rules = state.profile(profile)
    with state.database.reading() as session:
        found = expiring_contracts(session, rules, now=as_of or utcnow(), months=months)
    shown = found[:limit] if limit else found
    rows = [
        [
            local_time(item.contract.end_date, date_only=True),
            item.retender_from.astimezone(LONDON).strftime("%b %Y"),
            shorten(", ".join(item.contract.suppliers) or "not stated", 26),
            money(item.contract.value_amount, item.contract.value_currency),
            shorten(item.notice.buyer_name, 24),
            shorten(item.notice.title, 40),
            item.score.band,
            item.notice.id,
        ]
        for item in shown
    ]
    echo_table(
        ["ends", "re-tender from about", "incumbent", "value", "buyer", "title", "band", "notice"], rows
    )
    for item in shown:
        echo(f"  {item.notice.id}: {' '.join(item.why.split())}")
    if not found:
        echo(f"No contract in the profile's field ends {months[0]} to {months[1]} months from now.", err=True)
