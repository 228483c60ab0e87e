"""BibTeX written from the stored raw field text, so `{DNA}` protection, LaTeX accents and
`and others` survive an export and the file loads back into identical references."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlmodel import Session

from ivcdb import queries
from ivcdb.loaders.bibtex.values import MONTHS
from ivcdb.queries import ExportReference

FIELD_ORDER = ("author", "editor", "title", "journal", "booktitle", "year", "volume", "number",
               "pages", "doi", "pmid", "pmcid")


def _ordered(fields: dict[str, str]) -> list[tuple[str, str]]:
    first = [(name, fields[name]) for name in FIELD_ORDER if name in fields]
    rest = sorted((name, value) for name, value in fields.items() if name not in FIELD_ORDER)
    return first + rest


def _value(name: str, value: str) -> str:
    """`{text}`; a month written as a bare macro (`may`) stays bare, as it was loaded."""
    if name == "month" and value.lower() in MONTHS:
        return value
    return f"{{{value}}}"


def entry(ref: ExportReference) -> str:
    """One `@type{key, field = {raw text}, ...}` entry."""
    fields = json.loads(ref.raw_fields or "{}")
    width = max((len(name) for name in fields), default=0)
    body = [f"  {name.ljust(width)} = {_value(name, value)}" for name, value in _ordered(fields)]
    return f"@{ref.entry_type}{{{ref.key},\n" + ",\n".join(body) + "\n}\n"


def render(refs: Sequence[ExportReference] | None = None, *,
           session: Session | None = None) -> str:
    """The entries of `refs`, or of every reference in the database of `session`."""
    if refs is None:
        if session is None:
            raise TypeError("give refs or session")
        refs = queries.export_references(session, review_id=None)
    return "\n".join(entry(r) for r in refs)
