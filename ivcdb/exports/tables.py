"""A print-ready evidence table for one outcome: each claim's statement, its figure (value or
range, with unit and qualifier), timepoint, population and the supporting references as the
review's citation numbers."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from ivcdb import queries
from ivcdb.contract import ClaimRow
from ivcdb.csvformat import LIST_SEPARATOR, csv_text, format_number, neutralise
from ivcdb.exports.reflist import escape_latex, escape_markdown
from ivcdb.models import Unit

FORMATS = ("markdown", "html", "latex", "csv")
HEADERS = ("Claim", "Value", "Timepoint", "Population", "References")
CSV_HEADER = ("claim_id", "statement", "value", "timepoint", "population", "references")
_NO_UNIT_LABEL = frozenset({"count", "year"})  # "2 count", "2022 calendar year" read badly
_GLUED_UNITS = frozenset({"percent"})  # 40%, not 40 %


@dataclass(frozen=True, slots=True)
class EvidenceTable:
    outcome: str
    label: str
    rows: list[tuple[str, str, str, str, str, list[int]]]  # id, claim, value, time, pop, refs


def figure(claim: ClaimRow, unit_labels: dict[str, str]) -> str:
    """`approximately 40–70%`, `5/10`, `68 mm`; empty for a qualitative claim."""
    if claim.numerator is not None and claim.denominator is not None:
        text = f"{claim.numerator}/{claim.denominator}"
    elif claim.value_low is not None and claim.value_high is not None:
        text = f"{format_number(claim.value_low)}\u2013{format_number(claim.value_high)}"
    elif claim.value is not None:
        text = format_number(claim.value)
    else:
        return ""
    if claim.unit and claim.unit not in _NO_UNIT_LABEL and claim.numerator is None:
        label = unit_labels.get(claim.unit, claim.unit)
        text += label if claim.unit in _GLUED_UNITS else f" {label}"
    return f"{claim.qualifier} {text}" if claim.qualifier else text


def build(session: Session, *, outcome: str, review: str | None = None) -> EvidenceTable:
    """The claims of `outcome` ordered by their first citation number, then claim id."""
    row = queries.export_outcome(session, outcome=outcome)
    chosen = queries.choose_review(session, code=review) if review is not None else None
    claims = queries.export_claims(session, outcome=row["code"],
                                   review_id=chosen[0] if chosen else None)
    units = {code: r["label"] for code, r in queries.vocabulary_rows(session, Unit).items()}
    rows = []
    for claim in claims:
        numbers = sorted({link.reference_number for link in claim.links
                          if link.reference_number is not None})
        rows.append((claim.claim_id, claim.statement, figure(claim, units),
                     claim.timepoint or "", claim.population or "", numbers))
    rows.sort(key=lambda r: (not r[5], r[5][:1], r[0]))
    return EvidenceTable(row["code"], row["label"], rows)


def _cite(numbers: Sequence[int]) -> str:
    return f"[{','.join(map(str, numbers))}]" if numbers else ""


def _markdown(table: EvidenceTable) -> str:
    def cell(text: str) -> str:
        return escape_markdown(text).replace("|", "\\|")

    lines = [f"Table: {cell(table.label)}", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---" for _ in HEADERS) + "|"]
    for _, *cells, numbers in table.rows:
        lines.append("| " + " | ".join([*map(cell, cells), _cite(numbers)]) + " |")
    return "\n".join(lines) + "\n"


def _html(table: EvidenceTable) -> str:
    def esc(text: str) -> str:
        return html.escape(text, quote=False)

    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    lines = [f'<table class="evidence" id="{html.escape(table.outcome)}">',
             f"  <caption>{esc(table.label)}</caption>",
             f"  <thead><tr>{head}</tr></thead>", "  <tbody>"]
    for _, *cells, numbers in table.rows:
        tds = "".join(f"<td>{esc(c)}</td>" for c in [*cells, _cite(numbers)])
        lines.append(f"    <tr>{tds}</tr>")
    return "\n".join([*lines, "  </tbody>", "</table>"]) + "\n"


def _latex(table: EvidenceTable) -> str:
    lines = ["\\begin{table}[htbp]", f"\\caption{{{escape_latex(table.label)}}}",
             "\\begin{tabular}{p{0.42\\linewidth}lllp{0.1\\linewidth}}", "\\hline",
             " & ".join(HEADERS) + " \\\\", "\\hline"]
    for _, *cells, numbers in table.rows:
        lines.append(" & ".join(escape_latex(c) for c in [*cells, _cite(numbers)]) + " \\\\")
    return "\n".join([*lines, "\\hline", "\\end{tabular}", "\\end{table}"]) + "\n"


def _csv(table: EvidenceTable) -> str:
    def rows() -> Iterator[list[str]]:
        yield list(CSV_HEADER)
        for claim_id, *cells, numbers in table.rows:
            yield ([neutralise(c) for c in (claim_id, *cells)]
                   + [LIST_SEPARATOR.join(map(str, numbers))])

    return csv_text(rows)


def render(table: EvidenceTable, fmt: str) -> str:
    """The table in `fmt` (one of FORMATS)."""
    writers = {"markdown": _markdown, "html": _html, "latex": _latex, "csv": _csv}
    if fmt not in writers:
        raise ValueError(f"unknown table format {fmt!r}")
    return writers[fmt](table)
