"""BibTeX export: loads back into an empty database as identical references."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from exportkit import load_tricky

from ivcdb.db import Database, open_db, upgrade
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.models import Author, Reference


def _references(database: Database) -> dict[str, Any]:
    """Reference rows (without ids and file names) and their authors, by citekey."""
    ref, author = Reference.__table__, Author.__table__  # type: ignore[attr-defined]
    with database.engine.connect() as conn:
        # where an entry is stored (its bibliography, its work's id) is not the entry
        rows = {r["citekey"]: {k: v for k, v in r.items()
                               if k not in ("id", "source", "review_id", "work_id")}
                for r in conn.execute(sa.select(ref)).mappings()}
        query = sa.select(ref.c.citekey, author).join(ref, ref.c.id == author.c.reference_id)
        for r in conn.execute(query.order_by(author.c.position)).mappings():
            rows[r["citekey"]].setdefault("authors", []).append(
                (r["family"], r["given"], r["prefix"], r["suffix"], r["name_norm"]))
    return rows


def test_bibtex_round_trip(built: Database, tmp_path: Path) -> None:
    load_tricky(built, tmp_path)
    bib = tmp_path / "export.bib"
    bib.write_bytes(export(built, "references", fmt="bibtex"))
    target = tmp_path / "empty.sqlite"
    upgrade(target)
    with open_db(target) as fresh:
        report, = load(fresh, Sources(references=bib))
        assert not report.problems or all(not p.is_error for p in report.problems)
        assert _references(fresh) == _references(built)
    text = bib.read_text(encoding="utf-8")
    assert "{DNA} Repair \\& Growth" in text  # raw text, protection kept
    assert "M{\\\"u}ller, J{\\\"o}rg-Peter and others" in text
    assert len(_references(built)) == 21


def test_month_and_pmid_lines_round_trip_as_written(db: Database, tmp_path: Path) -> None:
    """`month = may` comes back as `month = may` (not `{5}`), `{May 2}` braced, and a PMID
    read from a `PMID:` line of `note` stays in that line (and is read from it again)."""
    source = tmp_path / "refs.bib"
    source.write_text("@article{m1, title = {T}, author = {A, B}, year = 2001, month = may,"
                      " journal = {J}, note = {PMID: 11111111}}\n"
                      "@article{m2, title = {U}, author = {A, B}, year = 2001,"
                      " month = {May 2}, journal = {J}}\n", encoding="utf-8")
    load(db, Sources(references=source))
    bib = tmp_path / "export.bib"
    bib.write_bytes(export(db, "references", fmt="bibtex"))
    text = bib.read_text(encoding="utf-8")
    assert re.search(r"month += may,", text) and re.search(r"month += \{May 2\}$", text, re.M)
    assert re.search(r"note += \{PMID: 11111111\}", text) and "pmid" not in text
    target = tmp_path / "empty.sqlite"
    upgrade(target)
    with open_db(target) as fresh:
        load(fresh, Sources(references=bib))
        assert _references(fresh) == _references(db)
        assert _references(fresh)["m1"]["pmid"] == "11111111"
