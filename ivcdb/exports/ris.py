"""RIS (the tagged format of EndNote, Zotero, Mendeley): one record per reference.

The PMID is written twice, as each program reads one: `AN  - n` is EndNote's accession
number, where EndNote keeps a PubMed record's PMID; Zotero's RIS translator reads `AN` as
"Loc. in Archive" but puts `M2` into Extra, where a `PMID: n` line is the item's PMID
(zotero/translators RIS.js). The PMCID goes in `C2`, EndNote's "PMCID" field of a journal
article. `ivcdb load` reads each back (`ivcdb.loaders.ris`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ivcdb.exports.details import Details, details
from ivcdb.exports.reflist import page_range
from ivcdb.queries import ExportAuthor, ExportReference

NEWLINE = "\r\n"  # the RIS specification's line end
RIS_TYPES = {
    "article": "JOUR", "book": "BOOK", "inbook": "CHAP", "incollection": "CHAP",
    "inproceedings": "CPAPER", "conference": "CPAPER", "proceedings": "CONF",
    "phdthesis": "THES", "mastersthesis": "THES", "thesis": "THES", "techreport": "RPRT",
    "report": "RPRT", "manual": "RPRT", "online": "ELEC", "unpublished": "UNPB",
    "dataset": "DATA", "software": "COMP", "booklet": "PAMP",
}


def _name(author: ExportAuthor) -> str:
    """`Family, Given[, Suffix]` with any prefix kept before the family name."""
    family = " ".join(p for p in (author.prefix, author.family) if p)
    return ", ".join(p for p in (family, author.given, author.suffix) if p)


def ris_type(ref: ExportReference, more: Details) -> str:
    """The RIS type of `ref`: by its entry type; a `misc` entry with a URL is a web page."""
    if ref.entry_type == "misc" and more.url and not ref.journal:
        return "ELEC"
    return RIS_TYPES.get(ref.entry_type, "GEN")


def ris_date(parts: tuple[int, ...]) -> str | None:
    """`2015/03/12` (RIS `DA`, `Y2`); `2015/03/` without a day; None for a year alone."""
    if len(parts) < 2:
        return None
    return "/".join(f"{p:02d}" for p in parts) + ("/" if len(parts) == 2 else "")


def _tags(ref: ExportReference) -> Iterator[tuple[str, str | None]]:
    more = details(ref)
    yield "TY", ris_type(ref, more)
    yield "ID", ref.key
    for author in more.authors:
        yield "AU", _name(author)
    for editor in more.editors:
        yield "ED", _name(editor)
    yield "TI", ref.title
    yield "T2", ref.journal
    yield "T3", more.series
    yield "PY", str(ref.year) if ref.year is not None else ref.year_text
    yield "DA", ris_date(more.issued)
    yield "VL", ref.volume
    yield "IS", ref.issue
    if ref.pages:
        first, _, last = page_range(ref.pages).partition("\u2013")
        yield "SP", first
        yield "EP", last or None
    yield "ET", more.edition
    yield "M3", more.genre
    yield "PB", more.publisher
    yield "CY", more.place
    yield "SN", more.isbn or more.issn
    yield "DO", ref.doi
    yield "AN", ref.pmid
    yield "M2", f"PMID: {ref.pmid}" if ref.pmid else None
    yield "C2", more.pmcid
    yield "UR", more.url
    yield "Y2", (ris_date(more.accessed) or "/".join(map(str, more.accessed))
                 or more.accessed_text)
    yield "N1", ref.note


def record(ref: ExportReference) -> str:
    lines = [f"{tag}  - {' '.join(value.split())}" for tag, value in _tags(ref) if value]
    return NEWLINE.join([*lines, "ER  - ", ""])


def render(refs: Sequence[ExportReference]) -> str:
    return NEWLINE.join(record(r) for r in refs)
