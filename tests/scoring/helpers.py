"""Notices and profiles for scoring tests: inline ones for each rule, the recorded real ones for the rest."""

from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path
from typing import Any

from scoring import Profile, load_profile
from store.normalise import compile_notice, format_for
from store.notice import Lot, Notice
from tests.support.recorded import cassette_releases, fts_releases

EXAMPLE = Path(__file__).resolve().parents[2] / "scoring" / "profiles" / "example.yaml"
LABELLED = Path(__file__).resolve().parents[1] / "fixtures" / "labelled_notices.csv"
CF_DAYS = ("contracts_finder_2025-01-20", "contracts_finder_tenders_2026-09-19")


def notice(title: str = "A notice", **values: Any) -> Notice:
    """An open services tender with nothing else set, unless `values` say otherwise."""
    defaults: dict[str, Any] = {
        "source": "find_a_tender",
        "source_id": "000001-2026",
        "notice_type": "UK4",
        "stage": "tender",
        "category": "services",
    }
    if "lots" in values:
        values["lots"] = tuple(lot if isinstance(lot, Lot) else Lot(**lot) for lot in values["lots"])
    for name in ("cpv", "regions"):
        if name in values:
            values[name] = tuple(values[name])
    return Notice(title=title, **{**defaults, **values})


def profile_from(tmp_path: Path, text: str, name: str = "rules.yaml") -> Profile:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_profile(path)


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@cache
def example() -> Profile:
    return load_profile(EXAMPLE)


@cache
def real_notices() -> tuple[Notice, ...]:
    """Two days of Find a Tender and the Contracts Finder pages, normalised (about 1,065 notices)."""
    found: list[Notice] = []
    for source, releases in (
        ("find_a_tender", fts_releases()),
        ("contracts_finder", [release for day in CF_DAYS for release in cassette_releases(day)]),
    ):
        fmt = format_for(source)
        by_notice: dict[str, dict[str, Any]] = {}
        for release in releases:
            by_notice.setdefault(fmt.notice_id(release), {})[release["id"]] = release
        found += [compile_notice(list(own.values()), [], fmt) for own in by_notice.values()]
    return tuple(found)


def real(key: str) -> Notice:
    return next(item for item in real_notices() if item.id == key)
