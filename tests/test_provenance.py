"""Provenance: who extracted and checked each claim and finding. Stored and exported, never a
change by itself; `load --by` fills `extracted_by` only where a file leaves it empty."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.loaders.writer import os_user
from ivcdb.models import Claim, LoadEvent, SourceFinding

PROVENANCE = ("extracted_by", "extracted_at", "checked_by", "checked_at")


def _stored(db: Database, model: type, column: str) -> dict[str, str | None]:
    table = model.__table__  # type: ignore[attr-defined]
    key = table.c.claim_id if model is Claim else table.c.finding_id
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(key, table.c[column])).all())  # type: ignore[arg-type]


def _hashes(db: Database) -> dict[str, str]:
    return _stored(db, Claim, "content_hash")  # type: ignore[return-value]


def _with(path: Path, **columns: dict[str, str] | str) -> None:
    """Rewrite a CSV with extra columns: a value for every row, or one per claim id."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    for name, values in columns.items():
        header.append(name)
        for row in rows:
            row[name] = (values if isinstance(values, str)
                         else values.get(row.get("claim_id", ""), ""))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _load(db: Database, folder: Path, by: str | None = None) -> dict[str, tuple[int, int, int]]:
    reports = load(db, Sources.from_folder(folder), by=by)
    return {r.kind: (r.added, r.updated, r.unchanged) for r in reports}


def test_curated_data_leaves_provenance_empty(built: Database) -> None:
    for model in (Claim, SourceFinding):
        for column in PROVENANCE:
            assert set(_stored(built, model, column).values()) == {None}, (model, column)
    with built.engine.connect() as conn:
        loaded_by = set(conn.execute(sa.select(LoadEvent.__table__.c.loaded_by)).scalars())  # type: ignore[attr-defined]
    assert loaded_by == {os_user()}


def test_by_fills_only_what_the_file_leaves_empty(db: Database, data_copy: Path) -> None:
    _with(data_copy / "claims.csv", extracted_by={"li2025-os-5y": "carol"})
    _load(db, data_copy, by="alice")
    extracted = _stored(db, Claim, "extracted_by")
    assert extracted.pop("li2025-os-5y") == "carol"
    assert set(extracted.values()) == {"alice"}
    assert set(_stored(db, SourceFinding, "extracted_by").values()) == {"alice"}
    assert set(_stored(db, Claim, "checked_by").values()) == {None}
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(LoadEvent.__table__.c.loaded_by)).scalars()  # type: ignore[attr-defined]
        assert set(rows) == {"alice"}


def test_provenance_alone_is_never_a_change(built: Database, data_copy: Path) -> None:
    hashes = _hashes(built)
    claims = len(hashes)
    _with(data_copy / "claims.csv", checked_by="dana", checked_at="2026-11-27")
    _with(data_copy / "findings.csv", checked_by="dana")
    counts = _load(built, data_copy, by="bob")
    assert counts["claims"] == (0, 0, claims)
    assert counts["findings"][:2] == (0, 0)
    assert _hashes(built) == hashes
    assert set(_stored(built, Claim, "checked_by").values()) == {"dana"}
    assert set(_stored(built, Claim, "checked_at").values()) == {"2026-11-27"}
    assert set(_stored(built, SourceFinding, "checked_by").values()) == {"dana"}
    # unchanged rows keep their (empty) extractor: a reload does not make bob it
    assert set(_stored(built, Claim, "extracted_by").values()) == {None}


def test_a_reload_keeps_the_extractor_and_an_empty_cell_erases_nothing(
        db: Database, data_copy: Path) -> None:
    _load(db, data_copy, by="alice")
    _load(db, data_copy, by="bob")  # the same files, loaded by someone else
    assert set(_stored(db, Claim, "extracted_by").values()) == {"alice"}
    claims = data_copy / "claims.csv"
    original = claims.read_text(encoding="utf-8")
    _with(claims, checked_by="dana")
    _load(db, data_copy)
    claims.write_text(original, encoding="utf-8")  # without the column again
    _load(db, data_copy, by="erin")
    assert set(_stored(db, Claim, "checked_by").values()) == {"dana"}
    assert set(_stored(db, Claim, "extracted_by").values()) == {"alice"}
