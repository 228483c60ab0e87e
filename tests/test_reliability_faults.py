"""Injected faults: whatever fails inside a load, the whole load is rolled back.

- a failure on the N-th write statement, for EVERY N of a full load and of an edited reload
  (a Python error and a database error), and on the N-th row inside one batch;
- a full disk (SQLite `max_page_count`; PostgreSQL's "No space left on device");
- a PostgreSQL connection terminated by the server in the middle of a load.
Each time the database equals its snapshot from before, and the next load works.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATA, snapshot, table_counts
from sqlalchemy import event

from ivcdb import store
from ivcdb.db import Database, sqlite_path
from ivcdb.errors import DatabaseError
from ivcdb.loaders import Sources, load

WRITES = ("INSERT", "UPDATE", "DELETE")


class Injected(RuntimeError):
    """The fault a test injects (a bug in the loader would look like this)."""


@contextmanager
def fail_on_write(database: Database, nth: int, *, db_error: bool = False,
                  message: str = "injected fault") -> Iterator[list[int]]:
    """Raise on the `nth` write statement sent to the database; yields [writes seen]."""
    seen = [0]

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(WRITES):
            return
        seen[0] += 1
        if seen[0] == nth:
            if db_error:
                raise sa.exc.OperationalError(statement, parameters, Exception(message))
            raise Injected(f"{message} on write {nth}")

    def copy_statement(_rows: Iterator[Any]) -> Iterator[Any]:
        before(None, None, "INSERT (a COPY)", None)
        return _rows

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        with copies_seen(copy_statement):
            yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


@contextmanager
def copies_seen(watch: Callable[[Iterator[Any]], Iterator[Any]]) -> Iterator[None]:
    """Pass the rows of every COPY (PostgreSQL's bulk insert, which SQLAlchemy's events do
    not see) through `watch` on their way to the database."""
    real = store._copy

    def copy(conn: Any, table: Any, columns: Any, values: Any) -> None:
        real(conn, table, columns, watch(iter(values)))

    store._copy = copy  # type: ignore[assignment]
    try:
        yield
    finally:
        store._copy = real  # type: ignore[assignment]


def fail_each_write_in_turn(database: Database, sources: Sources, *, prune: bool = False,
                            db_errors: bool = False) -> tuple[int, list[Any]]:
    """Fail write 1, then 2, ... until a load gets past its last write and succeeds.

    After every failure the database must equal its snapshot from before. Returns the number
    of faults injected and the reports of the final, successful load.
    """
    before = snapshot(database)
    for nth in itertools.count(1):
        db_error = db_errors and nth % 2 == 0
        with fail_on_write(database, nth, db_error=db_error) as seen:
            try:
                reports = load(database, sources, prune=prune)
            except (DatabaseError, Injected) as error:
                assert isinstance(error, DatabaseError if db_error else Injected)
                assert snapshot(database) == before, f"failed write {nth} left a trace"
                continue
        assert seen[0] == nth - 1  # every write of the load was failed once
        return nth - 1, reports
    raise AssertionError("unreachable")


def edited_data(folder: Path) -> Sources:
    """data/ with one title changed, one reference added and one claim gone: updates,
    author replacement, inserts and (with prune) deletes."""
    bib = folder / "references.bib"
    text = bib.read_text(encoding="utf-8")
    text = text.replace("title = {Role of Surgery", "title = {On the Role of Surgery", 1)
    text += ("\n@article{added2099, author = {New, Author and Other, Person}, title = "
             "{An added reference}, journal = {J}, year = {2020}}\n")
    bib.write_text(text, encoding="utf-8")
    claims = folder / "claims.csv"
    lines = claims.read_text(encoding="utf-8").splitlines(keepends=True)
    claims.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    return Sources.from_folder(folder)


def test_fault_on_every_write_of_a_fresh_load(db: Database) -> None:
    """Each write statement of loading data/ into an empty database, failed in turn."""
    faults, reports = fail_each_write_in_turn(db, Sources.from_folder(DATA), db_errors=True)
    assert faults > 10
    assert sum(r.added for r in reports) == sum(table_counts(db)[t] for t in (
        "unit", "measure", "outcome", "reference", "review", "claim", "source_finding"))


def test_fault_on_every_write_of_an_edited_reload(built: Database, data_copy: Path) -> None:
    """Updates, author replacement, inserts and prune deletes: any one failing undoes all."""
    faults, reports = fail_each_write_in_turn(built, edited_data(data_copy), prune=True)
    assert faults > 5
    by_kind = {r.kind: r for r in reports}
    assert (by_kind["references"].added, by_kind["references"].updated) == (1, 1)
    assert by_kind["claims"].removed == 1


@contextmanager
def fail_on_row(database: Database, nth: int) -> Iterator[list[int]]:
    """Raise when the write statements so far have carried `nth` rows (batches count each
    row); yields [rows seen]."""
    seen = [0]

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               executemany: bool) -> None:
        if not statement.lstrip().upper().startswith(WRITES):
            return
        seen[0] += len(parameters) if executemany else 1
        if seen[0] >= nth > seen[0] - (len(parameters) if executemany else 1):
            raise Injected(f"injected fault at row {nth}")

    def copy_rows(rows: Iterator[Any]) -> Iterator[Any]:
        for row in rows:  # fails in the middle of the COPY, as the database would
            seen[0] += 1
            if seen[0] == nth:
                raise Injected(f"injected fault at row {nth}")
            yield row

    event.listen(database.engine, "before_cursor_execute", before)
    try:
        with copies_seen(copy_rows):
            yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", before)


def test_fault_at_every_seventh_row_of_a_fresh_load(db: Database) -> None:
    """Rows 1, 8, 15, ... of all the rows loading data/ writes: each failure undoes all."""
    sources = Sources.from_folder(DATA)
    before = snapshot(db)
    with fail_on_row(db, 10**9) as seen:
        load(db, sources, dry_run=True)
    rows = seen[0] + len(sources.paths())  # the dry run skips one load_event row per file
    assert rows > 300
    for nth in range(1, rows + 1, 7):
        with fail_on_row(db, nth), pytest.raises(Injected):
            load(db, sources)
        assert snapshot(db) == before, f"row {nth} of {rows} left a trace"
    load(db, sources)
    assert table_counts(db)["claim"] > 0


def test_fault_on_nth_row_of_a_batch(db: Database, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refuses row 1500 of a 3000-row batch: the other 2999 rows are undone."""
    bib = tmp_path / "batch.bib"
    bib.write_text("".join(
        f"@article{{row{i}, author = {{A, B}}, title = {{T{i}}}, journal = {{J}}, "
        f"year = {{2000}}}}\n" for i in range(3000)), encoding="utf-8")
    before = snapshot(db)
    real = store.insert_rows  # new rows (on PostgreSQL, one COPY)

    def bad_row(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
        if len(rows) == 3000:
            rows = [dict(r) for r in rows]
            rows[1499]["title"] = None  # NOT NULL: the database itself refuses this row
        real(session, model, rows)

    monkeypatch.setattr(store, "insert_rows", bad_row)
    with pytest.raises(DatabaseError, match="(?i)null"):
        load(db, Sources(references=bib))
    assert snapshot(db) == before
    monkeypatch.setattr(store, "insert_rows", real)
    assert load(db, Sources(references=bib))[0].added == 3000


def test_disk_full_sqlite(db: Database, tmp_path: Path) -> None:
    """SQLite hits its size limit mid-load: one clear error, intact file, nothing written."""
    path = sqlite_path(db.url)
    if path is None:
        pytest.skip("max_page_count is SQLite's; PostgreSQL's disk-full is simulated below")
    load(db, Sources.from_folder(DATA))
    before = snapshot(db)
    bib = tmp_path / "big.bib"
    bib.write_text("".join(
        f"@article{{big{i}, author = {{Writer, Ann and Reader, Bob}}, title = {{Title {i} "
        f"{'x' * 200}}}, journal = {{J}}, year = {{2000}}}}\n" for i in range(3000)),
        encoding="utf-8")

    def limit(dbapi_conn: Any, _record: Any) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 20}")

    db.engine.dispose()
    event.listen(db.engine, "connect", limit)
    try:
        with pytest.raises(DatabaseError, match="full; nothing was changed"):
            load(db, Sources(references=bib))
    finally:
        event.remove(db.engine, "connect", limit)
        db.engine.dispose()
    assert snapshot(db) == before
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    assert load(db, Sources(references=bib))[0].added == 3000


