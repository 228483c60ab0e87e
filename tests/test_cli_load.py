"""`ivcdb load` and `ivcdb check` on the command line: exit codes, one line per problem on
stderr, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, run_cli, snapshot
from loadkit import write

from ivcdb.db import Database

PROBLEM_LINE = re.compile(
    r"^(?P<file>.+?)(?::(?P<line>\d+))?:(?: (?P<key>[^:\s]+):)? "
    r"(?P<severity>error|warning) \[(?P<code>[a-z0-9-]+)\]: (?P<message>.+)$")
BAD_BIB = """@article{good1,
  title = {Fine}, author = {A, B}, year = {2000}, journal = {J}
}

@article{notitle2,
  title = {T}, author = {A, B}, year = {2000}, journal = {J}, samplesize = {many}
}

@article{broken3,
  title = {Oops,
  year = {2000}
}
"""


run = run_cli


def problem_lines(err: str) -> list[re.Match[str]]:
    return [m for m in map(PROBLEM_LINE.match, err.splitlines()) if m]


def test_refused_load_prints_every_problem_and_no_traceback(
        built: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "refs.bib", BAD_BIB)
    before = snapshot(built)
    code, out, err = run(["load", "--db", built.url, "--references", str(path)],
                         monkeypatch, capsys)
    assert code == 1 and out == ""
    found = [(m["file"], m["line"], m["key"], m["code"]) for m in problem_lines(err)]
    assert found == [(str(path), "5", "notitle2", "bad-count"),
                     (str(path), "9", "broken3", "parse-error")]
    assert err.splitlines()[-1] == "error: 2 error(s); nothing was written"
    assert "Traceback" not in err
    assert snapshot(built) == before


def test_refused_load_in_a_real_process(built: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", BAD_BIB)
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    result = subprocess.run([sys.executable, "-m", "ivcdb.cli", "load", "--db", built.url,
                             "--references", str(path)], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(problem_lines(result.stderr)) == 2 and lines[-1].startswith("error: 2 error(s)")


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--references", "{tmp}/missing.bib"], "file does not exist", id="missing"),
    pytest.param(["--references", "{tmp}"], "is a folder, not a file", id="folder"),
    pytest.param(["--claims", "{tmp}/empty.csv"], "the file is empty", id="empty-csv"),
])
def test_unreadable_files(built: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str], args: list[str],
                          message: str) -> None:
    write(tmp_path / "empty.csv", "")
    argv = ["load", "--db", built.url, *(a.format(tmp=tmp_path) for a in args)]
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 1 and message in err and "Traceback" not in err
    (problem,) = problem_lines(err)
    assert problem["file"] == args[1].format(tmp=tmp_path)


def test_load_then_reload_says_nothing_changed(db: Database, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["load", "--db", db.url, "--units", str(DATA / "units.csv"),
            "--references", str(DATA / "references.bib")]
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 0 and "references: 18 read, 18 added" in err
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 0
    summaries = [line for line in err.splitlines() if " read, " in line]
    assert len(summaries) == 2 and all(s.endswith("nothing changed") for s in summaries)


def test_dry_run_writes_nothing(built: Database, data_copy: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    text = (DATA / "references.bib").read_text(encoding="utf-8").replace(
        "Role of Surgery in the Multimodal", "Role of Surgery in Multimodal")
    path = write(data_copy / "references.bib", text)  # reloaded: li2025's bibliography
    before = snapshot(built)
    code, _, err = run(["load", "--db", built.url, "--references", str(path), "--dry-run"],
                       monkeypatch, capsys)
    assert code == 0 and "1 updated" in err and "dry run: nothing written" in err
    assert snapshot(built) == before


def test_skip_invalid_lists_the_skipped(db: Database, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "refs.bib", BAD_BIB)
    code, _, err = run(["load", "--db", db.url, "--references", str(path), "--skip-invalid"],
                       monkeypatch, capsys)
    assert code == 0
    assert f"{path}: skipped (invalid): broken3, notitle2" in err
    assert "3 read, 1 added" in err and "Traceback" not in err


def test_missing_records_are_reported(built: Database, data_copy: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    claims = data_copy / "claims.csv"
    lines = claims.read_text(encoding="utf-8").splitlines(keepends=True)
    write(claims, "".join(line for line in lines if not line.startswith("li2025-os-5y,")))
    code, _, err = run(["load", "--db", built.url, "--claims", str(claims)], monkeypatch, capsys)
    assert code == 0
    assert "in the database but not in the file, kept (use --prune to remove): li2025-os-5y" in err


def test_no_file_is_a_usage_error(built: Database, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["load", "--db", built.url], monkeypatch, capsys)
    assert code == 2 and "name at least one file" in err


def test_check_passes_on_the_curated_data(built: Database, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["check", "--db", built.url], monkeypatch, capsys)
    assert (code, out) == (0, "")
    assert "check: 0 error(s), 0 warning(s)" in err


def test_check_exit_codes(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    warn = write(tmp_path / "refs.bib", "@article{bare1, title = {Only}}\n")
    run(["load", "--db", db.url, "--references", str(warn)], monkeypatch, capsys)
    code, out, _ = run(["check", "--db", db.url], monkeypatch, capsys)
    assert code == 0
    assert {m["severity"] for m in problem_lines(out)} == {"warning"}
    write(warn, "@article{bare1, title = {Only}, doi = {doi 10.1/x}}\n")
    run(["load", "--db", db.url, "--references", str(warn)], monkeypatch, capsys)
    code, out, err = run(["check", "--db", db.url], monkeypatch, capsys)
    assert code == 1 and "Traceback" not in err
    errors = [m for m in problem_lines(out) if m["severity"] == "error"]
    assert [(m["file"], m["key"], m["code"]) for m in errors] == [
        ("refs.bib", "bare1", "malformed-identifier")]


def test_the_program_exits_as_main_does_without_final_collections(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ivcdb.cli.run` (the console script) keeps `main`'s exit code and freezes the heap."""
    import gc

    from ivcdb.cli import main, run

    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(sys, "argv", ["ivcdb", "load", "--db", str(tmp_path / "x.sqlite"),
                                      "--references", str(tmp_path / "missing.bib")])
    with pytest.raises(SystemExit) as stop:
        main()
    by_main = len(frozen)  # the load pauses the collector, and freezes to re-enable it
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 1 and len(frozen) == 2 * by_main + 1
    assert capsys.readouterr().err.count("file does not exist") == 2
