"""OCDS release → Notice: the mapping shared by every OCDS source.

A source module supplies only what differs (how a notice id and page URL are derived, how regions
are written); everything else is mapped here, the same for every source (what each field means: the
README's "The normalised notice").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from store.notice import CATEGORIES, LONDON, Criterion, Details, Lot, Notice, stated_amount

Release = dict[str, Any]

# Legacy (PCR 2015) releases and Contracts Finder releases carry no UK notice type. Their closest
# Procurement Act equivalent, by release tag, in order of precedence (see the README's table).
TAG_EQUIVALENTS = (
    ("tenderCancellation", "UK12"),
    ("tenderUpdate", "UK4"),
    ("tenderAmendment", "UK4"),
    ("tender", "UK4"),
    ("planningUpdate", "UK2"),
    ("planning", "UK2"),
    ("contractTermination", "UK11"),
    ("contractAmendment", "UK10"),
    ("implementation", "UK9"),
    ("award", "UK6"),
    ("awardUpdate", "UK6"),
    ("contract", "UK7"),
    ("contractUpdate", "UK7"),
)
TENDER_TAGS = {tag for tag, code in TAG_EQUIVALENTS if code in ("UK4", "UK12")}
STAGE_OF_TYPE = {
    **dict.fromkeys(("UK1", "UK2", "UK3"), "planning"),
    **dict.fromkeys(("UK4", "UK12", "UK13"), "tender"),
    **dict.fromkeys(("UK5", "UK6", "UK14", "UK15", "UK16"), "award"),
    **dict.fromkeys(("UK7", "UK8", "UK9", "UK10", "UK11", "UK17"), "contract"),
}
OPPORTUNITY_TYPES = {"UK4", "UK13"}
CANCELLATION_TAGS = {"tenderCancellation"}
# The longest status and notice type the store keeps (notices.status, notices.notice_type): anything
# longer is not one, and PostgreSQL would refuse the whole batch.
STATUS_LENGTH, NOTICE_TYPE_LENGTH = 30, 10
MIN_YEAR, MAX_YEAR = 2, 9998
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class SourceFormat:
    """What one OCDS source does its own way."""

    name: str
    notice_id: Callable[[Release], str]
    notice_url: Callable[[str], str]
    regions: Callable[[Release], list[str]]
    # The id a release is stored under, from its own: the same for every copy of the release.
    release_key: Callable[[str], str] = str
    # Its times end in "Z" but are UK clock time (Proactis: Public Contracts Scotland, Sell2Wales).
    uk_clock: bool = False

    def readable(self, releases: list[Release]) -> list[Release]:
        """The releases as this source means them (`uk_clock`: times read as UK time)."""
        return [uk_clock_times(release) for release in releases] if self.uk_clock else releases


_ZULU_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z")


def uk_clock_times(value: Any) -> Any:
    """The value with every "...T12:00:00Z" time written without its Z, so read as UK time.

    Public Contracts Scotland writes UK clock time with a Z: 43 of its 62 recorded tender deadlines
    are "T12:00:00Z" in summer (13:00 BST read as UTC, where buyers set noon), its releases are dated
    "T00:00:00Z", and Find a Tender's copies of its notices give "T12:00:00+01:00". Read as UTC, each
    deadline in British Summer Time would show an hour late (README: "Times as the source means them")."""
    if isinstance(value, dict):
        return {key: uk_clock_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [uk_clock_times(item) for item in value]
    if isinstance(value, str) and value.endswith("Z") and _ZULU_TIME.fullmatch(value):
        return value[:-1]
    return value


@dataclass(frozen=True)
class RecordFormat:
    """What a source that publishes plain records (a JSON API's objects, a page's rows, a feed's
    entries) rather than OCDS releases needs: each record is one notice, stored under the notice's id
    (so a record fetched again replaces its earlier copy), and read into a Notice by `to_notice`."""

    name: str
    notice_id: Callable[[Release], str]
    to_notice: Callable[[Release], Notice]
    notice_url: Callable[[str], str | None]  # its public page, built from the id (None: it has none)
    # Whether a crawled notice's stored url may be linked: its normaliser keeps only a link to the
    # source's own site (a feed entry's own; an agreement's page, built from its RM number), as no
    # page can be built from the id.
    links_from_data: bool = False

    @property
    def release_key(self) -> Callable[[str], str]:
        return str


def to_notice(release: Release, fmt: SourceFormat, *, first_published: datetime | None = None) -> Notice:
    """Normalise one (possibly compiled) release into a Notice."""
    tender = as_dict(release.get("tender"))
    notice_id = fmt.notice_id(release)
    notice_type = notice_type_of(release)
    cancelled = bool(CANCELLATION_TAGS & tags_of(release))
    status = "cancelled" if cancelled else _code(tender.get("status"), STATUS_LENGTH)
    stage = STAGE_OF_TYPE.get(notice_type or "")
    amount, currency, gross = value_of(release, stage)
    lots = tuple(_lot(lot) for lot in as_dicts(tender.get("lots")))
    return Notice(
        source=fmt.name,
        source_id=notice_id,
        ocid=as_text(release.get("ocid")),
        url=fmt.notice_url(notice_id),
        notice_type=notice_type,
        stage=STAGE_OF_TYPE.get(notice_type or ""),
        is_opportunity=notice_type in OPPORTUNITY_TYPES and status == "active",
        status=status,
        title=as_text(tender.get("title"))
        or as_text(release.get("title"))
        or f"(untitled notice {notice_id})",
        description=as_text(tender.get("description")),
        buyer_name=buyer_name(release),
        published_at=first_published or published_at(release),
        updated_at=parse_time(release.get("date")),
        deadline=deadline_of(tender),
        future_notice_date=parse_time(as_dict(tender.get("communication")).get("futureNoticeDate")),
        same_as_ocid=same_as_ocid(release),
        value_amount=amount,
        value_currency=currency,
        cpv=tuple(cpv_codes(tender)),
        regions=tuple(fmt.regions(release)),
        category=tender.get("mainProcurementCategory")
        if tender.get("mainProcurementCategory") in CATEGORIES
        else None,
        suitable_for_sme=sme_suitability(tender, lots, notice_type),
        lots=lots,
        framework=is_framework(tender),
        procedure=as_text(tender.get("procurementMethodDetails")),
        details=replace(
            details_of(tender),
            value_includes_vat=gross,
            value_from=value_from(tender, stage, amount, currency),
        )
        or None,
    )


def details_of(tender: dict[str, Any]) -> Details:
    """The clarification deadline, contract period and extensions, award criteria, documents, how to
    respond and CPV names: the tender's own, else its lots' (the earliest start, the latest ends)."""
    lots = as_dicts(tender.get("lots"))
    periods = [as_dict(tender.get("contractPeriod"))] + [as_dict(lot.get("contractPeriod")) for lot in lots]
    criteria, vary = award_criteria(tender, lots)
    return Details(
        enquiry_deadline=parse_deadline(as_dict(tender.get("enquiryPeriod")).get("endDate")),
        contract_start=_earliest(parse_time(period.get("startDate")) for period in periods),
        contract_end=_latest(parse_deadline(period.get("endDate")) for period in periods),
        contract_max_end=_latest(parse_deadline(period.get("maxExtentDate")) for period in periods),
        extensions=next(
            (
                text
                for lot in [tender, *lots]
                for key in ("renewal", "options")
                if (text := as_text(as_dict(lot.get(key)).get("description")))
            ),
            None,
        ),
        award_criteria=criteria,
        award_criteria_vary=vary,
        documents_url=documents_url(tender),
        submission=as_text(tender.get("submissionMethodDetails")),
        cpv_names=tuple(cpv_names(tender).items()),
    )


def award_criteria(tender: dict[str, Any], lots: list[dict[str, Any]]) -> tuple[tuple[Criterion, ...], bool]:
    """The tender's award criteria, else the first lot's, and whether the lots' differ."""
    own = _criteria(tender.get("awardCriteria"))
    if own:
        return own, False
    per_lot = [found for lot in lots if (found := _criteria(lot.get("awardCriteria")))]
    if not per_lot:
        return (), False
    return per_lot[0], any(found != per_lot[0] for found in per_lot)


