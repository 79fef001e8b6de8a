"""The labelled development set (tests/fixtures/labels, from ../shared/labels/dev): 837 real notices
graded by two readers as the first firm's bid manager: 2 must see, 1 worth a look, 0 not relevant.

583 notices come in tenderwatch's import format; the other 254 are the Find a Tender opportunity
notices of the recorded fixtures, compiled here from the same releases a crawl stores.

The measures are the issue's: recall = must-see notices in strong or possible; precision = notices
in strong or possible graded 1 or 2; strong precision = the same for strong alone. Two folds,
stratified by grade and fixed by a hash of the id, serve cross-validation: tune on one, measure on
the other.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from store.normalise import compile_notice, format_for
from store.notice import Notice
from tests.support.recorded import FIXTURES, fts_releases, recorded_package

LABELS = FIXTURES / "labels"
NOTICES = LABELS / "dev_notices.jsonl.gz"
FEEDBACK = (LABELS / "dev_feedback.csv", LABELS / "dev_fixtures-feedback.csv")
WHOLE_STREAM = tuple(f"find_a_tender_whole_stream_page-{page}" for page in ("001", "050", "111"))


@cache
def grades() -> dict[str, int]:
    """Notice id -> grade (0, 1 or 2) for all 837 notices."""
    found: dict[str, int] = {}
    for name in ("dev_grades.csv", "dev_fixtures-grades.csv"):
        with (LABELS / name).open(newline="", encoding="utf-8") as handle:
            found |= {row["id"]: int(row["grade"]) for row in csv.DictReader(handle)}
    return found


@cache
def notices() -> dict[str, Notice]:
    """Notice id -> the graded notice, as tenderwatch would store it."""
    found = {notice.id: notice for notice in imported()}
    fmt = format_for("find_a_tender")
    releases = list(fts_releases())
    for name in WHOLE_STREAM:
        releases += recorded_package(name)["releases"]
    by_notice: dict[str, dict[str, dict]] = {}
    for release in releases:
        by_notice.setdefault(f"find_a_tender:{fmt.notice_id(release)}", {})[release["id"]] = release
    for key in grades():
        if key not in found:
            found[key] = compile_notice(list(by_notice[key].values()), [], fmt)
    return found


def imported() -> list[Notice]:
    """The 583 notices of dev_notices.jsonl, as `tenderwatch import` reads them."""
    with gzip.open(NOTICES, "rt", encoding="utf-8") as lines:
        return [Notice.from_json(json.loads(line)) for line in lines if line.strip()]


def import_file(directory: Path) -> Path:
    """dev_notices.jsonl unpacked into `directory`, for `tenderwatch import`."""
    path = directory / "dev_notices.jsonl"
    path.write_bytes(gzip.decompress(NOTICES.read_bytes()))
    return path


def fold(key: str) -> str:
    """'A' or 'B': each grade's notices, ordered by a hash of their id, dealt out in turn."""
    return _folds()[key]


@cache
def _folds() -> dict[str, str]:
    dealt: dict[str, str] = {}
    for grade in (0, 1, 2):
        keys = sorted((key for key, found in grades().items() if found == grade), key=_digest)
        dealt |= {key: "AB"[index % 2] for index, key in enumerate(keys)}
    return dealt


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Measured:
    """The issue's three measures on a set of graded notices, with their counts."""

    must_see: int
    must_see_found: int
    shortlisted: int
    shortlisted_relevant: int
    strong: int
    strong_relevant: int

    @property
    def recall(self) -> float:
        return self.must_see_found / self.must_see

    @property
    def precision(self) -> float:
        return self.shortlisted_relevant / self.shortlisted if self.shortlisted else 0.0

    @property
    def strong_precision(self) -> float:
        return self.strong_relevant / self.strong if self.strong else 0.0

    def __str__(self) -> str:
        return (
            f"recall {self.recall:.2f} ({self.must_see_found} of {self.must_see}), "
            f"precision {self.precision:.2f} ({self.shortlisted_relevant} of {self.shortlisted}), "
            f"strong {self.strong_precision:.2f} ({self.strong_relevant} of {self.strong})"
        )


def measure(bands: Mapping[str, str], keys: Iterable[str]) -> Measured:
    graded = grades()
    keys = list(keys)
    shortlisted = [key for key in keys if bands[key] != "none"]
    strong = [key for key in keys if bands[key] == "strong"]
    return Measured(
        must_see=sum(1 for key in keys if graded[key] == 2),
        must_see_found=sum(1 for key in shortlisted if graded[key] == 2),
        shortlisted=len(shortlisted),
        shortlisted_relevant=sum(1 for key in shortlisted if graded[key] >= 1),
        strong=len(strong),
        strong_relevant=sum(1 for key in strong if graded[key] >= 1),
    )


def keys_of(fold_name: str) -> list[str]:
    return [key for key in grades() if fold(key) == fold_name]
