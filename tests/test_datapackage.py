"""Data packages: `export --all DIR` writes every table, references.bib, review.toml and a
Frictionless datapackage.json from which `build --data DIR` rebuilds the same database;
data/datapackage.json is current; both packages validate with frictionless and load into
pandas with their declared types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROOT, CliRun

from ivcdb.db import Database
from ivcdb.exports.datapackage import FILE_NAME

frictionless = pytest.importorskip("frictionless")

CSV_FILES = ["citations.csv", "claims.csv", "datapackage.json", "findings.csv", "measures.csv",
             "outcomes.csv", "references.bib", "references.csv", "review.toml", "units.csv"]
PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64",
                "boolean": "boolean"}


def _export(cli: CliRun, db: str, folder: Path, *extra: str) -> tuple[int, str]:
    code, _, err = cli("export", "--all", str(folder), "--db", db, *extra)
    return code, err


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _errors(descriptor: Path) -> list[str]:
    report = frictionless.validate(str(descriptor))
    return [f"{task.name}: {error.message}" for task in report.tasks for error in task.errors]


def _frames(descriptor: Path) -> dict[str, Any]:
    """Each CSV resource read by pandas with the dtypes its schema declares."""
    import pandas as pd

    package = json.loads(descriptor.read_text(encoding="utf-8"))
    frames = {}
    for res in package["resources"]:
        fields = res["schema"]["fields"]
        frames[res["name"]] = pd.read_csv(
            descriptor.parent / res["path"], keep_default_na=False, na_values=[""],
            dtype={f["name"]: PANDAS_TYPES[f["type"]] for f in fields})
        assert list(frames[res["name"]].columns) == [f["name"] for f in fields]
    return frames


# --- export --all -----------------------------------------------------------------------------


def test_export_all_builds_the_same_database_again(built: Database, cli: CliRun,
                                                   tmp_path: Path) -> None:
    """export --all -> build --data into an empty database -> export --all: the same bytes."""
    first, second = tmp_path / "first", tmp_path / "new" / "second"
    assert _export(cli, str(built.url), first)[0] == 0
    assert sorted(p.name for p in first.iterdir()) == CSV_FILES
    assert b"reference_roles" in (first / "claims.csv").read_bytes().split(b"\n")[0]
    rebuilt = str(tmp_path / "rebuilt.sqlite")  # from SQLite or PostgreSQL, into SQLite
    code, _, err = cli("build", "--data", str(first), "--db", rebuilt)
    assert code == 0, err
    assert _export(cli, rebuilt, second)[0] == 0  # a missing folder (and parent) is made
    assert _files(second) == _files(first)


def test_export_package_validates_and_loads_with_its_types(built: Database, cli: CliRun,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()  # an existing empty folder is fine
    assert _export(cli, str(built.url), folder)[0] == 0
    assert _errors(folder / FILE_NAME) == []
    frames = _frames(folder / FILE_NAME)
    refs = frames["references"]
    assert str(refs["pmid"].dtype) == "string" and str(refs["number"].dtype) == "Int64"
    raw = (folder / "references.csv").read_text(encoding="utf-8")
    pmids = list(refs["pmid"].dropna())
    assert pmids and all(p.isdigit() and p in raw for p in pmids)  # never 12345678.0
    claims = frames["claims"]
    assert str(claims["derived"].dtype) == "boolean" and str(claims["value"].dtype) == "Float64"


def test_a_broken_foreign_key_fails_validation(built: Database, cli: CliRun,
                                               tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert _export(cli, str(built.url), folder)[0] == 0
    citations = folder / "citations.csv"
    citations.write_text(citations.read_text(encoding="utf-8").replace(
        ",nayyar2010\n", ",nobody1999\n"), encoding="utf-8")
    errors = _errors(folder / FILE_NAME)
    assert len(errors) == 1 and "nobody1999" in errors[0]


def test_xlsx_package_is_one_workbook_that_validates(built: Database, cli: CliRun,
                                                     tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert _export(cli, str(built.url), folder, "--format", "xlsx")[0] == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "datapackage.json", "references.bib", "review.toml", "tables.xlsx"]
    assert _errors(folder / FILE_NAME) == []


def test_parquet_package_validates_with_its_lists(built: Database, cli: CliRun,
                                                  tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    folder = tmp_path / "out"
    assert _export(cli, str(built.url), folder, "--format", "parquet")[0] == 0
    assert _errors(folder / FILE_NAME) == []
    claims = next(r for r in json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))
                  ["resources"] if r["name"] == "claims")
    types = {f["name"]: f["type"] for f in claims["schema"]["fields"]}
    assert types["reference_keys"] == "any" and types["value"] == "number"


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_build_refuses_a_binary_package_instead_of_skipping_its_tables(
        built: Database, cli: CliRun, tmp_path: Path, fmt: str) -> None:
    pytest.importorskip("openpyxl" if fmt == "xlsx" else "pyarrow")
    folder = tmp_path / "out"
    assert _export(cli, str(built.url), folder, "--format", fmt)[0] == 0
    code, _, err = cli("build", "--data", str(folder), "--db", str(tmp_path / "x.sqlite"))
    assert code == 2 and ("tables.xlsx" if fmt == "xlsx" else "claims.parquet") in err
    assert "export --all DIR" in err


def test_existing_files_need_force(built: Database, cli: CliRun, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert _export(cli, str(built.url), folder)[0] == 0
    (folder / "claims.csv").write_text("mine\n", encoding="utf-8")
    before = _files(folder)
    code, err = _export(cli, str(built.url), folder)
    assert code == 1 and "--force" in err and _files(folder) == before
    assert _export(cli, str(built.url), folder, "--force")[0] == 0
    assert (folder / "claims.csv").read_text(encoding="utf-8") != "mine\n"


@pytest.mark.parametrize(("first", "then"), [("csv", "xlsx"), ("xlsx", "csv"),
                                             ("csv", "parquet"), ("parquet", "csv")])
def test_force_in_another_format_leaves_no_stale_tables(
        built: Database, cli: CliRun, tmp_path: Path, first: str, then: str) -> None:
    """A package rewritten in another format holds only that format's tables: `build --data`
    must never read an earlier export's files beside the new datapackage.json."""
    pytest.importorskip("openpyxl")
    pytest.importorskip("pyarrow")
    folder = tmp_path / "out"
    notes = folder / "notes.csv"  # a file of the user's own stays
    assert _export(cli, str(built.url), folder, "--format", first)[0] == 0
    notes.write_text("mine\n", encoding="utf-8")
    assert _export(cli, str(built.url), folder, "--format", then, "--force")[0] == 0
    fresh = tmp_path / "fresh"
    assert _export(cli, str(built.url), fresh, "--format", then)[0] == 0
    assert set(_files(folder)) == set(_files(fresh)) | {"notes.csv"}
    assert notes.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("args", [
    pytest.param(("export", "claims", "--all", "{dir}"), id="kind-and-all"),
    pytest.param(("export",), id="neither"),
    pytest.param(("export", "--all", "{file}"), id="a-file"),
    pytest.param(("export", "--all", "{dir}", "--format", "json"), id="json"),
    pytest.param(("export", "--all", "{dir}", "--long"), id="long"),
])
def test_bad_usage_exits_2_and_writes_nothing(built: Database, cli: CliRun, tmp_path: Path,
                                              args: tuple[str, ...]) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    argv = [a.format(dir=tmp_path / "out", file=afile) for a in args]
    code, _, err = cli(*argv, "--db", str(built.url))
    assert code == 2 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


