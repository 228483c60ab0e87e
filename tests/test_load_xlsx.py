"""Loading claims and findings from Excel workbooks: the CSV contract cell for cell, an export
loads back unchanged, problems name the file, the sheet row and the column."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun
from exportkit import load_tricky
from loadkit import claims_table, find, refuse, write

from ivcdb.db import Database
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.report import Code

openpyxl = pytest.importorskip("openpyxl")

OS5 = "li2025-os-5y"


def _workbook(path: Path, rows: list[list[object]], title: str = "claims") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("kind", ["claims", "findings"])
def test_export_loads_back_unchanged(built: Database, tmp_path: Path, kind: str) -> None:
    load_tricky(built, tmp_path)
    before = {k: export(built, k) for k in ("claims", "findings")}
    path = write(tmp_path / f"{kind}.xlsx", export(built, kind, fmt="xlsx"))
    report, = load(built, Sources(**{kind: [path]}))  # type: ignore[arg-type]
    assert (report.added, report.updated) == (0, 0) and report.unchanged > 0
    assert {k: export(built, k) for k in before} == before  # "=1+1" and roles kept


def test_typed_cells_read_as_their_csv_text(built: Database, tmp_path: Path) -> None:
    """Numbers typed as numbers (2022.0), true/false as booleans: the claims are unchanged."""
    header, *rows = claims_table()
    typed: list[list[object]] = [header]
    for row in rows:
        cells: list[object] = []
        for name, cell in zip(header, row, strict=True):
            if name in ("value", "numerator", "paragraph") and cell:
                cells.append(float(cell))
            elif name == "derived":
                cells.append(cell == "true")
            else:
                cells.append(cell or None)
        typed.append(cells)
    path = _workbook(tmp_path / "claims.xlsx", typed)
    report, = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(rows))


def test_bad_cell_names_the_sheet_row_and_column(built: Database, tmp_path: Path) -> None:
    header, *rows = claims_table()
    rows = [list(r) for r in rows]
    rows[0][header.index("statement")] += "\nsecond line\nthird"  # rows below keep their number
    bad = next(i for i, r in enumerate(rows) if r[0] == OS5)
    rows[bad][header.index("value")] = "many"
    path = _workbook(tmp_path / "claims.xlsx", [header, *rows])
    problems = refuse(built, Sources(claims=[path]))
    problem = find(problems, Code.BAD_VALUE, file=path, line=bad + 2, key=OS5)
    assert "'value'" in problem.message and "many" in problem.message


def test_claims_sheet_is_found_in_a_workbook_of_several(built: Database, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["anything"])
    sheet = book.create_sheet("claims")
    for row in claims_table():
        sheet.append(row)
    path = tmp_path / "claims.xlsx"
    book.save(path)
    report, = load(built, Sources(claims=[path]))
    assert (report.added, report.updated) == (0, 0)


def test_not_a_workbook_is_refused(built: Database, tmp_path: Path, cli: CliRun) -> None:
    path = write(tmp_path / "claims.xlsx", b"not a zip file")
    problems = refuse(built, Sources(claims=[path]))
    assert [p.code for p in problems] == [Code.PARSE] and problems[0].file == str(path)
    code, _, err = cli("load", "--claims", str(path), "--db", str(built.url))
    assert code == 1 and "not a readable Excel workbook" in err and "Traceback" not in err
