"""The field contract: every claim, claim-link and finding field, declared once.

A field is declared where its result row declares its attribute (`ClaimRow`, `LinkRow`,
`FindingRow`), with a `Field` as the attribute's metadata: the CSV name (the attribute's
name), the database column, the kind of value, whether an input cell must be filled, whether
an input file may leave the column out, and any parse rule (allowed values, the text an empty
cell stands for). Code reads the contract (`CLAIM`, `LINK`, `FINDING`) and derives from it
the CSV headers, the query select lists, the Parquet dtypes, the loaders' cell parsing and the
snapshot view's columns.

Fields are in today's CSV column order. A field added later carries `since` (the version
that added it): it is optional on input, and exports write it after today's columns, in
contract order. Adding a claim column therefore takes one line here, a column in
`ivcdb.models` and a migration (README, "Adding a column").

Pure data: no SQLAlchemy here, so the file readers can use it while the database libraries
are still being imported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from ivcdb.terms import (
    CITATION_ROLES,
    CLAIM_BOUNDS,
    DEFAULT_CI_LEVEL,
    DISAGREES,
    EFFECTS,
    FINDING_BOUNDS,
    QUALIFIERS,
    SUPPORTING_ROLES,
    SUPPORTS,
)

__all__ = ["CLAIM", "CLAIM_COLUMNS", "CLAIM_LONG_COLUMNS", "COMPARED_COLUMNS", "FINDING",
           "FINDING_COLUMNS", "FINDING_EXPORT_COLUMNS", "LINK", "LINK_COLUMNS",
           "SUPPORTING_ROLES", "WIDE_LINKS", "ClaimRow", "Contract", "Field", "FindingRow",
           "Kind", "LinkRow", "optional_columns", "required_columns", "spec", "wide_roles"]


class Kind(StrEnum):
    """What a cell holds, how it is parsed, and its pandas dtype."""

    TEXT = "text"  # str, None when empty
    NUMBER = "number"  # a finite float, None when empty
    COUNT = "count"  # a whole number of 0 or more, None when empty
    FLAG = "flag"  # true/false (yes/no, 1/0, ...); empty is false
    KEYS = "keys"  # a list of text (`a;b` in CSV)
    NUMBERS = "numbers"  # a list of whole numbers (`3;5` in CSV)
    LINKS = "links"  # a claim's cited references: KEYS and NUMBERS, or one row per link

    @property
    def dtype(self) -> str:
        """The nullable pandas dtype of a column of this kind (Parquet keeps it)."""
        return _DTYPES[self]


_DTYPES = {Kind.TEXT: "string", Kind.NUMBER: "Float64", Kind.COUNT: "Int64",
           Kind.FLAG: "boolean", Kind.KEYS: "object", Kind.NUMBERS: "object",
           Kind.LINKS: "object"}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the contract.

    `column` is `table.column` in the database; a table other than the contract's own is
    reached through a join (a claim's `review` is `review.code`).
    """

    column: str
    kind: Kind = Kind.TEXT
    required: bool = False  # an input cell must not be empty
    optional: bool = False  # an input file may leave the column out
    since: str | None = None  # version that added the field: optional on input, written last
    choices: tuple[str, ...] = ()  # the allowed values of a filled cell
    default: str | None = None  # what an empty cell stands for
    generated: bool = False  # the loader makes it when the file has none; exports write it
    provenance: bool = False  # who entered or checked the row, and when: never a change
    description: str = ""  # for readers: the web UI's column help (web/metadata.yml wins)
    name: str = ""  # the CSV column and row attribute: set from the attribute
    table: str = dataclasses.field(init=False, default="")  # `column` split once: loaders
    db_column: str = dataclasses.field(init=False, default="")  # use them for every cell

    def __post_init__(self) -> None:
        table, _, column = self.column.partition(".")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "db_column", column)

    @property
    def may_be_absent(self) -> bool:
        """An input file may leave the column out."""
        return self.optional or self.since is not None or self.generated


