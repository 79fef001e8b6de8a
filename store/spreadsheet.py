"""CSV for spreadsheets (`tenderwatch export --format csv`): one row per notice, one column per field.

For people, not for `import` (which reads JSON Lines): lists are joined with "; ", lots are counted,
and with scores the reasons are given as the one line a digest shows. Notice text is the buyer's, so
a cell that a spreadsheet would run as a formula (starting =, +, -, @, tab or carriage return) gets a
leading apostrophe, as OWASP advises against CSV injection; so does such a start after a ';', where
a spreadsheet whose list separator is ';' (German, French) would begin a cell (a ',' is inside the
cell's quotes, which such a spreadsheet reads too).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import fields
from typing import Any, TextIO

from store.notice import Notice

# `details` stays in the JSON export: its parts read poorly in one cell.
NOTICE_COLUMNS = ["id", *(f.name for f in fields(Notice) if f.name not in ("origin", "details"))]
OPPORTUNITY_COLUMN = "opportunity_id"
SCORE_COLUMNS = ["score", "band", "service_line", "why"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_AFTER_SEPARATOR = re.compile(f";(?=[{re.escape(''.join(FORMULA_STARTS))}])")


def spreadsheet_text(text: str) -> str:
    """Text no spreadsheet runs as a formula, whichever separator it splits the row at."""
    text = _FORMULA_AFTER_SEPARATOR.sub(";'", text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(rows: Iterable[tuple[Notice, Any, str | None]], out: TextIO, *, scored: bool) -> int:
    """Write (notice, score or None, opportunity id) rows with a header row; returns how many notices
    were written."""
    writer = csv.writer(out)
    writer.writerow([*NOTICE_COLUMNS, OPPORTUNITY_COLUMN] + (SCORE_COLUMNS if scored else []))
    count = 0
    for notice, score, opportunity in rows:
        record = notice.to_json()
        cells = [_cell(name, record[name]) for name in NOTICE_COLUMNS] + [
            _cell(OPPORTUNITY_COLUMN, opportunity)
        ]
        if scored:
            cells += [
                score.score,
                score.band,
                _cell("service_line", score.service_line),
                _cell("why", score.summary),
            ]
        writer.writerow(cells)
        count += 1
    return count


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name == "lots":
        return len(value)
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return spreadsheet_text(value) if isinstance(value, str) else value
