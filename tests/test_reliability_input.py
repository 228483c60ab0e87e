"""Hostile and odd BibTeX: real-world files load, what cannot load is refused cleanly, and
nothing vanishes silently.

The count check used throughout: every entry of the file (found by an independent scan, not
by the parser under test) is either stored or named in a reported problem, so
entries stored + entries reported = entries in the file. (The error classes of one entry at a
time are tested in tests/test_load_bibtex.py; these are whole-file and extreme inputs.)
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import TESTDATA, shared_path, snapshot

from ivcdb.db import Database
from ivcdb.errors import DatabaseError, LoadRefused
from ivcdb.loaders import Sources, load
from ivcdb.loaders.files import read_legacy_text
from ivcdb.models import Author, Reference
from ivcdb.report import Code, LoadReport
from ivcdb.text import key_fold

# BibTeX starts an entry at any `@`; a leading `%` does not comment it out for bibtexparser.
_ENTRY = re.compile(r"^[ \t%]*@[ \t]*([A-Za-z]+)[ \t]*[{(]([^,\n]*)", re.MULTILINE)
_NOT_ENTRIES = {"string", "comment", "preamble"}
MANAGERS = TESTDATA / "reliability"


@dataclass
class Account:
    entries: int
    stored: int
    reported: int
    vanished: list[str]


def file_entries(path: Path) -> list[tuple[int, str]]:
    """(line, key) of each entry, by a regular expression independent of the loader."""
    # decoded as the loader decodes (UTF-8, else the declared encoding or Windows-1252)
    text = read_legacy_text(path)[0] or path.read_bytes().decode("utf-8", errors="replace")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2).strip())
            for m in _ENTRY.finditer(text) if m.group(1).lower() not in _NOT_ENTRIES]


def stored_keys(database: Database, source: str) -> set[str]:
    t = Reference.__table__
    with database.engine.connect() as conn:
        return set(conn.execute(sa.select(t.c.citekey_norm).where(t.c.source == source))
                   .scalars())


def account(database: Database, path: Path, report: LoadReport) -> Account:
    """Sort every entry of `path` into stored / reported; anything else vanished."""
    stored = stored_keys(database, str(path.resolve()))
    keys = {key_fold(p.key) for p in report.problems if p.key}
    lines = {p.line for p in report.problems}
    whole_file = any(p.code in (Code.ENCODING, Code.EMPTY) and p.is_error
                     for p in report.problems)
    result = Account(0, 0, 0, [])
    for line, key in file_entries(path):
        result.entries += 1
        if key_fold(key) in stored:
            result.stored += 1
        elif whole_file or key_fold(key) in keys or line in lines:
            result.reported += 1
        else:
            result.vanished.append(f"{path.name}:{line}:{key}")
    assert len(stored) <= result.stored  # no stored row that is not an entry of the file
    return result


def load_accounted(database: Database, path: Path) -> tuple[Account, LoadReport]:
    """Strict load (loads, or is refused with nothing written), then a skip-invalid load whose
    every entry must be accounted for."""
    before = snapshot(database)
    try:
        load(database, Sources(references=path))
    except LoadRefused as refused:
        assert refused.problems and any(p.is_error for p in refused.problems)
        assert snapshot(database) == before
    (report,) = load(database, Sources(references=path), skip_invalid=True)
    result = account(database, path, report)
    assert not result.vanished, f"entries neither stored nor reported: {result.vanished}"
    assert result.stored + result.reported == result.entries
    return result, report


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def entry(key: str, *, title: str = "A title", extra: str = "", kind: str = "article") -> str:
    return (f"@{kind}{{{key},\n  author = {{Roe, Ann and Doe, Bo}},\n  title = {{{title}}},\n"
            f"  journal = {{J}},\n  year = {{2001}},{extra}\n}}\n")


# --- real-world files -------------------------------------------------------------------------


def test_biber_test_files_load_or_are_refused_cleanly(db: Database) -> None:
    """biber's 50 test files (odd names, encodings, crossrefs, sets): none raises, none loses
    an entry silently."""
    folder = shared_path("corpora", "biber-tdata")
    totals = Account(0, 0, 0, [])
    files = sorted(folder.glob("*.bib"))
    assert len(files) >= 45
    for path in files:
        result, _ = load_accounted(db, path)
        totals.entries += result.entries
        totals.stored += result.stored
        totals.reported += result.reported
    assert totals.stored > 400 and totals.entries == totals.stored + totals.reported


def test_biber_test_files_are_refused_only_for_real_errors(db: Database) -> None:
    """BibTeX as the world writes it loads: an entry without a title or a value using an
    undefined @string macro is a warning (BibTeX warns too). What is refused is refused for a
    syntax error or a citekey used twice, with the line; a file in Latin-1, -2 or -9 loads
    in the encoding it declares, with a warning; `% comments` between fields are comments."""
    refused: dict[str, set[Code]] = {}
    for path in sorted(shared_path("corpora", "biber-tdata").glob("*.bib")):
        try:
            load(db, Sources(references=path), dry_run=True)
        except LoadRefused as refusal:
            errors = [p for p in refusal.problems if p.is_error]
            assert all(p.line for p in errors), path
            refused[path.name] = {p.code for p in errors}
    assert set().union(*refused.values()) <= {Code.PARSE, Code.DUPLICATE_KEY, Code.ENCODING}
    assert len(refused) <= 2, sorted(refused)  # 30 of the 50 were refused before, then 6


@pytest.mark.parametrize("name, keys", [
    pytest.param("zotero_bbt.bib", 3, id="zotero-better-bibtex"),
    pytest.param("jabref.bib", 2, id="jabref"),
    pytest.param("mendeley.bib", 2, id="mendeley"),
])
def test_reference_manager_exports_load(db: Database, name: str, keys: int) -> None:
    """Exports in the style of Zotero/Better BibTeX, JabRef and Mendeley load without error."""
    path = MANAGERS / name
    (report,) = load(db, Sources(references=path))
    assert report.added == keys and not report.errors
    result = account(db, path, report)
    assert (result.entries, result.stored) == (keys, keys)


def test_reference_manager_values_decoded(db: Database) -> None:
    load(db, Sources(references=MANAGERS / "mendeley.bib"))
    load(db, Sources(references=MANAGERS / "zotero_bbt.bib"))
    t, a = Reference.__table__, Author.__table__
    with db.engine.connect() as conn:
        titles = dict(conn.execute(sa.select(t.c.citekey, t.c.title)).all())
        families = conn.execute(sa.select(a.c.family).join(t, t.c.id == a.c.reference_id)
                                .where(t.c.citekey == "Example2017")
                                .order_by(a.c.position)).scalars().all()
        journal = conn.execute(sa.select(t.c.journal).where(
            t.c.citekey == "exampleSurgicalOutcomes2019")).scalar_one()
    assert titles["Sample2016"] == "Web page with & ampersand"
    assert titles["simekBuchUberArzte2015"] == "Ein Buch über Ärzte und Œuvres"
    assert families == ["Example", "Étude", "Müller"]
    assert journal == "Journal of Examples"  # biblatex journaltitle


# --- odd but valid ----------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_thousands_of_blank_lines(db: Database, tmp_path: Path, newline: str) -> None:
    """10,000 blank lines around and between entries; an error after them has its real line."""
    blank = newline * 10_000
    text = blank + entry("blank1") + blank + entry("blank2") + blank + "@article{broken,\n"
    path = write(tmp_path / "blank.bib", text.replace("\n", newline) if newline != "\n"
                 else text)
    result, report = load_accounted(db, path)
    assert (result.stored, result.reported) == (2, 1)
    (error,) = report.errors
    assert error.code is Code.PARSE and error.line == 3 * 10_000 + 2 * 6 + 1


def test_parenthesised_entries(db: Database, tmp_path: Path) -> None:
    """`@article(key, ...)` is the same entry as `@article{key, ...}`."""
    braces = entry("braces", title="Same {DNA} entry")
    parens = (braces.replace("@article{braces,", "@article(parens,")[:-2] + ")\n")
    spaced = parens.replace("@article(parens,", "@ARTICLE ( spaced ,")
    path = write(tmp_path / "parens.bib", braces + parens + spaced)
    result, _ = load_accounted(db, path)
    assert result.stored == 3
    t = Reference.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.entry_type, t.c.title, t.c.raw_fields, t.c.journal)
                            .order_by(t.c.citekey)).all()
    assert len(set(rows)) == 1


def test_comments_between_fields_are_read_as_biber_reads_them(db: Database,
                                                                tmp_path: Path) -> None:
    """`% ...` after a field (biber's test files write them, commas and all) is a comment;
    a `%` inside a braced or quoted value is text. The comma in the comment once made the
    entry a syntax error (bibtexparser read it as the next field)."""
    text = ("% a file comment, with a comma\n"
            "@book{c1,\n  author = {Smith, Ann and Roe, Bo}, % picks all names, no position\n"
            '  title = {50\\% of {DNA}},   % a comment, then\n  note = "10 % more, really",\n'
            "  year = {2001}\n}\n"
            "@book{c2,\n  title = {Second}, year = {2002}}\n")
    path = write(tmp_path / "comments.bib", text)
    result, report = load_accounted(db, path)
    assert result.stored == 2 and not [p for p in report.problems if p.is_error]
    t = Reference.__table__
    with db.engine.connect() as conn:
        title, raw = conn.execute(sa.select(t.c.title, t.c.raw_fields)
                                  .where(t.c.citekey == "c1")).one()
    fields = json.loads(raw)
    assert (title, fields["note"], fields["author"]) == ("50% of DNA", "10 % more, really",
                                                          "Smith, Ann and Roe, Bo")


def test_hash_concatenation_and_macros(db: Database, tmp_path: Path) -> None:
    text = ('@string{jn = "Journal"}\n@string{full = jn # " of " # {Odd Inputs}}\n'
            '@article{hash1, author = {Roe, Ann}, title = {Part} # { one} # " and " # {two},'
            ' journal = full # {, Series B}, year = 2001, month = feb}\n')
    path = write(tmp_path / "hash.bib", text)
    load_accounted(db, path)
    t = Reference.__table__
    with db.engine.connect() as conn:
        title, journal, raw = conn.execute(sa.select(t.c.title, t.c.journal, t.c.raw_fields)
                                           .where(t.c.citekey == "hash1")).one()
    assert title == "Part one and two"
    assert journal == "Journal of Odd Inputs, Series B"
    assert '"month": "feb"' in raw  # as written: exported `month = feb`, not `{2}`


@pytest.mark.parametrize("key", ["doi:10.1000/182", "a/b:c", "Smith:2001:ab/cd",
                                 "key with space", "ünïcödé-key"])
def test_odd_citekeys(db: Database, tmp_path: Path, key: str) -> None:
    """Keys with `/`, `:` and spaces are stored exactly, or refused cleanly -- never lost."""
    path = write(tmp_path / "keys.bib", entry(key) + entry("plain-neighbour"))
    result, _ = load_accounted(db, path)
    assert result.entries == 2
    if key_fold(key) in stored_keys(db, path.name):
        t = Reference.__table__
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(t.c.citekey).where(
                t.c.citekey_norm == key_fold(key))).scalar_one() == unicodedata.normalize(
                    "NFC", key)


@pytest.mark.parametrize("text, where", [
    pytest.param(entry("nul", title="a\x00b"), "title", id="nul-in-title"),
    pytest.param(entry("ctl", extra="\n  note = {bell\x07}"), "note", id="bell-in-note"),
    pytest.param(entry("esc").replace("Roe, Ann", "Roe\x1b, Ann"), "author", id="esc-in-author"),
    pytest.param(entry("del\x7fkey"), "key", id="del-in-citekey"),
    pytest.param('@string{m = "x\x00y"}\n' + entry("macro", extra="\n  series = m"), "macro",
                 id="nul-via-macro"),
])
def test_control_characters_are_refused_on_both_engines(db: Database, tmp_path: Path,
                                                        text: str, where: str) -> None:
    """The loader refuses them before the database sees them (PostgreSQL rejects NUL itself,
    with a less helpful message); nothing is written."""
    path = write(tmp_path / "ctl.bib", text + entry("clean-neighbour"))
    before = snapshot(db)
    with pytest.raises(LoadRefused) as refused:
        load(db, Sources(references=path))
    assert snapshot(db) == before
    assert any(p.code in (Code.CONTROL_CHAR, Code.BAD_VALUE) for p in refused.value.problems), where
    result, _ = load_accounted(db, path)
    assert (result.stored, result.reported) == (1, 1)


def test_tab_and_newlines_inside_fields_are_fine(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "ws.bib", entry("ws", title="multi\n   line\ttitle"))
    (report,) = load(db, Sources(references=path))
    assert report.added == 1


def test_nfc_and_nfd_forms_of_one_name_are_stored_once_as_nfc(db: Database,
                                                              tmp_path: Path) -> None:
    """Müller typed composed and decomposed: one NFC spelling in every stored column; the same
    citekey in NFD in a later file updates the NFC one instead of adding a second."""
    nfc_name = unicodedata.normalize("NFC", "Müller, Zoë")
    nfd_name = unicodedata.normalize("NFD", nfc_name)
    assert nfc_name != nfd_name
    first = entry("forms1").replace("Roe, Ann", nfc_name)
    second = entry("forms2", title=unicodedata.normalize("NFD", "Études")).replace(
        "Roe, Ann", nfd_name)
    path = write(tmp_path / "forms.bib", first + second)
    load(db, Sources(references=path))
    a, t = Author.__table__, Reference.__table__
    with db.engine.connect() as conn:
        names = conn.execute(sa.select(a.c.family, a.c.given, a.c.name_norm)
                             .where(a.c.position == 1)).all()
        title = conn.execute(sa.select(t.c.title).where(t.c.citekey == "forms2")).scalar_one()
    assert len(set(names)) == 1
    assert names[0][:2] == ("Müller", "Zoë") and unicodedata.is_normalized("NFC", names[0][0])
    assert title == "Études" and unicodedata.is_normalized("NFC", title)
    nfd_key = unicodedata.normalize("NFD", "clé2020")
    load(db, Sources(references=write(tmp_path / "k1.bib", entry("clé2020"))))
    k2 = write(tmp_path / "k2.bib", entry(nfd_key))
    (again,) = load(db, Sources(references=k2))
    # The same work (same NFC key and content) from another file: unchanged, now from k2.bib.
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    assert stored_keys(db, str(k2.resolve())) == {key_fold("clé2020")}


# --- extreme sizes ----------------------------------------------------------------------------


def test_five_megabyte_field(db: Database, tmp_path: Path) -> None:
    """A 5 MB abstract (with multi-byte text) is stored whole on both engines."""
    chunk = "Résumé of a very long abstract, 5 % of it accents: é ü ß — and so on. "
    body = (chunk * (5 * 1024 * 1024 // len(chunk.encode()) + 1))
    path = write(tmp_path / "big.bib", entry("huge", extra=f"\n  abstract = {{{body}}}"))
    assert path.stat().st_size > 5 * 1024 * 1024
    (report,) = load(db, Sources(references=path))
    assert report.added == 1
    t = Reference.__table__
    with db.engine.connect() as conn:
        raw = conn.execute(sa.select(t.c.raw_fields).where(t.c.citekey == "huge")).scalar_one()
    import json

    assert json.loads(raw)["abstract"] == body


@pytest.mark.parametrize("depth", [10, 1000, 5000])
def test_deeply_nested_braces(db: Database, tmp_path: Path, depth: int) -> None:
    title = "{" * depth + "Deep" + "}" * depth
    path = write(tmp_path / "deep.bib", entry("deep", title=title) + entry("shallow"))
    result, _ = load_accounted(db, path)
    assert result.stored == 2


def test_deeply_nested_latex_commands_are_refused_cleanly(db: Database, tmp_path: Path) -> None:
    """2,000 nested `\\textbf{` exceed what the LaTeX decoder can recurse into: the entry is
    refused with a message (it used to escape as RecursionError), its neighbour loads."""
    title = "\\textbf{" * 2000 + "x" + "}" * 2000
    path = write(tmp_path / "deep.bib", entry("latexdeep", title=title) + entry("fine"))
    with pytest.raises(LoadRefused) as refused:
        load(db, Sources(references=path))
    assert [p.code for p in refused.value.problems if p.is_error] == [Code.PARSE]
    result, _ = load_accounted(db, path)
    assert (result.stored, result.reported) == (1, 1)


@pytest.mark.parametrize("title", ["On \\title", "\\author", "x \\date"])
def test_latex_command_without_argument_is_refused_cleanly(db: Database, tmp_path: Path,
                                                          title: str) -> None:
    """pylatexenc raises AttributeError on `\\title` with no argument (found by the fuzzer):
    the entry is refused with a message, its neighbour loads."""
    path = write(tmp_path / "macro.bib", entry("macro", title=title) + entry("fine"))
    with pytest.raises(LoadRefused) as refused:
        load(db, Sources(references=path))
    assert [p.code for p in refused.value.problems if p.is_error] == [Code.PARSE]
    result, _ = load_accounted(db, path)
    assert (result.stored, result.reported) == (1, 1)


def test_document_macros_keep_no_state_and_no_date(db: Database, tmp_path: Path) -> None:
    """`\\title{...}` in one entry must not leak into `\\maketitle` of the next, and no value
    may depend on the day it is loaded (pylatexenc prints today's date there)."""
    first = entry("state1", title="\\title{Secret} Alpha")
    second = entry("state2", title="\\maketitle Beta")
    path = write(tmp_path / "state.bib", first + second)
    load(db, Sources(references=path))
    t = Reference.__table__
    with db.engine.connect() as conn:
        titles = dict(conn.execute(sa.select(t.c.citekey, t.c.title)).all())
    assert titles == {"state1": "Secret Alpha", "state2": "Beta"}


def test_mixed_bag_accounts_for_every_entry(db: Database, tmp_path: Path) -> None:
    """Good, duplicate, unparsable, titleless, control-character, @set and @comment blocks in
    one file: every entry is stored or reported."""
    text = "".join([
        "@comment{ignored}\n@preamble{\"\\newcommand{\\x}{y}\"}\n",
        entry("good1"), entry("dup"), entry("dup"), "@article{broken, title = {oops\n\n",
        entry("good2"), "@article{notitle, author = {A, B}, year = 2000}\n",
        entry("ctl", title="bad\x01"), "@set{aset, entryset = {good1,good2}}\n",
        entry("good3", kind="INPROCEEDINGS"),
    ])
    path = write(tmp_path / "mixed.bib", text)
    result, report = load_accounted(db, path)
    assert result.entries == 9 and result.stored >= 3
    assert report.errors


def test_not_a_database_error_on_postgresql_for_refused_text(db: Database,
                                                             tmp_path: Path) -> None:
    """Refusals are the loader's, with file and line: never a raw database error."""
    path = write(tmp_path / "nul.bib", entry("nul", title="\x00"))
    with pytest.raises(LoadRefused) as refused:
        load(db, Sources(references=path))
    assert not isinstance(refused.value, DatabaseError)
    assert refused.value.problems[0].line == 3  # the title's line
