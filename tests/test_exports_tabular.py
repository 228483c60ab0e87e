"""Tidy exports: the claims CSV contract (loads back unchanged), formula guard, BOM, JSON
without NaN, and byte-identical output from SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA
from exportkit import load_tricky
from loadkit import load_curated_lists

from ivcdb.contract import CLAIM_COLUMNS, CLAIM_LONG_COLUMNS
from ivcdb.db import Database, open_db, resolve_url, upgrade
from ivcdb.errors import UsageError
from ivcdb.exports import export, reference_list
from ivcdb.exports.tabular import KINDS, columns_of
from ivcdb.loaders import Sources, load

try:
    import pyarrow  # noqa: F401

    HAS_PYARROW = True
except ImportError:
    HAS_PYARROW = False


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture
def tricky(built: Database, tmp_path: Path) -> Database:
    load_tricky(built, tmp_path)
    return built


# --- the claims CSV contract ------------------------------------------------------------------


@pytest.mark.parametrize("long", [False, True], ids=["wide", "long"])
def test_claims_export_loads_back_unchanged(built: Database, tmp_path: Path,
                                            long: bool) -> None:
    # the file keeps the curated file's name: the load history ties claims to their file
    path = tmp_path / "claims.csv"
    path.write_bytes(export(built, "claims", long=long))
    report, = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 78)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert tuple(header) == (CLAIM_LONG_COLUMNS if long else CLAIM_COLUMNS)


def test_wide_export_loads_into_an_empty_database_byte_identical(
        tricky: Database, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Export -> load into a new database -> export: the same bytes, citation roles included
    (the wide form once lost every role but `supports`)."""
    wide, long = export(tricky, "claims"), export(tricky, "claims", long=True)
    claims = {r["claim_id"]: r for r in _rows(wide)}
    assert (claims["alpha-claim"]["reference_roles"], claims["Zeta-claim"]["reference_roles"],
            claims["Éclair-claim"]["reference_roles"]) == ("supports;disagrees",
                                                           "data_source;supports;supports", "")
    url = (request.getfixturevalue("pg_url") if tricky.url.startswith("postgresql")
           else resolve_url(tmp_path / "second.sqlite"))
    upgrade(url)
    path = tmp_path / "exported.csv"
    path.write_bytes(wide)
    with open_db(url) as second:
        load_curated_lists(second)
        load(second, Sources(references=tmp_path / "tricky.bib", claims=[path]))
        with second.engine.connect() as conn:
            roles = set(conn.execute(sa.text(
                "SELECT claim.claim_id, role FROM claim_reference JOIN claim "
                "ON claim.id = claim_reference.claim_id WHERE role <> 'supports'")).all())
        assert roles == {("alpha-claim", "disagrees"), ("Zeta-claim", "data_source")}
        assert export(second, "claims") == wide
        assert export(second, "claims", long=True) == long


def test_one_edited_cell_updates_one_claim(built: Database, tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    rows = _rows(export(built, "claims"))
    rows[5]["statement"] += " (edited)"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report, = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 77)


PROVENANCE = dict.fromkeys(("extracted_by", "extracted_at", "checked_by", "checked_at"), "")


def test_numbers_match_the_curated_file(shared_built: Database) -> None:
    exported = {r["claim_id"]: r for r in _rows(export(shared_built, "claims"))}
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as handle:
        curated = list(csv.DictReader(handle))
    for row in curated:  # every curated link supports its claim: no roles, no bounds
        assert exported[row["claim_id"]] == {**row, "reference_roles": "", **PROVENANCE,
                                             "bounds": ""}, row["claim_id"]
    data = export(shared_built, "claims")
    assert b"\r" not in data and b".0," not in data


def test_formulas_are_neutralised_and_loaded_back(tricky: Database, tmp_path: Path) -> None:
    data = export(tricky, "claims")
    rows = {r["claim_id"]: r for r in _rows(data)}
    assert rows["Zeta-claim"]["statement"] == "'=1+1"
    assert rows["Éclair-claim"]["statement"].startswith("'@SUM(A1)")
    assert rows["alpha-claim"]["statement"] == "-5"  # a number is not a formula
    assert rows["alpha-claim"]["value"] == "-5"
    assert rows["Éclair-claim"]["value"] == "0.1"
    # numbers only where every reference is in the review's list
    assert (rows["Zeta-claim"]["reference_keys"], rows["Zeta-claim"]["reference_numbers"]) == (
        "Zeta2020;nayyar2010;alpha2021", "")
    refs = {r["key"]: r for r in _rows(export(tricky, "references"))}
    assert refs["alpha2021"]["title"] == "'=HYPERLINK(\"http://example.org\")"
    path = tmp_path / "claims_tricky.csv"  # the name the tricky claims were loaded from
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()  # the exported cells, as they are, of the three tricky claims
        writer.writerows(r for r in rows.values() if "claim" in r["claim_id"])
    report, = load(tricky, Sources(claims=[path]))
    assert (report.read, report.unchanged) == (3, 3)


def test_excel_adds_a_bom(shared_built: Database) -> None:
    plain, excel = export(shared_built, "claims"), export(shared_built, "claims", excel=True)
    assert excel == b"\xef\xbb\xbf" + plain
    with pytest.raises(UsageError, match="CSV only"):
        export(shared_built, "claims", fmt="json", excel=True)


