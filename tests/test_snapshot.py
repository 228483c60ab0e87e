"""`ivcdb snapshot`: a read-only SQLite copy of either engine, with views and full-text search."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, ENGINES, CliRun, shared_database, table_counts

from ivcdb import queries
from ivcdb.assess import assess
from ivcdb.db import Database, sqlite_path
from ivcdb.errors import OutputExists, UsageError
from ivcdb.exports import reflist
from ivcdb.models import metadata
from ivcdb.snapshot import FTS_TABLES, SNAPSHOT_FTS_TABLES, VIEWS, snapshot


def _assessed(database: Database, _: Path) -> None:
    """One verdict by hand, so that every table has rows (the curated data has none)."""
    assess(database.url, "li2025-os-10y", reference="3", status="consistent", by="test")


@pytest.fixture(scope="module", params=ENGINES)
def shared_built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 pg_admin: sa.Engine | None) -> Iterator[Database]:
    """The curated database with one verdict by hand, built once per engine."""
    with shared_database(request.param, tmp_path_factory, pg_admin, _assessed) as database:
        yield database


@pytest.fixture(scope="module")
def snap(shared_built: Database, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[sqlite3.Connection]:
    """The curated database snapshotted from each engine, opened read-only."""
    path = snapshot(shared_built.url, tmp_path_factory.mktemp("snap") / "snap.sqlite").path
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def test_every_table_is_copied_with_its_rows(shared_built: Database, tmp_path: Path) -> None:
    report = snapshot(shared_built.url, tmp_path / "snap.sqlite")
    expected = table_counts(shared_built)
    assert report.counts == expected
    conn = sqlite3.connect(report.path)
    try:
        assert {t: _count(conn, t) for t in expected} == expected
        assert all(expected[t.name] > 0 for t in metadata.sorted_tables)  # nothing trivially 0
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    assert version  # the snapshot opens with ivcdb's own commands too


def test_snapshot_is_one_self_contained_file(shared_built: Database, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = snapshot(shared_built.url, out / "snap.sqlite").path
    assert sorted(p.name for p in out.iterdir()) == ["snap.sqlite"]  # no -wal, no temp
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_views_and_search_tables_exist_only_in_the_snapshot(built: Database,
                                                            snap: sqlite3.Connection) -> None:
    names = {row[0] for row in snap.execute("SELECT name FROM sqlite_master")}
    assert set(VIEWS) | set(FTS_TABLES) <= names
    with built.engine.connect() as conn:
        source = set(sa.inspect(conn).get_table_names())
    assert not (set(VIEWS) | set(SNAPSHOT_FTS_TABLES)) & source


@pytest.mark.parametrize(("table", "query", "column", "expected"), [
    pytest.param("reference_fts", "CALIÒ", "citekey", "illuminati2016", id="accent-and-case"),
    pytest.param("reference_fts", "calio", "citekey", "illuminati2016", id="unaccented"),
    pytest.param("reference_fts", "JAPAN", "citekey", "kobayashi2020", id="upper-case"),
])
def test_reference_search_ignores_accents_and_case(snap: sqlite3.Connection, table: str,
                                                   query: str, column: str,
                                                   expected: str) -> None:
    rows = snap.execute(f"SELECT {column} FROM {table} WHERE {table} MATCH ?", (query,))
    assert [r[0] for r in rows] == [expected]


def test_statement_search_finds_every_claim_with_the_word(snap: sqlite3.Connection) -> None:
    """The database's word index came through the copy (its triggers filled it)."""
    found = {r[0] for r in snap.execute(
        "SELECT rowid FROM claim_search WHERE claim_search MATCH 'PivClms'")}
    expected = {r[0] for r in snap.execute(
        "SELECT id FROM claim WHERE ' ' || search_norm || ' ' LIKE '% pivclms %'")}
    assert found == expected and len(expected) > 3


