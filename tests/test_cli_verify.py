"""`ivcdb verify`: the formats (table, CSV, JSON, Markdown), options and errors.

Commands run in-process through `ivcdb.cli.main` (what the console entry point runs, so
library errors become one line and an exit code).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, TESTDATA, CliRun
from test_verify import write_small

from ivcdb.db import Database
from ivcdb.loaders import load
from ivcdb.verify import Status

Run = tuple[int, str, str]
Invoke = Callable[..., Run]
GOLDEN = TESTDATA / "verify_small.md"


@pytest.fixture
def run(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run `ivcdb ARGS...` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no folded cells
    return cli


@pytest.fixture
def small(db: Database, tmp_path: Path) -> Database:
    load(db, write_small(tmp_path / "small"))
    return db


# every claim of the small data set that cites a reference, by status (and reason)
SUMMARY = ("summary: 22 claims citing references: 9 consistent, 2 partly consistent, "
           "2 inconsistent, 3 different measure, 2 unverified, 4 not assessable "
           "(1 no supporting reference, 1 qualitative, 1 no numbers, 1 no measure)\n")


def _no_nan(token: str) -> object:
    raise AssertionError(f"JSON contains {token}")


def test_json_lists_each_claim_with_its_findings(small: Database, run: Invoke) -> None:
    code, out, err = run("verify", "--db", small.url, "--format", "json")
    assert (code, err) == (0, SUMMARY)
    checks = json.loads(out, parse_constant=_no_nan)
    by_id = {c["claim_id"]: c for c in checks}
    assert by_id["c-partly"]["status"] == "partly_consistent"
    assert {s.value for s in Status} >= {c["status"] for c in checks}
    for check in checks:
        assert {"claim_id", "outcome", "reference_numbers", "status", "findings",
                "explanation"} <= set(check)
    partly = by_id["c-partly"]
    assert partly["reference_numbers"] == [1, 2]
    compared = {(f["reference_number"], f["value"], f["verdict"]) for f in partly["findings"]}
    assert compared == {(1, 55, "within"), (1, 6, None), (2, 80, "outside")}
    assert all(f["seen_at"].startswith("https://example.org/") for f in partly["findings"])


def test_json_unbounded_interval_is_null(small: Database, run: Invoke) -> None:
    code, out, _ = run("verify", "--db", small.url, "--format", "json", "--outcome", "os")
    assert code == 0
    by_id = {c["claim_id"]: c for c in json.loads(out, parse_constant=_no_nan)}
    assert (by_id["c-up-to"]["accepted_low"], by_id["c-up-to"]["accepted_high"]) == (None, 60)


def test_csv_one_row_per_claim(small: Database, run: Invoke) -> None:
    code, out, err = run("verify", "--db", small.url, "--format", "csv")
    assert (code, err) == (0, SUMMARY)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["claim_id", "review", "outcome", "claimed", "timepoint",
                             "reference_numbers", "status", "reason", "automatic_status",
                             "findings", "explanation"]
    by_id = {r["claim_id"]: r for r in rows}
    assert len(by_id) == len(rows)
    assert by_id["c-partly"]["reference_numbers"] == "1;2"
    assert by_id["c-inconsistent"]["status"] == "inconsistent"
    assert "c-no-reference" not in by_id  # cites nothing
    assert (by_id["c-qualitative"]["status"], by_id["c-qualitative"]["reason"]) == (
        "not_assessable", "qualitative")
    assert by_id["c-consistent"]["reason"] == ""


def test_table(small: Database, run: Invoke) -> None:
    code, out, err = run("verify", "--db", small.url, "--format", "table",
                         "--outcome", "women")
    assert (code, err) == (0, "")
    assert "c-women-approx" in out and "consistent" in out and "Source check" in out
    assert "3 claims citing references: 3 consistent" in out


def test_table_lists_not_assessable_with_reason(small: Database, run: Invoke) -> None:
    code, out, _ = run("verify", "--db", small.url, "--format", "table")
    assert code == 0
    assert SUMMARY.removeprefix("summary: ").strip() in " ".join(out.split())
    assert "c-no-measure" in out and "not assessable: no measure" in out


def test_markdown_matches_golden_file(small: Database, run: Invoke) -> None:
    code, out, err = run("verify", "--db", small.url, "--format", "markdown")
    assert (code, err) == (0, "")
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_markdown_states_the_tolerance_used(small: Database, run: Invoke) -> None:
    _, out, _ = run("verify", "--db", small.url, "--format", "markdown",
                    "--tolerance-pp", "2.5", "--tolerance-rel", "0.2")
    assert "±2.5 percentage points" in out and "±20% of the value" in out


@pytest.mark.parametrize(("options", "status"), [
    pytest.param((), "consistent", id="default-5pp"),
    pytest.param(("--tolerance-pp", "3"), "inconsistent", id="3pp"),
])
def test_tolerance_pp_option(small: Database, run: Invoke, options: tuple[str, ...],
                             status: str) -> None:
    _, out, _ = run("verify", "--db", small.url, "--format", "csv", "--outcome", "women",
                    *options)
    by_id = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert by_id["c-women-approx"]["status"] == status


def test_tolerance_rel_option(small: Database, run: Invoke) -> None:
    _, out, _ = run("verify", "--db", small.url, "--format", "csv", "--outcome", "age",
                    "--tolerance-rel", "0.05")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["status"] == "inconsistent"


@pytest.mark.parametrize(("options", "message"), [
    pytest.param(("--tolerance-rel", "10"), "tolerance_rel", id="rel-as-percent"),
    pytest.param(("--tolerance-pp", "-1"), "tolerance_pp", id="negative-pp"),
    pytest.param(("--outcome", "os_5"), "unknown outcome", id="unknown-outcome"),
    pytest.param(("--review", "r2"), "unknown review", id="unknown-review"),
])
def test_errors_are_one_line(small: Database, run: Invoke, options: tuple[str, ...],
                             message: str) -> None:
    code, out, err = run("verify", "--db", small.url, *options)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("options", "status"), [
    pytest.param((), "different_measure", id="subgroup-by-default"),
    pytest.param(("--whole-population", "complete resection only"), "inconsistent",
                 id="declared-whole"),
    pytest.param(("--whole-population", "x", "--whole-population", "Complete Resection Only"),
                 "inconsistent", id="repeatable"),
])
def test_whole_population_option(small: Database, run: Invoke, options: tuple[str, ...],
                                 status: str) -> None:
    code, out, _ = run("verify", "--db", small.url, "--format", "csv", *options)
    by_id = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(out))}
    assert code == 0 and by_id["c-subgroup"]["status"] == status
    assert by_id["c-consistent-two"]["status"] == "consistent"  # "whole cohort" still whole


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_notes_and_where_seen_in_every_format(small: Database, run: Invoke, fmt: str) -> None:
    code, out, _ = run("verify", "--db", small.url, "--format", fmt, "--outcome", "os_5y")
    assert code == 0
    flat = " ".join(out.split())
    assert "a range" in flat and "https://example.org/7" in flat


def test_unknown_format_refused(small: Database, run: Invoke) -> None:
    code, _, err = run("verify", "--db", small.url, "--format", "html")
    assert code == 2 and "html" in err


def test_curated_json(shared_built: Database, run: Invoke) -> None:
    """One entry per claim that cites a reference (23), each with a status, and a reason
    when it is not assessable."""
    code, out, err = run("verify", "--db", shared_built.url, "--format", "json")
    assert code == 0 and err.startswith("summary: 23 claims citing references: ")
    checks = json.loads(out, parse_constant=_no_nan)
    assert isinstance(checks, list) and len(checks) == 23
    by_id = {c["claim_id"]: c for c in checks}
    with (ROOT / "data" / "claims.csv").open(encoding="utf-8", newline="") as handle:
        assert set(by_id) == {r["claim_id"] for r in csv.DictReader(handle)
                              if r["reference_keys"]}
    for check in checks:
        assert check["status"] in {s.value for s in Status}
        assert (check["status"] == "not_assessable") == (check["reason"] is not None)
    assert by_id["li2025-recurrence"]["reason"] == "qualitative"
    assert by_id["li2025-os-5y"]["status"] == "consistent"
    assert by_id["li2025-os-5y"]["reference_numbers"] == [3, 5]
    assert by_id["li2025-os-10y"]["status"] == "unverified"
    assert by_id["li2025-vro-patency"]["status"] == "unverified"


def test_readme_example_is_real_output(shared_built: Database, run: Invoke) -> None:
    """The README's Markdown example is an excerpt of the report on the curated data."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- verify-example -->\n```markdown\n", 1)[1].split("\n```\n", 1)[0]
    _, out, _ = run("verify", "--db", shared_built.url, "--format", "markdown")
    assert out.startswith(block.split("\n\n", 1)[0])
    for paragraph in block.split("\n\n"):
        assert paragraph in out


def test_outcome_without_citing_claims_says_so(shared_built: Database, run: Invoke) -> None:
    code, out, err = run("verify", "--outcome", "patient_sex", "--format", "csv",
                         "--db", shared_built.url)
    assert code == 0 and len(out.splitlines()) == 1  # the header only
    assert err == ("note: no claim of outcome patient_sex cites a reference (see README, "
                   "Source check)\n")
    code, out, err = run("verify", "--outcome", "first_report_year", "--format", "csv",
                         "--db", shared_built.url)
    (row,) = csv.DictReader(io.StringIO(out))
    assert (row["status"], row["reason"]) == ("not_assessable", "no_measure")
    assert err == "summary: 1 claim citing references: 1 not assessable (1 no measure)\n"
