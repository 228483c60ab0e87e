"""Frictionless data packages: a `datapackage.json` describing tables of ivcdb's columns.

Each column's Table Schema field (type, required, allowed values, description) comes from
the field contract (`ivcdb.contract`) for claims and findings, and from `COLUMNS` below for
references, citations and the vocabularies; the keys of every table from `KEYS`. The same
description serves an `export --all` folder (every table, foreign keys to the references) and
the curated `data/` folder (its CSV files only, foreign keys between them:
`scripts/make_datapackage.py` writes `data/datapackage.json`, a test keeps it current).
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivcdb.contract import CLAIM, FINDING, LINK, WIDE_LINKS, Field, Kind
from ivcdb.errors import UsageError
from ivcdb.terms import CITATION_ROLES, OUTCOME_KINDS

PROFILE = "tabular-data-package"
FILE_NAME = "datapackage.json"
# The Table Schema type of each kind of contract field; list cells are text joined by `;`.
_TYPES = {Kind.TEXT: "string", Kind.NUMBER: "number", Kind.COUNT: "integer",
          Kind.FLAG: "boolean", Kind.KEYS: "string", Kind.NUMBERS: "string",
          Kind.LINKS: "string"}
_ROLE = f"({'|'.join(CITATION_ROLES)})"
_LIST_PATTERNS = {"reference_numbers": "[0-9]+(;[0-9]+)*",
                  "reference_roles": f"{_ROLE}(;{_ROLE})*"}


@dataclass(frozen=True, slots=True)
class Column:
    """A column outside the contract: its type, whether a cell must be filled, its values."""

    type: str = "string"
    required: bool = False
    enum: tuple[str, ...] = ()
    description: str = ""


_TEXT, _KEY = Column(), Column(required=True)
# table -> column -> Column, for the tables the contract does not declare.
COLUMNS: dict[str, dict[str, Column]] = {
    "references": {
        "review": Column(description="the review whose numbered list this row is in"),
        "number": Column("integer", description="citation number in the review"),
        "key": Column(required=True, description="citekey"),
        "entry_type": _TEXT,
        "authors": Column(description="`Family, Given` joined by `; `"),
        "et_al": Column("boolean", description="the author list ended in `and others`"),
        "year": Column("integer"), "title": _TEXT, "journal": _TEXT, "volume": _TEXT,
        "issue": _TEXT, "pages": _TEXT, "doi": _TEXT,
        "pmid": Column(description="PubMed id: digits, kept as text"),
        "pmcid": Column(description="PubMed Central id: `PMC` and digits"),
        "study_design": _TEXT, "sample_size": Column("integer"), "note": _TEXT,
    },
    "citations": {"review": _KEY, "number": Column("integer", required=True),
                  "reference_key": _KEY},
    "outcomes": {"code": _KEY, "label": _KEY, "kind": Column(required=True,
                                                             enum=OUTCOME_KINDS),
                 "unit": _TEXT, "measure": _TEXT, "timepoint": _TEXT, "description": _TEXT},
    "units": {"code": _KEY, "label": _KEY, "description": _TEXT},
    "measures": {"code": _KEY, "label": _KEY, "family": _TEXT, "description": _TEXT,
                 "related": Column(description="codes of measures of other families shown "
                                   "beside it as context, `;`-separated")},
}


@dataclass(frozen=True, slots=True)
class ForeignKey:
    fields: str
    table: str
    to: str
    to_references: bool = False  # points at the references table (an export, not `data/`)


# table -> (primary key, foreign keys).
KEYS: dict[str, tuple[tuple[str, ...], tuple[ForeignKey, ...]]] = {
    "claims": (("review", "claim_id"), (ForeignKey("outcome", "outcomes", "code"),
                                        ForeignKey("unit", "units", "code"))),
    "references": (("key",), ()),
    "citations": (("review", "number"), (ForeignKey("reference_key", "references", "key",
                                                    True),)),
    "outcomes": (("code",), (ForeignKey("unit", "units", "code"),
                             ForeignKey("measure", "measures", "code"))),
    "units": (("code",), ()),
    "measures": (("code",), ()),
    "findings": (("finding_id",), (ForeignKey("measure", "measures", "code"),
                                   ForeignKey("unit", "units", "code"),
                                   ForeignKey("reference_key", "references", "key", True))),
}


def _contract_field(table: str, name: str) -> Field | None:
    contracts = {"claims": (*CLAIM.fields, *WIDE_LINKS, *LINK.fields),
                 "findings": tuple(FINDING.fields)}
    return next((f for f in contracts.get(table, ()) if f.name == name), None)


def field(table: str, name: str, *, arrays: bool = False) -> dict[str, Any]:
    """The Table Schema field of one column of `table` (`arrays`: list cells are Parquet
    lists, not text joined by `;`; typed `any`, since frictionless reads a Parquet list as a
    numpy array, which its `array` type refuses)."""
    declared = _contract_field(table, name)
    if declared is not None:
        lists = arrays and declared.kind in (Kind.KEYS, Kind.NUMBERS, Kind.LINKS)
        column = Column("any" if lists else _TYPES[declared.kind],
                        declared.required,
                        declared.choices if declared.kind is Kind.TEXT else (),
                        f"{declared.description} (a Parquet list)" if lists
                        else declared.description)
    elif name in COLUMNS.get(table, {}):
        column = COLUMNS[table][name]
    elif name == "review" and table in ("findings", "references"):
        column = Column(description="the review this row belongs to")
    else:
        raise UsageError(f"{table}: column '{name}' is not one ivcdb knows")
    out: dict[str, Any] = {"name": name, "type": column.type}
    if column.description:
        out["description"] = column.description
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.enum:
        constraints["enum"] = list(column.enum)
    if name in _LIST_PATTERNS and column.type == "string":
        constraints["pattern"] = _LIST_PATTERNS[name]
    if column.type == "integer" and name != "year":
        constraints["minimum"] = 0
    if constraints:
        out["constraints"] = constraints
    return out


def schema(table: str, columns: Sequence[str], tables: Sequence[str], *,
           references: bool, arrays: bool = False) -> dict[str, Any]:
    """The Table Schema of `table` with `columns`: keys whose fields and target are there."""
    out: dict[str, Any] = {"fields": [field(table, c, arrays=arrays) for c in columns]}
    primary, foreign = KEYS.get(table, ((), ()))
    if primary and set(primary) <= set(columns):
        out["primaryKey"] = list(primary)
    keys = [{"fields": fk.fields, "reference": {"resource": fk.table, "fields": fk.to}}
            for fk in foreign if fk.fields in columns and fk.table in tables
            and (references or not fk.to_references)]
    if keys:
        out["foreignKeys"] = keys
    out["missingValues"] = [""]
    return out


def resource(table: str, path: str, columns: Sequence[str], tables: Sequence[str], *,
             references: bool, fmt: str = "csv", sheet: str | None = None) -> dict[str, Any]:
    """One resource: a table file (or a workbook's sheet) with its schema."""
    out: dict[str, Any] = {"name": table, "path": path, "profile": "tabular-data-resource",
                           "format": fmt}
    if fmt == "csv":
        out.update(encoding="utf-8", mediatype="text/csv")
    if sheet is not None:
        out["dialect"] = {"excel": {"sheet": sheet}}
    out["schema"] = schema(table, columns, tables, references=references,
                           arrays=fmt == "parquet")
    return out


def package(resources: list[dict[str, Any]], *, name: str,
            meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The package descriptor."""
    return {"profile": PROFILE, "name": name, **(meta or {}), "resources": resources}


def dumps(descriptor: Mapping[str, Any]) -> bytes:
    """`datapackage.json` bytes: indented, keys in the order built, a final newline."""
    return (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# The CSV files of a review folder (`build --data`) the package describes, by table.
FOLDER_TABLES = {"units": "units.csv", "measures": "measures.csv",
                 "outcomes": "outcomes.csv", "claims": "claims.csv",
                 "findings": "findings.csv"}


def folder_package(folder: str | Path, *, name: str) -> dict[str, Any]:
    """The package of a review folder's CSV files as their headers are (foreign keys between
    them only: the references are BibTeX there)."""
    root = Path(folder)
    present = {t: f for t, f in FOLDER_TABLES.items() if (root / f).is_file()}
    resources = []
    for table, file in present.items():
        with (root / file).open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        resources.append(resource(table, file, header, tuple(present), references=False))
    return package(resources, name=name, meta=_review_meta(root / "review.toml"))


def _review_meta(path: Path) -> dict[str, Any]:
    """The title and licence a folder's `review.toml` gives, if any."""
    if not path.is_file():
        return {}
    review = tomllib.loads(path.read_text(encoding="utf-8")).get("review", {})
    return meta(review.get("title"), review.get("license"))


def meta(title: str | None, license_: str | None) -> dict[str, Any]:
    """A package's `title` and `licenses` (an SPDX id), where given."""
    out: dict[str, Any] = {}
    if title:
        out["title"] = title
    if license_:
        out["licenses"] = [{"name": license_}]
    return out
