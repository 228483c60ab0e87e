"""Assessments CSV: verdicts by hand (`ivcdb assess`) in a file, loaded like the others.

Parsed here on its own (columns, statuses, duplicates); checked against the database and
written by `write_assessments`, inside the load's transaction, after the claims (so a load
may assess claims it adds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivcdb.errors import NotFound
from ivcdb.loaders.csvfile import CellReader, read_csv
from ivcdb.report import Code, LoadReport, Problem
from ivcdb.terms import MANUAL_STATUSES
from ivcdb.text import did_you_mean, key_fold

if TYPE_CHECKING:  # reading needs no database libraries (`ivcdb.loaders`)
    from sqlmodel import Session

__all__ = ["COLUMNS", "AssessmentRecord", "ParsedAssessments", "parse_assessments",
           "write_assessments"]

REQUIRED = ("claim_id", "reference_key", "status")
OPTIONAL = ("review", "locator", "quote", "assessed_by", "assessed_at")
COLUMNS = ("claim_id", "review", "reference_key", "status", "locator", "quote", "assessed_by",
           "assessed_at")  # in the order docs/format.md lists them


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    line: int
    claim_id: str
    review: str | None
    reference_key: str
    status: str
    locator: str | None
    quote: str | None
    assessed_by: str | None
    assessed_at: str | None


@dataclass(slots=True)
class ParsedAssessments:
    path: str
    records: list[AssessmentRecord]
    problems: list[Problem]
    count: int = 0  # rows in the file, valid or not


def parse_assessments(path: str | Path) -> ParsedAssessments:
    """Read an assessments CSV; every bad row is a problem naming its line and claim."""
    table = read_csv(path, required=REQUIRED, optional=OPTIONAL, key_column="claim_id")
    parsed = ParsedAssessments(table.path, [], list(table.problems), table.count)
    seen: dict[tuple[str, str, str], int] = {}
    for row in table.rows:
        cells = CellReader(table, row, row.cells.get("claim_id", ""))
        claim_id, reference = cells.required("claim_id"), cells.required("reference_key")
        status = cells.required("status")
        if status and status not in MANUAL_STATUSES:
            cells.error(Code.BAD_VALUE, f"unknown status {status!r}"
                        f"{did_you_mean(status, MANUAL_STATUSES)}; choose one of "
                        f"{', '.join(MANUAL_STATUSES)}")
        at = cells.text("assessed_at")
        if at is not None:
            try:
                datetime.fromisoformat(at)
            except ValueError:
                cells.error(Code.BAD_VALUE, f"'assessed_at' is not an ISO 8601 time: '{at}'")
        pair = (row.cells.get("review", ""), claim_id, key_fold(reference))
        if pair in seen:
            cells.error(Code.DUPLICATE_KEY, f"the same claim and reference are on line "
                        f"{seen[pair]}")
        seen.setdefault(pair, row.line)
        parsed.problems.extend(row.problems)
        if row.problems:
            continue
        parsed.records.append(AssessmentRecord(
            row.line, claim_id, cells.text("review"), reference, status, cells.text("locator"),
            cells.text("quote"), cells.text("assessed_by"), at))
    return parsed


def write_assessments(session: Session, files: list[ParsedAssessments], *, user: str,
                      now: datetime, skip_invalid: bool) -> tuple[list[LoadReport], bool]:
    """Check each file's verdicts against the database and store them (one per claim and
    reference: a changed one replaces the stored one; an unchanged one is left as it is).
    Returns one report per file and whether any row had an error (then, without
    `skip_invalid`, nothing is written and the caller refuses the load)."""
    from ivcdb import queries, store

    reports, failed = [], False
    for parsed in files:
        report = LoadReport("assessments", parsed.path, read=parsed.count,
                            problems=list(parsed.problems))
        rows = []
        for record in parsed.records:
            row = _resolve(session, record, user=user, now=now)
            if isinstance(row, dict):
                rows.append(row)
            else:
                report.problems.append(Problem(row[0], row[1], file=parsed.path,
                                               line=record.line, key=record.claim_id))
                report.skipped.append(record.claim_id)
        report.skipped += sorted({p.key or f"line {p.line}" for p in parsed.problems
                                  if p.is_error})
        failed = failed or bool(report.errors)
        if failed and not skip_invalid:
            reports.append(report)
            continue
        for row in rows:
            stored = queries.assessment(session, row["claim_id"], row["reference_id"])
            if stored is not None and all(stored[k] == row[k] for k in _COMPARED):
                report.unchanged += 1
                continue
            if store.upsert_assessment(session, row):
                report.updated += 1
            else:
                report.added += 1
        reports.append(report)
    return reports, failed


_COMPARED = ("status", "locator", "quote", "assessed_by")  # what makes a verdict changed


def _resolve(session: Session, record: AssessmentRecord, *, user: str, now: datetime
             ) -> dict[str, Any] | tuple[Code, str]:
    """The `assessment` row of a record, else the problem (its code and message) if its
    review, claim or cited reference is not in the database."""
    from ivcdb import queries
    from ivcdb.assess import cited
    from ivcdb.errors import UsageError

    try:
        scope = queries.review_scope(session, code=record.review, one=True)
    except UsageError as error:
        return (Code.UNKNOWN_REVIEW if record.review else Code.BAD_VALUE, str(error))
    if scope.id is None:
        return (Code.UNKNOWN_REVIEW, "no review is loaded")
    claim = queries.claim_ids(session, scope.id, [record.claim_id]).get(record.claim_id)
    if claim is None:
        return (Code.BAD_VALUE, f"no claim {record.claim_id!r} in review {scope.code}")
    try:
        _, ref_id = cited(queries.cited_references(session, claim), record.reference_key,
                          record.claim_id)
    except NotFound as error:
        return (Code.UNKNOWN_REFERENCE, str(error))
    return {"claim_id": claim, "reference_id": ref_id, "status": record.status,
            "locator": record.locator, "quote": record.quote,
            "assessed_by": record.assessed_by or user,
            "assessed_at": record.assessed_at or now.isoformat(timespec="seconds")}