def _criteria(value: Any) -> tuple[Criterion, ...]:
    found = []
    for criterion in as_dicts(as_dict(value).get("criteria")):
        numbers = [n.get("number") for n in as_dicts(criterion.get("numbers"))]
        weight = next((n for n in numbers if isinstance(n, int | float) and not isinstance(n, bool)), None)
        name, kind = as_text(criterion.get("name")), as_text(criterion.get("type"))
        if name or kind:
            finite = weight is not None and math.isfinite(weight)
            found.append(Criterion(kind, name, float(weight) if finite else None))
    return tuple(found)


def documents_url(tender: dict[str, Any]) -> str | None:
    """Where the tender documents are: the bidding documents' web address (http or https only)."""
    for document in as_dicts(tender.get("documents")):
        url = as_text(document.get("url")) or ""
        if document.get("documentType") == "biddingDocuments" and url.startswith(("https://", "http://")):
            return url
    return None


def cpv_names(tender: dict[str, Any]) -> dict[str, str]:
    """Each CPV code's name as the notice gives it ("79419000": "Evaluation consultancy services")."""
    names: dict[str, str] = {}
    for classification in _classifications(tender):
        code = _cpv_code(classification)
        name = as_text(classification.get("description"))
        if code and name and code not in names:
            names[code] = name
    return names


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [moment for moment in moments if moment]
    return min(present) if present else None


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [moment for moment in moments if moment]
    return max(present) if present else None


