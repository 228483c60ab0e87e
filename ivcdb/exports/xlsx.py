"""Tidy tables as an Excel workbook (through the optional openpyxl extra): one sheet per table.

Columns are typed as in Parquet (`tabular.dtype`): whole numbers, decimals and true/false as
such, everything else as text cells, lists joined with `;` as in CSV. Identifiers (PMIDs,
citekeys, claim ids) are text, so a PMID never becomes a float. A text cell is always a
string cell: openpyxl would store `=...` as a formula, so the cell type is set back to text,
and no `'` is added (the formula guard is CSV's alone). The header row is bold on a shaded
fill and frozen. The workbook's dates and its zip entries' times are fixed, so the same
tables give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ivcdb.csvformat import LIST_SEPARATOR
from ivcdb.errors import UsageError
from ivcdb.exports.files import FIXED_TIME, fixed_zip_times
from ivcdb.extras import require
from ivcdb.progress import track

if TYPE_CHECKING:
    from ivcdb.exports.tabular import Table

TEXT_FORMAT = "@"  # Excel's text number format: a typed-over id stays text
HEADER_FILL = "D9E1F2"
_PYTHON_TYPES = {"Int64": int, "Float64": float, "boolean": bool}
MAX_ROWS = 1_048_576  # an Excel sheet's rows, the header included


def to_xlsx(table: Table) -> bytes:
    """One table as a workbook of one sheet named after its kind."""
    return workbook([table])


def workbook(tables: Sequence[Table]) -> bytes:
    """The tables as one workbook, a sheet each (named by kind), in the order given."""
    require("xlsx")
    from openpyxl import Workbook

    # Not write-only: only a full workbook records each sheet's size, which readers
    # (frictionless, pandas) need to see every column.
    book = Workbook()
    book.remove(book.active)
    book.properties.creator = "ivcdb"
    book.properties.created = book.properties.modified = FIXED_TIME
    for table in tables:
        _sheet(book, table)
    return fixed_zip_times(_saved(book))


def _saved(book: Any) -> bytes:
    """The workbook's bytes, its properties as set: openpyxl's `save` stamps `modified` with
    the clock (two exports a second apart differed), so call its writer directly."""
    from openpyxl.writer.excel import ExcelWriter

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return buffer.getvalue()


def _sheet(book: Any, table: Table) -> None:
    from openpyxl.styles import Font, PatternFill

    from ivcdb.exports.tabular import dtype

    if len(table.tuples) >= MAX_ROWS:
        raise UsageError(f"{table.kind}: {len(table.tuples)} rows do not fit an Excel sheet "
                         f"(at most {MAX_ROWS - 1}); export csv or parquet")
    sheet = book.create_sheet(title=table.kind[:31])
    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    for number, name in enumerate(table.columns, start=1):
        cell = sheet.cell(row=1, column=number, value=name)
        cell.font, cell.fill = bold, fill
    types = [_PYTHON_TYPES.get(dtype(c)) for c in table.columns]
    for row_number, row in enumerate(track(table.tuples, f"writing {table.kind}"), start=2):
        for number, (value, kind) in enumerate(zip(row, types, strict=True), start=1):
            if value is not None:
                _fill(sheet.cell(row=row_number, column=number), value, kind)


def _fill(cell: Any, value: Any, kind: type | None) -> None:
    """A typed value, or a string cell that is never a formula."""
    if kind is not None and isinstance(value, int | float):
        cell.value = kind(value)
        return
    cell.value = (LIST_SEPARATOR.join(_text(v) for v in value) if isinstance(value, list)
                  else _text(value))
    cell.data_type = "s"  # openpyxl reads `=...` as a formula; a cell of ours is text
    cell.number_format = TEXT_FORMAT


def _text(value: Any) -> str:
    from ivcdb.csvformat import format_number

    if isinstance(value, bool | int | float):
        return format_number(value)
    return str(value)
