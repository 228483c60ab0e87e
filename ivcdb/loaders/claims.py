"""The claims CSV, wide (one row per claim) or long (one row per claim-reference pair)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivcdb.contract import (
    CLAIM,
    LINK,
    WIDE_LINKS,
    optional_columns,
    required_columns,
)
from ivcdb.csvformat import INT_MAX, LIST_SEPARATOR, OutOfRange, whole_number
from ivcdb.loaders.csvfile import CellReader, CsvTable, Row, cell_reader, read_csv
from ivcdb.loaders.figurechecks import check_bounds
from ivcdb.loaders.files import row_hash
from ivcdb.progress import track
from ivcdb.report import Code, Problem
from ivcdb.terms import PERCENT
from ivcdb.text import fold

_CLAIM_FIELDS = tuple(f.name for f in CLAIM.stored)  # everything but the references
# The columns of the `claim` table a claim's cells fill (claim_id and outcome kept apart).
_VALUES = tuple(f for f in CLAIM.own if f.name not in ("claim_id", "outcome"))
# Fields added later (`since`) enter the content hash only when filled: adding a column to the
# contract leaves the hash of every claim that does not use it unchanged (a reload: unchanged).
_LATER = frozenset(f.db_column for f in _VALUES if f.since is not None)
# Who extracted or checked a claim, and when: stored, but in no content hash (never a change).
PROVENANCE = tuple(f.db_column for f in CLAIM.provenance)
_READERS = tuple((f.db_column, cell_reader(f)) for f in _VALUES)
_READ_REVIEW, _READ_OUTCOME = cell_reader(CLAIM["review"]), cell_reader(CLAIM["outcome"])
_READ_ROLE = cell_reader(LINK["role"])
_ROLES = next(f for f in WIDE_LINKS if f.name == "reference_roles")


@dataclass(slots=True)
class ClaimLink:
    """A link as the file gives it: a citekey, a number or both, not yet resolved (the
    stored link, always with its citekey, is `ivcdb.contract.LinkRow`)."""

    key: str | None
    number: int | None
    role: str = "supports"


@dataclass(slots=True)
class ClaimRecord:
    claim_id: str
    review: str
    outcome: str
    line: int
    values: dict[str, Any]
    links: list[ClaimLink] = field(default_factory=list)

    def row(self, review_id: int, link_keys: list[tuple[str, str]]) -> dict[str, Any]:
        """Column values of the `claim` table; the hash covers the resolved links too."""
        values = {"claim_id": self.claim_id, "review_id": review_id,
                  "outcome_code": self.outcome, **self.values,
                  "statement_norm": fold(self.values["statement"])}
        provenance = {c: values.pop(c) for c in PROVENANCE}
        values["content_hash"] = row_hash(values, _LATER, link_keys)
        return {**values, **provenance}


@dataclass(slots=True)
class ParsedClaims:
    """A claims file whose syntax, header and row widths are checked; its claims are read
    one at a time by `claims()`, so a load never holds them all."""

    path: str
    problems: list[Problem]  # of the file as a whole and of unreadable rows
    long_form: bool = False
    count: int = 0  # claims in the file, valid or not
    table: CsvTable | None = field(default=None, repr=False)
    unreadable: set[str] = field(default_factory=set)  # claims with a row too broken to read

    def ids(self) -> set[str]:
        """Every claim id of a readable row."""
        return set(self.table.keys) if self.table is not None else set()

    def claims(self) -> Iterator[tuple[ClaimRecord, list[Problem], bool]]:
        """Each claim in file order (of its first row): its record, its problems, and whether
        it is valid. An invalid one is still resolved, so every problem is reported at once,
        but never written."""
        table = self.table
        if table is None:
            return
        rows = track(table.stream(), f"checking {Path(self.path).name}", total=table.readable)
        if self.long_form:
            groups: Iterator[list[Row]] = _groups(rows, table.keys)
        else:
            groups = ([row] for row in rows)
        firsts: dict[str, Row] = {}  # the first row of a claim_id used twice (wide form)
        for group in groups:
            claim_id = group[0].cells.get("claim_id", "")
            if table.keys.get(claim_id, 0) > 1 and not self.long_form:
                first = firsts.setdefault(claim_id, group[0])
                record = (_record(table, claim_id, group) if first is group[0]
                          else _duplicate(table, claim_id, first, group[0]))
                valid = False
            else:
                record = _record(table, claim_id, group)
                # A long-form claim with an unreadable row would lose a link: skip it whole.
                valid = claim_id not in self.unreadable and not any(r.problems for r in group)
            yield record, [p for row in group for p in row.problems], valid


def _groups(rows: Iterable[Row], counts: dict[str, int]) -> Iterator[list[Row]]:
    """The rows of each claim together, in the order of each claim's first row (a claim is
    complete when its count of rows is reached; they are usually next to each other)."""
    pending: dict[str, list[Row]] = {}
    for row in rows:
        claim_id = row.cells.get("claim_id", "")
        pending.setdefault(claim_id, []).append(row)
        while pending:
            first_id, group = next(iter(pending.items()))
            if len(group) < counts.get(first_id, 0):
                break
            del pending[first_id]
            yield group
    yield from pending.values()


def parse_claims(path: str | Path, *, text: str | None = None) -> ParsedClaims:
    """Check a claims CSV as a whole (syntax, header, row widths, claim ids); its claims are
    read and checked one by one when `ParsedClaims.claims()` is read, and resolved against
    the database then."""
    table = read_csv(path, required=required_columns(CLAIM, WIDE_LINKS),
                     alternatives=[required_columns(CLAIM, LINK.fields)],
                     optional=optional_columns(CLAIM, WIDE_LINKS), text=text,
                     key_column="claim_id", stream=True)
    long_form = "role" in table.header
    if long_form and _ROLES.name in table.header:
        table.problems.append(Problem(
            Code.SCHEMA, f"'{_ROLES.name}' is a column of the wide form; the long form gives "
            "each link's role in 'role'", file=table.path, line=1))
        table.keys, table.readable = {}, 0
    unreadable = {p.key or f"line {p.line}" for p in table.problems if p.line and p.line > 1}
    return ParsedClaims(table.path, list(table.problems), long_form,
                        len(table.keys) + len(unreadable - set(table.keys)), table, unreadable)


def _duplicate(table: CsvTable, claim_id: str, first: Row, row: Row) -> ClaimRecord:
    """A second row with the same claim_id (wide form): an error, but its cells are checked."""
    CellReader(table, row, claim_id).error(
        Code.DUPLICATE_KEY, f"claim_id '{claim_id}' is already used on line {first.line}; "
        "claim ids must be unique")
    return _record(table, claim_id, [row])


def _record(table: CsvTable, claim_id: str, rows: list[Row]) -> ClaimRecord:
    first = rows[0]
    cells = CellReader(table, first, claim_id)
    if not claim_id:
        cells.error(Code.MISSING_FIELD, "'claim_id' is empty")
    long_form = "role" in table.header
    for other in rows[1:]:
        differing = [c for c in _CLAIM_FIELDS if other.cells.get(c) != first.cells.get(c)]
        if differing:
            CellReader(table, other, claim_id).error(
                Code.SCHEMA, f"long-form rows of one claim must agree; {', '.join(differing)} "
                f"differ from line {first.line}")
    values = _values(cells)
    review, outcome = _READ_REVIEW(cells), _READ_OUTCOME(cells)
    links = (_long_links(table, rows, claim_id) if long_form else _wide_links(cells))
    return ClaimRecord(claim_id, review, outcome, first.line, values, links)


def _values(cells: CellReader) -> dict[str, Any]:
    """The claim's `claim` table columns, parsed by the contract, then checked together."""
    values = {column: read(cells) for column, read in _READERS}
    unit, value, low, high = (values[k] for k in ("unit_code", "value", "value_low",
                                                   "value_high"))
    numerator, denominator = values["numerator"], values["denominator"]
    if low is not None and high is not None and low > high:
        cells.error(Code.RANGE, f"value_low {low:g} is above value_high {high:g}")
    if unit == PERCENT:
        for name, number in (("value", value), ("value_low", low), ("value_high", high)):
            if number is not None and not 0 <= number <= 100:
                cells.error(Code.PERCENT, f"'{name}' {number:g} is not a percentage (0-100)")
    if numerator is not None and denominator is not None and numerator > denominator:
        cells.error(Code.FRACTION, f"numerator {numerator} is above denominator {denominator}")
    if denominator == 0:
        cells.error(Code.COUNT, "denominator must be 1 or more")
    if values["paragraph"] == 0:
        cells.error(Code.BAD_VALUE, "paragraph numbers start at 1")
    check_bounds(cells, values)
    return values


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(LIST_SEPARATOR)] if text else []


