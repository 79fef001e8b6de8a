"""Storing releases: keep each as received, recompile the notices they touch, record what changed.

`store_releases` is idempotent: the same page stored twice changes nothing the second time, so a
crawl that is retried, resumed or overlaps the previous one never duplicates a notice.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, case, delete, or_, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import ContractRow, NoticeChange, NoticeReference, NoticeRow, ReleaseRow, utcnow
from store.normalise import FORMATS, compile_notice, format_for, is_update, merged_release, release_order
from store.normalise.contracts import ContractTerms, contract_terms
from store.normalise.ocds import RecordFormat, Release, SourceFormat, as_text, parse_time, tag_list
from store.normalise.references import references as read_references
from store.notice import FIELD_NAMES, LONDON, TRACKED_FIELDS, Details, Lot, Notice, procurement_text
from tenderwatch.errors import StoreError

logger = logging.getLogger("tenderwatch.store")
# The longest release id, notice id, ocid and tag list the releases table keeps (String(200)).
KEY_LENGTH = 200
RECOMPILE_BATCH = 500  # notices compiled again at a time
Stored = TypeVar("Stored", Notice, ContractTerms)  # what `_storable` cleans
CONTRACT_STAGES = ("award", "contract")  # notices that state the contracts awarded


@dataclass
class IngestCounts:
    releases: int = 0
    new: int = 0
    changed: int = 0
    left_out: int = 0  # bad data: releases that cannot be stored, notices that cannot be compiled

    def add(self, other: IngestCounts) -> None:
        self.releases += other.releases
        self.new += other.new
        self.changed += other.changed
        self.left_out += other.left_out


class Unstorable(ValueError):
    """A release the store cannot keep; the message names the field, never its content."""


def store_releases(
    session: Session,
    source: str,
    releases: Iterable[Release],
    *,
    crawl_run_id: int | None = None,
    now: datetime | None = None,
) -> IngestCounts:
    """Upsert releases on their id and bring every notice they belong to up to date.

    Bad data cannot block a source: a release the store cannot keep is left out, and a notice that
    cannot be compiled keeps its releases as received and its last compiled form; each is counted in
    `left_out` and logged by its id only (releases hold contact details), and the rest are stored.
    A database error still raises, so that the caller stops and nothing moves past the batch.
    """
    now = now or utcnow()
    releases = list(releases)
    batch = keyed(releases, source)
    counts = IngestCounts(releases=len(batch), left_out=_count_without_id(source, releases))
    rows = _storable_rows(source, batch, now)
    counts.left_out += len(batch) - len(rows)
    if not rows:
        return counts
    replaced: dict[str, Release] = {}  # the stored versions of releases served again changed
    changed_ids = _upsert_releases(session, source, rows, replaced)
    if not changed_ids:
        return counts
    changed = {rid: batch[rid] for rid in changed_ids}
    compiled = _recompile(session, source, changed, rows, states=True, replaced=replaced)
    counts.left_out += compiled.uncompiled
    counts.new, counts.changed = save_notices(
        session,
        compiled.notices,
        now=now,
        crawl_run_id=crawl_run_id,
        references=compiled.references,
        earlier_states=compiled.earlier_states,
    )
    save_contracts(session, compiled.contracts)
    return counts


def keyed(releases: Iterable[Release], source: str) -> dict[str, Release]:
    """The releases that can be kept, by the id they are stored under (the source's release key of
    their own id). A page may repeat a release (the last copy wins); one that is not an object or has
    no usable id can be neither kept nor compiled, so it is left out."""
    key = format_for(source).release_key
    return {key(release_id): r for r in releases if (release_id := usable_id(r)) is not None}


def usable_id(release: Any) -> str | None:
    """The release's id as stored: text or a whole number, not empty, no longer than the store keeps."""
    if not isinstance(release, dict) or isinstance(release.get("id"), bool | float):
        return None
    release_id = as_text(release.get("id"))
    if not release_id or len(release_id) > KEY_LENGTH or "\x00" in release_id:
        return None
    return release_id


def _count_without_id(source: str, releases: list[Any]) -> int:
    missing = sum(1 for release in releases if usable_id(release) is None)
    if missing:
        logger.warning("%s: %d releases without a usable id left out; the rest are kept", source, missing)
    return missing


def _leave_out(source: str, release_id: str, why: str) -> None:
    # By id only: a release's content holds contact details (personal data).
    logger.warning("%s: release %r left out, as %s; the rest are kept", source, release_id, why)