# --- data/datapackage.json --------------------------------------------------------------------


def test_curated_package_is_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_datapackage.py"),
                           "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_curated_package_validates_and_loads_with_its_types() -> None:
    assert _errors(DATA / FILE_NAME) == []
    package = json.loads((DATA / FILE_NAME).read_text(encoding="utf-8"))
    assert {r["name"] for r in package["resources"]} == {
        "units", "measures", "outcomes", "claims", "findings"}
    keys = {r["name"]: r["schema"].get("foreignKeys", []) for r in package["resources"]}
    assert all(k["reference"]["resource"] != "references" for ks in keys.values() for k in ks)
    frames = _frames(DATA / FILE_NAME)
    assert str(frames["claims"]["paragraph"].dtype) == "Int64"
    assert str(frames["findings"]["reference_key"].dtype) == "string"


def test_one_review_of_several(built: Database, cli: CliRun, tmp_path: Path) -> None:
    """With several reviews loaded one is named; its package validates and rebuilds alone."""
    from ivcdb.loaders import Sources, load

    second = ROOT / "tests" / "data" / "second_review"
    load(built, Sources(reviews=[second / "review.toml"],
                        references=[second / "references.bib"],
                        claims=[second / "claims.csv"], findings=[second / "findings.csv"]))
    code, err = _export(cli, str(built.url), tmp_path / "none")
    assert code == 2 and "--review" in err and not (tmp_path / "none").exists()
    first, second_out = tmp_path / "first", tmp_path / "second"
    assert _export(cli, str(built.url), first, "--review", "other2026")[0] == 0
    assert _errors(first / FILE_NAME) == []
    assert "other2026" in (first / "review.toml").read_text(encoding="utf-8")
    rebuilt = str(tmp_path / "rebuilt.sqlite")
    code, _, err = cli("build", "--data", str(first), "--db", rebuilt)
    assert code == 0, err
    assert _export(cli, rebuilt, second_out)[0] == 0
    assert _files(second_out) == _files(first)


