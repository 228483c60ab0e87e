"""Exports: print-ready reference lists and evidence tables for authors, tidy tables and
bibliographic files for analysts. One module per format or concern:

- `reflist`: the numbered reference list (Markdown, text, HTML, LaTeX) in the article's style;
- `csl`: CSL-JSON items, and any CSL style through citeproc-py;
- `tables`: the evidence table of one outcome;
- `tabular`: claims, references, citations, vocabularies, findings as CSV / JSON / Parquet;
- `bibtex`, `ris`: bibliographic files;
- `files`: atomic, overwrite-safe writing.

The functions below are what the CLI and the scripts call.
"""

from __future__ import annotations

import os
from pathlib import Path

from ivcdb import formats, queries
from ivcdb.db import Database
from ivcdb.errors import NotFound, UsageError
from ivcdb.exports import tables, tabular
from ivcdb.exports.files import safe_target, write_atomic

REFERENCE_FILE_FORMATS = tuple(formats.REFERENCE_FILES)
EXPORT_FORMATS = tuple(formats.EXPORT)
FOLDER_FILES = (
    ("claims.csv", "claims", False), ("long_claims.csv", "claims", True),
    ("references.csv", "references", False), ("citations.csv", "citations", False),
    ("outcomes.csv", "outcomes", False), ("units.csv", "units", False),
    ("measures.csv", "measures", False), ("findings.csv", "findings", False),
)

__all__ = ["reference_list", "evidence_table", "export", "export_folder", "EXPORT_FORMATS"]


def reference_list(database: Database, *, fmt: str | None = None, review: str | None = None,
                   style: str | None = None) -> str:
    """The chosen review's numbered reference list, in the article's style or a CSL style.

    `fmt` defaults to markdown, or to text with a `style`.
    """
    fmt = fmt or ("text" if style else "markdown")
    if style is not None and fmt not in formats.CSL_STYLE:
        raise UsageError(f"--style writes {' or '.join(formats.CSL_STYLE)}, not {fmt}")
    write = formats.renderer(formats.REFERENCE_LIST if style is None else formats.CSL_STYLE,
                             fmt)
    with database.session() as session:
        chosen = queries.choose_review(session, code=review)
        if chosen is None:
            raise NotFound("no review is loaded; load a review file first")
        refs = queries.export_references(session, review_id=chosen[0], cited_only=True)
    text: str = write(refs) if style is None else write(refs, style=style)
    return text


def evidence_table(database: Database, outcome: str, *, fmt: str = "markdown",
                   review: str | None = None) -> str:
    """The evidence table of one outcome (Markdown, HTML, LaTeX or CSV)."""
    write = formats.renderer(formats.EVIDENCE_TABLE, fmt)
    with database.session() as session:
        table = tables.build(session, outcome=outcome, review=review)
    text: str = write(table)
    return text


def export(database: Database, kind: str, *, fmt: str = "csv", review: str | None = None,
           long: bool = False, excel: bool = False) -> bytes:
    """One export as bytes: a table (csv/json/parquet) or, for references, bibtex/csljson/ris."""
    write = formats.renderer(formats.EXPORT, fmt)
    formats.renderer(formats.EXPORT_KIND, kind, what="export")  # an unknown kind fails first
    with database.session() as session:
        if fmt in REFERENCE_FILE_FORMATS:
            if kind != "references":
                raise UsageError(f"{fmt} is a format for references only")
            if excel or long:
                raise UsageError(f"--excel and --long do not apply to {fmt}")
            review_id = tabular.chosen_review_id(session, review)
            refs = queries.export_references(session, review_id=review_id)
            text: str = write(refs)
            return text.encode("utf-8")
        table = tabular.build(session, kind, review=review, long=long)
    return tabular.encode(table, fmt, excel=excel)


def export_folder(database: Database, folder: str | os.PathLike[str], *, fmt: str = "csv",
                  force: bool = False, excel: bool = False) -> list[Path]:
    """Every table into `folder` (claims in both forms, references also as BibTeX)."""
    target = Path(folder)
    if not target.is_dir():
        raise UsageError(f"folder {target} does not exist")
    formats.renderer(formats.TABULAR, fmt)  # an unknown format fails before any file is made
    jobs = [(name.replace(".csv", f".{fmt}"), kind, long) for name, kind, long in FOLDER_FILES]
    outputs = [(safe_target(target, name), export(database, kind, fmt=fmt, long=long,
                                                   excel=excel and fmt == "csv"))
               for name, kind, long in jobs]
    outputs.append((safe_target(target, "references.bib"),
                    export(database, "references", fmt="bibtex")))
    if not force:
        existing = [str(path) for path, _ in outputs if path.exists()]
        if existing:
            raise UsageError(f"{', '.join(existing)} exist(s); use --force to overwrite")
    return [write_atomic(path, data, force=force) for path, data in outputs]