def _storable_rows(source: str, batch: dict[str, Release], now: datetime) -> dict[str, dict[str, Any]]:
    """The releases-table row of each release the store can keep; the others are left out."""
    fmt = format_for(source)
    rows = {}
    for release_id, release in batch.items():
        try:
            rows[release_id] = _release_row(source, release_id, release, fmt.notice_id(release), now)
        except Exception as exc:  # no database here: only the release's own data can fail
            # Only our own messages are shown: others (a date parser's, say) may quote the data.
            reason = str(exc) if isinstance(exc, Unstorable) else type(exc).__name__
            _leave_out(source, release_id, f"it cannot be stored ({reason})")
    return rows


def save_notices(
    session: Session,
    notices: Sequence[Notice],
    *,
    now: datetime,
    crawl_run_id: int | None = None,
    record_changes: bool = True,
    references: dict[str, list[tuple[str, str]]] | None = None,
    earlier_states: dict[str, list[Notice]] | None = None,
) -> tuple[int, int]:
    """Insert new notices, update changed ones (keeping each tracked change, unless told not to: a
    notice compiled again reads its releases better, the buyer changed nothing), keep what each says
    names it elsewhere (`references`, by notice key), and give each procurement its opportunity;
    returns (new, changed). `earlier_states`: by notice key, how a notice read between the releases
    that arrived together (`_earlier_states`), so that their changes are kept too."""
    notices = [_storable(notice) for notice in notices]
    keys = [notice.id for notice in notices]
    existing = {row.key: row for row in session.scalars(select(NoticeRow).where(NoticeRow.key.in_(keys)))}
    inserts, updates = [], []
    histories: dict[str, list[NoticeRow | Notice]] = {}  # each notice's states, stored first, to compare
    for compiled in notices:
        row = existing.get(compiled.id)
        notice = _dated(compiled, row, now)
        values = notice_values(notice)
        if row is None:
            inserts.append({**values, "first_seen": now, "last_seen": now, "changed_at": now})
        elif row.content_hash != values["content_hash"]:
            updates.append({**values, "id": row.id, "last_seen": now, "changed_at": now})
        else:  # as stored already, perhaps by a crawl at the same time: its states are its history
            continue
        between = [_storable(state) for state in (earlier_states or {}).get(compiled.id, [])]
        if record_changes and (row is not None or between):
            histories[compiled.id] = [*([row] if row else []), *between, notice]
    if inserts:
        session.connection().execute(
            upsert(session, NoticeRow).on_conflict_do_nothing(index_elements=["key"]), inserts
        )
    if histories:
        session.add_all(_recorded_changes(session, histories, now, crawl_run_id))
    if updates:
        session.execute(update(NoticeRow), updates)
    if inserts:
        index_new_notices(session.connection())
    if references:
        _save_references(session, {key: refs for key, refs in references.items() if key in keys})
    if inserts or updates:
        from store.opportunities import assign_opportunities

        stored = {row["key"] for row in inserts + updates}
        assign_opportunities(session, [notice for notice in notices if notice.id in stored], now)
    return len(inserts), len(updates)


def _save_references(session: Session, references: dict[str, list[tuple[str, str]]]) -> None:
    ids = dict(
        session.execute(select(NoticeRow.key, NoticeRow.id).where(NoticeRow.key.in_(list(references)))).all()
    )
    session.execute(delete(NoticeReference).where(NoticeReference.notice_id.in_(list(ids.values()))))
    rows = [
        {"notice_id": ids[key], "kind": kind, "value": value[:250]}
        for key, found in references.items()
        if key in ids
        for kind, value in found
    ]
    if rows:
        session.connection().execute(NoticeReference.__table__.insert(), rows)


def save_contracts(session: Session, contracts: dict[str, list[ContractTerms]]) -> None:
    """Replace the stored contracts of these notices (by key) with what they now state."""
    if not contracts:
        return
    ids = dict(
        session.execute(select(NoticeRow.key, NoticeRow.id).where(NoticeRow.key.in_(list(contracts)))).all()
    )
    session.execute(delete(ContractRow).where(ContractRow.notice_id.in_(list(ids.values()))))
    rows = [
        {**term.__dict__, "suppliers": list(term.suppliers), "notice_id": ids[key]}
        for key, terms in contracts.items()
        if key in ids
        # Made storable before an award id repeated is dropped (the last kept): "1\x00" is then "1".
        for term in {term.award_id: term for term in map(_storable, terms)}.values()
    ]
    if rows:
        session.connection().execute(ContractRow.__table__.insert(), rows)


