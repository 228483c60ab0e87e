"""Every BibTeX entry accounted for (issue 17 item 1): the spacing BibTeX accepts around `@`,
the type and the brace; each entry of a duplicated citekey reported; bounded macro expansion
and field and key sizes; a vocabulary option given twice. Each on both engines, each with the
exact result and, when refused, an unchanged database."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun, snapshot
from loadkit import find, refuse, rows, write

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.loaders.bibtex import parse_bibtex
from ivcdb.loaders.bibtex.entries import scan
from ivcdb.loaders.bibtex.values import MAX_EXPANSION, MAX_VALUE_CHARS
from ivcdb.report import Code

ENTRY = "{key}, title = {{T {key}}}, author = {{A, B}}, year = 2000}}\n"


@pytest.mark.parametrize("start", [
    pytest.param("@article{", id="plain"),
    pytest.param("@ article{", id="space-after-at"),
    pytest.param("@\tarticle {", id="tab-after-at"),
    pytest.param("@article\n{", id="newline-before-brace"),
    pytest.param("@\narticle\n\n{", id="newlines-around-type"),
    pytest.param("@ARTICLE (", id="parenthesis"),
])
def test_every_spacing_bibtex_accepts_is_read(db: Database, tmp_path: Path, start: str) -> None:
    """`@ article{o1,` and `@article⏎{o3,`: stored, with the line of the `@` and the
    following entries' lines unchanged."""
    closing = ")\n" if start.endswith("(") else "}\n"
    text = ("% text before the entries, with an @ sign\n"
            + start + ENTRY.format(key="o1")[:-2] + closing
            + "text between entries\n@comment{ignored, @article{nope, title={N}}}\n"
            + "@article{" + ENTRY.format(key="o2"))
    path = write(tmp_path / "refs.bib", text)
    (report,) = load(db, Sources(references=path))
    assert (report.read, report.added, report.skipped) == (2, 2, [])
    stored = {r["citekey"]: r["title"] for r in rows(db, "reference")}
    assert stored == {"o1": "T o1", "o2": "T o2"}
    assert [r.line for r in parse_bibtex(path).records] == [2, text.count("\n", 0, text.index(
        "@article{o2")) + 1]


def test_the_scan_counts_entries_outside_braces_only() -> None:
    text = ("@string{j = {J}}\n@preamble{{x}}\n@comment{@article{c1, title={C}}}\n"
            "@article{a1, abstract = {@book{inner, title={I}}}}\n@ misc\n(m1, title={M})\n")
    _, starts = scan(text)
    assert [(s.line, s.key) for s in starts] == [(4, "a1"), (5, "m1")]


