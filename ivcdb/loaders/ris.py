"""RIS files (EndNote, Zotero, Mendeley, PubMed's "Citation manager" export) read with rispy.

rispy splits the records and joins continued lines; each record starts on the line of its
`TY` tag (counted here: rispy keeps no line numbers). `ID` is the citekey when given (ivcdb's
own RIS export writes it); the PMID is read from EndNote's digits-only `AN` (accession
number: EndNote stores a PubMed record's PMID there), from `AN  - PMID: n`, or from Zotero's
`M2  - PMID: n` (Zotero's RIS translator puts `M2` into Extra, where `PMID: n` is its PMID).
"""

from __future__ import annotations

import re
from typing import Any

from ivcdb.loaders.bibtex import AuthorName
from ivcdb.loaders.items import Item
from ivcdb.report import Code, Problem

# RIS type -> BibTeX type (the inverse of `ivcdb.exports.ris.RIS_TYPES`, so a file ivcdb
# wrote reads back to the types that write it again, plus the variants other programs write)
TYPES = {
    "JOUR": "article", "EJOUR": "article", "JFULL": "article", "ABST": "article",
    "MGZN": "article", "NEWS": "article", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "incollection", "ECHAP": "incollection", "CPAPER": "inproceedings",
    "CONF": "proceedings", "THES": "thesis", "RPRT": "report", "GOVDOC": "report",
    "ELEC": "online", "WEB": "online", "UNPB": "unpublished", "DATA": "dataset",
    "COMP": "software", "PAMP": "booklet",
}
_PMID = re.compile(r"^(?:PMID:?\s*)?(\d+)$", re.IGNORECASE)
_START = re.compile(r"^\ufeff?[ \t]*TY  -", re.MULTILINE)


def read(text: str, path: str) -> tuple[list[Item], list[Problem]]:
    """The items of a RIS file, and the problems that kept a record out."""
    import rispy

    text = text.removeprefix("\ufeff")
    try:
        records = rispy.loads(text)
    except Exception as error:  # noqa: BLE001 - rispy raises its ParseError and others
        return [], [Problem(Code.PARSE, f"not a readable RIS file ({error}); each record "
                            "starts with `TY  - ` and ends with `ER  - `", file=path)]
    lines = [text.count("\n", 0, m.start()) + 1 for m in _START.finditer(text)]
    if len(lines) != len(records):  # a TY rispy did not take as a start: number by order
        lines = list(range(1, len(records) + 1))
    return [_item(r, line) for r, line in zip(records, lines, strict=True)], []


def _first(record: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = record.get(name)
        if isinstance(value, list):
            value = "; ".join(v for v in value if v and v.strip()) or None
        if value and value.strip():
            return str(value).strip()
    return None


def _name(text: str) -> AuthorName:
    """`Family, Given[, Suffix]`; a name without a comma is kept whole (an organisation)."""
    family, _, rest = (p.strip() for p in text.partition(","))
    given, _, suffix = (p.strip() for p in rest.partition(","))
    return AuthorName(family, given, "", suffix)


def _pmid(record: dict[str, Any]) -> str | None:
    unknown = record.get("unknown_tag") or {}
    for value in [record.get("accession_number"), *unknown.get("M2", [])]:
        match = _PMID.match((value or "").strip())
        if match:
            return match.group(1)
    return None


def _item(record: dict[str, Any], line: int) -> Item:
    first, last = _first(record, "start_page"), _first(record, "end_page")
    pages = f"{first}--{last}" if first and last else first or last
    year = _first(record, "year", "publication_year", "date")
    return Item(
        line=line, entry_type=TYPES.get(str(record.get("type_of_reference", "")).upper(),
                                        "misc"),
        title=_first(record, "title", "primary_title"), key=_first(record, "id"),
        authors=[_name(a) for a in (record.get("authors") or record.get("first_authors")
                                    or []) if a.strip()],
        year_text=year.split("/")[0].strip() or None if year else None,
        journal=_first(record, "secondary_title", "journal_name", "alternate_title3",
                       "alternate_title2", "alternate_title1"),
        volume=_first(record, "volume"), issue=_first(record, "number"), pages=pages,
        doi=_first(record, "doi"), pmid=_pmid(record), note=_first(record, "notes"))
