"""Exports: print-ready reference lists and evidence tables for authors, tidy tables and
bibliographic files for analysts. One module per format or concern:

- `reflist`: the numbered reference list (Markdown, text, HTML, LaTeX) in the article's style;
- `latex`: LaTeX escaping, citation labels and the table writer every LaTeX table uses;
- `csl`: CSL-JSON items, and any CSL style through citeproc-py;
- `tables`: the evidence table of one outcome;
- `tabular`: claims, references, citations, vocabularies, findings as CSV / JSON / Parquet;
- `xlsx`: those tables as an Excel workbook;
- `word`: the evidence table and the reference list as Word documents;
- `datapackage`, `reviewfile`: a folder's Frictionless `datapackage.json` and `review.toml`;
- `bibtex`, `ris`: bibliographic files;
- `files`: atomic, overwrite-safe writing.

The functions below are what the CLI and the scripts call.
"""

from __future__ import annotations

import os
from pathlib import Path

from ivcdb import formats, queries
from ivcdb.db import Database
from ivcdb.errors import NotFound, OutputExists, UsageError
from ivcdb.exports import datapackage, reviewfile, tables, tabular, xlsx
from ivcdb.exports.files import safe_target, write_atomic

REFERENCE_FILE_FORMATS = tuple(formats.REFERENCE_FILES)
EXPORT_FORMATS = tuple(formats.EXPORT)
# `export --all`: the tables of a folder, its formats, and the workbook holding them as xlsx.
PACKAGE_TABLES = ("claims", "references", "citations", "outcomes", "units", "measures",
                  "findings")
PACKAGE_FORMATS = ("csv", "xlsx", "parquet")
WORKBOOK = "tables.xlsx"

__all__ = ["reference_list", "evidence_table", "export", "export_folder", "EXPORT_FORMATS"]


def reference_list(database: Database, *, fmt: str | None = None, review: str | None = None,
                   style: str | None = None) -> str | bytes:
    """The chosen review's numbered reference list, in the article's style or a CSL style:
    text, or bytes for a binary format (a Word document).

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
    text: str | bytes = write(refs) if style is None else write(refs, style=style)
    return text


def evidence_table(database: Database, outcome: str, *, fmt: str = "markdown",
                   review: str | None = None, cite: str = "number") -> str | bytes:
    """The evidence table of one outcome (Markdown, HTML, LaTeX or CSV text; a Word document
    as bytes), citing references by number, or with `cite` by key (`latex`: `\\cite{}`;
    `pandoc`: `[@key]`)."""
    write = formats.renderer(formats.EVIDENCE_TABLE, fmt)
    tables.check_cite(cite, fmt)
    with database.session() as session:
        table = tables.build(session, outcome=outcome, review=review, cite=cite)
    text: str | bytes = write(table)
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
                  review: str | None = None, force: bool = False) -> list[Path]:
    """A review's data package in `folder` (created if absent): every table (claims once, in
    the lossless wide form), the references as BibTeX, its `review.toml` and a Frictionless
    `datapackage.json`; `build --data` on a CSV folder rebuilds the same database. Files that
    exist are replaced only with `force`; nothing is written when one would be refused."""
    if fmt not in PACKAGE_FORMATS:
        raise UsageError(f"a folder is written as {', '.join(PACKAGE_FORMATS)}, not {fmt}")
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file, not a folder")
    with database.session() as session:
        chosen = queries.choose_review(session, code=review)
        built = [tabular.build(session, kind, review=review) for kind in PACKAGE_TABLES]
        review_text = meta = None
        if chosen is not None:
            row = queries.review_rows(session)[chosen[1]]
            citations = [(c.number, c.reference_key)
                         for c in queries.export_citations(session, review_id=chosen[0])]
            review_text = reviewfile.render(row, citations)
            meta = datapackage.meta(row.get("title"), row.get("license"))
    files: dict[str, bytes] = {}
    if fmt == "xlsx":
        files[WORKBOOK] = xlsx.workbook(built)
    else:
        files |= {f"{table.kind}.{fmt}": tabular.encode(table, fmt) for table in built}
    files["references.bib"] = export(database, "references", fmt="bibtex", review=review)
    if review_text is not None:
        files["review.toml"] = review_text.encode("utf-8")
    kinds = [table.kind for table in built]
    resources = [datapackage.resource(
        table.kind, WORKBOOK if fmt == "xlsx" else f"{table.kind}.{fmt}", table.columns, kinds,
        references=True, fmt=fmt, sheet=table.kind if fmt == "xlsx" else None)
        for table in built]
    name = chosen[1] if chosen is not None else "ivcdb"
    files[datapackage.FILE_NAME] = datapackage.dumps(
        datapackage.package(resources, name=name, meta=meta))
    outputs = [(safe_target(target, name), data) for name, data in files.items()]
    if not force:
        existing = [str(path) for path, _ in outputs if path.exists()]
        if existing:
            raise OutputExists(f"{', '.join(existing)} exist(s); use --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    written = [write_atomic(path, data, force=force) for path, data in outputs]
    for stale in _other_format_tables(target, fmt):
        stale.unlink()  # an earlier package in another format: `build --data` must not read it
    return written


def _other_format_tables(folder: Path, fmt: str) -> list[Path]:
    """The table files an export of this package in another format would have written
    there (`claims.csv` beside a new `tables.xlsx`), that exist as regular files."""
    names = [f"{kind}.{other}" for kind in PACKAGE_TABLES for other in PACKAGE_FORMATS
             if other not in (fmt, "xlsx")] + ([WORKBOOK] if fmt != "xlsx" else [])
    return [path for path in (folder / name for name in names)
            if path.is_file() and not path.is_symlink()]