NESTED = """
[review.funding]
agency = "Example Foundation"
grants = [{number = "X-1", year = 2024}, {number = "X-2", open = true}]

[review.funding.contact]
"e-mail address" = "someone@example.org"

[[review.reviewers]]
name = "First Reviewer"
roles = ["screening", "extraction"]

[[review.reviewers]]
name = "Second Reviewer"
"""


def test_review_extra_tables_export_and_rebuild(db: Database, cli: CliRun, data_copy: Path,
                                                tmp_path: Path) -> None:
    """Tables and arrays of tables a review file adds (`[review.funding]`,
    `[[review.reviewers]]`) are written back as inline tables (was: export --all failed)."""
    import tomllib

    review = data_copy / "review.toml"
    review.write_text(review.read_text(encoding="utf-8") + NESTED, encoding="utf-8")
    code, _, err = cli("build", "--data", str(data_copy), "--db", str(db.url))
    assert code == 0, err
    first = tmp_path / "first"
    code, err = _export(cli, str(db.url), first)
    assert code == 0, err
    written = tomllib.loads((first / "review.toml").read_text(encoding="utf-8"))["review"]
    given = tomllib.loads(review.read_text(encoding="utf-8"))["review"]
    assert written["funding"] == given["funding"]
    assert written["reviewers"] == given["reviewers"]
    rebuilt = str(tmp_path / "rebuilt.sqlite")
    code, _, err = cli("build", "--data", str(first), "--db", rebuilt)
    assert code == 0, err
    assert _export(cli, rebuilt, tmp_path / "second")[0] == 0
    assert _files(tmp_path / "second") == _files(first)


def test_synthesis_fields_travel_in_the_package(built: Database, cli: CliRun,
                                                tmp_path: Path) -> None:
    """A finding's n, CI, SE and effect and a claim's bounds: typed and constrained in the
    package, valid, and rebuilt to the same bytes."""
    from loadkit import edit_claims, write

    from ivcdb.loaders import Sources, load

    claims = write(tmp_path / "claims.csv", edit_claims(
        {"li2025-os-5y": {"value": "55", "bounds": "ci", "qualifier": ""}}))
    findings = write(tmp_path / "findings.csv", (
        "reference_key,measure,value,value_low,value_high,numerator,denominator,unit,"
        "timepoint,population,note,seen_at,n,ci_low,ci_high,ci_level,se,effect\n"
        "zer2018,overall_survival_hazard_ratio,0.79,,,,,ratio,,another comparison,,,120,0.6,"
        "0.9,90,0.1,hazard_ratio\n"))
    load(built, Sources(claims=[claims], findings=[findings]))
    first, second = tmp_path / "first", tmp_path / "second"
    assert _export(cli, str(built.url), first)[0] == 0
    assert _errors(first / FILE_NAME) == []
    package = json.loads((first / FILE_NAME).read_text(encoding="utf-8"))
    fields = {f["name"]: f for r in package["resources"] if r["name"] == "findings"
              for f in r["schema"]["fields"]}
    assert (fields["n"]["type"], fields["ci_low"]["type"]) == ("integer", "number")
    assert fields["effect"]["constraints"]["enum"][:2] == ["proportion", "percent"]
    frames = _frames(first / FILE_NAME)
    row = frames["findings"].set_index("population").loc["another comparison"]
    assert (row["n"], row["ci_level"], row["effect"]) == (120, 90, "hazard_ratio")
    assert "ci" in set(frames["claims"]["bounds"].dropna())
    rebuilt = str(tmp_path / "rebuilt.sqlite")
    code, _, err = cli("build", "--data", str(first), "--db", rebuilt)
    assert code == 0, err
    assert _export(cli, rebuilt, second)[0] == 0
    assert _files(second) == _files(first)