def notice_type_of(release: Release) -> str | None:
    """UK1..UK17 from the notice's own document, else the documented equivalent of its tag."""
    documents = list(_notice_documents(release))
    typed = [doc for doc in documents if _code(doc.get("noticeType"), NOTICE_TYPE_LENGTH)]
    own = [doc for doc in typed if doc.get("id") == release.get("id")]
    for doc in own or typed:
        return _code(doc["noticeType"], NOTICE_TYPE_LENGTH)
    tags = tags_of(release)
    if tags & {"planning", "planningUpdate"} and not tags & TENDER_TAGS:
        # Contracts Finder tells a future opportunity (planned procurement) from early engagement
        # only by the notice document's type. A release tagged tender too is a call for competition
        # (a legacy prior information notice used as one): its tag's precedence makes it a tender.
        kinds = {as_text(doc.get("documentType")) for doc in documents}
        return "UK3" if "plannedProcurementNotice" in kinds else "UK2"
    return next((code for tag, code in TAG_EQUIVALENTS if tag in tags), None)


def _notice_documents(release: Release) -> Iterator[dict[str, Any]]:
    for section in ("planning", "tender"):
        yield from as_dicts(as_dict(release.get(section)).get("documents"))
    for section in ("awards", "contracts"):
        for entry in as_dicts(release.get(section)):
            yield from as_dicts(entry.get("documents"))


def published_at(release: Release) -> datetime | None:
    own = [doc for doc in _notice_documents(release) if doc.get("id") == release.get("id")]
    for doc in own:
        if doc.get("datePublished"):
            return parse_time(doc["datePublished"])
    return parse_time(as_dict(release.get("tender")).get("datePublished")) or parse_time(release.get("date"))


def deadline_of(tender: dict[str, Any]) -> datetime | None:
    """The first date a supplier must act by: the expression-of-interest or the tender deadline."""
    candidates = [
        parse_deadline(as_dict(tender.get("tenderPeriod")).get("endDate")),
        parse_deadline(tender.get("expressionOfInterestDeadline")),
    ]
    present = [moment for moment in candidates if moment]
    return min(present) if present else None


def value_of(release: Release, stage: str | None) -> tuple[float | None, str | None, bool]:
    """Net value where given, else gross (and whether any of it is a gross amount, VAT included);
    awarded or contracted value once a notice is past tender."""
    tender = as_dict(release.get("tender"))
    candidates: list[Iterable[dict[str, Any]]] = []
    contracts = [as_dict(c.get("value")) for c in as_dicts(release.get("contracts"))]
    awards = [as_dict(a.get("value")) for a in as_dicts(release.get("awards"))]
    if stage == "contract":
        candidates += [contracts, awards]
    elif stage == "award":
        candidates += [awards, contracts]
    candidates += [
        [as_dict(tender.get("value"))],
        [as_dict(tender.get("minValue"))],
        (as_dict(lot.get("value")) for lot in as_dicts(tender.get("lots"))),
    ]
    for values in map(list, candidates):
        total, currency = _sum_values(values)
        if total is not None:
            return total, currency, any(map(_gross_only, values))
    return None, None, False


