"""Destructive commands are explicit (issue 17 item 2), on both engines.

`db downgrade` needs a revision and `--force` to drop tables that hold rows; reading never
creates or migrates; a refused or dry-run load leaves no new file; a load refuses a database
at an older revision or one that is not ivcdb's; only a new or empty database is initialised
by a load, under the writers' lock, so first-time concurrent loads queue.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, CliRun, snapshot, table_counts

from ivcdb.db import SCHEMA_REVISION, Database, current, make_engine, open_db, sqlite_path
from ivcdb.errors import ForceNeeded

BAD_BIB = "@article{broken,\n  title = {Oops,\n  year = {2000}\n}\n"
# The curated build's rows, and its history (`change_record`: one row per row written, so
# its count is read from the database rather than written here).
DROPPED = ("author (52 rows), citation (18 rows), claim (78 rows), claim_reference (28 rows), "
           "finding_source (38 rows), load_event (7 rows), measure (37 rows), outcome (56 rows), "
           "reference (18 rows), review (1 rows), source_finding (38 rows), unit (13 rows)")


def _dropped(database: Database, *, empty: bool = False) -> list[str]:
    """What a downgrade to base lists, in table-name order: the tables holding rows (and,
    with `empty`, the empty ones too, as a forced downgrade prints every table it drops)."""
    counts = table_counts(database)
    listed = sorted(f"{name} ({rows} rows)" for name, rows in counts.items() if rows or empty)
    assert counts["change_record"] > 0  # the build recorded its rows
    assert set(DROPPED.split(", ")) <= set(listed)
    return listed


def test_downgrade_needs_a_revision(built: Database, cli: CliRun) -> None:
    before = snapshot(built)
    code, _, err = cli("db", "downgrade", "--db", built.url)
    assert code == 2 and "Missing argument 'REVISION'" in err.replace("'revision'",
                                                                       "'REVISION'")
    assert snapshot(built) == before


def test_downgrade_dropping_rows_needs_force(built: Database, cli: CliRun) -> None:
    before = snapshot(built)
    code, out, err = cli("db", "downgrade", "base", "--db", built.url)
    assert (code, out) == (1, "")
    dropped = _dropped(built)
    assert err == (f"error: downgrade to base would drop {len(dropped)} table(s) holding rows: "
                   f"{', '.join(dropped)}; nothing was changed. Back up first (`ivcdb copy`), "
                   "then pass --force\n")
    assert snapshot(built) == before
    with pytest.raises(ForceNeeded):
        from ivcdb.db import downgrade

        downgrade(built.url, "base")
    assert snapshot(built) == before


def test_forced_downgrade_prints_what_goes(built: Database, cli: CliRun) -> None:
    dropped = _dropped(built, empty=True)
    built.dispose()
    code, _, err = cli("db", "downgrade", "base", "--force", "--db", built.url)
    assert code == 0
    lines = err.splitlines()
    assert lines[:-1] == [f"dropped table {t}" for t in dropped]
    assert lines[-1] == "schema at revision base (empty)"
    assert current(built.url) is None


def test_downgrade_of_empty_tables_needs_no_force(db: Database, cli: CliRun) -> None:
    db.dispose()
    code, _, err = cli("db", "downgrade", "0001", "--db", db.url)
    # the tables of 0003 and later go whole (empty: no --force needed); 0002 drops indexes
    *dropped, last = err.splitlines()
    assert code == 0 and last == "schema at revision 0001"
    assert {"dropped table finding_source (0 rows)", "dropped table change_record (0 rows)"} <= set(
        dropped)
    assert all(line.startswith("dropped table ") and line.endswith(" (0 rows)")
               for line in dropped)
    code, _, err = cli("db", "downgrade", "--db", db.url, "--", "-1")
    assert code == 0 and err.splitlines()[-1] == "schema at revision base (empty)"
    assert "dropped table claim (0 rows)" in err


def test_reading_never_creates_or_migrates(empty_url: str, cli: CliRun) -> None:
    """A missing file stays missing; an empty database stays empty; an old one stays old."""
    path = sqlite_path(empty_url)
    for argv in (("query", "outcomes"), ("db", "current"), ("check",), ("export", "units")):
        code, _, _ = cli(*argv, "--db", empty_url)
        if path is not None:
            assert code == 1 and not path.exists(), argv
    if path is not None:
        path.touch()  # an empty file is not written into either
    for argv in (("query", "outcomes"), ("db", "current"), ("check",), ("export", "units")):
        cli(*argv, "--db", empty_url)
        if path is not None:
            assert path.stat().st_size == 0, argv
    engine = make_engine(empty_url, readonly=True)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "refused"])
def test_load_into_a_new_file_that_writes_nothing_leaves_no_file(
        tmp_path: Path, cli: CliRun, dry_run: bool) -> None:
    target = tmp_path / "new.sqlite"
    if dry_run:
        code, _, err = cli("load", "--db", str(target), "--units", str(DATA / "units.csv"),
                           "--dry-run")
        assert code == 0 and "(dry run: nothing written)" in err
    else:
        bad = tmp_path / "bad.bib"
        bad.write_text(BAD_BIB, encoding="utf-8")
        code, _, err = cli("load", "--db", str(target), "--references", str(bad))
        assert code == 1 and err.endswith("error: 1 error(s); nothing was written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if dry_run else ["bad.bib"])


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "refused"])
def test_load_into_an_empty_database_that_writes_nothing_leaves_it_empty(
        empty_url: str, tmp_path: Path, cli: CliRun, dry_run: bool) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text(BAD_BIB, encoding="utf-8")
    args = ["--units", str(DATA / "units.csv"), "--dry-run"] if dry_run else \
        ["--references", str(bad)]
    engine = make_engine(empty_url, create=True)
    engine.connect().close()  # the empty database exists
    engine.dispose()
    code, _, _ = cli("load", "--db", empty_url, *args)
    assert code == (0 if dry_run else 1)
    assert current(empty_url) is None
    engine = make_engine(empty_url, readonly=True)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def test_load_refuses_an_older_revision(built: Database, cli: CliRun) -> None:
    with built.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    before = snapshot(built)
    built.dispose()
    code, _, err = cli("load", "--db", built.url, "--units", str(DATA / "units.csv"))
    where = err.split(" is at", 1)[0].removeprefix("error: ")
    assert code == 1
    assert err == (f"error: {where} is at schema revision 0001, this ivcdb needs "
                   f"{SCHEMA_REVISION}; run `ivcdb db upgrade` (back up first with `ivcdb "
                   "copy`)\n")
    assert snapshot(built) == before and current(built.url) == "0001"


def test_load_refuses_a_database_that_is_not_ivcdbs(empty_url: str, cli: CliRun) -> None:
    path = sqlite_path(empty_url)
    if path is not None:  # made by another program: its journal mode is its own
        with sqlite3.connect(path) as plain:
            plain.execute("CREATE TABLE notes (x INTEGER)")
    else:
        engine = make_engine(empty_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE notes (x INTEGER)")
        engine.dispose()
    code, _, err = cli("load", "--db", empty_url, "--units", str(DATA / "units.csv"))
    assert code == 1 and "has no ivcdb schema; run `ivcdb init --db" in err
    engine = make_engine(empty_url, readonly=True)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["notes"]
    engine.dispose()
    if path is not None:  # the foreign file keeps its journal mode
        with sqlite3.connect(path) as plain:
            assert plain.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_first_concurrent_loads_queue(empty_url: str) -> None:
    """Four loads into a database that does not exist yet (or has no tables): all succeed,
    one creates the schema and adds, the others find the rows there."""
    args = ["--units", str(DATA / "units.csv"), "--measures", str(DATA / "measures.csv")]
    procs = [subprocess.Popen([sys.executable, "-m", "ivcdb.cli", "load", "--db", empty_url,
                               *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    added = [err for _, err in results if "units: 13 read, 13 added" in err]
    assert len(added) == 1, results
    with open_db(empty_url) as database:
        assert table_counts(database)["unit"] == 13
        assert table_counts(database)["measure"] == 37


def test_new_file_without_hard_links(tmp_path: Path, cli: CliRun,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without hard links the staged file is renamed into place."""
    import ivcdb.db

    def no_links(_src: object, _dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(ivcdb.db.os, "link", no_links)
    target = tmp_path / "new.sqlite"
    code, _, err = cli("load", "--db", str(target), "--units", str(DATA / "units.csv"))
    assert code == 0 and "units: 13 read, 13 added" in err
    assert [p.name for p in tmp_path.iterdir()] == ["new.sqlite"]
    with open_db(target, readonly=True) as database:
        assert table_counts(database)["unit"] == 13
