"""Rendering results for a terminal (rich tables) or a pipe (CSV), or as JSON."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from ivcdb.csvformat import format_number, neutralise

FORMATS = ("table", "csv", "json")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return format_number(value)
    return str(value)


def choose_format(requested: str | None) -> str:
    """`table` on a terminal, `csv` when piped, unless the user asked for one."""
    if requested:
        return requested
    return "table" if sys.stdout.isatty() else "csv"


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str | None = None,
         *, title: str | None = None) -> None:
    """Print rows as a rich table, CSV or JSON on stdout."""
    fmt = choose_format(fmt)
    if fmt == "json":
        json.dump([{c: r.get(c) for c in columns} for r in rows], sys.stdout,
                  ensure_ascii=False, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:  # text a spreadsheet would run as a formula gets a leading '
            writer.writerow([neutralise(cell(r.get(c))) for c in columns])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for c in columns:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*(cell(r.get(c)) for c in columns))
        Console().print(table)


def value_span(low: float | None, high: float | None, unit: str | None) -> str:
    """`40–70 percent`, `390 min`; empty when there is no number."""
    if low is None or high is None:
        return ""
    text = format_number(low) if low == high else f"{format_number(low)}\u2013{format_number(high)}"
    return f"{text} {unit}" if unit else text


def print_summary(database: Any, fmt: str | None = None) -> None:
    """The evidence summary: one row per outcome and unit, the cited evidence first.

    On a terminal the value span is one column (`40–70 percent`); CSV and JSON keep `unit`,
    `lowest` and `highest` apart for analysis.
    """
    from ivcdb import queries

    with database.session() as session:
        summary = sorted(queries.outcome_summary(session),
                         key=lambda r: (-r.references, r.lowest is None))
    fmt = choose_format(fmt)
    if fmt == "table":
        rows = [{"outcome": r.outcome, "label": r.label, "claims": r.claims,
                 "refs": r.references, "values": value_span(r.lowest, r.highest, r.unit)}
                for r in summary]
        claims = sum(r.claims for r in summary)
        emit(rows, ["outcome", "label", "claims", "refs", "values"], fmt,
             title=f"Evidence by outcome ({claims} claims; refs = supporting references)")
        return
    emit([r.as_dict() for r in summary],
         ["outcome", "label", "claims", "references", "unit", "lowest", "highest"], fmt)
