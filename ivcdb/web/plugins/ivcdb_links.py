"""Datasette plugin for `ivcdb serve`: links between claims and the references they cite.

A claim count (Outcomes, Reference list) links to those claims; a claim's cited references
(Claims) link to their entries in its review's reference list; its authors and years read as
lists. In Reviews, a review's id links to its outcomes and its counts to its claims and its
reference list (the views filtered by `?review=ID`). Every link stays within the row's
review. Loaded with `--plugins-dir`; it only renders cells, it never changes data.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup

CLAIMS = "claims_view"
REFERENCES = "reference_list"
OUTCOMES = "outcome_summary"
REVIEWS = "reviews"


def _get(row: Any, name: str) -> Any:
    try:
        return row[name]
    except (IndexError, KeyError):
        return None  # the column was hidden with ?_nocol=


def _filter_link(datasette: Any, database: str, query: dict[str, str], count: int,
                 table: str = CLAIMS, noun: str = "claim") -> Markup:
    url = datasette.urls.table(database, table) + "?" + urlencode(query)
    return Markup('<a href="{}">{} {}</a>').format(url, count,
                                                   noun if count == 1 else noun + "s")


def _in_review(row: Any, query: dict[str, str]) -> dict[str, str]:
    """The filter, narrowed to the row's review when it has one."""
    review = _get(row, "review")
    return {**query, "review": review} if isinstance(review, str) and review else query


def _strings(value: Any) -> list[str] | None:
    """The JSON array of strings in a cell, else None."""
    try:
        items = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        return None
    return items


def _reference_links(datasette: Any, database: str, row: Any, value: Any) -> Markup | None:
    labels = _strings(value)
    if labels is None:
        return None
    if not labels:
        return Markup("&nbsp;")  # cites no reference: an empty cell, not `[]`
    base = datasette.urls.table(database, REFERENCES)
    links = [Markup('<a href="{}">{}</a>').format(
        f"{base}?{urlencode(_in_review(row, {'label': x}))}", x) for x in labels]
    return Markup("; ").join(links)


def _review_link(datasette: Any, database: str, column: str, value: Any) -> Markup | None:
    """In Reviews: the id opens the review's outcomes, the counts its claims and references."""
    if column == "id" and isinstance(value, str):
        url = datasette.urls.table(database, OUTCOMES) + "?" + urlencode({"review": value})
        return Markup('<a href="{}">{}</a>').format(url, value)
    return None


@hookimpl  # type: ignore[untyped-decorator]
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    """Claim counts link to the claims; cited references link to the reference list."""
    if table == CLAIMS and column == "reference":
        return _reference_links(datasette, database, row, value)
    if table == REVIEWS:
        review = _get(row, "id")
        if column == "references" and isinstance(value, int) and value and review:
            return _filter_link(datasette, database, {"review": review}, value, REFERENCES,
                                "reference")
        if column == "claims" and isinstance(value, int) and value and review:
            return _filter_link(datasette, database, {"review": review}, value)
        return _review_link(datasette, database, column, value)
    if table == CLAIMS and column in ("author", "year"):
        items = _strings(value)  # a list to read, not JSON (the JSON and CSV keep the array)
        return None if items is None else Markup("; ").join(items) or Markup("&nbsp;")
    if column != "claims" or not isinstance(value, int) or value == 0:
        return None
    if table == REFERENCES and _get(row, "label"):
        return _filter_link(datasette, database,
                            _in_review(row, {"reference__arraycontains": _get(row, "label")}),
                            value)
    if table == OUTCOMES and _get(row, "outcome"):
        return _filter_link(datasette, database,
                            _in_review(row, {"outcome": _get(row, "outcome")}), value)
    return None

