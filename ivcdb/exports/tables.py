"""A print-ready evidence table for one outcome: each claim's statement, its figure (value or
range, with unit and qualifier), timepoint, population and the supporting references as the
review's citation numbers (or, with `cite`, LaTeX `\\cite{}` / pandoc `[@key]` citations)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from ivcdb import queries
from ivcdb.contract import ClaimRow, LinkRow
from ivcdb.csvformat import LIST_SEPARATOR, csv_text, neutralise
from ivcdb.errors import UsageError
from ivcdb.exports import latex
from ivcdb.exports.reflist import escape_markdown
from ivcdb.figures import citations, figure_text, unit_text
from ivcdb.formats import CITATION, EVIDENCE_TABLE, renderer
from ivcdb.models import Unit

FORMATS = tuple(EVIDENCE_TABLE)
HEADERS = ("Claim", "Value", "Timepoint", "Population", "References")
# LaTeX: each column's share of the line; References last, as in every format.
LATEX_COLUMNS = tuple(latex.Column(h, share) for h, share in zip(
    HEADERS, (0.30, 0.16, 0.17, 0.21, 0.16), strict=True))
# `--cite`: the table format each key-based citation style is written for.
CITE_FORMATS = {"number": tuple(EVIDENCE_TABLE), "latex": ("latex",), "pandoc": ("markdown",)}
CSV_HEADER = ("claim_id", "statement", "value", "timepoint", "population", "references",
              "disagrees")


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One claim of the table: its printed cells and the citation numbers of its references."""

    claim_id: str
    cells: tuple[str, str, str, str]  # statement, figure, timepoint, population
    supporting: list[int]  # supports, data_source
    disagreeing: list[int]
    keys: dict[int, str] = field(default_factory=dict)  # citation number -> citekey

    def references(self, cite: str = "number") -> str:
        """`[3,5]`, `[3]; disagrees: [1]`: support first; a disagreeing one is never support.
        `cite` names a style of `formats.CITATION` (`\\cite{a,b}; disagrees: \\cite{c}`)."""
        write = renderer(CITATION, cite, what="citation style")
        parts = [write(self._cited(self.supporting))]
        if self.disagreeing:
            parts.append(f"disagrees: {write(self._cited(self.disagreeing))}")
        return "; ".join(p for p in parts if p)

    def _cited(self, numbers: list[int]) -> list[tuple[int | None, str]]:
        return [(n, self.keys.get(n, "")) for n in numbers]


@dataclass(frozen=True, slots=True)
class EvidenceTable:
    outcome: str
    label: str
    rows: list[EvidenceRow]
    cite: str = "number"  # a style of `formats.CITATION`


def cite_numbers(cited: Sequence[tuple[int | None, str]]) -> str:
    """`[3,5]`: the citation numbers."""
    return citations(n for n, _ in cited)


_PANDOC_KEY = re.compile(r"\w(?:[\w:.#$%&+?<>~/-]*\w)?")


def cite_pandoc(cited: Sequence[tuple[int | None, str]]) -> str:
    """`[@wachtel2015; @nooromid2022]`; a key pandoc would not read bare as `@{key}`."""
    keys = [f"@{k}" if _PANDOC_KEY.fullmatch(k) else f"@{{{k}}}" for _, k in cited]
    return f"[{'; '.join(keys)}]" if keys else ""


def figure(claim: ClaimRow, unit_labels: dict[str, str]) -> str:
    """`approximately 40–70%`, `5/10`, `68 mm`; empty for a qualitative claim."""
    return figure_text(claim.value, claim.value_low, claim.value_high, claim.numerator,
                       claim.denominator, claim.qualifier,
                       unit=unit_text(claim.unit, unit_labels), bounds=claim.bounds)


def _numbers(links: Sequence[LinkRow]) -> list[int]:
    return sorted({link.reference_number for link in links
                   if link.reference_number is not None})


def build(session: Session, *, outcome: str, review: str | None = None,
          cite: str = "number") -> EvidenceTable:
    """The claims of `outcome` in one review (`review`, else the only one loaded; several
    and none named: `UsageError`) ordered by their first supporting citation number, then id;
    their references to be cited in the style `cite` (`formats.CITATION`)."""
    chosen = queries.choose_review(session, code=review)
    row = queries.export_outcome(session, outcome=outcome)
    claims = queries.export_claims(session, outcome=row["code"],
                                   review_id=chosen[0] if chosen else None)
    units = {code: r["label"] for code, r in queries.vocabulary_rows(session, Unit).items()}
    rows = [EvidenceRow(claim.claim_id, (claim.statement, figure(claim, units),
                                         claim.timepoint or "", claim.population or ""),
                        _numbers(claim.supporting), _numbers(claim.disagreeing),
                        {link.reference_number: link.reference_key for link in claim.links
                         if link.reference_number is not None})
            for claim in claims]
    rows.sort(key=lambda r: (not r.supporting, r.supporting[:1], r.claim_id))
    return EvidenceTable(row["code"], row["label"], rows, cite)


def check_cite(cite: str, fmt: str) -> None:
    """Refuse a citation style the table format cannot carry (`\\cite` is LaTeX's,
    `[@key]` pandoc Markdown's)."""
    renderer(CITATION, cite, what="citation style")
    if fmt not in CITE_FORMATS[cite]:
        raise UsageError(f"--cite {cite} is for --format {' or '.join(CITE_FORMATS[cite])}, "
                         f"not {fmt}")


def to_markdown(table: EvidenceTable) -> str:
    def cell(text: str) -> str:
        return escape_markdown(text).replace("|", "\\|")

    lines = [f"Table: {cell(table.label)}", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "|".join("---" for _ in HEADERS) + "|"]
    for r in table.rows:
        lines.append("| " + " | ".join([*map(cell, r.cells), r.references(table.cite)])
                     + " |")
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
    """A booktabs `longtable` spanning the line, captioned with the outcome's label and
    labelled `tab:<outcome>` (see `latex.table_fragment`)."""
    def references(row: EvidenceRow) -> str:
        cell = row.references(table.cite)
        return cell if table.cite == "latex" else latex.escape(cell, narrow=True)

    rows = [[*(latex.escape(c, narrow=True) for c in r.cells), references(r)]
            for r in table.rows]
    return latex.table_fragment(LATEX_COLUMNS, rows, caption=latex.escape(table.label),
                                label=latex.bibitem_label(f"tab:{table.outcome}", None))


def to_csv(table: EvidenceTable) -> str:
    def rows() -> Iterator[list[str]]:
        yield list(CSV_HEADER)
        for r in table.rows:
            yield ([neutralise(c) for c in (r.claim_id, *r.cells)]
                   + [LIST_SEPARATOR.join(map(str, n)) for n in (r.supporting, r.disagreeing)])

    return csv_text(rows)


def render(table: EvidenceTable, fmt: str) -> str | bytes:
    """The table in `fmt` (a name of `formats.EVIDENCE_TABLE`)."""
    text: str | bytes = renderer(EVIDENCE_TABLE, fmt, what="table format")(table)
    return text
