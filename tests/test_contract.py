"""The field contract: CSV headers, database columns, dtypes and view columns all come from it."""

from __future__ import annotations

import csv
import dataclasses
import sqlite3
from pathlib import Path

import pytest
from conftest import DATA

from ivcdb import contract, queries, render, serve
from ivcdb.contract import (
    CLAIM,
    CLAIM_COLUMNS,
    CLAIM_LONG_COLUMNS,
    COMPARED_COLUMNS,
    FINDING,
    FINDING_COLUMNS,
    FINDING_EXPORT_COLUMNS,
    LINK,
    WIDE_LINKS,
    ClaimRow,
    Contract,
    FindingRow,
    Kind,
    spec,
)
from ivcdb.db import Database
from ivcdb.exports import tabular
from ivcdb.loaders.csvfile import read_csv
from ivcdb.models import TABLES
from ivcdb.report import Code
from ivcdb.serve import load_metadata
from ivcdb.snapshot import claims_view_columns, snapshot
from ivcdb.verify import ClaimCheck, ComparedFinding, verify

# Columns of the tables that hold no contract field: keys and what the loaders compute.
BOOKKEEPING = {"id", "review_id", "reference_id", "statement_norm", "search_norm", "source",
               "content_hash"}


def header(path: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(next(csv.reader(handle)))


def test_csv_headers_are_the_contracts() -> None:
    links = [f.name for f in LINK]
    today = [f.name for f in CLAIM.stored if f.since is None]
    later = [f.name for f in CLAIM.stored if f.since is not None]
    assert CLAIM_COLUMNS == (*today, "reference_keys", "reference_numbers", "reference_roles",
                             *later)
    assert CLAIM_LONG_COLUMNS == (*today, *links, *later)
    assert FINDING_EXPORT_COLUMNS == tuple(f.name for f in FINDING)
    # the curated file has today's columns: one added later may be left out
    assert header(DATA / "claims.csv") == contract.required_columns(CLAIM, WIDE_LINKS)
    assert FINDING_COLUMNS == FINDING_EXPORT_COLUMNS[1:]
    assert header(DATA / "findings.csv") == tuple(c for c in FINDING_COLUMNS
                                                  if FINDING[c].since is None)


def test_row_types_are_the_contracts() -> None:
    assert ClaimRow.columns() == CLAIM_COLUMNS
    assert [f.name for f in dataclasses.fields(ClaimRow)] == [f.name for f in CLAIM]
    assert [f.name for f in dataclasses.fields(contract.FindingRow)] == [f.name for f in FINDING]


@pytest.mark.parametrize("row_contract", [CLAIM, FINDING, LINK], ids=lambda c: c.table)
def test_database_columns_are_the_contracts(row_contract: Contract) -> None:
    """Every field names a real column; every column of the row's own table is a field."""
    tables = {model.__tablename__: model.__table__ for model in TABLES}  # type: ignore[attr-defined]
    for f in row_contract.stored:
        assert f.db_column in tables[f.table].c, f.name
    own = {f.db_column for f in row_contract.own}
    rest = set(tables[row_contract.table].c.keys()) - own - BOOKKEEPING
    if row_contract is LINK:
        rest -= {"claim_id", "position"}  # the link's keys and its place in the citation
    assert rest == set()


def test_parquet_dtypes_are_the_contracts() -> None:
    kinds = {f.name: f.kind for f in (*CLAIM, *WIDE_LINKS, *LINK, *FINDING)}
    for columns in (CLAIM_COLUMNS, CLAIM_LONG_COLUMNS, FINDING_EXPORT_COLUMNS):
        table = tabular.Table("claims", columns, [dict.fromkeys(columns)])
        frame = tabular.to_frame(table)
        assert {c: str(frame[c].dtype) for c in columns} == {
            c: kinds[c].dtype for c in columns}


def test_export_columns_are_the_contracts() -> None:
    assert tabular.columns_of("claims") == CLAIM_COLUMNS
    assert tabular.columns_of("claims", long=True) == CLAIM_LONG_COLUMNS
    assert tabular.columns_of("findings") == FINDING_EXPORT_COLUMNS


def test_snapshot_view_columns_come_from_the_contract(shared_built: Database,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "snap.sqlite"
    snapshot(shared_built.url, path)
    with sqlite3.connect(path) as conn:
        view = tuple(r[1] for r in conn.execute("PRAGMA table_info(claims_view)"))
        unit = conn.execute("SELECT unit FROM claims_view WHERE claim_id = 'li2025-os-5y'"
                            ).fetchone()
    assert view == claims_view_columns()
    assert set(view) >= {f.name for f in CLAIM.stored}
    assert unit == ("%",)  # the unit's label, not its code


def test_web_metadata_describes_the_view_columns() -> None:
    metadata = load_metadata()["databases"]["ivcdb"]["tables"]["claims_view"]["columns"]
    assert set(metadata) == set(claims_view_columns())


# --- rows and tables that repeat contract fields ----------------------------------------------

# Columns the renderers compute; every other column a table shows is a contract column.
COMPUTED = {"figure", "claimed", "references", "status", "reason", "automatic_status",
            "findings", "explanation", "studies"}


@pytest.mark.parametrize("name", ["CLAIM_TABLE", "CITING_TABLE", "FINDING_TABLE", "VERIFY_TABLE",
                                  "VERIFY_CSV"])
def test_table_columns_are_contract_columns(name: str) -> None:
    """A renamed or removed field fails here, not as an empty column on a terminal."""
    columns = getattr(render, name)
    assert set(columns) - COMPUTED <= {*CLAIM_LONG_COLUMNS, *CLAIM_COLUMNS,
                                       *FINDING_EXPORT_COLUMNS}


def test_source_check_rows_carry_the_contracts_fields() -> None:
    """A compared finding is a finding row; a claim check repeats the claim's figure fields
    (`COMPARED_COLUMNS`, all a claim and a finding share) in order, with the claim's types."""
    assert issubclass(ComparedFinding, FindingRow)
    assert set(COMPARED_COLUMNS) == ({f.name for f in FINDING} & {f.name for f in CLAIM}
                                     ) - {f.name for f in FINDING.provenance}
    names = [f.name for f in dataclasses.fields(ClaimCheck)]
    start = names.index(COMPARED_COLUMNS[0])
    assert tuple(names[start:start + len(COMPARED_COLUMNS)]) == COMPARED_COLUMNS
    claim_types = {f.name: f.type for f in dataclasses.fields(ClaimRow)}
    for f in dataclasses.fields(ClaimCheck):
        if f.name in claim_types:
            assert f.type == claim_types[f.name], f.name


def test_source_check_copies_the_contract_fields(shared_built: Database) -> None:
    with shared_built.session() as session:
        checks = verify(session)
        claims = {c.claim_id: c for c in queries.source_check_claims(session)}
        findings = {f.finding_id: f for f in queries.source_check_findings(session)}
    compared = [f for check in checks for f in check.findings]
    assert checks and compared
    for check in checks:
        claim = claims[check.claim_id]
        for name in COMPARED_COLUMNS:
            expected = getattr(claim, name)
            if name == "timepoint":
                expected = expected or claim.outcome_timepoint
            assert getattr(check, name) == expected, (check.claim_id, name)
    for f in compared:
        assert set(f.as_dict()) == set(ComparedFinding.columns())
        for name in FINDING_EXPORT_COLUMNS:
            if name != "reference_number":  # the number the claim cites it by
                assert getattr(f, name) == getattr(findings[f.finding_id], name), name


# --- a field added later ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class LaterClaim(ClaimRow):
    """A claim row with a field added after today's (as a contributor would add one)."""

    certainty: str | None = dataclasses.field(metadata=spec(
        "claim.certainty", since="0.2", description="How certain the review is."))


LATER = Contract.of("claim", LaterClaim)
PROVENANCE = ("extracted_by", "extracted_at", "checked_by", "checked_at")


def test_reference_roles_is_a_later_wide_column() -> None:
    """Added after today's columns: optional on input, written after them (and before a
    claim field added later still)."""
    today = contract.required_columns(CLAIM, WIDE_LINKS)
    assert today[-2:] == ("reference_keys", "reference_numbers")
    assert CLAIM_COLUMNS == (*today, "reference_roles", *PROVENANCE, "bounds")
    assert contract.optional_columns(CLAIM, WIDE_LINKS) == ("reference_roles", *PROVENANCE,
                                                            "bounds")
    assert CLAIM.dtypes(("reference_roles",)) == {"reference_roles": Kind.KEYS.dtype}
    assert LATER.columns(WIDE_LINKS) == (*today, "reference_roles", *PROVENANCE, "bounds",
                                         "certainty")


def test_a_later_field_is_written_after_todays_columns() -> None:
    assert LATER.columns(WIDE_LINKS) == (*CLAIM_COLUMNS, "certainty")
    assert LATER.columns(LINK.fields) == (*CLAIM_LONG_COLUMNS, "certainty")
    assert LATER.dtypes(("certainty",)) == {"certainty": Kind.TEXT.dtype}


def test_a_later_field_is_optional_on_input(tmp_path: Path) -> None:
    required = contract.required_columns(LATER, WIDE_LINKS)
    optional = contract.optional_columns(LATER, WIDE_LINKS)
    today = contract.required_columns(CLAIM, WIDE_LINKS)
    assert (required, optional) == (today, ("reference_roles", *PROVENANCE, "bounds", "certainty"))
    row = ["c1", "r", "o", "A statement.", *[""] * (len(today) - 4)]
    for columns, cells in ((today, row), ((*today, "certainty"), [*row, "low"])):
        path = tmp_path / "claims.csv"
        path.write_text(",".join(columns) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
        table = read_csv(path, required=required, optional=optional)
        assert table.problems == [] and table.rows[0].cells.get("certainty") in (None, "low")
    path.write_text(",".join(today[1:]) + "\n", encoding="utf-8")
    assert [p.code for p in read_csv(path, required=required, optional=optional).problems] == [
        Code.SCHEMA]  # today's columns stay required


def test_a_later_field_is_described_in_the_web_ui() -> None:
    view: dict[str, object] = {"columns": {"claim_id": "Kept as written."}}
    serve.describe_contract_columns(view, LATER)
    assert view["columns"] == {"claim_id": "Kept as written.", **{
        f.name: f.description or f.name for f in LATER.stored if f.name != "claim_id"}}
    assert view["columns"]["certainty"] == "How certain the review is."  # type: ignore[index]


def test_the_synthesis_fields_are_later_fields() -> None:
    """Issue 14: a finding's n, CI, SE, bounds and effect measure and a claim's bounds are
    added in 0.2: optional on input, written after today's columns, with their dtypes."""
    later = ("n", "ci_low", "ci_high", "ci_level", "se", "bounds", "effect")
    assert FINDING_EXPORT_COLUMNS[-len(later):] == later
    assert contract.optional_columns(FINDING)[-len(later):] == later
    assert all(FINDING[name].since == "0.2" for name in later) and CLAIM["bounds"].since == "0.2"
    assert FINDING.dtypes(later) == {"n": "Int64", "ci_low": "Float64", "ci_high": "Float64",
                                     "ci_level": "Float64", "se": "Float64",
                                     "bounds": "string", "effect": "string"}
    assert FINDING["bounds"].choices == ("range", "iqr")
    assert CLAIM["bounds"].choices == ("range", "ci", "iqr")
    assert FINDING["effect"].choices == ("proportion", "percent", "hazard_ratio", "odds_ratio",
                                         "risk_ratio", "mean", "median")


def _finding(**given: object) -> FindingRow:
    values: dict[str, object] = dict.fromkeys(f.name for f in FINDING)
    return FindingRow(**{**values, **given})  # type: ignore[arg-type]


@pytest.mark.parametrize(("given", "analysed"), [
    ({"n": 40, "denominator": 50}, 40), ({"denominator": 50}, 50), ({"n": 40}, 40), ({}, None)])
def test_n_defaults_to_the_denominator(given: dict[str, int], analysed: int | None) -> None:
    finding = _finding(**given)
    assert finding.analysed_n == analysed
    assert finding.n == given.get("n")  # the column keeps what the file gave


@pytest.mark.parametrize(("given", "level"), [
    ({"ci_low": 1.0, "ci_high": 2.0}, 95.0), ({"ci_low": 1.0, "ci_high": 2.0, "ci_level": 90.0},
                                             90.0), ({}, None)])
def test_a_ci_without_a_level_is_95(given: dict[str, float], level: float | None) -> None:
    assert _finding(**given).ci_level_or_default == level


def test_a_later_field_goes_after_todays() -> None:
    @dataclasses.dataclass(frozen=True)
    class Misplaced:
        early: str = dataclasses.field(metadata=spec("claim.early", since="0.2"))
        claim_id: str = dataclasses.field(metadata=spec("claim.claim_id"))

    with pytest.raises(TypeError, match="comes after today's"):
        Contract.of("claim", Misplaced)  # type: ignore[arg-type]
