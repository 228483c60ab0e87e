"""A file just begun (a CSV header, BibTeX comments, a review.toml with only its id) loads
nothing with a `no-entries` warning, and `--prune` ignores it; a file with nothing at all in it
is still refused (see test_load_claims, test_load_bibtex)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, snapshot
from loadkit import find, rows, write

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Severity


def _header(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)[0]


BEGUN = [
    pytest.param("claims", "claims.csv", lambda: _header("claims.csv"), id="claims-header"),
    pytest.param("findings", "findings.csv", lambda: _header("findings.csv"),
                 id="findings-header"),
    pytest.param("units", "units.csv", lambda: _header("units.csv"), id="units-header"),
    pytest.param("measures", "measures.csv", lambda: _header("measures.csv"),
                 id="measures-header"),
    pytest.param("outcomes", "outcomes.csv", lambda: _header("outcomes.csv"),
                 id="outcomes-header"),
    pytest.param("references", "references.bib", lambda: "% a comment and nothing else\n\n",
                 id="bibtex-comments-only"),
    pytest.param("references", "references.bib", lambda: "@set{s1, entryset = {a, b}}\n",
                 id="bibtex-only-set-block"),
]


def _sources(kind: str, path: Path) -> Sources:
    return Sources(**{kind: [path] if kind in ("claims", "findings") else path})


@pytest.mark.parametrize(("kind", "name", "text"), BEGUN)
@pytest.mark.parametrize("prune", [False, True], ids=["load", "prune"])
def test_a_file_without_records_loads_nothing_with_a_warning(
        built: Database, data_copy: Path, kind: str, name: str, text: object,
        prune: bool) -> None:
    """Under the name the curated records came from, so --prune would remove them all."""
    path = write(data_copy / name, text())  # type: ignore[operator]
    before = snapshot(built)
    (report,) = load(built, _sources(kind, path), prune=prune)
    warning = find(report.problems, Code.EMPTY, file=path, line=None, key="")
    assert warning.severity is Severity.WARNING and "nothing loaded" in warning.message
    assert (report.read, report.added, report.updated, report.removed) == (0, 0, 0, 0)
    assert report.missing  # what the file had loaded before is reported, never removed
    if prune:
        assert any("--prune ignored" in p.message for p in report.warnings)
    after = snapshot(built)
    assert {t: r for t, r in after.items() if t != "load_event"} == {
        t: r for t, r in before.items() if t != "load_event"}


def test_a_review_without_title_loads_with_a_warning(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "review.toml", '[review]\nid = "new2026"\n')
    (report,) = load(db, Sources(reviews=[path]))
    warning = find(report.problems, Code.MISSING_FIELD, file=path, line=1, key="new2026")
    assert warning.severity is Severity.WARNING and report.added == 1
    assert [(r["code"], r["title"]) for r in rows(db, "review")] == [("new2026", "")]
