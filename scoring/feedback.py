"""The team's judgements of notices: labels, and reading them from a CSV file (an id and a label
column, optionally a note: a file of its own, or an `export --format csv` file with a label column)."""

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
ID_COLUMNS = ("id", "key", "notice", "notice_id")  # the export's is id
_SEPARATORS = re.compile(r"[\s_-]+")


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
    """The label in its one stored form: "Relevant", "not relevant", "Not_Relevant" are accepted."""
    value = _SEPARATORS.sub("-", label.strip().lower())
    if value not in LABELS:
        raise ValueError(f"'{label}' is not a label; write relevant or not relevant (any case)")
    return value


@dataclass(frozen=True)
class FeedbackFile:
    """The judgements of a feedback CSV, and how many rows had no label (left out)."""

    judgements: list[Judgement]
    unlabelled: int = 0


GRADES = {"0": 0, "1": 1, "2": 2}  # the labelled set's scale: not relevant, worth a look, must see


def check_grade(grade: str) -> str:
    if grade.strip() not in GRADES:
        raise ValueError(
            f"'{grade}' is not a grade; write 2 (must see), 1 (worth a look) or 0 (not relevant)"
        )
    return grade.strip()


def read_feedback(path: str | Path) -> FeedbackFile:
    """A feedback CSV: a header naming an id column (id, key, notice or notice_id) and a label column,
    in any order, and optionally a note column; any other column is ignored, so an `export --format
    csv` file with a label column added imports as it is. Rows without a label are left out and
    counted; InputError names the file, line and field of a bad row."""
    rows, unlabelled = _read(Path(path), "label", check_label)
    return FeedbackFile([Judgement(key, label, note) for key, label, note in rows], unlabelled)


def read_grades(path: str | Path) -> dict[str, int]:
    """A grades CSV, as the labelled development set's grades.csv: an id column and a grade column
    (2 must see, 1 worth a look, 0 not relevant), any other column ignored; {notice id: grade}.
    Rows without a grade are left out; InputError names the file, line and field of a bad row."""
    rows, _ = _read(Path(path), "grade", check_grade, retry="run the command again")
    return {key: GRADES[grade] for key, grade, _ in rows}


def _read(
    path: Path, column: str, check: Callable[[str], str], retry: str = "import again"
) -> tuple[list[tuple[str, str, str | None]], int]:
    """(notice id, checked value of `column`, note) per row that has a value, and the rows without."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _rows(path, csv.reader(handle), column, check, retry)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give the path of a CSV with columns id,{column}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as CSV ({exc})") from None


def _rows(
    path: Path, reader: csv.Reader, column: str, check: Callable[[str], str], retry: str
) -> tuple[list[tuple[str, str, str | None]], int]:
    header = [name.strip().lower() for name in next(reader, [])]
    id_column = next((index for index, name in enumerate(header) if name in ID_COLUMNS), None)
    if id_column is None or column not in header:
        raise InputError(
            f"{path}:1: the first line must name an id column ({', '.join(ID_COLUMNS)}) and a {column} "
            f"column, e.g. 'id,{column}' (a note column is kept; other columns are ignored)"
        )
    value_column = header.index(column)
    note_column = header.index("note") if "note" in header else None
    rows, missing = [], 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num

        def cell(index: int | None, row: list[str] = row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            raise InputError(
                f"{path}:{line}: {len(row)} fields, but the first line names {len(header)} columns; "
                "put a note that holds commas in double quotes"
            )
        if not cell(value_column):
            missing += 1  # a spreadsheet row nobody has judged yet
            continue
        rows.append(
            (
                _field(f"{path}:{line}", header[id_column], cell(id_column), check_key, retry),
                _field(f"{path}:{line}", column, cell(value_column), check, retry),
                cell(note_column) or None,
            )
        )
    return rows, missing


def _field(where: str, name: str, value: str, check: Callable[[str], str], retry: str) -> str:
    if not value:
        raise InputError(f"{where}: field '{name}' is empty; fill it in or delete the row")
    try:
        return check(value)
    except ValueError as exc:
        raise InputError(f"{where}: field '{name}': {exc}; fix the row and {retry}") from None
