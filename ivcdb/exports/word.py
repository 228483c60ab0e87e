"""Word documents (through the optional python-docx extra): the evidence table and the
reference list, on an A4 page with Word's normal margins (2.54 cm).

- The evidence table is a real Word table ("Table Grid"), captioned with the outcome's label:
  a bold header row repeated on every page, and fixed column widths, the shares of the
  LaTeX table (`tables.LATEX_COLUMNS`) of the 15.92 cm between the margins, so it fits the
  page in portrait and Word never widens a column past the margin.
- The reference list is one "List Number" paragraph per reference, numbered by Word (a
  decimal numbering definition, `[1]`, `[2]`, ... as the review prints them; a gap in the
  citation numbers starts the list again at the next number), the journal in italics.

The document's properties and its zip entries' times are fixed, so the same data give the
same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ivcdb.exports.files import FIXED_TIME, fixed_zip_times
from ivcdb.extras import require

if TYPE_CHECKING:
    from ivcdb.exports.tables import EvidenceTable
    from ivcdb.queries import ExportReference

PAGE_CM = (21.0, 29.7)  # A4, portrait
MARGIN_CM = 2.54  # Word's "Normal" margins
TEXT_WIDTH_CM = PAGE_CM[0] - 2 * MARGIN_CM
LIST_INDENT_TWIPS = 567  # 1 cm: the hanging indent a `[100]` label needs
_ITALIC_START, _ITALIC_END = "\x00", "\x01"  # never in stored text (control characters)


def to_docx(table: EvidenceTable) -> bytes:
    """The evidence table as a Word document (see the module's docstring)."""
    require("docx")
    from docx.shared import Cm, Twips

    from ivcdb.exports.tables import HEADERS, LATEX_COLUMNS

    document = _document(title=table.label)
    document.add_paragraph(table.label, style="Caption")
    grid = document.add_table(rows=1, cols=len(HEADERS))
    grid.style = "Table Grid"
    grid.autofit = False  # a fixed layout: Word keeps the widths set below
    room = Cm(TEXT_WIDTH_CM).twips  # whole twips, rounded down: never past the margin
    widths = [Twips(int(column.share * room)) for column in LATEX_COLUMNS]
    for cell, header in zip(grid.rows[0].cells, HEADERS, strict=True):
        cell.paragraphs[0].add_run(header).bold = True
    _repeat_as_header(grid.rows[0])
    for r in table.rows:
        cells = grid.add_row().cells
        for cell, text in zip(cells, [*r.cells, r.references()], strict=True):
            cell.text = text
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width  # the grid (LibreOffice reads it) and each cell (Word does)
        for cell in column.cells:
            cell.width = width
    return _save(document)


def reflist_docx(refs: Sequence[ExportReference]) -> bytes:
    """The numbered reference list as a Word document (see the module's docstring)."""
    from ivcdb.exports.reflist import entry, number

    document = _document(title="References")
    numbering = _Numbering(document)
    previous: int | None = None
    for index, ref in enumerate(refs, 1):
        cited = number(ref, index)
        if previous is None or cited != previous + 1:
            num_id = numbering.start_at(cited)
        previous = cited
        paragraph = document.add_paragraph(style="List Number")
        _set_numbering(paragraph, num_id)
        text = entry(ref, escape=str, italic=lambda s: f"{_ITALIC_START}{s}{_ITALIC_END}")
        for i, part in enumerate(text.replace(_ITALIC_END, _ITALIC_START)
                                 .split(_ITALIC_START)):
            if part:
                paragraph.add_run(part).italic = bool(i % 2) or None
    return _save(document)


def _document(*, title: str) -> Any:
    require("docx")
    from docx import Document
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    properties = document.core_properties
    properties.author = properties.last_modified_by = "ivcdb"
    properties.title = title
    properties.created = properties.modified = FIXED_TIME
    properties.revision = 1
    return document


def _save(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return fixed_zip_times(buffer.getvalue())


def _repeat_as_header(row: Any) -> None:
    """Mark the row as the table's header: Word repeats it at the top of every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _set_numbering(paragraph: Any, num_id: int) -> None:
    """Give the paragraph its list's numbering: `<w:numPr><w:ilvl 0/><w:numId/></w:numPr>`."""
    properties = paragraph._p.get_or_add_pPr()
    numbered = properties.get_or_add_numPr()
    numbered.get_or_add_ilvl().val = 0
    numbered.get_or_add_numId().val = num_id


class _Numbering:
    """One decimal `[%1]` numbering definition in the document's numbering part, and a list
    instance of it for each run of consecutive citation numbers."""

    def __init__(self, document: Any) -> None:
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls, qn

        self._root = document.part.numbering_part.element
        self._qn = qn
        ids = [int(a.get(qn("w:abstractNumId"))) for a in self._root.findall(
            qn("w:abstractNum"))]
        self._abstract_id = max(ids, default=-1) + 1
        definition = parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{self._abstract_id}">'
            '<w:multiLevelType w:val="singleLevel"/>'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="[%1]"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{LIST_INDENT_TWIPS}" w:hanging="{LIST_INDENT_TWIPS}"/>'
            '</w:pPr></w:lvl></w:abstractNum>')
        first_num = self._root.find(qn("w:num"))  # every abstractNum comes before the nums
        if first_num is None:
            self._root.append(definition)
        else:
            first_num.addprevious(definition)

    def start_at(self, start: int) -> int:
        """A new list of the definition, numbered from `start`: its `numId`."""
        num = self._root.add_num(self._abstract_id)
        override = num.add_lvlOverride(ilvl=0)
        override.add_startOverride(start)
        return int(num.numId)
