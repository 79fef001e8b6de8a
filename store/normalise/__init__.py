"""Compile a source notice from its releases, then apply later updates to the same procurement.

A notice is compiled from its own releases in date order, later ones winning (an OCDS merge). On
Find a Tender a change or a cancellation arrives as a new notice on the same ocid, so earlier
planning and tender notices of that procurement take their deadline, value, title and status from
it: the notice a bid manager was sent is the one that shows the change.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from store.normalise import (
    contracts_finder,
    crown_commercial_service,
    digital_outcomes,
    feeds,
    find_a_tender,
    public_contracts_scotland,
    sell2wales,
)
from store.normalise.ocds import (
    CANCELLATION_TAGS,
    RecordFormat,
    Release,
    SourceFormat,
    parse_time,
    published_at,
    tags_of,
    to_notice,
)
from store.normalise.text import with_repaired_text
from store.notice import Notice

Format = SourceFormat | RecordFormat
FORMATS: dict[str, Format] = {
    fmt.FORMAT.name: fmt.FORMAT
    for fmt in (
        find_a_tender,
        contracts_finder,
        public_contracts_scotland,
        sell2wales,
        crown_commercial_service,
        digital_outcomes,
        feeds,
    )
}
# Releases that change an earlier notice of the same procurement rather than stand alone.
UPDATE_TAGS = {"tenderUpdate", "tenderAmendment", *CANCELLATION_TAGS}
UPDATED_FIELDS = ("title", "description", "deadline", "value_amount", "value_currency", "status", "details")


def format_for(source: str) -> Format:
    try:
        return FORMATS[source]
    except KeyError:
        raise ValueError(f"no normaliser for source '{source}'") from None


def is_update(release: Release) -> bool:
    return bool(UPDATE_TAGS & tags_of(release))


def compile_notice(own: list[Release], procurement_updates: list[Release], fmt: Format) -> Notice:
    """The notice made of its own releases, with later updates of its procurement applied (a record
    source's notice is its one record), its text repaired where a source garbled it."""
    return with_repaired_text(_compiled(own, procurement_updates, fmt))


def _compiled(own: list[Release], procurement_updates: list[Release], fmt: Format) -> Notice:
    if isinstance(fmt, RecordFormat):
        return fmt.to_notice(own[-1])
    own, procurement_updates = fmt.readable(own), fmt.readable(procurement_updates)
    ordered = sorted(own, key=release_order)
    notice = to_notice(merged_release(own), fmt, first_published=published_at(ordered[0]))
    for update in sorted(procurement_updates, key=release_order):
        notice = _apply_update(notice, update, fmt)
    return notice


def merged_release(own: list[Release]) -> Release:
    """A notice's releases merged in date order, later ones winning (what its notice is read from)."""
    merged: dict[str, Any] = {}
    for release in sorted(own, key=release_order):
        merged = merge(merged, release)
    return merged


def _apply_update(notice: Notice, update: Release, fmt: SourceFormat) -> Notice:
    when = parse_time(update.get("date"))
    if (
        notice.stage not in ("planning", "tender")
        or not when
        or (notice.updated_at and when <= notice.updated_at)
    ):
        return notice
    if CANCELLATION_TAGS & tags_of(update):
        return replace(notice, status="cancelled", is_opportunity=False, updated_at=when)
    if notice.stage != "tender":
        return notice
    newer = to_notice(update, fmt)
    # Legacy corrigenda are sparse: only what the update states replaces what the notice said.
    changes = {name: getattr(newer, name) for name in UPDATED_FIELDS if getattr(newer, name) is not None}
    if newer.title.startswith("(untitled"):
        changes.pop("title", None)
    status = changes.get("status", notice.status)
    return replace(
        notice, **changes, updated_at=when, is_opportunity=notice.is_opportunity and status == "active"
    )


def merge(base: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """OCDS-style merge: objects merge key by key, anything else in the later release wins."""
    merged = dict(base)
    for key, value in later.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def release_order(release: Release) -> tuple[str, str]:
    moment = parse_time(release.get("date"))
    return (moment.astimezone(UTC).isoformat() if moment else "", str(release.get("id")))
