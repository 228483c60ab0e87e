"""Every read statement. Keyword-only functions that take a `Session` and return plain rows."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from ivcdb.contract import (
    CLAIM,
    FINDING,
    LINK,
    SUPPORTING_ROLES,
    ClaimRow,
    Field,
    FindingRow,
    LinkRow,
)
from ivcdb.csvformat import INT_MAX, INT_MIN, LIST_SEPARATOR, OutOfRange, whole_number
from ivcdb.errors import NotFound, UsageError
from ivcdb.figures import (
    author_list,
    cite,
    full_name,
    numbered,
    reference_label,
    study_label,
    timepoints_match,
)
from ivcdb.models import (
    SEARCH_TABLE,
    Assessment,
    Author,
    ChangeRecord,
    Citation,
    Claim,
    ClaimReference,
    FindingSource,
    Measure,
    Outcome,
    Reference,
    Review,
    SourceFinding,
    Unit,
)
from ivcdb.search import Search
from ivcdb.search import parse as parse_search
from ivcdb.store import chunks
from ivcdb.terms import WHOLE_POPULATIONS_KEY
from ivcdb.text import clip, did_you_mean, fold, key_fold

T_co = TypeVar("T_co")
V = TypeVar("V")
OneOrMore: TypeAlias = V | Sequence[V]  # a filter's value, or several (any of them)


def _t(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


@functools.cache
def _alias(model: type[SQLModel], name: str) -> Any:
    """A named alias of a table, made once: building one (its column proxies) costs more
    than running a small query, and queries run per outcome reuse them."""
    return _t(model).alias(name)


# --- indexes the loaders resolve against ------------------------------------------------------


def vocabulary_codes(session: Session) -> dict[str, set[str]]:
    """Codes of every unit, measure and outcome in the database."""
    return {
        name: set(session.execute(sa.select(_t(model).c.code)).scalars())
        for name, model in (("units", Unit), ("measures", Measure), ("outcomes", Outcome))
    }


VOCABULARY_MODELS: dict[str, type[SQLModel]] = {"units": Unit, "measures": Measure,
                                                "outcomes": Outcome}


def vocabulary_rows(session: Session, model: type[SQLModel]) -> dict[str, dict[str, Any]]:
    table = _t(model)
    return {row["code"]: dict(row) for row in session.execute(sa.select(table)).mappings()}


LIBRARY = ""  # the scope of the shared library's entries (a review's scope is its id)


def _pairs(session: Session, model: type[SQLModel], key: str, value: str) -> dict[Any, Any]:
    """`key -> value` over every row of the model's table."""
    t = _t(model)
    return dict(session.execute(sa.select(t.c[key], t.c[value])).all())


def _scope(review_code: Any) -> Any:
    return sa.func.coalesce(review_code, LIBRARY)


def _scoped_references() -> tuple[sa.Table, Any, Any]:
    """The reference table outer-joined to its review, and the scope expression."""
    t, rv = _t(Reference), _t(Review)
    return t, t.join(rv, rv.c.id == t.c.review_id, isouter=True), _scope(rv.c.code)


def reference_index(session: Session) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(scope, citekey_norm) -> (id, content_hash, source); scope: review id or "" (library)."""
    t, joined, scope = _scoped_references()
    rows = session.execute(sa.select(scope, t.c.citekey_norm, t.c.id, t.c.content_hash,
                                     t.c.source).select_from(joined))
    return {(sc, norm): (id_, digest, source) for sc, norm, id_, digest, source in rows.all()}


def work_index(session: Session) -> dict[str, int]:
    """Work key -> work id of every stored entry: see `ivcdb.works`."""
    from ivcdb.works import work_keys

    r, a = _t(Reference), _t(Author)
    first = (a.c.reference_id == r.c.id) & (a.c.position == 1)
    query = sa.select(r.c.id, r.c.work_id, r.c.doi, r.c.pmid, r.c.title_norm, r.c.year,
                      a.c.family).select_from(r.join(a, first, isouter=True))
    known: dict[str, int] = {}
    for _, work, doi, pmid, title, year, family in session.execute(query):
        if work is not None:
            for key in work_keys(doi, pmid, title, year, family):
                known.setdefault(key, work)
    return known


def review_index(session: Session) -> dict[str, int]:
    return _pairs(session, Review, "code", "id")


def review_rows(session: Session) -> dict[str, dict[str, Any]]:
    t = _t(Review)
    return {row["code"]: dict(row) for row in session.execute(sa.select(t)).mappings()}


def citation_numbers(session: Session) -> dict[str, dict[int, str]]:
    """review code -> {citation number -> citekey_norm}."""
    c, r, ref = _t(Citation), _t(Review), _t(Reference)
    query = (sa.select(r.c.code, c.c.number, ref.c.citekey_norm)
             .join(c, c.c.review_id == r.c.id).join(ref, ref.c.id == c.c.reference_id))
    out: dict[str, dict[int, str]] = {}
    for code, number, norm in session.execute(query):
        out.setdefault(code, {})[number] = norm
    return out


def file_owners(session: Session) -> dict[str, str]:
    """File path -> the review ("": the library) whose bibliography entries or findings were
    last loaded from it (a path several reviews used is left out: it names none)."""
    r, rv, fs = _t(Reference), _t(Review), _t(FindingSource)
    entries = (sa.select(r.c.source, _scope(rv.c.code))
               .select_from(r.join(rv, rv.c.id == r.c.review_id, isouter=True)).distinct())
    findings = (sa.select(fs.c.path, _scope(rv.c.code))
                .select_from(fs.join(rv, rv.c.id == fs.c.review_id, isouter=True)).distinct())
    scopes: dict[str, set[str]] = {}
    for path, scope in session.execute(sa.union(entries, findings)):
        scopes.setdefault(path, set()).add(scope)
    return {path: next(iter(found)) for path, found in scopes.items() if len(found) == 1}


@dataclass(frozen=True, slots=True)
class ReviewRemoval:
    """What removing a review deletes: its claims (with their links), its numbered list, its
    bibliography's entries and its findings files' links to findings, and the findings no
    other file gives."""

    review: str
    review_id: int
    claims: int
    citations: int
    entries: int
    finding_links: int
    findings: int

    @property
    def removes_data(self) -> bool:
        return bool(self.claims or self.citations or self.entries or self.finding_links)

    def describe(self) -> str:
        return (f"review {self.review}: {self.claims} claims, {self.citations} numbered "
                f"references, {self.entries} bibliography entries, {self.finding_links} "
                f"findings-file rows ({self.findings} findings no other file gives)")


def review_removal(session: Session, review: str) -> ReviewRemoval:
    """Count what removing `review` would delete (see `ReviewRemoval`)."""
    review_id = _review_id(session, review)
    cl, ct, r, fs = _t(Claim), _t(Citation), _t(Reference), _t(FindingSource)

    def count(table: sa.Table, where: Any) -> int:
        return int(session.execute(sa.select(sa.func.count()).select_from(table).where(where))
                   .scalar_one())

    others = sa.select(fs.c.finding_id).where((fs.c.review_id != review_id)
                                              | fs.c.review_id.is_(None))
    mine = sa.select(fs.c.finding_id).where(fs.c.review_id == review_id)
    findings = session.execute(sa.select(sa.func.count(sa.distinct(fs.c.finding_id))).where(
        fs.c.finding_id.in_(mine), fs.c.finding_id.not_in(others))).scalar_one()
    return ReviewRemoval(review, review_id, count(cl, cl.c.review_id == review_id),
                         count(ct, ct.c.review_id == review_id),
                         count(r, r.c.review_id == review_id),
                         count(fs, fs.c.review_id == review_id), int(findings))


def findings_on_entries_of(session: Session, review_id: int) -> list[tuple[int, int | None]]:
    """Findings that stay (other files give them) but were given for an entry of the
    review's bibliography: (finding id, another entry of the same work, if any)."""
    f, fs = _t(SourceFinding), _t(FindingSource)
    given, other = _t(Reference).alias("given"), _t(Reference).alias("other")
    staying = sa.select(fs.c.finding_id).where((fs.c.review_id != review_id)
                                               | fs.c.review_id.is_(None))
    replacement = (sa.select(sa.func.min(other.c.id))
                   .where(other.c.work_id == given.c.work_id,
                          (other.c.review_id != review_id) | other.c.review_id.is_(None))
                   .scalar_subquery())
    query = (sa.select(f.c.id, replacement).join(given, given.c.id == f.c.reference_id)
             .where(given.c.review_id == review_id, f.c.id.in_(staying)))
    return [(id_, other_id) for id_, other_id in session.execute(query)]


def citation_ids(session: Session) -> dict[str, dict[int, int]]:
    """review code -> {citation number -> entry id}."""
    c, r = _t(Citation), _t(Review)
    query = sa.select(r.c.code, c.c.number, c.c.reference_id).join(c, c.c.review_id == r.c.id)
    out: dict[str, dict[int, int]] = {}
    for code, number, ref_id in session.execute(query):
        out.setdefault(code, {})[number] = ref_id
    return out


# A stored row as a load compares with it: (id, content_hash, source, its provenance values).
Stored = tuple[int, str, str, tuple[Any, ...]]


def claim_index(session: Session) -> dict[tuple[str, str], Stored]:
    """(review, claim_id) -> (id, content_hash, source, provenance in `CLAIM.provenance`
    order)."""
    t, rv = _t(Claim), _t(Review)
    query = (sa.select(rv.c.code, t.c.claim_id, t.c.id, t.c.content_hash, t.c.source,
                       *(t.c[f.db_column] for f in CLAIM.provenance))
             .join(rv, rv.c.id == t.c.review_id))
    return {(code, claim_id): (id_, digest, source, tuple(provenance))
            for code, claim_id, id_, digest, source, *provenance in session.execute(query).all()}


def stored_row(session: Session, model: type[SQLModel], id_: int,
               columns: Sequence[str]) -> dict[str, Any]:
    """The stored values of `columns` of one row (by id): what a conflict shows."""
    t = _t(model)
    row = session.execute(sa.select(*(t.c[c] for c in columns)).where(t.c.id == id_)).one()
    return dict(zip(columns, row, strict=True))


def claim_link_keys(session: Session, claim: int) -> list[str]:
    """The citekeys a stored claim cites, in citation order."""
    cr, ref = _t(ClaimReference), _t(Reference)
    return list(session.execute(
        sa.select(ref.c.citekey).join(cr, cr.c.reference_id == ref.c.id)
        .where(cr.c.claim_id == claim).order_by(cr.c.position)).scalars())


IN_CHUNK = 900  # names in one IN list: under SQLite's bound-parameter limit


def claim_ids(session: Session, review_id: int, claim_ids: Sequence[str]) -> dict[str, int]:
    """claim_id -> id, of the claims of one review named."""
    t = _t(Claim)
    query = sa.select(t.c.claim_id, t.c.id).where(t.c.review_id == review_id)
    out: dict[str, int] = {}
    for start in range(0, len(claim_ids), IN_CHUNK):
        part = claim_ids[start:start + IN_CHUNK]
        out.update(session.execute(query.where(t.c.claim_id.in_(part))).all())
    return out


# What a finding reports: two files giving the same are one finding (stored once).
FINDING_IDENTITY = ("measure_code", "value", "value_low", "value_high", "numerator",
                    "denominator", "unit_code", "timepoint", "population", "n", "ci_low",
                    "ci_high", "ci_level", "se", "bounds", "effect")


