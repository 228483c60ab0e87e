"""A PostgreSQL role that may only read (README, "Team workflow"): every reading command works
through it, and a write is one clear line that changes nothing, never an internal error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import DATA, CliRun, snapshot

from ivcdb.db import open_db

pytestmark = pytest.mark.postgresql


@pytest.fixture
def reader(pg_url: str, pg_admin: sa.Engine, cli: CliRun) -> Iterator[tuple[str, str]]:
    """(the owner's URL, a read-only role's URL) of one built schema."""
    code, _, err = cli("build", "--db", pg_url, "--data", str(DATA))
    assert code == 0, err
    role = f"reader_{uuid.uuid4().hex[:10]}"
    schema = sa.engine.make_url(pg_url).query["options"].split("=", 1)[1]
    statements = [f'CREATE ROLE "{role}" LOGIN', f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
                  f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
                  f'ALTER ROLE "{role}" SET default_transaction_read_only = on']
    with pg_admin.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    url = sa.engine.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    try:
        yield pg_url, url
    finally:
        with pg_admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only-role", "select-only"])
def test_a_reader_cannot_write_and_is_told_so(reader: tuple[str, str], pg_admin: sa.Engine,
                                              cli: CliRun, read_only: bool) -> None:
    owner, url = reader
    if not read_only:  # without the session default, the missing INSERT grant refuses it
        role = sa.engine.make_url(url).username
        with pg_admin.begin() as conn:
            conn.exec_driver_sql(f'ALTER ROLE "{role}" RESET default_transaction_read_only')
    with open_db(owner) as database:
        before = snapshot(database)
    code, out, err = cli("query", "claims", "--outcome", "overall_survival_5y", "--db", url)
    assert code == 0 and "overall" in out.lower(), err
    code, _, err = cli("load", "--claims", str(DATA / "claims.csv"), "--by", "someone",
                       "--db", url)
    assert code == 1, err
    assert "may only read" in err and "nothing was changed" in err
    assert "internal error" not in err and "Traceback" not in err
    with open_db(owner) as database:
        assert snapshot(database) == before
