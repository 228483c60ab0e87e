#!/usr/bin/env python3
"""Regenerate a review's numbered reference list (a thin wrapper over ivcdb.exports).

    python scripts/regenerate_reference_table.py [--db URL] [--review ID]
        [--format markdown|text|html|latex] [--style NAME|FILE.csl] [--output FILE] [--force]
"""

from __future__ import annotations

import argparse
import sys

from ivcdb.db import open_db
from ivcdb.errors import IvcdbError
from ivcdb.exports import reference_list
from ivcdb.exports.files import write_output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite path or SQLAlchemy URL")
    parser.add_argument("--review", help="review id (needed when several are loaded)")
    parser.add_argument("--format", choices=("markdown", "text", "html", "latex"))
    parser.add_argument("--style", help="CSL style name (vancouver, ama, ...) or FILE.csl")
    parser.add_argument("--output", help="file to write (default: stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite --output")
    args = parser.parse_args(argv)
    try:
        with open_db(args.db) as database:
            text = reference_list(database, fmt=args.format, review=args.review,
                                  style=args.style)
        write_output(text.encode("utf-8") if isinstance(text, str) else text, args.output,
                     force=args.force)
    except IvcdbError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
