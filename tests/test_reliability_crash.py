"""Crash safety: a loader killed with SIGKILL at any point leaves the database as it was.

Two kinds of kill, on both engines, always of a real separate process:
- at named points inside the write transaction (lock taken, mid-batch, authors written, load
  history written = just before commit). A small driver script wraps `ivcdb.store` functions
  so the loader touches a signal file and stops there; the test then kills it;
- at fixed delays into a real `python -m ivcdb.cli load` of a large file, wherever it is.
After each kill: the database equals its snapshot from before the load, SQLite's
`PRAGMA integrity_check` says ok, and rerunning the load completes.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import snapshot, table_counts

from ivcdb.db import Database, sqlite_path
from ivcdb.loaders import Sources, load

ENTRIES = 3000  # 3000 references, 6000 author rows: several batches each
BIG_ENTRIES = 15000  # the CLI takes a few seconds on this: room for kills at several points
KILL_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)  # of the running time of the same load

DRIVER = r'''
"""Load a BibTeX file; stop (touch SIGNAL, sleep) at POINT so the test can kill us there."""
import sys
import time
from pathlib import Path

from ivcdb import store
from ivcdb.loaders import writer
from ivcdb.db import open_db
from ivcdb.loaders import Sources, load

url, bib, point, signal_file = sys.argv[1:5]


def stop() -> None:
    Path(signal_file).write_text(point)
    time.sleep(600)


def stop_after(name: str) -> None:
    real = getattr(store, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        stop()
        return out

    setattr(store, name, wrapper)


if point == "locked":  # write lock held, nothing written yet
    real_init = writer._Loader.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        stop()

    writer._Loader.__init__ = init
elif point == "between-batches":  # first batch of 1000 author rows inserted, the rest not
    real_chunks = store.chunks

    def chunks(items, size=store.CHUNK):
        # Batches of at most 1000 rows, whatever size the store uses, so that every bulk
        # write has a "between batches"; the first such point of the load is in the authors.
        for i, part in enumerate(real_chunks(items, min(size, 1000))):
            if i == 1 and len(items) > 4000:
                stop()
            yield part

    store.chunks = chunks
    real_copy = store._copy

    def copy(conn, table, columns, values):
        # PostgreSQL's COPY sends rows as a stream: stop after its first 1000 rows.
        def rows():
            for i, row in enumerate(values):
                if i == 1000 and len(values) > 4000:
                    stop()
                yield row

        real_copy(conn, table, columns, rows())

    store._copy = copy
elif point == "references":  # every reference upserted, no author yet
    stop_after("upsert")
elif point == "before-commit":  # all rows and the load history written, not committed
    stop_after("record_load")
with open_db(url) as db:
    load(db, Sources(references=Path(bib)))
'''

POINTS = ("locked", "references", "between-batches", "before-commit")


def write_library(path: Path, entries: int) -> Path:
    """A large, valid BibTeX file: LaTeX accents, protected words, `and others`."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(entries):
            out.write(
                f"@article{{crash{i:05d},\n"
                f"  author = {{M{{\\\"u}}ller, Hans and Smith, Jo and others}},\n"
                f"  title = {{Study {i} of {{DNA}} repair}},\n"
                f"  journal = {{Journal of Tests}},\n"
                f"  year = {{{1950 + i % 70}}},\n"
                f"  pages = {{{i}--{i + 7}}}\n}}\n\n")
    return path


def integrity_ok(database: Database) -> None:
    """SQLite's own check of the file after the crash (PostgreSQL: nothing to check)."""
    path = sqlite_path(database.url)
    if path is None:
        return
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path,
             timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            err = log.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"driver ended (rc {proc.returncode}) before its stop point: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("driver did not reach its stop point in time")
        time.sleep(0.02)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:  # already ended: the caller has failed the test
        return
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it ended between the poll and the kill
        proc.wait(timeout=30)
        return
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def rerun_completes(database: Database, bib: Path, before: dict[str, int], n: int) -> None:
    """The load runs to the end after the crash, and a second run finds nothing to do."""
    first = load(database, Sources(references=bib))
    assert (first[0].added, first[0].updated) == (n, 0)
    counts = table_counts(database)
    assert counts["reference"] == before["reference"] + n
    assert counts["author"] == before["author"] + 2 * n
    again = load(database, Sources(references=bib))
    assert (again[0].added, again[0].updated, again[0].unchanged) == (0, 0, n)


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_named_point(built: Database, tmp_path: Path, point: str) -> None:
    bib = write_library(tmp_path / "big.bib", ENTRIES)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    before, counts = snapshot(built), table_counts(built)
    signal_file, log = tmp_path / "reached", tmp_path / "driver.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(driver), built.url, str(bib), point, str(signal_file)],
            stderr=err)
        try:
            wait_for(signal_file, proc, log)
        finally:
            kill(proc)
    assert snapshot(built) == before
    integrity_ok(built)
    rerun_completes(built, bib, counts, ENTRIES)


def test_kill_cli_load_at_delays(built: Database, tmp_path: Path) -> None:
    """A real `ivcdb load` killed at 10 %, 30 %, 50 %, 70 % and 90 % of its running time.

    The running time is measured first with `--dry-run` (the same work, rolled back), so the
    kills spread over start-up, parsing and writing on any machine. After each kill the
    database is exactly as before, or -- if the commit landed just before the kill -- holds the
    whole load; never anything in between. At least one kill must come before the commit (the
    named-point test above covers fixed points deterministically; these spread over the run).
    """
    bib = write_library(tmp_path / "big.bib", BIG_ENTRIES)
    before, counts = snapshot(built), table_counts(built)
    cmd = [sys.executable, "-m", "ivcdb.cli", "load", "--db", built.url, "--references",
           str(bib)]
    start = time.monotonic()
    subprocess.run([*cmd, "--dry-run"], capture_output=True, check=True)
    duration = time.monotonic() - start
    assert snapshot(built) == before
    killed_before_commit = 0
    for fraction in KILL_FRACTIONS:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(fraction * duration)
        if proc.poll() is not None:  # finished first: no crash, so the load must be whole
            assert proc.returncode == 0
            break
        kill(proc)
        integrity_ok(built)
        if snapshot(built) != before:
            assert_whole_load(built, counts, fraction)
            break
        killed_before_commit += 1
    assert killed_before_commit >= 1, f"a load takes {duration:.2f} s: make the file larger"
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert_whole_load(built, counts, 1.0)
    integrity_ok(built)


def assert_whole_load(database: Database, counts: dict[str, int], fraction: float) -> None:
    now = table_counts(database)
    assert (now["reference"], now["author"]) == (
        counts["reference"] + BIG_ENTRIES, counts["author"] + 2 * BIG_ENTRIES), (
        f"killed at {fraction:.0%}: neither the state before nor the whole load")