@dataclass(slots=True)
class FindingIndex:
    """The stored findings a load compares with: by what they report, and by file."""

    hashes: dict[int, str]  # id -> content hash
    provenance: dict[int, tuple[Any, ...]]  # id -> provenance, in `FINDING.provenance` order
    by_identity: dict[tuple[Any, ...], int]  # (work, *FINDING_IDENTITY) -> id
    by_path: dict[str, dict[str, int]]  # file path -> {finding id in that file -> id}
    paths: dict[int, set[str]]  # id -> the files that give it


def finding_index(session: Session) -> FindingIndex:
    f, r, fs = _t(SourceFinding), _t(Reference), _t(FindingSource)
    kept = len(FINDING.provenance)
    query = sa.select(f.c.id, f.c.content_hash, *(f.c[p.db_column] for p in FINDING.provenance),
                      r.c.work_id, *(f.c[c] for c in FINDING_IDENTITY)
                      ).join(r, r.c.id == f.c.reference_id)
    index = FindingIndex({}, {}, {}, {}, {})
    for id_, digest, *rest in session.execute(query):
        index.hashes[id_] = digest
        index.provenance[id_] = tuple(rest[:kept])
        work, *identity = rest[kept:]
        index.by_identity.setdefault((work, *identity), id_)
    for id_, path, key in session.execute(sa.select(fs.c.finding_id, fs.c.path,
                                                    fs.c.finding_key)):
        index.by_path.setdefault(path, {})[key] = id_
        index.paths.setdefault(id_, set()).add(path)
    return index


def reference_works(session: Session) -> dict[int, int]:
    """Entry id -> work id."""
    t = _t(Reference)
    return dict(session.execute(sa.select(t.c.id, t.c.work_id)).all())


def reference_raw_fields(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Entry id -> its raw fields' JSON, of the entries among `ids` that exist."""
    t = _t(Reference)
    out: dict[int, str] = {}
    for part in chunks(sorted(set(ids))):
        out.update(session.execute(sa.select(t.c.id, t.c.raw_fields)
                                   .where(t.c.id.in_(part))).all())
    return out


def reviews_citing_works(session: Session, works: Iterable[int]) -> set[str]:
    """The reviews whose claims or reference lists cite an entry of one of `works`."""
    wanted = sorted(set(works))
    if not wanted:
        return set()
    r, rv, c, cl, cr = _t(Reference), _t(Review), _t(Citation), _t(Claim), _t(ClaimReference)
    by_list = (sa.select(rv.c.code).join(c, c.c.review_id == rv.c.id)
               .join(r, r.c.id == c.c.reference_id).where(r.c.work_id.in_(wanted)))
    by_claim = (sa.select(rv.c.code).join(cl, cl.c.review_id == rv.c.id)
                .join(cr, cr.c.claim_id == cl.c.id).join(r, r.c.id == cr.c.reference_id)
                .where(r.c.work_id.in_(wanted)))
    return set(session.execute(sa.union(by_list, by_claim)).scalars())


def referenced_ids(session: Session) -> set[int]:
    """Reference ids that citations, claims or findings depend on (not prunable)."""
    ids: set[int] = set()
    for model in (Citation, ClaimReference, SourceFinding):
        ids.update(session.execute(sa.select(_t(model).c.reference_id).distinct()).scalars())
    return ids


# --- results ----------------------------------------------------------------------------------


class Results(list[T_co]):
    """A list of typed rows; `to_frame()` turns it into a pandas DataFrame.

    With `row_type` (the row dataclass), an empty result still has its columns.
    """

    def __init__(self, rows: Iterable[T_co] = (), *, row_type: type | None = None) -> None:
        super().__init__(rows)
        self.row_type = row_type

    def to_frame(self) -> Any:
        """One column per field (a contract row: its CSV columns, lists as lists)."""
        import pandas as pd

        columns = (_columns_of(self.row_type) if self.row_type is not None else None)
        rows = [_as_dict(row) for row in self]
        return pd.DataFrame(rows, columns=columns)


def _as_dict(row: Any) -> dict[str, Any]:
    return row.as_dict() if hasattr(row, "as_dict") else dataclasses.asdict(row)


def _columns_of(row_type: type) -> list[str]:
    columns = getattr(row_type, "columns", None)
    return list(columns() if columns else (f.name for f in dataclasses.fields(row_type)))


def _select(fields: Iterable[Field], tables: dict[str, Any]) -> list[Any]:
    """The select list of contract fields: each `table.column`, labelled with its CSV name."""
    return [tables[f.table].c[f.db_column].label(f.name) for f in fields]


def bytewise(column: Any, session: Session) -> Any:
    """Order by code points on every engine (PostgreSQL would otherwise use the locale)."""
    return bytewise_in(column, session.get_bind().dialect.name)


def bytewise_in(column: Any, dialect: str) -> Any:
    """`bytewise` for a dialect named without a session (a select compiled into a view)."""
    return column.collate("C") if dialect == "postgresql" else column


@dataclass(frozen=True, slots=True)
class OutcomeSummary:
    outcome: str
    label: str
    kind: str
    unit: str | None
    claims: int
    references: int
    lowest: float | None
    highest: float | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def outcome_summary(session: Session) -> Results[OutcomeSummary]:
    """Per outcome and unit: claims, distinct supporting references, lowest and highest value."""
    c, o, cr = _t(Claim), _t(Outcome), _t(ClaimReference)
    query = (
        sa.select(
            o.c.code, o.c.label, o.c.kind, c.c.unit_code,
            sa.func.count(sa.distinct(c.c.id)),
            sa.func.count(sa.distinct(cr.c.reference_id)),
            sa.func.min(sa.func.coalesce(c.c.value_low, c.c.value)),
            sa.func.max(sa.func.coalesce(c.c.value_high, c.c.value)),
        )
        .join(c, c.c.outcome_code == o.c.code)
        .outerjoin(cr, cr.c.claim_id == c.c.id)
        .group_by(o.c.code, o.c.label, o.c.kind, c.c.unit_code)
        .order_by(bytewise(o.c.code, session), bytewise(c.c.unit_code, session))
    )
    return Results((OutcomeSummary(*row) for row in session.execute(query)),
                   row_type=OutcomeSummary)


# --- copy (whole tables, in primary-key order) ------------------------------------------------


def table_row_count(session: Session, table: sa.Table) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def table_rows(session: Session, table: sa.Table, *, batch: int = 1000) -> Iterator[list[Any]]:
    """Every row of `table` in primary-key order (text byte-wise), in lists of `batch` rows."""
    order = [bytewise(c, session) if isinstance(c.type, sa.String) else c
             for c in table.primary_key.columns]
    query = sa.select(table).order_by(*order)
    result = session.execute(query.execution_options(yield_per=batch))
    for part in result.partitions(batch):
        yield [tuple(row) for row in part]


def cited_references(session: Session, claim: int) -> list[tuple[str, int, int | None]]:
    """(citekey, reference id, number in the claim's review) of each reference a claim
    cites, in citation order."""
    cl, cr, ref, ct = _t(Claim), _t(ClaimReference), _t(Reference), _t(Citation)
    query = (sa.select(ref.c.citekey, ref.c.id, ct.c.number)
             .select_from(cr).join(ref, ref.c.id == cr.c.reference_id)
             .join(cl, cl.c.id == cr.c.claim_id)
             .outerjoin(ct, (ct.c.reference_id == ref.c.id) & (ct.c.review_id == cl.c.review_id))
             .where(cr.c.claim_id == claim).order_by(cr.c.position))
    return [(key, id_, number) for key, id_, number in session.execute(query).all()]


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    """A stored verdict by hand, with its claim's review and id and the reference's key."""

    review: str
    claim_id: str
    reference_key: str
    status: str
    locator: str | None
    quote: str | None
    assessed_by: str
    assessed_at: str


def assessments(session: Session, *, review_id: int | None = None) -> list[AssessmentRow]:
    """The verdicts by hand (of one review), by review, claim id and citation order."""
    a, cl, rv, ref, cr = _t(Assessment), _t(Claim), _t(Review), _t(Reference), _t(ClaimReference)
    query = (sa.select(rv.c.code, cl.c.claim_id, ref.c.citekey, a.c.status, a.c.locator,
                       a.c.quote, a.c.assessed_by, a.c.assessed_at)
             .select_from(a).join(cl, cl.c.id == a.c.claim_id)
             .join(rv, rv.c.id == cl.c.review_id).join(ref, ref.c.id == a.c.reference_id)
             .outerjoin(cr, (cr.c.claim_id == a.c.claim_id) & (cr.c.reference_id == ref.c.id))
             .order_by(rv.c.code, cl.c.claim_id, cr.c.position))
    if review_id is not None:
        query = query.where(cl.c.review_id == review_id)
    return [AssessmentRow(*row) for row in session.execute(query).all()]


def assessment(session: Session, claim: int, reference: int) -> dict[str, Any] | None:
    """The stored verdict by hand on a claim against a reference, as column values."""
    a = _t(Assessment)
    found = session.execute(sa.select(a).where((a.c.claim_id == claim)
                                               & (a.c.reference_id == reference))).first()
    return None if found is None else dict(found._mapping)


def table_state(session: Session, table: sa.Table, *, up_to: int | None = None,
                by: sa.Column[Any] | None = None) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Every row of `table`, keyed by its primary key (what the history compares); with
    `up_to`, only the rows whose column `by` is at most that."""
    pk = [table.columns.keys().index(c.name) for c in table.primary_key.columns]
    query = sa.select(table)
    if up_to is not None and by is not None:
        query = query.where(by <= up_to)
    return {tuple(row[i] for i in pk): tuple(row) for row in session.execute(query).all()}


@dataclass(frozen=True, slots=True)
class Change:
    """One change record, as the history shows it."""

    id: int
    changed_at: Any
    changed_by: str
    command: str
    table_name: str
    row_key: str
    action: str
    old_values: str | None
    new_values: str | None


def changes(session: Session, *, after: Any = None, since: Any = None,
            tables: Sequence[str] | None = None) -> list[Change]:
    """Change records in the order they were made; `after`: made after that time (exclusive),
    `since`: at or after it; `tables`: of those tables only."""
    t = _t(ChangeRecord)
    query = sa.select(*(t.c[f.name] for f in dataclasses.fields(Change))).order_by(t.c.id)
    if after is not None:
        query = query.where(t.c.changed_at > after)
    if since is not None:
        query = query.where(t.c.changed_at >= since)
    if tables is not None:
        query = query.where(t.c.table_name.in_(list(tables)))
    return [Change(*row) for row in session.execute(query).all()]


# --- reviewer queries -------------------------------------------------------------------------


class _Row:
    """Mixin of the reviewer rows: `as_dict()` for renderers and JSON."""

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True, slots=True)
class OutcomeRow(_Row):
    code: str
    label: str
    kind: str
    unit: str | None
    claims: int


@dataclass(frozen=True, slots=True)
class ReviewRow(_Row):
    """A loaded review with its claims, cited references and their findings, counted."""

    id: str
    title: str
    year: int | None
    claims: int
    references: int
    findings: int


@dataclass(frozen=True, slots=True)
class EvidenceRow(ClaimRow):
    """A claim of an outcome's evidence table, with a label for each supporting study.

    A claim row plus `studies` (`[3] Wachtel et al. 2015`), which needs the authors.
    """

    studies: tuple[str, ...] = ()  # the supporting references, in citation order


@dataclass(frozen=True, slots=True)
class CitationNumber(_Row):
    review: str
    number: int


@dataclass(frozen=True, slots=True)
class ReferenceDetail:
    """One reference: its fields, authors, citation numbers, claims and source findings."""

    # Fields in `show --format json`'s key order; `ExportReference` repeats most of them in
    # the export's column order: both stay, as a shared base would reorder one of the outputs.
    citekey: str
    entry_type: str
    title: str
    journal: str | None
    year: int | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    study_design: str | None
    sample_size: int | None
    note: str | None
    authors: tuple[str, ...]  # "Family Given" in order
    et_al: bool
    citations: tuple[CitationNumber, ...]
    claims: Results[ClaimRow]  # every claim citing the reference, in any role
    findings: Results[FindingRow]

    def fields(self) -> dict[str, Any]:
        """The reference's own fields, lists joined into text (one flat record)."""
        authors = author_list(self.authors, et_al=self.et_al, limit=None, separator="; ")
        numbers = "; ".join(f"{c.review} {cite(c.number)}" for c in self.citations)
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in ("authors", "et_al", "citations", "claims", "findings")}
        return {**out, "authors": authors, "citations": numbers}

    def claim_dicts(self) -> list[dict[str, Any]]:
        """The claims in `CITING_CLAIM_COLUMNS`, with the role this reference is cited in."""
        return [{c: claim.role_of(self.citekey) if c == "role" else getattr(claim, c)
                 for c in CITING_CLAIM_COLUMNS} for claim in self.claims]

    def finding_dicts(self) -> list[dict[str, Any]]:
        """The findings without their reference (this one)."""
        return [{c: getattr(f, c) for c in OWN_FINDING_COLUMNS} for f in self.findings]

    def as_dict(self) -> dict[str, Any]:
        """Everything, nested: for JSON."""
        return {**self.fields(), "authors": list(self.authors), "et_al": self.et_al,
                "citations": [c.as_dict() for c in self.citations],
                "claims": self.claim_dicts(), "findings": self.finding_dicts()}

    def to_frame(self) -> Any:
        """A one-row DataFrame of `fields()`; `claims` and `findings` have their own."""
        import pandas as pd

        return pd.DataFrame([self.fields()])


