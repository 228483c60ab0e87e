#!/usr/bin/env python3
"""Regenerate the README's charts from the curated data (docs/img/survival.png, map.png).

    python scripts/make_readme_charts.py [--db URL] [--out docs/img]

Without --db a temporary SQLite database is built from data/, so ./ivcdb.sqlite is never
touched. The charts are deterministic: rerunning on the same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ivcdb.api import build_database
from ivcdb.db import open_db
from ivcdb.errors import IvcdbError
from ivcdb.plots import outcome_chart, reference_map, save

ROOT = Path(__file__).resolve().parent.parent
SURVIVAL = ("overall_survival_5y", "overall_survival_10y")


def write_charts(db: str, out: Path) -> list[Path]:
    """The README's charts, from the database `db`, into the folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with open_db(db) as database, database.session() as session:
        (survival,) = outcome_chart(session, outcomes=SURVIVAL)
        references = reference_map(session)
    return [save(survival, out / "survival.png"), save(references, out / "map.png")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite path or SQLAlchemy URL (default: build data/ "
                        "into a temporary database)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                        help="folder for the PNG files")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="ivcdb-charts-") as tmp:
            db = args.db
            if db is None:
                db = str(Path(tmp) / "ivcdb.sqlite")
                build_database(db)[1].dispose()
            for path in write_charts(db, args.out):
                print(f"wrote {path}", file=sys.stderr)
    except IvcdbError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
