"""Word documents, read back with python-docx: the evidence table is a real table with a
header row and widths that fit an A4 page; the reference list is a numbered list (Word
numbering, decimal), one paragraph per reference; the same data give the same bytes."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC
from typing import Any

import pytest
from conftest import CliRunBytes
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from ivcdb import queries
from ivcdb.db import Database
from ivcdb.exports import evidence_table, reference_list, reflist, word
from ivcdb.exports.files import FIXED_TIME
from ivcdb.exports.tables import HEADERS

LARGEST = "immunohistochemistry_marker"  # the outcome with the most claims (5)


def _open(data: str | bytes) -> Any:
    assert isinstance(data, bytes) and data.startswith(b"PK")
    return Document(io.BytesIO(data))


def _claims(db: Database, outcome: str) -> int:
    with db.session() as session:
        return next(r.claims for r in queries.list_outcomes(session) if r.code == outcome)


@pytest.mark.parametrize("outcome", ["overall_survival_5y", LARGEST])
def test_the_table_reads_back(shared_built: Database, outcome: str) -> None:
    document = _open(evidence_table(shared_built, outcome, fmt="docx"))
    (table,) = document.tables
    assert [c.text for c in table.rows[0].cells] == list(HEADERS)
    assert len(table.rows) == _claims(shared_built, outcome) + 1 > 1
    markdown = evidence_table(shared_built, outcome).splitlines()[4:]
    for row, line in zip(table.rows[1:], markdown, strict=True):
        assert line == "| " + " | ".join(c.text for c in row.cells) + " |"
    if outcome == "overall_survival_5y":
        assert table.rows[1].cells[-1].text == "[3,5]"
        assert document.paragraphs[0].text == "Overall survival at 5 years"


def test_the_table_fits_an_a4_page(shared_built: Database) -> None:
    document = _open(evidence_table(shared_built, LARGEST, fmt="docx"))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    room = section.page_width - section.left_margin - section.right_margin
    assert abs(room - Cm(15.92)) < Cm(0.01)
    (table,) = document.tables
    widths = [column.width for column in table.columns]
    assert sum(widths) <= room and sum(widths) > room - Cm(0.05)
    assert widths.index(max(widths)) == 0 and table.rows[0].cells[-1].text == "References"
    for row in table.rows:
        assert [cell.width for cell in row.cells] == widths
    assert table.autofit is False  # fixed layout: Word keeps the widths
    header = table.rows[0]._tr.trPr.find(qn("w:tblHeader"))
    assert header is not None  # repeated on every page


def _list_format(document: Any, num_id: int) -> tuple[str, str, int]:
    """(numFmt, lvlText, start) of level 0 of the list `num_id`."""
    numbering = document.part.numbering_part.element
    num = numbering.num_having_numId(num_id)
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    (level,) = numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{abstract_id}"]'
                               '/w:lvl[@w:ilvl="0"]')
    start = num.xpath("./w:lvlOverride/w:startOverride/@w:val")
    return (level.find(qn("w:numFmt")).get(qn("w:val")),
            level.find(qn("w:lvlText")).get(qn("w:val")), int(start[0]))


def _numbered(paragraph: Any) -> int:
    num_pr = paragraph._p.pPr.numPr
    assert num_pr is not None and num_pr.ilvl.val == 0
    return int(num_pr.numId.val)


def test_the_reference_list_is_a_numbered_list(shared_built: Database) -> None:
    document = _open(reference_list(shared_built, fmt="docx"))
    paragraphs = document.paragraphs
    assert len(paragraphs) == 18 and not document.tables
    (num_id,) = {_numbered(p) for p in paragraphs}
    assert _list_format(document, num_id) == ("decimal", "[%1]", 1)
    text = reference_list(shared_built, fmt="text")
    assert [p.text for p in paragraphs] == [line.split("] ", 1)[1]
                                            for line in str(text).splitlines()]
    first = paragraphs[0]
    assert [r.text for r in first.runs if r.italic] == ["Indian Journal of Urology"]
    assert all(p.style.name == "List Number" for p in paragraphs)


def test_a_gap_in_the_citation_numbers_starts_the_list_again(shared_built: Database) -> None:
    with shared_built.session() as session:
        refs = list(queries.export_references(session, review_id=1, cited_only=True))[:4]
    refs = [dataclasses.replace(r, number=n) for r, n in zip(refs, (1, 2, 7, 8), strict=True)]
    document = _open(word.reflist_docx(refs))
    ids = [_numbered(p) for p in document.paragraphs]
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert [_list_format(document, i)[2] for i in (ids[0], ids[2])] == [1, 7]
    assert reflist.number(refs[2], 3) == 7


def test_the_same_data_give_the_same_bytes(shared_built: Database) -> None:
    for write in (lambda: reference_list(shared_built, fmt="docx"),
                  lambda: evidence_table(shared_built, LARGEST, fmt="docx")):
        first = write()
        assert write() == first
        properties = _open(first).core_properties
        assert properties.created == properties.modified == FIXED_TIME.replace(tzinfo=UTC)
        assert properties.author == "ivcdb"


def test_cli_writes_word_documents(cli_bytes: CliRunBytes, shared_built: Database,
                                   tmp_path: Any) -> None:
    target = tmp_path / "refs.docx"
    code, out, err = cli_bytes("refs", "--format", "docx", "--output", str(target), "--db",
                               shared_built.url)
    assert (code, out) == (0, b"") and "wrote" in err
    assert len(_open(target.read_bytes()).paragraphs) == 18
    code, out, _ = cli_bytes("table", "overall_survival_5y", "--format", "docx", "--db",
                             shared_built.url)
    assert code == 0 and len(_open(out).tables[0].rows) == 2  # piped: the bytes
    code, _, err = cli_bytes("table", "overall_survival_5y", "--format", "docx", "--cite",
                             "latex", "--db", shared_built.url)
    assert code == 2 and "--cite latex is for --format latex" in err