# What a reference's page shows of a claim citing it, and of a finding it reports.
CITING_CLAIM_COLUMNS = ("claim_id", "review", "outcome", "role", "statement", "qualifier",
                        "value", "value_low", "value_high", "unit", "reported", "section",
                        "paragraph", "bounds")
OWN_FINDING_COLUMNS = tuple(c for c in FindingRow.COLUMNS
                            if c not in ("reference_key", "reference_number"))


def outcome_labels(session: Session) -> dict[str, str]:
    """Outcome code -> label."""
    return _pairs(session, Outcome, "code", "label")


def claim_search_parts(session: Session, *, outcomes: Sequence[str]
                       ) -> list[tuple[int, str, str, str, str | None]]:
    """(claim.id, statement, outcome code, outcome label, population) of the claims of
    `outcomes`: what their search text is made of."""
    c, o = _t(Claim), _t(Outcome)
    query = (sa.select(c.c.id, c.c.statement, o.c.code, o.c.label, c.c.population)
             .join(o, o.c.code == c.c.outcome_code))
    out: list[tuple[int, str, str, str, str | None]] = []
    codes = sorted(set(outcomes))
    for start in range(0, len(codes), IN_CHUNK):
        part = codes[start:start + IN_CHUNK]
        out += [tuple(r) for r in session.execute(query.where(c.c.outcome_code.in_(part)))]
    return out


def _outcome_code(session: Session, outcome: str) -> str:
    """The stored code of `outcome` (case-insensitive), else `NotFound` with suggestions."""
    t = _t(Outcome)
    if session.execute(sa.select(t.c.code).where(t.c.code == outcome)).first() is not None:
        return outcome  # the usual case: no need to read every code
    codes = list(session.execute(sa.select(t.c.code)).scalars())
    for code in codes:
        if key_fold(code) == key_fold(outcome):
            return str(code)
    raise NotFound(f"unknown outcome {outcome!r}{did_you_mean(outcome, codes)}; "
                   "`ivcdb query outcomes` lists them")


def outcome_code(session: Session, outcome: str) -> str:
    """The stored code of `outcome` (case-insensitive), else `NotFound` with suggestions."""
    return _outcome_code(session, outcome)


def _review_id(session: Session, review: str) -> int:
    ids = review_index(session)
    if review in ids:
        return ids[review]
    raise NotFound(f"unknown review {review!r}{did_you_mean(review, ids)}")


def _as_number(ref: str | int) -> int | None:
    if isinstance(ref, bool):
        raise UsageError(f"not a reference: {ref!r}")
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return whole_number(text, low=0)
    except OutOfRange:
        raise UsageError(f"reference number {clip(text)} is out of range: citation numbers "
                         f"run from 1 to {INT_MAX}") from None


def _reference_id(session: Session, ref: str | int, review: str | None = None) -> int:
    """A reference by citekey (any case) or by citation number in `review` (or the only one)."""
    t = _t(Reference)
    if isinstance(ref, str):
        found = _entry_by_citekey(session, ref, review)
        if found is not None:
            return found
    number = _as_number(ref)
    if number is None:
        keys = session.execute(sa.select(t.c.citekey)).scalars()
        raise NotFound(f"unknown reference {ref!r}{did_you_mean(str(ref), keys)}; "
                       "give a citekey or a citation number")
    c, r = _t(Citation), _t(Review)
    query = (sa.select(c.c.reference_id, r.c.code).join(r, r.c.id == c.c.review_id)
             .where(c.c.number == number))
    if review is not None:
        query = query.where(c.c.review_id == _review_id(session, review))
    hits = session.execute(query).all()
    if len({ref_id for ref_id, _ in hits}) > 1:
        reviews = ", ".join(sorted(code for _, code in hits))
        raise UsageError(f"reference number {number} is ambiguous: it is cited in reviews "
                         f"{reviews}; name the review (--review)")
    if not hits:
        where = f"review {review!r}" if review is not None else "any review"
        raise NotFound(f"no reference number {number} in {where}{_number_ranges(session)}")
    return int(hits[0][0])


def _entry_by_citekey(session: Session, key: str, review: str | None) -> int | None:
    """The entry a citekey names: in `review`'s bibliography, else the library's; with no
    review, the one entry (or entries of one work) of that citekey in any bibliography."""
    t, joined, scope = _scoped_references()
    query = (sa.select(scope, t.c.id, t.c.work_id).select_from(joined)
             .where(t.c.citekey_norm == key_fold(key.strip())).order_by(t.c.id))
    hits = session.execute(query).all()
    if review is not None:
        for wanted in (review, LIBRARY):
            mine = [id_ for sc, id_, _ in hits if sc == wanted]
            if mine:
                return int(mine[0])
        return None
    if len({work for _, _, work in hits}) > 1:
        scopes = ", ".join(sorted(sc or "the library" for sc, _, _ in hits))
        raise UsageError(f"citekey {key!r} names different works in {scopes}; name the "
                         "review (--review)")
    return int(hits[0][1]) if hits else None


def _number_ranges(session: Session) -> str:
    """` (li2025 numbers 1-18)`: what each review's reference list holds."""
    c, r = _t(Citation), _t(Review)
    query = (sa.select(r.c.code, sa.func.min(c.c.number), sa.func.max(c.c.number))
             .join(c, c.c.review_id == r.c.id).group_by(r.c.code)
             .order_by(bytewise(r.c.code, session)))
    ranges = [f"{code} numbers {low}-{high}" for code, low, high in session.execute(query)]
    return f" ({'; '.join(ranges)})" if ranges else ""


def _positive(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or not 1 <= value <= INT_MAX):
        raise UsageError(f"{name} must be a whole number from 1 to {INT_MAX}, not {value!r}")
    return value


def _words(text: str, what: str) -> list[str]:
    words = fold(text).split()
    if not words:
        raise UsageError(f"{what}: give at least one word")
    return words


def _looks_like_initials(word: str) -> bool:
    """`H`, `HJ`, `H.-J.`, `h.`, `hj`: up to four letters, capitals or with dots, or two."""
    letters = re.sub(r"[.\-]", "", word)
    return 0 < len(letters) <= 4 and letters.isalpha() and (
        letters.isupper() or "." in word or len(letters) <= 2)


def _initials(given: str) -> str:
    """Folded initials of given names: `HJ`, `H. J.`, `Hans-Jürgen` -> `hj`."""
    words = [w for w in re.split(r"[\s.\-]+", given) if w]
    return fold("".join(w if w.isupper() and len(w) <= 3 else w[0] for w in words))


def _author_forms(name: str) -> tuple[list[tuple[str, str]], str]:
    """Readings of an author name as (folded family, initials), and the likeliest family.

    "Family, Given", "Family Initials" (as `refs` and `show` print), "Given Family", a
    family name alone, or a full name exactly as stored.
    """
    if "," in name:
        family, _, given = name.partition(",")
        folded = " ".join(_words(family, "author"))
        return [(folded, _initials(given))], folded
    words = name.split()
    forms = [(" ".join(_words(name, "author")), "")]
    if len(words) > 1:
        forms.append((fold(words[-1]), _initials(" ".join(words[:-1]))))
        if _looks_like_initials(words[-1]):
            forms.append((fold(" ".join(words[:-1])), _initials(words[-1])))
    return forms, forms[-1][0]


def _author_references(session: Session, name: str) -> list[int]:
    """Ids of the references with a matching author, else `NotFound` naming close families."""
    a = _t(Author)
    forms, likely = _author_forms(name)
    found: set[int] = set()
    for family, initials in forms:
        rows = session.execute(sa.select(a.c.reference_id, a.c.given).where(sa.or_(
            a.c.name_norm == family, a.c.name_norm.endswith(" " + family, autoescape=True))))
        found.update(ref for ref, given in rows if _initials(given).startswith(initials))
    if not found:
        families = session.execute(sa.select(a.c.family).distinct()).scalars()
        raise NotFound(f"no author {name!r}{did_you_mean(likely, families)}; give a family "
                       "name, optionally with initials (`Wachtel H`)")
    return sorted(found)


def _years(year_from: int | None, year_to: int | None) -> list[sa.ColumnElement[bool]]:
    year = _t(Reference).c.year
    for name, value in (("year_from", year_from), ("year_to", year_to)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not INT_MIN <= value <= INT_MAX):
            raise UsageError(f"{name} must be a whole number from {INT_MIN} to {INT_MAX}, "
                             f"not {value!r}")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UsageError(f"year range {year_from}-{year_to} is empty (from is after to)")
    return ([year >= year_from] if year_from is not None else []) + (
        [year <= year_to] if year_to is not None else [])


def _values(given: Any) -> list[Any]:
    """One filter value or several (a repeated option) as a list; None is none."""
    if given is None:
        return []
    if isinstance(given, str | int):
        return [given]
    return list(given)


def _cited_reference(session: Session, *, reference: OneOrMore[str | int] | None,
                     author: OneOrMore[str] | None, year_from: int | None,
                     year_to: int | None, review: str | None
                     ) -> sa.ColumnElement[bool] | None:
    """The claim cites a reference that meets every reference-level filter at once (any of
    several references, by any of several authors).

    `claim.id IN (claims citing such a reference)` is found from the reference side
    (ix_claim_reference_reference_id), so SQLite need not probe every claim's links.
    """
    cr, ref = _t(ClaimReference), _t(Reference)
    conditions: list[sa.ColumnElement[bool]] = []
    refs = _values(reference)
    if refs:
        conditions.append(sa.or_(*(cr.c.reference_id.in_(
            same_work(_reference_id(session, r, review))) for r in refs)))
    names = _values(author)
    if names:
        conditions.append(cr.c.reference_id.in_(
            sorted({i for name in names for i in _author_references(session, name)})))
    years = _years(year_from, year_to)
    if years:
        conditions.append(cr.c.reference_id.in_(sa.select(ref.c.id).where(*years)))
    if not conditions:
        return None
    return _t(Claim).c.id.in_(sa.select(cr.c.claim_id).where(*conditions))