def spec(column: str, kind: Kind = Kind.TEXT, **options: Any) -> dict[str, Field]:
    """Dataclass field metadata declaring a contract field (see `Field`)."""
    return {"contract": Field(column, kind, **options)}


def _contract_fields(row_type: type) -> tuple[Field, ...]:
    return tuple(dataclasses.replace(f.metadata["contract"], name=f.name)
                 for f in dataclasses.fields(row_type) if "contract" in f.metadata)


# --- the rows ---------------------------------------------------------------------------------


class _Row:
    """Mixin of the contract rows: `as_dict()` in CSV column order, for renderers and JSON."""

    __slots__ = ()
    COLUMNS: ClassVar[tuple[str, ...]] = ()  # set below, from the contract

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _columns(type(self))}

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The CSV columns, then the fields a subclass adds (not in the contract)."""
        return _columns(cls)


_COLUMNS: dict[type[_Row], tuple[str, ...]] = {}


def _columns(row_type: type[_Row]) -> tuple[str, ...]:
    found = _COLUMNS.get(row_type)
    if found is None:
        extra = tuple(f.name for f in dataclasses.fields(row_type)  # type: ignore[arg-type]
                      if "contract" not in f.metadata)
        found = _COLUMNS[row_type] = row_type.COLUMNS + extra
    return found


@dataclass(frozen=True, slots=True)
class LinkRow(_Row):
    """A claim cites a reference: its citekey, its number in the claim's review, the role."""

    reference_key: str = dataclasses.field(metadata=spec("reference.citekey"))
    reference_number: int | None = dataclasses.field(
        metadata=spec("citation.number", Kind.COUNT))
    role: str = dataclasses.field(metadata=spec(
        "claim_reference.role", choices=CITATION_ROLES, default=SUPPORTS))

    @property
    def supporting(self) -> bool:
        return self.role in SUPPORTING_ROLES


