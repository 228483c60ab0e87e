"""Tidy tables for analysts: claims, references, citations, vocabularies and findings as rows,
written as CSV, JSON, Parquet or an Excel workbook (`ivcdb.exports.xlsx`).

Every format carries the same columns in the same order; the columns and types of claims
and findings are those of `ivcdb.contract`. CSV cells follow `ivcdb.csvformat` (numbers
without a trailing `.0`, empty for none, `;` between list items, formula-like text prefixed
with `'`); JSON has typed values and `null`, never NaN; Parquet (through the optional pyarrow
extra) has nullable typed columns.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from ivcdb import queries
from ivcdb.contract import (
    CLAIM,
    CLAIM_COLUMNS,
    CLAIM_LONG_COLUMNS,
    FINDING,
    FINDING_EXPORT_COLUMNS,
    LINK,
    wide_roles,
)
from ivcdb.csvformat import (
    GUARDED_STARTS,
    LIST_SEPARATOR,
    csv_text,
    format_number,
    json_value,
    neutralise,
)
from ivcdb.errors import UsageError
from ivcdb.exports.details import details
from ivcdb.extras import require
from ivcdb.formats import EXPORT_KIND, TABULAR, renderer
from ivcdb.models import Measure, Outcome, Unit
from ivcdb.progress import track
from ivcdb.synthesis import EFFECT_COLUMNS

KINDS = tuple(EXPORT_KIND)
FORMATS = tuple(TABULAR)
BOM = "\ufeff"
AUTHOR_SEPARATOR = "; "

REFERENCE_COLUMNS = (
    "number", "key", "entry_type", "authors", "et_al", "year", "title", "journal", "volume",
    "issue", "pages", "doi", "pmid", "pmcid", "study_design", "sample_size", "note",
)
CITATION_COLUMNS = ("review", "number", "reference_key")
OUTCOME_COLUMNS = ("code", "label", "kind", "unit", "measure", "timepoint", "description")
UNIT_COLUMNS = ("code", "label", "description")
MEASURE_COLUMNS = ("code", "label", "family", "description", "related")

# Column types for Parquet: claims and findings from the contract; the references' here, and
# anything unnamed is text.
_DTYPES = {**CLAIM.dtypes(CLAIM_COLUMNS), **CLAIM.dtypes(CLAIM_LONG_COLUMNS),
           **FINDING.dtypes(FINDING_EXPORT_COLUMNS),
           "number": "Int64", "year": "Int64", "sample_size": "Int64", "et_al": "boolean",
           "reference_number": "Int64", "xi": "Int64", "ni": "Int64", "yi": "Float64",
           "vi": "Float64", "sei": "Float64", "claim_ids": "object"}


class Table:
    """Rows of one export: typed values (None for none, lists for list columns).

    Held as dicts (`rows`) or as tuples in column order (`tuples`); the other form is made
    when asked for. Claims are built as tuples: a CSV of millions of cells needs no dicts.
    """

    __slots__ = ("kind", "columns", "_rows", "_tuples")

    def __init__(self, kind: str, columns: tuple[str, ...],
                 rows: list[dict[str, Any]] | None = None, *,
                 tuples: list[tuple[Any, ...]] | None = None) -> None:
        self.kind, self.columns = kind, columns
        self._rows = rows if rows is not None or tuples is not None else []
        self._tuples = tuples

    @property
    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            assert self._tuples is not None
            self._rows = [dict(zip(self.columns, t, strict=True)) for t in self._tuples]
        return self._rows

    @property
    def tuples(self) -> list[tuple[Any, ...]]:
        if self._tuples is None:
            self._tuples = [tuple(map(row.get, self.columns)) for row in self.rows]
        return self._tuples


# --- building the rows ------------------------------------------------------------------------


def chosen_review_id(session: Session, review: str | None) -> int | None:
    """The chosen review's id (`review`, else the only one loaded); unnamed with several
    loaded: none. An unknown `review` is a `UsageError` (`queries.review_scope`)."""
    return queries.review_scope(session, code=review).id


# The builders of `formats.EXPORT_KIND`: (session, kind, scope, long) -> Table.


def _named(scope: queries.ReviewScope) -> int | None:
    """The review's id when it was named (shared records are narrowed to it only then)."""
    return scope.id if scope.named else None


