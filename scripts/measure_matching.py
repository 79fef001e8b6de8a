"""Matching across services, measured on every real notice the project has (README quotes it).

    .venv/bin/python scripts/measure_matching.py [--near 0.75]

Fills a throwaway SQLite store with every recorded source and the labelled set (the ingest matches
as it stores), then prints: the merges per rule, each with its evidence (inspect each: a wrong one
is a bug); the procurements held by notices of two sources (rule 1, same ocid); and the near misses,
pairs that share a normalised buyer and a similar title across services (or a re-let on one) but
were kept apart, with why.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from store.db import open_database  # noqa: E402
from store.ingest import notice_from_row  # noqa: E402
from store.matching import normal_buyer, service_of, similar, title_similarity  # noqa: E402
from store.models import NoticeReference, NoticeRow, OpportunityLink  # noqa: E402
from tests.support.every_fixture import fill_with_every_fixture  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--near", type=float, default=0.75, help="title similarity of a near miss")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{folder}/measure.db")
        fill_with_every_fixture(database)
        with database.reading() as session:
            report(session, args.near)
        database.close()


def report(session, near: float) -> None:
    notices = session.scalar(select(func.count()).select_from(NoticeRow))
    print(
        f"{notices} notices; by source:",
        dict(session.execute(select(NoticeRow.source, func.count()).group_by(NoticeRow.source)).all()),
    )
    shared = session.execute(
        select(NoticeRow.procurement, func.count(NoticeRow.source.distinct()))
        .group_by(NoticeRow.procurement)
        .having(func.count(NoticeRow.source.distinct()) > 1)
    ).all()
    print(f"\nrule 1, same ocid: {len(shared)} procurements held by notices of two sources")
    for procurement, _ in shared:
        keys = session.scalars(select(NoticeRow.key).where(NoticeRow.procurement == procurement)).all()
        print(f"  {procurement}: {', '.join(keys)}")
    links = session.scalars(select(OpportunityLink).order_by(OpportunityLink.rule, OpportunityLink.id)).all()
    print(f"\nmerges: {dict(Counter(link.rule for link in links))}")
    for link in links:
        print(f"  [{link.rule}] {link.notice_key} = {link.matched_notice_key}: {link.evidence}")
    print("\nnear misses (kept apart):")
    rows = [notice_from_row(row) for row in session.scalars(select(NoticeRow))]
    procurement = {row.key: row.procurement for row in session.scalars(select(NoticeRow))}
    by_buyer: dict[str, list] = {}
    for notice in rows:
        if notice.stage in ("planning", "tender") and normal_buyer(notice.buyer_name):
            by_buyer.setdefault(normal_buyer(notice.buyer_name), []).append(notice)
    kinds = Counter()
    for buyer, group in sorted(by_buyer.items()):
        for i, one in enumerate(group):
            for other in group[i + 1 :]:
                if procurement[one.id] == procurement[other.id]:
                    continue
                ratio = title_similarity(one.title, other.title)
                if ratio < near:
                    continue
                across = service_of(procurement[one.id]) != service_of(procurement[other.id])
                would = similar(one, other) is not None  # were they on two services
                merged = would and across
                kind = "across services" if across else "one service (re-let or lots)"
                kinds[
                    (kind, "merged" if merged else "would merge if on two services" if would else "apart")
                ] += 1
                why = _why_apart(one, other, across)
                flag = " MERGED" if merged else " WOULD MERGE ACROSS SERVICES" if would else ""
                print(f"  {kind}{flag}: {one.id} / {other.id} ({ratio:.2f}) {why}")
                print(f"      {one.title[:70]!r} / {other.title[:70]!r}; {buyer}")
    print(dict(kinds))
    references = session.execute(
        select(NoticeRow.source, NoticeReference.kind, func.count())
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .group_by(NoticeRow.source, NoticeReference.kind)
    ).all()
    print("\nreferences read from releases (source, kind, notices):", references)
    shared = session.execute(
        select(NoticeReference.kind, NoticeReference.value, func.count(NoticeRow.procurement.distinct()))
        .join(NoticeRow, NoticeRow.id == NoticeReference.notice_id)
        .group_by(NoticeReference.kind, NoticeReference.value)
        .having(func.count(NoticeRow.procurement.distinct()) > 1)
    ).all()
    print("references shared by two procurements:", shared)
    linked = session.execute(
        select(NoticeRow.key, NoticeReference.value, NoticeRow.procurement)
        .join(NoticeReference, NoticeReference.notice_id == NoticeRow.id)
        .where(NoticeReference.kind == "links_to")
    ).all()
    print("links to the other service:", linked)


def _why_apart(one, other, across: bool) -> str:
    reasons = []
    if not across:
        reasons.append("same service, different ocid")
    if one.deadline is None or other.deadline is None:
        reasons.append("a deadline missing")
    elif one.deadline.date() != other.deadline.date():
        reasons.append(f"deadlines {one.deadline.date()} / {other.deadline.date()}")
    if one.value_amount != other.value_amount:
        reasons.append(f"values {one.value_amount} / {other.value_amount}")
    return "; ".join(reasons)


if __name__ == "__main__":
    main()
