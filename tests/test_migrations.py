"""Migrations: pytest-alembic's standard tests on SQLite and PostgreSQL, plus the wrappers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pytest_alembic.tests import (  # noqa: F401 - collected as tests
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from ivcdb import db as ivcdb_db
from ivcdb.db import make_engine
from ivcdb.errors import DatabaseError, SchemaOutOfDate


@pytest.fixture
def alembic_config() -> dict[str, str]:
    return {"script_location": str(ivcdb_db.resource_dir("migrations")), "path_separator": "os"}


@pytest.fixture
def alembic_engine(empty_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(empty_url, create=True)
    yield engine
    engine.dispose()


def test_schema_revision_constant_is_head() -> None:
    """open_db compares against SCHEMA_REVISION without importing Alembic: keep it the head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ivcdb_db.resource_dir("migrations")))
    assert script.get_current_head() == ivcdb_db.SCHEMA_REVISION


def test_round_trip_with_wrappers(empty_url: str) -> None:
    """upgrade -> check -> downgrade base (no tables left) -> upgrade again, via the API."""
    ivcdb_db.upgrade(empty_url)
    assert ivcdb_db.current(empty_url) == ivcdb_db.SCHEMA_REVISION
    ivcdb_db.check(empty_url)
    ivcdb_db.downgrade(empty_url, "base")
    assert ivcdb_db.current(empty_url) is None
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()
    ivcdb_db.upgrade(empty_url)
    ivcdb_db.check(empty_url)


def test_open_db_refuses_database_without_schema(empty_url: str) -> None:
    make_engine(empty_url, create=True).dispose()
    with pytest.raises(SchemaOutOfDate, match="ivcdb init"):
        ivcdb_db.open_db(empty_url, create=True)


def test_open_db_refuses_old_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    engine.dispose()
    with pytest.raises(SchemaOutOfDate, match="ivcdb db upgrade"):
        ivcdb_db.open_db(db_url)


def test_check_reports_drift(db_url: str) -> None:
    """A schema that no longer matches the models fails `ivcdb db check`."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_claim_outcome_code")
    engine.dispose()
    with pytest.raises(DatabaseError):
        ivcdb_db.check(db_url)


def test_migrations_create_the_models_checks(db_url: str) -> None:
    """Autogenerate does not compare CHECKs: a CHECK in the models but not in a migration
    (or the reverse) would hold on a fresh `create_all` and not on a migrated database."""
    from ivcdb.models import metadata

    engine = make_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            migrated = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert migrated == declared, table.name
    finally:
        engine.dispose()
