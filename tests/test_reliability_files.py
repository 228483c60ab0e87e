"""Files and processes (issue 17 item 7, and Ctrl-C).

The `.sqlite` file alone is the whole database after every command that wrote; `--output` and
`--to` replace only regular files and follow symbolic links alike; read commands open SQLite
read-only and never change a file's journal mode; a killed export's temporary file is removed
by the next write to that target; Ctrl-C says what was written and exits 130.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, CliRun, snapshot, table_counts

from ivcdb.db import Database, open_db, sqlite_path
from ivcdb.exports import files

CLAIMS = 78


def _claims_in_copy_of(path: Path, folder: Path) -> int:
    """Copy only the `.sqlite` file (no -wal, no -shm) and count its claims."""
    folder.mkdir()
    alone = folder / path.name
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as conn:
        return int(conn.execute("SELECT count(*) FROM claim").fetchone()[0])


def test_the_file_alone_is_the_database_after_build_and_load(tmp_path: Path,
                                                            cli: CliRun) -> None:
    built = tmp_path / "built.sqlite"
    assert cli("build", "-q", "--db", str(built))[0] == 0
    assert _claims_in_copy_of(built, tmp_path / "a") == CLAIMS
    loaded = tmp_path / "loaded.sqlite"
    argv = ["load", "--db", str(loaded)]
    for name in ("units", "measures", "outcomes"):
        argv += [f"--{name}", str(DATA / f"{name}.csv")]
    argv += ["--references", str(DATA / "references.bib"), "--review",
             str(DATA / "review.toml"), "--claims", str(DATA / "claims.csv")]
    assert cli(*argv)[0] == 0
    assert _claims_in_copy_of(loaded, tmp_path / "b") == CLAIMS


def test_the_file_alone_is_the_database_after_copy(built: Database, tmp_path: Path,
                                                   cli: CliRun) -> None:
    target = tmp_path / "copy.sqlite"
    assert cli("copy", built.url, str(target))[0] == 0
    assert _claims_in_copy_of(target, tmp_path / "c") == CLAIMS


def test_the_file_alone_is_the_database_in_a_separate_process(tmp_path: Path) -> None:
    """The real program (`run`, which exits without the final collections) checkpoints."""
    target = tmp_path / "p.sqlite"
    subprocess.run([sys.executable, "-m", "ivcdb.cli", "build", "-q", "--db", str(target)],
                   check=True, capture_output=True, timeout=300)
    assert _claims_in_copy_of(target, tmp_path / "d") == CLAIMS


def _special(folder: Path, kind: str) -> Path:
    path = folder / "out.sqlite"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/null")
    else:
        path.mkdir()
    return path


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
@pytest.mark.parametrize("command", ["export", "snapshot"])
def test_outputs_replace_only_regular_files(built: Database, tmp_path: Path, cli: CliRun,
                                            kind: str, command: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = _special(folder, kind)
    argv = (["export", "units", "--output", str(path)] if command == "export"
            else ["snapshot", "--to", str(path)])
    code, _, err = cli(*argv, "--db", built.url, "--force")
    assert code == 2
    what = "is a folder; name a file" if kind == "folder" else \
        "is not a regular file (a device, FIFO or socket); name a file"
    assert err == f"error: {path} {what}\n"
    assert Path("/dev/null").is_char_device()
    assert sorted(p.name for p in folder.iterdir()) == ["out.sqlite"]


@pytest.mark.parametrize("command", ["export", "snapshot"])
def test_symlinks_are_followed_alike(built: Database, tmp_path: Path, cli: CliRun,
                                     command: str) -> None:
    """One rule: the file a link points to is replaced; the link stays a link."""
    real = tmp_path / "real" / "out.sqlite"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = real.parent.parent / "link.sqlite"
    link.symlink_to(real)
    argv = (["export", "units", "--output", str(link)] if command == "export"
            else ["snapshot", "--to", str(link)])
    code, _, err = cli(*argv, "--db", built.url)
    assert code == 1 and "exists" in err and real.read_bytes() == b"old"
    code, _, err = cli(*argv, "--db", built.url, "--force")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real
    assert real.read_bytes() != b"old"
    assert sorted(p.name for p in real.parent.iterdir()) == ["out.sqlite"]


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          check=True, capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize("command", ["export", "snapshot"])
def test_stale_temp_files_of_a_killed_write_are_removed(built: Database, tmp_path: Path,
                                                        cli: CliRun, command: str) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "out.sqlite"
    stale = tmp_path / f".out.sqlite.ivcdb-tmp-{_dead_pid()}"
    stale.write_bytes(b"x" * 100_000)
    stale_folder = tmp_path / f".out.sqlite.ivcdb-tmp-{_dead_pid()}"
    stale_folder.mkdir()
    (stale_folder / "out.sqlite").write_bytes(b"y")
    alive = tmp_path / f".out.sqlite.ivcdb-tmp-{os.getppid()}"  # a live writer's: kept
    alive.write_bytes(b"z")
    other = tmp_path / f".other.csv.ivcdb-tmp-{_dead_pid()}"  # another target's: kept
    other.write_bytes(b"w")
    argv = (["export", "units", "--output", str(target)] if command == "export"
            else ["snapshot", "--to", str(target)])
    assert cli(*argv, "--db", built.url)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, other.name, "out.sqlite"])


def test_stale_temp_of_a_killed_export_in_a_real_process(built: Database,
                                                         tmp_path: Path) -> None:
    """SIGKILL during the write leaves the temp file; the next export removes it."""
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    script = (
        "import os, signal, sys\n"
        "from ivcdb.exports import files\n"
        "files.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "sys.argv = ['ivcdb', *sys.argv[1:]]\n"
        "from ivcdb.cli import main\n"
        "main()\n")
    target = tmp_path / "units.csv"
    argv = ["export", "units", "--db", built.url, "--output", str(target)]
    killed = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                            timeout=300, check=False)
    assert killed.returncode == -9
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".units.csv.ivcdb-tmp-")
    subprocess.run([sys.executable, "-m", "ivcdb.cli", *argv], check=True,
                   capture_output=True, timeout=300)
    assert [p.name for p in tmp_path.iterdir()] == ["units.csv"]


def test_reading_keeps_a_foreign_journal_mode(built: Database, cli: CliRun) -> None:
    path = sqlite_path(built.url)
    if path is None:
        pytest.skip("journal modes are SQLite's")
    built.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    for argv in (("query", "outcomes"), ("check",), ("export", "claims"), ("db", "current"),
                 ("db", "check"), ("verify",)):
        assert cli(*argv, "--db", str(path))[0] == 0, argv
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",), argv
    assert sorted(p.name for p in path.parent.iterdir() if p.name != "data") == [path.name]


def test_read_only_media_are_opened_immutable(built: Database,
                                              monkeypatch: pytest.MonkeyPatch,
                                              cli: CliRun) -> None:
    """Where neither the file nor its folder can be written, SQLite is told the file cannot
    change (`immutable=1`), so even a WAL database reads without its index file."""
    import ivcdb.db

    path = sqlite_path(built.url)
    if path is None:
        pytest.skip("read-only media hold SQLite files")
    built.dispose()
    uri = ivcdb.db.read_only_uri(path)
    assert uri.endswith("?mode=ro")
    monkeypatch.setattr(ivcdb.db.os, "access", lambda _path, mode: mode != os.W_OK)
    assert ivcdb.db.read_only_uri(path).endswith("?immutable=1")
    code, out, _ = cli("query", "outcomes", "--db", str(path), "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 57
    # (`data` is the copy of the curated files `built` was loaded from)
    assert sorted(p.name for p in path.parent.iterdir() if p.name != "data") == [path.name]


def test_ctrl_c_during_a_load_writes_nothing(built: Database, cli: CliRun,
                                            monkeypatch: pytest.MonkeyPatch,
                                            data_copy: Path) -> None:
    import ivcdb.store

    before = snapshot(built)
    (data_copy / "units.csv").write_text(
        (data_copy / "units.csv").read_text(encoding="utf-8") + "kelvin,K,temperature\n",
        encoding="utf-8")

    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ivcdb.store, "record_load", interrupt)
    code, out, err = cli("load", "--db", built.url, "--units", str(data_copy / "units.csv"))
    assert (code, out, err) == (130, "", "interrupted; nothing was written\n")
    assert snapshot(built) == before


def test_ctrl_c_during_an_export_writes_nothing(built: Database, tmp_path: Path, cli: CliRun,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupt)
    folder = tmp_path / "out"
    folder.mkdir()
    code, _, err = cli("export", "claims", "--db", built.url, "--output",
                       str(folder / "c.csv"))
    assert (code, err) == (130, "interrupted; nothing was written\n")
    assert list(folder.iterdir()) == []


def test_ctrl_c_during_a_build_says_what_was_written(tmp_path: Path, cli: CliRun,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import ivcdb.store

    def interrupt(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ivcdb.store, "record_load", interrupt)
    target = tmp_path / "b.sqlite"
    code, _, err = cli("build", "--db", str(target))
    assert (code, err) == (130, f"interrupted; the schema of sqlite:///{target} (created or "
                                "upgraded if needed) was written, nothing else\n")
    with open_db(target, readonly=True) as database:
        assert set(table_counts(database).values()) == {0}
