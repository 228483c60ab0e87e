#!/usr/bin/env python3
"""Dump every row of an ivcdb database (any revision) to JSON, table by table, parents first.

    python scripts/dump_rows.py DB OUT.json

The migration data test (tests/test_migrations_upgrade.py) loads such a dump, made from a
database built by an earlier release, into a new database at that release's revision, then
upgrades it: the JSON is engine-neutral (dates as ISO text), so it serves SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ivcdb.db import make_engine, resolve_url


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def dump(db: str) -> dict[str, Any]:
    engine = make_engine(resolve_url(db), readonly=True)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            tables = {t.name: [{k: _cell(v) for k, v in row.items()} for row in
                               conn.execute(sa.select(t).order_by(*t.primary_key)).mappings()]
                      for t in meta.sorted_tables if t.name != "alembic_version"}
    finally:
        engine.dispose()
    return {"revision": revision, "tables": tables}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(dump(args.db), ensure_ascii=False, indent=0) + "\n",
                        encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