def test_disk_full_message(built: Database, tmp_path: Path) -> None:
    """PostgreSQL's disk-full error (as the server words it) gets the same clear line."""
    before = snapshot(built)
    bib = tmp_path / "one.bib"
    bib.write_text("@article{onemore, author = {A, B}, title = {T}, journal = {J}, "
                   "year = {2000}}\n", encoding="utf-8")
    message = 'could not extend file "base/16384/2619": No space left on device'
    with fail_on_write(built, 1, db_error=True, message=message):
        with pytest.raises(DatabaseError, match="full; nothing was changed"):
            load(built, Sources(references=bib))
    assert snapshot(built) == before


@pytest.mark.parametrize("nth", [1, 3, 6])
def test_postgresql_connection_dropped_mid_load(built: Database, pg_admin: sa.Engine | None,
                                                data_copy: Path, nth: int) -> None:
    """The server terminates the loader's connection at its N-th write: nothing half-written."""
    if built.dialect != "postgresql" or pg_admin is None:
        pytest.skip("a dropped server connection is a PostgreSQL fault")
    sources = edited_data(data_copy)
    before = snapshot(built)
    killed = [0]

    def drop(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            killed[0] += 1
            if killed[0] == nth:
                pid = conn.connection.dbapi_connection.info.backend_pid
                with pg_admin.begin() as admin:
                    admin.execute(sa.select(sa.func.pg_terminate_backend(pid)))

    event.listen(built.engine, "before_cursor_execute", drop)
    try:
        with pytest.raises(DatabaseError):
            load(built, sources, prune=True)
    finally:
        event.remove(built.engine, "before_cursor_execute", drop)
    assert killed[0] >= nth
    assert snapshot(built) == before
    reports = {r.kind: r for r in load(built, sources, prune=True)}
    assert reports["references"].added == 1


def test_postgresql_copy_waiting_on_a_lock_is_a_clear_error(
        built: Database, pg_admin: sa.Engine | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """New author rows go in by COPY; a COPY that times out on another session's lock is the
    same one-line error as a timed-out INSERT, and nothing is written."""
    if built.dialect != "postgresql" or pg_admin is None:
        pytest.skip("COPY is PostgreSQL's")
    bib = tmp_path / "new.bib"
    bib.write_text("@article{locked2020, author = {A, B and C, D}, title = {T}, journal = {J},"
                   " year = {2020}}\n", encoding="utf-8")
    before = snapshot(built)
    monkeypatch.setenv("IVCDB_BUSY_TIMEOUT", "1")
    schema = built.engine.url.query.get("options", "")
    with pg_admin.connect() as other:
        if "search_path" in str(schema):
            path = str(schema).split("search_path=")[1].split()[0]
            other.exec_driver_sql(f"SET search_path TO {path}")
        other.exec_driver_sql("LOCK TABLE author IN EXCLUSIVE MODE")
        with pytest.raises(DatabaseError, match="try again"):
            load(built, Sources(references=bib))
        other.rollback()
    assert snapshot(built) == before
