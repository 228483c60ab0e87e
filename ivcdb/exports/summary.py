"""Summary of findings (`ivcdb summary`) and the study rows of one outcome (`ivcdb table
OUTCOME --studies`).

The summary follows the layout of a GRADE summary-of-findings table, without the certainty
ratings (they need risk-of-bias data ivcdb does not collect): per outcome, the number of
studies (participants), the pooled estimate [95% CI] from `synthesis.pool` (or why nothing
is pooled), what the review claims, with its citations, and the source-check status from
`verify`. The study table lists one outcome's studies: design, n, estimate [95% CI] and
whether (and with what weight) each is pooled.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivcdb.csvformat import LIST_SEPARATOR, csv_text, format_number, neutralise
from ivcdb.exports.reflist import escape_markdown
from ivcdb.figures import estimate_text, first_sentence, lower_first, numbered, unit_text
from ivcdb.formats import STUDY_TABLE, SUMMARY, renderer

if TYPE_CHECKING:
    from ivcdb.db import Database
    from ivcdb.synthesis import PoolResult, StudyRow
    from ivcdb.verify import ClaimCheck

__all__ = ["StudyTable", "StudyTableRow", "Summary", "SummaryRow", "render_studies",
           "render_summary", "study_rows", "study_table", "summarise", "summary"]

SUMMARY_HEADERS = ("Outcome", "№ of studies (participants)", "Pooled estimate [95% CI]",
                   "The review's claim", "Source check")
SUMMARY_CSV = ("outcome", "label", "studies", "participants", "k", "estimate", "ci_low",
               "ci_high", "method", "not_pooled", "claim_ids", "claims", "statuses")
STUDY_HEADERS = ("Study", "Design", "n", "Estimate [95% CI]", "Status")
STUDY_CSV = ("reference_key", "reference_number", "label", "design", "n", "events",
             "estimate", "ci_low", "ci_high", "weight", "status")
NOTE = ("Certainty of the evidence is not rated: that needs risk-of-bias data, which is not "
        "collected. Pooled: random-effects meta-analysis (metafor's rma), 95% CI.")


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One outcome of the summary of findings."""

    outcome: str
    label: str
    studies: int  # distinct studies with a related finding (pooled or not)
    participants: int | None  # their n added up (None: no study gives one)
    complete: bool  # every study gives its n
    pooled: str  # `58.0% [47.0, 68.0]`, or `not pooled: ...`
    k: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    method: str | None
    not_pooled: str | None
    claim_ids: tuple[str, ...]
    unit: str  # printed after the estimate: `%`, ` mm`, empty
    places: int
    claims: tuple[tuple[str, str], ...]  # (`approximately 40–70%`, `[3], [5]`) per claim
    statuses: tuple[str, ...]  # `consistent`, one per claim

    def studies_text(self) -> str:
        """`2 (469)`; `2 (≥ 377)` when a study gives no n; `2 (n not reported)`; `0`."""
        if not self.studies:
            return "0"
        if self.participants is None:
            return f"{self.studies} (n not reported)"
        n = f"{self.participants:,}"
        return f"{self.studies} ({n})" if self.complete else f"{self.studies} (≥ {n})"

    def claims_text(self, escape: Callable[[str], str] = str) -> str:
        """`approximately 40–70% [3], [5]`; several claims joined by `; ` (`escape` applies
        to the figures, never to the citations)."""
        return "; ".join(f"{escape(figure)} {cited}".strip() for figure, cited in self.claims)

    def cells(self, escape: Callable[[str], str] = str) -> tuple[str, ...]:
        pooled = escape(self.pooled) if self.k is None else estimate_text(
            self.estimate, self.ci_low, self.ci_high, places=self.places,
            unit=escape(self.unit))  # numbers: nothing to escape (`[` would be, in Markdown)
        return (escape(self.label), escape(self.studies_text()), pooled,
                self.claims_text(escape), escape("; ".join(self.statuses)))


@dataclass(frozen=True, slots=True)
class Summary:
    review: str
    rows: list[SummaryRow]

    @property
    def caption(self) -> str:
        return f"Summary of findings: review {self.review}"


@dataclass(frozen=True, slots=True)
class StudyTableRow:
    """One study of an outcome, as `table OUTCOME --studies` prints it."""

    study: StudyRow
    design: str

    def status(self) -> str:
        s = self.study
        if s.weight is not None:
            return f"pooled ({s.weight:.1f}%)"
        return f"not pooled: {s.reason}" if s.reason else "not pooled"

    def n_text(self) -> str:
        s = self.study
        if s.n is None:
            return ""
        return f"{s.events}/{s.n}" if s.events is not None else f"{s.n}"

    def cells(self, places: int, unit: str, escape: Callable[[str], str] = str
              ) -> tuple[str, ...]:
        """The printed cells; `escape` applies to the text (not to numbers or citations)."""
        s = self.study
        return (numbered(s.reference_number, escape(s.label)), escape(self.design),
                self.n_text(), estimate_text(s.estimate, s.ci_low, s.ci_high, places=places,
                                             unit=escape(unit)),
                escape(self.status()))


