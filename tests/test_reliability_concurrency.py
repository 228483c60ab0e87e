"""Concurrency: several loaders and readers at once on one database, on both engines.

Writers queue on one lock (SQLite: WAL + `BEGIN IMMEDIATE` + busy timeout; PostgreSQL: a
transaction-scoped advisory lock), so concurrent loads never fail inside the timeout, never
duplicate a row, and end in the state of loading each file once. Readers never see half a
load. A writer that cannot get the lock within `IVCDB_BUSY_TIMEOUT` fails with one clear line
and changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import snapshot, table_counts

from ivcdb.db import (
    ENV_BUSY_TIMEOUT,
    PG_LOCK_STATEMENT,
    Database,
    make_engine,
    open_db,
    sqlite_path,
    upgrade,
)
from ivcdb.errors import DatabaseError
from ivcdb.loaders import Sources, load

PER_FILE = 1500
WRITERS = (("a", "a"), ("b", "b"), ("s", "s"), ("s", "s2"))  # (key prefix, file): two load s
READERS = 2

READER = r'''
"""Read until STOP exists; every snapshot must show each file's load wholly or not at all."""
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from ivcdb.db import open_db
from ivcdb.models import Reference

url, stop, per_file = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
table = Reference.__table__
reads = 0
with open_db(url) as db:
    while True:
        done = stop.exists()
        with db.session() as session:
            for prefix in ("a", "b", "s"):
                n = session.execute(sa.select(sa.func.count()).select_from(table).where(
                    table.c.citekey.like(f"conc-{prefix}-%"))).scalar_one()
                assert n in (0, per_file), f"saw {n} rows of file {prefix}: half a load"
        reads += 1
        if done:
            break
        time.sleep(0.01)
print(reads)
'''


def write_library(path: Path, prefix: str, entries: int = PER_FILE) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(entries):
            out.write(f"@article{{conc-{prefix}-{i:05d},\n  author = {{Doe, Jane and Roe, "
                      f"Rick}},\n  title = {{Paper {prefix} {i}}},\n  journal = {{J}},\n"
                      f"  year = {{2001}}\n}}\n")
    return path


def reference_content(database: Database) -> list[tuple[object, ...]]:
    """References and their authors without surrogate ids: comparable across databases."""
    with database.engine.connect() as conn:
        refs = conn.exec_driver_sql(
            "SELECT citekey, content_hash FROM reference ORDER BY citekey_norm").all()
        authors = conn.exec_driver_sql(
            "SELECT r.citekey, a.position, a.family FROM author a JOIN reference r "
            "ON r.id = a.reference_id ORDER BY r.citekey_norm, a.position").all()
    return [tuple(r) for r in refs] + [tuple(a) for a in authors]


def test_concurrent_loaders_and_readers(db: Database, tmp_path: Path) -> None:
    """4 writer processes (two on the same file) and 2 readers at once on one database."""
    files = {name: write_library(tmp_path / f"{name}.bib", prefix)
             for prefix, name in WRITERS}
    files["s2"].write_bytes(files["s"].read_bytes())  # same content, a second file name
    reader_script = tmp_path / "reader.py"
    reader_script.write_text(READER, encoding="utf-8")
    stop = tmp_path / "stop"
    env = {**os.environ, ENV_BUSY_TIMEOUT: "60"}
    readers = [subprocess.Popen([sys.executable, str(reader_script), db.url, str(stop),
                                 str(PER_FILE)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(READERS)]
    writers = [subprocess.Popen([sys.executable, "-m", "ivcdb.cli", "load", "--db", db.url,
                                 "--references", str(files[name])], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
               for _, name in WRITERS]
    outputs = [w.communicate(timeout=300) for w in writers]
    stop.touch()
    reads = [r.communicate(timeout=60) for r in readers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert "locked" not in err
        assert writer.returncode == 0, err
    for reader, (out, err) in zip(readers, reads, strict=True):
        assert reader.returncode == 0, err
        assert int(out) >= 1
    path = sqlite_path(db.url)
    if path is not None:  # readers never blocked because the file is in WAL mode
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            conn.close()
    counts = table_counts(db)
    assert counts["reference"] == 3 * PER_FILE  # s loaded twice, stored once
    assert counts["author"] == 2 * 3 * PER_FILE
    assert counts["load_event"] == len(WRITERS)
    # The same final content as loading each distinct file once, alone, in a fresh database.
    single = tmp_path / "single.sqlite"
    upgrade(single)
    with open_db(single) as alone:
        for name in ("a", "b", "s"):
            load(alone, Sources(references=files[name]))
        assert reference_content(db) == reference_content(alone)


@contextmanager
def hold_write_lock(database: Database) -> Iterator[None]:
    """Hold the writers' lock from another connection, as a long load would."""
    path = sqlite_path(database.url)
    if path is not None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = make_engine(database.url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(PG_LOCK_STATEMENT)
            yield
    finally:
        engine.dispose()


def test_writer_times_out_with_clear_message(built: Database, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With the lock held elsewhere, a 0.5 s writer fails in one line and writes nothing."""
    bib = write_library(tmp_path / "late.bib", "late", 20)
    before = snapshot(built)
    monkeypatch.setenv(ENV_BUSY_TIMEOUT, "0.5")
    with hold_write_lock(built), open_db(built.url) as late:
        with pytest.raises(DatabaseError, match=r"holds the write lock .* within 0\.5 s; "
                           "nothing was changed"):
            load(late, Sources(references=bib))
    assert snapshot(built) == before


def test_cli_writer_times_out_with_clear_message(built: Database, tmp_path: Path) -> None:
    bib = write_library(tmp_path / "late.bib", "late", 20)
    before = snapshot(built)
    env = {**os.environ, ENV_BUSY_TIMEOUT: "0.5"}
    with hold_write_lock(built):
        done = subprocess.run([sys.executable, "-m", "ivcdb.cli", "load", "--db", built.url,
                               "--references", str(bib)], capture_output=True, text=True,
                              env=env, check=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "within 0.5 s; nothing was changed" in lines[0]
    assert snapshot(built) == before


def test_waiting_writer_succeeds_when_lock_is_released(built: Database,
                                                       tmp_path: Path) -> None:
    """Within the timeout a queued writer just waits, then loads."""
    bib = write_library(tmp_path / "queued.bib", "queued", 50)
    env = {**os.environ, ENV_BUSY_TIMEOUT: "30"}
    with hold_write_lock(built):
        proc = subprocess.Popen([sys.executable, "-m", "ivcdb.cli", "load", "--db", built.url,
                                 "--references", str(bib)], stderr=subprocess.PIPE, text=True,
                                env=env)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=2.5)  # blocked on the lock, not failed
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "50 added" in err


def test_busy_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivcdb.db import BUSY_TIMEOUT_S, busy_timeout

    monkeypatch.delenv(ENV_BUSY_TIMEOUT, raising=False)
    assert busy_timeout() == BUSY_TIMEOUT_S
    for raw, expected in (("2.5", 2.5), ("0", 0.0), ("junk", BUSY_TIMEOUT_S),
                          ("-1", BUSY_TIMEOUT_S)):
        monkeypatch.setenv(ENV_BUSY_TIMEOUT, raw)
        assert busy_timeout() == expected