def claims_table(session: Session, _kind: str, scope: queries.ReviewScope, long: bool
                 ) -> Table:
    """The claims (of one review) as tuples in CSV column order: the contract's fields, the
    links where the contract puts them (list cells, or one row per link), the fields
    added later."""
    claims, links = queries.claim_values(session, review_id=_named(scope))
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    none: list[Any] = []
    split = CLAIM.split + 1  # claims start with their database id
    no_link = (None,) * len(LINK.stored)
    for claim in claims:
        before, after = tuple(claim[1:split]), tuple(claim[split:])
        claim_links = links.get(claim[0], none)
        if long:
            if not claim_links:
                add(before + no_link + after)
            for link in claim_links:
                add(before + tuple(link) + after)
            continue
        numbers = [link[1] for link in claim_links]
        # a reference outside the claim's review has no number: give keys only
        add(before + ([link[0] for link in claim_links],
                      numbers if None not in numbers else [],
                      wide_roles([link[2] for link in claim_links])) + after)
    return Table("claims", CLAIM_LONG_COLUMNS if long else CLAIM_COLUMNS, tuples=rows)


def author_text(author: queries.ExportAuthor) -> str:
    """`Family, Given` (with prefix and suffix where the name has them)."""
    family = " ".join(p for p in (author.prefix, author.family) if p)
    return ", ".join(p for p in (family, author.suffix, author.given) if p)


def _reference_row(ref: queries.ExportReference) -> dict[str, Any]:
    row = {c: getattr(ref, c) for c in REFERENCE_COLUMNS if c not in ("authors", "pmcid")}
    row["pmcid"] = details(ref).pmcid
    row["authors"] = AUTHOR_SEPARATOR.join(author_text(a) for a in ref.authors) or None
    return row


def references_table(session: Session, _kind: str, scope: queries.ReviewScope, _long: bool
                     ) -> Table:
    """One review's references (its cited ones by number, then the rest); every review's:
    each review's numbered list with a `review` column, then the references none lists."""
    if not scope.several:
        refs = queries.export_references(session, review_id=scope.id)
        return Table("references", REFERENCE_COLUMNS, [_reference_row(r) for r in refs])
    rows: list[dict[str, Any]] = []
    listed: set[int] = set()
    for code, review_id in _reviews(session, scope):
        for ref in queries.export_references(session, review_id=review_id, cited_only=True):
            listed.add(ref.entry_id)
            rows.append({"review": code, **_reference_row(ref)})
    # then every other entry: of a review's bibliography (its review named), or the library's
    rows += [{"review": ref.bibliography or None, **_reference_row(ref)}
             for ref in queries.export_references(session, review_id=None)
             if ref.entry_id not in listed]
    return Table("references", ("review", *REFERENCE_COLUMNS), rows)


def findings_table(session: Session, _kind: str, scope: queries.ReviewScope, _long: bool
                   ) -> Table:
    """One review's findings (see `queries.export_findings`); every review's: each review's
    with a `review` column, then the library's findings on works no review cites."""
    if not scope.several:
        findings = queries.export_findings(session, review_id=scope.id)
        return Table("findings", FINDING_EXPORT_COLUMNS, [f.as_dict() for f in findings])
    rows: list[dict[str, Any]] = []
    for code, review_id in _reviews(session, scope):
        rows += [{"review": code, **f.as_dict()}
                 for f in queries.export_findings(session, review_id=review_id)]
    rows += [{"review": None, **f.as_dict()}
             for f in queries.export_findings(session, review_id=None, outside_reviews=True)]
    return Table("findings", ("review", *FINDING_EXPORT_COLUMNS), rows)


def effects_table(session: Session, kind: str, scope: queries.ReviewScope, _long: bool
                  ) -> Table:
    """Per review in scope, one row per (outcome, finding) of its cited sources with the
    effect on its pooling scale (`ivcdb.synthesis.effect_rows`): metafor-ready."""
    require("synthesis")
    from ivcdb.synthesis import effect_rows

    codes = [scope.code] if scope.code is not None else list(scope.loaded)
    return Table(kind, EFFECT_COLUMNS,
                 [row for code in codes for row in effect_rows(session, review=code)])


def _reviews(session: Session, scope: queries.ReviewScope) -> list[tuple[str, int]]:
    """(code, id) of every review in scope, by code (byte-wise)."""
    ids = queries.review_index(session)
    return [(code, ids[code]) for code in scope.loaded]


def citations_table(session: Session, kind: str, scope: queries.ReviewScope, _long: bool
                    ) -> Table:
    """The citation numbers of every review, or of the named one."""
    rows = [{"review": c.review, "number": c.number, "reference_key": c.reference_key}
            for c in queries.export_citations(session, review_id=_named(scope))]
    return Table(kind, CITATION_COLUMNS, rows)


