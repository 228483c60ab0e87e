"""BibTeX values and keys, on SQLite and PostgreSQL: sample sizes parsed exactly and in range
(one bad entry skips only itself under --skip-invalid), invisible characters refused in
citekeys, and a bare CR in a field refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from loadkit import find, refuse, rows, write

from ivcdb.csvformat import INT_MAX
from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code

# --- BibTeX values ----------------------------------------------------------------------------

_BIB = "@article{{{key},\n  title = {{T}},\n  year = {{2020}},\n  samplesize = {{{size}}}\n}}\n"


@pytest.mark.parametrize(("size", "code", "message"), [
    ("²", Code.COUNT, "samplesize '²' is not a whole number of 0 or more"),
    ("12.5", Code.COUNT, "samplesize '12.5' is not a whole number of 0 or more"),
    (str(2**63), Code.OUT_OF_RANGE, f"samplesize {2**63} is above {INT_MAX}, the largest whole "
     "number the database keeps"),
])
def test_bad_sample_sizes_are_one_line(db: Database, tmp_path: Path, size: str, code: Code,
                                       message: str) -> None:
    path = write(tmp_path / "refs.bib", _BIB.format(key="k1", size=size))
    problem = find(refuse(db, Sources(references=path)), code, file=path, line=1, key="k1")
    assert problem.message == message


def test_a_bad_sample_size_skips_only_its_entry(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", _BIB.format(key="k1", size="²")
                 + _BIB.format(key="k2", size="40") + _BIB.format(key="k3", size=str(2**63)))
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    assert (report.added, sorted(report.skipped)) == (1, ["k1", "k3"])
    assert [(r["citekey"], r["sample_size"]) for r in rows(db, "reference")] == [("k2", 40)]


@pytest.mark.parametrize(("key", "shown", "codepoint"), [
    ("smith\u202e2020", "smith\\u202e2020", "U+202E"),
    ("smith\ufeff2020", "smith\\ufeff2020", "U+FEFF"),
    ("smith\u200b2020", "smith\\u200b2020", "U+200B"),
])
def test_invisible_characters_in_citekeys_are_refused(db: Database, tmp_path: Path, key: str,
                                                      shown: str, codepoint: str) -> None:
    path = write(tmp_path / "refs.bib", f"@article{{{key},\n  title = {{T}},\n  year = 2020\n}}\n")
    problem = find(refuse(db, Sources(references=path)), Code.BAD_IDENTIFIER, file=path, line=1,
                   key=key)
    assert problem.format() == (f"{path}:1: {shown}: error [bad-identifier]: citekey contains "
                                f"invisible character {codepoint}; an identifier holds visible "
                                "characters only")


def test_a_bare_cr_in_a_bibtex_field_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{k1,\n  title = {A\rB},\n  year = 2020\n}\n")
    problem = find(refuse(db, Sources(references=path)), Code.BARE_CR, file=path, line=2,
                   key="k1")
    assert problem.message == ("field 'title' contains a carriage return (CR) that is not part "
                               "of a CRLF; remove it")


def test_crlf_bibtex_files_load(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{k1,\r\n  title = {A\r\n B},\r\n  year = 2020"
                 "\r\n}\r\n")
    (report,) = load(db, Sources(references=path))
    assert report.added == 1
