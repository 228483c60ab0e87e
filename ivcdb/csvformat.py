"""The CSV cell format shared by loaders and exports: numbers, lists, the formula guard and
the one CSV writer (every cell holding a line break quoted).

The columns are the field contract's (`ivcdb.contract`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

LIST_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARDED_STARTS = (*FORMULA_STARTS, "'")  # cells `neutralise` may change start with one of these


# Every integer column is a PostgreSQL INTEGER; SQLite would keep 64 bits, so the narrower
# range is checked before writing (a database must copy to either engine).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class OutOfRange(ValueError):
    """A whole number outside the range its column keeps."""


def whole_number(text: str, *, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """The integer `text` writes (`40`, `40.0`, `4e1`), exactly: never through float.

    Raises ValueError when `text` is no whole number, OutOfRange outside `low`..`high`.
    """
    if len(text) < 10 and text.isdigit() and text.isascii():  # the usual cell: fits int32
        value = int(text)
        if not low <= value <= high:
            raise OutOfRange(f"outside {low}..{high}")
        return value
    from decimal import Decimal, InvalidOperation  # here: the command line starts faster

    try:
        exact = Decimal(text) if text.isascii() else None
    except InvalidOperation:
        exact = None
    if exact is None or not exact.is_finite() or exact != exact.to_integral_value():
        raise ValueError("not a whole number")
    if not low <= exact <= high:
        raise OutOfRange(f"outside {low}..{high}")
    return int(exact)


def format_number(value: float | int | None) -> str:
    """`40.0` -> `40`, `77.8` -> `77.8`, None -> ``; the same text on every engine."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


# A plain decimal number: a spreadsheet reads it as a number, never as a formula. Python's
# `float` also takes `-inf`, `-nan` and `-1_0`, which a spreadsheet would run.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def is_number(text: str) -> bool:
    """True for a plain decimal number (`-5`, `+1.5e3`)."""
    return _NUMBER.fullmatch(text) is not None


def _formula_like(text: str) -> bool:
    """True when `text`, stripped of leading `'`, starts like a formula and is no number."""
    core = text.lstrip("'")
    return core.startswith(FORMULA_STARTS) and not is_number(core)


def neutralise(text: str) -> str:
    """Prefix `'` to a text cell a spreadsheet would run as a formula (numbers untouched).

    A text that itself starts with `'` before a formula character gets one more `'`, so
    `unneutralise` undoes exactly this and nothing else.
    """
    if text and text.startswith(GUARDED_STARTS) and _formula_like(text):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Undo `neutralise`: `unneutralise(neutralise(t)) == t` for every text."""
    if text.startswith("'") and _formula_like(text):
        return text[1:]
    return text


def csv_text(rows: Callable[[], Iterable[Sequence[str]]]) -> str:
    """CSV text with `\n` line ends from the rows `rows()` yields (cells already guarded).

    A cell holding CR or LF is always quoted, so no line break inside a cell can start a row.
    The csv module quotes a CR only when it is part of the line terminator: the rare text with
    a CR is written again (`rows` is called twice) with `\r\n` rows, then cut back to `\n`.
    """
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows())
    text = buffer.getvalue()
    if "\r" not in text:
        return text
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    lines = []
    for row in rows():
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        lines.append(buffer.getvalue()[:-2])
    return "\n".join(lines) + "\n" if lines else ""


def json_value(value: Any) -> Any:
    """A value as JSON shows it: integral floats as integers (`40`, not `40.0`), no NaN."""
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        negative_zero = value == 0 and math.copysign(1.0, value) < 0
        integral = value == int(value) and abs(value) < 1e15 and not negative_zero
        return int(value) if integral else value
    return value
