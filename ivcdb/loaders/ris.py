"""RIS files (EndNote, Zotero, Mendeley, PubMed's "Citation manager" export) read with rispy.

rispy splits the records and joins continued lines; each record starts on the line of its
`TY` tag (counted here: rispy keeps no line numbers). `ID` is the citekey when given (ivcdb's
own RIS export writes it); the PMID is read from EndNote's digits-only `AN` (accession
number: EndNote stores a PubMed record's PMID there), from `AN  - PMID: n`, or from Zotero's
`M2  - PMID: n` (Zotero's RIS translator puts `M2` into Extra, where `PMID: n` is its PMID).
The PMCID from EndNote's `C2` (its "PMCID" field), or a `PMCID: PMC…` line.
"""

from __future__ import annotations

import re
from typing import Any

from ivcdb.bibfields import date_parts, iso_date, pmcid_line
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
_EDITED = frozenset({"BOOK", "EBOOK", "EDBOOK", "CHAP", "ECHAP", "CPAPER", "CONF"})
_PMC = re.compile(r"(?i)^PMC\d+$")
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


def _unknown(record: dict[str, Any], tag: str) -> list[str]:
    """The values of a tag rispy does not name (`ED`, `M2`), stripped, blanks dropped."""
    values = (record.get("unknown_tag") or {}).get(tag, [])
    return [v.strip() for v in values if v and v.strip()]


def _editors(record: dict[str, Any], ris_type: str) -> list[AuthorName]:
    """`ED` (what ivcdb and Zotero write), else a book's or chapter's `A2` (EndNote)."""
    names = _unknown(record, "ED")
    if not names and ris_type in _EDITED:
        names = [a for a in record.get("secondary_authors") or [] if a.strip()]
    return [_name(n) for n in names]


def _date(text: str | None) -> str | None:
    """`2015/03/12/` -> `2015-03-12`; a year alone or no date: None."""
    return iso_date(date_parts(text))


def _pmcid(record: dict[str, Any]) -> str | None:
    """EndNote's `C2` (its PMCID field) holding `PMC…`, or a `PMCID: PMC…` line of `M2`
    (Zotero's Extra) or a note. (MEDLINE's `PMC` tag has three letters: RIS tags have two.)"""
    custom = (record.get("custom2") or "").strip()
    if _PMC.match(custom):
        return custom
    lines = _unknown(record, "M2") + list(record.get("notes") or [])
    return next((found for line in lines if (found := pmcid_line(line)) is not None), None)


def _item(record: dict[str, Any], line: int) -> Item:
    first, last = _first(record, "start_page"), _first(record, "end_page")
    pages = f"{first}--{last}" if first and last else first or last
    year = _first(record, "year", "publication_year", "date")
    ris_type = str(record.get("type_of_reference", "")).upper()
    entry_type = TYPES.get(ris_type, "misc")
    issued = _date(_first(record, "date"))
    accessed = _first(record, "access_date")
    urls = [u.strip() for u in record.get("urls") or [] if u and u.strip()]
    serial = _first(record, "issn")
    return Item(
        line=line, entry_type=entry_type,
        title=_first(record, "title", "primary_title"), key=_first(record, "id"),
        authors=[_name(a) for a in (record.get("authors") or record.get("first_authors")
                                    or []) if a.strip()],
        editors=_editors(record, ris_type),
        year_text=year.split("/")[0].strip() or None if year else None,
        journal=_first(record, "secondary_title", "journal_name", "alternate_title3",
                       "alternate_title2", "alternate_title1"),
        volume=_first(record, "volume"), issue=_first(record, "number"), pages=pages,
        doi=_first(record, "doi"), pmid=_pmid(record), note=_first(record, "notes"),
        series=_first(record, "tertiary_title"), publisher=_first(record, "publisher"),
        place=_first(record, "place_published"), edition=_first(record, "edition"),
        isbn=serial if entry_type != "article" else None,
        issn=serial if entry_type == "article" else None,
        url=urls[0] if urls else None, urldate=_date(accessed) or accessed,
        date=issued if issued and year and issued[:4] == year[:4] else None,
        genre=_first(record, "type_of_work"), pmcid=_pmcid(record))