def index_new_notices(connection: Connection) -> None:
    """Add the notices inserted in this transaction to SQLite's search index, in one statement.

    Their insert trigger only noted them (migration 0005): one bulk insert into FTS5 costs a third of
    indexing them one by one. Anything that inserts notices calls this before it commits.
    PostgreSQL's search column is generated, so there is nothing to do there.
    """
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(
        "INSERT INTO notices_fts(rowid, title, description, buyer_name) "
        "SELECT id, title, description, buyer_name FROM notices "
        "WHERE id IN (SELECT notice_id FROM notices_fts_pending)"
    )
    connection.exec_driver_sql("DELETE FROM notices_fts_pending")


def _dated(notice: Notice, row: NoticeRow | None, now: datetime) -> Notice:
    """A crawled notice of a record source that dates nothing (an agreement pipeline, a listing page)
    counts as published when tenderwatch first saw it, so it can be new in a digest once."""
    undated_source = isinstance(FORMATS.get(notice.source), RecordFormat)
    if notice.published_at is not None or notice.origin != "crawl" or not undated_source:
        return notice
    return replace(notice, published_at=row.published_at if row is not None and row.published_at else now)


def _storable(record: Stored) -> Stored:
    """A notice or contract without NUL characters in its text, which PostgreSQL cannot store (SQLite
    can): one in a single value would roll back the batch, and so fail its source on every crawl.

    Removed before anything is compared or hashed, so both stores keep the same text and the next
    crawl sees no change.
    """
    dirty = {
        item.name: cleaned
        for item in fields(record)
        if (cleaned := _without_nul(getattr(record, item.name))) is not None
    }
    return replace(record, **dirty) if dirty else record