def _matches(session: Session, search: Search) -> sa.ColumnElement[bool]:
    """The claim's search text holds every term of `search`: through the FTS5 table on
    SQLite, the GIN index of to_tsvector('simple', ...) on PostgreSQL (see migration 0007)."""
    c = _t(Claim)
    simple: Any = sa.literal_column("'simple'")  # a literal: the index's own expression
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_tsvector(simple, c.c.search_norm).op("@@")(
            sa.func.to_tsquery(simple, search.tsquery()))
    index = sa.table(SEARCH_TABLE, sa.column("rowid"))
    return c.c.id.in_(sa.select(index.c.rowid).where(
        sa.literal_column(SEARCH_TABLE).op("MATCH")(search.fts5())))


@dataclass(frozen=True, slots=True)
class ClaimScope:
    """Claims of one stored outcome code and/or one review (by database id), resolved once:
    what a caller running several queries on the same claims passes instead of names."""

    outcome: str | None = None
    review_id: int | None = None


def claim_scope(session: Session, *, outcome: str | None = None, review: str | None = None
                ) -> ClaimScope:
    """The outcome (matched case-insensitively) and review named, resolved (`NotFound`)."""
    return ClaimScope(_outcome_code(session, outcome) if outcome is not None else None,
                      _review_id(session, review) if review is not None else None)


def _scope_filter(scope: ClaimScope) -> list[sa.ColumnElement[bool]]:
    """The scope as bound parameters (`_scope_params`): a statement built on it serves every
    outcome and review, so queries run per outcome are built once (`_check_claims_query`)."""
    c = _t(Claim)
    return ([c.c.outcome_code == sa.bindparam("scope_outcome")]
            if scope.outcome is not None else []) + \
        ([c.c.review_id == sa.bindparam("scope_review")] if scope.review_id is not None else [])


def _scope_params(scope: ClaimScope) -> dict[str, Any]:
    return {"scope_outcome": scope.outcome, "scope_review": scope.review_id}


def _shape(scope: ClaimScope) -> ClaimScope:
    """What a scoped statement depends on: which of the two filters are present."""
    return ClaimScope("" if scope.outcome is not None else None,
                      0 if scope.review_id is not None else None)


def _claim_filter(session: Session, *, outcome: OneOrMore[str] | None = None,
                  reference: OneOrMore[str | int] | None = None,
                  author: OneOrMore[str] | None = None,
                  search: Search | None = None, year_from: int | None = None,
                  year_to: int | None = None, review: str | None = None,
                  ) -> list[sa.ColumnElement[bool]]:
    c = _t(Claim)
    where: list[sa.ColumnElement[bool]] = []
    outcomes = _values(outcome)
    if outcomes:
        where.append(c.c.outcome_code.in_(sorted({_outcome_code(session, o)
                                                  for o in outcomes})))
    if review is not None:
        where.append(c.c.review_id == _review_id(session, review))
    if search is not None:
        where.append(_matches(session, search))
    cited = _cited_reference(session, reference=reference, author=author,
                             year_from=year_from, year_to=year_to, review=review)
    return where + ([cited] if cited is not None else [])


# --- claims: the one read path ---------------------------------------------------------------
#
# Every claim query selects the contract's stored fields (`_claim_query`) and reads the links
# with one query (`_link_values`); `_claim_rows` makes typed rows of the two, and the tabular
# export writes the same values plain (`claim_values`: no object per row, millions of cells).


def _claim_query(where: Sequence[sa.ColumnElement[bool]] = (), *extra: Any) -> sa.Select[Any]:
    """claim.id, the contract's stored claim fields, then `extra`, for claims meeting `where`."""
    c, r = _t(Claim), _t(Review)
    return (sa.select(c.c.id, *_select(CLAIM.stored, {"claim": c, "review": r}), *extra)
            .join(r, r.c.id == c.c.review_id).where(*where))


def _link_values(session: Session, claim_ids: sa.Select[Any] | None = None,
                 params: dict[str, Any] | None = None, *, query: sa.Select[Any] | None = None
                 ) -> dict[int, list[Any]]:
    """claim.id -> its links' values in `LINK` order (citekey, number in the claim's review,
    role), in citation order; all claims' links unless `claim_ids` narrows them (or `query`,
    a `_link_query` built before, with its `params`)."""
    links: dict[int, list[Any]] = {}
    # .all(): one fetchall, not a fetchone per row (an export reads every link)
    for claim_pk, *link in session.execute(query if query is not None
                                           else _link_query(claim_ids), params).all():
        links.setdefault(claim_pk, []).append(link)
    return links


def _link_query(claim_ids: sa.Select[Any] | None) -> sa.Select[Any]:
    cl, cr, ref, ct = _t(Claim), _t(ClaimReference), _t(Reference), _t(Citation)
    query = (
        sa.select(cr.c.claim_id, *_select(LINK.stored, {"reference": ref, "citation": ct,
                                                         "claim_reference": cr}))
        .join(ref, ref.c.id == cr.c.reference_id)
        .join(cl, cl.c.id == cr.c.claim_id)
        .outerjoin(ct, (ct.c.reference_id == cr.c.reference_id)
                   & (ct.c.review_id == cl.c.review_id))
        .order_by(cr.c.claim_id, cr.c.position)
    )
    if claim_ids is not None:
        query = query.where(cr.c.claim_id.in_(claim_ids))
    return query


def claim_values(session: Session, *, review_id: int | None = None,
                 ) -> tuple[list[Any], dict[int, list[Any]]]:
    """Every claim (of one review) as plain values, by claim_id (byte-wise), for exports.

    Returns the claims (database id, then the values of `CLAIM.stored`) and each claim id's
    links as values in `LINK` order, in citation order.
    """
    cl = _t(Claim)
    query = _claim_query([cl.c.review_id == review_id] if review_id is not None else [])
    query = query.order_by(bytewise(cl.c.claim_id, session))
    return list(session.execute(query).all()), _link_values(session)


def _claim_rows(session: Session, query: sa.Select[Any], row_type: type[ClaimRow] = ClaimRow,
                *, narrow: bool = True, params: dict[str, Any] | None = None,
                links_query: sa.Select[Any] | None = None) -> list[Any]:
    """The claims of a `_claim_query` as `row_type`, with their links; columns after the
    contract's become the row type's further fields, in order. `narrow=False` reads every
    link at once (cheaper when most claims are wanted); `links_query`: the narrowed
    `_link_query` built before; `params`: the bound values of both."""
    rows = session.execute(query, params).all()
    links = _link_values(session, query.with_only_columns(_t(Claim).c.id) if narrow else None,
                         params, query=links_query)
    split = CLAIM.split + 1  # after claim.id
    # positional: the row type's attributes are in the select's order (contract, extras)
    return [row_type(*row[1:split],  # type: ignore[call-arg]
                     tuple(LinkRow(*link) for link in links.get(row[0], ())), *row[split:])
            for row in rows]


def _studies(session: Session, claim_ids: sa.Select[Any], *, et_al: bool = True
             ) -> dict[str, str]:
    """citekey -> `Wachtel et al. 2015` (`Wachtel 2015` without `et_al`) for every reference
    the claims cite."""
    return {key: study_label(family, year, key, et_al=et_al and bool(more))
            for key, family, more, year in session.execute(_studies_query(claim_ids))}


def _studies_query(claim_ids: sa.Select[Any]) -> sa.Select[Any]:
    """citekey, first author's family name, more than one author, year of every reference
    the claims cite."""
    cr, ref = _t(ClaimReference), _t(Reference)
    first, second = _alias(Author, "first_author"), _alias(Author, "second_author")
    return (
        sa.select(ref.c.citekey, first.c.family, second.c.id.is_not(None) | ref.c.et_al,
                  ref.c.year)
        .outerjoin(first, (first.c.reference_id == ref.c.id) & (first.c.position == 1))
        .outerjoin(second, (second.c.reference_id == ref.c.id) & (second.c.position == 2))
        .where(ref.c.id.in_(sa.select(cr.c.reference_id).where(cr.c.claim_id.in_(claim_ids))))
    )


def cited_study_labels(session: Session, *, outcome: str | None = None,
                       review: str | None = None, scope: ClaimScope | None = None
                       ) -> dict[str, str]:
    """citekey -> `Wachtel 2015` for every reference the claims (of one outcome, of one
    review; or of a resolved `scope`) cite: a forest plot's and `ivcdb pool`'s study labels."""
    scope = scope or claim_scope(session, outcome=outcome, review=review)
    return {key: study_label(family, year, key)
            for key, family, _, year in session.execute(_labels_query(_shape(scope)),
                                                        _scope_params(scope))}


@functools.lru_cache(maxsize=16)
def _labels_query(shape: ClaimScope) -> sa.Select[Any]:
    return _studies_query(_claim_query(_scope_filter(shape)).with_only_columns(_t(Claim).c.id))


def study_labels(session: Session, found: Iterable[ClaimRow]) -> dict[tuple[str, str], str]:
    """(review, claim_id) -> `[3] Wachtel 2015; [5] Fiore et al. 2012`: the studies each
    claim cites, numbered as in its review, in citation order."""
    wanted = {(c.review, c.claim_id) for c in found}
    cl, rv, cr, ref = _t(Claim), _t(Review), _t(ClaimReference), _t(Reference)
    ct, a = _t(Citation), _t(Author)
    labels: dict[tuple[str, str], list[str]] = {}
    names = sorted({cid for _, cid in wanted})
    for start in range(0, len(names), IN_CHUNK):
        part = names[start:start + IN_CHUNK]
        query = (
            sa.select(rv.c.code, cl.c.claim_id, ct.c.number, a.c.family, ref.c.year,
                      ref.c.citekey)
            .select_from(cr).join(cl, cl.c.id == cr.c.claim_id)
            .join(rv, rv.c.id == cl.c.review_id).join(ref, ref.c.id == cr.c.reference_id)
            .outerjoin(ct, (ct.c.reference_id == ref.c.id) & (ct.c.review_id == cl.c.review_id))
            .outerjoin(a, (a.c.reference_id == ref.c.id) & (a.c.position == 1))
            .where(cl.c.claim_id.in_(part)).order_by(cl.c.id, cr.c.position))
        for code, cid, number, family, year, key in session.execute(query):
            if (code, cid) in wanted:
                labels.setdefault((code, cid), []).append(
                    reference_label(number, family, year, key))
    return {k: "; ".join(v) for k, v in labels.items()}


def cited_studies(session: Session, *, outcome: str, review_id: int | None = None
                  ) -> dict[str, str]:
    """citekey -> `Wachtel 2015` (first author and year, as `ivcdb pool` labels a study) for
    every reference the outcome's claims cite (of one review, with `review_id`)."""
    c, cr, ref, a = _t(Claim), _t(ClaimReference), _t(Reference), _t(Author)
    claim_ids = sa.select(c.c.id).where(c.c.outcome_code == outcome)
    if review_id is not None:
        claim_ids = claim_ids.where(c.c.review_id == review_id)
    query = (
        sa.select(ref.c.citekey, a.c.family, ref.c.year)
        .outerjoin(a, (a.c.reference_id == ref.c.id) & (a.c.position == 1))
        .where(ref.c.id.in_(sa.select(cr.c.reference_id).where(cr.c.claim_id.in_(claim_ids))))
    )
    return {key: study_label(family, year, key) for key, family, year in session.execute(query)}