def test_json_has_types_and_no_nan(tricky: Database) -> None:
    for kind in KINDS:
        text = export(tricky, kind, fmt="json").decode("utf-8")
        assert "NaN" not in text and "Infinity" not in text
        rows = json.loads(text)
        assert rows and list(rows[0]) == list(columns_of(kind))
    claims = {r["claim_id"]: r for r in json.loads(export(tricky, "claims", fmt="json"))}
    assert claims["alpha-claim"]["value"] == -5 and claims["Zeta-claim"]["value"] is None
    assert claims["alpha-claim"]["reference_numbers"] == [1, 3]
    assert claims["Zeta-claim"]["statement"] == "=1+1"  # only CSV is guarded


def test_rows_are_in_bytewise_order(tricky: Database) -> None:
    ids = [r["claim_id"] for r in _rows(export(tricky, "claims"))]
    assert ids == sorted(ids, key=str.encode) and ids[0] == "Zeta-claim"
    refs = _rows(export(tricky, "references"))
    assert [r["number"] for r in refs[:18]] == [str(n) for n in range(1, 19)]
    assert [r["key"] for r in refs[18:]] == ["Zeta2020", "alpha2021", "Éclair2019"]


@pytest.mark.skipif(not HAS_PYARROW, reason="pyarrow not installed")
def test_parquet_reads_back(tricky: Database, tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "claims.parquet"
    path.write_bytes(export(tricky, "claims", fmt="parquet"))
    frame = pd.read_parquet(path)
    assert list(frame.columns) == list(CLAIM_COLUMNS) and len(frame) == 81
    claims = frame.set_index("claim_id")
    assert claims.loc["alpha-claim", "value"] == -5
    assert list(claims.loc["alpha-claim", "reference_roles"]) == ["supports", "disagrees"]
    assert list(claims.loc["Éclair-claim", "reference_roles"]) == []


# --- SQLite and PostgreSQL give the same bytes ------------------------------------------------


def _every_export(database: Database) -> dict[str, bytes]:
    formats = ["csv", "json"] + (["parquet"] if HAS_PYARROW else [])
    out = {f"{kind}.{fmt}": export(database, kind, fmt=fmt) for kind in KINDS for fmt in formats}
    out.update({f"claims-long.{fmt}": export(database, "claims", fmt=fmt, long=True)
                for fmt in formats})
    out.update({f"references.{fmt}": export(database, "references", fmt=fmt)
                for fmt in ("bibtex", "csljson", "ris")})
    out.update({f"refs.{fmt}": reference_list(database, fmt=fmt).encode()
                for fmt in ("markdown", "text", "html", "latex")})
    return out


@pytest.mark.postgresql
def test_sqlite_and_postgresql_exports_are_byte_identical(tmp_path: Path, pg_url: str) -> None:
    outputs = []
    for url in (resolve_url(tmp_path / "same.sqlite"), pg_url):
        upgrade(url)
        with open_db(url) as database:
            load(database, Sources.from_folder(DATA))
            load_tricky(database, tmp_path)
            outputs.append(_every_export(database))
    sqlite, postgresql = outputs
    assert sqlite.keys() == postgresql.keys()
    for name in sqlite:
        assert sqlite[name] == postgresql[name], name


SECOND_REVIEW = """
[review]
id = "other2026"
title = "Another review"
year = 2026

[[citations]]
number = 1
key = "Zeta2020"

[[citations]]
number = 2
key = "nayyar2010"
"""


def test_several_reviews_need_a_choice(tricky: Database, tmp_path: Path) -> None:
    (tmp_path / "review2.toml").write_text(SECOND_REVIEW, encoding="utf-8")
    # its own bibliography: a copy of the curated one (Zeta2020 it finds in the library)
    load(tricky, Sources(reviews=[tmp_path / "review2.toml"],
                         references=DATA / "references.bib"))
    with pytest.raises(UsageError, match="--review"):
        reference_list(tricky)
    assert reference_list(tricky, review="other2026", fmt="text").splitlines()[1].startswith(
        "[2] Nayyar R, Panda S, Saini A, et al., 2010,")
    # unnamed: every review's numbered list, with a review column
    unnamed = {(r["review"], r["key"]): r["number"] for r in _rows(export(tricky, "references"))}
    assert (unnamed[("li2025", "nayyar2010")], unnamed[("other2026", "nayyar2010")],
            unnamed[("other2026", "Zeta2020")]) == ("1", "2", "1")
    named = {r["key"]: r["number"] for r in _rows(export(tricky, "references",
                                                        review="other2026"))}
    assert (named["Zeta2020"], named["nayyar2010"], named["wachtel2015"]) == ("1", "2", "")
    citations = _rows(export(tricky, "citations"))
    assert [c["review"] for c in citations] == ["li2025"] * 18 + ["other2026"] * 2
    # a claim's numbers are those of its own review, whichever review is chosen
    claims = {r["claim_id"]: r for r in _rows(export(tricky, "claims"))}
    assert claims["alpha-claim"]["reference_numbers"] == "1;3"


@pytest.mark.parametrize(("value", "cell", "json_text"), [
    (40.0, "40", "40"), (77.8, "77.8", "77.8"), (-5.0, "-5", "-5"), (0.0, "0", "0"),
    (-0.0, "-0", "-0.0"),  # PostgreSQL keeps the sign; "0" would load back differently
    (3, "3", "3"), (True, "true", "true"), ("-5", "-5", '"-5"'), ("-x", "'-x", '"-x"'),
])
def test_cells(value: object, cell: str, json_text: str) -> None:
    from ivcdb.csvformat import json_value
    from ivcdb.exports.tabular import csv_cell

    assert csv_cell(value) == cell
    assert json.dumps(json_value(value)) == json_text
