"""Excel exports: typed columns, identifiers as text, text never a formula nor guarded, a
styled and frozen header, the same bytes on every run."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from exportkit import load_tricky

from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.db import Database
from ivcdb.exports import export
from ivcdb.exports.tabular import KINDS

openpyxl = pytest.importorskip("openpyxl")


@pytest.fixture
def tricky(built: Database, tmp_path: Path) -> Database:
    load_tricky(built, tmp_path)
    return built


def _sheet(data: bytes) -> Any:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet, = book.worksheets
    return sheet


def _rows(sheet: Any) -> list[dict[str, Any]]:
    header, *rows = sheet.iter_rows()
    names = [c.value for c in header]
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_claims_sheet_has_the_csv_columns_and_typed_cells(tricky: Database) -> None:
    sheet = _sheet(export(tricky, "claims", fmt="xlsx"))
    assert sheet.title == "claims"
    assert tuple(c.value for c in sheet[1]) == CLAIM_COLUMNS
    claims = {r["claim_id"].value: r for r in _rows(sheet)}
    alpha = claims["alpha-claim"]
    assert alpha["value"].value == -5 and alpha["value"].data_type == "n"
    assert alpha["reference_numbers"].value == "1;3"
    assert alpha["reference_roles"].value == "supports;disagrees"
    assert claims["Zeta-claim"]["value"].value is None


def test_text_is_a_string_cell_never_a_formula_and_never_guarded(tricky: Database) -> None:
    claims = {r["claim_id"].value: r for r in _rows(_sheet(export(tricky, "claims",
                                                                  fmt="xlsx")))}
    statement = claims["Zeta-claim"]["statement"]
    assert statement.value == "=1+1" and statement.data_type == "s"
    as_json = {r["claim_id"]: r for r in json.loads(export(tricky, "claims", fmt="json"))}
    for claim_id, row in claims.items():  # every text as JSON has it: no `'` added
        assert row["statement"].value == as_json[claim_id]["statement"]


def test_identifiers_are_text(built: Database) -> None:
    rows = _rows(_sheet(export(built, "references", fmt="xlsx")))
    pmids = [r["pmid"] for r in rows if r["pmid"].value is not None]
    assert pmids and all(c.data_type == "s" and isinstance(c.value, str) for c in pmids)
    assert all(c.number_format == "@" for c in pmids)
    assert all(r["key"].data_type == "s" for r in rows)
    numbers = [r["number"].value for r in rows if r["number"].value is not None]
    assert numbers == list(range(1, len(numbers) + 1))


def test_header_is_styled_and_frozen(built: Database) -> None:
    sheet = _sheet(export(built, "findings", fmt="xlsx"))
    assert sheet.freeze_panes == "A2"
    assert all(c.font.b for c in sheet[1]) and all(c.fill.fgColor.rgb.endswith("D9E1F2")
                                                   for c in sheet[1])
    assert not any(c.font.b for c in sheet[2])


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_the_rows_of_its_csv(built: Database, kind: str) -> None:
    sheet = _sheet(export(built, kind, fmt="xlsx"))
    as_json = json.loads(export(built, kind, fmt="json"))
    assert sheet.max_row == len(as_json) + 1


def test_same_tables_same_bytes(built: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte-identical whatever the clock says (openpyxl's save stamps the time it runs)."""
    import datetime

    first = export(built, "claims", fmt="xlsx")

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> Later:
            return cls(2031, 1, 2, 3, 4, 5, tzinfo=tz)

    monkeypatch.setattr(datetime, "datetime", Later)
    assert export(built, "claims", fmt="xlsx") == first


def test_cli_writes_a_workbook(built: Database, cli: CliRun, tmp_path: Path) -> None:
    out = tmp_path / "claims.xlsx"
    code, _, err = cli("export", "claims", "--format", "xlsx", "--output", str(out),
                       "--db", str(built.url))
    assert code == 0, err
    assert _sheet(out.read_bytes()).max_row > 1


def test_a_table_too_long_for_a_sheet_is_refused(built: Database,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from ivcdb.errors import UsageError
    from ivcdb.exports import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 10)
    with pytest.raises(UsageError, match="do not fit an Excel sheet"):
        export(built, "claims", fmt="xlsx")
