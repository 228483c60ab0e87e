"""What a reference says beyond an article's fields: editors, publisher, place, edition,
ISBN/ISSN, series, URL, access and full issue dates, a thesis's or report's type.

Every loader keeps these as raw BibTeX fields (`Reference.raw_fields`; RIS, CSL-JSON and
MEDLINE records are written there as BibTeX fields too, see `ivcdb.loaders.items`), so the
reference list, RIS and CSL-JSON read them through this one module. The names of the fields
a value is read from, by entry type, are the ones the importers write it back to
(`publisher_field`), so an export loaded into an empty database exports the same again.

An entry with editors and no author keeps its editors as its `author` rows (the people it
is searched and linked by); they are told apart here: such a reference has no authors and
those editors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ivcdb.bibfields import GENRES, date_parts, month_number, pmcid_of, publisher_fields
from ivcdb.loaders.bibtex.latex import LatexDecodeError, decode_latex
from ivcdb.loaders.bibtex.names import split_authors
from ivcdb.queries import ExportAuthor, ExportReference

__all__ = ["Details", "details"]

@dataclass(frozen=True, slots=True)
class Details:
    """A reference's people, dates and publication details, decoded to plain text."""

    authors: tuple[ExportAuthor, ...]
    et_al: bool
    editors: tuple[ExportAuthor, ...]
    editors_et_al: bool
    issued: tuple[int, ...]  # (year[, month[, day]]); () without a four-digit year
    accessed: tuple[int, ...]  # from `urldate`
    accessed_text: str | None  # `urldate` as written when it is not a date
    publisher: str | None
    place: str | None
    edition: str | None
    isbn: str | None
    issn: str | None
    series: str | None
    url: str | None
    genre: str | None  # a thesis's or report's type (`PhD thesis`, `Technical report`)
    version: str | None
    pmcid: str | None  # PubMed Central id, `PMC…`


def details(ref: ExportReference) -> Details:
    """The details of `ref`, read from its raw BibTeX fields."""
    raw: dict[str, str] = json.loads(ref.raw_fields or "{}")
    entry_type, authors, et_al = ref.entry_type, ref.authors, ref.et_al

    def text(*names: str) -> str | None:
        for name in names:
            value = raw.get(name)
            if value is not None and value.strip():
                return _decoded(value)
        return None

    def verbatim(name: str) -> str | None:
        value = " ".join(raw.get(name, "").split())
        return value or None

    editors: tuple[ExportAuthor, ...] = ()
    editors_et_al = False
    if not (raw.get("author") or "").strip() and (raw.get("editor") or "").strip():
        editors, editors_et_al, authors, et_al = authors, et_al, (), False
    elif (raw.get("editor") or "").strip():
        names, editors_et_al = split_authors(raw["editor"])
        editors = tuple(ExportAuthor(n.family, n.given, n.prefix, n.suffix) for n in names)
    urldate = text("urldate")
    accessed = date_parts(urldate)
    return Details(
        authors=authors, et_al=et_al, editors=editors, editors_et_al=editors_et_al,
        issued=_issued(raw, ref.year), accessed=accessed,
        accessed_text=None if accessed else urldate,
        publisher=text(*publisher_fields(entry_type)), place=text("address", "location"),
        edition=text("edition"), isbn=text("isbn"), issn=text("issn"), series=text("series"),
        url=verbatim("url"), genre=text("type") or GENRES.get(entry_type),
        version=text("version"), pmcid=pmcid_of(raw))


def _decoded(value: str) -> str:
    try:
        return decode_latex(value)
    except (LatexDecodeError, RecursionError):
        return " ".join(value.split())


def _issued(raw: dict[str, str], year: int | None) -> tuple[int, ...]:
    """(year, month, day) from `date` when it holds the entry's year, else from `year`,
    `month` and `day`."""
    if year is None:
        return ()
    parts = date_parts(raw.get("date"))
    if parts and parts[0] == year:
        return parts
    month = month_number(raw.get("month", ""))
    if month is None:
        return (year,)
    day = raw.get("day", "").strip()
    return (year, month, int(day)) if day.isdigit() and 1 <= int(day) <= 31 else (year, month)

