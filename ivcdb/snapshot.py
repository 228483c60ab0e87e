"""A read-only SQLite snapshot of an ivcdb database, for the web UI (`ivcdb serve`).

`snapshot(db, path)` copies every ivcdb table (from SQLite or PostgreSQL, verified by
`ivcdb.copy`) into a new SQLite file, then adds a read layer for people: views with labels
instead of codes (`claims_view`, `reference_list`, `outcome_summary`, `reviews`), each row
naming its review, three helper tables computed in Python (printed reference entries, claim
figures as text, the findings beside each claim) and an FTS5 index of references (claims
are searched through the database's own word index, as `query claims --text` does). The read
layer lives only in snapshots, never in the migrations. The file appears atomically
(temporary folder, then rename).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from ivcdb import queries, store
from ivcdb.contract import CLAIM
from ivcdb.db import open_db, resolve_url, sqlite_path
from ivcdb.errors import OutputExists, UsageError
from ivcdb.exports.files import output_target, temp_sibling
from ivcdb.exports.reflist import entry
from ivcdb.figures import (
    Cite,
    Style,
    author_name,
    citations,
    figure_text,
    numbered,
    reference_label,
)
from ivcdb.models import SEARCH_TABLE
from ivcdb.text import key_fold

VIEWS = ("claims_view", "reference_list", "outcome_summary", "reviews")
# Claims are searched as `query claims --text` searches them: the database's own word index
# (`SEARCH_TABLE`, kept by its triggers through the copy); references by a snapshot table.
FTS_TABLES = (SEARCH_TABLE, "reference_fts")
SNAPSHOT_FTS_TABLES = ("reference_fts",)

_READ = sa.MetaData()
REFERENCE_TEXT = sa.Table(
    "reference_text", _READ,
    sa.Column("reference_id", sa.Integer, nullable=False),
    sa.Column("review_id", sa.Integer),  # NULL: a reference no review cites
    sa.Column("number", sa.Integer),
    sa.Column("label", sa.Text, nullable=False),  # `[3] Wachtel 2015`: facet value
    sa.Column("entry", sa.Text, nullable=False),  # the printed reference-list entry
)
CLAIM_TEXT = sa.Table(
    "claim_text", _READ,
    sa.Column("claim_id", sa.Integer, primary_key=True),  # claim.id
    sa.Column("figure", sa.Text, nullable=False),  # `≈ 40–70 %`
    sa.Column("cited", sa.Text, nullable=False),  # `[3, 5]`
    sa.Column("reference", sa.Text, nullable=False),  # JSON array of reference labels
    sa.Column("author", sa.Text, nullable=False),  # JSON array of author names
    sa.Column("year", sa.Text, nullable=False),  # JSON array of years (as text)
)
CLAIM_FINDING = sa.Table(
    "claim_finding", _READ,  # what "Claims beside the sources' own figures" shows
    sa.Column("claim_id", sa.Integer, nullable=False),  # claim.id
    sa.Column("finding_id", sa.Integer, nullable=False),  # source_finding.id
    sa.Column("reference_id", sa.Integer, nullable=False),  # the cited entry
    sa.Column("position", sa.Integer, nullable=False),  # its place in the claim's citation
    sa.Column("figure", sa.Text, nullable=False),  # the finding's: `55 (49–61)`
)

# claims_view's columns in reading order: the claim's contract fields by their CSV names, each
# from its column, and what the read layer adds (labels, the printed figure, cited references).
# A contract field not named here (one added later) comes after them, before `id`.
CLAIMS_VIEW_ORDER = (
    "outcome_label", "statement", "figure", "unit", "reference", "timepoint", "population",
    "reported", "qualifier", "cited", "author", "year", "outcome", "claim_id", "review",
    "section", "paragraph", "value", "value_low", "value_high", "numerator", "denominator",
    "derived")
_READ_LAYER_COLUMNS = {"outcome_label": "o.label", "figure": "t.figure", "unit": "u.label",
                       "reference": "t.reference", "cited": "t.cited", "author": "t.author",
                       "year": "t.year", "id": "c.id"}
_ALIASES = {"claim": "c", "review": "rv"}


def claims_view_columns() -> tuple[str, ...]:
    """The columns of claims_view: `CLAIMS_VIEW_ORDER`, later contract fields, `id`."""
    later = tuple(f.name for f in CLAIM.stored if f.name not in CLAIMS_VIEW_ORDER)
    return (*CLAIMS_VIEW_ORDER, *later, "id")


def _claims_view_select() -> str:
    fields = {f.name: f"{_ALIASES[f.table]}.{f.db_column}" for f in CLAIM.stored}
    return ", ".join(f"{_READ_LAYER_COLUMNS.get(name) or fields[name]} AS {name}"
                     for name in claims_view_columns())


# The read layer. SQLite only: this runs on the snapshot, never on the database of record.
# outcome_summary and reviews are `queries.outcome_overview_query` and
# `queries.list_reviews_query` compiled for SQLite (`compiled_views`).
# claims_view joins claim_text before any LEFT JOIN: SQLite 3.40 otherwise returns no rows for
# Datasette's array facets (`json_each(inner.col) JOIN inner`) on the view.
READ_LAYER_SQL = f"""
CREATE INDEX ix_reference_text_reference_id ON reference_text (reference_id);

