"""What a digest item shows a bid manager deciding bid/no-bid, in words: derived from the notice for
display only (the selection of items is notify.digest's).

Everything here is plain text; the templates escape it (HTML) or Markdown-escape it (Teams).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote

from scoring.gates import NOTICE_TYPE_NAMES
from store.notice import LONDON, Criterion, Notice, deadline_day
from store.regions import ITL_NAMES
from tenderwatch.formatting import money, when

EXCERPT_CHARACTERS = 300
EXTENSIONS_CHARACTERS = 160
SUBMISSION_CHARACTERS = 200


@dataclass(frozen=True)
class Lotline:
    title: str
    value: str


@dataclass(frozen=True)
class Facts:
    """An item's facts as the templates show them; None (or empty) where the notice says nothing."""

    notice_type: str  # "Tender notice (UK4)"
    excerpt: str | None
    lots: tuple[Lotline, ...]
    enquiry_deadline: str | None  # "Fri 21 Aug 2026 23:59"
    decide_by: str | None  # "Fri 14 Aug 2026"
    contract: str | None  # "1 Oct 2026 to 31 Mar 2027, up to 31 Mar 2029 with extensions"
    extensions: str | None
    award: str | None  # "quality 80%, price 20%"
    region: str | None  # "West Midlands (UKG)"
    procedure: str | None  # "Below threshold - open competition; suitable for SMEs"
    documents_url: str | None
    submission: str | None
    web_url: str | None  # the notice's page in tenderwatch's web app, when configured
    relevant_url: str | None
    not_relevant_url: str | None


def facts(notice: Notice, *, min_response_days: int, as_of: datetime, public_url: str | None) -> Facts:
    details = notice.details
    web = web_links(notice.id, public_url)
    # A cancelled tender has nothing left to act by: no decision day, no clarification deadline.
    open_to_bids = notice.status != "cancelled"
    return Facts(
        notice_type=notice_type_words(notice.notice_type),
        excerpt=excerpt(notice.description, EXCERPT_CHARACTERS),
        lots=lot_lines(notice) if len(notice.lots) > 1 else (),
        enquiry_deadline=_enquiry_deadline(details.enquiry_deadline, as_of)
        if open_to_bids and details and details.enquiry_deadline
        else None,
        decide_by=_day(decide_by(notice, min_response_days, as_of)) if open_to_bids else None,
        contract=contract_period(notice),
        extensions=excerpt(details.extensions, EXTENSIONS_CHARACTERS) if details else None,
        award=award_words(details.award_criteria, details.award_criteria_vary) if details else None,
        region=region_words(notice.regions),
        procedure=procedure_words(notice),
        documents_url=_web_address(details.documents_url) if details and notice.origin == "crawl" else None,
        submission=excerpt(details.submission, SUBMISSION_CHARACTERS) if details else None,
        web_url=web.get("notice"),
        relevant_url=web.get("relevant"),
        not_relevant_url=web.get("not-relevant"),
    )


def web_links(notice_key: str, public_url: str | None) -> Mapping[str, str]:
    """The notice's page in tenderwatch's web app and its two feedback pages (each asks to confirm:
    a GET changes nothing); none without `[web] public_url`."""
    if not public_url:
        return {}
    page = f"{public_url.rstrip('/')}/notices/{quote(notice_key, safe=':')}"
    return {
        "notice": page,
        "relevant": f"{page}/feedback?label=relevant",
        "not-relevant": f"{page}/feedback?label=not-relevant",
    }


def notice_type_words(notice_type: str | None) -> str:
    name = NOTICE_TYPE_NAMES.get(notice_type or "")
    if name is None:
        return notice_type or "Notice type not stated"
    return f"{name[:1].upper()}{name[1:]} notice ({notice_type})"


def excerpt(text: str | None, limit: int) -> str | None:
    """The text's first `limit` characters on one line, cut at a word with an ellipsis."""
    if not text:
        return None
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat or None
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit // 2:  # an unbroken run (a long URL) is cut where it reaches the limit
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "\u2026"


