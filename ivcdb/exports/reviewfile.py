"""A review as its `review.toml` (docs/format.md): its record and its numbered reference list,
so a folder exported with `export --all` builds the same review again.

Strings are written as JSON strings, which are TOML basic strings; the further fields a
review file gave (kept as JSON in `Review.extra`) are written back after the known ones,
tables among them as inline tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ivcdb.errors import UsageError

FIELDS = ("title", "authors", "year", "published", "publisher", "license", "note")
AUTHOR_SEPARATOR = "; "  # how the loader joins the `authors` list


def _value(value: Any) -> str:
    """One TOML value: text, whole or decimal number, true/false, an array of values, or a
    table (a `[review.x]` or `[[review.x]]` of the file read: written as an inline table,
    which TOML reads as the same table)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise UsageError(f"review field value {value!r} cannot be written as TOML")


def _key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "")
    return name if bare.isascii() and bare.isalnum() else json.dumps(name, ensure_ascii=False)


def render(row: Mapping[str, Any], citations: Sequence[tuple[int, str]]) -> str:
    """The text of `review.toml` for a stored review row and its (number, citekey) list."""
    lines = ["[review]", f"id = {_value(row['code'])}"]
    for name in FIELDS:
        value = row.get(name)
        if name == "authors":
            value = value.split(AUTHOR_SEPARATOR) if value else None
        if value is not None and value != "":
            lines.append(f"{name} = {_value(value)}")
    extra = json.loads(row.get("extra") or "{}")
    lines += [f"{_key(name)} = {_value(value)}" for name, value in extra.items()]
    for number, key in citations:
        lines += ["", "[[citations]]", f"number = {number}", f"key = {_value(key)}"]
    return "\n".join(lines) + "\n"
