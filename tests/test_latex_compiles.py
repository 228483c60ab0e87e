"""The LaTeX outputs compile as they are, and fit: pdflatex runs them in an A4 10 pt `article`
with only booktabs, tabularx, longtable and array, and the log must show no error and no
overfull box wider than 1 pt.

Without pdflatex (Debian's texlive-latex-recommended) these tests skip, except under CI=true,
where `.ci/run` installs it and its absence is a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import IN_CI, TESTDATA

from ivcdb import queries
from ivcdb.db import Database
from ivcdb.exports import evidence_table, latex, reference_list, reflist, tables
from ivcdb.loaders import Sources, load

PREAMBLE = r"""\documentclass[a4paper,10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{booktabs,tabularx,longtable,array}
\begin{document}
"""
OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", re.M)
UNDEFINED_CITATION = re.compile(r"Citation `([^']*)' .*undefined")
# The Unicode blocks pylatexenc has LaTeX for: every character of them must compile.
BLOCKS = [(0x00A0, 0x0250), (0x0250, 0x0370), (0x0370, 0x0400), (0x2000, 0x2070),
          (0x2070, 0x20C0), (0x2100, 0x2300), (0x2460, 0x2500), (0xFB00, 0xFB07)]


@pytest.fixture
def pdflatex() -> str:
    found = shutil.which("pdflatex")
    if found is None:
        message = "pdflatex missing (apt-get install texlive-latex-recommended)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return found


def compile_latex(pdflatex: str, body: str, folder: Path, *, runs: int = 1) -> str:
    """Compile `body` in the test document; the log of the last run (fails on an error)."""
    (folder / "doc.tex").write_text(PREAMBLE + body + "\n\\end{document}\n", encoding="utf-8")
    for _ in range(runs):
        done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                               "doc.tex"], cwd=folder, capture_output=True, timeout=600,
                              check=False)
    log = (folder / "doc.log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert done.returncode == 0 and not errors, errors or log[-3000:]
    return log


def overfull(log: str) -> list[float]:
    """How much wider than their box the overfull lines are, in points."""
    return [float(width) for width in OVERFULL.findall(log)]


def pages(log: str) -> int:
    found = re.search(r"Output written on doc\.pdf \((\d+) pages?", log)
    assert found, "no PDF written"
    return int(found.group(1))


def test_every_evidence_table_and_the_reference_list_fit(pdflatex: str, built: Database,
                                                         tmp_path: Path) -> None:
    """Every claim of the curated data (one table per outcome), cited with `\\cite`, and the
    reference list its keys point into: no overfull box, every citation resolved."""
    with built.session() as session:
        outcomes = [row.code for row in queries.list_outcomes(session)]
    body = "\n".join(evidence_table(built, code, fmt="latex", cite="latex")
                     for code in outcomes)
    refs = reference_list(built, fmt="latex")
    log = compile_latex(pdflatex, body + "\n" + refs, tmp_path, runs=2)
    assert [w for w in overfull(log) if w > 1] == []
    assert UNDEFINED_CITATION.findall(log) == []
    assert body.count(r"\begin{longtable}") == len(outcomes) > 30
    assert refs.count(r"\bibitem{") == 18


def test_numbered_tables_fit(pdflatex: str, built: Database, tmp_path: Path) -> None:
    body = "\n".join(evidence_table(built, code, fmt="latex")
                     for code in ("overall_survival_5y", "immunohistochemistry_marker",
                                  "chemotherapy_regimen", "tumour_size_ct"))
    log = compile_latex(pdflatex, body, tmp_path)
    assert [w for w in overfull(log) if w > 1] == []


WORDS = ("Immunohistochemistry intraoperative anthracycline-based chemotherapy-associated "
         "postoperatively "
         "retroperitoneal leiomyosarcoma thrombo\u00adembolism \u2264 \u2265 \u2248 \u00b1 "
         "\u00d7 \u00b5g \u2013 \u2014 & % $ # _ { } ~ ^ \\ [3] *").split()


def _synthetic(n: int) -> tables.EvidenceTable:
    """`n` claims of varied length, every column holding long and compound words and every
    character a cell must survive."""
    def words(i: int, count: int) -> str:
        return " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(count))

    rows = [tables.EvidenceRow(f"c{i}", (words(i, 3 + i % 17),
                                         f"{words(i + 1, 1)} {i}\u2013{i + 9}%",
                                         words(i + 2, 1 + i % 3), words(i + 3, 2 + i % 5)),
                               [i % 40 + 1, i % 40 + 2], [i % 5 + 1] if i % 10 == 0 else [])
            for i in range(n)]
    return tables.EvidenceTable("synthetic", "A long table: 300 claims", rows)


def test_a_long_table_breaks_across_pages(pdflatex: str, tmp_path: Path) -> None:
    """longtable pages the table (the header repeats with `\\endhead`); nothing sticks out."""
    fragment = tables.to_latex(_synthetic(300))
    assert fragment.count(r"\\" + "\n") >= 300 and r"\endhead" in fragment
    log = compile_latex(pdflatex, fragment, tmp_path)
    assert pages(log) >= 10
    assert [w for w in overfull(log) if w > 1] == []


def test_every_character_pylatexenc_knows_compiles(pdflatex: str, tmp_path: Path) -> None:
    """`latex.escape` writes nothing that needs a package the fragment does not name."""
    chars = [chr(cp) for start, end in BLOCKS for cp in range(start, end)
             if unicodedata.category(chr(cp)) not in ("Cn", "Cs", "Co")]
    body = "\n".join(f"{ord(ch):04X}: {latex.escape(ch)}\\par" for ch in chars)
    log = compile_latex(pdflatex, body, tmp_path)
    assert pages(log) > 5


def test_hostile_text_compiles(pdflatex: str, tmp_path: Path) -> None:
    text = "\\input{/etc/passwd} \\def\\x{1} $x^2$ 100% a_b #1 {~} \u4e2d\u6587 \U0001f600"
    fragment = latex.table_fragment([latex.Column("Text", 1.0)], [[latex.escape(text)]],
                                    caption=latex.escape(text))
    log = compile_latex(pdflatex, fragment, tmp_path)
    assert overfull(log) == []


LONG_URL_ENTRY = """
@online{longurl2024,
  author = {{Made-up Sarcoma Guideline Group}},
  title = {A Page with a Long Address},
  url = {https://guidelines.example.org/softtissuesarcoma/retroperitoneal_caval_leiomyosarcoma/recommendations2024final?section=surgery&format=long#reconstruction},
  year = {2024}
}
"""


def test_every_entry_type_in_the_reference_list_fits(pdflatex: str, db: Database,
                                                     tmp_path: Path) -> None:
    """Books, chapters, theses, reports, web pages and data sets, and a URL longer than the
    line: no overfull line."""
    bib = tmp_path / "types.bib"
    bib.write_text((TESTDATA / "entry_types.bib").read_text(encoding="utf-8") + LONG_URL_ENTRY,
                   encoding="utf-8")
    load(db, Sources(references=bib))
    with db.session() as session:
        refs = list(queries.export_references(session, review_id=None))
    text = reflist.to_latex(refs)
    assert text.count(r"\bibitem{") == 16
    log = compile_latex(pdflatex, text, tmp_path)
    assert [w for w in overfull(log) if w > 1] == []