def _number(cells: CellReader, text: str) -> int | None:
    if text.isascii() and text.isdigit() and text.strip("0"):  # not `³`, not 0
        try:
            return whole_number(text, low=1)
        except OutOfRange:
            cells.error(Code.OUT_OF_RANGE, f"reference number {text} is above {INT_MAX}, the "
                        "largest whole number the database keeps")
            return None
    cells.error(Code.BAD_VALUE, f"reference number '{text}' is not a whole number of 1 or more")
    return None


def _wide_links(cells: CellReader) -> list[ClaimLink]:
    keys = _split(cells.text("reference_keys"))
    numbers = _split(cells.text("reference_numbers"))
    if keys and numbers and len(keys) != len(numbers):
        cells.error(Code.SCHEMA, f"{len(keys)} reference key(s) but {len(numbers)} number(s)")
        return []
    count = max(len(keys), len(numbers))
    roles = _wide_roles(cells, count, "reference_keys" if keys else "reference_numbers")
    return [
        ClaimLink(keys[i] if keys else None,
                  _number(cells, numbers[i]) if numbers else None, roles[i])
        for i in range(count)
    ]


def _wide_roles(cells: CellReader, count: int, listed: str) -> list[str]:
    """The role of each of `count` links: `reference_roles`, one per link in the order of
    `listed`; an empty cell (or none) is `supports` for all."""
    name, default = _ROLES.name, _ROLES.default or ""
    roles = _split(cells.text(name))
    if not roles:
        return [default] * count
    if len(roles) != count:
        cells.error(Code.SCHEMA, f"'{name}' has {len(roles)} role(s) but '{listed}' "
                    f"{count} reference(s); give one role per reference, or none (all "
                    f"{default})")
    for position, role in enumerate(roles, 1):
        if role not in _ROLES.choices:
            cells.error(Code.BAD_VALUE, f"'{name}' item {position} '{role}' is not one of "
                        f"{', '.join(_ROLES.choices)}")
    return [role if role in _ROLES.choices else default for role in roles][:count] + [
        default] * (count - len(roles))


def _long_links(table: CsvTable, rows: list[Row], claim_id: str) -> list[ClaimLink]:
    links = []
    for row in rows:
        cells = CellReader(table, row, claim_id)
        key, number = cells.text("reference_key"), cells.text("reference_number")
        role = _READ_ROLE(cells)
        if key is None and number is None:
            continue
        links.append(ClaimLink(key, _number(cells, number) if number else None, role))
    return links
