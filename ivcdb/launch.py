"""The `ivcdb` console script: a load's first references file starts being read at once.

Importing the CLI (Typer, and the pydantic adapters Typer builds for every option) takes a
few tenths of a second before `ivcdb load` even sees its options. For `ivcdb load ...
--references FILE.bib ...`, reading FILE (a large one's second half on another core) is
begun before that import: the reading is then handed to the load, if the load's first
references file is that same file. Anything else (another command, `--help`, the option
read differently by the CLI) drops it unused. Reading has no side effects, so a dropped
reading changes nothing; the CLI alone decides what runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivcdb.loaders.parse import EarlyReading

_OPTION = "--references"


def first_references(argv: Sequence[str]) -> Path | None:
    """The file of the first `--references` option of an `ivcdb load` command line, when it
    names an existing file; None for anything else (no guessing: the CLI parses for real)."""
    if not argv or argv[0] != "load" or "--help" in argv:
        return None
    for i, arg in enumerate(argv[1:], 1):
        if arg == "--":
            return None
        if arg == _OPTION:
            value = argv[i + 1] if i + 1 < len(argv) else None
        elif arg.startswith(_OPTION + "="):
            value = arg[len(_OPTION) + 1:]
        else:
            continue
        if value is None:
            return None
        from ivcdb.loaders.parse import paired_path

        path = paired_path(value)[0]
        return path if path.is_file() else None
    return None


def begin(argv: Sequence[str]) -> EarlyReading | None:
    """Begin reading the first references file of a load's command line, if it is a BibTeX
    file (the one format read on two cores: reading another early would gain nothing).
    Whatever goes wrong here is left to the CLI, which reads the file again and reports it
    (a name too long, a folder it may not enter) as it always does."""
    try:
        path = first_references(argv)
        if path is None or path.suffix.lower() != ".bib":
            return None
        from ivcdb.loaders.parse import EarlyReading
        from ivcdb.loaders.refformats import start_references

        return EarlyReading(path, start_references(path))
    except Exception:  # noqa: BLE001 - not this module's to report: the CLI's
        return None


def run() -> None:
    """`ivcdb`: begin reading a load's first references file, then run the CLI."""
    try:
        early = begin(sys.argv[1:])
    except KeyboardInterrupt:  # before the CLI could handle it: nothing was written
        from ivcdb import render

        render.note("interrupted; nothing was written")
        sys.exit(130)
    if early is not None:  # (other commands import no loader here: start-up stays lean)
        type(early).current = early
    try:
        from ivcdb.cli import run as cli_run

        cli_run()
    finally:
        if early is not None:  # not taken (the CLI did something else): end its reading
            type(early).current = None
            early.close()
