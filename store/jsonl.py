"""The JSON Lines interchange format: `tenderwatch export` writes it, `tenderwatch import` reads it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, TextIO

from store.notice import Notice, NoticeFormatError
from tenderwatch.errors import InputError
from tenderwatch.files import undecodable_line


def write_jsonl(records: Iterable[Notice | dict[str, Any]], out: TextIO) -> int:
    """Write notices (or export records already made from them), one JSON object per line."""
    count = 0
    for record in records:
        data = record.to_json() if isinstance(record, Notice) else record
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        count += 1
    return count


def read_jsonl(path: Path) -> list[Notice]:
    """Every notice in the file, or an InputError naming the first bad line and field."""
    try:
        with path.open(encoding="utf-8-sig") as lines:  # a byte-order mark, as some editors save, is no text
            return list(_parse_lines(path, lines))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(_not_text(path)) from None


def _not_text(path: Path) -> str:
    """Why a file that is not UTF-8 cannot be imported, and what to do: a compressed file (as
    notices are often sent) is said to be one, not to need saving as UTF-8."""
    data = path.read_bytes()
    if data.startswith(b"\x1f\x8b"):
        return (
            f"{path}: compressed with gzip, not JSON Lines text; decompress it (gunzip {path.name}) and "
            "import the file it gives"
        )
    if data.startswith(b"PK\x03\x04"):
        return (
            f"{path}: a zip file (or a spreadsheet), not JSON Lines text; unzip it and import the .jsonl "
            "file inside (a spreadsheet cannot be imported: `tenderwatch export` writes the format)"
        )
    try:
        data.decode("utf-8-sig")
        line = None
    except UnicodeDecodeError as exc:
        line = undecodable_line(exc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: not UTF-8 text; save it as UTF-8 JSON Lines and import it again (nothing was imported)"


def _parse_lines(path: Path, lines: Iterable[str]) -> Iterator[Notice]:
    seen: dict[str, int] = {}

    def bad(number: int, problem: str) -> InputError:
        # The whole file is checked before anything is stored: say so, or lines before it seem imported.
        return InputError(
            f"{path}:{number}: {problem}; nothing in the file was imported: fix line {number} and "
            "import the file again"
        )

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            notice = Notice.from_json(json.loads(line.rstrip("\r\n")))  # an error names its own column
        except json.JSONDecodeError as exc:
            raise bad(
                number,
                f"not valid JSON ({exc.msg}, column {exc.colno}); each line must be one whole notice, "
                "a JSON object on a line of its own, as `tenderwatch export` writes",
            ) from None
        except RecursionError:  # "[[[[..." thousands deep: no notice is
            raise bad(number, "not a notice (lists or objects nested too deeply)") from None
        except NoticeFormatError as exc:
            raise bad(number, str(exc)) from None
        if notice.id in seen:
            raise bad(number, f"notice '{notice.id}' already appears on line {seen[notice.id]}")
        for name, limit in _LENGTHS.items():
            value = getattr(notice, name)
            if isinstance(value, str) and len(value) > limit:
                # PostgreSQL enforces the column's length (SQLite would store it): say so for both.
                raise bad(number, f"field '{name}': at most {limit} characters, not {len(value)}")
        seen[notice.id] = number
        yield notice


def _limits() -> dict[str, int]:
    """The longest text each length-limited notice field may hold (the notices table's columns)."""
    from store.models import NoticeRow

    columns = NoticeRow.__table__.columns
    return {
        name: columns[name].type.length
        for name in (f.name for f in fields(Notice))
        if name in columns and getattr(columns[name].type, "length", None)
    }


_LENGTHS = _limits()