@dataclass(frozen=True, slots=True)
class ClaimRow(_Row):
    """One claim: its fields in the claims CSV's order, and its links in citation order."""

    claim_id: str = dataclasses.field(metadata=spec("claim.claim_id", required=True))
    review: str = dataclasses.field(metadata=spec("review.code", required=True))
    outcome: str = dataclasses.field(metadata=spec("claim.outcome_code", required=True))
    statement: str = dataclasses.field(metadata=spec("claim.statement", required=True))
    value: float | None = dataclasses.field(metadata=spec("claim.value", Kind.NUMBER))
    value_low: float | None = dataclasses.field(metadata=spec("claim.value_low", Kind.NUMBER))
    value_high: float | None = dataclasses.field(metadata=spec("claim.value_high", Kind.NUMBER))
    unit: str | None = dataclasses.field(metadata=spec("claim.unit_code"))
    numerator: int | None = dataclasses.field(metadata=spec("claim.numerator", Kind.COUNT))
    denominator: int | None = dataclasses.field(metadata=spec("claim.denominator", Kind.COUNT))
    qualifier: str | None = dataclasses.field(metadata=spec("claim.qualifier",
                                                            choices=QUALIFIERS))
    timepoint: str | None = dataclasses.field(metadata=spec("claim.timepoint"))
    population: str | None = dataclasses.field(metadata=spec("claim.population"))
    derived: bool = dataclasses.field(metadata=spec("claim.derived", Kind.FLAG))
    reported: str | None = dataclasses.field(metadata=spec("claim.reported"))
    section: str | None = dataclasses.field(metadata=spec("claim.section"))
    paragraph: int | None = dataclasses.field(metadata=spec("claim.paragraph", Kind.COUNT))
    links: tuple[LinkRow, ...] = dataclasses.field(
        metadata=spec("claim_reference.claim_id", Kind.LINKS))
    extracted_by: str | None = dataclasses.field(metadata=spec(
        "claim.extracted_by", since="0.2", provenance=True,
        description="Who extracted the claim (`load --by` fills it when empty)."))
    extracted_at: str | None = dataclasses.field(metadata=spec(
        "claim.extracted_at", since="0.2", provenance=True,
        description="When it was extracted (ISO 8601 date or date and time)."))
    checked_by: str | None = dataclasses.field(metadata=spec(
        "claim.checked_by", since="0.2", provenance=True,
        description="Who checked it against the review."))
    checked_at: str | None = dataclasses.field(metadata=spec(
        "claim.checked_at", since="0.2", provenance=True,
        description="When it was checked (ISO 8601 date or date and time)."))
    bounds: str | None = dataclasses.field(metadata=spec(
        "claim.bounds", since="0.2", choices=CLAIM_BOUNDS,
        description="What value_low and value_high are: a range (also when empty), a "
        "confidence interval (ci) around value, or an interquartile range (iqr)."))

    @property
    def reference_keys(self) -> list[str]:
        """Citekeys of every cited reference, in citation order."""
        return [link.reference_key for link in self.links]

    @property
    def reference_numbers(self) -> list[int]:
        """Their numbers in the claim's review; empty unless every reference has one (a
        partial list would not line up with the keys)."""
        numbers = [link.reference_number for link in self.links]
        return [] if None in numbers else numbers  # type: ignore[return-value]

    @property
    def reference_roles(self) -> list[str]:
        """Their roles; empty when every one is `supports` (as the wide claims CSV writes)."""
        return wide_roles([link.role for link in self.links])

    @property
    def supporting(self) -> tuple[LinkRow, ...]:
        """The links in a supporting role (`supports`, `data_source`)."""
        return tuple(link for link in self.links if link.supporting)

    @property
    def disagreeing(self) -> tuple[LinkRow, ...]:
        return tuple(link for link in self.links if link.role == DISAGREES)

    def role_of(self, reference_key: str) -> str | None:
        """The role in which the claim cites `reference_key` (None: it does not)."""
        return next((link.role for link in self.links if link.reference_key == reference_key),
                    None)