def list_outcomes(session: Session, *, review_id: int | None = None) -> Results[OutcomeRow]:
    """Every outcome of the vocabulary with its number of claims (0 included), by code; with
    `review_id`, the outcomes that review's claims use, with their number of its claims."""
    o, c = _t(Outcome), _t(Claim)
    query = (sa.select(o.c.code, o.c.label, o.c.kind, o.c.unit_code, sa.func.count(c.c.id))
             .outerjoin(c, c.c.outcome_code == o.c.code)
             .group_by(o.c.code, o.c.label, o.c.kind, o.c.unit_code)
             .order_by(bytewise(o.c.code, session)))
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return Results((OutcomeRow(*row) for row in session.execute(query)), row_type=OutcomeRow)


def list_reviews_query(dialect: str) -> sa.Select[Any]:
    """The select of `list_reviews` for a dialect; the snapshot's `reviews` view is this
    select compiled for SQLite."""
    r, c, cit, f = _t(Review), _t(Claim), _t(Citation), _t(SourceFinding)
    given, listed = _t(Reference).alias("given"), _t(Reference).alias("listed")

    def count(query: sa.Select[Any]) -> Any:
        return query.with_only_columns(sa.func.count()).scalar_subquery()

    return sa.select(
        r.c.code.label("id"), r.c.title, r.c.year,
        count(sa.select(c).where(c.c.review_id == r.c.id)).label("claims"),
        count(sa.select(cit).where(cit.c.review_id == r.c.id)).label("references"),
        # what the works of its reference list report (whichever review's file gave it)
        count(sa.select(f).join(given, given.c.id == f.c.reference_id)
              .join(listed, listed.c.work_id == given.c.work_id)
              .join(cit, cit.c.reference_id == listed.c.id)
              .where(cit.c.review_id == r.c.id)).label("findings"),
    ).order_by(bytewise_in(r.c.code, dialect))


def list_reviews(session: Session) -> Results[ReviewRow]:
    """Every loaded review with its number of claims, of cited references (its reference
    list) and of findings those references report, by id."""
    query = list_reviews_query(session.get_bind().dialect.name)
    return Results((ReviewRow(*row) for row in session.execute(query)), row_type=ReviewRow)


def claims(session: Session, *, outcome: OneOrMore[str] | None = None,
           reference: OneOrMore[str | int] | None = None,
           author: OneOrMore[str] | None = None, text: str | None = None,
           year_from: int | None = None, year_to: int | None = None,
           review: str | None = None, limit: int | None = None) -> Results[ClaimRow]:
    """Claims matching every filter given, byte-wise by claim_id.

    `reference` is a citekey (any case) or a citation number (in `review`, or in the only
    review citing that number); `author` a name or family name (accent- and
    case-insensitive); `text` a word search over statement, outcome label and population
    (`ivcdb.search`: words, `recur*` prefixes, quoted phrases; accents and case ignored),
    whose claims come most matching words first, then by claim id. `outcome`, `reference` and
    `author` each take one value or several (any of them; an empty list filters nothing).
    `reference`, `author` and the year range must hold for one and the same cited reference.
    """
    search = parse_search(text) if text is not None else None
    where = _claim_filter(session, outcome=outcome, reference=reference, author=author,
                          search=search, year_from=year_from, year_to=year_to,
                          review=review)
    limit = _positive("limit", limit)
    if search is not None:
        return _ranked_claims(session, where, search, limit)
    query = _claim_query(where).order_by(bytewise(_t(Claim).c.claim_id, session))
    query = query.limit(limit) if limit is not None else query
    return Results(_claim_rows(session, query), row_type=ClaimRow)


def _ranked_claims(session: Session, where: list[sa.ColumnElement[bool]], search: Search,
                   limit: int | None) -> Results[ClaimRow]:
    """The claims meeting `where`, most matching words first (`Search.hits`, counted in
    Python: the engines' own ranks are not comparable), then by claim id and review."""
    c, r = _t(Claim), _t(Review)
    hits = session.execute(sa.select(c.c.claim_id, r.c.code, c.c.search_norm)
                           .join(r, r.c.id == c.c.review_id).where(*where)).all()
    ranked = sorted(hits, key=lambda h: (-search.hits(h[2]), h[0], h[1]))[:limit]
    order = {(code, claim_id): i for i, (claim_id, code, _) in enumerate(ranked)}
    rows = [row for row in _claim_rows(session, _claim_query(where))
            if (row.review, row.claim_id) in order]
    return Results(sorted(rows, key=lambda row: order[(row.review, row.claim_id)]),
                   row_type=ClaimRow)


def evidence(session: Session, outcome: str, *, review: str | None = None
             ) -> Results[EvidenceRow]:
    """The evidence table of one outcome: each claim, its figure and its supporting studies."""
    where = _claim_filter(session, outcome=outcome, review=review)
    query = _claim_query(where).order_by(bytewise(_t(Claim).c.claim_id, session))
    studies = _studies(session, query.with_only_columns(_t(Claim).c.id))
    return Results((dataclasses.replace(row, studies=tuple(
        numbered(link.reference_number, studies[link.reference_key])
        for link in row.supporting))
        for row in _claim_rows(session, query, EvidenceRow)), row_type=EvidenceRow)


def reference_detail(session: Session, ref: str | int, *, review: str | None = None
                     ) -> ReferenceDetail:
    """One reference (citekey or citation number) with everything it supports.

    With `review`, the number is resolved in that review and only its claims and citation
    number are shown; the source findings belong to the reference and are always shown.
    """
    ref_id = _reference_id(session, ref, review)
    review_id = _review_id(session, review) if review is not None else None
    t = _t(Reference)
    row = session.execute(sa.select(t).where(t.c.id == ref_id)).mappings().one()
    return ReferenceDetail(
        citekey=row["citekey"], entry_type=row["entry_type"], title=row["title"],
        journal=row["journal"], year=row["year"], volume=row["volume"], issue=row["issue"],
        pages=row["pages"], doi=row["doi"], pmid=row["pmid"], study_design=row["study_design"],
        sample_size=row["sample_size"], note=row["note"], et_al=bool(row["et_al"]),
        authors=_author_names(session, ref_id),
        citations=_citations_of(session, ref_id, review_id),
        claims=_claims_citing(session, ref_id, review_id),
        findings=_findings_of(session, ref_id))


def same_work(ref_id: int) -> sa.Select[Any]:
    """The ids of every entry of the entry's work (in any review's bibliography)."""
    t = _t(Reference)
    work = sa.select(t.c.work_id).where(t.c.id == ref_id).scalar_subquery()
    return sa.select(t.c.id).where(t.c.work_id == work)


def _author_names(session: Session, ref_id: int) -> tuple[str, ...]:
    a = _t(Author)
    query = (sa.select(a.c.prefix, a.c.family, a.c.given, a.c.suffix)
             .where(a.c.reference_id == ref_id).order_by(a.c.position))
    return tuple(full_name(family, given, prefix, suffix)
                 for prefix, family, given, suffix in session.execute(query))


def _citations_of(session: Session, ref_id: int, review_id: int | None
                  ) -> tuple[CitationNumber, ...]:
    c, r = _t(Citation), _t(Review)
    query = (sa.select(r.c.code, c.c.number).join(r, r.c.id == c.c.review_id)
             .where(c.c.reference_id.in_(same_work(ref_id)))
             .order_by(bytewise(r.c.code, session)))
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return tuple(CitationNumber(*row) for row in session.execute(query))


def _claims_citing(session: Session, ref_id: int, review_id: int | None
                   ) -> Results[ClaimRow]:
    c, cr = _t(Claim), _t(ClaimReference)
    where: list[sa.ColumnElement[bool]] = [
        c.c.id.in_(sa.select(cr.c.claim_id).where(cr.c.reference_id.in_(same_work(ref_id))))]
    if review_id is not None:
        where.append(c.c.review_id == review_id)
    query = _claim_query(where).order_by(bytewise(c.c.claim_id, session))
    return Results(_claim_rows(session, query), row_type=ClaimRow)


def _finding_query(review_id: Any, *extra: Any) -> sa.Select[Any]:
    """The contract's finding fields (then `extra`), the reference numbered in `review_id`
    (a review id, or a column holding one; None: no number)."""
    f, ref, ct = _t(SourceFinding), _t(Reference), _t(Citation)
    on = (ct.c.reference_id == f.c.reference_id) & (ct.c.review_id == (
        review_id if review_id is not None else -1))
    return (sa.select(*_select(FINDING.stored, {"source_finding": f, "reference": ref,
                                                "citation": ct}), *extra)
            .join(ref, ref.c.id == f.c.reference_id).outerjoin(ct, on))


def _findings_of(session: Session, ref_id: int) -> Results[FindingRow]:
    """The findings of the reference's work, the same whichever review is chosen (no
    number)."""
    f = _t(SourceFinding)
    query = (_finding_query(None).where(f.c.reference_id.in_(same_work(ref_id)))
             .order_by(bytewise(f.c.finding_id, session)))
    return Results((FindingRow(*row) for row in session.execute(query)), row_type=FindingRow)


# --- export queries ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportAuthor:
    family: str
    given: str
    prefix: str
    suffix: str


@dataclass(frozen=True, slots=True)
class ExportReference:
    """A reference with its authors and, when a review is chosen, its citation number."""

    # The export's column order (`tabular.REFERENCE_COLUMNS`); see `ReferenceDetail`.
    number: int | None
    key: str
    entry_type: str
    authors: tuple[ExportAuthor, ...]
    et_al: bool
    year: int | None
    year_text: str | None
    title: str
    journal: str | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmid: str | None
    study_design: str | None
    sample_size: int | None
    note: str | None
    raw_fields: str
    entry_id: int = 0  # the stored entry's id
    bibliography: str = LIBRARY  # the review whose bibliography holds it ("": the library)


@dataclass(frozen=True, slots=True)
class ExportCitation:
    review: str
    number: int
    reference_key: str


@dataclass(frozen=True, slots=True)
class ReviewScope:
    """The reviews a command works on: one (`id`, `code`), or, when none was named and
    several are loaded, every one (`id` and `code` None). `loaded`: every review's code."""

    id: int | None
    code: str | None
    loaded: tuple[str, ...]
    named: bool = False  # chosen by name: shared records (vocabulary, library) are narrowed

    @property
    def several(self) -> bool:
        """Every review, and there is more than one: outputs carry a `review` column."""
        return self.id is None and len(self.loaded) > 1


def review_scope(session: Session, *, code: str | None, one: bool = False) -> ReviewScope:
    """The review a command works on: `code` (the CLI's `--review`, else `$IVCDB_REVIEW`),
    else the only loaded review, else every loaded review, or, with `one` (a command printing
    one review's numbered evidence), a `UsageError` naming them. An unknown `code` is a
    `UsageError` naming the loaded reviews."""
    t = _t(Review)
    rows = session.execute(sa.select(t.c.code, t.c.id).order_by(bytewise(t.c.code, session)))
    reviews = dict(rows.all())
    loaded = tuple(reviews)
    if code is not None:
        if code not in reviews:
            listed = f"loaded reviews: {', '.join(loaded)}" if loaded else "no review is loaded"
            raise UsageError(f"unknown review {code!r}{did_you_mean(code, loaded)}; {listed}")
        return ReviewScope(reviews[code], code, loaded, named=True)
    if len(loaded) == 1:
        return ReviewScope(reviews[loaded[0]], loaded[0], loaded)
    if one and loaded:
        raise UsageError(f"{len(loaded)} reviews are loaded ({', '.join(loaded)}); name one "
                         "with --review ID or $IVCDB_REVIEW")
    return ReviewScope(None, None, loaded)