@dataclass(frozen=True, slots=True)
class StudyTable:
    outcome: str
    label: str
    review: str
    places: int
    unit: str  # printed after an estimate: `%`, ` mm`, empty
    rows: list[StudyTableRow]
    pooled: str | None  # `58.0% [47.0, 68.0] (k = 2, REML)`; None: not pooled
    reason: str | None  # why nothing is pooled

    @property
    def caption(self) -> str:
        return f"{self.label}: studies (review {self.review})"

    def footer(self, escape: Callable[[str], str] = str) -> str:
        """`Pooled: 58.0% [47.0, 68.0] (k = 2, REML)`, or `Not pooled: why`."""
        if self.pooled is not None:
            return f"Pooled: {self.pooled}"
        return f"Not pooled: {escape(self.reason)}" if self.reason else "Not pooled."


# --- building ---------------------------------------------------------------------------------


def _places(result: PoolResult) -> int:
    from ivcdb.forest import is_ratio

    return 2 if is_ratio(result) else 1


def pooled_text(result: PoolResult, unit: str) -> str:
    """`58.0% [47.0, 68.0]`, or `not pooled: fewer than two ...`."""
    p = result.pooled
    if p is None:  # the first sentence: the study table gives the reasons in full
        why = lower_first(first_sentence(result.reason or "")).rstrip(".")
        return f"not pooled: {why}" if why else "not pooled"
    return estimate_text(p.estimate, p.ci_low, p.ci_high, places=_places(result), unit=unit)


def summarise(review: str, results: Sequence[PoolResult],
              checks: Sequence[ClaimCheck], unit_labels: dict[str, str]) -> Summary:
    """The summary of `results` (one per outcome, in order) with the source checks of their
    claims."""
    by_outcome: dict[str, list[ClaimCheck]] = {}
    for check in checks:
        by_outcome.setdefault(check.outcome, []).append(check)
    rows = []
    for result in results:
        studies = {s.reference_key: s.n for s in result.studies}
        known = [n for n in studies.values() if n is not None]
        p = result.pooled
        outcome_checks = by_outcome.get(result.outcome, [])
        rows.append(SummaryRow(
            result.outcome, result.label, len(studies), sum(known) if known else None,
            len(known) == len(studies), pooled_text(result, unit_text(result.unit,
                                                                      unit_labels)),
            p.k if p else None, p.estimate if p else None, p.ci_low if p else None,
            p.ci_high if p else None, p.method if p else None,
            None if p else (result.reason or ""),
            tuple(c.claim_id for c in outcome_checks), unit_text(result.unit, unit_labels),
            _places(result),
            tuple((c.claimed, c.references_text()) for c in outcome_checks),
            tuple(c.status.label for c in outcome_checks)))
    return Summary(review, rows)


def summary(database: Database, *, review: str | None = None) -> Summary:
    """The summary of findings of one review (`review`, else the only one loaded): every
    outcome with a measure (something a source can report) that a claim citing a reference
    is about, in the order of its first such claim."""
    from ivcdb import queries
    from ivcdb.assess import verdicts
    from ivcdb.errors import NotFound
    from ivcdb.synthesis import pool
    from ivcdb.verify import verify

    with database.session() as session:
        chosen = queries.choose_review(session, code=review)
        if chosen is None:
            raise NotFound("no review is loaded; load a review file first")
        manual = verdicts(session, chosen[0])
        checks = [c for c in verify(session, review=chosen[1], manual=manual) if c.measure]
        labels = queries.unit_labels(session)
    outcomes = list(dict.fromkeys(c.outcome for c in checks))
    results = [pool(database, outcome, review=chosen[1]) for outcome in outcomes]
    return summarise(chosen[1], results, checks, labels)


def study_rows(result: PoolResult, designs: dict[str, str], unit_labels: dict[str, str]
               ) -> StudyTable:
    """The study table of `result`; `designs` maps a citekey to its study design."""
    unit = unit_text(result.unit, unit_labels)
    p = result.pooled
    pooled = f"{pooled_text(result, unit)} (k = {p.k}, {p.method})" if p else None
    rows = [StudyTableRow(s, designs.get(s.reference_key, "")) for s in result.studies]
    return StudyTable(result.outcome, result.label, result.review, _places(result), unit,
                      rows, pooled, None if p else result.reason)


def study_table(database: Database, outcome: str, *, review: str | None = None
                ) -> StudyTable:
    """The studies of one outcome in one review: design, n, estimate [95% CI], status."""
    from ivcdb import queries
    from ivcdb.synthesis import pool

    with database.session() as session:
        chosen = queries.choose_review(session, code=review)
        code = queries.outcome_code(session, outcome)
        designs = {r.key: r.study_design or "" for r in queries.export_references(
            session, review_id=chosen[0] if chosen else None, cited_only=chosen is not None)}
        labels = queries.unit_labels(session)
    result = pool(database, code, review=chosen[1] if chosen else None)
    return study_rows(result, designs, labels)