def test_claims_view_labels_every_claim_as_the_data_says(snap: sqlite3.Connection) -> None:
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as handle:
        curated = {row["claim_id"]: row for row in csv.DictReader(handle)}
    rows = snap.execute("SELECT claim_id, outcome, cited, reference, value_low, value_high "
                        "FROM claims_view").fetchall()
    assert len(rows) == len(curated)
    for claim_id, outcome, cited, reference, low, high in rows:
        row = curated[claim_id]
        assert outcome == row["outcome"]
        numbers = [n for n in row["reference_numbers"].split(";") if n]
        assert cited == (f"[{', '.join(numbers)}]" if numbers else "")
        labels = json.loads(reference)
        assert [label.split("]")[0].lstrip("[") for label in labels] == numbers
        assert (low, high) == (float(row["value_low"]) if row["value_low"] else None,
                               float(row["value_high"]) if row["value_high"] else None)


def test_claims_view_shows_qualifier_and_range(snap: sqlite3.Connection) -> None:
    figure, qualifier, low, high = snap.execute(
        "SELECT figure, qualifier, value_low, value_high FROM claims_view "
        "WHERE qualifier = 'approximately' AND value_low IS NOT NULL LIMIT 1").fetchone()
    assert figure == f"≈ {low:g}–{high:g}"


def test_reference_list_reads_as_printed(shared_built: Database, snap: sqlite3.Connection) -> None:
    with shared_built.session() as session:
        review = queries.choose_review(session, code=None)
        assert review is not None
        refs = queries.export_references(session, review_id=review[0], cited_only=True)
    printed = reflist.render(refs, "text").splitlines()
    entries = [r[0] for r in snap.execute(
        "SELECT entry FROM reference_list WHERE review = ? ORDER BY number", (review[1],))]
    assert entries == printed


def test_reference_claim_counts_match_the_links(snap: sqlite3.Connection) -> None:
    for label, claims in snap.execute("SELECT label, claims FROM reference_list"):
        cited_in = snap.execute(
            "SELECT count(*) FROM claims_view, json_each(claims_view.reference) "
            "WHERE json_each.value = ?", (label,)).fetchone()[0]
        assert cited_in == claims


def test_existing_file_is_refused_without_force(shared_built: Database, tmp_path: Path) -> None:
    target = tmp_path / "snap.sqlite"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputExists, match="exists; pass --force"):
        snapshot(shared_built.url, target)
    assert target.read_bytes() == b"keep me"
    snapshot(shared_built.url, target, force=True)
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def test_the_source_file_is_never_the_target(db_url: str) -> None:
    path = sqlite_path(db_url)
    if path is None:
        pytest.skip("only a SQLite source has a file to protect")
    with pytest.raises(UsageError, match="is the source database"):
        snapshot(db_url, path, force=True)


@pytest.mark.parametrize("name", ["snap.csv", "missing/snap.sqlite"])
def test_bad_targets_are_usage_errors(db_url: str, tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError):
        snapshot(db_url, tmp_path / name)


def test_a_failed_snapshot_leaves_nothing(built: Database, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_path: Path) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr("ivcdb.snapshot.add_read_layer", broken)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError):
        snapshot(built.url, out / "snap.sqlite")
    assert list(out.iterdir()) == []


def test_cli_snapshot_then_refuse(shared_built: Database, tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "snap.sqlite"
    code, _, err = cli("snapshot", "--db", shared_built.url, "--to", str(target))
    assert code == 0 and "claims_view" in err and target.is_file()
    code, _, err = cli("snapshot", "--db", shared_built.url, "--to", str(target))
    assert code == 1 and err.startswith("error:") and "--force" in err


@pytest.mark.parametrize("column", ["reference", "author", "year"])
def test_array_facets_see_every_claim(snap: sqlite3.Connection, column: str) -> None:
    """Datasette's array facet puts json_each before the join; the view must still yield rows."""
    faceted = snap.execute(
        f"WITH inner AS (SELECT * FROM claims_view) SELECT count(DISTINCT inner.id) "
        f"FROM json_each([inner].{column}) j JOIN inner").fetchone()[0]
    expected = snap.execute(
        f"SELECT count(*) FROM claims_view WHERE json_array_length({column}) > 0").fetchone()[0]
    assert faceted == expected > 0
