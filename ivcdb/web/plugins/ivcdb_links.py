"""Datasette plugin for `ivcdb serve`: links between claims and the references they cite.

A claim count (Outcomes, Reference list) links to those claims; a claim's cited references
(Claims) link to their entries in the reference list; its authors and years read as lists.
Loaded with `--plugins-dir`; it only renders cells, it never changes data.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup

CLAIMS = "claims_view"
REFERENCES = "reference_list"


def _get(row: Any, name: str) -> Any:
    try:
        return row[name]
    except (IndexError, KeyError):
        return None  # the column was hidden with ?_nocol=


def _filter_link(datasette: Any, database: str, query: dict[str, str], count: int) -> Markup:
    url = datasette.urls.table(database, CLAIMS) + "?" + urlencode(query)
    noun = "claim" if count == 1 else "claims"
    return Markup('<a href="{}">{} {}</a>').format(url, count, noun)


def _strings(value: Any) -> list[str] | None:
    """The JSON array of strings in a cell, else None."""
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        return None
    return items


def _reference_links(datasette: Any, database: str, value: Any) -> Markup | None:
    labels = _strings(value)
    if labels is None:
        return None
    if not labels:
        return Markup("&nbsp;")  # cites no reference: an empty cell, not `[]`
    base = datasette.urls.table(database, REFERENCES)
    links = [Markup('<a href="{}">{}</a>').format(f"{base}?{urlencode({'label': x})}", x)
             for x in labels]
    return Markup("; ").join(links)


@hookimpl  # type: ignore[untyped-decorator]
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    """Claim counts link to the claims; cited references link to the reference list."""
    if table == CLAIMS and column == "reference":
        return _reference_links(datasette, database, value)
    if table == CLAIMS and column in ("author", "year"):
        items = _strings(value)  # a list to read, not JSON (the JSON and CSV keep the array)
        return None if items is None else Markup("; ").join(items) or Markup("&nbsp;")
    if column != "claims" or not isinstance(value, int) or value == 0:
        return None
    if table == "reference_list" and _get(row, "label"):
        return _filter_link(datasette, database,
                            {"reference__arraycontains": _get(row, "label")}, value)
    if table == "outcome_summary" and _get(row, "outcome"):
        return _filter_link(datasette, database, {"outcome": _get(row, "outcome")}, value)
    return None