def lot_lines(notice: Notice) -> tuple[Lotline, ...]:
    return tuple(
        Lotline(
            excerpt(lot.title, 120) or f"Lot {lot.id}",
            money(lot.value_amount, lot.value_currency or notice.value_currency),
        )
        for lot in notice.lots
    )


def _enquiry_deadline(moment: datetime, as_of: datetime) -> str:
    """ "Fri 21 Aug 2026 12:00", or "Mon 10 Aug 2026 12:00 (passed)": questions can no longer be put."""
    return f"{when(moment)} (passed)" if moment <= as_of else when(moment)


def decide_by(notice: Notice, min_response_days: int, as_of: datetime) -> date | None:
    """The day to decide bid/no-bid by: the earlier of the clarification deadline (questions need a
    decision to pursue) and the response deadline less the profile's minimum response days (the time
    a response takes), never before the digest's own day; None without a deadline."""
    if notice.deadline is None or notice.stage != "tender":
        return None
    days = [deadline_day(notice.deadline) - timedelta(days=min_response_days)]
    details = notice.details
    if details and details.enquiry_deadline:
        days.append(deadline_day(details.enquiry_deadline))
    return max(min(days), as_of.astimezone(LONDON).date())


def contract_period(notice: Notice) -> str | None:
    details = notice.details
    if not details or not (details.contract_start or details.contract_end):
        return None
    start, end = details.contract_start, details.contract_end
    text = (
        f"{_day(start)} to {_day(end)}"
        if start and end
        else (f"from {_day(start)}" if start else f"until {_day(end)}")
    )
    if details.contract_max_end and (end is None or details.contract_max_end > end):
        text += f", up to {_day(details.contract_max_end)} with extensions"
    return text


def award_words(criteria: tuple[Criterion, ...], vary: bool) -> str | None:
    """ "quality 80%, price 20%": the weights summed by type, the criteria named where a type has
    several ("quality 80% (Bidder experience 30%, Technical proposal 50%)")."""
    if not criteria:
        return None
    by_type: dict[str, list[Criterion]] = {}
    for criterion in criteria:
        by_type.setdefault((criterion.type or criterion.name or "other").lower(), []).append(criterion)
    parts = []
    for kind, found in by_type.items():
        weights = [c.weight for c in found if c.weight is not None]
        total = f" {sum(weights):g}%" if weights else ""
        named = [c for c in found if c.name and c.name.lower() != kind]
        shown = ""
        if len(found) > 1 or (named and not weights):
            names = [f"{c.name}{f' {c.weight:g}%' if c.weight is not None else ''}" for c in named]
            shown = f" ({', '.join(names)})" if names else ""
        parts.append(f"{kind}{total}{shown}")
    return ", ".join(parts) + (" (lot 1; the lots differ)" if vary else "")


def region_words(regions: tuple[str, ...]) -> str | None:
    """ "West Midlands (UKG)"; a level-3 code by its level-2 region; an unknown code as it is."""
    named = []
    for code in regions:
        name = next((ITL_NAMES[code[:n]] for n in (len(code), 4, 3) if code[:n] in ITL_NAMES), None)
        named.append(f"{name} ({code})" if name else code)
    return ", ".join(dict.fromkeys(named)) or None


def procedure_words(notice: Notice) -> str | None:
    sme = {True: "suitable for SMEs", False: "not marked suitable for SMEs", None: None}[
        notice.suitable_for_sme
    ]
    parts = [part for part in (notice.procedure, "a framework" if notice.framework else None, sme) if part]
    return "; ".join(parts) or None


def _web_address(url: str | None) -> str | None:
    """The address if it is a web page (http or https): never javascript:, data: or the like."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _day(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON).date()
    return f"{moment:%a} {moment.day} {moment:%b %Y}"
