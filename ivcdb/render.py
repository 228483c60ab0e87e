"""Rendering results for a terminal (rich tables) or a pipe (CSV), or as JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from ivcdb.csvformat import LIST_SEPARATOR, csv_text, format_number, json_value, neutralise
from ivcdb.text import visible

FORMATS = ("table", "csv", "json")
# Terminal tables wrap only these text columns (at word boundaries); every other column holds
# an identifier, code, status or number and is never broken (at worst shortened with "…").
PROSE_COLUMNS = frozenset({"statement", "explanation", "label", "title", "value", "note",
                           "findings"})
TEXT_COLUMNS = PROSE_COLUMNS | {"claimed", "figure", "values", "timepoint", "population",
                                "references"}
# Identifiers: shortened only when nothing else is left to shorten.
KEY_COLUMNS = frozenset({"claim_id", "outcome", "code", "citekey", "status", "field"})


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):  # a contract list: `a;b`, as the CSV files write it
        return LIST_SEPARATOR.join(cell(v) for v in value)
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
        json.dump([{c: json_value(r.get(c)) for c in columns} for r in rows], sys.stdout,
                  ensure_ascii=False, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    elif fmt == "csv":
        # text a spreadsheet would run as a formula gets a leading '
        sys.stdout.write(csv_text(lambda: [list(columns), *(
            [neutralise(cell(r.get(c))) for c in columns] for r in rows)]))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        # a terminal shows controls, bidi overrides and zero-width characters escaped
        texts = [[visible(cell(r.get(c))) for c in columns] for r in rows]
        caps = column_caps(columns, texts, console.width)
        table = Table(title=title, show_lines=False)
        for c, cap in zip(columns, caps, strict=True):
            if c in TEXT_COLUMNS:
                table.add_column(c, overflow="fold", max_width=cap)
            else:
                table.add_column(c, no_wrap=True, overflow="ellipsis", max_width=cap)
        for row in texts:
            table.add_row(*row)
        console.print(table)


PROSE_MIN_WIDTH = 20  # a prose column keeps at least this many characters per line
SHORT_MIN_WIDTH = 10  # a short wrapped column (figure, timepoint) at least this many
MIN_CAP = 8


def column_caps(columns: Sequence[str], rows: Sequence[Sequence[str]],
                width: int) -> list[int | None]:
    """Widest each column may be so that the prose columns keep room on `width`.

    None means no cap. When the table does not fit, short wrapped columns (figure, timepoint)
    are held to their longest word, then secondary columns are shortened with an
    ellipsis, then identifiers; the widest first in each group.
    """
    from rich.cells import cell_len

    natural = [max([cell_len(c), *(cell_len(r[i]) for r in rows)])
               for i, c in enumerate(columns)]
    room = width - 3 * len(columns) - 1  # borders and one space of padding a side
    prose = sum(min(natural[i], PROSE_MIN_WIDTH) for i, c in enumerate(columns)
                if c in PROSE_COLUMNS)
    if prose + sum(n for c, n in zip(columns, natural, strict=True)
                   if c not in PROSE_COLUMNS) <= room:
        return [None] * len(columns)
    caps: list[int | None] = [None] * len(columns)
    for i, c in enumerate(columns):
        if c in TEXT_COLUMNS and c not in PROSE_COLUMNS:
            words = [cell_len(w) for r in rows for w in r[i].split()]
            caps[i] = min(natural[i], max([SHORT_MIN_WIDTH, cell_len(c), *words]))
    budget = room - prose - sum(caps[i] or 0 for i, c in enumerate(columns)
                                if c in TEXT_COLUMNS)
    for group in (_fixed(columns, key=False), _fixed(columns, key=True)):
        used = sum(natural[i] if caps[i] is None else caps[i] or 0
                   for i in _fixed(columns, key=None))
        if used <= budget:
            break
        cap = max((natural[i] for i in group), default=0)
        while cap > MIN_CAP and used - sum(natural[i] - min(natural[i], cap)
                                           for i in group) > budget:
            cap -= 1
        for i in group:
            caps[i] = cap if natural[i] > cap else None
    return caps


def _fixed(columns: Sequence[str], *, key: bool | None) -> list[int]:
    """Indexes of unwrapped columns: identifiers (key), the others, or all (None)."""
    return [i for i, c in enumerate(columns) if c not in TEXT_COLUMNS
            and (key is None or (c in KEY_COLUMNS) == key)]


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
