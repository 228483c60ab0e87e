"""The single-value checks a load warns with and `ivcdb check` reports."""

from __future__ import annotations

from datetime import date

import pytest

from ivcdb.plausibility import (
    doi_problem,
    pages_problem,
    pmid_problem,
    reference_warnings,
    year_problem,
)


@pytest.mark.parametrize(("year", "today", "future"), [
    (None, None, False),
    (1999, None, False),
    (2027, date(2026, 11, 27), False),  # next year: in press
    (2028, date(2026, 11, 27), True),
    (2028, date(2027, 1, 1), False),
    (3024, None, True),  # a typo for 2024, whatever today is
])
def test_year_in_the_future(year: int | None, today: date | None, future: bool) -> None:
    message = year_problem(year, today)
    assert (message == f"year {year} is in the future") if future else message is None


@pytest.mark.parametrize(("pages", "bad"), [
    ("1234--45", False),  # abbreviated end: 1234-1245
    ("1234-1245", False),
    ("45-12", True),
    ("e123", False),
    (None, False),
])
def test_page_ranges(pages: str | None, bad: bool) -> None:
    assert (pages_problem(pages) is not None) is bad


def test_identifiers_and_the_warnings_of_a_reference() -> None:
    assert doi_problem("10.1002/jso.24001") is None
    assert doi_problem("doi 10.1002") == "DOI 'doi 10.1002' is not of the form 10.NNNN/suffix"
    assert pmid_problem("25581403") is None and pmid_problem("PMC123") is not None
    warnings = reference_warnings(doi="x", pmid="1", year=3024, pages="9-1")
    assert [malformed for malformed, _ in warnings] == [True, False, False]
