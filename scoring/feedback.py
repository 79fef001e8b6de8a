"""The team's judgements of notices: labels, and reading them from a CSV file (an id and a label
column, optionally a note: a file of its own, or an `export --format csv` file with a label column);
and grades (2 must see, 1 worth a look, 0 not relevant) of a set kept aside to measure the rules on."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from store.notice import SOURCE_NAME
from tenderwatch.errors import InputError

NOT_RELEVANT = "not-relevant"  # the team decided not to bid: digests stop mentioning it
LABELS = ("relevant", NOT_RELEVANT)
# "<source>:<source_id>" as store.notice allows them: an imported id may hold spaces ("CALL OFF/12").
NOTICE_KEY = re.compile(rf"^{SOURCE_NAME.pattern}:\S(?:.*\S)?$")
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


NO_FIT, WORTH_A_LOOK, MUST_SEE = 0, 1, 2  # the labelled set's scale
GRADE_NAMES = {MUST_SEE: "must see", WORTH_A_LOOK: "worth a look", NO_FIT: "not relevant"}


def check_grade(grade: str) -> str:
    """A grade as written: "2" (must see), "1" (worth a look) or "0" (not relevant)."""
    if grade.strip() not in ("0", "1", "2"):
        raise ValueError(
            f"'{grade}' is not a grade; write 2 (must see), 1 (worth a look) or 0 (not relevant)"
        )
    return grade.strip()


@dataclass(frozen=True)
class Grades:
    """Graded notices kept aside to measure the rules on: {notice id: grade}, and rows left out."""

    grades: dict[str, int]
    ungraded: int = 0

    @cached_property  # read per judged notice while a backtest runs
    def labels(self) -> dict[str, str]:
        """As the team's labels: must see and worth a look are relevant."""
        return {
            key: "relevant" if grade >= WORTH_A_LOOK else NOT_RELEVANT for key, grade in self.grades.items()
        }

    @cached_property
    def must_see(self) -> frozenset[str]:
        return frozenset(key for key, grade in self.grades.items() if grade == MUST_SEE)


def read_feedback(path: str | Path) -> FeedbackFile:
    """A feedback CSV: a header naming an id column (id, key, notice or notice_id) and a label column,
    in any order, and optionally a note column; any other column is ignored, so an `export --format
    csv` file with a label column added imports as it is. Rows without a label are left out and
    counted; InputError names the file, line and field of a bad row."""
    rows, unlabelled = _read(Path(path), "label", check_label, "import again")
    return FeedbackFile([Judgement(row.key, row.value, row.note) for row in rows], unlabelled)


def read_grades(paths: Iterable[str | Path]) -> Grades:
    """Grades CSVs, as the labelled development set's grades.csv: an id column and a grade column
    (2 must see, 1 worth a look, 0 not relevant), any other column ignored. Rows without a grade are
    left out and counted. InputError names the file, line and field of a bad row, both places of an
    id graded two ways, and a set with no grade at all."""
    grades: dict[str, int] = {}
    where: dict[str, str] = {}
    ungraded = 0
    for path in map(Path, paths):
        rows, left_out = _read(path, "grade", check_grade, "run the command again")
        ungraded += left_out
        for row in rows:
            grade = int(row.value)
            if grades.setdefault(row.key, grade) != grade:
                raise InputError(
                    f"{row.where}: {row.key} is graded {grade} here but {grades[row.key]} at "
                    f"{where[row.key]}; keep one grade and run the command again"
                )
            where.setdefault(row.key, row.where)
    if not grades:
        raise InputError("no graded notice in the grades files: fill in the grade column (2, 1 or 0)")
    return Grades(grades, ungraded)


@dataclass(frozen=True)
class _Row:
    key: str
    value: str  # the checked label or grade
    note: str | None
    where: str  # "file:line"


def _read(path: Path, column: str, check: Callable[[str], str], retry: str) -> tuple[list[_Row], int]:
    """The rows that have a value in `column`, and how many had none (a spreadsheet row nobody has
    judged yet). `retry` ends the message of a bad row: what to do once it is fixed."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            delimiter = _delimiter(handle.readline())
            handle.seek(0)
            # strict: an unclosed quote is an error, not one long value
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            # A cell may be as long as the export wrote it: a notice's description can pass the csv
            # module's 131,072 characters (its limit is the whole process's: put back after).
            limit = csv.field_size_limit(_LONGEST_CELL)
            try:
                return _rows(path, reader, column, check, retry)
            except csv.Error as exc:
                raise InputError(
                    f"{path}:{reader.line_num}: not valid CSV ({exc}); a value that opens with a double "
                    f"quote must close with one: fix it and {retry}"
                ) from None
            finally:
                csv.field_size_limit(limit)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; give the path of a CSV with columns id,{column}") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8' and {retry}"
        ) from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as CSV ({exc})") from None


_LONGEST_CELL = 2**31 - 1  # the largest the csv module takes on every platform
_COLUMN_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}


def _delimiter(header: str) -> str:
    """What separates the columns: commas, or the semicolons a spreadsheet saves CSV with where a
    comma is the decimal mark (Excel in French, German, Dutch...), or tabs (a "Text" file), when the
    first line has no comma to go by."""
    if "," not in header:
        for other in (";", "\t"):
            if other in header:
                return other
    return ","


def _rows(
    path: Path, reader: csv.Reader, column: str, check: Callable[[str], str], retry: str
) -> tuple[list[_Row], int]:
    header = [name.strip().lower() for name in next(reader, [])]
    id_column = next((index for index, name in enumerate(header) if name in ID_COLUMNS), None)
    if id_column is None or column not in header:
        kept = "a note column is kept; " if column == "label" else ""
        raise InputError(
            f"{path}:1: the first line must name an id column ({', '.join(ID_COLUMNS)}) and a {column} "
            f"column, e.g. 'id,{column}' ({kept}other columns are ignored)"
        )
    value_column = header.index(column)
    note_column = header.index("note") if "note" in header else None
    rows, missing = [], 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}:{reader.line_num}"

        def cell(index: int | None, row: list[str] = row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            separators = _COLUMN_SEPARATORS[reader.dialect.delimiter]
            raise InputError(
                f"{where}: {len(row)} fields, but the first line names {len(header)} columns; "
                f"put a value that holds {separators} (a title, a note) in double quotes"
            )
        if not cell(value_column):
            missing += 1
            continue
        key = _field(where, header[id_column], cell(id_column), check_key, retry)
        value = _field(where, column, cell(value_column), check, retry)
        rows.append(_Row(key, value, cell(note_column) or None, where))
    return rows, missing


def _field(where: str, name: str, value: str, check: Callable[[str], str], retry: str) -> str:
    if not value:
        raise InputError(f"{where}: field '{name}' is empty; fill it in or delete the row")
    try:
        return check(value)
    except ValueError as exc:
        raise InputError(f"{where}: field '{name}': {exc}; fix the row and {retry}") from None
