#!/usr/bin/env python3
"""Export every table of an ivcdb database into a folder (a thin wrapper over ivcdb.exports).

    python scripts/export_csvs.py OUT_DIR [--db URL] [--format csv|json|parquet] [--excel] [--force]

Writes claims, long_claims, references, citations, outcomes, units, measures and findings,
plus references.bib; every file atomically, none outside OUT_DIR.
"""

from __future__ import annotations

import argparse
import sys

from ivcdb.db import open_db
from ivcdb.errors import IvcdbError
from ivcdb.exports import export_folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="existing folder to write into")
    parser.add_argument("--db", help="SQLite path or SQLAlchemy URL (default: "
                        "$IVCDB_DATABASE_URL, else ./ivcdb.sqlite)")
    parser.add_argument("--format", default="csv", choices=("csv", "json", "parquet"))
    parser.add_argument("--excel", action="store_true", help="CSV with a UTF-8 BOM")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    try:
        with open_db(args.db) as database:
            paths = export_folder(database, args.folder, fmt=args.format, force=args.force,
                                  excel=args.excel)
    except IvcdbError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
