"""Conflicting loads: a file that would change values someone else entered is refused,
every table left as it was, unless `--resolve`; an empty stored extractor never conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import CliRun, snapshot
from loadkit import edit_csv

from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders import Sources, load
from ivcdb.models import Claim, LoadEvent, SourceFinding
from ivcdb.report import Code

CLAIM_ID = "li2025-os-5y"




def _value(db: Database, model: type, key: str, column: str) -> object:
    table = model.__table__  # type: ignore[attr-defined]
    id_column = table.c.claim_id if model is Claim else table.c.finding_id
    with db.engine.connect() as conn:
        return conn.execute(sa.select(table.c[column]).where(id_column == key)).scalar_one()


@pytest.fixture
def alices(db: Database, data_copy: Path) -> Database:
    """The curated data, loaded by alice (she is every row's extractor)."""
    load(db, Sources.from_folder(data_copy), by="alice")
    return db


def test_a_conflicting_load_is_refused_and_changes_nothing(alices: Database,
                                                           data_copy: Path) -> None:
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45",
          reference_keys="wachtel2015", reference_numbers="3")
    before = snapshot(alices)
    with pytest.raises(LoadRefused) as refused:
        load(alices, Sources.from_folder(data_copy), by="bob")
    assert snapshot(alices) == before
    problems = refused.value.problems
    assert {p.code for p in problems} == {Code.CONFLICT}
    assert {(p.key, p.file.endswith("claims.csv")) for p in problems} == {(CLAIM_ID, True)}
    messages = [p.message for p in problems]
    assert messages[0] == ("value_low: stored 40 (entered by alice), this file gives 45 (by "
                           "bob); load with --resolve to replace it")
    assert messages[1].startswith("reference_keys: stored 'wachtel2015;nooromid2022' (entered "
                                  "by alice), this file gives 'wachtel2015' (by bob)")
    assert len(messages) == 2


def test_resolve_loads_and_records_who_resolved(alices: Database, data_copy: Path) -> None:
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    reports = load(alices, Sources.from_folder(data_copy), by="bob", resolve=True)
    claims = next(r for r in reports if r.kind == "claims")
    assert (claims.updated, claims.resolved) == (1, 1)
    assert _value(alices, Claim, CLAIM_ID, "value_low") == 45
    assert _value(alices, Claim, CLAIM_ID, "extracted_by") == "bob"
    events = LoadEvent.__table__  # type: ignore[attr-defined]
    with alices.engine.connect() as conn:
        last = conn.execute(sa.select(events.c.loaded_by, events.c.resolved)
                            .where(events.c.kind == "claims")
                            .order_by(events.c.id.desc()).limit(1)).one()
    assert tuple(last) == ("bob", 1)


def test_the_same_extractor_never_conflicts(alices: Database, data_copy: Path) -> None:
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    reports = load(alices, Sources.from_folder(data_copy), by="alice")  # her own edit
    assert next(r for r in reports if r.kind == "claims").updated == 1
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="46",
          extracted_by="alice")  # the file names her: whoever loads it
    load(alices, Sources.from_folder(data_copy), by="bob")
    assert _value(alices, Claim, CLAIM_ID, "value_low") == 46


def test_empty_stored_extractor_never_conflicts(built: Database, data_copy: Path) -> None:
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    reports = load(built, Sources.from_folder(data_copy), by="bob")
    assert next(r for r in reports if r.kind == "claims").updated == 1
    assert _value(built, Claim, CLAIM_ID, "extracted_by") == "bob"


def test_a_finding_conflicts_too(alices: Database, data_copy: Path) -> None:
    with alices.engine.connect() as conn:
        table = SourceFinding.__table__  # type: ignore[attr-defined]
        finding = conn.execute(sa.select(table.c.finding_id).where(
            table.c.measure_code == "female")).scalar_one()
    edit_csv(data_copy / "findings.csv", "measure", "female", value="77")
    before = snapshot(alices)
    with pytest.raises(LoadRefused) as refused:
        load(alices, Sources.from_folder(data_copy), by="bob")
    assert snapshot(alices) == before
    assert [(p.key, p.message.split(";")[0]) for p in refused.value.problems] == [
        (finding, "value: stored 76 (entered by alice), this file gives 77 (by bob)")]


def test_cli_prints_the_conflicts_then_resolves(cli: CliRun, alices: Database,
                                                data_copy: Path) -> None:
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    url = alices.url
    args = ("load", "--db", url, "--claims", str(data_copy / "claims.csv"), "--by", "bob")
    code, _, err = cli(*args)
    assert code == 1
    assert (f"claims.csv:{_line(data_copy, CLAIM_ID)}: {CLAIM_ID}: error [conflict]: value_low: "
            "stored 40 (entered by alice)") in err
    assert "1 error(s); nothing was written" in err
    code, _, err = cli(*args, "--resolve")
    assert code == 0, err
    assert "--resolve replaced values others entered in 1 row(s)" in err


def _line(folder: Path, claim_id: str) -> int:
    lines = (folder / "claims.csv").read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.startswith(claim_id + ","))