def vocabulary_table(session: Session, kind: str, scope: queries.ReviewScope, _long: bool
                     ) -> Table:
    """A shared vocabulary: whole, or (a review named) the codes that review uses."""
    review_id = _named(scope)
    vocabularies: dict[str, tuple[type[SQLModel], tuple[str, ...]]] = {
        "outcomes": (Outcome, OUTCOME_COLUMNS), "units": (Unit, UNIT_COLUMNS),
        "measures": (Measure, MEASURE_COLUMNS)}
    model, columns = vocabularies[kind]
    codes = (queries.review_vocabulary(session, review_id=review_id)[kind]
             if review_id is not None else None)
    rows = []
    for row in queries.export_vocabulary(session, model, codes):
        row["unit"], row["measure"] = row.get("unit_code"), row.get("measure_code")
        rows.append({c: row.get(c) for c in columns})
    return Table(kind, columns, rows)


def build(session: Session, kind: str, *, review: str | None = None,
          long: bool = False) -> Table:
    """The rows of one export kind (see `formats.EXPORT_KIND`), in their fixed byte-wise
    order.

    `review` (else the only review loaded) scopes the rows and numbers them in that review;
    with several loaded and none named every review is covered, with a `review` column. The
    shared vocabularies are narrowed to the codes a review uses only when it is named.
    """
    if long and kind != "claims":
        raise UsageError("--long applies to claims only")
    make = renderer(EXPORT_KIND, kind, what="export")
    table: Table = make(session, kind, queries.review_scope(session, code=review), long)
    return table


# --- writing ----------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """One CSV cell by the contract: numbers via `format_number`, lists joined, text guarded."""
    if value is None:
        return ""
    if type(value) is str:  # most cells: skip the checks below
        return neutralise(value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(csv_cell(v) for v in value)
    if isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0:
        return "-0"  # PostgreSQL keeps a negative zero; "0" would not load back the same
    if isinstance(value, bool | int | float):
        return format_number(value)
    return neutralise(str(value))


def to_csv(table: Table, *, excel: bool = False) -> bytes:
    """UTF-8 CSV with `\\n` line ends; `excel` adds a byte-order mark."""
    def rows() -> Iterator[list[str]]:
        yield list(table.columns)
        for row in track(table.tuples, f"writing {table.kind}"):
            # `csv_cell` inlined for the usual cells (none, or text that is no formula): an
            # export writes millions of cells
            yield ["" if v is None else (
                (neutralise(v) if v.startswith(GUARDED_STARTS) else v) if type(v) is str
                else csv_cell(v)) for v in row]

    return ((BOM if excel else "") + csv_text(rows)).encode("utf-8")


def records(table: Table) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts: integral floats as integers, no NaN."""
    return [{c: json_value(row.get(c)) for c in table.columns} for row in table.rows]


def to_json(table: Table) -> bytes:
    text = json.dumps(records(table), ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


def dtype(column: str) -> str:
    """The nullable pandas dtype of an export column (text unless declared)."""
    return _DTYPES.get(column, "string")


def to_frame(table: Table) -> Any:
    """A pandas DataFrame with nullable typed columns."""
    import pandas as pd

    data = {c: pd.Series([row.get(c) for row in table.rows], dtype=dtype(c), name=c)
            for c in table.columns}
    return pd.DataFrame(data, columns=list(table.columns))


def to_parquet(table: Table) -> bytes:
    """Parquet bytes (needs pyarrow: `pip install 'ivcdb[parquet]'`)."""
    require("parquet")
    buffer = io.BytesIO()
    to_frame(table).to_parquet(buffer, engine="pyarrow", index=False)
    return buffer.getvalue()


def encode(table: Table, fmt: str, *, excel: bool = False) -> bytes:
    """The table in `fmt` (a name of `formats.TABULAR`)."""
    if excel and fmt != "csv":
        raise UsageError("--excel applies to CSV only")
    write = renderer(TABULAR, fmt)
    data: bytes = write(table, excel=True) if excel else write(table)
    return data


def columns_of(kind: str, *, long: bool = False) -> Sequence[str]:
    """The columns of an export kind, for documentation and tests."""
    fixed = {"references": REFERENCE_COLUMNS, "citations": CITATION_COLUMNS,
             "outcomes": OUTCOME_COLUMNS, "units": UNIT_COLUMNS, "measures": MEASURE_COLUMNS,
             "findings": FINDING_EXPORT_COLUMNS, "effects": EFFECT_COLUMNS}
    if kind == "claims":
        return CLAIM_LONG_COLUMNS if long else CLAIM_COLUMNS
    return fixed[kind]