def _without_nul(value: Any) -> Any:
    """Text, or a tuple of texts (a contract's suppliers), without its NUL characters; None when it
    has none (the usual case: nothing is copied)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else None
    if isinstance(value, tuple) and any(isinstance(item, str) and "\x00" in item for item in value):
        return tuple(item.replace("\x00", "") for item in value)
    return None


def notice_values(notice: Notice) -> dict[str, Any]:
    """The notice as a notices-table row."""
    values = {name: getattr(notice, name) for name in FIELD_NAMES}
    values.update(
        key=notice.id,
        cpv=list(notice.cpv),
        regions=list(notice.regions),
        lots=[lot.__dict__ for lot in notice.lots],
        details=notice.details.to_json() if notice.details else None,
        content_hash=notice.content_hash(),
        procurement=procurement_text(notice),
    )
    return values


def notice_from_row(row: NoticeRow) -> Notice:
    values = {name: getattr(row, name) for name in FIELD_NAMES}
    values.update(
        cpv=tuple(row.cpv),
        regions=tuple(row.regions),
        lots=tuple(Lot(**lot) for lot in row.lots),
        details=Details.from_json(row.details) if row.details else None,
    )
    return Notice(**values)


def _release_row(
    source: str, release_id: str, release: Release, notice_id: str, now: datetime
) -> dict[str, Any]:
    # Compact UTF-8 JSON, keys in the order received. orjson refuses what it could not read back:
    # nesting over 254 levels, integers over 64 bits, unpaired surrogates.
    raw = orjson.dumps(release).decode()
    return {
        "source": source,
        "release_id": release_id,
        "notice_id": _key("notice id", notice_id),
        "ocid": _key("ocid", as_text(release.get("ocid")) or ""),
        "date": parse_time(release.get("date")),
        "tags": _key("tags", ",".join(tag_list(release))),
        "raw": raw,
        "raw_hash": hashlib.sha256(raw.encode()).hexdigest(),
        "first_seen": now,
        "last_seen": now,
    }


def _key(name: str, value: str) -> str:
    """A value for a String(200) column, which PostgreSQL enforces: longer would fail the whole batch."""
    if len(value) > KEY_LENGTH or "\x00" in value:
        raise Unstorable(f"its {name} is over {KEY_LENGTH} characters or holds a NUL")
    return value


def _upsert_releases(
    session: Session, source: str, rows: dict[str, dict[str, Any]], replaced: dict[str, Release]
) -> list[str]:
    """Store new and changed releases and touch last_seen on the rest; returns the new and changed ids,
    and puts in `replaced` the stored version of each changed one (read only when there is one).

    One statement over every row, in release id order: processes storing overlapping pages at once
    (PostgreSQL workers) then lock the rows in the same order and cannot deadlock, as they did when
    changed and unchanged rows were written by two statements in different orders.
    """
    known = dict(
        session.execute(
            select(ReleaseRow.release_id, ReleaseRow.raw_hash).where(
                ReleaseRow.source == source, ReleaseRow.release_id.in_(list(rows))
            )
        ).all()
    )
    changed = [rid for rid, row in rows.items() if known.get(rid) != row["raw_hash"]]
    if again := [rid for rid in changed if rid in known]:  # rare: a release corrected at its source
        stored = session.execute(
            select(ReleaseRow.release_id, ReleaseRow.raw).where(
                ReleaseRow.source == source, ReleaseRow.release_id.in_(again)
            )
        )
        replaced.update((rid, _stored_release(source, rid, raw)) for rid, raw in stored)
    stmt = upsert(session, ReleaseRow)
    fresh = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "release_id"],
        set_={
            **{name: fresh[name] for name in ("notice_id", "ocid", "date", "tags", "raw_hash", "last_seen")},
            # An unchanged release keeps its stored text (PostgreSQL then keeps its TOAST data as is).
            "raw": case((ReleaseRow.raw_hash == fresh.raw_hash, ReleaseRow.raw), else_=fresh.raw),
        },
    )
    # Core, not the ORM's bulk path: these are plain rows, and this is the hot path of every crawl.
    session.connection().execute(stmt, [rows[rid] for rid in sorted(rows)])
    return changed


@dataclass
class Compiled:
    notices: list[Notice] = field(default_factory=list)
    uncompiled: int = 0  # notices that could not be compiled
    contracts: dict[str, list[ContractTerms]] = field(default_factory=dict)  # of award and contract notices
    references: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # by notice key
    earlier_states: dict[str, list[Notice]] = field(default_factory=dict)  # by notice key


def _recompile(
    session: Session,
    source: str,
    changed: dict[str, Release],
    rows: dict[str, dict[str, Any]],
    *,
    states: bool = False,
    replaced: dict[str, Release] | None = None,
) -> Compiled:
    """Compile every notice a changed release belongs to, or that a changed update applies to, with
    the contracts each award or contract notice states and what each says names it elsewhere; with
    `states`, also how each read between the changed releases that arrived together (`replaced`: the
    stored versions of those served again changed)."""
    fmt = format_for(source)
    releases_by_id: dict[str, Release] = dict(changed)
    notice_of = {rid: rows[rid]["notice_id"] for rid in changed}
    ocid_of = {rid: rows[rid]["ocid"] for rid in changed}
    touched = set(notice_of.values())
    ocids = {ocid for ocid in ocid_of.values() if ocid}
    columns = (ReleaseRow.release_id, ReleaseRow.notice_id, ReleaseRow.ocid, ReleaseRow.tags)
    # Two indexed lookups: SQLite would scan every release of the source for an OR of the two.
    siblings = session.execute(
        union(
            select(*columns).where(ReleaseRow.source == source, ReleaseRow.notice_id.in_(touched)),
            select(*columns).where(ReleaseRow.source == source, ReleaseRow.ocid.in_(ocids)),
        )
    ).all()
    updated_ocids = {ocid_of[rid] for rid, release in changed.items() if is_update(release)}
    for release_id, notice_id, ocid, tags in siblings:
        if release_id in changed:
            continue
        if notice_id in touched or ocid in updated_ocids or is_update({"tag": tags.split(",")}):
            notice_of[release_id], ocid_of[release_id] = notice_id, ocid
            if ocid in updated_ocids:
                touched.add(notice_id)
    # Only now the stored text, and only of the siblings needed: most pages bring new notices only.
    wanted = [rid for rid in notice_of if rid not in changed]
    if wanted:
        stored = session.execute(
            select(ReleaseRow.release_id, ReleaseRow.raw).where(
                ReleaseRow.source == source, ReleaseRow.release_id.in_(wanted)
            )
        )
        releases_by_id.update((release_id, orjson.loads(raw)) for release_id, raw in stored)
    own: dict[str, list[str]] = defaultdict(list)  # release ids
    updates_by_ocid: dict[str, list[str]] = defaultdict(list)
    for release_id, release in releases_by_id.items():
        own[notice_of[release_id]].append(release_id)
        if is_update(release):
            updates_by_ocid[ocid_of[release_id]].append(release_id)
    ocid_of_notice = {notice_of[rid]: ocid_of[rid] for rid in releases_by_id}
    compiled = Compiled()
    for notice_id in sorted(touched):
        own_ids = own[notice_id]
        update_ids = [
            rid
            for rid in updates_by_ocid[ocid_of_notice[notice_id]]
            if fmt.notice_id(releases_by_id[rid]) != notice_id
        ]
        own_releases = [releases_by_id[rid] for rid in own_ids]
        try:
            notice = compile_notice(own_releases, [releases_by_id[rid] for rid in update_ids], fmt)
            if isinstance(fmt, SourceFormat):
                merged = merged_release(fmt.readable(own_releases))  # as the source means it
                compiled.references[notice.id] = read_references(merged)
                if notice.stage in CONTRACT_STAGES:
                    compiled.contracts[notice.id] = contract_terms(merged)
                if states and (
                    between := _earlier_states(
                        fmt, releases_by_id, own_ids, update_ids, changed, replaced or {}
                    )
                ):
                    compiled.earlier_states[notice.id] = between
            compiled.notices.append(notice)
        except Exception as exc:  # bad data lenient normalisation still cannot read; never its text
            compiled.uncompiled += 1
            logger.warning(
                "%s: notice %r cannot be compiled (%s); its releases are kept as received",
                source,
                notice_id,
                type(exc).__name__,
            )
    return compiled


# Each state compiles the notice again: of more releases arriving together (a backfill of a
# procurement updated sixty times), the earliest count as one step, so a notice costs at most this
# many compilations more (sixty updates in one batch: 7.2 s to store, 2.6 s with ten).
_MOST_STATES = 10


def _earlier_states(
    fmt: SourceFormat,
    releases: dict[str, Release],
    own_ids: list[str],
    update_ids: list[str],
    changed: dict[str, Release],
    replaced: dict[str, Release],
) -> list[Notice]:
    """How a notice read after each of the releases that arrived together (`changed`) but the last,
    in date order: a tender and its update crawled in one batch keep the change between them, as
    they would crawled apart. (Before its own first release the notice did not exist: no state.)
    Until its turn, a release served again changed reads as it was stored (`replaced`). At most
    `_MOST_STATES` states: the last ones."""
    arrived = [rid for rid in [*own_ids, *update_ids] if rid in changed]
    if len(arrived) < 2:  # the usual case: nothing in between
        return []
    arrived.sort(key=lambda rid: release_order(fmt.readable([releases[rid]])[0]))
    states = []
    for count in range(max(1, len(arrived) - _MOST_STATES), len(arrived)):
        later = set(arrived[count:])
        own = _before(own_ids, later, releases, replaced)
        if own:
            updates = _before(update_ids, later, releases, replaced)
            try:
                states.append(compile_notice(own, updates, fmt))
            except Exception:  # a state between that bad data cannot make: only the whole notice counts
                continue
    return states


def _before(
    ids: list[str], later: set[str], releases: dict[str, Release], replaced: dict[str, Release]
) -> list[Release]:
    """The releases as they were before the `later` ones arrived: a new one not there yet, one
    served again changed as it was stored."""
    return [
        releases[rid] if rid not in later else replaced[rid]
        for rid in ids
        if rid not in later or rid in replaced
    ]


@dataclass
class Recompiled:
    # Compiled again: those asked for, and the others of their procurements that a change notice
    # among them applies to (imported notices are left alone and not counted).
    keys: set[str] = field(default_factory=set)
    new: int = 0  # never compiled before (they could not be, or were deleted)
    changed: int = 0  # now read differently from their releases
    uncompiled: int = 0  # still cannot be compiled

    def add(self, other: Recompiled) -> None:
        self.keys |= other.keys
        self.new += other.new
        self.changed += other.changed
        self.uncompiled += other.uncompiled


def compiled_notice_ids(session: Session, source: str, *, mentioning: Sequence[str] = ()) -> list[str]:
    """The ids of a source's notices that have stored releases (one holding any of `mentioning`, if given)."""
    query = select(ReleaseRow.notice_id).where(ReleaseRow.source == source).distinct()
    if mentioning:
        query = query.where(or_(*(ReleaseRow.raw.contains(text, autoescape=True) for text in mentioning)))
    return sorted(session.scalars(query))