def value_from(
    tender: dict[str, Any], stage: str | None, amount: float | None, currency: str | None
) -> float | None:
    """The lower end of the range a tender's value is the top of: Contracts Finder states "£100,000 to
    £125,000" as `minValue` beside `value`. None for an award or contract, whose value is what was
    agreed, and for a minimum that is a placeholder, not below the value or in another currency."""
    if stage in ("award", "contract") or amount is None or _amount(as_dict(tender.get("value"))) != amount:
        return None
    minimum = as_dict(tender.get("minValue"))
    low = _amount(minimum)
    if low is None or low >= amount or _currency(minimum.get("currency")) not in (None, currency):
        return None
    return low


def _sum_values(values: Iterable[dict[str, Any]]) -> tuple[float | None, str | None]:
    total, currency = None, None
    for value in values:
        amount = _amount(value)
        if amount is None:
            continue
        own = _currency(value.get("currency"))  # an unreadable one counts as unstated
        currency = currency or own
        if own not in (None, currency):
            continue  # a lot in another currency cannot be added up
        total = (total or 0.0) + amount
    return total, currency


def _amount(value: dict[str, Any]) -> float | None:
    """The net amount, else the gross, skipping placeholders: £1 net with £1.20 gross states nothing."""
    net = _stated(value.get("amount"))
    return net if net is not None else _stated(value.get("amountGross"))


def _gross_only(value: dict[str, Any]) -> bool:
    """Whether the value states a gross amount (VAT included) and no net one."""
    return _stated(value.get("amount")) is None and _stated(value.get("amountGross")) is not None


def _stated(amount: Any) -> float | None:
    if isinstance(amount, int | float) and not isinstance(amount, bool) and math.isfinite(amount):
        return stated_amount(float(amount))
    return None


def cpv_codes(tender: dict[str, Any]) -> list[str]:
    """8-digit CPV codes from the tender and its items, in order, without duplicates."""
    codes: dict[str, None] = {}
    for classification in _classifications(tender):
        code = _cpv_code(classification)
        if code:
            codes[code] = None
    return list(codes)


def _classifications(tender: dict[str, Any]) -> list[dict[str, Any]]:
    classifications = [
        as_dict(tender.get("classification")),
        *as_dicts(tender.get("additionalClassifications")),
    ]
    for item in as_dicts(tender.get("items")):
        classifications += [
            as_dict(item.get("classification")),
            *as_dicts(item.get("additionalClassifications")),
        ]
    return classifications


def _cpv_code(classification: dict[str, Any]) -> str | None:
    if (as_text(classification.get("scheme")) or "").upper() != "CPV":
        return None
    digits = re.sub(r"\D", "", as_text(classification.get("id")) or "")[:8]
    return digits if len(digits) == 8 else None


def delivery_regions(release: Release) -> Iterator[str]:
    for item in as_dicts(as_dict(release.get("tender")).get("items")):
        for address in as_dicts(item.get("deliveryAddresses")):
            region = as_text(address.get("region"))
            if region:
                yield region


def buyer_parties(release: Release) -> Iterator[dict[str, Any]]:
    return (party for party in as_dicts(release.get("parties")) if "buyer" in as_list(party.get("roles")))


def buyer_name(release: Release) -> str | None:
    name = as_text(as_dict(release.get("buyer")).get("name"))
    return name or next((as_text(party.get("name")) for party in buyer_parties(release)), None)


def sme_suitability(tender: dict[str, Any], lots: tuple[Lot, ...], notice_type: str | None) -> bool | None:
    stated = as_dict(tender.get("suitability")).get("sme")
    if isinstance(stated, bool):
        return stated
    if any(lot.suitable_for_sme for lot in lots):
        return True
    # On an Act tender notice lots[].suitability is written only when true, so silence means no.
    if (
        lots
        and notice_type in OPPORTUNITY_TYPES
        and as_dict(tender.get("legalBasis")).get("scheme") == "UKPGA"
    ):
        return False
    return None