def choose_review(session: Session, *, code: str | None) -> tuple[int, str] | None:
    """The named review as (id, code); unnamed: the only review, or None if there is none.
    Several loaded and none named, or an unknown code: `UsageError` (see `review_scope`)."""
    scope = review_scope(session, code=code, one=True)
    return (scope.id, scope.code) if scope.id is not None and scope.code is not None else None


def _authors_by_reference(session: Session) -> dict[int, list[ExportAuthor]]:
    a = _t(Author)
    query = sa.select(a.c.reference_id, a.c.family, a.c.given, a.c.prefix, a.c.suffix).order_by(
        a.c.reference_id, a.c.position)
    out: dict[int, list[ExportAuthor]] = {}
    for ref_id, *parts in session.execute(query):
        out.setdefault(ref_id, []).append(ExportAuthor(*parts))
    return out


def export_references(session: Session, *, review_id: int | None,
                      cited_only: bool = False) -> Results[ExportReference]:
    """A review's bibliography (and the library entries it cites): cited entries by number,
    then the rest by citekey. With no review, every entry of every bibliography and the
    library, by citekey."""
    r, c, rv = _t(Reference), _t(Citation), _t(Review)
    on = (c.c.reference_id == r.c.id) & (c.c.review_id == (review_id or -1))
    query = (sa.select(c.c.number, _scope(rv.c.code).label("bibliography"), r)
             .select_from(r.join(c, on, isouter=not cited_only)
                          .join(rv, rv.c.id == r.c.review_id, isouter=True)))
    if review_id is not None and not cited_only:
        cl, cr = _t(Claim), _t(ClaimReference)
        claimed = (sa.select(cr.c.reference_id).join(cl, cl.c.id == cr.c.claim_id)
                   .where(cl.c.review_id == review_id))
        query = query.where((r.c.review_id == review_id) | c.c.number.is_not(None)
                            | r.c.id.in_(claimed))
    query = query.order_by(c.c.number.is_(None), c.c.number, bytewise(r.c.citekey, session),
                           _scope(rv.c.code), r.c.id)
    authors = _authors_by_reference(session)
    return Results(
        ExportReference(
            number=row["number"], key=row["citekey"], entry_type=row["entry_type"],
            authors=tuple(authors.get(row["id"], ())), et_al=bool(row["et_al"]),
            year=row["year"], year_text=row["year_text"], title=row["title"],
            journal=row["journal"], volume=row["volume"], issue=row["issue"],
            pages=row["pages"], doi=row["doi"], pmid=row["pmid"],
            study_design=row["study_design"], sample_size=row["sample_size"],
            note=row["note"], raw_fields=row["raw_fields"], entry_id=row["id"],
            bibliography=row["bibliography"])
        for row in session.execute(query).mappings())


def export_claims(session: Session, *, outcome: str | None = None,
                  review_id: int | None = None) -> Results[ClaimRow]:
    """Claims by claim id (byte-wise), each with its references in citation order."""
    cl = _t(Claim)
    where = ([cl.c.outcome_code == outcome] if outcome is not None else []) + (
        [cl.c.review_id == review_id] if review_id is not None else [])
    query = _claim_query(where).order_by(bytewise(cl.c.claim_id, session))
    return Results(_claim_rows(session, query, narrow=bool(where)), row_type=ClaimRow)


def export_citations(session: Session, *, review_id: int | None = None
                     ) -> Results[ExportCitation]:
    """Every review's (or one review's) numbered reference list, by review code then number."""
    c, rv, ref = _t(Citation), _t(Review), _t(Reference)
    query = (sa.select(rv.c.code, c.c.number, ref.c.citekey)
             .join(rv, rv.c.id == c.c.review_id).join(ref, ref.c.id == c.c.reference_id)
             .order_by(bytewise(rv.c.code, session), c.c.number))
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return Results(ExportCitation(*row) for row in session.execute(query))


