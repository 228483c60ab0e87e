"""Fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL runs when `IVCDB_TEST_POSTGRES_URL` is set; each test gets a fresh schema (the
server keeps its state between runs). Under `CI=true` the variable is required.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import AnyStr

import pytest
import sqlalchemy as sa

from ivcdb.db import Database, make_engine, open_db, resolve_url, upgrade

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TESTDATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
PG_ENV = "IVCDB_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and IN_CI:
        pytest.fail(f"CI=true but {PG_ENV} is not set: PostgreSQL must be tested in CI")
    return url


def shared_path(*parts: str) -> Path:
    """A file of ../shared; skips when absent, except under CI=true where it must exist."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI runs with ../shared beside the checkout")
        pytest.skip(f"{path} not present (../shared is not part of a user's clone)")
    return path


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    engine = make_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as error:
        pytest.fail(f"{PG_ENV}={url} does not answer: {error}")
    yield engine
    engine.dispose()


def _fresh_pg_schema(pg_admin: sa.Engine | None) -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL schema, dropped afterwards (skip without one)."""
    base = pg_base_url()
    if base is None or pg_admin is None:
        pytest.skip(f"{PG_ENV} not set")
    schema, url = _pg_schema_url(pg_admin, base)
    yield url
    _drop_schema(pg_admin, schema)


def _pg_schema_url(admin: sa.Engine, base: str) -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return schema, f"{resolve_url(base)}{sep}options=-csearch_path%3D{schema}"


def _drop_schema(admin: sa.Engine, schema: str) -> None:
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path,
              pg_admin: sa.Engine | None) -> Iterator[str]:
    """A URL of an empty database (no schema) on each engine."""
    if request.param == "sqlite":
        yield resolve_url(tmp_path / "test.sqlite")
        return
    yield from _fresh_pg_schema(pg_admin)


@pytest.fixture
def db_url(empty_url: str) -> str:
    """A URL of a migrated, empty database on each engine."""
    upgrade(empty_url)
    return empty_url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_db(db_url)
    yield database
    database.dispose()


@pytest.fixture
def built(db: Database, data_copy: Path) -> Database:
    """The database with the curated data loaded from `data_copy` (a test that edits a file
    there reloads the very file its records came from)."""
    from ivcdb.loaders import Sources, load

    load(db, Sources.from_folder(data_copy))
    return db


@contextmanager
def shared_database(engine: str, tmp_path_factory: pytest.TempPathFactory,
                    pg_admin: sa.Engine | None,
                    more: Callable[[Database, Path], object] | None = None) -> Iterator[Database]:
    """A new database with data/ loaded (then `more(db, folder)`), for a module-scoped fixture
    of tests that only read. Leaving fails when a test changed it (a writer gets `built`)."""
    from ivcdb.loaders import Sources, load

    folder = tmp_path_factory.mktemp("shared")
    urls = (iter([resolve_url(folder / "db.sqlite")]) if engine == "sqlite"
            else _fresh_pg_schema(pg_admin))
    url = next(urls)
    try:
        upgrade(url)
        with open_db(url) as database:
            load(database, Sources.from_folder(DATA))
            if more is not None:
                more(database, folder)
            before = snapshot(database)
            yield database
            assert snapshot(database) == before, "a test wrote to a shared database"
    finally:
        next(urls, None)  # drops the PostgreSQL schema


@pytest.fixture(scope="module", params=ENGINES)
def shared_built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 pg_admin: sa.Engine | None) -> Iterator[Database]:
    """The curated database, built once per module and engine, for tests that only read."""
    with shared_database(request.param, tmp_path_factory, pg_admin) as database:
        yield database


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/ for tests that edit the curated files."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def table_counts(database: Database) -> dict[str, int]:
    """Rows per table: a fingerprint to prove a refused load changed nothing."""
    from ivcdb.models import metadata

    with database.engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def snapshot(database: Database, *, sources: bool = True) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, ordered: equal snapshots mean an unchanged database.
    Without `sources`, the `source` column (the path of the file a record was last loaded
    from) is left out: the same records loaded from a file elsewhere change only it."""
    from ivcdb.models import metadata

    out = {}
    with database.engine.connect() as conn:
        for t in metadata.sorted_tables:
            columns = [c for c in t.columns if sources or c.name != "source"]
            rows = conn.execute(sa.select(*columns).order_by(*t.primary_key.columns)).all()
            out[t.name] = [tuple(r) for r in rows]
    return out


CliRun = Callable[..., tuple[int, str, str]]
CliRunBytes = Callable[..., tuple[int, bytes, str]]


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch,
            capture: pytest.CaptureFixture[AnyStr]) -> tuple[int, AnyStr, AnyStr]:
    """Run the console entry point in-process (with its error handling): (code, out, err).

    The one CLI runner of the tests: `capture` is `capsys` for text, `capsysbinary` for bytes.
    """
    from ivcdb.cli import main

    monkeypatch.setattr(sys, "argv", ["ivcdb", *argv])
    code = 0
    try:
        main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    out, err = capture.readouterr()
    return code, out, err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliRun:
    """`run_cli` with the fixtures bound: `cli("load", "--db", url, ...)`."""
    return lambda *argv: run_cli(list(argv), monkeypatch, capsys)


@pytest.fixture
def cli_bytes(monkeypatch: pytest.MonkeyPatch,
              capsysbinary: pytest.CaptureFixture[bytes]) -> CliRunBytes:
    """`cli` with stdout as bytes (binary exports); stderr is still text."""
    def run(*argv: str) -> tuple[int, bytes, str]:
        code, out, err = run_cli(list(argv), monkeypatch, capsysbinary)
        return code, out, err.decode()

    return run


@pytest.fixture
def pg_url(pg_admin: sa.Engine | None) -> Iterator[str]:
    """A second, empty PostgreSQL schema (`empty_url` gives only one database per test)."""
    yield from _fresh_pg_schema(pg_admin)
