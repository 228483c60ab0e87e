"""Text stays text, on SQLite and PostgreSQL: C0 (but TAB, LF, CR in CRLF or in quoted cells)
and C1 controls are refused on input; bidi controls and zero-width characters are refused in
identifiers (claim ids, codes, reference keys, review ids) and shown escaped on a terminal."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import DATA, CliRun
from loadkit import claims_csv, find, line_of, load_curated_lists, refuse, write

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code
from ivcdb.text import control_character, identifier_character, visible


@pytest.fixture
def lists(db: Database) -> Database:
    return load_curated_lists(db)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\x9f"])
def test_c0_and_c1_controls_are_control_characters(char: str) -> None:
    assert control_character(f"a{char}b") == char


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\u202e", "\u00a0", "é"])
def test_tab_newlines_and_visible_text_are_no_control_characters(char: str) -> None:
    assert control_character(f"a{char}b") is None


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u00ad",
                                  "\u2028", "\x9b", "\t", "\U000e0041"])
def test_invisible_characters_are_refused_in_identifiers(char: str) -> None:
    assert identifier_character(f"key{char}2020") == char


def test_visible_identifiers_pass() -> None:
    assert identifier_character("Müller-2020:a/b.c d") is None


def test_terminal_text_is_escaped() -> None:
    assert visible("a\u202eb\x9b[31m\u200bc\td") == "a\\u202eb\\x9b[31m\\u200bc\\x09d"
    assert visible("line\tone\nline two", lines=True) == "line\tone\nline two"
    assert visible("plain text") == "plain text"


@pytest.mark.parametrize(("column", "char"), [("statement", "\x9b"), ("population", "\x85"),
                                              ("statement", "\x1b")])
def test_controls_in_cells_are_refused(lists: Database, tmp_path: Path, column: str,
                                       char: str) -> None:
    path = write(tmp_path / "claims.csv", claims_csv({"claim_id": "c1", column: f"a{char}b"}))
    problem = find(refuse(lists, Sources(claims=[path])), Code.CONTROL_CHAR, file=path, line=2,
                   key="c1")
    assert problem.message == (f"column '{column}' contains control character "
                               f"U+{ord(char):04X}; remove it")


@pytest.mark.parametrize(("column", "value", "key"), [
    ("claim_id", "c\u202e1", "c\u202e1"),
    ("claim_id", "c\ufeff1", "c\ufeff1"),
    ("outcome", "prog\u200bnosis", "c1"),
    ("reference_keys", "nayyar\u20662010", "c1"),
    ("review", "li2025\u200d", "c1"),
    ("claim_id", "c\t1", "c\t1"),
])
def test_invisible_characters_in_identifier_cells_are_refused(
        lists: Database, tmp_path: Path, column: str, value: str, key: str) -> None:
    path = write(tmp_path / "claims.csv", claims_csv({"claim_id": "c1", column: value}))
    problem = find(refuse(lists, Sources(claims=[path])), Code.BAD_IDENTIFIER, file=path,
                   line=2, key=key)
    char = next(c for c in value if not c.isprintable() or c == "\ufeff")
    kind = "control" if char == "\t" else "invisible"
    assert problem.message == (f"column '{column}' contains {kind} character "
                               f"U+{ord(char):04X}; an identifier holds visible characters only")
    assert all(c.isprintable() for c in problem.format())  # the key is shown escaped


def test_invisible_characters_in_vocabulary_codes_are_refused(db: Database,
                                                              tmp_path: Path) -> None:
    path = write(tmp_path / "units.csv", "code,label\nmm\u200b,millimetre\n")
    problem = find(refuse(db, Sources(units=path)), Code.BAD_IDENTIFIER, file=path, line=2,
                   key="mm\u200b")
    assert problem.format() == (f"{path}:2: mm\\u200b: error [bad-identifier]: column 'code' "
                                "contains invisible character U+200B; an identifier holds "
                                "visible characters only")


def test_c1_in_a_review_title_is_refused(lists: Database, tmp_path: Path) -> None:
    text = (DATA / "review.toml").read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title"))
    path = write(tmp_path / "review.toml", text.replace(title, 'title = "A \\u009b title"'))
    problem = find(refuse(lists, Sources(reviews=[path])), Code.CONTROL_CHAR, file=path,
                   line=line_of(text, "title"), key="li2025")
    assert problem.message == "title contains control character U+009B"


def test_bidi_text_in_a_statement_is_stored_and_shown_escaped(lists: Database, tmp_path: Path,
                                                              cli: CliRun,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    statement = "abc \u202eevil\u202c done"
    load(lists, Sources(claims=[write(tmp_path / "claims.csv", claims_csv(
        {"claim_id": "c1", "statement": statement}))]))
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = cli("query", "claims", "--db", lists.url, "--format", "table")
    assert code == 0
    assert "abc \\u202eevil\\u202c done" in out and "\u202e" not in out
    code, out, _ = cli("query", "claims", "--db", lists.url, "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["statement"] == statement  # data formats keep the text as it is


def test_c1_in_a_bibtex_title_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{k1,\n  title = {A \x9b31m title},\n"
                 "  year = {2020}\n}\n")
    problem = find(refuse(db, Sources(references=path)), Code.CONTROL_CHAR, file=path, line=2,
                   key="k1")
    assert problem.message == "field 'title' contains control character U+009B; remove it"
