"""Migrations with realistic data present, on SQLite and PostgreSQL.

pytest-alembic's standard tests run again here with every row of the curated data inserted at
each revision (`at_revision_data`), plus its experimental "downgrade leaves no trace" and our
own version of it that compares the whole schema inventory (tables, indexes, sequences, types)
of a database before `upgrade` with the same database after upgrade -> load -> downgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_alembic
import sqlalchemy as sa
from conftest import DATA, snapshot
from pytest_alembic.config import Config
from pytest_alembic.tests import (  # noqa: F401 - collected as tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import downgrade_leaves_no_trace

from ivcdb import db as ivcdb_db
from ivcdb.db import SCHEMA_REVISION, make_engine, open_db, upgrade
from ivcdb.loaders import Sources, load
from ivcdb.models import is_search_object, metadata


def curated_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of data/ as loaded, tagged with its table, parents first."""
    path = folder / "rows.sqlite"
    upgrade(path)
    rows: list[dict[str, Any]] = []
    with open_db(path) as database:
        load(database, Sources.from_folder(DATA))
        with database.engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(sa.select(table).order_by(*table.primary_key)).mappings():
                    values = dict(row)
                    for name, value in values.items():
                        if isinstance(value, datetime) and value.tzinfo is None:
                            values[name] = value.replace(tzinfo=UTC)
                    rows.append({"__tablename__": table.name, **values})
    return rows


@pytest.fixture(scope="module")
def data_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return curated_rows(tmp_path_factory.mktemp("rows"))


@pytest.fixture
def alembic_config(data_rows: list[dict[str, Any]]) -> Config:
    return Config(
        config_options={"script_location": str(ivcdb_db.resource_dir("migrations")),
                        "path_separator": "os"},
        at_revision_data={SCHEMA_REVISION: data_rows},
    )


@pytest.fixture
def alembic_engine(empty_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(empty_url, create=True)
    yield engine
    engine.dispose()


def inventory(url: str) -> dict[str, list[str]]:
    """Every schema object of the database, by kind (the current schema on PostgreSQL)."""
    engine = make_engine(url, create=True)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                    "ORDER BY type, name").all()
            else:
                rows = conn.exec_driver_sql(
                    "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' "
                    "WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' ELSE c.relkind::text END, "
                    "c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() "
                    "UNION ALL SELECT 'type', t.typname FROM pg_type t JOIN pg_namespace n "
                    "ON n.oid = t.typnamespace WHERE n.nspname = current_schema() "
                    "AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 "
                    "UNION ALL SELECT 'constraint', conname FROM pg_constraint c JOIN "
                    "pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() "
                    "ORDER BY 1, 2").all()
    finally:
        engine.dispose()
    out: dict[str, list[str]] = {}
    for kind, name in rows:
        out.setdefault(kind, []).append(name)
    return out


def without_alembic(objects: dict[str, list[str]]) -> dict[str, list[str]]:
    """Alembic keeps its (empty) version table at base; everything else must be gone."""
    return {kind: [n for n in names if "alembic_version" not in n]
            for kind, names in objects.items()
            if [n for n in names if "alembic_version" not in n]}


def test_downgrade_with_data_leaves_no_trace(empty_url: str) -> None:
    """upgrade -> load the curated data -> downgrade to base: nothing of ivcdb is left."""
    start = without_alembic(inventory(empty_url))
    upgrade(empty_url)
    with open_db(empty_url) as database:
        load(database, Sources.from_folder(DATA))
        assert snapshot(database)["claim"]
    tables = without_alembic(inventory(empty_url))["table"]
    assert len([t for t in tables if not is_search_object(t)]) == len(metadata.tables)
    ivcdb_db.downgrade(empty_url, "base", force=True)
    assert without_alembic(inventory(empty_url)) == start == {}
    assert ivcdb_db.current(empty_url) is None


def test_experimental_downgrade_leaves_no_trace(alembic_engine: sa.Engine) -> None:
    """pytest-alembic's experimental DDL-diff check. Its data inserts cannot see the nested
    transaction it migrates in, so it runs without rows; the inventory test above has them."""
    config = Config(config_options={"script_location": str(ivcdb_db.resource_dir("migrations")),
                                    "path_separator": "os"})
    with pytest_alembic.runner(config=config, engine=alembic_engine) as runner:
        downgrade_leaves_no_trace.test_downgrade_leaves_no_trace(runner)


def test_upgrade_at_head_keeps_data_and_passes_check(built: ivcdb_db.Database) -> None:
    """Re-running the migrations on a loaded database changes no row and leaves no drift."""
    before = snapshot(built)
    upgrade(built.url)
    ivcdb_db.check(built.url)
    assert snapshot(built) == before


def test_down_up_cycle_with_data_reloads_identically(built: ivcdb_db.Database,
                                                     data_copy: Path) -> None:
    """After downgrade base + upgrade head a reload gives the same rows (ids restart too)."""
    def rows(database: ivcdb_db.Database) -> dict[str, list[tuple[object, ...]]]:
        snap = snapshot(database)
        snap.pop("load_event")  # times differ by construction
        snap.pop("change_record")
        return snap

    before = rows(built)
    built.dispose()
    ivcdb_db.downgrade(built.url, "base", force=True)
    upgrade(built.url)
    with open_db(built.url) as again:
        load(again, Sources.from_folder(data_copy))  # the files `built` came from
        assert rows(again) == before
