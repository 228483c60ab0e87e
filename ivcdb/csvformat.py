"""The CSV cell format shared by loaders and exports: numbers, lists, the formula guard.

The columns are the field contract's (`ivcdb.contract`).
"""

from __future__ import annotations

import math
from typing import Any

LIST_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise(text: str) -> str:
    """Prefix `'` to a text cell a spreadsheet would run as a formula (numbers untouched)."""
    if text and text.startswith(FORMULA_STARTS) and not is_number(text):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Undo `neutralise`, so an exported file loads back unchanged."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


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
