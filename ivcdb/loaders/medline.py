"""PubMed's MEDLINE format (`.nbib`, "Save: PubMed format"), read by a small reader here.

The format is plain: a record is a run of lines `TAG - value` (the tag padded to four
characters), a value continued on lines indented by six spaces, records apart by a blank
line. The `nbib` package on PyPI reads it too, but is old, keeps no line numbers (a problem
must name its line) and adds a dependency for a format this short. Read: `PMID`, `TI`
(`BTI` for a book), `PMC`, `FAU` (else `AU`, else `CN`), `DP`, `JT` (else `TA`), `VI`, `IP`, `PG`,
the DOI from `LID`/`AID` (`... [doi]`), `PT` (a book or an article); for a book (PubMed
Bookshelf) also its editors (`FED`, else `ED`), `PB`, `PL`, `EN`, `ISBN` and `CTI` (series),
and a chapter's book (`BTI` beside `TI`).
"""

from __future__ import annotations

import re

from ivcdb.bibfields import iso_date, month_number
from ivcdb.loaders.bibtex import AuthorName
from ivcdb.loaders.items import Item
from ivcdb.report import Code, Problem

_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3}) *- ?(.*)$")
_YEAR = re.compile(r"\d{4}")
_DATE = re.compile(r"^\s*(\d{4})\s+([A-Za-z]{3,9})\b(?:\s+(\d{1,2})\b)?")


def read(text: str, path: str) -> tuple[list[Item], list[Problem]]:
    """The items of a MEDLINE file, and lines that are neither a tag nor a continuation."""
    records: list[tuple[int, list[tuple[str, str]]]] = []
    problems: list[Problem] = []
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        if not line.strip():
            current = None
            continue
        match = _TAG.match(line)
        if line.startswith("      ") and current:
            tag, value = current[-1]
            current[-1] = (tag, f"{value} {line.strip()}")
        elif match:
            if current is None:
                current = []
                records.append((number, current))
            current.append((match.group(1), match.group(2).strip()))
        else:
            problems.append(Problem(Code.PARSE, "a MEDLINE line is `TAG - value` or a "
                                    "value continued after six spaces", file=path,
                                    line=number))
    return [_item(tags, line) for line, tags in records], problems


def _all(tags: list[tuple[str, str]], name: str) -> list[str]:
    return [v for t, v in tags if t == name and v]


def _first(tags: list[tuple[str, str]], *names: str) -> str | None:
    return next((v for name in names for v in _all(tags, name)), None)


def _name(text: str, *, full: bool) -> AuthorName:
    """`Family, Given` (FAU) or `Family GI` (AU: initials last)."""
    if full:
        family, _, given = (p.strip() for p in text.partition(","))
        return AuthorName(family, given)
    family, _, initials = text.rpartition(" ")
    return AuthorName(family, initials) if family else AuthorName(initials)


def _authors(tags: list[tuple[str, str]]) -> list[AuthorName]:
    if _all(tags, "FAU"):
        return [_name(v, full=True) for v in _all(tags, "FAU")]
    if _all(tags, "AU"):
        return [_name(v, full=False) for v in _all(tags, "AU")]
    return [AuthorName(v) for v in _all(tags, "CN")]


def _doi(tags: list[tuple[str, str]]) -> str | None:
    for value in _all(tags, "LID") + _all(tags, "AID"):
        if value.endswith("[doi]"):
            return value.removesuffix("[doi]").strip()
    return None


def _date(published: str | None) -> str | None:
    """`2018 Dec 12`, `2018 Dec`, `2018 Nov-Dec` -> `2018-12-12`, `2018-12`, `2018-11`."""
    match = _DATE.match(published or "")
    if not match:
        return None
    month = month_number(match.group(2))
    if month is None:
        return None
    day = int(match.group(3)) if match.group(3) else None
    return iso_date((int(match.group(1)), month) + ((day,) if day and day <= 31 else ()))


def _item(tags: list[tuple[str, str]], line: int) -> Item:
    book = any("book" in v.lower() for v in _all(tags, "PT")) or _first(tags, "BTI")
    year = _YEAR.search(_first(tags, "DP") or "")
    chapter = bool(book and _first(tags, "TI") and _first(tags, "BTI"))
    return Item(
        line=line, entry_type="incollection" if chapter else "book" if book else "article",
        title=_first(tags, "TI", "BTI"), authors=_authors(tags),
        editors=[_name(v, full=True) for v in _all(tags, "FED")]
        or [_name(v, full=False) for v in _all(tags, "ED")],
        year_text=year.group() if year else _first(tags, "DP"),
        journal=_first(tags, "BTI") if chapter else None if book else _first(tags, "JT", "TA"),
        volume=_first(tags, "VI"), issue=_first(tags, "IP"), pages=_first(tags, "PG"),
        doi=_doi(tags), pmid=_first(tags, "PMID"), date=_date(_first(tags, "DP")),
        publisher=_first(tags, "PB") if book else None,
        place=_first(tags, "PL") if book else None, edition=_first(tags, "EN"),
        isbn=_first(tags, "ISBN"), series=_first(tags, "CTI"), pmcid=_first(tags, "PMC"))