CREATE VIEW claims_view AS
SELECT {_claims_view_select()}
FROM claim c
JOIN review rv ON rv.id = c.review_id
JOIN outcome o ON o.code = c.outcome_code
JOIN claim_text t ON t.claim_id = c.id
LEFT JOIN unit u ON u.code = c.unit_code
ORDER BY c.claim_id;

CREATE VIEW reference_list AS
SELECT t.number AS number, t.entry AS entry,
       (SELECT count(DISTINCT cr.claim_id) FROM claim_reference cr
          JOIN claim c ON c.id = cr.claim_id
         WHERE cr.reference_id = r.id
           AND (t.review_id IS NULL OR c.review_id = t.review_id)) AS claims,
       (SELECT count(*) FROM source_finding f WHERE f.reference_id = r.id) AS source_findings,
       t.label AS label, r.citekey AS citekey, r.year AS year, r.study_design AS study_design,
       r.sample_size AS sample_size, r.doi AS doi, r.pmid AS pmid, r.note AS note,
       rv.code AS review, t.reference_id AS id
FROM reference_text t
JOIN reference r ON r.id = t.reference_id
LEFT JOIN review rv ON rv.id = t.review_id
ORDER BY rv.code IS NULL, rv.code, t.number, r.citekey;

CREATE VIRTUAL TABLE reference_fts USING fts5(
    title, authors, journal, citekey, note,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO reference_fts (rowid, title, authors, journal, citekey, note)
SELECT r.id, r.title,
       coalesce((SELECT group_concat(trim(a.given || ' ' || a.prefix || ' ' || a.family), '; ')
                   FROM author a WHERE a.reference_id = r.id), ''),
       coalesce(r.journal, ''), r.citekey, coalesce(r.note, '')
FROM reference r;
"""


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    """What a snapshot holds: rows per copied table, and the views and FTS tables added."""

    path: Path
    source: str
    counts: dict[str, int]

    def summary(self) -> str:
        rows = sum(self.counts.values())
        return (f"snapshot {self.path}: {rows} rows in {len(self.counts)} tables from "
                f"{self.source}, views {', '.join(VIEWS)}, full-text search "
                f"{', '.join(FTS_TABLES)}")


def snapshot(db_url: str | os.PathLike[str] | None, target_path: str | os.PathLike[str], *,
             force: bool = False, review: str | None = None) -> SnapshotReport:
    """Copy the database into a new SQLite file at `target_path` and add the read layer.

    With `review` (a loaded review's id), the snapshot holds that review only: the other
    reviews and every row that belongs to them are left out (shared records stay)."""
    from ivcdb.copy import copy_database

    url = resolve_url(db_url)
    target = _check_target(url, Path(target_path), force=force)
    review_id = _review_id(url, review) if review is not None else None
    folder = temp_sibling(target)
    folder.mkdir()
    try:
        staged = folder / target.name
        report = copy_database(url, staged)
        counts = {t.table: t.rows for t in report.tables}
        if review_id is not None:
            counts = _keep_review(staged, review_id)
        add_read_layer(staged)
        os.replace(staged, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return SnapshotReport(target, report.source, counts)


def _review_id(url: str, review: str) -> int:
    """The id of a loaded review in the source database (unknown: `UsageError`)."""
    with open_db(url, readonly=True) as source, source.session() as session:
        scope = queries.review_scope(session, code=review)
    assert scope.id is not None
    return scope.id


def _keep_review(path: Path, review_id: int) -> dict[str, int]:
    """Leave one review in a copied snapshot: delete every other review's rows (any table's
    `review_id`; NULL is shared and stays), then, parents first, every row left pointing at a
    deleted one. Rows per table afterwards."""
    from ivcdb.models import Review, metadata

    tables = metadata.sorted_tables  # parents before the tables that point at them
    engine = sa.create_engine(f"sqlite:///{path}")  # no foreign-key pragma: orphans go below
    try:
        with engine.begin() as conn:
            for table in tables:
                if "review_id" in table.c:
                    conn.execute(sa.delete(table).where(table.c.review_id != review_id))
            review = Review.__table__  # type: ignore[attr-defined]
            conn.execute(sa.delete(review).where(review.c.id != review_id))
            for table in tables:
                for fk in table.foreign_keys:
                    parent = fk.column
                    conn.execute(sa.delete(table).where(
                        fk.parent.is_not(None),
                        fk.parent.not_in(sa.select(parent).where(parent.is_not(None)))))
            return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table))
                    .scalar_one() for table in tables}
    finally:
        engine.dispose()


def _check_target(url: str, given: Path, *, force: bool) -> Path:
    """The file to write (symlinks followed, as for every output); see `output_target`."""
    target = given.expanduser().resolve()
    if sqlite_path(url) == target:
        raise UsageError(f"{target} is the source database; name another file")
    try:
        output_target(given, force=force)
    except OutputExists:
        raise OutputExists(f"{target} exists; pass --force to replace it") from None
    if target.suffix.lower() not in (".sqlite", ".sqlite3", ".db"):
        raise UsageError(f"{target}: a snapshot is a SQLite file; name it *.sqlite")
    return target


def add_read_layer(path: Path) -> None:
    """Views, helper tables and FTS indexes on a freshly copied snapshot file."""
    with open_db(path) as snap:
        with snap.session() as session:
            references, claims = _reference_rows(session), _claim_rows(session)
            beside = _beside_rows(session)
        with snap.write() as session:
            _READ.create_all(session.connection())
            store.insert_table_rows(session, REFERENCE_TEXT, references)
            store.insert_table_rows(session, CLAIM_TEXT, claims)
            store.insert_table_rows(session, CLAIM_FINDING, beside)
    # One self-contained file (no -wal beside it), as an immutable reader needs it.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        views = "".join(f"CREATE VIEW {name} AS {sql};\n"
                        for name, sql in compiled_views().items())
        conn.executescript(f"BEGIN; {READ_LAYER_SQL} {views} COMMIT;")
    finally:
        conn.close()


def compiled_views() -> dict[str, str]:
    """The views compiled from queries.py's selects: one SQL home for the library and the UI."""
    from sqlalchemy.dialects import sqlite

    selects = {"outcome_summary": queries.outcome_overview_query("sqlite"),
               "reviews": queries.list_reviews_query("sqlite")}
    return {name: str(select.compile(dialect=sqlite.dialect(),
                                     compile_kwargs={"literal_binds": True}))
            for name, select in selects.items()}


def _reference_rows(session: Session) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    cited: set[int] = set()
    reviews = queries.review_index(session)
    for review_id in sorted(reviews.values()):
        for ref in queries.export_references(session, review_id=review_id, cited_only=True):
            cited.add(ref.entry_id)
            rows.append(_reference_row(ref, ref.entry_id, review_id))
    for ref in queries.export_references(session, review_id=None):
        if ref.entry_id not in cited:  # unnumbered: its bibliography's review, or none
            rows.append(_reference_row(ref, ref.entry_id, reviews.get(ref.bibliography)))
    return rows


def _reference_row(ref: queries.ExportReference, reference_id: int,
                   review_id: int | None) -> dict[str, object]:
    text = entry(ref, escape=str, italic=str)
    return {
        "reference_id": reference_id,
        "review_id": review_id,
        "number": ref.number,
        "label": reference_label(ref.number, _first_family(ref), ref.year, ref.key),
        "entry": numbered(ref.number, text),
    }


def _first_family(ref: queries.ExportReference) -> str | None:
    return ref.authors[0].family if ref.authors else None


def _claim_rows(session: Session) -> list[dict[str, object]]:
    refs = {(r.bibliography, key_fold(r.key)): r
            for r in queries.export_references(session, review_id=None)}
    ids = queries.claim_index(session)
    rows: list[dict[str, object]] = []
    for claim in queries.export_claims(session):
        labels: list[str] = []
        authors: list[str] = []
        years: list[str] = []
        for link in claim.links:
            norm = key_fold(link.reference_key)
            ref = refs.get((claim.review, norm)) or refs[(queries.LIBRARY, norm)]
            labels.append(reference_label(link.reference_number, _first_family(ref), ref.year,
                                          link.reference_key))
            authors.extend(author_name(a.family, a.given, a.prefix, a.suffix)
                           for a in ref.authors)
            if ref.year is not None:
                years.append(str(ref.year))
        rows.append({
            "claim_id": ids[(claim.review, claim.claim_id)][0],
            "figure": figure_text(claim.value, claim.value_low, claim.value_high,
                                  claim.numerator, claim.denominator, claim.qualifier,
                                  style=Style.SIGNS, bounds=claim.bounds),
            "cited": citations((link.reference_number for link in claim.links), Cite.SPACED),
            "reference": _json(labels),
            "author": _json(authors),
            "year": _json(years),
        })
    return rows


def _beside_rows(session: Session) -> list[dict[str, object]]:
    """The `claim_finding` rows: each finding beside a claim, with its printed figure."""
    pairs = queries.findings_beside_claims(session)
    findings = queries.findings_by_id(session, (finding for _, finding, _, _ in pairs))
    rows: list[dict[str, object]] = []
    for claim_id, finding_id, reference_id, position in pairs:
        f = findings[finding_id]
        rows.append({"claim_id": claim_id, "finding_id": finding_id,
                     "reference_id": reference_id, "position": position,
                     "figure": figure_text(f.value, f.value_low, f.value_high, f.numerator,
                                           f.denominator, style=Style.SIGNS, bounds=f.bounds,
                                           ci_low=f.ci_low, ci_high=f.ci_high,
                                           ci_level=f.ci_level)})
    return rows


def _json(values: Sequence[str]) -> str:
    """A JSON array of the distinct values, in first-seen order."""
    return json.dumps(list(dict.fromkeys(values)), ensure_ascii=False)
