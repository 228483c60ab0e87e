"""RIS read back by an independent reader (rispy)."""

from __future__ import annotations

from pathlib import Path

import rispy
from exportkit import load_tricky

from ivcdb import queries
from ivcdb.db import Database
from ivcdb.exports import export


def test_ris_parses_and_matches_the_database(built: Database, tmp_path: Path) -> None:
    load_tricky(built, tmp_path)
    text = export(built, "references", fmt="ris").decode("utf-8")
    records = rispy.loads(text)
    with built.session() as session:
        refs = queries.export_references(session, review_id=1)
    assert len(records) == len(refs) == 21
    for record, ref in zip(records, refs, strict=True):
        assert record["id"] == ref.key
        assert record["title"] == ref.title
        assert len(record.get("authors", [])) == len(ref.authors)
        assert record.get("doi") == ref.doi
        assert record.get("year") == (str(ref.year) if ref.year else None)
    ghose = next(r for r in records if r["id"] == "ghose2018")
    assert ghose["type_of_reference"] == "JOUR"
    assert (ghose["start_page"], ghose["end_page"]) == ("538", "546")
    assert ghose["secondary_title"] == "Indian Journal of Surgical Oncology"
    book = next(r for r in records if r["id"] == "Éclair2019")
    assert book["type_of_reference"] == "BOOK"
    assert book["authors"] == ["Müller, Jörg-Peter"]
    assert text.endswith("ER  - \r\n") and "\r\n\r\nTY  - " in text
