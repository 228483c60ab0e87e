"""Output formats: one registry per output family, format name -> renderer (and the export
kinds: kind name -> the function building its table).

The CLI's `--format` choices, the dispatch in the library and the docs test all read these
tables, so a format is added in one place. A renderer is named `module:function` and imported
only when it is used: the CLI builds its choices from here without importing pandas,
SQLAlchemy or matplotlib (`ivcdb --help` stays fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivcdb.errors import UsageError

__all__ = ["CHART", "CITATION", "COMPARISON", "CSL_STYLE", "EVIDENCE_TABLE", "EXPORT",
           "EXPORT_KIND", "POOL", "REFERENCE_FILES", "REFERENCE_LIST", "ROWS", "Renderer",
           "SOURCE_CHECK", "STUDY_TABLE", "SUMMARY", "TABULAR", "renderer"]


@dataclass(frozen=True, slots=True)
class Renderer:
    """One output format (or export kind): its name and the function that writes (builds)
    it, as `module:function`."""

    name: str
    target: str
    binary: bool = False  # bytes a terminal cannot show: written to a file only

    def load(self) -> Callable[..., Any]:
        """The renderer function (its module imported now)."""
        module, _, function = self.target.partition(":")
        found: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return found


def _family(*binary: str, **targets: str) -> dict[str, Renderer]:
    return {name: Renderer(name, target, name in binary) for name, target in targets.items()}


# Rows on stdout (`query`, `show`, the `build` summary): rows, columns, title -> printed.
ROWS = _family(table="ivcdb.render:rich_rows", csv="ivcdb.render:csv_rows",
               json="ivcdb.render:json_rows")
# `ivcdb verify`: checks, config -> printed.
SOURCE_CHECK = _family(table="ivcdb.render:checks_table", csv="ivcdb.render:checks_csv",
                       json="ivcdb.render:checks_json",
                       markdown="ivcdb.render:checks_markdown")
# `ivcdb compare`: comparison -> printed.
COMPARISON = _family(table="ivcdb.render:comparison_table", csv="ivcdb.render:comparison_csv",
                     json="ivcdb.render:comparison_json",
                     markdown="ivcdb.render:comparison_markdown")
# `ivcdb pool`: a pooled outcome -> printed.
POOL = _family(table="ivcdb.render:pool_table", json="ivcdb.render:pool_json",
               csv="ivcdb.render:pool_csv")
# `ivcdb refs` in the article's style: references -> text (a Word document: bytes).
REFERENCE_LIST = _family("docx", markdown="ivcdb.exports.reflist:to_markdown",
                         text="ivcdb.exports.reflist:to_text",
                         html="ivcdb.exports.reflist:to_html",
                         latex="ivcdb.exports.reflist:to_latex",
                         docx="ivcdb.exports.word:reflist_docx")
# `ivcdb refs --style`: references, style -> text.
CSL_STYLE = _family(text="ivcdb.exports.csl:to_text", html="ivcdb.exports.csl:to_html")
# `ivcdb table`: evidence table -> text (a Word document: bytes).
EVIDENCE_TABLE = _family("docx", markdown="ivcdb.exports.tables:to_markdown",
                         html="ivcdb.exports.tables:to_html",
                         latex="ivcdb.exports.tables:to_latex",
                         csv="ivcdb.exports.tables:to_csv",
                         docx="ivcdb.exports.word:to_docx")
# `ivcdb table --cite`: how a cell cites its references, (number, citekey) pairs -> text.
CITATION = _family(number="ivcdb.exports.tables:cite_numbers",
                   latex="ivcdb.exports.latex:cite",
                   pandoc="ivcdb.exports.tables:cite_pandoc")
# `ivcdb summary`: the summary of findings -> text.
SUMMARY = _family(markdown="ivcdb.exports.summary:summary_markdown",
                  html="ivcdb.exports.summary:summary_html",
                  csv="ivcdb.exports.summary:summary_csv",
                  latex="ivcdb.exports.summary:summary_latex")
# `ivcdb table OUTCOME --studies`: one outcome's studies -> text.
STUDY_TABLE = _family(markdown="ivcdb.exports.summary:studies_markdown",
                      html="ivcdb.exports.summary:studies_html",
                      latex="ivcdb.exports.summary:studies_latex",
                      csv="ivcdb.exports.summary:studies_csv")
# `ivcdb export`: a tidy table -> bytes; the references as a bibliographic file -> text.
TABULAR = _family("parquet", "xlsx", csv="ivcdb.exports.tabular:to_csv",
                  json="ivcdb.exports.tabular:to_json",
                  parquet="ivcdb.exports.tabular:to_parquet",
                  xlsx="ivcdb.exports.xlsx:to_xlsx")
REFERENCE_FILES = _family(bibtex="ivcdb.exports.bibtex:render",
                          csljson="ivcdb.exports.csl:to_json",
                          ris="ivcdb.exports.ris:render")
EXPORT = {**TABULAR, **REFERENCE_FILES}
# `ivcdb export KIND`: the tidy tables, kind -> its rows (session, kind, review, long -> Table).
EXPORT_KIND = _family(claims="ivcdb.exports.tabular:claims_table",
                      references="ivcdb.exports.tabular:references_table",
                      citations="ivcdb.exports.tabular:citations_table",
                      outcomes="ivcdb.exports.tabular:vocabulary_table",
                      findings="ivcdb.exports.tabular:findings_table",
                      effects="ivcdb.exports.tabular:effects_table",
                      units="ivcdb.exports.tabular:vocabulary_table",
                      measures="ivcdb.exports.tabular:vocabulary_table")
# `ivcdb plot`, chosen by the file's suffix: figure -> bytes.
CHART = _family("png", "pdf", png="ivcdb.plots:to_png", svg="ivcdb.plots:to_svg",
                pdf="ivcdb.plots:to_pdf")


def renderer(family: Mapping[str, Renderer], fmt: str, *,
             what: str = "format") -> Callable[..., Any]:
    """The renderer of `fmt` in `family`; an unknown name is a usage error naming the
    choices."""
    found = family.get(fmt)
    if found is None:
        raise UsageError(f"unknown {what} {fmt!r}; choose one of {', '.join(family)}")
    return found.load()
