"""LaTeX fragments: escaping beyond T1, citation labels, the longtable writer and `--cite`.
(tests/test_latex_compiles.py compiles them.)"""

from __future__ import annotations

import pytest
from conftest import CliRun

from ivcdb.db import Database
from ivcdb.errors import UsageError
from ivcdb.exports import evidence_table, latex, tables


@pytest.mark.parametrize(("text", "expected"), [
    ("≈ 40%", r"\ensuremath{\approx} 40\%"),
    ("≤5 ≥6 ±1 2×3", r"\ensuremath{\leq}5 \ensuremath{\geq}6 \ensuremath{\pm}1 2{\texttimes}3"),
    ("40–70 — µg", r"40--70 --- {\textmu}g"),
    ("Müller Čapek Łódź", r"Müller \v{C}apek {\L}ód\'z"),
    ("& % $ # _ { } ~ ^ \\", r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} "
                             r"\textbackslash{}"),
    ("a\nb\tc", "a b c"),
    ("中", r"\texttt{[U+4E2D]}"),  # no LaTeX for it: its code point
    ("≲", r"\texttt{[U+2272]}"),  # amssymb's \lesssim: not in the kernel
    ("ℝ", r"\texttt{[U+211D]}"),  # \mathbb needs amsfonts
], ids=["approx", "relations", "dashes-micro", "accents", "specials", "whitespace", "cjk",
        "amssymb", "mathbb"])
def test_escape(text: str, expected: str) -> None:
    assert latex.escape(text) == expected


def test_narrow_cells_let_compound_words_break() -> None:
    assert latex.escape("anthracycline-based 5-year", narrow=True) == (
        r"anthracycline\nobreak-\hspace{0pt}based 5-year")
    assert latex.escape("anthracycline-based") == "anthracycline-based"


@pytest.mark.parametrize(("key", "number", "expected"), [
    ("wachtel2015", 3, "wachtel2015"), ("a_b", 7, "ref7"), ("a b,c", None, "a-b-c"),
])
def test_bibitem_label(key: str, number: int | None, expected: str) -> None:
    assert latex.bibitem_label(key, number) == expected


def test_cite_uses_the_bibitem_labels() -> None:
    assert latex.cite([(3, "wachtel2015"), (5, "Éclair")]) == r"\cite{wachtel2015,ref5}"
    assert latex.cite([]) == ""


def test_pandoc_citations() -> None:
    assert tables.cite_pandoc([(3, "wachtel2015"), (5, "Éclair2019")]) == (
        "[@wachtel2015; @Éclair2019]")
    assert tables.cite_pandoc([(1, "odd key")]) == "[@{odd key}]"
    assert tables.cite_pandoc([(1, "ends.")]) == "[@{ends.}]"


def test_table_fragment_spans_the_line() -> None:
    columns = [latex.Column("A", 0.5), latex.Column("B", 0.3, "right"), latex.Column("C", 0.2)]
    text = latex.table_fragment(columns, [["[1] first", "2", "3"], ["*", "", ""]],
                                caption="Cap", label="tab:x")
    spec = text.splitlines()[0]
    assert spec.startswith(r"\begin{longtable}{@{}") and spec.endswith("@{}}")
    assert r"p{\dimexpr 0.5\linewidth-\tabcolsep\relax}" in spec  # an outer column
    assert r"\raggedleft\arraybackslash\hspace{0pt}}p{\dimexpr 0.3\linewidth-2\tabcolsep" in spec
    assert r"\caption{Cap}\label{tab:x}\\" in text
    assert text.count("A & B & C \\\\") == 2  # first head and the head of later pages
    assert "{}[1] first & 2 & 3 \\\\" in text and "{}* &  &  \\\\" in text
    with pytest.raises(ValueError, match="more than the line width"):
        latex.table_fragment([latex.Column("A", 0.7), latex.Column("B", 0.7)], [])


def test_evidence_table_cites_by_key(shared_built: Database) -> None:
    text = evidence_table(shared_built, "overall_survival_5y", fmt="latex", cite="latex")
    assert r"\label{tab:overall-survival-5y}" in text
    assert text.splitlines()[-2].endswith(r"& \cite{wachtel2015,nooromid2022} \\")
    markdown = evidence_table(shared_built, "overall_survival_5y", cite="pandoc")
    assert markdown.splitlines()[-1].endswith("| [@wachtel2015; @nooromid2022] |")


@pytest.mark.parametrize(("fmt", "cite"), [("html", "latex"), ("latex", "pandoc"),
                                           ("markdown", "latex"), ("csv", "pandoc")])
def test_a_citation_style_goes_with_its_format(shared_built: Database, fmt: str,
                                               cite: str) -> None:
    with pytest.raises(UsageError, match=f"--cite {cite} is for --format"):
        evidence_table(shared_built, "overall_survival_5y", fmt=fmt, cite=cite)


def test_cli_cite(cli: CliRun, shared_built: Database) -> None:
    code, out, _ = cli("table", "overall_survival_5y", "--format", "latex", "--cite", "latex",
                       "--db", shared_built.url)
    assert code == 0 and r"\cite{wachtel2015,nooromid2022}" in out
    code, out, err = cli("table", "overall_survival_5y", "--cite", "latex", "--db",
                         shared_built.url)
    assert (code, out) == (2, "") and "--cite latex is for --format latex" in err


def test_a_url_may_break_after_its_punctuation() -> None:
    assert latex.escape_url("https://example.org/a_b?c=1&d") == (
        r"https://\allowbreak{}example.\allowbreak{}org/\allowbreak{}a\_\allowbreak{}b?"
        r"\allowbreak{}c=\allowbreak{}1\&\allowbreak{}d")
