"""The team's judgements of notices: labels, and reading them from a CSV file (columns id,label[,note])."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tenderwatch.errors import InputError

NOT_RELEVANT = "not-relevant"  # the team decided not to bid: digests stop mentioning it
LABELS = ("relevant", NOT_RELEVANT)
NOTICE_KEY = re.compile(r"^[a-z][a-z0-9_]*:\S+$")


@dataclass(frozen=True)
class Judgement:
    notice_key: str
    label: str
    note: str | None = None


def check_key(key: str) -> str:
    """A notice id as tenderwatch writes it ("find_a_tender:076396-2026"); ValueError if not."""
    key = key.strip()
    if not NOTICE_KEY.match(key):
        raise ValueError(f"'{key}' is not a notice id; ids look like find_a_tender:076396-2026")
    return key


def check_label(label: str) -> str:
    value = label.strip().lower()
    if value not in LABELS:
        raise ValueError(f"'{label}' must be relevant or not-relevant")
    return value


def read_csv(path: str | Path) -> list[Judgement]:
    """Every row of a feedback CSV, validated; InputError names the file, line and field."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _rows(path, csv.reader(handle))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give the path of a CSV with columns id,label") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as CSV ({exc})") from None


def _rows(path: Path, reader: csv.Reader) -> list[Judgement]:
    header = [name.strip().lower() for name in next(reader, [])]
    if "id" not in header or "label" not in header:
        raise InputError(
            f"{path}:1: the first line must name the columns, e.g. 'id,label' (optionally ',note')"
        )
    unknown = [name for name in header if name not in ("id", "label", "note")]
    if unknown:
        raise InputError(f"{path}:1: unknown column '{unknown[0]}'; the columns are id, label and note")
    judgements = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        if any(cell.strip() for cell in row[len(header) :]):  # a spreadsheet's empty trailing cells are fine
            raise InputError(
                f"{path}:{line}: {len(row)} fields, but the first line names {len(header)} columns; "
                "put a note that holds commas in double quotes"
            )
        values = dict(zip(header, row, strict=False))
        judgements.append(
            Judgement(
                _field(path, line, "id", values, check_key),
                _field(path, line, "label", values, check_label),
                (values.get("note") or "").strip() or None,
            )
        )
    return judgements


def _field(path: Path, line: int, name: str, values: dict[str, str], check: Callable[[str], str]) -> str:
    value = values.get(name)
    if value is None or not value.strip():
        raise InputError(f"{path}:{line}: field '{name}' is empty; fill it in or delete the row")
    try:
        return check(value)
    except ValueError as exc:
        raise InputError(f"{path}:{line}: field '{name}': {exc}; fix the row and import again") from None
