"""Tables of the evidence database.

A *review* cites *references*; each reference has ordered *authors*; a *citation* gives a
reference its number in one review. A *claim* is one statement of a review with its numbers,
linked to the references that support it. *Outcomes*, *measures* and *units* are the controlled
vocabularies; *source findings* are what a cited source itself reports; *load events* record
every load.

Integrity lives in the schema: the naming convention below is set before the first table so
that every key, index and CHECK has a stable name on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ivcdb.terms import (
    CITATION_ROLES,
    CLAIM_BOUNDS,
    EFFECTS,
    FINDING_BOUNDS,
    MANUAL_STATUSES,
    OUTCOME_KINDS,
    PERCENT,
    QUALIFIERS,
    RANGE,
    REVIEW_ID_LENGTH,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _percent_range(column: str) -> str:
    return f"unit_code <> '{PERCENT}' OR {column} IS NULL OR ({column} >= 0 AND {column} <= 100)"


def _choice(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR " + _in(column, values)


def _bounds_checks(choices: tuple[str, ...]) -> tuple[sa.CheckConstraint, ...]:
    """CHECKs of `bounds`, what value_low/value_high are: one of `choices`, given only with
    both ends, and a CI or IQR holds the value (a range need not: a claim's may not)."""
    return (
        sa.CheckConstraint(_choice("bounds", choices), name="bounds"),
        sa.CheckConstraint("bounds IS NULL OR (value_low IS NOT NULL AND value_high IS NOT "
                           "NULL)", name="bounds_ends"),
        sa.CheckConstraint(f"bounds IS NULL OR bounds = '{RANGE}' OR value IS NULL OR "
                           "(value_low <= value AND value <= value_high)", name="bounds_value"),
    )


def _figure_checks(*more: sa.CheckConstraint) -> tuple[sa.CheckConstraint, ...]:
    """CHECKs of a row holding a figure: low <= high, a count within its total, `more`,
    then a percentage value within 0-100 (new objects per call: one table each)."""
    return (
        sa.CheckConstraint(
            "value_low IS NULL OR value_high IS NULL OR value_low <= value_high", name="range"),
        sa.CheckConstraint("numerator IS NULL OR (numerator >= 0 AND "
                           "(denominator IS NULL OR numerator <= denominator))",
                           name="numerator"),
        *more,
        sa.CheckConstraint(_percent_range("value"), name="percent_value"),
    )


class Review(SQLModel, table=True):
    """The citing document: a review article whose statements become claims."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=REVIEW_ID_LENGTH)
    title: str
    authors: str = ""
    year: int | None = None
    published: str | None = None
    publisher: str | None = None
    license: str | None = None
    note: str | None = None
    extra: str = "{}"  # JSON object: any further fields of the review file, kept as given


class Unit(SQLModel, table=True):
    """A unit of measurement (`percent`, `mm`, `mg/m2`, ...)."""

    code: str = Field(primary_key=True, max_length=40)
    label: str
    description: str = ""


class Measure(SQLModel, table=True):
    """What a source measures (`overall_survival`); `family` groups alternative measures;
    `related` names measures of other families shown beside it as context (`;`-separated
    codes: `recurrence` -> `disease_free_survival`; the relation holds both ways)."""

    code: str = Field(primary_key=True, max_length=80)
    label: str
    family: str = Field(default="", index=True)
    description: str = ""
    related: str | None = None


class Outcome(SQLModel, table=True):
    """An outcome a claim reports, tied to a measure and timepoint for source checks."""

    __table_args__ = (sa.CheckConstraint(_in("kind", OUTCOME_KINDS), name="kind"),)

    code: str = Field(primary_key=True, max_length=80)
    label: str
    kind: str = Field(max_length=20)
    unit_code: str | None = Field(
        default=None, foreign_key="unit.code", ondelete="RESTRICT", index=True
    )
    measure_code: str | None = Field(
        default=None, foreign_key="measure.code", ondelete="RESTRICT", index=True
    )
    timepoint: str | None = None
    description: str = ""


# A library entry (no review) is unique by its folded citekey among library entries.
LIBRARY_ENTRY = sa.text("review_id IS NULL")


class Reference(SQLModel, table=True):
    """One entry of a bibliography, as its BibTeX entry gives it.

    Each review has its own bibliography (`review_id`); entries with no review form the
    shared library. Entries that are the same work (same DOI, PMID, or folded title, year and
    first author) share a `work_id` (the id of one of them), across bibliographies.
    """

    __table_args__ = (
        sa.CheckConstraint("sample_size IS NULL OR sample_size >= 0", name="sample_size"),
        # leading citekey_norm: the index also serves lookups by citekey alone
        sa.UniqueConstraint("citekey_norm", "review_id"),
        sa.Index("uq_reference_library_citekey_norm", "citekey_norm", unique=True,
                 sqlite_where=LIBRARY_ENTRY, postgresql_where=LIBRARY_ENTRY),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="RESTRICT")
    work_id: int | None = Field(default=None, index=True)
    citekey: str = Field(max_length=250)
    # NFC + casefold of the citekey: two keys differing only in case are one entry.
    citekey_norm: str = Field(max_length=250)
    entry_type: str = Field(max_length=40)
    title: str
    title_norm: str = ""  # compared in Python (duplicate check), never searched
    journal: str | None = None
    year_text: str | None = None
    year: int | None = Field(default=None, index=True)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = Field(default=None, index=True)
    pmid: str | None = Field(default=None, index=True)
    study_design: str | None = None
    sample_size: int | None = None
    note: str | None = None
    et_al: bool = False  # the author list ends in "and others"
    source: str = ""  # path of the file the entry was last loaded from (read whole)
    raw_fields: str = "{}"  # JSON object: field name -> raw BibTeX text (keeps {DNA} protection)
    content_hash: str = Field(default="", max_length=64)


class Author(SQLModel, table=True):
    """One author of a reference, in order; the name split into its parts."""

    __table_args__ = (
        sa.UniqueConstraint("reference_id", "position"),
        sa.CheckConstraint("position >= 1", name="position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # searched through the unique (reference_id, position) index
    reference_id: int = Field(foreign_key="reference.id", ondelete="CASCADE")
    position: int
    family: str = ""
    given: str = ""
    prefix: str = ""
    suffix: str = ""
    # accent- and case-folded "given family"; not indexed: `query --author` also matches its
    # last word (a LIKE with a leading wildcard), so it scans the authors whatever the index
    name_norm: str = Field(default="")


class Citation(SQLModel, table=True):
    """A reference's number in one review's reference list."""

    __table_args__ = (
        sa.UniqueConstraint("review_id", "number"),
        sa.UniqueConstraint("review_id", "reference_id"),
        sa.CheckConstraint("number >= 1", name="number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    reference_id: int = Field(foreign_key="reference.id", ondelete="RESTRICT", index=True)
    number: int


class Claim(SQLModel, table=True):
    """One statement of a review, in our words, with its numbers and locator."""

    __table_args__ = (
        *_figure_checks(sa.CheckConstraint("denominator IS NULL OR denominator > 0",
                                           name="denominator")),
        sa.CheckConstraint(_percent_range("value_low"), name="percent_low"),
        sa.CheckConstraint(_percent_range("value_high"), name="percent_high"),
        sa.CheckConstraint(
            "qualifier IS NULL OR " + _in("qualifier", QUALIFIERS), name="qualifier"
        ),
        sa.CheckConstraint("paragraph IS NULL OR paragraph >= 1", name="paragraph"),
        sa.UniqueConstraint("review_id", "claim_id"),
        *_bounds_checks(CLAIM_BOUNDS),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(max_length=200)  # unique within its review
    review_id: int = Field(foreign_key="review.id", ondelete="RESTRICT")
    outcome_code: str = Field(foreign_key="outcome.code", ondelete="RESTRICT", index=True)
    statement: str
    statement_norm: str = ""  # accent- and case-folded statement
    # The words of statement, outcome code and label, population, folded (`search_text`):
    # what `query claims --text` searches, through SEARCH_TABLE / SEARCH_INDEX.
    search_norm: str | None = None
    value: float | None = None
    value_low: float | None = None
    value_high: float | None = None
    unit_code: str | None = Field(
        default=None, foreign_key="unit.code", ondelete="RESTRICT", index=True
    )
    numerator: int | None = None
    denominator: int | None = None
    qualifier: str | None = None
    timepoint: str | None = None
    population: str | None = None
    derived: bool = False
    reported: str | None = None
    section: str | None = None
    paragraph: int | None = None
    source: str = ""
    content_hash: str = Field(default="", max_length=64)
    # Who extracted and checked the claim, and when (the contract's provenance fields): in
    # no content hash, so never a change by themselves.
    extracted_by: str | None = None
    extracted_at: str | None = None
    checked_by: str | None = None
    checked_at: str | None = None
    bounds: str | None = Field(default=None, max_length=10)  # terms.CLAIM_BOUNDS; NULL: range


# The word index of `claim.search_norm`, outside the models (engine-specific, derived, never
# copied or compared; created by migration 0007): SQLite an FTS5 table with external content
# (`claim`) kept current by triggers on `claim`; PostgreSQL a GIN index of
# to_tsvector('simple', search_norm).
SEARCH_TABLE = "claim_search"
SEARCH_INDEX = "ix_claim_search"


def is_search_object(name: str | None) -> bool:
    """A table (the FTS5 table or one of its shadow tables) or index of the word index."""
    return name is not None and (name == SEARCH_INDEX or name == SEARCH_TABLE
                                 or name.startswith(SEARCH_TABLE + "_"))


class ClaimReference(SQLModel, table=True):
    """A claim cites a reference in a role: supports, data_source or disagrees."""

    __tablename__ = "claim_reference"
    __table_args__ = (
        sa.CheckConstraint(_in("role", CITATION_ROLES), name="role"),
        sa.CheckConstraint("position >= 1", name="position"),
    )

    claim_id: int = Field(foreign_key="claim.id", ondelete="CASCADE", primary_key=True)
    reference_id: int = Field(
        foreign_key="reference.id", ondelete="RESTRICT", primary_key=True, index=True
    )
    role: str = Field(default="supports", max_length=20)
    position: int = 1  # order of the reference in the claim's citation


class SourceFinding(SQLModel, table=True):
    """A figure a cited source itself reports, with where it was seen."""

    __tablename__ = "source_finding"
    __table_args__ = (
        *_figure_checks(),
        *_bounds_checks(FINDING_BOUNDS),
        sa.CheckConstraint("n IS NULL OR n >= 1", name="n"),
        sa.CheckConstraint("numerator IS NULL OR n IS NULL OR numerator <= n",
                           name="numerator_n"),
        # a CI has both bounds, low <= high, and holds the value
        sa.CheckConstraint("(ci_low IS NULL AND ci_high IS NULL) OR (ci_low IS NOT NULL AND "
                           "ci_high IS NOT NULL AND ci_low <= ci_high)", name="ci"),
        sa.CheckConstraint("value IS NULL OR ci_low IS NULL OR (ci_low <= value AND "
                           "value <= ci_high)", name="ci_value"),
        sa.CheckConstraint("ci_level IS NULL OR (ci_level > 0 AND ci_level < 100)",
                           name="ci_level"),
        sa.CheckConstraint("se IS NULL OR se >= 0", name="se"),
        sa.CheckConstraint(_choice("effect", EFFECTS), name="effect"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # as the file that first gave it names it (each file's own id: `finding_source`)
    finding_id: str = Field(max_length=200)
    # The figure columns below repeat Claim's on purpose: a shared mixin would reorder both
    # tables' columns, which the migrations and every `SELECT *` consumer fix.
    reference_id: int = Field(foreign_key="reference.id", ondelete="RESTRICT", index=True)
    measure_code: str = Field(foreign_key="measure.code", ondelete="RESTRICT", index=True)
    value: float | None = None
    value_low: float | None = None
    value_high: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    unit_code: str | None = Field(
        default=None, foreign_key="unit.code", ondelete="RESTRICT", index=True
    )
    timepoint: str | None = None
    population: str | None = None
    note: str | None = None
    seen_at: str | None = None
    source: str = ""  # path of the file it was first loaded from; `finding_source` has all
    content_hash: str = Field(default="", max_length=64)
    extracted_by: str | None = None  # provenance, as the claim's
    extracted_at: str | None = None
    checked_by: str | None = None
    checked_at: str | None = None
    # For synthesis (0.2): the analysed n (NULL: not stated; `FindingRow.analysed_n` falls
    # back to the denominator), a CI (its level NULL: 95), the SE, what value_low/high are
    # (terms.FINDING_BOUNDS; NULL: range) and the effect measure (terms.EFFECTS).
    n: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    se: float | None = None
    bounds: str | None = Field(default=None, max_length=10)
    effect: str | None = Field(default=None, max_length=20)


class FindingSource(SQLModel, table=True):
    """A file (of a review, or of the library when `review_id` is NULL) giving a finding.

    A finding is what a source reports, the same whichever review cites it: a file giving an
    identical one adds a row here, not a second finding.
    """

    __tablename__ = "finding_source"

    path: str = Field(primary_key=True)
    finding_key: str = Field(primary_key=True, max_length=200)  # the finding's id there
    finding_id: int = Field(foreign_key="source_finding.id", ondelete="CASCADE", index=True)
    review_id: int | None = Field(default=None, foreign_key="review.id", ondelete="CASCADE",
                                  index=True)


class LoadEvent(SQLModel, table=True):
    """One load of one file: what was read and what changed."""

    __tablename__ = "load_event"

    id: int | None = Field(default=None, primary_key=True)
    loaded_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    kind: str = Field(max_length=40)
    path: str
    sha256: str = Field(max_length=64)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    warnings: int = 0
    version: str = Field(default="", max_length=40)
    # `load --by`, else the OS user (NULL: a load before ivcdb recorded it)
    loaded_by: str | None = Field(default=None, max_length=200)
    resolved: int | None = None  # conflicts with others' values that `--resolve` overrode


class Assessment(SQLModel, table=True):
    """A reviewer's verdict on a claim against one source it cites, read by hand."""

    __table_args__ = (
        sa.CheckConstraint(_in("status", MANUAL_STATUSES), name="status"),
        sa.UniqueConstraint("claim_id", "reference_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", ondelete="CASCADE", index=True)
    reference_id: int = Field(foreign_key="reference.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=40)
    locator: str | None = None  # "Table 2, p. 24"
    quote: str | None = None
    assessed_by: str = Field(default="", max_length=200)
    assessed_at: str = Field(default="", max_length=40)  # ISO 8601, UTC


class ChangeRecord(SQLModel, table=True):
    """One insert, update or delete of a tracked row (`ivcdb.history`): append-only.

    Written by the command that made the change, in its transaction; no command updates or
    deletes it. `row_key` is the row's primary key as a JSON array, `old_values` and
    `new_values` its columns as a JSON object (NULL for an insert's old, a delete's new).
    """

    __tablename__ = "change_record"
    __table_args__ = (
        sa.CheckConstraint("action IN ('insert', 'update', 'delete')", name="action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    changed_by: str = Field(default="", max_length=200)
    command: str = Field(default="", max_length=40)  # load, review remove, ...
    table_name: str = Field(max_length=40)
    row_key: str
    action: str = Field(max_length=6)
    old_values: str | None = None
    new_values: str | None = None


TABLES = (
    Review,
    Unit,
    Measure,
    Outcome,
    Reference,
    Author,
    Citation,
    Claim,
    ClaimReference,
    SourceFinding,
    FindingSource,
    LoadEvent,
    Assessment,
    ChangeRecord,
)