@dataclass(frozen=True, slots=True)
class FindingRow(_Row):
    """A figure a cited source itself reports, with where it was seen."""

    finding_id: str = dataclasses.field(metadata=spec("source_finding.finding_id",
                                                      generated=True))
    reference_key: str = dataclasses.field(metadata=spec("reference.citekey", optional=True))
    reference_number: int | None = dataclasses.field(
        metadata=spec("citation.number", Kind.COUNT, optional=True))
    measure: str = dataclasses.field(metadata=spec("source_finding.measure_code",
                                                   required=True))
    value: float | None = dataclasses.field(metadata=spec("source_finding.value", Kind.NUMBER))
    value_low: float | None = dataclasses.field(
        metadata=spec("source_finding.value_low", Kind.NUMBER))
    value_high: float | None = dataclasses.field(
        metadata=spec("source_finding.value_high", Kind.NUMBER))
    numerator: int | None = dataclasses.field(
        metadata=spec("source_finding.numerator", Kind.COUNT))
    denominator: int | None = dataclasses.field(
        metadata=spec("source_finding.denominator", Kind.COUNT))
    unit: str | None = dataclasses.field(metadata=spec("source_finding.unit_code"))
    timepoint: str | None = dataclasses.field(metadata=spec("source_finding.timepoint"))
    population: str | None = dataclasses.field(metadata=spec("source_finding.population"))
    note: str | None = dataclasses.field(metadata=spec("source_finding.note"))
    seen_at: str | None = dataclasses.field(metadata=spec("source_finding.seen_at"))
    extracted_by: str | None = dataclasses.field(metadata=spec(
        "source_finding.extracted_by", since="0.2", provenance=True,
        description="Who extracted the finding (`load --by` fills it when empty)."))
    extracted_at: str | None = dataclasses.field(metadata=spec(
        "source_finding.extracted_at", since="0.2", provenance=True,
        description="When it was extracted (ISO 8601 date or date and time)."))
    checked_by: str | None = dataclasses.field(metadata=spec(
        "source_finding.checked_by", since="0.2", provenance=True,
        description="Who checked it against the source."))
    checked_at: str | None = dataclasses.field(metadata=spec(
        "source_finding.checked_at", since="0.2", provenance=True,
        description="When it was checked (ISO 8601 date or date and time)."))
    n: int | None = dataclasses.field(metadata=spec(
        "source_finding.n", Kind.COUNT, since="0.2",
        description="The number of patients analysed for this figure; empty: not stated "
        "(the denominator stands in, see analysed_n)."))
    ci_low: float | None = dataclasses.field(metadata=spec(
        "source_finding.ci_low", Kind.NUMBER, since="0.2",
        description="Lower bound of the figure's confidence interval."))
    ci_high: float | None = dataclasses.field(metadata=spec(
        "source_finding.ci_high", Kind.NUMBER, since="0.2",
        description="Upper bound of the figure's confidence interval."))
    ci_level: float | None = dataclasses.field(metadata=spec(
        "source_finding.ci_level", Kind.NUMBER, since="0.2",
        description=f"The CI's level in percent; empty with a CI: {DEFAULT_CI_LEVEL:g}."))
    se: float | None = dataclasses.field(metadata=spec(
        "source_finding.se", Kind.NUMBER, since="0.2",
        description="Standard error of the figure, on its own scale."))
    bounds: str | None = dataclasses.field(metadata=spec(
        "source_finding.bounds", since="0.2", choices=FINDING_BOUNDS,
        description="What value_low and value_high are: a range (also when empty) or an "
        "interquartile range (iqr); a CI is in ci_low and ci_high."))
    effect: str | None = dataclasses.field(metadata=spec(
        "source_finding.effect", since="0.2", choices=EFFECTS,
        description="The effect measure of the figure (proportion, percent, hazard_ratio, "
        "odds_ratio, risk_ratio, mean, median)."))

    @property
    def analysed_n(self) -> int | None:
        """The number analysed for this figure: `n`, else the denominator (n defaults to
        it); None when neither is given."""
        return self.n if self.n is not None else self.denominator

    @property
    def ci_level_or_default(self) -> float | None:
        """The CI's level in percent: `ci_level`, else 95 when a CI is given."""
        if self.ci_low is None or self.ci_high is None:
            return self.ci_level
        return self.ci_level if self.ci_level is not None else DEFAULT_CI_LEVEL


# --- the contracts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """The fields of one row type, in contract order, and what is derived from them.

    Values travel in `stored` order (every field but the links, today's first, then those
    added later); a row type's attributes are in the same order, the links at `split`.
    """

    table: str  # the database table the row is stored in
    row_type: type[_Row]
    fields: tuple[Field, ...]

    @classmethod
    def of(cls, table: str, row_type: type[_Row]) -> Contract:
        fields = _contract_fields(row_type)
        today = [f for f in fields if f.since is None]
        later = [f for f in fields if f.since is not None]
        if fields != (*today, *later):
            raise TypeError(f"{row_type.__name__}: a field with `since` comes after today's")
        links = [f for f in fields if f.kind is Kind.LINKS]
        if links and today[-1] is not links[0]:
            raise TypeError(f"{row_type.__name__}: the links are the last of today's fields")
        return cls(table, row_type, fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def stored(self) -> tuple[Field, ...]:
        """The fields held by the row's own table or a joined one (links are separate)."""
        return tuple(f for f in self.fields if f.kind is not Kind.LINKS)

    @property
    def provenance(self) -> tuple[Field, ...]:
        """Who entered or checked a row and when: stored, exported, never compared."""
        return tuple(f for f in self.fields if f.provenance)

    @property
    def own(self) -> tuple[Field, ...]:
        """The fields held by the row's own table, as loaders write them."""
        return tuple(f for f in self.stored if f.table == self.table)

    @property
    def split(self) -> int:
        """How many stored fields come before the links (all of them: no links)."""
        return next((i for i, f in enumerate(self.fields) if f.kind is Kind.LINKS),
                    len(self.fields))

    def columns(self, links: tuple[Field, ...] = ()) -> tuple[str, ...]:
        """The CSV columns: today's fields in contract order, the links field as today's
        `links`; then the fields added later: those of `links`, then the contract's."""
        names: list[str] = []
        for f in self.fields:
            if f.since is None:
                names += ([x.name for x in links if x.since is None] if f.kind is Kind.LINKS
                          else [f.name])
        if any(f.kind is Kind.LINKS for f in self.fields):
            names += [x.name for x in links if x.since is not None]
        return (*names, *(f.name for f in self.fields if f.since is not None))

    def dtypes(self, columns: Sequence[str]) -> dict[str, str]:
        """Column -> pandas dtype, for the columns of this contract and of its links."""
        kinds = {f.name: f.kind for f in (*self.fields, *WIDE_LINKS, *LINK.fields)}
        return {c: kinds[c].dtype for c in columns}


