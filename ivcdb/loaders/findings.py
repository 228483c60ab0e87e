"""Source findings CSV: figures a cited source itself reports, with where they were seen."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivcdb.contract import FINDING, optional_columns, required_columns
from ivcdb.loaders.csvfile import CellReader, cell_reader, read_csv
from ivcdb.loaders.figurechecks import check_bounds, check_interval
from ivcdb.loaders.files import row_hash
from ivcdb.report import Code, Problem
from ivcdb.terms import PERCENT
from ivcdb.text import key_fold

_SLUG = re.compile(r"[^a-z0-9]+")
_IDENTITY = ("measure", "timepoint", "population", "note", "seen_at")
# The columns of the `source_finding` table a finding's cells fill (id and measure apart).
_VALUES = tuple(f for f in FINDING.own if f.name not in ("finding_id", "measure"))
_LATER = frozenset(f.db_column for f in _VALUES if f.since is not None)
PROVENANCE = tuple(f.db_column for f in FINDING.provenance)  # in no content hash, as a claim's
_READERS = tuple((f.db_column, cell_reader(f)) for f in _VALUES)


@dataclass(slots=True)
class FindingRecord:
    finding_id: str
    reference_key: str | None
    reference_number: int | None
    measure: str
    line: int
    values: dict[str, Any]
    given_id: bool = False  # from a finding_id column, else made by `finding_id`

    def id_by_key(self, reference_key: str) -> str:
        """The finding's id once a number alone is resolved to `reference_key`: made from the
        key, the same as when the file names the key (a finding_id column's id is kept)."""
        if self.given_id:
            return self.finding_id
        return finding_id(reference_key, {"measure": self.measure, **self.values})

    def row(self, reference_id: int, resolved_id: str | None = None) -> dict[str, Any]:
        """Column values of the `source_finding` table (its id `resolved_id`, if given)."""
        values = {"finding_id": resolved_id or self.finding_id, "reference_id": reference_id,
                  "measure_code": self.measure, **self.values}
        provenance = {c: values.pop(c) for c in PROVENANCE}
        values["content_hash"] = row_hash(values, _LATER)
        return {**values, **provenance}


@dataclass(slots=True)
class ParsedFindings:
    path: str
    records: list[FindingRecord]
    problems: list[Problem]
    count: int = 0  # rows in the file, valid or not


def finding_id(reference: str, cells: Mapping[str, Any]) -> str:
    """A stable id from what identifies a finding (not its numbers, so edits update it)."""
    identity = json.dumps([key_fold(reference)] + [cells.get(c) or "" for c in _IDENTITY])
    digest = hashlib.sha1(identity.encode()).hexdigest()[:10]
    slug = _SLUG.sub("-", f"{reference}-{cells.get('measure', '')}".lower()).strip("-")
    return f"{slug}-{digest}"


def parse_findings(path: str | Path) -> ParsedFindings:
    table = read_csv(path, required=required_columns(FINDING),
                     optional=optional_columns(FINDING))
    parsed = ParsedFindings(table.path, [], list(table.problems), table.count)
    seen: dict[str, int] = {}
    for row in table.rows:
        key = row.cells.get("reference_key", "")
        number_text = row.cells.get("reference_number", "")
        cells = CellReader(table, row, key or number_text)
        if not key and not number_text:
            cells.error(Code.MISSING_FIELD, "give reference_key or reference_number")
        number = cells.value(FINDING["reference_number"])
        measure = cells.value(FINDING["measure"])
        values = {column: read(cells) for column, read in _READERS}
        value, low, high, numerator, denominator, unit = (values[k] for k in (
            "value", "value_low", "value_high", "numerator", "denominator", "unit_code"))
        if low is not None and high is not None and low > high:
            cells.error(Code.RANGE, f"value_low {low:g} is above value_high {high:g}")
        if unit == PERCENT and value is not None and not 0 <= value <= 100:
            cells.error(Code.PERCENT, f"value {value:g} is not a percentage (0-100)")
        if numerator is not None and denominator is not None and numerator > denominator:
            cells.error(Code.FRACTION, f"numerator {numerator} is above denominator "
                        f"{denominator}")
        check_bounds(cells, values)
        check_interval(cells, values)
        fid = row.cells.get("finding_id") or finding_id(key or f"ref{number_text}", row.cells)
        if fid in seen:
            cells.error(Code.DUPLICATE_KEY, f"the same finding is on line {seen[fid]}")
        seen.setdefault(fid, row.line)
        parsed.problems.extend(row.problems)
        if row.problems:
            continue
        parsed.records.append(FindingRecord(fid, key or None, number, measure, row.line, values,
                                            given_id=bool(row.cells.get("finding_id"))))
    return parsed
