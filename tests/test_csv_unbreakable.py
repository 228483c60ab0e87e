"""CSV that cannot be broken: a cell with CR or LF is quoted by every CSV writer, the formula
guard and its inverse are exact, a bare CR outside quotes is refused on input, and any text
survives export -> load -> export byte for byte (hypothesis), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import CliRun
from hypothesis import given
from hypothesis import strategies as st
from loadkit import claims_csv, find, load_curated_lists, refuse, write
from test_properties import DB_SETTINGS

from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.csvformat import (
    FORMULA_STARTS,
    csv_text,
    is_number,
    neutralise,
    unneutralise,
)
from ivcdb.db import Database
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.report import Code
from ivcdb.text import nfc

ATTACK = "x\r=cmd|' /C calc'!A0"
# Text made of the characters that break CSV or start formulas, and any other text.
_NASTY = st.text(alphabet="=+-@'\t\r\n\",; x1.e", max_size=12)
_ANY = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
               max_size=12)
_TEXT = st.lists(st.one_of(_NASTY, _ANY), min_size=1, max_size=4).map("".join)


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), strict=True))


def _no_live_formula(rows: list[list[str]]) -> None:
    """Every cell a spreadsheet sees is a number or starts like no formula."""
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or is_number(cell), cell


@pytest.fixture
def vocab(db: Database) -> Database:
    """The curated vocabularies, references and review, but no claims or findings."""
    return load_curated_lists(db)


def _claim_csv(statement: str, **cells: str) -> str:
    """A one-claim CSV as a careful user writes it: every cell quoted, CRLF line ends."""
    return claims_csv({"claim_id": "c1", "statement": statement, **cells}, crlf=True)


@pytest.mark.parametrize("text", [
    "=1", "-5", "-inf", "'=x", "''=x", "'-5", "'", "x", "\t=1", "'\r", "@", "+1e5", "-1_0",
    "'+", "'''", "=\u0338",
])
def test_guard_and_unguard_are_exact_inverses(text: str) -> None:
    guarded = neutralise(text)
    assert unneutralise(guarded) == text
    assert not guarded.startswith(FORMULA_STARTS) or is_number(guarded)


@given(st.text())
def test_unguard_inverts_guard_for_any_text(text: str) -> None:
    assert unneutralise(neutralise(text)) == text


def test_a_stored_apostrophe_formula_gets_a_second_apostrophe() -> None:
    assert neutralise("'=1+1") == "''=1+1"
    assert unneutralise("''=1+1") == "'=1+1"
    assert neutralise("-inf") == "'-inf"  # a spreadsheet would evaluate it: not a number


def test_the_csv_writer_quotes_every_cell_with_a_line_break() -> None:
    text = csv_text(lambda: [["a", "b"], [ATTACK, "c"], ["x\r\ny", "z\n"], ["", '"']])
    assert text == 'a,b\n"x\r=cmd|\' /C calc\'!A0",c\n"x\r\ny","z\n"\n,""""\n'
    assert csv_text(lambda: [["plain", "1"]]) == "plain,1\n"


def test_a_cr_attack_is_exported_quoted_and_loads_back(vocab: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "claims_cr.csv", _claim_csv(ATTACK))
    load(vocab, Sources(claims=[path]))
    for excel in (False, True):
        data = export(vocab, "claims", excel=excel)
        assert b'"x\r=cmd|\' /C calc\'!A0"' in data
        rows = _cells(data)
        assert [len(row) for row in rows] == [len(CLAIM_COLUMNS)] * 2
        _no_live_formula(rows)
    write(path, export(vocab, "claims"))
    report, = load(vocab, Sources(claims=[path]))
    assert (report.read, report.unchanged) == (1, 1)


@pytest.mark.parametrize("command", [["query", "claims", "--format", "csv"],
                                     ["show", "nayyar2010", "--format", "csv"]])
def test_query_and_show_csv_quote_the_cr(vocab: Database, tmp_path: Path, cli: CliRun,
                                         command: list[str]) -> None:
    load(vocab, Sources(claims=[write(tmp_path / "claims_cr.csv", _claim_csv(ATTACK))]))
    code, out, _ = cli(*command, "--db", vocab.url)
    assert code == 0
    assert '"x\r=cmd|\' /C calc\'!A0"' in out
    rows = _cells(out.encode())
    assert any(ATTACK in row for row in rows)
    _no_live_formula(rows)


@pytest.mark.parametrize(("content", "line"), [
    pytest.param("x\r=cmd", 2, id="cr-in-a-cell"),
    pytest.param("x\r", 2, id="cr-line-end"),
])
def test_a_bare_cr_outside_quotes_is_refused(vocab: Database, tmp_path: Path, content: str,
                                             line: int) -> None:
    text = ",".join(CLAIM_COLUMNS) + "\n" + "c1,li2025,prognosis," + content + ",," * 7 + "\n"
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(vocab, Sources(claims=[path]))
    problem = find(problems, Code.BARE_CR, file=path, line=line, key="")
    assert problem.format() == (
        f"{path}:{line}: error [bare-carriage-return]: a carriage return (CR) outside a quoted "
        "cell; use LF or CRLF line ends, or quote the cell")


def test_crlf_files_and_quoted_crs_are_fine(vocab: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "claims.csv", _claim_csv("a\rb\r\nc"))
    report, = load(vocab, Sources(claims=[path]))
    assert report.added == 1


@DB_SETTINGS
@given(statement=_TEXT, population=_TEXT)
def test_any_text_survives_export_load_export(vocab: Database, tmp_path: Path, statement: str,
                                              population: str) -> None:
    statement, population = nfc(statement).strip(), nfc(population).strip()
    if not statement or nfc(statement) != statement or nfc(population) != population:
        return
    path = write(tmp_path / "claims_prop.csv", _claim_csv(
        neutralise(statement), population=neutralise(population)))
    load(vocab, Sources(claims=[path]))
    first = export(vocab, "claims")
    rows = _cells(first)
    _no_live_formula(rows)
    stored = dict(zip(rows[0], rows[1], strict=True))
    assert unneutralise(stored["statement"]) == statement
    assert unneutralise(stored["population"]) == population
    write(path, first)
    report, = load(vocab, Sources(claims=[path]))
    assert (report.read, report.unchanged) == (1, 1)
    assert export(vocab, "claims") == first