def export_vocabulary(session: Session, model: type[SQLModel],
                      codes: set[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a vocabulary table (units, measures, outcomes) by code, byte-wise; with
    `codes`, those rows only (see `review_vocabulary`)."""
    t = _t(model)
    query = sa.select(t).order_by(bytewise(t.c.code, session))
    if codes is not None:
        query = query.where(t.c.code.in_(sorted(codes)))
    return [dict(row) for row in session.execute(query).mappings()]


def review_vocabulary(session: Session, *, review_id: int) -> dict[str, set[str]]:
    """The codes one review uses: the outcomes of its claims, the units of those claims and
    outcomes, the measures of those outcomes, the measures and units of the findings of the
    references its list numbers, and the measures these declare related (keys `outcomes`,
    `units`, `measures`)."""
    c, o, f, ct = _t(Claim), _t(Outcome), _t(SourceFinding), _t(Citation)
    used = (sa.select(c.c.outcome_code, c.c.unit_code, o.c.unit_code, o.c.measure_code)
            .join(o, o.c.code == c.c.outcome_code).where(c.c.review_id == review_id)
            .distinct())
    out: dict[str, set[str]] = {"outcomes": set(), "units": set(), "measures": set()}
    for outcome, claim_unit, outcome_unit, measure in session.execute(used):
        out["outcomes"].add(outcome)
        out["units"].update(u for u in (claim_unit, outcome_unit) if u is not None)
        if measure is not None:
            out["measures"].add(measure)
    found = (sa.select(f.c.measure_code, f.c.unit_code)
             .join(ct, ct.c.reference_id == f.c.reference_id)
             .where(ct.c.review_id == review_id).distinct())
    for measure, unit in session.execute(found):
        out["measures"].add(measure)
        if unit is not None:
            out["units"].add(unit)
    # and the measures those declare related, so that the review's measures file loads alone
    m = _t(Measure)
    declared = dict(session.execute(sa.select(m.c.code, m.c.related)
                                    .where(m.c.related.is_not(None))).all())
    todo = list(out["measures"])
    while todo:
        for other in filter(None, (declared.get(todo.pop()) or "").split(LIST_SEPARATOR)):
            if other not in out["measures"]:
                out["measures"].add(other)
                todo.append(other)
    return out


VOCABULARY_KINDS = ("units", "measures", "outcomes")


@dataclass(frozen=True, slots=True)
class VocabularyRow(_Row):
    """A code of the shared vocabulary with what it means: `vocabulary` is `unit`, `measure`
    or `outcome`; an outcome has a kind, unit, measure and timepoint, a measure a family and
    any related measures of other families (`;`-separated)."""

    vocabulary: str
    code: str
    label: str
    kind: str | None
    unit: str | None
    measure: str | None
    timepoint: str | None
    family: str | None
    related: str | None


def list_vocabulary(session: Session, *, review_id: int | None = None,
                    kinds: Sequence[str] = VOCABULARY_KINDS) -> Results[VocabularyRow]:
    """The codes of `kinds` (units, measures, outcomes, in that order), each by code
    (byte-wise); with `review_id`, only those the review uses (`review_vocabulary`)."""
    used = review_vocabulary(session, review_id=review_id) if review_id is not None else None
    rows = []
    for kind in (k for k in VOCABULARY_KINDS if k in kinds):
        codes = used[kind] if used is not None else None
        for row in export_vocabulary(session, VOCABULARY_MODELS[kind], codes):
            rows.append(VocabularyRow(
                kind[:-1], row["code"], row["label"], row.get("kind"), row.get("unit_code"),
                row.get("measure_code"), row.get("timepoint"), row.get("family"),
                row.get("related")))
    return Results(rows, row_type=VocabularyRow)


def export_outcome(session: Session, *, outcome: str) -> dict[str, Any]:
    """The outcome's vocabulary row (code matched case-insensitively), else `NotFound`."""
    query = _outcome_row_query()
    row = session.execute(query, {"code": outcome}).mappings().first()
    if row is None:  # not the stored code: match it case-insensitively
        code = _outcome_code(session, outcome)
        row = session.execute(query, {"code": code}).mappings().one()
    return dict(row)


@functools.cache
def _outcome_row_query() -> sa.Select[Any]:
    t = _t(Outcome)
    return sa.select(t).where(t.c.code == sa.bindparam("code"))


def _review_entries(review_id: Any) -> sa.CompoundSelect[Any]:
    """Ids of the entries a review holds or cites: its bibliography, its numbered list, the
    entries its claims cite (library ones included). `review_id` None: every review's."""
    r, c, cl, cr = _t(Reference), _t(Citation), _t(Claim), _t(ClaimReference)
    if review_id is None:
        return sa.union(sa.select(r.c.id).where(r.c.review_id.is_not(None)),
                        sa.select(c.c.reference_id), sa.select(cr.c.reference_id))
    return sa.union(
        sa.select(r.c.id).where(r.c.review_id == review_id),
        sa.select(c.c.reference_id).where(c.c.review_id == review_id),
        sa.select(cr.c.reference_id).join(cl, cl.c.id == cr.c.claim_id)
        .where(cl.c.review_id == review_id))


def export_findings(session: Session, *, review_id: int | None,
                    outside_reviews: bool = False) -> Results[FindingRow]:
    """Source findings by reference number, citekey, finding id.

    A review's: what its own findings files and the library's give about the works it cites,
    each under the review's entry of the work and numbered as the review numbers it (another
    review's findings on a shared work are not its). With no review: every finding, under the
    entry it was given for (`outside_reviews`: only those no review's export lists).
    """
    f, fs, ct = _t(SourceFinding), _t(FindingSource), _t(Citation)
    given, entry = _t(Reference).alias("given"), _t(Reference).alias("entry")
    query = sa.select(*_select(FINDING.stored, {"source_finding": f, "reference": entry,
                                                "citation": ct})).select_from(f)
    if review_id is None:
        query = (query.join(entry, entry.c.id == f.c.reference_id)
                 .outerjoin(ct, (ct.c.reference_id == entry.c.id) & (ct.c.review_id == -1)))
        if outside_reviews:
            by_review = sa.select(fs.c.finding_id).where(fs.c.review_id.is_not(None))
            cited = sa.select(given.c.work_id).where(given.c.id.in_(_review_entries(None)))
            query = query.where(f.c.id.not_in(by_review), entry.c.work_id.not_in(cited))
    else:
        given_here = sa.select(fs.c.finding_id).where((fs.c.review_id == review_id)
                                                      | fs.c.review_id.is_(None))
        query = (query.join(given, given.c.id == f.c.reference_id)
                 .join(entry, (entry.c.work_id == given.c.work_id)
                       & entry.c.id.in_(_review_entries(review_id)))
                 .outerjoin(ct, (ct.c.reference_id == entry.c.id)
                            & (ct.c.review_id == review_id))
                 .where(f.c.id.in_(given_here)))
    query = query.order_by(ct.c.number.is_(None), ct.c.number,
                           bytewise(entry.c.citekey, session), bytewise(f.c.finding_id, session))
    return Results((FindingRow(*row) for row in session.execute(query)), row_type=FindingRow)


# --- source check queries ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckClaim(ClaimRow):
    """A claim to check against its sources: a claim row plus its outcome's measure, the
    measure's label and family, the outcome's timepoint (which the check compares) and kind
    (a qualitative outcome is never compared with figures)."""

    measure: str | None
    measure_label: str | None
    family: str | None
    outcome_timepoint: str | None
    outcome_kind: str


@dataclass(frozen=True, slots=True)
class CheckFinding(FindingRow):
    """A finding plus its measure's label and family (which the check compares)."""

    measure_label: str
    family: str


def _citing_claims(shape: ClaimScope, roles: tuple[str, ...] | None = None
                   ) -> sa.Select[Any]:
    """Ids of the claims in scope (bound to `_scope_params`) that cite at least one reference
    (in one of `roles`)."""
    c, cr = _t(Claim), _t(ClaimReference)
    cites = sa.exists().where(cr.c.claim_id == c.c.id,
                              *([] if roles is None else [cr.c.role.in_(roles)]))
    return sa.select(c.c.id).where(*_scope_filter(shape), cites)


def source_check_claims(session: Session, *, outcome: str | None = None,
                        review: str | None = None, scope: ClaimScope | None = None
                        ) -> Results[CheckClaim]:
    """Claims citing references (in any role), by review, section, paragraph and claim_id
    (of one outcome, of one review; or of a resolved `scope`)."""
    scope = scope or claim_scope(session, outcome=outcome, review=review)
    query, links = _check_claims_query(session.get_bind().dialect.name, _shape(scope))
    return Results(_claim_rows(session, query, CheckClaim, params=_scope_params(scope),
                               links_query=links), row_type=CheckClaim)


@functools.lru_cache(maxsize=16)
def _check_claims_query(dialect: str, shape: ClaimScope) -> tuple[sa.Select[Any],
                                                                  sa.Select[Any]]:
    """`source_check_claims`' statement and its links' (bound to `_scope_params`)."""
    c, r, o, m = _t(Claim), _t(Review), _t(Outcome), _t(Measure)
    ids = _citing_claims(shape)
    query = (
        _claim_query([c.c.id.in_(ids)], o.c.measure_code, m.c.label, m.c.family,
                     o.c.timepoint.label("outcome_timepoint"), o.c.kind)
        .join(o, o.c.code == c.c.outcome_code)
        .outerjoin(m, m.c.code == o.c.measure_code)
        .order_by(bytewise_in(r.c.code, dialect),
                  bytewise_in(sa.func.coalesce(c.c.section, ""), dialect),
                  sa.func.coalesce(c.c.paragraph, 0), bytewise_in(c.c.claim_id, dialect))
    )
    return query, _link_query(query.with_only_columns(c.c.id))


def source_check_findings(session: Session, *, outcome: str | None = None,
                          review: str | None = None, measures: Sequence[str] | None = None,
                          scope: ClaimScope | None = None) -> Results[CheckFinding]:
    """Findings of every reference that supports a claim in scope (of one outcome, of one
    review; or of a resolved `scope`), by citekey and finding_id (of `measures` only, when
    given).

    Their `reference_number` is None: a reference may be cited in several reviews.
    """
    scope = scope or claim_scope(session, outcome=outcome, review=review)
    query = _check_findings_query(session.get_bind().dialect.name, _shape(scope),
                                  measures is not None)
    params = {**_scope_params(scope), "measures": list(measures or ())}
    return Results((CheckFinding(*row) for row in session.execute(query, params)),
                   row_type=CheckFinding)


@functools.lru_cache(maxsize=16)
def _check_findings_query(dialect: str, shape: ClaimScope, measures: bool) -> sa.Select[Any]:
    """`source_check_findings`' statement (bound to `_scope_params` and `measures`)."""
    f, m, cr, ct = _t(SourceFinding), _t(Measure), _t(ClaimReference), _t(Citation)
    given, cited = _alias(Reference, "given"), _alias(Reference, "cited")
    in_scope = (sa.select(cr.c.reference_id)
                .where(cr.c.role.in_(SUPPORTING_ROLES),
                       cr.c.claim_id.in_(_citing_claims(shape, SUPPORTING_ROLES))))
    # What a work reports serves every entry of it that a claim cites: each finding comes
    # once per citekey citing its work (so a claim finds it under its own key), through the
    # first such entry. (Grouped once, not looked up per finding: a correlated lookup made
    # this query quadratic in the findings.)
    twin = _alias(Reference, "twin")
    first = (sa.select(sa.func.min(twin.c.id)).where(twin.c.id.in_(in_scope))
             .group_by(twin.c.work_id, twin.c.citekey))
    query = (
        sa.select(*_select(FINDING.stored, {"source_finding": f, "reference": cited,
                                            "citation": ct}), m.c.label, m.c.family)
        .select_from(f)
        .join(given, given.c.id == f.c.reference_id)
        .join(cited, (cited.c.work_id == given.c.work_id) & cited.c.id.in_(first))
        .outerjoin(ct, (ct.c.reference_id == cited.c.id) & (ct.c.review_id == -1))
        .join(m, m.c.code == f.c.measure_code)
        .order_by(bytewise_in(cited.c.citekey, dialect), bytewise_in(f.c.finding_id, dialect))
    )
    if measures:
        query = query.where(f.c.measure_code.in_(sa.bindparam("measures", expanding=True)))
    return query


def related_measures(session: Session, measure: str) -> list[str]:
    """`measure` and every measure of its family (its code alone when it has none)."""
    return list(session.execute(_related_measures_query(), {"measure": measure}).scalars())


@functools.cache
def _related_measures_query() -> sa.Select[Any]:
    """`related_measures`' statement, built once (run per outcome by `ivcdb pool`)."""
    m = _t(Measure)
    measure = sa.bindparam("measure", type_=sa.String)
    family = sa.select(m.c.family).where(m.c.code == measure).scalar_subquery()
    return sa.select(m.c.code).where((m.c.code == measure)
                                     | ((m.c.family == family) & (m.c.family != "")))


def unit_labels(session: Session) -> dict[str, str]:
    """Unit code -> its display label (`percent` -> `%`)."""
    return _pairs(session, Unit, "code", "label")


def declared_related(session: Session) -> dict[str, frozenset[str]]:
    """Measure code -> the measures declared related to it (`related` in measures.csv), in
    both directions; measures without any are left out."""
    m = _t(Measure)
    found: dict[str, set[str]] = {}
    for code, related in session.execute(sa.select(m.c.code, m.c.related)
                                         .where(m.c.related.is_not(None))):
        for other in filter(None, related.split(LIST_SEPARATOR)):
            found.setdefault(code, set()).add(other)
            found.setdefault(other, set()).add(code)
    return {code: frozenset(others) for code, others in found.items()}


def review_whole_populations(session: Session) -> dict[str, tuple[str, ...]]:
    """Review id -> the finding populations its review.toml declares to mean the whole
    study (`whole_populations`, kept in `review.extra`); reviews declaring none are left out."""
    r = _t(Review)
    found: dict[str, tuple[str, ...]] = {}
    for code, extra in session.execute(sa.select(r.c.code, r.c.extra)):
        terms = json.loads(extra or "{}").get(WHOLE_POPULATIONS_KEY)
        if isinstance(terms, list):
            found[code] = tuple(t for t in terms if isinstance(t, str))
    return found


# --- load and check queries -------------------------------------------------------------------


def reference_citekeys(session: Session, scope: str | None = None) -> dict[str, str]:
    """citekey_norm -> citekey as stored (of one bibliography: a review's id, or "" for the
    library; else of all), to name references in messages."""
    t, joined, in_scope = _scoped_references()
    query = sa.select(t.c.citekey_norm, t.c.citekey).select_from(joined)
    if scope is not None:
        query = query.where(in_scope == scope)
    return dict(session.execute(query).all())


def reference_keys_by_identity(session: Session, scope: str) -> dict[str, str]:
    """`doi:<doi lower-cased>` / `pmid:<pmid>` -> citekey of the entries of one bibliography
    (a review's id, or "" for the library): how a reloaded file without citekeys keeps its
    keys (`ivcdb.loaders.citekeys`). Ordered by id, so the first entry of an identifier wins."""
    from ivcdb.loaders.citekeys import identities

    t, joined, in_scope = _scoped_references()
    query = (sa.select(t.c.doi, t.c.pmid, t.c.citekey).select_from(joined)
             .where(in_scope == scope, (t.c.doi.is_not(None)) | (t.c.pmid.is_not(None)))
             .order_by(t.c.id))
    out: dict[str, str] = {}
    for doi, pmid, citekey in session.execute(query):
        for identity in identities(doi, pmid):
            out.setdefault(identity, citekey)
    return out


_VOCABULARY_USERS: dict[str, tuple[tuple[type[SQLModel], str], ...]] = {
    "units": ((Outcome, "unit_code"), (Claim, "unit_code"), (SourceFinding, "unit_code")),
    "measures": ((Outcome, "measure_code"), (SourceFinding, "measure_code")),
    "outcomes": ((Claim, "outcome_code"),),
}


def vocabulary_in_use(session: Session, kind: str) -> set[str]:
    """Codes of a vocabulary (`units`, `measures`, `outcomes`) that some row refers to."""
    used: set[str] = set()
    for model, column in _VOCABULARY_USERS[kind]:
        col = _t(model).c[column]
        used.update(session.execute(sa.select(col).where(col.is_not(None)).distinct()).scalars())
    return used


@dataclass(frozen=True, slots=True)
class ReferenceCheckRow:
    """What `ivcdb check` needs to know about one reference."""

    citekey: str
    source: str
    entry_type: str
    title_norm: str
    year: int | None
    year_text: str | None
    journal: str | None
    doi: str | None
    pmid: str | None
    authors: int
    claims: int
    bibliography: str = LIBRARY  # the review whose bibliography holds it ("": the library)


def reference_check_rows(session: Session, *, review_id: int | None = None
                         ) -> Results[ReferenceCheckRow]:
    """Every reference (with `review_id`: those the review lists or its claims cite) with its
    author and claim counts (of that review's claims), in citekey order (bytewise)."""
    r, a, cr, cl, ct = _t(Reference), _t(Author), _t(ClaimReference), _t(Claim), _t(Citation)
    authors = (sa.select(sa.func.count()).where(a.c.reference_id == r.c.id)
               .scalar_subquery())
    citing = sa.select(sa.func.count(sa.distinct(cr.c.claim_id))).where(
        cr.c.reference_id == r.c.id)
    _, joined, scope = _scoped_references()
    query = sa.select(r.c.citekey, r.c.source, r.c.entry_type, r.c.title_norm, r.c.year,
                      r.c.year_text, r.c.journal, r.c.doi, r.c.pmid, authors
                      ).select_from(joined)
    if review_id is not None:
        of_review = sa.select(cl.c.id).where(cl.c.review_id == review_id)
        citing = citing.where(cr.c.claim_id.in_(of_review))
        query = query.where(
            (r.c.review_id == review_id)
            | r.c.id.in_(sa.select(ct.c.reference_id).where(ct.c.review_id == review_id))
            | r.c.id.in_(sa.select(cr.c.reference_id).where(cr.c.claim_id.in_(of_review))))
    query = query.add_columns(citing.scalar_subquery(), scope).order_by(
        bytewise(r.c.citekey, session), scope)
    return Results(ReferenceCheckRow(*row) for row in session.execute(query))


@dataclass(frozen=True, slots=True)
class ClaimLocator:
    """A claim and where in its review it is made."""

    claim_id: str
    source: str
    section: str | None
    paragraph: int | None


def _locator_columns(c: sa.Table) -> tuple[sa.Column[Any], ...]:
    """The claim table's columns of a `ClaimLocator`, in its order."""
    return c.c.claim_id, c.c.source, c.c.section, c.c.paragraph


def claim_locators(session: Session, *, review_id: int | None = None
                   ) -> Results[ClaimLocator]:
    """Every claim's (of one review's claims') section and paragraph, in claim_id order
    (bytewise)."""
    c = _t(Claim)
    query = sa.select(*_locator_columns(c)).order_by(bytewise(c.c.claim_id, session))
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return Results(ClaimLocator(*row) for row in session.execute(query))


@dataclass(frozen=True, slots=True)
class CitationUse(ClaimLocator):
    """One citation of a numbered reference by a claim, with where the claim is made."""

    review: str
    claim_row: int  # the claim's surrogate id: file order for claims loaded together
    position: int  # the reference's place in the claim's citation
    number: int
    citekey: str


def citation_uses(session: Session, *, review_id: int | None = None) -> Results[CitationUse]:
    """Every (claim, numbered reference) pair of every review (or of one), in claim and
    citation order."""
    c, cr, ci, rv, ref = _t(Claim), _t(ClaimReference), _t(Citation), _t(Review), _t(Reference)
    query = (
        sa.select(*_locator_columns(c), rv.c.code, c.c.id, cr.c.position, ci.c.number,
                  ref.c.citekey)
        .join(cr, cr.c.claim_id == c.c.id)
        .join(rv, rv.c.id == c.c.review_id)
        .join(ci, sa.and_(ci.c.review_id == c.c.review_id,
                          ci.c.reference_id == cr.c.reference_id))
        .join(ref, ref.c.id == cr.c.reference_id)
        .order_by(bytewise(rv.c.code, session), c.c.id, cr.c.position)
    )
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return Results(CitationUse(*row) for row in session.execute(query))


@dataclass(frozen=True, slots=True)
class UnlistedCitation:
    """A claim citing a reference that its review's citation list does not hold."""

    claim_id: str
    source: str
    review: str
    citekey: str


def unlisted_citations(session: Session, *, review_id: int | None = None
                       ) -> Results[UnlistedCitation]:
    """Claim links (of one review's claims) with no citation number in the claim's review,
    by claim_id then citekey."""
    cl, rv, cr, ref, ct = _t(Claim), _t(Review), _t(ClaimReference), _t(Reference), _t(Citation)
    query = (sa.select(cl.c.claim_id, cl.c.source, rv.c.code, ref.c.citekey)
             .join(cr, cr.c.claim_id == cl.c.id).join(rv, rv.c.id == cl.c.review_id)
             .join(ref, ref.c.id == cr.c.reference_id)
             .outerjoin(ct, (ct.c.reference_id == cr.c.reference_id)
                        & (ct.c.review_id == cl.c.review_id))
             .where(ct.c.id.is_(None))
             .order_by(bytewise(cl.c.claim_id, session), bytewise(ref.c.citekey, session)))
    if review_id is not None:
        query = query.where(cl.c.review_id == review_id)
    return Results(UnlistedCitation(*row) for row in session.execute(query))


# --- plot queries -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlotFinding(FindingRow):
    """A finding beside a claim it supports (its number is in the claim's review): plus the
    claim, the measure's label and whether it is the outcome's own measure."""

    claim_id: str
    measure_label: str
    same_measure: bool  # False: another measure of the same family (e.g. disease-specific)


_FINDING_MEASURE = _t(Measure).alias("mf")  # a finding's measure, beside the outcome's


def _beside_query(session: Session, *columns: Any) -> sa.Select[Any]:
    """`columns`, then the claim's, its outcome's and the finding's timepoints, for each
    finding beside a claim: a finding of a supporting reference's work, of the outcome's
    measure or another of its family; by claim, citation order, finding."""
    c, o, cr, f = _t(Claim), _t(Outcome), _t(ClaimReference), _t(SourceFinding)
    ref, mo, mf = _t(Reference), _t(Measure), _FINDING_MEASURE
    given = _t(Reference).alias("given")  # the entry a finding was given for (same work)
    related = (mf.c.code == mo.c.code) | ((mf.c.family == mo.c.family) & (mo.c.family != ""))
    return (
        sa.select(*columns, c.c.timepoint, o.c.timepoint, f.c.timepoint)
        .select_from(c)
        .join(o, o.c.code == c.c.outcome_code)
        .join(mo, mo.c.code == o.c.measure_code)
        .join(cr, (cr.c.claim_id == c.c.id) & cr.c.role.in_(SUPPORTING_ROLES))
        .join(ref, ref.c.id == cr.c.reference_id)
        .join(f, f.c.reference_id.in_(sa.select(given.c.id)
                                      .where(given.c.work_id == ref.c.work_id)))
        .join(mf, (mf.c.code == f.c.measure_code) & related)
        .order_by(bytewise(c.c.claim_id, session), cr.c.position,
                  bytewise(f.c.finding_id, session))
    )


def _at_the_claims_timepoint(session: Session, query: sa.Select[Any]) -> Iterator[Any]:
    """The rows of a `_beside_query` whose finding is at the claim's timepoint (its own,
    else its outcome's; a claim naming none takes every finding), without the timepoints."""
    for *row, claim_time, outcome_time, finding_time in session.execute(query):
        if timepoints_match(claim_time or outcome_time, finding_time):
            yield row


def plot_findings(session: Session, *, outcome: str, review_id: int | None = None
                  ) -> Results[PlotFinding]:
    """Findings of each supporting reference of the outcome's claims (of one review, with
    `review_id`), same measure family, at the claim's timepoint."""
    c, o, f = _t(Claim), _t(Outcome), _t(SourceFinding)
    ref, cit, mf = _t(Reference), _t(Citation), _FINDING_MEASURE
    query = (_beside_query(session, *_select(FINDING.stored, {
                 "source_finding": f, "reference": ref, "citation": cit}),
                           c.c.claim_id, mf.c.label, f.c.measure_code == o.c.measure_code)
             .outerjoin(cit, (cit.c.reference_id == ref.c.id)
                        & (cit.c.review_id == c.c.review_id))
             .where(c.c.outcome_code == outcome))
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    return Results((PlotFinding(*row[:-1], bool(row[-1]))  # type: ignore[call-arg]
                    for row in _at_the_claims_timepoint(session, query)), row_type=PlotFinding)


def findings_beside_claims(session: Session) -> list[tuple[int, int, int, int]]:
    """(claim.id, source_finding.id, cited reference id, its position in the claim's
    citation) of every finding `plot_findings` sets beside a claim, for the snapshot's
    `claim_finding` table (the web UI's "Claims beside the sources' own figures")."""
    c, f, cr = _t(Claim), _t(SourceFinding), _t(ClaimReference)
    query = _beside_query(session, c.c.id, f.c.id, cr.c.reference_id, cr.c.position)
    return [(int(a), int(b), int(r), int(p))
            for a, b, r, p in _at_the_claims_timepoint(session, query)]


def findings_by_id(session: Session, ids: Iterable[int]) -> dict[int, FindingRow]:
    """source_finding.id -> its row (no reference number), for the findings named."""
    f = _t(SourceFinding)
    wanted = sorted(set(ids))
    out: dict[int, FindingRow] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        query = _finding_query(None, f.c.id).where(f.c.id.in_(wanted[start:start + IN_CHUNK]))
        out.update((row[-1], FindingRow(*row[:-1])) for row in session.execute(query))
    return out


@dataclass(frozen=True, slots=True)
class MapCell:
    """How many claims of one outcome cite one reference (in a supporting role or not)."""

    reference_key: str
    reference_number: int | None  # lowest number in any review (or the one mapped)
    first_author: str | None
    year: int | None
    outcome: str
    outcome_label: str
    claims: int
    supporting: bool  # at least one link has role supports or data_source


def reference_outcome_map(session: Session, *, review_id: int | None = None
                          ) -> Results[MapCell]:
    """Every (reference, outcome) pair linked by a claim (of one review, with `review_id`:
    numbered in that review), by reference number then citekey."""
    c, o, cr, ref, cit, a = (_t(Claim), _t(Outcome), _t(ClaimReference), _t(Reference),
                             _t(Citation), _t(Author))
    numbers = sa.select(sa.func.min(cit.c.number)).where(cit.c.reference_id == ref.c.id)
    if review_id is not None:
        numbers = numbers.where(cit.c.review_id == review_id)
    number = numbers.scalar_subquery()
    first = (sa.select(a.c.family).where(a.c.reference_id == ref.c.id, a.c.position == 1)
             .scalar_subquery())
    supporting = sa.func.max(sa.case((cr.c.role.in_(SUPPORTING_ROLES), 1), else_=0))
    query = (
        sa.select(ref.c.citekey, number, first, ref.c.year, o.c.code, o.c.label,
                  sa.func.count(sa.distinct(c.c.id)), supporting)
        .select_from(ref)
        .join(cr, cr.c.reference_id == ref.c.id)
        .join(c, c.c.id == cr.c.claim_id)
        .join(o, o.c.code == c.c.outcome_code)
        .group_by(ref.c.id, ref.c.citekey, ref.c.year, o.c.code, o.c.label)
    )
    if review_id is not None:
        query = query.where(c.c.review_id == review_id)
    cells = [MapCell(key, number, family, year, code, label, claims, bool(supporting))
             for key, number, family, year, code, label, claims, supporting
             in session.execute(query)]
    # Python orders str by code point: the same order on every engine.
    cells.sort(key=lambda m: (m.reference_number is None, m.reference_number or 0,
                              m.reference_key, m.outcome))
    return Results(cells)


# --- the snapshot's views ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeOverview:
    """An outcome in one review, with labels instead of codes and that review's claims and
    distinct cited references; an outcome no claim uses has no review and no counts."""

    outcome: str
    label: str
    kind: str
    unit: str | None  # the unit's label
    measure: str | None  # the measure's label
    timepoint: str | None
    claims: int
    cited_references: int
    review: str | None  # the review's id
    description: str | None


def outcome_overview_query(dialect: str) -> sa.Select[Any]:
    """The select of `outcome_overview` for a dialect; the snapshot's `outcome_summary` view
    is this select compiled for SQLite."""
    o, u, m, c, cr, rv = (_t(Outcome), _t(Unit), _t(Measure), _t(Claim), _t(ClaimReference),
                          _t(Review))
    used = sa.select(c.c.review_id, c.c.outcome_code).distinct().subquery("used")
    mine = (c.c.outcome_code == o.c.code) & (c.c.review_id == used.c.review_id)
    claims = sa.select(sa.func.count()).select_from(c).where(mine).scalar_subquery()
    cited = (sa.select(sa.func.count(sa.distinct(cr.c.reference_id)))
             .select_from(c).join(cr, cr.c.claim_id == c.c.id).where(mine).scalar_subquery())
    return (
        sa.select(o.c.code.label("outcome"), o.c.label, o.c.kind, u.c.label.label("unit"),
                  m.c.label.label("measure"), o.c.timepoint, claims.label("claims"),
                  cited.label("cited_references"), rv.c.code.label("review"),
                  o.c.description)
        .outerjoin(used, used.c.outcome_code == o.c.code)
        .outerjoin(rv, rv.c.id == used.c.review_id)
        .outerjoin(u, u.c.code == o.c.unit_code)
        .outerjoin(m, m.c.code == o.c.measure_code)
        .order_by(sa.desc("claims"), bytewise_in(o.c.code, dialect),
                  bytewise_in(rv.c.code, dialect))
    )


def outcome_overview(session: Session) -> Results[OutcomeOverview]:
    """Every outcome in every review using it (an unused one once, without a review), most
    claimed first, then by code and review."""
    query = outcome_overview_query(session.get_bind().dialect.name)
    return Results((OutcomeOverview(*row) for row in session.execute(query)),
                   row_type=OutcomeOverview)
