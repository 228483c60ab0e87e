"""History: every change of a tracked row recorded (append-only, in the writer's transaction),
`ivcdb history` shows both values with both names, `export --as-of` reproduces an earlier
export byte for byte; both engines."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import CliRun, CliRunBytes, snapshot
from loadkit import edit_csv

from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.history import entries
from ivcdb.loaders import Sources, load
from ivcdb.models import ChangeRecord

CLAIM_ID = "li2025-os-5y"




def _records(db: Database) -> list[tuple[object, ...]]:
    table = ChangeRecord.__table__  # type: ignore[attr-defined]
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def _pause() -> datetime:
    """A moment strictly between two loads."""
    time.sleep(0.01)
    at = datetime.now(UTC)
    time.sleep(0.01)
    return at


def test_a_build_records_every_row_inserted(built: Database) -> None:
    counts = {}
    for row in _records(built):
        assert row[6] == "insert"  # action
        counts[row[4]] = counts.get(row[4], 0) + 1  # table_name
    with built.engine.connect() as conn:
        claims = conn.execute(sa.text("SELECT count(*) FROM claim")).scalar_one()
        links = conn.execute(sa.text("SELECT count(*) FROM claim_reference")).scalar_one()
    assert counts["claim"] == claims and counts["claim_reference"] == links
    assert {"review", "unit", "measure", "outcome", "reference", "citation",
            "source_finding", "finding_source"} <= set(counts)


def test_a_reload_of_the_same_files_records_nothing(built: Database, data_copy: Path) -> None:
    before = _records(built)
    load(built, Sources.from_folder(data_copy))
    assert _records(built) == before


def test_resolved_conflict_shows_both_values_and_names(db: Database, data_copy: Path) -> None:
    load(db, Sources.from_folder(data_copy), by="alice")
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    records = _records(db)
    with pytest.raises(LoadRefused):
        load(db, Sources.from_folder(data_copy), by="bob")
    assert _records(db) == records  # a refused load records nothing
    load(db, Sources.from_folder(data_copy), by="bob", resolve=True)
    with db.session() as session:
        found = entries(session, claim_id=CLAIM_ID)
    assert [(e.action, e.changed_by) for e in found if e.table == "claim"] == [
        ("insert", "alice"), ("update", "bob")]
    update = found[-1]
    assert update.old == {"value_low": 40, "extracted_by": "alice"}
    assert update.new == {"value_low": 45, "extracted_by": "bob"}


def test_export_as_of_reproduces_the_earlier_export(db: Database, data_copy: Path,
                                                    cli_bytes: CliRunBytes) -> None:
    load(db, Sources.from_folder(data_copy), by="alice")
    url = db.url
    first = {kind: cli_bytes("export", kind, "--db", url)[1] for kind in ("claims", "findings")}
    at = _pause()
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45",
          reference_keys="wachtel2015", reference_numbers="3")
    edit_csv(data_copy / "findings.csv", "measure", "female", value="77")
    load(db, Sources.from_folder(data_copy), by="alice", prune=True)
    second = {kind: cli_bytes("export", kind, "--db", url)[1] for kind in first}
    assert second != first
    later = _pause()
    (data_copy / "claims.csv").write_text("\n".join(  # drop a claim: pruned (a delete)
        line for line in (data_copy / "claims.csv").read_text(encoding="utf-8").splitlines()
        if not line.startswith("li2025-case-age,")) + "\n", encoding="utf-8")
    load(db, Sources.from_folder(data_copy), by="alice", prune=True)
    for kind in first:
        code, past, err = cli_bytes("export", kind, "--db", url, "--as-of", at.isoformat())
        assert code == 0, err
        assert past == first[kind], kind
        code, past, err = cli_bytes("export", kind, "--db", url, "--as-of", later.isoformat())
        assert past == second[kind], kind
    before = snapshot(db)
    cli_bytes("export", "claims", "--db", url, "--as-of", at.isoformat())
    assert snapshot(db) == before  # the past is rebuilt in a scratch copy


def test_history_command(cli: CliRun, db: Database, data_copy: Path) -> None:
    load(db, Sources.from_folder(data_copy), by="alice")
    edit_csv(data_copy / "claims.csv", "claim_id", CLAIM_ID, value_low="45")
    load(db, Sources.from_folder(data_copy), by="bob", resolve=True)
    code, out, err = cli("history", CLAIM_ID, "--db", db.url, "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert found[-1]["action"] == "update" and found[-1]["old"]["value_low"] == 40
    inserted = found[0]["new"]
    assert inserted["statement"] and "search_norm" not in inserted  # derived words not shown
    code, out, _ = cli("history", "--reference", "wachtel2015", "--db", db.url,
                       "--format", "csv")
    assert code == 0 and ",reference,wachtel2015,insert," in out
    code, out, _ = cli("history", "--since", "2999-01-01", "--db", db.url, "--format", "csv")
    assert code == 0 and out.splitlines()[1:] == []
    code, _, err = cli("history", "no-such-claim", "--db", db.url)
    assert code == 1 and "no history of claim 'no-such-claim'" in err


def test_review_remove_records_its_deletes(cli: CliRun, built: Database) -> None:
    code, _, err = cli("review", "remove", "li2025", "--force", "--db", built.url)
    assert code == 0, err
    deleted = {row[4] for row in _records(built) if row[6] == "delete"}
    assert {"claim", "claim_reference", "citation", "review"} <= deleted


def test_export_as_of_brings_back_the_authors(db: Database, data_copy: Path,
                                              cli_bytes: CliRunBytes) -> None:
    """Authors are derived from the entry, not tracked: the past's entries get theirs back,
    after an author was corrected and after the entries were removed."""
    load(db, Sources.from_folder(data_copy))
    url = db.url
    first = cli_bytes("export", "references", "--db", url)[1]
    at = _pause()
    bib = data_copy / "references.bib"
    text = bib.read_text(encoding="utf-8")
    assert "Nayyar, R and" in text
    bib.write_text(text.replace("Nayyar, R and", "Nayar, R and"), encoding="utf-8")
    load(db, Sources.from_folder(data_copy))
    assert b"Nayar, R;" in cli_bytes("export", "references", "--db", url)[1]
    code, _, err = cli_bytes("review", "remove", "li2025", "--force", "--db", url)
    assert code == 0, err
    code, past, err = cli_bytes("export", "references", "--db", url, "--as-of", at.isoformat())
    assert code == 0, err
    assert past == first


def test_an_inserted_rows_booleans_are_json_booleans_on_both_engines(db: Database,
                                                                     tmp_path: Path) -> None:
    """The database writes an insert's values (SQLite keeps booleans as 0/1): its JSON has
    true and false, as PostgreSQL's and an update's (written by Python) have."""
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{many, author = {Roe, R and others}, title = {T}, year = 2001}\n"
                   "@article{one, author = {Doe, D}, title = {U}, year = 2002}\n",
                   encoding="utf-8")
    load(db, Sources(references=bib))
    bib.write_text(bib.read_text(encoding="utf-8").replace(" and others", ""),
                   encoding="utf-8")
    load(db, Sources(references=bib))
    values = {(row[6], json.loads(row[8])["citekey"]): json.loads(row[8])["et_al"]
              for row in _records(db) if row[4] == "reference"}
    assert values == {("insert", "many"): True, ("insert", "one"): False,
                      ("update", "many"): False}
    assert all(type(value) is bool for value in values.values())  # not 0/1, which == too
    with db.session() as session:
        shown = [(e.action, e.new) for e in entries(session, reference="many")]
    assert [action for action, _ in shown] == ["insert", "update"]
    assert shown[0][1] is not None and shown[0][1]["et_al"] is True
    assert shown[1][1] is not None and shown[1][1]["et_al"] is False
