"""The wheel carries migrations/ and data/: `pip install` then `ivcdb build` works anywhere."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


def test_installed_wheel_builds_and_migrates_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Dependencies come from the test environment; only ivcdb itself is installed fresh.
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    ivcdb = str(venv / "bin" / "ivcdb")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ivcdb, *args], cwd=work, capture_output=True, text=True,
                              check=False)

    built = run("build")
    assert built.returncode == 0, built.stderr
    assert "references: 18 read, 18 added" in built.stderr
    assert (work / "ivcdb.sqlite").exists()
    assert not (work / "alembic.ini").exists()
    for args in (("db", "downgrade", "base"), ("db", "upgrade"), ("db", "check")):
        result = run(*args)
        assert result.returncode == 0, (args, result.stderr)
    from ivcdb.db import SCHEMA_REVISION

    assert run("db", "current").stdout.strip() == SCHEMA_REVISION