def recompile_in_batches(
    transaction: Callable[[], AbstractContextManager[Session]],
    source: str,
    notice_ids: Sequence[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> Recompiled:
    """`recompile_notices` a batch at a time (bounded IN lists and memory), each batch in a
    `transaction()`; `progress` is told how many are done after each."""
    done = Recompiled()
    for start in range(0, len(notice_ids), RECOMPILE_BATCH):
        with transaction() as session:
            done.add(recompile_notices(session, source, notice_ids[start : start + RECOMPILE_BATCH]))
        if progress:
            progress(min(start + RECOMPILE_BATCH, len(notice_ids)))
    return done


def recompile_notices(session: Session, source: str, notice_ids: Sequence[str]) -> Recompiled:
    """Compile these notices of a source again from their stored releases, after normalisation
    improved. Not news: no tracked change is recorded (the buyer changed nothing). An imported notice
    under a crawled source's name stays as imported, as a crawl leaves it until its source
    publishes it again."""
    stored = session.execute(
        select(ReleaseRow.release_id, ReleaseRow.notice_id, ReleaseRow.ocid, ReleaseRow.raw).where(
            ReleaseRow.source == source, ReleaseRow.notice_id.in_(notice_ids)
        )
    ).all()
    releases = {release_id: _stored_release(source, release_id, raw) for release_id, _, _, raw in stored}
    rows = {release_id: {"notice_id": notice_id, "ocid": ocid} for release_id, notice_id, ocid, _ in stored}
    compiled = _recompile(session, source, releases, rows)
    imported = set(
        session.scalars(
            select(NoticeRow.key).where(
                NoticeRow.key.in_([notice.id for notice in compiled.notices]), NoticeRow.origin == "import"
            )
        )
    )
    notices = [notice for notice in compiled.notices if notice.id not in imported]
    new, changed = save_notices(
        session, notices, now=utcnow(), record_changes=False, references=compiled.references
    )
    save_contracts(session, {key: terms for key, terms in compiled.contracts.items() if key not in imported})
    uncompiled = compiled.uncompiled
    return Recompiled({notice.id for notice in notices}, new=new, changed=changed, uncompiled=uncompiled)


def _stored_release(source: str, release_id: str, raw: str | bytes) -> Release:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # Only an edit outside tenderwatch stores such a release: everything it stores was JSON.
        raise StoreError(
            f"the stored release {release_id!r} of {source} is not valid JSON ({exc}): it was changed "
            "outside tenderwatch. Restore the database from a backup, or delete that release (table "
            "releases) and crawl its notice again"
        ) from exc


def _recorded_changes(
    session: Session, histories: dict[str, list[NoticeRow | Notice]], now: datetime, crawl_run_id: int | None
) -> list[NoticeChange]:
    """The tracked changes through each notice's states (its stored row first, if it had one)."""
    ids = {key: states[0].id for key, states in histories.items() if isinstance(states[0], NoticeRow)}
    if len(ids) < len(histories):  # new notices with states in between: their rows exist only now
        new = [key for key in histories if key not in ids]
        ids.update(session.execute(select(NoticeRow.key, NoticeRow.id).where(NoticeRow.key.in_(new))).all())
    return [
        change
        for key, states in histories.items()
        for change in _changes_through(ids[key], states, now, crawl_run_id)
    ]


def _changes_through(
    notice_id: int, states: Sequence[NoticeRow | Notice], now: datetime, crawl_run_id: int | None
) -> list[NoticeChange]:
    """The tracked changes from each state of a notice to the next, in order."""
    return [
        change
        for before, after in itertools.pairwise(states)
        for change in _tracked_changes(notice_id, before, after, now, crawl_run_id)
    ]


def _tracked_changes(
    notice_id: int, before: NoticeRow | Notice, after: Notice, now: datetime, crawl_run_id: int | None
) -> list[NoticeChange]:
    changes = []
    for name in TRACKED_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(
                NoticeChange(
                    notice_id=notice_id,
                    field=name,
                    old_value=_show(old),
                    new_value=_show(new),
                    seen_at=now,
                    crawl_run_id=crawl_run_id,
                )
            )
    return changes


def _show(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(LONDON).isoformat() if isinstance(value, datetime) else str(value)


def upsert(session: Session, model: Any) -> Any:
    """An INSERT for this session's database that can take ON CONFLICT clauses."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)
