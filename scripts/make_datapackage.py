#!/usr/bin/env python3
"""Write data/datapackage.json: the Frictionless description of the curated CSV files.

    python scripts/make_datapackage.py [--check]

Types, required fields, allowed values and keys come from ivcdb's field contract
(`ivcdb.exports.datapackage.folder_package`); `--check` exits 1 when the file is stale
(tests/test_datapackage.py checks the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivcdb.exports.datapackage import FILE_NAME, dumps, folder_package

DATA = Path(__file__).resolve().parent.parent / "data"
NAME = "ivcdb-curated-data"


def expected() -> bytes:
    """The bytes data/datapackage.json must hold."""
    return dumps(folder_package(DATA, name=NAME))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    target = DATA / FILE_NAME
    if args.check:
        if not target.is_file() or target.read_bytes() != expected():
            print(f"{target} is stale: run scripts/make_datapackage.py", file=sys.stderr)
            return 1
        return 0
    target.write_bytes(expected())
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
