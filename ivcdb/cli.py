"""The `ivcdb` command line: parse options, call one library function, render the result.

Heavy libraries (pandas, bibtexparser, alembic) are imported inside the commands that use
them, so `ivcdb --help` and quick queries start fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ivcdb import __version__
from ivcdb.errors import IvcdbError

app = typer.Typer(
    name="ivcdb",
    help="A literature-review evidence database: references, the claims they support, "
    "and where a review makes them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Schema migrations (Alembic, packaged with ivcdb).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLite file path or SQLAlchemy URL (postgresql://...). "
                 "Default: $IVCDB_DATABASE_URL, else ./ivcdb.sqlite."),
]


def _version(value: bool) -> None:
    if value:
        print(f"ivcdb {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")]
    = False,
) -> None:
    """ivcdb command line."""


def _err(line: str) -> None:
    print(line, file=sys.stderr)


# --- set-up -----------------------------------------------------------------------------------


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database (or bring its schema up to date)."""
    from ivcdb.db import display_url, upgrade

    url = upgrade(db)
    _err(f"database ready: {display_url(url)}")


@app.command()
def build(
    db: DbOption = None,
    data: Annotated[Path | None, typer.Option(help="Folder of data files (default: the "
                                              "curated data shipped with ivcdb).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")] = False,
) -> None:
    """Create the database and load a data folder into it, then print the evidence summary."""
    from ivcdb.api import build_database

    reports, database = build_database(db, data)
    for report in reports:
        _print_report(report)
    if not quiet:
        from ivcdb.render import print_summary

        print_summary(database)


@app.command()
def load(
    db: DbOption = None,
    references: Annotated[Path | None, typer.Option(help="BibTeX file of references.")] = None,
    review: Annotated[list[Path] | None, typer.Option(help="Review file (TOML); repeatable.")]
    = None,
    units: Annotated[Path | None, typer.Option(help="Unit vocabulary (CSV).")] = None,
    measures: Annotated[Path | None, typer.Option(help="Measure vocabulary (CSV).")] = None,
    outcomes: Annotated[Path | None, typer.Option(help="Outcome vocabulary (CSV).")] = None,
    claims: Annotated[list[Path] | None, typer.Option(help="Claims CSV (wide or long form); "
                                                      "repeatable.")] = None,
    findings: Annotated[list[Path] | None, typer.Option(help="Source findings CSV; "
                                                        "repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; "
                                          "write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Store the valid "
                                               "records and list every skipped one.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete records that a reloaded file "
                                        "no longer has (when nothing depends on them).")]
    = False,
) -> None:
    """Load files in one transaction: all are validated first; any error writes nothing."""
    from ivcdb.db import open_db, upgrade
    from ivcdb.loaders import Sources
    from ivcdb.loaders import load as run_load

    sources = Sources(units=units, measures=measures, outcomes=outcomes,
                      references=references, reviews=review or [], claims=claims or [],
                      findings=findings or [])
    if not sources.paths():
        raise typer.BadParameter("name at least one file to load (see --help)")
    upgrade(db) if not dry_run else None
    with open_db(db) as database:
        reports = run_load(database, sources, dry_run=dry_run, skip_invalid=skip_invalid,
                           prune=prune)
    for report in reports:
        _print_report(report)


def _print_report(report: object) -> None:
    from ivcdb.report import LoadReport

    assert isinstance(report, LoadReport)
    for problem in report.problems:
        _err(problem.format())
    if report.skipped:
        _err(f"{report.path}: skipped (invalid): {', '.join(report.skipped)}")
    if report.missing:
        verb = "removed" if report.removed else "kept (use --prune to remove)"
        shown = ", ".join(report.missing[:10]) + (" ..." if len(report.missing) > 10 else "")
        _err(f"{report.path}: in the database but not in the file, {verb}: {shown}")
    _err(f"{report.path}: {report.summary()}")


# --- migrations -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None,
               revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the schema up (default: to the newest revision)."""
    from ivcdb.db import current, upgrade

    upgrade(db, revision)
    _err(f"schema at revision {current(db)}")


@db_app.command("downgrade")
def db_downgrade(db: DbOption = None,
                 revision: Annotated[str, typer.Argument(help="Target revision, or `base` "
                                                         "to remove every table.")] = "-1"
                 ) -> None:
    """Migrate the schema down (default: one revision)."""
    from ivcdb.db import current, downgrade

    downgrade(db, revision)
    _err(f"schema at revision {current(db) or 'base (empty)'}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's schema revision."""
    from ivcdb.db import current

    print(current(db) or "base (empty)")


@db_app.command("check")
def db_check(db: DbOption = None) -> None:
    """Fail unless the schema is at the newest revision and matches the models."""
    from ivcdb.db import check

    check(db)


# --- entry point ------------------------------------------------------------------------------


def main() -> None:
    """Console entry point: library errors become one clear line each, never a traceback."""
    debug = "--debug" in sys.argv
    try:
        app()
    except IvcdbError as error:
        if debug:
            raise
        for line in error.lines():
            _err(line)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _err("interrupted; nothing was written by an unfinished load")
        sys.exit(130)
    except Exception as error:  # a bug: say so briefly, keep the traceback for --debug
        if debug:
            raise
        _err(f"internal error: {type(error).__name__}: {error} (rerun with --debug for details)")
        sys.exit(3)


if __name__ == "__main__":
    main()
