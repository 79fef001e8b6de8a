"""The normalised notice: one shape for every source, as `tenderwatch export` writes it.

`Notice.to_json()` and `Notice.from_json()` are each other's inverse, so an export imports back
unchanged. Times are written in UK local time with their offset (what a bid manager reads) and
compared as instants.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
STAGES = ("planning", "tender", "award", "contract")
CATEGORIES = ("services", "goods", "works")
CPV_CODE = re.compile(r"([0-9]{8})(?:-[0-9])?")  # "79315000", or "79315000-1" as the CPV list writes it
# Computed when exporting (scoring's with `export --profile`; the notice's opportunity, store.opportunities);
# an import ignores them.
COMPUTED_FIELDS = frozenset({"score", "band", "service_line", "reasons", "opportunity_id"})
# Fields whose change a bid manager must hear about; each change is kept with when it was seen.
TRACKED_FIELDS = ("title", "deadline", "value_amount", "status")
# Buyers write £0 or £1 (£1.20 with VAT) when they do not state a value; no real contract is this small.
PLACEHOLDER_BELOW = 100


class NoticeFormatError(ValueError):
    """A JSON object is not a valid notice; `field` names the offending key."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"field '{field_name}': {message}")
        self.field = field_name


@dataclass(frozen=True)
class Lot:
    id: str
    title: str | None = None
    description: str | None = None
    status: str | None = None
    value_amount: float | None = None
    value_currency: str | None = None
    suitable_for_sme: bool | None = None


@dataclass(frozen=True)
class Criterion:
    """One award criterion as published: its type (quality, price, cost), name and weight (a percentage
    where the notice gives one)."""

    type: str | None = None
    name: str | None = None
    weight: float | None = None


