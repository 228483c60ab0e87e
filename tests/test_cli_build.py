"""`ivcdb build` and `ivcdb init`: create, load the curated data, print the summary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import CliRun


def test_build_twice_then_nothing_changes(tmp_path: Path, cli: CliRun) -> None:
    target = str(tmp_path / "ivcdb.sqlite")
    code, out, err = cli("build", "--db", target)
    assert code == 0, err
    assert "references: 18 read, 18 added" in err
    summary = {row["outcome"]: row for row in csv.DictReader(io.StringIO(out))}
    os5 = summary["overall_survival_5y"]
    assert (os5["unit"], os5["lowest"], os5["highest"], os5["references"]) == (
        "percent", "40", "70", "2")
    code, _, err = cli("build", "--db", target)
    assert code == 0
    assert err.count("nothing changed") == 7
    assert cli("build", "--db", target, "--quiet") == (0, "", "")  # silent on success


def test_quiet_build_still_reports_warnings(tmp_path: Path, data_copy: Path,
                                            cli: CliRun) -> None:
    target = str(tmp_path / "w.sqlite")
    assert cli("build", "--db", target, "--data", str(data_copy), "-q") == (0, "", "")
    claims = data_copy / "claims.csv"
    lines = claims.read_text(encoding="utf-8").splitlines(keepends=True)
    claims.write_text("".join(lines[:-1]), encoding="utf-8")  # one claim fewer
    code, out, err = cli("build", "--db", target, "--data", str(data_copy), "-q")
    assert code == 0 and out == ""
    assert "in the database but not in the file" in err and "read," not in err


def test_value_span_for_the_terminal_summary() -> None:
    from ivcdb.render import value_span

    assert value_span(40.0, 70.0, "percent") == "40\u201370 percent"
    assert value_span(390.0, 390.0, "min") == "390 min"
    assert value_span(None, None, None) == ""


def test_build_from_another_folder_and_missing_folder(tmp_path: Path, data_copy: Path,
                                                     cli: CliRun) -> None:
    (data_copy / "findings.csv").unlink()
    code, _, err = cli("build", "--db", str(tmp_path / "x.sqlite"), "--data", str(data_copy),
                       "-q")
    assert code == 0, err
    assert "findings" not in err
    code, _, err = cli("build", "--db", str(tmp_path / "y.sqlite"), "--data",
                       str(tmp_path / "nope"))
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err


def test_init_creates_an_empty_database(tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "new.sqlite"
    code, _, err = cli("init", "--db", str(target))
    assert code == 0, err
    assert target.exists()
    code, out, _ = cli("db", "current", "--db", str(target))
    from ivcdb.db import SCHEMA_REVISION

    assert out.strip() == SCHEMA_REVISION
