"""Plausibility of single reference values: identifiers, years and page ranges.

Pure functions shared by the BibTeX reader (warnings at load time) and `ivcdb check`.
"""

from __future__ import annotations

import re
from datetime import date

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
PMID = re.compile(r"^\d+$")
_NEVER_FUTURE = 2027  # next year as this was written: no later date makes it the future
_PAGE_RANGE = re.compile(r"^\s*(\d+)\s*[-\u2013\u2014]+\s*(\d+)\s*$")


def doi_problem(doi: str | None) -> str | None:
    """Why `doi` is malformed (not `10.NNNN/suffix`), or None."""
    if doi is None or DOI.match(doi):
        return None
    return f"DOI '{doi}' is not of the form 10.NNNN/suffix"


def pmid_problem(pmid: str | None) -> str | None:
    """Why `pmid` is malformed (not all digits), or None."""
    if pmid is None or PMID.match(pmid):
        return None
    return f"PMID '{pmid}' is not a number"


def pages_problem(pages: str | None) -> str | None:
    """Why a page range is implausible (its end below its start), or None.

    An abbreviated end (`1234-45`, common in medical citations) takes the start's leading
    digits.
    """
    match = _PAGE_RANGE.match(pages or "")
    if match is None:
        return None
    start, end = match.groups()
    if len(end) < len(start):
        end = start[:len(start) - len(end)] + end
    if int(end) >= int(start):
        return None
    return f"page range '{pages}' ends before it starts"


def year_problem(year: int | None, today: date | None = None) -> str | None:
    """Why a publication year is implausible (after next year), or None."""
    if year is None or (year <= _NEVER_FUTURE and today is None):
        return None  # no need to ask for the date (a load asks about every reference)
    this_year = (today or date.today()).year
    if year <= this_year + 1:
        return None
    return f"year {year} is in the future"


def reference_warnings(*, doi: str | None, pmid: str | None, year: int | None,
                       pages: str | None) -> list[tuple[bool, str]]:
    """What a load warns about one reference: (is a malformed identifier, message) pairs."""
    found = [(True, doi_problem(doi)), (True, pmid_problem(pmid)),
             (False, year_problem(year)), (False, pages_problem(pages))]
    return [(malformed, message) for malformed, message in found if message is not None]
