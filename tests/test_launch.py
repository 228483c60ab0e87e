"""The console script (`ivcdb.launch`): a load's first references file is read from the start
of the process, and that reading is used only by a load of that same file."""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from loadkit import write

from ivcdb import launch
from ivcdb.db import open_db
from ivcdb.loaders import refformats
from ivcdb.loaders.parse import EarlyReading

BIB = "@article{one, title = {One}, author = {Roe, Ann}, year = {2001}, journal = {J}}\n"


@pytest.fixture(autouse=True)
def _unfrozen_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program freezes the heap as it exits; this test process goes on (see test_cli_load)."""
    monkeypatch.setattr(gc, "freeze", lambda: None)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    first, other = tmp_path / "first.bib", tmp_path / "other.bib"
    write(first, BIB)
    write(other, BIB.replace("one", "two"))
    return first, other


def test_first_references_reads_only_a_load_command_line(files: tuple[Path, Path]) -> None:
    first, other = files
    find = launch.first_references
    assert find(["load", "--db", "x", "--references", str(first), "--references",
                 str(other)]) == first
    assert find(["load", f"--references={first}"]) == first
    assert find(["load", "--references", f"rev1={first}"]) == first  # ID=FILE
    assert find(["build", "--references", str(first)]) is None
    assert find(["load", "--references", str(first), "--help"]) is None
    assert find(["load", "--references"]) is None
    assert find(["load", "--references", str(first.with_name("missing.bib"))]) is None
    assert find(["load", "--", "--references", str(first)]) is None
    assert find([]) is None


def _counted_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    real = refformats.start_references

    def counting(path: Any, **kwargs: Any) -> Any:
        started.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(refformats, "start_references", counting)
    monkeypatch.setattr(importlib.import_module("ivcdb.loaders.parse"), "start_references",
                        counting)
    return started


def test_the_console_script_hands_its_early_reading_to_the_load(
        tmp_path: Path, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    first, other = files
    started = _counted_starts(monkeypatch)
    db = tmp_path / "x.sqlite"
    monkeypatch.setattr(sys, "argv", ["ivcdb", "load", "--db", str(db), "--references",
                                      str(first), "--references", str(other)])
    with pytest.raises(SystemExit) as stop:
        launch.run()
    assert stop.value.code in (0, None)
    assert started == ["first.bib", "other.bib"]  # first.bib read once, before the CLI
    assert EarlyReading.current is None
    with open_db(db) as database, database.session() as session:
        from ivcdb import queries

        assert {key for _, key in queries.reference_index(session)} >= {"one", "two"}
    assert "2 read" not in capsys.readouterr().err


def test_a_reading_the_load_does_not_ask_for_is_dropped(
        tmp_path: Path, files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    first, other = files
    started = _counted_starts(monkeypatch)
    closed: list[bool] = []

    class Reading:  # a reading begun for first.bib
        def close(self) -> None:
            closed.append(True)

    # the early reading guessed first.bib; the CLI is told to load other.bib only
    early = EarlyReading(first, Reading())  # type: ignore[arg-type]
    monkeypatch.setattr(launch, "begin", lambda _: early)
    monkeypatch.setattr(sys, "argv", ["ivcdb", "load", "--db", str(tmp_path / "x.sqlite"),
                                      "--references", str(other)])
    with pytest.raises(SystemExit):
        launch.run()
    assert closed == [True]  # its second process, had it one, ended
    assert started == ["other.bib"]
    assert EarlyReading.current is None


@pytest.mark.parametrize("name", ["a" * 300 + ".bib", "refs.ris"])
def test_only_a_bibtex_file_is_begun_and_failures_are_left_to_the_cli(
        tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A name the system refuses (too long) gets the CLI's one-line error, not a traceback;
    a RIS file is not read early (only BibTeX is read on two cores)."""
    path = tmp_path / name
    if len(name) < 255:
        write(path, "TY  - JOUR\nTI  - One\nER  - \n")
    assert launch.begin(["load", "--references", str(path)]) is None
    monkeypatch.setattr(sys, "argv", ["ivcdb", "load", "--db", str(tmp_path / "x.sqlite"),
                                      "--references", str(path)])
    with pytest.raises(SystemExit):
        launch.run()
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_before_the_cli_is_reported_as_the_cli_does(
        files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = files

    def interrupt(_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(launch, "begin", interrupt)
    monkeypatch.setattr(sys, "argv", ["ivcdb", "load", "--references", str(first)])
    with pytest.raises(SystemExit) as stop:
        launch.run()
    assert stop.value.code == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err


def test_python_m_ivcdb_runs_the_program(files: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = files
    done = subprocess.run([sys.executable, "-m", "ivcdb", "load", "--db",
                           str(tmp_path / "m.sqlite"), "--references", str(first)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "1 read, 1 added" in done.stderr + done.stdout