def test_an_entry_the_parser_cannot_see_is_refused_by_line(db: Database, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Should the splitter ever miss an entry the scan finds, the load fails naming it."""
    from ivcdb.loaders import bibtex

    real = bibtex.scan

    def unrepaired(text: str) -> tuple[str, list[bibtex.EntryStart]]:
        return text, real(text)[1]  # the entry starts, but the text left unrepaired

    monkeypatch.setattr(bibtex, "scan", unrepaired)
    path = write(tmp_path / "refs.bib", "@article{" + ENTRY.format(key="o1")
                 + "@ article{" + ENTRY.format(key="o2"))
    problems = refuse(db, Sources(references=path))
    find(problems, Code.PARSE, file=path, line=2, key="o2")
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    assert (report.read, report.added, report.skipped) == (2, 1, ["o2"])


@pytest.mark.parametrize("second", ["d1", "D1"], ids=["same-key", "key-differs-in-case"])
def test_each_entry_of_a_duplicated_citekey_is_reported_and_counted(
        db: Database, tmp_path: Path, second: str) -> None:
    text = ("@article{" + ENTRY.format(key="d1") + "@article{" + ENTRY.format(key="ok")
            + "@article{" + ENTRY.format(key=second))
    path = write(tmp_path / "refs.bib", text)
    problems = refuse(db, Sources(references=path))
    find(problems, Code.DUPLICATE_KEY, file=path, line=1, key="d1")
    find(problems, Code.DUPLICATE_KEY, file=path, line=3, key=second)
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    assert (report.read, report.added) == (3, 1)
    assert sorted(report.skipped) == sorted(["d1", second])
    assert [r["citekey"] for r in rows(db, "reference")] == ["ok"]


def test_macros_that_double_each_other_stop_at_the_limit(db: Database, tmp_path: Path) -> None:
    """`b = a # a`, `c = b # b`, ...: refused naming the first macro past the limit, in
    moments and without building the text (24 levels once made a 101 MB database)."""
    names = [f"m{i}" for i in range(40)]
    lines = ['@string{m0 = "' + "x" * 64 + '"}']
    lines += [f"@string{{{b} = {a} # {a}}}" for a, b in zip(names, names[1:], strict=False)]
    first_over = next(i for i in range(40) if 64 * 2 ** i > MAX_EXPANSION)
    path = write(tmp_path / "refs.bib", "\n".join(lines) + "\n@article{big, title = "
                 + names[-1] + "}\n")
    problems = refuse(db, Sources(references=path))
    problem = find(problems, Code.BAD_VALUE, file=path, line=first_over + 1,
                   key=names[first_over])
    assert f"@string '{names[first_over]}' expands to more than" in problem.message


def test_a_field_past_the_limit_is_refused(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{long, title = {"
                 + "x" * (MAX_VALUE_CHARS + 1) + "}}\n")
    problems = refuse(db, Sources(references=path))
    find(problems, Code.BAD_VALUE, file=path, line=1, key="long")


def test_a_huge_citekey_is_refused_and_echoed_clipped(db: Database, tmp_path: Path) -> None:
    key = "k" * 1_000_000
    path = write(tmp_path / "refs.bib", "@article{" + key + ", title = {T}}\n")
    problems = refuse(db, Sources(references=path))
    (problem,) = [p for p in problems if p.is_error]
    assert problem.key == "k" * 59 + "\u2026" and problem.line == 1
    assert len(problem.format()) < 300


@pytest.mark.parametrize("option", ["--units", "--measures", "--outcomes"])
def test_a_vocabulary_option_given_twice_is_a_usage_error(cli: CliRun, db_url: str,
                                                          db: Database, tmp_path: Path,
                                                          option: str) -> None:
    before = snapshot(db)
    csv = write(tmp_path / "v.csv", "code,label\nx,X\n")
    code, _, err = cli("load", "--db", db_url, option, str(csv), option, str(csv))
    assert code == 2
    assert f"give {option} once" in err
    assert snapshot(db) == before


def test_several_reference_files_load_in_order_sharing_their_macros(
        cli: CliRun, db_url: str, db: Database, tmp_path: Path) -> None:
    """`--references a.bib --references b.bib` loads both (once only b.bib), and b.bib may
    use a macro a.bib defines."""
    a = write(tmp_path / "a.bib", "@string{jso = {J Surg Oncol}}\n@article{"
              + ENTRY.format(key="a1"))
    b = write(tmp_path / "b.bib", "@article{b1, title = {B}, author = {A, B}, year = 2000, "
              "journal = jso}\n")
    code, _, err = cli("load", "--db", db_url, "--references", str(a), "--references", str(b))
    assert code == 0, err
    stored = {r["citekey"]: r["journal"] for r in rows(db, "reference")}
    assert stored == {"a1": None, "b1": "J Surg Oncol"}



def test_an_abbreviations_file_of_macros_only_is_said_to_be_one(
        cli: CliRun, db_url: str, db: Database, tmp_path: Path) -> None:
    """The issue's `--references abbrev.bib --references papers.bib`: abbrev.bib holds only
    @string definitions; its warning says so rather than "nothing loaded from it"."""
    abbrev = write(tmp_path / "abbrev.bib", "@string{jso = {J Surg Oncol}}\n")
    papers = write(tmp_path / "papers.bib", "@article{b1, title = {B}, author = {A, B}, "
                   "year = 2000, journal = jso, month = may}\n")
    code, _, err = cli("load", "--db", db_url, "--references", str(abbrev),
                       "--references", str(papers))
    assert code == 0, err
    assert f"{abbrev}: warning [no-entries]: no BibTeX entries, only @string definitions" in err
    assert "nothing loaded from it" not in err and "undefined-macro" not in err
    assert {r["citekey"]: r["journal"] for r in rows(db, "reference")} == {"b1": "J Surg Oncol"}
    code, out, err = cli("export", "references", "--db", db_url, "--format", "bibtex")
    assert code == 0 and "  month   = may\n" in out


def test_a_macro_defined_only_in_a_later_file_is_resolved_with_a_warning(
        cli: CliRun, db_url: str, db: Database, tmp_path: Path) -> None:
    """`--references b.bib --references a.bib`, b.bib using a macro only a.bib defines: the
    files are read in order, so b.bib uses it first; it is resolved from a.bib all the same,
    with a warning at b.bib's first use. A macro no file defines keeps its name."""
    a = write(tmp_path / "a.bib", "@string{jso = {J Surg Oncol}}\n@article{"
              + ENTRY.format(key="a1"))
    b = write(tmp_path / "b.bib", "@article{b1, title = {B}, author = {A, B}, year = 2000, "
              "journal = jso}\n\n@article{b2, title = {C}, author = {A, B}, year = 2000, "
              "journal = nowhere}\n")
    code, _, err = cli("load", "--db", db_url, "--references", str(b), "--references", str(a))
    assert code == 0, err
    stored = {r["citekey"]: r["journal"] for r in rows(db, "reference")}
    assert stored == {"a1": None, "b1": "J Surg Oncol", "b2": "nowhere"}
    assert f"{b}:1: b1: warning [undefined-macro]: @string macro 'jso' is used here before " \
        "a.bib defines it" in err
    assert f"{b}:3: b2: warning [undefined-macro]: @string macro 'nowhere' is not defined" in err


def test_a_citekey_in_two_reference_files_of_one_load_is_refused(db: Database,
                                                                  tmp_path: Path) -> None:
    a = write(tmp_path / "a.bib", "@article{" + ENTRY.format(key="same"))
    b = write(tmp_path / "b.bib", "\n@article{" + ENTRY.format(key="same"))
    problems = refuse(db, Sources(references=[a, b]))
    find(problems, Code.DUPLICATE_KEY, file=b, line=2, key="same")
