"""Reading a sheet of an Excel workbook as the CSV reader's text (through the xlsx extra).

A workbook is read by the very rules of a CSV file (`ivcdb.loaders.csvfile`): its sheet is
turned into CSV text cell by cell (numbers as `format_number` writes them, true/false, text
as typed, guarded so the reader's `'` rule gives it back unchanged), and every row keeps its
sheet row number, so a problem names the file, the sheet row and (in its message) the column.
The sheet read is the first whose header holds the required columns, else the first one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ivcdb.csvformat import csv_text, format_number, neutralise
from ivcdb.extras import require
from ivcdb.report import Code, Problem

SUFFIXES = (".xlsx", ".xlsm")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def is_workbook(path: str | Path) -> bool:
    """Whether `path` names an Excel workbook (by its suffix)."""
    return Path(path).suffix.lower() in SUFFIXES


def sheet_text(path: str | Path, required: Sequence[str]
               ) -> tuple[str, dict[int, int] | None, Problem | None]:
    """The chosen sheet as CSV text, the sheet row of each CSV line that starts a row (None
    when they are the same), or the problem that stops the read."""
    require("xlsx")
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML and key errors alike
        return "", None, Problem(Code.PARSE, f"not a readable Excel workbook ({error})",
                                 file=str(path))
    try:
        rows = [list(r) for r in _sheet(book, required).iter_rows(values_only=True)]
    finally:
        book.close()
    width = _width(rows[0]) if rows else 0
    cells = [[_cell(v) for v in _fit(row, width)] for row in rows]
    return csv_text(lambda: cells), _sheet_rows(cells), None


def _sheet(book: Any, required: Sequence[str]) -> Any:
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        if set(required) <= {str(h).strip() for h in header if h is not None}:
            return sheet
    return book.worksheets[0]


def _width(header: list[Any]) -> int:
    """The header's cells up to its last filled one (a sheet may report empty columns)."""
    filled = [i for i, v in enumerate(header) if v not in (None, "")]
    return filled[-1] + 1 if filled else 0


def _fit(row: list[Any], width: int) -> list[Any]:
    """The row cut to `width` when what follows is empty, padded when shorter."""
    tail = row[width:]
    if any(v not in (None, "") for v in tail):
        return row  # a cell beyond the header: the reader reports the row's width
    return row[:width] + [None] * (width - len(row))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool | int | float):
        return format_number(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return neutralise(str(value))


def _sheet_rows(cells: list[list[str]]) -> dict[int, int] | None:
    """CSV line -> sheet row for the first line of each row, when a cell breaks a line."""
    if not any(_LINE_BREAK.search(c) for row in cells for c in row):
        return None
    return dict(_starts(cells))


def _starts(cells: list[list[str]]) -> Iterator[tuple[int, int]]:
    line = 1
    for number, row in enumerate(cells, start=1):
        yield line, number
        line += 1 + sum(len(_LINE_BREAK.findall(c)) for c in row)