# --- writing ----------------------------------------------------------------------------------


def _md(text: str) -> str:
    return escape_markdown(text).replace("|", "\\|")


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _markdown(caption: str, headers: Sequence[str], rows: Iterator[Sequence[str]],
              after: str = "") -> str:
    """Cells and `after` arrive escaped."""
    lines = [f"Table: {_md(caption)}", "", "| " + " | ".join(headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join([*lines, *(["", after] if after else [])]) + "\n"


def _html(caption: str, headers: Sequence[str], rows: Iterator[Sequence[str]],
          after: str, css: str) -> str:
    """Cells and `after` arrive escaped."""
    esc = _esc
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    lines = [f'<table class="{css}">', f"  <caption>{esc(caption)}</caption>",
             f"  <thead><tr>{head}</tr></thead>", "  <tbody>"]
    lines += ["    <tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
              for cells in rows]
    lines += ["  </tbody>"]
    if after:
        lines.append(f'  <tfoot><tr><td colspan="{len(headers)}">{after}</td></tr>'
                     "</tfoot>")
    return "\n".join([*lines, "</table>"]) + "\n"


def _number(x: float | None) -> str:
    return "" if x is None else format_number(x)


def summary_markdown(table: Summary) -> str:
    return _markdown(table.caption, SUMMARY_HEADERS, (r.cells(_md) for r in table.rows),
                     _md(NOTE))


def summary_html(table: Summary) -> str:
    return _html(table.caption, SUMMARY_HEADERS, (r.cells(_esc) for r in table.rows),
                 _esc(NOTE), "summary-of-findings")


def summary_csv(table: Summary) -> str:
    def rows() -> Iterator[list[str]]:
        yield list(SUMMARY_CSV)
        for r in table.rows:
            yield [neutralise(c) for c in (
                r.outcome, r.label, str(r.studies), _number(r.participants),
                _number(r.k), _number(r.estimate), _number(r.ci_low), _number(r.ci_high),
                r.method or "", r.not_pooled or "", LIST_SEPARATOR.join(r.claim_ids),
                LIST_SEPARATOR.join(f"{figure} {cited}".strip() for figure, cited in r.claims),
                LIST_SEPARATOR.join(r.statuses))]

    return csv_text(rows)


def studies_markdown(table: StudyTable) -> str:
    return _markdown(table.caption, STUDY_HEADERS,
                     (r.cells(table.places, table.unit, _md) for r in table.rows),
                     table.footer(_md))


def studies_html(table: StudyTable) -> str:
    return _html(table.caption, STUDY_HEADERS,
                 (r.cells(table.places, table.unit, _esc) for r in table.rows),
                 table.footer(_esc), "studies")


def studies_csv(table: StudyTable) -> str:
    def rows() -> Iterator[list[str]]:
        yield list(STUDY_CSV)
        for r in table.rows:
            s = r.study
            yield [neutralise(c) for c in (
                s.reference_key, _number(s.reference_number), s.label, r.design,
                _number(s.n), _number(s.events), _number(s.estimate), _number(s.ci_low),
                _number(s.ci_high), _number(s.weight), r.status())]

    return csv_text(rows)


# Shares of the line width: the claim and status columns wrap most.
SUMMARY_SHARES = (0.21, 0.14, 0.22, 0.25, 0.18)
STUDY_SHARES = (0.22, 0.16, 0.14, 0.21, 0.27)


def _latex(caption: str, headers: Sequence[str], shares: Sequence[float],
           rows: Iterator[Sequence[str]], after: str) -> str:
    """A booktabs longtable as wide as the text (`exports.latex.table_fragment`), then the
    note under it. Cells and `after` arrive escaped."""
    from ivcdb.exports.latex import Column, escape, table_fragment

    columns = [Column(escape(h), share) for h, share in zip(headers, shares, strict=True)]
    return (table_fragment(columns, rows, caption=escape(caption))
            + rf"{{\footnotesize {after}\par}}" + "\n")


def _tex(text: str) -> str:
    from ivcdb.exports.latex import escape

    return escape(text, narrow=True)


def summary_latex(table: Summary) -> str:
    return _latex(table.caption, SUMMARY_HEADERS, SUMMARY_SHARES,
                  (r.cells(_tex) for r in table.rows), _tex(NOTE))


def studies_latex(table: StudyTable) -> str:
    return _latex(table.caption, STUDY_HEADERS, STUDY_SHARES,
                  (r.cells(table.places, table.unit, _tex) for r in table.rows),
                  table.footer(_tex))


def render_summary(table: Summary, fmt: str) -> str:
    """The summary in `fmt` (a name of `formats.SUMMARY`)."""
    write: Callable[[Summary], str] = renderer(SUMMARY, fmt, what="summary format")
    return write(table)


def render_studies(table: StudyTable, fmt: str) -> str:
    """The study table in `fmt` (a name of `formats.STUDY_TABLE`)."""
    write: Callable[[StudyTable], str] = renderer(STUDY_TABLE, fmt, what="table format")
    return write(table)
