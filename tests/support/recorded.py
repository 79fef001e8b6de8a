"""Access to the real recorded responses under tests/fixtures (built by scripts/build_fixtures.py)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASSETTES = FIXTURES / "cassettes"
FTS_DAYS = ("find_a_tender_2026-08-10", "find_a_tender_2026-08-11")


def cassette(name: str) -> Path:
    return CASSETTES / f"{name}.yaml.gz"


@cache
def cassette_interactions(name: str) -> list[dict[str, Any]]:
    text = gzip.decompress(cassette(name).read_bytes())
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["interactions"]


@cache
def recorded_package(name: str) -> dict[str, Any]:
    return json.loads(gzip.decompress((FIXTURES / "recorded" / f"{name}.json.gz").read_bytes()))


def cassette_releases(name: str) -> list[dict[str, Any]]:
    """Every release served in the cassette's successful JSON responses, in order, duplicates kept."""
    releases = []
    for interaction in cassette_interactions(name):
        if interaction["response"]["status"]["code"] == 200:
            releases += json.loads(interaction["response"]["body"]["string"])["releases"]
    return releases


def fts_releases() -> list[dict[str, Any]]:
    """The two complete recorded days of Find a Tender (955 releases)."""
    return [release for day in FTS_DAYS for release in cassette_releases(day)]


def release_by_id(release_id: str) -> dict[str, Any]:
    return _all_releases()[release_id]


@cache
def _all_releases() -> dict[str, dict[str, Any]]:
    names = (*FTS_DAYS, "contracts_finder_2025-01-20", "contracts_finder_tenders_2026-09-19")
    packages = (
        "find_a_tender_whole_stream_page-050",
        "find_a_tender_uk3_to_uk4_069311",
        "find_a_tender_notice_032703-2026",
        "find_a_tender_notice_037689-2026",
    )
    found: dict[str, dict[str, Any]] = {}
    for releases in [
        *(cassette_releases(name) for name in names),
        *(recorded_package(name)["releases"] for name in packages),
    ]:
        for release in releases:
            found.setdefault(release["id"], release)
    return found


ISO_MOMENT = re.compile(r'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?"')


def shifted(releases: list[dict[str, Any]], delta: timedelta) -> list[dict[str, Any]]:
    """The releases with every date-time in them moved by `delta`: recorded days made recent."""

    def move(match: re.Match[str]) -> str:
        moment = datetime.fromisoformat(match.group(1) + (match.group(3) or "").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return f'"{(moment + delta).isoformat()}"'

    return [json.loads(ISO_MOMENT.sub(move, json.dumps(release))) for release in releases]
