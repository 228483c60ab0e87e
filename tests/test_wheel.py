"""The wheel carries migrations/ and data/: `pip install` then `ivcdb build` works anywhere.

The wheel goes into a fresh venv with its base dependencies only (no extra): loading,
querying and CSV export work, and each command needing an extra says which one to install.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ivcdb.contract import CLAIM_COLUMNS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)], check=True)
    return next(out.glob("ivcdb-*.whl"))


def test_wheel_contains_migrations_and_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ivcdb/migrations/env.py" in names
    assert any(n.startswith("ivcdb/migrations/versions/0001") for n in names)
    for data_file in ("references.bib", "claims.csv", "review.toml", "outcomes.csv"):
        assert f"ivcdb/data/{data_file}" in names


@pytest.fixture(scope="module")
def lean_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh venv holding the wheel and its base dependencies only."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # This environment's pip installs into the new venv; --no-compile keeps it to seconds.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", "--no-compile", str(wheel)], check=True)
    return venv / "bin"


Run = Callable[..., subprocess.CompletedProcess[str]]


def runner(bin_dir: Path, work: Path) -> Run:
    """Run the installed `ivcdb` in `work`, a folder outside the checkout.

    Byte code is written (the install skipped it), so only the first run compiles.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bin_dir / "ivcdb"), *args], cwd=work, capture_output=True,
                              text=True, check=False, env=env)

    return run


@pytest.fixture(scope="module")
def lean_built(lean_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The installed `ivcdb` in a folder where `ivcdb build` has run (for read-only tests)."""
    run = runner(lean_bin, tmp_path_factory.mktemp("built"))
    built = run("build", "--quiet")
    assert built.returncode == 0, built.stderr
    return run


def test_base_install_has_no_optional_dependency(lean_bin: Path) -> None:
    probe = ("from ivcdb.extras import EXTRAS, missing; "
             "print(all(missing(e) == list(EXTRAS[e].modules) for e in EXTRAS))")
    result = subprocess.run([str(lean_bin / "python"), "-c", probe], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "True"


def test_installed_wheel_builds_and_migrates_outside_the_checkout(
    lean_bin: Path, tmp_path: Path
) -> None:
    run = runner(lean_bin, tmp_path)
    built = run("build")
    assert built.returncode == 0, built.stderr
    assert "references: 18 read, 18 added" in built.stderr
    assert (tmp_path / "ivcdb.sqlite").exists()
    assert not (tmp_path / "alembic.ini").exists()
    for args in (("db", "downgrade", "base", "--force"), ("db", "upgrade"), ("db", "check")):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    from ivcdb.db import SCHEMA_REVISION

    assert run("db", "current").stdout.strip() == SCHEMA_REVISION


def test_base_install_queries_and_exports_csv(lean_built: Run) -> None:
    query = lean_built("query", "claims", "--outcome", "overall_survival_5y", "--format", "csv")
    assert query.returncode == 0, query.stderr
    assert query.stdout.splitlines()[1].startswith("li2025-os-5y,li2025,overall_survival_5y,")
    export = lean_built("export", "claims", "--format", "csv")
    assert export.returncode == 0, export.stderr
    rows = list(csv.reader(io.StringIO(export.stdout)))
    assert rows[0] == list(CLAIM_COLUMNS)
    every = lean_built("query", "claims", "--format", "csv").stdout
    assert [r[0] for r in rows[1:]] == [r[0] for r in csv.reader(io.StringIO(every))][1:]
    assert len(rows) > 2


@pytest.mark.parametrize(("args", "extra"), [
    (("plot", "map", "--output", "map.png"), "plot"),
    (("serve",), "web"),
    (("refs", "--style", "vancouver"), "csl"),
    (("export", "claims", "--format", "parquet", "--output", "claims.parquet"), "parquet"),
    (("query", "outcomes", "--db", "postgresql://nobody@127.0.0.1:1/none"), "postgres"),
], ids=["plot", "web", "csl", "parquet", "postgres"])
def test_base_install_names_the_missing_extra(lean_built: Run, args: tuple[str, ...],
                                              extra: str) -> None:
    result = lean_built(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    line, = result.stderr.splitlines()
    assert line.startswith("error: ") and line.endswith(f": pip install 'ivcdb[{extra}]'")
