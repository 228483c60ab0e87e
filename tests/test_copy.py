"""`ivcdb copy SRC DST`: whole-database copies between engines, verified, never destructive."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, snapshot, table_counts

from ivcdb import copy as ivcdb_copy
from ivcdb.copy import copy_database, table_checksum, tables
from ivcdb.db import Database, open_db, resolve_url, upgrade
from ivcdb.errors import DatabaseError, OutputExists, SchemaOutOfDate, UsageError
from ivcdb.exports import export
from ivcdb.loaders import Sources, load


@pytest.fixture
def curated(tmp_path: Path) -> Path:
    """A SQLite file with data/ loaded: a source that is not the `empty_url` target."""
    path = tmp_path / "curated.sqlite"
    upgrade(path)
    with open_db(path) as database:
        load(database, Sources.from_folder(DATA))
    return path


def _open(url: str | Path) -> Database:
    return open_db(url)


def portable(database: Database) -> dict[str, list[tuple[object, ...]]]:
    """`snapshot` with times as naive UTC: SQLite keeps no zone, PostgreSQL returns one."""
    def plain(value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    return {name: [tuple(plain(v) for v in row) for row in rows]
            for name, rows in snapshot(database).items()}


def _bib(path: Path, keys: list[str]) -> Path:
    path.write_text("".join(
        f"@article{{{k}, author = {{Roe, Ann}}, title = {{On {k}}}, journal = {{J}}, "
        f"year = {{2001}}}}\n" for k in keys), encoding="utf-8")
    return path


def test_copy_to_new_sqlite_file_is_identical(built: Database, tmp_path: Path) -> None:
    """Every row of every table arrives, ids included; counts and checksums are reported."""
    target = tmp_path / "copy.sqlite"
    report = copy_database(built.url, target)
    with _open(resolve_url(target)) as copied:
        assert portable(copied) == portable(built)
        counts = table_counts(copied)
    assert {t.table: t.rows for t in report.tables} == counts
    assert report.rows == sum(counts.values()) > 300
    assert not report.emptied


def test_round_trip_sqlite_postgresql_sqlite(built: Database, tmp_path: Path,
                                             pg_url: str) -> None:
    """SQLite -> PostgreSQL -> SQLite gives back the same rows and the same checksums."""
    start = tmp_path / "start.sqlite"
    copy_database(built.url, start)
    there = copy_database(start, pg_url)
    back = copy_database(pg_url, tmp_path / "back.sqlite")
    assert [(t.table, t.rows, t.checksum) for t in there.tables] == [
        (t.table, t.rows, t.checksum) for t in back.tables]
    with _open(resolve_url(start)) as a, _open(resolve_url(tmp_path / "back.sqlite")) as b:
        assert portable(a) == portable(b)
        _assert_same_exports(a, b)


def _assert_same_exports(a: Database, b: Database) -> None:
    """Byte-identical BibTeX, claims CSV and references JSON exports of both databases."""
    for kind, fmt in (("references", "bibtex"), ("claims", "csv"), ("references", "json")):
        assert export(a, kind, fmt=fmt) == export(b, kind, fmt=fmt), (kind, fmt)


def test_checksums_agree_across_engines(built: Database, tmp_path: Path) -> None:
    """The checksum of each table is the same whichever engine computes it."""
    target = tmp_path / "copy.sqlite"
    copy_database(built.url, target)
    with _open(resolve_url(target)) as copied:
        for table in tables():
            with built.session() as s1, copied.session() as s2:
                assert table_checksum(s1, table) == table_checksum(s2, table), table.name


def test_ids_continue_after_copy(curated: Path, empty_url: str, tmp_path: Path) -> None:
    """A copy keeps ids; the next load on the target gets fresh ids (sequences moved on)."""
    copy_database(curated, empty_url)
    with _open(empty_url) as target:
        reports = load(target, Sources(references=_bib(tmp_path / "new.bib", ["newkey2030"])))
        assert reports[0].added == 1
        counts = table_counts(target)
    with _open(curated) as source:
        assert counts["reference"] == table_counts(source)["reference"] + 1


def test_non_empty_target_is_refused_and_unchanged(built: Database, tmp_path: Path) -> None:
    target = tmp_path / "target.sqlite"
    upgrade(target)
    with _open(resolve_url(target)) as t:
        load(t, Sources(references=_bib(tmp_path / "other.bib", ["other1", "other2"])))
        before = snapshot(t)
    with pytest.raises(OutputExists, match="not empty.*--force"):
        copy_database(built.url, target)
    with _open(resolve_url(target)) as t:
        assert snapshot(t) == before


def test_force_replaces_the_target(curated: Path, empty_url: str, tmp_path: Path) -> None:
    """--force empties the target in the copy's transaction: no old row survives."""
    upgrade(empty_url)
    with _open(empty_url) as t:
        load(t, Sources(references=_bib(tmp_path / "other.bib", ["zz-only-in-target"])))
    report = copy_database(curated, empty_url, force=True)
    assert report.emptied
    with _open(empty_url) as t, _open(curated) as source:
        assert portable(t) == portable(source)


def test_failed_verification_writes_nothing(curated: Path, empty_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A row lost on the way is caught by the recount; the target stays empty."""
    real = ivcdb_copy.store.insert_table_rows

    def lossy(session: object, table: sa.Table, rows: list[dict[str, object]]) -> None:
        real(session, table, rows[1:] if table.name == "claim" else rows)  # type: ignore[arg-type]

    monkeypatch.setattr(ivcdb_copy.store, "insert_table_rows", lossy)
    with pytest.raises(DatabaseError, match="copy of table claim does not match"):
        copy_database(curated, empty_url)
    with _open(empty_url) as t:
        assert sum(table_counts(t).values()) == 0


def test_same_database_is_refused(built: Database) -> None:
    with pytest.raises(UsageError, match="same database"):
        copy_database(built.url, built.url)


def test_source_without_schema_is_refused(tmp_path: Path, empty_url: str) -> None:
    source = tmp_path / "bare.sqlite"
    upgrade(source, "base")
    with pytest.raises(SchemaOutOfDate):
        copy_database(source, empty_url)


def test_cli_copy_and_refusal(built: Database, tmp_path: Path) -> None:
    """The command prints counts and checksums; a second copy is refused in one line."""
    target = tmp_path / "cli.sqlite"
    cmd = [sys.executable, "-m", "ivcdb.cli", "copy", built.url, str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "checksums verified" in done.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert again.returncode == 1  # refused, like every "exists, pass --force"
    assert again.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in again.stderr
    forced = subprocess.run(cmd + ["--force"], capture_output=True, text=True, check=False)
    assert forced.returncode == 0, forced.stderr


def test_copy_into_each_engine(curated: Path, empty_url: str) -> None:
    """SQLite -> each engine: the same rows, and the checksums agree on both sides."""
    report = copy_database(curated, empty_url)
    with _open(empty_url) as copied, _open(curated) as source:
        assert portable(copied) == portable(source)
        with copied.session() as session:
            assert [(t.table, t.rows, t.checksum) for t in report.tables] == [
                (t.name, *table_checksum(session, t)) for t in tables()]
