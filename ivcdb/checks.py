"""`ivcdb check`: data-quality problems of a loaded database, as errors and warnings.

Errors are things that are wrong (a malformed DOI or PMID, one DOI under two citekeys);
warnings are things worth a look (an incomplete reference, a likely duplicate by title and
year, a reference no claim cites, citation numbers out of order, a claim without a locator,
a claim citing a reference its review does not list). The reference rules are shared with the
loader, which warns about the same values when they are loaded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from sqlmodel import Session

from ivcdb import queries
from ivcdb.plausibility import doi_problem, pmid_problem
from ivcdb.queries import CitationUse, ClaimLocator, ReferenceCheckRow, UnlistedCitation
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import fold

_NOT_WORD = re.compile(r"[^\w]+")
WARNING = Severity.WARNING


def run_checks(session: Session, *, review_id: int | None = None) -> list[Problem]:
    """Every problem the checks find (with `review_id`, that review's only: its claims and
    the references it lists or cites), sorted by file, key and code."""
    references = queries.reference_check_rows(session, review_id=review_id)
    problems = [
        *incomplete_references(references),
        *malformed_identifiers(references),
        *likely_duplicates(references),
        *uncited_references(references),
        *citation_order(queries.citation_uses(session, review_id=review_id)),
        *claims_without_locator(queries.claim_locators(session, review_id=review_id)),
        *unlisted_citations(queries.unlisted_citations(session, review_id=review_id)),
    ]
    return sorted(problems, key=lambda p: (p.file, p.key, p.code.value, p.message))


def _reference_problem(ref: ReferenceCheckRow, code: Code, message: str,
                       severity: Severity = Severity.ERROR) -> Problem:
    return Problem(code, message, file=Path(ref.source).name, key=ref.citekey,
                   severity=severity)


def incomplete_references(references: Iterable[ReferenceCheckRow]) -> list[Problem]:
    """References without author, year or (for articles) journal."""
    out = []
    for ref in references:
        missing = [name for name, absent in (
            ("author", ref.authors == 0),
            ("year", ref.year_text is None),
            ("journal", ref.entry_type == "article" and not ref.journal),
        ) if absent]
        if missing:
            out.append(_reference_problem(ref, Code.MISSING_FIELD,
                                          f"incomplete reference: no {', '.join(missing)}",
                                          WARNING))
    return out


def malformed_identifiers(references: Iterable[ReferenceCheckRow]) -> list[Problem]:
    """DOIs not of the form `10.NNNN/suffix` and PMIDs that are not all digits."""
    return [_reference_problem(ref, Code.MALFORMED_ID, message)
            for ref in references
            for message in (doi_problem(ref.doi), pmid_problem(ref.pmid)) if message]


def title_key(title_norm: str) -> str:
    """A title folded for comparison: no case, accents, punctuation or spacing differences."""
    return _NOT_WORD.sub(" ", fold(title_norm)).strip()


def likely_duplicates(references: Iterable[ReferenceCheckRow]) -> list[Problem]:
    """One work under several citekeys of one bibliography: the same DOI (error) or title and
    year (warning). The same work in two reviews' bibliographies is a link, not a duplicate."""
    by_doi: dict[tuple[str, str], list[ReferenceCheckRow]] = defaultdict(list)
    by_title: dict[tuple[str, str, int | None], list[ReferenceCheckRow]] = defaultdict(list)
    for ref in references:
        if ref.doi:
            by_doi[(ref.bibliography, ref.doi.casefold())].append(ref)
        if ref.title_norm:
            by_title[(ref.bibliography, title_key(ref.title_norm), ref.year)].append(ref)
    out = []
    for (_, doi), group in by_doi.items():
        out += _duplicate_problems(group, f"DOI {doi}", Severity.ERROR)
    for (_, _, year), group in by_title.items():
        if len({r.doi.casefold() for r in group if r.doi}) > 1:
            continue  # different DOIs: different works that share a title
        out += _duplicate_problems(group, f"title and year {year}", WARNING)
    return out


def _duplicate_problems(group: list[ReferenceCheckRow], what: str,
                        severity: Severity) -> list[Problem]:
    if len(group) < 2:
        return []
    keys = [r.citekey for r in group]
    return [_reference_problem(ref, Code.LIKELY_DUPLICATE, f"likely the same work as "
                               f"{', '.join(k for k in keys if k != ref.citekey)} (same {what})",
                               severity) for ref in group]


def uncited_references(references: Iterable[ReferenceCheckRow]) -> list[Problem]:
    """References that support no claim."""
    return [_reference_problem(ref, Code.UNCITED, "no claim cites this reference", WARNING)
            for ref in references if ref.claims == 0]


def citation_order(uses: Iterable[CitationUse]) -> list[Problem]:
    """Reference numbers whose first citation comes after a higher number's first citation.

    Claims are taken in article order: sections in the order they first appear in the claims
    file, then paragraph, then file order; references in their order within a claim.
    """
    by_review: dict[str, list[CitationUse]] = defaultdict(list)
    for use in uses:
        by_review[use.review].append(use)
    out = []
    for review, group in by_review.items():
        section_rank: dict[str | None, int] = {}
        for use in sorted(group, key=lambda u: u.claim_row):
            section_rank.setdefault(use.section, use.claim_row)
        ordered = sorted(group, key=lambda u: (section_rank[u.section], u.paragraph or 0,
                                               u.claim_row, u.position))
        first: dict[int, CitationUse] = {}
        highest = 0
        for use in ordered:
            if use.number in first:
                continue
            first[use.number] = use
            if use.number < highest:
                where = f"{use.section or 'no section'}, paragraph {use.paragraph or '?'}"
                out.append(Problem(
                    Code.CITATION_ORDER,
                    f"reference [{use.number}] ({use.citekey}) of review '{review}' is first "
                    f"cited in claim {use.claim_id} ({where}), after [{highest}]; numbers "
                    "should follow the order of first citation", file=Path(use.source).name,
                    key=use.claim_id, severity=WARNING))
            highest = max(highest, use.number)
    return out


def claims_without_locator(claims: Iterable[ClaimLocator]) -> list[Problem]:
    """Claims that do not say where in the review they are made."""
    out = []
    for claim in claims:
        missing = [name for name, value in (("section", claim.section),
                                            ("paragraph", claim.paragraph)) if value is None]
        if missing:
            out.append(Problem(Code.NO_LOCATOR, f"no {' or '.join(missing)}: say where in "
                               "the review the claim is made", file=Path(claim.source).name,
                               key=claim.claim_id, severity=WARNING))
    return out


def unlisted_citations(links: Iterable[UnlistedCitation]) -> list[Problem]:
    """Claims citing a reference their review does not list: no citation number to show."""
    return [Problem(Code.NOT_IN_REVIEW, f"cites '{link.citekey}', which review "
                    f"'{link.review}' does not list: no citation number to show",
                    file=Path(link.source).name, key=link.claim_id, severity=WARNING)
            for link in links]
