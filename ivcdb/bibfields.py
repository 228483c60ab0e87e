"""Which BibTeX field keeps which bibliographic value, by entry type, and how its dates read.

The importers (`ivcdb.loaders.items`) store what a RIS, CSL-JSON or MEDLINE record gives in
the fields named here, and the exports (`ivcdb.exports.details`) read them from the same
fields, so an exported file loads back into the same references.
"""

from __future__ import annotations

import re

THESES = frozenset({"phdthesis", "mastersthesis", "thesis"})
REPORTS = frozenset({"techreport", "report"})
CHAPTERS = frozenset({"incollection", "inbook", "inproceedings", "conference", "inreference"})
# the thesis or report type printed when the entry names none
GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis",
          "techreport": "Technical report"}
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                       "nov", "dec")
MONTH_NAMES = {name: i for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), 1)}
_PMCID_LINE = re.compile(r"(?i)\bPMCID:[ \t]*((?:PMC)?\d+)\b")
_PMCID = re.compile(r"(?i)^\s*(?:PMC)?(\d+)\s*$")
PMC_EPRINT = ("pmc", "pmcid")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?!\d)")


def publisher_fields(entry_type: str) -> tuple[str, ...]:
    """The fields naming who published an entry, first the one its type uses."""
    if entry_type in THESES:
        return ("school", "institution", "publisher")
    if entry_type in REPORTS:
        return ("institution", "publisher", "organization")
    return ("publisher", "organization", "institution", "school")


def publisher_field(entry_type: str) -> str:
    """The field a publisher read from RIS `PB` or CSL `publisher` is stored in."""
    return publisher_fields(entry_type)[0]


def container_field(entry_type: str) -> str:
    """The field a container title (RIS `T2`, CSL `container-title`) is stored in."""
    return "booktitle" if entry_type in CHAPTERS else "journal"


def date_parts(text: str | None) -> tuple[int, ...]:
    """`2015-03-12`, `2015/03/12/`, `2015-03` -> (year, month[, day]); () when not a date."""
    match = _DATE.match(text or "")
    if not match:
        return ()
    parts = [int(p) for p in match.groups() if p is not None]
    if len(parts) > 1 and not 1 <= parts[1] <= 12:
        parts = parts[:1]
    if len(parts) > 2 and not 1 <= parts[2] <= 31:
        parts = parts[:2]
    return tuple(parts)


def month_number(value: str) -> int | None:
    """`may`, `May`, `{May}`, `5`, `september` -> the month's number; None otherwise."""
    word = value.strip().strip("{}").strip().rstrip(".").lower()
    if word.isdigit():
        return int(word) if 1 <= int(word) <= 12 else None
    if word[:3] in MONTH_ABBREVIATIONS and (len(word) == 3 or word in MONTH_NAMES):
        return MONTH_ABBREVIATIONS.index(word[:3]) + 1
    return None


def iso_date(parts: tuple[int, ...]) -> str | None:
    """(2015, 3, 12) -> `2015-03-12`, (2015, 3) -> `2015-03`; None for a year alone."""
    if len(parts) < 2:
        return None
    return "-".join([str(parts[0]), *(f"{p:02d}" for p in parts[1:])])


def normalise_pmcid(value: str) -> str:
    """`PMC6286948`, `pmc6286948`, `6286948` -> `PMC6286948`; anything else as given."""
    match = _PMCID.match(value)
    return f"PMC{match.group(1)}" if match else value.strip()


def pmcid_line(text: str) -> str | None:
    """The PMCID of a `PMCID: PMC…` line (as Zotero's Extra and PubMed notes write it)."""
    match = _PMCID_LINE.search(text)
    return normalise_pmcid(match.group(1)) if match else None


def pmcid_of(raw: dict[str, str]) -> str | None:
    """A BibTeX entry's PMCID: its `pmcid` field, `eprint` with `eprinttype` `pmc`, or a
    `PMCID: PMC…` line of `note` or `extra` (as the PMID is read)."""
    if raw.get("pmcid", "").strip():
        return normalise_pmcid(raw["pmcid"])
    if raw.get("eprinttype", "").strip().lower() in PMC_EPRINT and raw.get("eprint", "").strip():
        return normalise_pmcid(raw["eprint"])
    return next((found for name in ("note", "extra")
                 if (found := pmcid_line(raw.get(name, ""))) is not None), None)