def is_framework(tender: dict[str, Any]) -> bool:
    techniques = as_dict(tender.get("techniques"))
    details = (as_text(tender.get("procurementMethodDetails")) or "").lower()
    return bool(
        techniques.get("hasFrameworkAgreement")
        or techniques.get("hasDynamicPurchasingSystem")
        or "dynamic market" in details
    )


def _lot(lot: dict[str, Any]) -> Lot:
    value = as_dict(lot.get("value"))
    sme = as_dict(lot.get("suitability")).get("sme")
    return Lot(
        id=as_text(lot.get("id")) or "",
        title=as_text(lot.get("title")),
        description=as_text(lot.get("description")),
        status=as_text(lot.get("status")),
        value_amount=_amount(value),
        value_currency=_currency(value.get("currency")) if _amount(value) is not None else None,
        suitable_for_sme=sme if isinstance(sme, bool) else None,
    )


# A link to a release of Proactis's OCDS Web API (Public Contracts Scotland, Sell2Wales), by ocid,
# on those services' own API hosts only: a link a buyer wrote anywhere else proves nothing.
OTHER_SERVICE_NOTICE = re.compile(
    r"^https://(?:api\.publiccontractsscotland\.gov\.uk|api\.sell2wales\.gov\.wales)"
    r"/v1/Notice\?id=(ocds-[a-z0-9]{6}-[A-Za-z0-9_.-]{1,180})$"
)


def same_as_ocid(release: Release) -> str | None:
    """The ocid of the same procurement on another service, when the release's own links name it:
    Find a Tender's copy of a Public Contracts Scotland notice links to its PCS release
    (`links[].href` https://api.publiccontractsscotland.gov.uk/v1/Notice?id=ocds-r6ebe6-...)."""
    publisher = (as_text(release.get("ocid")) or "")[:11]  # "ocds-h6vhtk": its own service
    for link in as_dicts(release.get("links")):
        found = OTHER_SERVICE_NOTICE.match((as_text(link.get("href")) or "").strip())
        if found and found.group(1)[:11] != publisher:
            return found.group(1)
    return None


def parse_time(value: Any) -> datetime | None:
    """An OCDS date; one without an offset is UK local time, as both services mean it."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None  # year 1 or 9999 would overflow when converted to UTC for the store
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


def parse_deadline(value: Any) -> datetime | None:
    """A deadline or an end date: one given as a date alone ("2026-08-13") is the end of that day in UK
    time, as suppliers have the whole day (read as 00:00, the notice looked closed a day early); one
    at 23:59:59 is the end of the day written, whatever its offset. Find a Tender publishers write
    summer end dates as "2027-07-31T23:59:59Z" (90 contract ends of the two recorded days): read as
    UTC that is 00:59 BST on 1 August, and a contract ending on 31 July showed as ending on 1 August."""
    moment = parse_time(value)
    if moment and DATE_ONLY.fullmatch(value.strip()):
        return end_of_day(moment)
    if moment and (moment.hour, moment.minute, moment.second) == (23, 59, 59):
        return end_of_day(moment.replace(tzinfo=None))  # the written day, not the instant's UK day
    return moment


def end_of_day(moment: datetime) -> datetime:
    """23:59:59 UK time on the day of `moment` (a naive one is read as UK time)."""
    day = moment.astimezone(LONDON) if moment.tzinfo else moment
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=LONDON)


def tag_list(release: Release) -> list[str]:
    """The release's tags: a list of strings in OCDS; one string is read as one tag, anything else as none."""
    tag = release.get("tag")
    return [tag] if isinstance(tag, str) else [t for t in as_list(tag) if isinstance(t, str)]


def tags_of(release: Release) -> set[str]:
    return set(tag_list(release))


def as_text(value: Any) -> str | None:
    """Text, or a number written as text; an object or a list where text belongs is no text at all."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _code(value: Any, longest: int) -> str | None:
    """A short code (a status, a notice type): text no longer than such codes are, else none."""
    text = as_text(value)
    return text if text and len(text) <= longest else None


def _currency(value: Any) -> str | None:
    """An ISO 4217 code (three letters), else none."""
    text = as_text(value)
    return text if text and len(text) == 3 and text.isalpha() else None


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is an object, else an empty one: real releases have nulls where objects belong."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """The objects in a list, skipping anything else; no list gives none."""
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
