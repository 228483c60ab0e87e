"""A database built by the last single-review release, upgraded, prints what a fresh build
prints (issue 12: migrations carry existing databases forward with their data).

`data/li2025-at-0002.json` holds every row of `ivcdb build` of the curated data at commit
a93257f (schema 0002), dumped with `scripts/dump_rows.py`. Restored into a new database at
that revision and upgraded to head, it must give li2025's outputs byte for byte as a fresh
build with today's code does, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATA, CliRunBytes

from ivcdb.db import SCHEMA_REVISION, make_engine, upgrade

DUMP = Path(__file__).parent / "data" / "li2025-at-0002.json"
OUTPUTS = {
    "refs": ["refs"],
    "table": ["table", "overall_survival_5y"],
    "claims": ["export", "claims"],
    "references": ["export", "references"],
    "citations": ["export", "citations"],
    "findings": ["export", "findings"],
    "verify": ["verify", "--format", "json"],
    "check": ["check"],
    "show": ["show", "wachtel2015"],
}


def _typed(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """A dumped row with the column types the target engine's driver wants."""
    out = dict(row)
    for column in table.columns:
        value = out.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, sa.Boolean):
            out[column.name] = bool(value)
        elif isinstance(column.type, sa.DateTime) and isinstance(value, str):
            out[column.name] = datetime.fromisoformat(value)
    return out


def restore(url: str, dump: dict[str, Any]) -> None:
    """A new database at the dump's revision holding its rows (ids as they were)."""
    upgrade(url, dump["revision"])
    engine = make_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            for table in meta.sorted_tables:
                rows = dump["tables"].get(table.name, [])
                if rows:
                    conn.execute(sa.insert(table), [_typed(table, r) for r in rows])
                if conn.dialect.name == "postgresql" and "id" in table.columns and rows:
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"))
    finally:
        engine.dispose()


def outputs(cli_bytes: CliRunBytes, url: str) -> dict[str, bytes]:
    out = {}
    for name, argv in OUTPUTS.items():
        code, data, err = cli_bytes(*argv, "--db", url)
        assert code in (0, 1) and "Traceback" not in err, (name, err)  # check may exit 1
        out[name] = data
    return out


@pytest.fixture
def fresh_url(empty_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second empty database on the same engine as `empty_url`."""
    if empty_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    return str(request.getfixturevalue("pg_url"))


def test_a_database_of_the_last_release_upgrades_to_the_same_outputs(
        empty_url: str, fresh_url: str, tmp_path: Path, cli_bytes: CliRunBytes) -> None:
    dump = json.loads(DUMP.read_text(encoding="utf-8"))
    assert dump["revision"] != SCHEMA_REVISION  # else this test no longer tests a migration
    restore(empty_url, dump)
    upgrade(empty_url)
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    # measures.csv's `related` column (0005) came after the dump: an upgrade cannot know what
    # a later file declares, so the fresh build reads the measures as they were
    measures = data / "measures.csv"
    measures.write_text("".join(line.rsplit(",", 1)[0] + "\n" for line in measures.read_text(
        encoding="utf-8").splitlines()), encoding="utf-8")
    code, _, err = cli_bytes("build", "--db", fresh_url, "--data", str(data), "--quiet")
    assert code == 0, err
    assert outputs(cli_bytes, empty_url) == outputs(cli_bytes, fresh_url)
    # and the upgraded database takes a reload of the same files as a no-op
    code, _, err = cli_bytes("build", "--db", empty_url, "--data", str(data))
    assert code == 0 and " 0 added" in err and "updated" in err
    assert "1 added" not in err
