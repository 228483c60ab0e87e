"""The numbered reference list: the article's exact Markdown, and safe HTML and LaTeX."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import TESTDATA, shared_path

from ivcdb import formats, queries
from ivcdb.db import Database
from ivcdb.exports import reference_list, reflist
from ivcdb.queries import ExportAuthor, ExportReference

GOLDEN = TESTDATA / "reflist_li2025.md"


def test_markdown_list_equals_the_article_line_for_line(shared_built: Database) -> None:
    produced = reference_list(shared_built, fmt="markdown").splitlines()
    expected = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert len(produced) == 18
    for number, (got, want) in enumerate(zip(produced, expected, strict=True), 1):
        assert got == want, f"reference [{number}] differs"


def test_golden_file_is_the_articles_list() -> None:
    """The golden file holds the article's lines verbatim (guards against editing it to fit)."""
    article = Path(shared_path("seed", "000_e36ede5dcd6b0e19.txt")).read_text(encoding="utf-8")
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        assert line in article.splitlines()


def _ref(**changes: object) -> ExportReference:
    base = ExportReference(
        number=1, key="k2020", entry_type="article",
        authors=tuple(ExportAuthor(f, g, "", "") for f, g in
                      (("Nayyar", "R"), ("Panda", "S"), ("Saini", "A"))),
        et_al=False, year=2020, year_text="2020", title="A Title", journal="Journal",
        volume="26", issue="3", pages="438--440", doi=None, pmid=None, study_design=None,
        sample_size=None, note=None, raw_fields="{}")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({}, "- [1] Nayyar R, Panda S, Saini A, 2020, A Title. *Journal*, 26(3): "
                 "438\u2013440.", id="three-authors-no-et-al"),
    pytest.param({"et_al": True}, "- [1] Nayyar R, Panda S, Saini A, et al., 2020, A Title. "
                 "*Journal*, 26(3): 438\u2013440.", id="and-others"),
    pytest.param({"title": "Should It?", "issue": None, "pages": "245-251"},
                 "- [1] Nayyar R, Panda S, Saini A, 2020, Should It? *Journal*, 26: "
                 "245\u2013251.", id="question-mark-no-issue"),
    pytest.param({"title": "Done.", "volume": None, "issue": None, "pages": None},
                 "- [1] Nayyar R, Panda S, Saini A, 2020, Done. *Journal*.", id="no-locator"),
])
def test_entry_details(changes: dict[str, object], expected: str) -> None:
    assert reflist.render([_ref(**changes)], "markdown") == expected + "\n"


def test_more_than_three_authors_take_et_al() -> None:
    four = (*_ref().authors, ExportAuthor("Doe", "Jane Ann", "", ""))
    assert reflist.author_list(_ref(authors=four)) == "Nayyar R, Panda S, Saini A, et al."


NASTY = "<script>alert(1)</script> & 50% of a_b {x} \\ y"


def test_html_escapes_markup() -> None:
    out = reflist.render([_ref(title=NASTY, journal="J & <b>")], "html")
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 50% of a_b {x} \\ y." in out
    assert "<i>J &amp; &lt;b&gt;</i>" in out


def test_latex_escapes_specials() -> None:
    out = reflist.render([_ref(title=NASTY, key="a_b")], "latex")
    assert (r"\&" in out and r"50\%" in out and r"a\_b" in out and r"\{x\}" in out
            and r"\textbackslash{}" in out)
    assert r"\bibitem{ref1}" in out  # an unsafe citekey is not used as a label
    assert "438--440" in out
    body = out.replace(r"\&", "").replace(r"\%", "").replace(r"\_", "")
    assert "&" not in body and "%" not in body and "_" not in body


def test_all_formats_list_every_cited_reference(shared_built: Database) -> None:
    with shared_built.session() as session:
        keys = [r.key for r in queries.export_references(session, review_id=1, cited_only=True)]
    assert len(keys) == 18
    for fmt in (f for f, r in formats.REFERENCE_LIST.items() if not r.binary):  # docx: its test
        out = reference_list(shared_built, fmt=fmt)
        assert "Kobayashi H, Iwata S, Wakamatsu T, et al., 2020" in out
    assert reference_list(shared_built, fmt="latex").count(r"\bibitem{") == 18
    assert reference_list(shared_built, fmt="html").count("<li ") == 18