@dataclass(frozen=True)
class Details:
    """What a bid manager decides bid/no-bid from, beyond the fields scoring reads: the clarification
    deadline, the contract period and its extensions, the award criteria, the documents and how to
    respond, and the CPV codes' names as the notice gives them."""

    enquiry_deadline: datetime | None = None  # clarification questions by (OCDS enquiryPeriod.endDate)
    contract_start: datetime | None = None
    contract_end: datetime | None = None
    contract_max_end: datetime | None = None  # with every extension taken (contractPeriod.maxExtentDate)
    extensions: str | None = None  # the renewal or options text, as published
    award_criteria: tuple[Criterion, ...] = ()
    award_criteria_vary: bool = False  # the lots' criteria differ: award_criteria are the first lot's
    documents_url: str | None = None
    submission: str | None = None  # how to respond (submissionMethodDetails), as published
    cpv_names: tuple[tuple[str, str], ...] = ()  # (code, its name in the notice)
    value_includes_vat: bool = False  # the notice states its value gross only (OCDS amountGross)
    value_from: float | None = None  # the lower end of a stated range, value_amount its top (minValue)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def cpv_name(self, code: str) -> str | None:
        return next((name for known, name in self.cpv_names if known == code), None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.astimezone(LONDON).isoformat()
            elif f.name == "award_criteria":
                value = [dict(criterion.__dict__) for criterion in value]
            elif f.name == "cpv_names":
                value = dict(value)
            data[f.name] = value
        return data

    @classmethod
    def from_json(cls, data: Any) -> Details:
        """Read what to_json wrote (an export line's `details`); raises ValueError naming the bad key."""
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown key '{unknown[0]}'")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if value is None:
                continue
            try:
                values[name] = _DETAIL_PARSERS.get(name, _text)(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"'{name}': {exc}") from None
        return cls(**values)


@dataclass(frozen=True)
class Notice:
    source: str
    source_id: str
    title: str
    ocid: str | None = None
    url: str | None = None
    notice_type: str | None = None
    stage: str | None = None
    is_opportunity: bool = False
    status: str | None = None
    description: str | None = None
    buyer_name: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    deadline: datetime | None = None
    future_notice_date: datetime | None = None  # a pipeline notice's: when the tender is expected
    value_amount: float | None = None
    value_currency: str | None = None
    cpv: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    category: str | None = None
    suitable_for_sme: bool | None = None
    lots: tuple[Lot, ...] = ()
    framework: bool = False
    procedure: str | None = None
    # The same procurement's ocid on another service, named by the notice's own canonical link (Find a
    # Tender's copy of a Public Contracts Scotland notice links to its release there): one procurement.
    same_as_ocid: str | None = None
    details: Details | None = None  # None when the notice states none of them
    origin: str = field(default="crawl", compare=False)

    @property
    def id(self) -> str:
        return f"{self.source}:{self.source_id}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id}
        for f in fields(self):
            if f.name == "origin":
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.astimezone(LONDON).isoformat()
            elif f.name == "lots":
                value = [dict(lot.__dict__) for lot in value]
            elif isinstance(value, Details):
                value = value.to_json()
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    def content_hash(self) -> str:
        """A fingerprint of what the notice says: equal for equal notices, however they were made
        (times compare as instants). On the ingest hot path, so a plain tuple rather than JSON."""
        parts = []
        for name in HASHED_FIELDS:
            value = getattr(self, name)
            if value is None and name in HASHED_ONLY_WHEN_SET:
                continue
            if isinstance(value, datetime):
                value = value.astimezone(UTC).isoformat()
            elif name == "lots":
                value = tuple(tuple(lot.__dict__.values()) for lot in value)
            elif isinstance(value, Details):
                value = repr(sorted(value.to_json().items()))  # times as UK local text: equal instants agree
            parts.append(value)
        return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()

    @classmethod
    def from_json(cls, data: Any) -> Notice:
        """Validate one exported object; raises NoticeFormatError naming the first bad field."""
        if not isinstance(data, dict):
            raise NoticeFormatError("(object)", "each line must be a JSON object")
        known = {f.name for f in fields(cls)} | {"id"}
        unknown = sorted(set(data) - known - COMPUTED_FIELDS)
        if unknown:
            raise NoticeFormatError(unknown[0], "unknown field (see the export format in the README)")
        values = {
            name: _parse_field(name, data.get(name)) for name in known - {"id", "origin"} if name in data
        }
        for required in ("source", "source_id", "title"):
            if not (values.get(required) or "").strip():
                raise NoticeFormatError(required, "is required and must not be empty")
        if values.get("is_opportunity") and values.get("status") is None:
            values["status"] = "active"  # what an opportunity is; older exports may leave it out
        notice = cls(**values, origin="import")
        if notice.is_opportunity and notice.status != "active":
            # A contradiction: a crawled opportunity is always active.
            raise NoticeFormatError("status", 'must be "active" for an opportunity (is_opportunity: true)')
        if "id" in data and data["id"] != notice.id:
            raise NoticeFormatError("id", f"must be '<source>:<source_id>', i.e. '{notice.id}'")
        return notice


def stated_amount(amount: float | None) -> float | None:
    """The amount, or None when it is a placeholder (£0, £1, £1.20 with VAT: "not stated"). The one
    notion of a placeholder: the normalisers store such a value as None, and scoring reads an imported
    notice's the same way."""
    return amount if amount is not None and amount >= PLACEHOLDER_BELOW else None


def at_midnight(moment: datetime) -> bool:
    """Whether a moment is 00:00 in the UK: a deadline then means "by the end of the day before"."""
    local = moment.astimezone(LONDON)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def deadline_day(moment: datetime) -> date:
    """The UK day a deadline falls on, as a bid team counts it: one at 00:00 is the last day before
    it (buyers write midnight for "by the end of Tuesday"), so that day is "closes today" all day,
    not "tomorrow", and a bid/no-bid date counts back from it."""
    day = moment.astimezone(LONDON).date()
    return day - timedelta(days=1) if at_midnight(moment) else day


FIELD_NAMES = tuple(f.name for f in fields(Notice))
HASHED_FIELDS = tuple(name for name in FIELD_NAMES if name != "origin")
# Fields added after notices were first stored count in the fingerprint only when set, so that a
# stored notice without one keeps the fingerprint it was stored with (and is not rewritten for it).
HASHED_ONLY_WHEN_SET = frozenset({"future_notice_date", "same_as_ocid", "details"})
# Each OCDS publisher's ocid prefix: an ocid names its procurement on that service.
OCID_PUBLISHERS = {
    "ocds-h6vhtk": "find_a_tender",
    "ocds-b5fd17": "contracts_finder",
    "ocds-r6ebe6": "public_contracts_scotland",
    "ocds-kuma6s": "sell2wales",
}


def procurement_key(
    source: str, ocid: str | None, source_id: str, same_as_ocid: str | None
) -> tuple[str, str]:
    """(service, ocid) naming a notice's procurement, the same whichever source holds the notice:
    the ocid its canonical link names on another service, else its own ocid, each under the service
    that publishes it (an imported notice with a Find a Tender ocid is of that procurement); a
    notice without an ocid is its own procurement (source, source id)."""
    for candidate in (same_as_ocid, ocid):
        publisher = OCID_PUBLISHERS.get((candidate or "")[:11])
        if publisher and candidate:
            return publisher, candidate
    return source, ocid or source_id


def procurement_of(notice: Notice) -> tuple[str, str]:
    return procurement_key(notice.source, notice.ocid, notice.source_id, notice.same_as_ocid)


def procurement_text(notice: Notice) -> str:
    """The procurement as the store keeps it (notices.procurement): "find_a_tender:ocds-h6vhtk-069311"."""
    return ":".join(procurement_of(notice))


def _parse_field(name: str, value: Any) -> Any:
    if value is None:
        return () if name in ("cpv", "regions", "lots") else (False if name in _BOOLEANS else None)
    parser = _PARSERS.get(name, _text)
    try:
        return parser(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise NoticeFormatError(name, str(exc)) from None


def _text(value: Any) -> str:
    """Text as it will be stored: without NUL characters (as a crawl's is, store.ingest._storable), so
    that what import compares is what is kept; half of a UTF-16 pair, which nothing can store, refused."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            broken = f"\\u{ord(value[exc.start]):04x}"
            raise ValueError(
                f"holds {broken}, half of a character; fix the text where it was exported"
            ) from None
    return value.replace("\x00", "") if "\x00" in value else value


SOURCE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def _source_name(value: Any) -> str:
    # Part of every notice id ("<source>:<source_id>") and shown in digests: a plain short name.
    if not SOURCE_NAME.fullmatch(_text(value)):
        raise ValueError(
            f"{value[:50]!r} is not a source name: use up to 40 lower-case letters, digits, '_' or '-', "
            "starting with a letter (e.g. email)"
        )
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    if not math.isfinite(value):  # JSON has no infinity: it would export as invalid JSON
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _timestamp(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value))
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date and time; write it like 2026-09-01T12:00:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"'{value}' has no UTC offset; write it like 2026-09-01T12:00:00+01:00")
    try:
        moment.astimezone(UTC).astimezone(LONDON)  # what storing and showing it do
    except OverflowError:
        raise ValueError(f"'{value}' is out of range") from None
    return moment


def _choice(options: tuple[str, ...]) -> Any:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, not {value!r}")
        return value

    return parse


def _cpv_list(value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_cpv_code(_text(code)) for code in _list(value)))


def _cpv_code(code: str) -> str:
    """The 8-digit code; a check digit ("79315000-1") is dropped, since scoring reads the code alone."""
    found = CPV_CODE.fullmatch(code.strip())
    if not found:
        raise ValueError(f"CPV code {code!r} must be 8 digits, e.g. '79411000' (or '79411000-8')")
    return found.group(1)


def _text_list(value: Any) -> tuple[str, ...]:
    return tuple(_text(item) for item in _list(value))


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _lots(value: Any) -> tuple[Lot, ...]:
    lots = []
    for index, item in enumerate(_list(value)):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ValueError(f"lot {index + 1} must be an object with a text 'id'")
        unknown = sorted(set(item) - {f.name for f in fields(Lot)})
        if unknown:
            raise ValueError(f"lot {index + 1} has unknown field '{unknown[0]}'")
        lots.append(Lot(**{name: _lot_field(index, name, item[name]) for name in item}))
    return tuple(lots)


def _lot_field(index: int, name: str, value: Any) -> Any:
    """A lot's field checked as the notice's field of the same name is (scoring compares them)."""
    if value is None and name != "id":
        return None
    try:
        return _PARSERS.get(name, _text)(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"lot {index + 1} field '{name}': {exc}") from None


def _criteria(value: Any) -> tuple[Criterion, ...]:
    found = []
    for index, item in enumerate(_list(value)):
        if not isinstance(item, dict) or set(item) - {"type", "name", "weight"}:
            raise ValueError(f"criterion {index + 1} must be an object of type, name and weight")
        weight = item.get("weight")
        found.append(
            Criterion(
                _text(item["type"]) if item.get("type") is not None else None,
                _text(item["name"]) if item.get("name") is not None else None,
                _number(weight) if weight is not None else None,
            )
        )
    return tuple(found)


def _cpv_names(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object of CPV code to name, got {type(value).__name__}")
    return tuple((_text(code), _text(name)) for code, name in value.items())


_DETAIL_PARSERS = {
    "enquiry_deadline": _timestamp,
    "contract_start": _timestamp,
    "contract_end": _timestamp,
    "contract_max_end": _timestamp,
    "award_criteria": _criteria,
    "award_criteria_vary": _boolean,
    "value_includes_vat": _boolean,
    "value_from": _number,
    "cpv_names": _cpv_names,
}
_BOOLEANS = {"is_opportunity", "framework"}
_PARSERS = {
    "source": _source_name,
    "is_opportunity": _boolean,
    "framework": _boolean,
    "suitable_for_sme": _boolean,
    "published_at": _timestamp,
    "updated_at": _timestamp,
    "deadline": _timestamp,
    "future_notice_date": _timestamp,
    "same_as_ocid": _text,
    "value_amount": _number,
    "stage": _choice(STAGES),
    "category": _choice(CATEGORIES),
    "cpv": _cpv_list,
    "regions": _text_list,
    "lots": _lots,
    "details": lambda value: Details.from_json(value) or None,
}