# The wide claims CSV writes a claim's links as list cells (`a;b`, `3;5`, `supports;disagrees`);
# the roles, added later, are written empty when every link `supports` (the role a link
# without one has), so a file of supporting citations reads as it did before.
WIDE_LINKS = (Field("claim_reference.claim_id", Kind.KEYS, name="reference_keys"),
              Field("claim_reference.claim_id", Kind.NUMBERS, name="reference_numbers"),
              Field("claim_reference.role", Kind.KEYS, name="reference_roles", since="0.2",
                    choices=CITATION_ROLES, default=SUPPORTS,
                    description="The role of each cited reference, in the order of "
                    "reference_keys; empty when every one supports the claim."))

LINK = Contract.of("claim_reference", LinkRow)
CLAIM = Contract.of("claim", ClaimRow)
FINDING = Contract.of("source_finding", FindingRow)

CLAIM_COLUMNS = CLAIM.columns(WIDE_LINKS)
# Long form: one row per claim-reference pair, carrying the citation role.
CLAIM_LONG_COLUMNS = CLAIM.columns(LINK.fields)
FINDING_EXPORT_COLUMNS = FINDING.columns()
# The columns of a findings file (the loader makes `finding_id` when the file has none).
FINDING_COLUMNS = tuple(f.name for f in FINDING if not f.generated)
LINK_COLUMNS = LINK.columns()
# What a claim and a finding both carry (the figure, its unit, timepoint and population), in
# the findings' order: what the source check compares, and repeats of the claim.
COMPARED_COLUMNS = tuple(f.name for f in FINDING if f.name in CLAIM_COLUMNS
                         and not f.provenance)

LinkRow.COLUMNS = LINK_COLUMNS
ClaimRow.COLUMNS = CLAIM_COLUMNS
FindingRow.COLUMNS = FINDING_EXPORT_COLUMNS


def wide_roles(roles: Sequence[str]) -> list[str]:
    """A claim's link roles as the wide claims CSV's `reference_roles` holds them: empty when
    every one is `supports`."""
    return list(roles) if any(role != SUPPORTS for role in roles) else []


def required_columns(contract: Contract, links: tuple[Field, ...] = ()) -> tuple[str, ...]:
    """The columns an input file must have."""
    absent = {f.name for f in (*contract.fields, *links) if f.may_be_absent}
    return tuple(c for c in contract.columns(links) if c not in absent)


def optional_columns(contract: Contract, links: tuple[Field, ...] = ()) -> tuple[str, ...]:
    """The columns an input file may have or leave out."""
    absent = {f.name for f in (*contract.fields, *links) if f.may_be_absent}
    return tuple(c for c in contract.columns(links) if c in absent)
