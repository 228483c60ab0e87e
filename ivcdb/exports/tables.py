"""A print-ready evidence table for one outcome: each claim's statement, its figure (value or
range, with unit and qualifier), timepoint, population and the supporting references as the
review's citation numbers."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from ivcdb import queries
from ivcdb.contract import ClaimRow, LinkRow
from ivcdb.csvformat import LIST_SEPARATOR, csv_text, neutralise
from ivcdb.exports.reflist import escape_latex, escape_markdown
from ivcdb.figures import citations, figure_text, unit_text
from ivcdb.formats import EVIDENCE_TABLE, renderer
from ivcdb.models import Unit

FORMATS = tuple(EVIDENCE_TABLE)
HEADERS = ("Claim", "Value", "Timepoint", "Population", "References")
CSV_HEADER = ("claim_id", "statement", "value", "timepoint", "population", "references",
              "disagrees")


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One claim of the table: its printed cells and the citation numbers of its references."""

    claim_id: str
    cells: tuple[str, str, str, str]  # statement, figure, timepoint, population
    supporting: list[int]  # supports, data_source
    disagreeing: list[int]

    def references(self) -> str:
        """`[3,5]`, `[3]; disagrees: [1]`: support first; a disagreeing one is never support."""
        parts = [citations(self.supporting)]
        if self.disagreeing:
            parts.append(f"disagrees: {citations(self.disagreeing)}")
        return "; ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class EvidenceTable:
    outcome: str
    label: str
    rows: list[EvidenceRow]


def figure(claim: ClaimRow, unit_labels: dict[str, str]) -> str:
    """`approximately 40–70%`, `5/10`, `68 mm`; empty for a qualitative claim."""
    return figure_text(claim.value, claim.value_low, claim.value_high, claim.numerator,
                       claim.denominator, claim.qualifier,
                       unit=unit_text(claim.unit, unit_labels))


def _numbers(links: Sequence[LinkRow]) -> list[int]:
    return sorted({link.reference_number for link in links
                   if link.reference_number is not None})


def build(session: Session, *, outcome: str, review: str | None = None) -> EvidenceTable:
    """The claims of `outcome` in one review (`review`, else the only one loaded; several
    and none named: `UsageError`) ordered by their first supporting citation number, then id."""
    chosen = queries.choose_review(session, code=review)
    row = queries.export_outcome(session, outcome=outcome)
    claims = queries.export_claims(session, outcome=row["code"],
                                   review_id=chosen[0] if chosen else None)
    units = {code: r["label"] for code, r in queries.vocabulary_rows(session, Unit).items()}
    rows = [EvidenceRow(claim.claim_id, (claim.statement, figure(claim, units),
                                         claim.timepoint or "", claim.population or ""),
                        _numbers(claim.supporting), _numbers(claim.disagreeing))
            for claim in claims]
    rows.sort(key=lambda r: (not r.supporting, r.supporting[:1], r.claim_id))
    return EvidenceTable(row["code"], row["label"], rows)


def to_markdown(table: EvidenceTable) -> str:
    def cell(text: str) -> str:
        return escape_markdown(text).replace("|", "\\|")

    lines = [f"Table: {cell(table.label)}", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---" for _ in HEADERS) + "|"]
    for r in table.rows:
        lines.append("| " + " | ".join([*map(cell, r.cells), r.references()]) + " |")
    return "\n".join(lines) + "\n"


def to_html(table: EvidenceTable) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=False)

    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    lines = [f'<table class="evidence" id="{html.escape(table.outcome)}">',
             f"  <caption>{esc(table.label)}</caption>",
             f"  <thead><tr>{head}</tr></thead>", "  <tbody>"]
    for r in table.rows:
        tds = "".join(f"<td>{esc(c)}</td>" for c in [*r.cells, r.references()])
        lines.append(f"    <tr>{tds}</tr>")
    return "\n".join([*lines, "  </tbody>", "</table>"]) + "\n"


def to_latex(table: EvidenceTable) -> str:
    lines = ["\\begin{table}[htbp]", f"\\caption{{{escape_latex(table.label)}}}",
             "\\begin{tabular}{p{0.42\\linewidth}lllp{0.1\\linewidth}}", "\\hline",
             " & ".join(HEADERS) + " \\\\", "\\hline"]
    for r in table.rows:
        lines.append(" & ".join(escape_latex(c) for c in [*r.cells, r.references()]) + " \\\\")
    return "\n".join([*lines, "\\hline", "\\end{tabular}", "\\end{table}"]) + "\n"


def to_csv(table: EvidenceTable) -> str:
    def rows() -> Iterator[list[str]]:
        yield list(CSV_HEADER)
        for r in table.rows:
            yield ([neutralise(c) for c in (r.claim_id, *r.cells)]
                   + [LIST_SEPARATOR.join(map(str, n)) for n in (r.supporting, r.disagreeing)])

    return csv_text(rows)


def render(table: EvidenceTable, fmt: str) -> str:
    """The table in `fmt` (a name of `formats.EVIDENCE_TABLE`)."""
    text: str = renderer(EVIDENCE_TABLE, fmt, what="table format")(table)
    return text
