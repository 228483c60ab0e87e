"""The render layer: results for a terminal (rich tables), a pipe (CSV) or as JSON, and the
messages the CLI prints. The CLI parses options, calls the library and hands the result here.

Kept light to import (no SQLAlchemy, pandas or rich at module level): the CLI starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivcdb import formats
from ivcdb.csvformat import LIST_SEPARATOR, csv_text, format_number, json_value, neutralise
from ivcdb.figures import figure_text, printed_text, span, unit_text
from ivcdb.text import visible

if TYPE_CHECKING:
    from ivcdb.compare import Comparison
    from ivcdb.copy import CopyReport
    from ivcdb.history import Entry
    from ivcdb.queries import ReferenceDetail
    from ivcdb.report import LoadReport, Problem
    from ivcdb.synthesis import PoolResult
    from ivcdb.verify import Checks, ClaimCheck

FORMATS = tuple(formats.ROWS)
# Terminal tables wrap only these text columns (at word boundaries); every other column holds
# an identifier, code, status or number and is never broken (at worst shortened with "…").
PROSE_COLUMNS = frozenset({"statement", "explanation", "label", "title", "value", "note",
                           "findings"})
TEXT_COLUMNS = PROSE_COLUMNS | {"claimed", "figure", "values", "timepoint", "population",
                                "references"}
# Identifiers: shortened only when nothing else is left to shorten.
KEY_COLUMNS = frozenset({"claim_id", "outcome", "code", "citekey", "status", "field"})


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):  # a contract list: `a;b`, as the CSV files write it
        return LIST_SEPARATOR.join(cell(v) for v in value)
    if isinstance(value, bool | int | float):
        return format_number(value)
    return str(value)


def note(line: str) -> None:
    """A message for the user, on stderr (stdout carries the data): invisible characters
    escaped, echoed values bounded."""
    from ivcdb.text import clip

    print(visible(clip(line, 2000), lines=True), file=sys.stderr)


def choose_format(requested: str | None) -> str:
    """`table` on a terminal, `csv` when piped, unless the user asked for one."""
    if requested:
        return requested
    return "table" if sys.stdout.isatty() else "csv"


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str | None = None,
         *, title: str | None = None) -> None:
    """Print rows in a format of `formats.ROWS`: a rich table, CSV or JSON on stdout."""
    formats.renderer(formats.ROWS, choose_format(fmt))(rows, columns, title=title)


def json_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
              title: str | None = None) -> None:  # noqa: ARG001 - JSON has no title
    """The rows as a JSON array of objects with `columns` as keys."""
    print_json([{c: r.get(c) for c in columns} for r in rows])


def csv_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
             title: str | None = None) -> None:  # noqa: ARG001 - CSV has no title
    """The rows as CSV with a header; text a spreadsheet would run as a formula gets a `'`."""
    sys.stdout.write(csv_text(lambda: [list(columns), *(
        [neutralise(cell(r.get(c))) for c in columns] for r in rows)]))


def rich_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
              title: str | None = None) -> None:
    """The rows as a terminal table: prose wraps, identifiers stay whole (`column_caps`)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    # a terminal shows controls, bidi overrides and zero-width characters escaped
    texts = [[visible(cell(r.get(c))) for c in columns] for r in rows]
    caps = column_caps(columns, texts, console.width)
    table = Table(title=title, show_lines=False)
    for c, cap in zip(columns, caps, strict=True):
        if c in TEXT_COLUMNS:
            table.add_column(c, overflow="fold", max_width=cap)
        else:
            table.add_column(c, no_wrap=True, overflow="ellipsis", max_width=cap)
    for row in texts:
        table.add_row(*row)
    console.print(table)


def print_json(value: Any) -> None:
    """One JSON document on stdout: integral numbers without `.0`, never NaN."""
    json.dump(json_value(value), sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


PROSE_MIN_WIDTH = 20  # a prose column keeps at least this many characters per line
SHORT_MIN_WIDTH = 10  # a short wrapped column (figure, timepoint) at least this many
MIN_CAP = 8


def column_caps(columns: Sequence[str], rows: Sequence[Sequence[str]],
                width: int) -> list[int | None]:
    """Widest each column may be so that the prose columns keep room on `width`.

    None means no cap. When the table does not fit, short wrapped columns (figure, timepoint)
    are held to their longest word, then secondary columns are shortened with an
    ellipsis, then identifiers; the widest first in each group.
    """
    from rich.cells import cell_len

    natural = [max([cell_len(c), *(cell_len(r[i]) for r in rows)])
               for i, c in enumerate(columns)]
    room = width - 3 * len(columns) - 1  # borders and one space of padding a side
    prose = sum(min(natural[i], PROSE_MIN_WIDTH) for i, c in enumerate(columns)
                if c in PROSE_COLUMNS)
    if prose + sum(n for c, n in zip(columns, natural, strict=True)
                   if c not in PROSE_COLUMNS) <= room:
        return [None] * len(columns)
    caps: list[int | None] = [None] * len(columns)
    for i, c in enumerate(columns):
        if c in TEXT_COLUMNS and c not in PROSE_COLUMNS:
            words = [cell_len(w) for r in rows for w in r[i].split()]
            caps[i] = min(natural[i], max([SHORT_MIN_WIDTH, cell_len(c), *words]))
    budget = room - prose - sum(caps[i] or 0 for i, c in enumerate(columns)
                                if c in TEXT_COLUMNS)
    for group in (_fixed(columns, key=False), _fixed(columns, key=True)):
        used = sum(natural[i] if caps[i] is None else caps[i] or 0
                   for i in _fixed(columns, key=None))
        if used <= budget:
            break
        cap = max((natural[i] for i in group), default=0)
        while cap > MIN_CAP and used - sum(natural[i] - min(natural[i], cap)
                                           for i in group) > budget:
            cap -= 1
        for i in group:
            caps[i] = cap if natural[i] > cap else None
    return caps


def _fixed(columns: Sequence[str], *, key: bool | None) -> list[int]:
    """Indexes of unwrapped columns: identifiers (key), the others, or all (None)."""
    return [i for i, c in enumerate(columns) if c not in TEXT_COLUMNS
            and (key is None or (c in KEY_COLUMNS) == key)]


def value_span(low: float | None, high: float | None, unit: str | None) -> str:
    """`40–70 percent`, `390 min`; empty when there is no number."""
    if low is None or high is None:
        return ""
    return f"{span(low, high)} {unit}" if unit else span(low, high)


def print_summary(summary: Sequence[Any], fmt: str | None = None) -> None:
    """The evidence summary (`queries.outcome_summary` rows): one row per outcome and unit,
    the cited evidence first.

    On a terminal the value span is one column (`40–70 percent`); CSV and JSON keep `unit`,
    `lowest` and `highest` apart for analysis.
    """
    rows = sorted(summary, key=lambda r: (-r.references, r.lowest is None))
    fmt = choose_format(fmt)
    if fmt == "table":
        claims = sum(r.claims for r in rows)
        emit([{"outcome": r.outcome, "label": r.label, "claims": r.claims,
               "refs": r.references, "values": value_span(r.lowest, r.highest, r.unit)}
              for r in rows], ["outcome", "label", "claims", "refs", "values"], fmt,
             title=f"Evidence by outcome ({claims} claims; refs = supporting references)")
        return
    emit([r.as_dict() for r in rows],
         ["outcome", "label", "claims", "references", "unit", "lowest", "highest"], fmt)


# --- loads ------------------------------------------------------------------------------------


def print_report(report: LoadReport, *, quiet: bool = False) -> None:
    """A load report on stderr: each problem, skipped and missing records, then the counts."""
    from ivcdb.report import SHOWN_PROBLEMS, problem_lines
    from ivcdb.text import clip

    for line in problem_lines(report.problems):
        note(line)
    if report.skipped:
        more = len(report.skipped) - SHOWN_PROBLEMS
        note(f"{report.path}: skipped (invalid): "
             f"{', '.join(clip(k) for k in report.skipped[:SHOWN_PROBLEMS])}"
             + (f" \u2026 and {more} more" if more > 0 else ""))
    if report.missing:
        verb = "removed" if report.removed else "kept (use --prune to remove)"
        shown = ", ".join(report.missing[:10]) + (" ..." if len(report.missing) > 10 else "")
        note(f"{report.path}: in the database but not in the file, {verb}: {shown}")
    if report.resolved and report.written:
        note(f"{report.path}: --resolve replaced values others entered in {report.resolved} "
             "row(s) (recorded in the load history)")
    for line in report.notes:
        note(f"{report.path}: {line}")
    if not quiet:
        note(f"{report.path}: {report.summary()}")


def print_problems(problems: Sequence[Problem]) -> int:
    """`check`: one line per problem on stdout, the tally on stderr; the number of errors."""
    for problem in problems:
        print(problem.format())
    errors = sum(1 for p in problems if p.is_error)
    note(f"check: {errors} error(s), {len(problems) - errors} warning(s)")
    return errors


def print_copy(report: CopyReport) -> None:
    """`copy`: each table's rows and checksum, then the summary, on stderr."""
    for table in report.tables:
        note(f"{table.table}: {table.rows} rows, sha256 {table.checksum[:16]}")
    note(report.summary())


def write_output(data: str | bytes, output: Path | None, force: bool) -> None:
    """`data` (text as UTF-8) to stdout, or atomically to `output` (saying so on stderr)."""
    from ivcdb.exports.files import write_output as write

    if isinstance(data, str):
        data = data.encode("utf-8")
    written = write(data, output, force=force)
    if written is not None:
        note(f"wrote {written} ({len(data)} bytes)")


# --- claims, references, findings --------------------------------------------------------------

# A terminal is narrow: tables show the figure as printed; CSV and JSON carry every column.
# `ivcdb vocabulary`: the columns of each kind's codes, and of all three together.
VOCABULARY_COLUMNS = {
    "all": ("vocabulary", "code", "label", "kind", "unit", "measure", "timepoint", "family",
            "related"),
    "outcomes": ("code", "label", "kind", "unit", "measure", "timepoint"),
    "units": ("code", "label"),
    "measures": ("code", "label", "family", "related"),
}
CLAIM_TABLE = ("claim_id", "outcome", "statement", "figure", "studies")
CITING_TABLE = ("claim_id", "review", "outcome", "role", "statement", "figure")
FINDING_TABLE = ("measure", "figure", "unit", "timepoint", "population", "note")


def with_figure(row: dict[str, Any]) -> dict[str, Any]:
    """The row plus `figure`: a claim's figure as the review prints it (else as stored), or a
    finding's numbers (`76 (286/377)`, `0.79 (0.60–0.90)`; the unit has its own column)."""
    if "reported" in row and row["reported"]:
        text = printed_text(row["qualifier"], row["reported"])
    else:
        unit = unit_text(row["unit"], {}) if "reported" in row else ""
        text = figure_text(row["value"], row["value_low"], row["value_high"],
                           row.get("numerator"), row.get("denominator"), row.get("qualifier"),
                           unit=unit, bounds=row.get("bounds"), ci_low=row.get("ci_low"),
                           ci_high=row.get("ci_high"), ci_level=row.get("ci_level"))
    return {**row, "figure": text}


def print_claims(found: Sequence[Any], fmt: str | None, columns: Sequence[str], *,
                 studies: Mapping[tuple[str, str], str] | None = None) -> None:
    """`query claims`: on a terminal the figure as printed and the cited studies
    (`studies`: (review, claim_id) -> `[3] Wachtel 2015`), every column in CSV and JSON."""
    chosen = choose_format(fmt)
    rows = [r.as_dict() for r in found]  # reference lists as lists: `a;b` in CSV
    if chosen == "table":
        rows = [{**with_figure(r), "studies": (studies or {}).get((r["review"], r["claim_id"]),
                                                                  "")} for r in rows]
        columns = CLAIM_TABLE
    emit(rows, columns, chosen, title=f"Claims ({len(found)})")


def print_reference(detail: ReferenceDetail, fmt: str | None) -> None:
    """`show`: the reference's fields, the claims citing it and its findings; piped, one
    JSON document (three tables would not make one valid CSV)."""
    from ivcdb.queries import CITING_CLAIM_COLUMNS, OWN_FINDING_COLUMNS

    chosen = fmt or ("table" if sys.stdout.isatty() else "json")
    if chosen == "json":
        print_json(detail.as_dict())
        return
    emit([{"field": k, "value": v} for k, v in reference_fields(detail).items()],
         ["field", "value"], chosen, title=detail.citekey)
    blank = "\n" if chosen == "csv" else ""  # CSV blocks are separated by an empty line
    print(blank, end="")
    table = chosen == "table"
    emit([with_figure(c) for c in detail.claim_dicts()],
         CITING_TABLE if table else CITING_CLAIM_COLUMNS, chosen,
         title=f"Claims citing {detail.citekey} ({len(detail.claims)})")
    print(blank, end="")
    emit([with_figure(f) for f in detail.finding_dicts()],
         FINDING_TABLE if table else OWN_FINDING_COLUMNS[1:], chosen,
         title=f"Findings reported by {detail.citekey} ({len(detail.findings)})")


def reference_fields(detail: ReferenceDetail) -> dict[str, object]:
    """The fields `show` prints for a reference, in reading order."""
    flat = detail.fields()
    return {"citekey": detail.citekey, "citation": flat["citations"],
            "authors": flat["authors"], "title": detail.title, "journal": detail.journal,
            "year": detail.year, "volume": detail.volume, "issue": detail.issue,
            "pages": detail.pages, "doi": detail.doi, "pmid": detail.pmid,
            "study_design": detail.study_design, "sample_size": detail.sample_size,
            "note": detail.note}


# --- source check -----------------------------------------------------------------------------

VERIFY_TABLE = ("claim_id", "claimed", "references", "status", "explanation")
VERIFY_CSV = ("claim_id", "review", "outcome", "claimed", "timepoint", "reference_numbers",
              "status", "reason", "automatic_status", "findings", "explanation")


def print_checks(checks: Checks, fmt: str | None) -> None:
    """`verify`: the checks in a format of `formats.SOURCE_CHECK` (its note, and for CSV and
    JSON the summary line, on stderr)."""
    chosen = choose_format(fmt)
    if checks.note:
        note(f"note: {checks.note}")
    elif chosen in ("csv", "json"):  # their stdout is data only
        note(f"summary: {checks.summary()}")
    formats.renderer(formats.SOURCE_CHECK, chosen)(checks)


def summary_row(check: ClaimCheck, *, table: bool = False) -> dict[str, Any]:
    """One flat row per listed claim, for tables (status in words) and CSV (codes)."""
    return {"claim_id": check.claim_id, "review": check.review, "outcome": check.outcome,
            "claimed": check.claimed, "timepoint": check.timepoint,
            "references": check.references_text(),
            "reference_numbers": LIST_SEPARATOR.join("" if n is None else str(n)
                                                     for n in check.reference_numbers),
            "status": check.status_text() if table else check.status.value,
            "reason": check.reason.value if check.reason else None,
            "automatic_status": check.automatic_status.value,
            "findings": LIST_SEPARATOR.join(f.finding_id for f in check.findings),
            "explanation": check.explanation}


def checks_table(checks: Checks) -> None:
    emit([summary_row(c, table=True) for c in checks], VERIFY_TABLE, "table",
         title=f"Source check: {checks.summary()}")


def checks_csv(checks: Checks) -> None:
    emit([summary_row(c) for c in checks], VERIFY_CSV, "csv")


def checks_json(checks: Checks) -> None:
    print_json([c.as_dict() for c in checks])


def checks_markdown(checks: Checks) -> None:
    from ivcdb.verify import markdown_report

    sys.stdout.write(markdown_report(checks, checks.config, labels=checks.unit_labels))


# --- two extractions compared -----------------------------------------------------------------

COMPARE_COLUMNS = ("what", "claim_id", "field", "a", "b", "percent", "kappa")


def print_comparison(comparison: Comparison, fmt: str | None) -> None:
    """`compare`: the comparison in a format of `formats.COMPARISON` (row warnings and the
    counts on stderr)."""
    from ivcdb.report import problem_lines

    for line in problem_lines(comparison.problems):
        note(line)
    formats.renderer(formats.COMPARISON, choose_format(fmt))(comparison)
    note(_comparison_counts(comparison))


def _comparison_counts(comparison: Comparison) -> str:
    return (f"compare: {comparison.shared} claim(s) in both files, {comparison.agreeing} "
            f"agree, {comparison.shared - comparison.agreeing} differ; "
            f"{len(comparison.only_in_a)} only in A, {len(comparison.only_in_b)} only in B")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _kappa(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def comparison_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """One flat row per finding of the comparison: claims only in A or B, differing fields,
    then each field's agreement (CSV, tables)."""
    rows: list[dict[str, Any]] = [{"what": "only_in_a", "claim_id": c}
                                  for c in comparison.only_in_a]
    rows += [{"what": "only_in_b", "claim_id": c} for c in comparison.only_in_b]
    rows += [{"what": "differs", "claim_id": d.claim_id, "field": d.field, "a": d.a, "b": d.b}
             for d in comparison.differences]
    rows += [{"what": "agreement", "field": name, "percent": _percent(a.percent),
              "kappa": _kappa(a.kappa)} for name, a in comparison.agreement.items()]
    return rows


def comparison_csv(comparison: Comparison) -> None:
    emit(comparison_rows(comparison), COMPARE_COLUMNS, "csv")


def comparison_json(comparison: Comparison) -> None:
    print_json(comparison.as_dict())


def comparison_table(comparison: Comparison) -> None:
    listed = [r for r in comparison_rows(comparison) if r["what"] != "agreement"]
    emit(listed, ("what", "claim_id", "field", "a", "b"), "table",
         title=f"{comparison.path_a} (A) vs {comparison.path_b} (B)")
    emit([{"field": name, "percent": _percent(a.percent), "kappa": _kappa(a.kappa)}
          for name, a in comparison.agreement.items()], ("field", "percent", "kappa"),
         "table", title="Agreement over the claims in both files")


def comparison_markdown(comparison: Comparison) -> None:
    def md(value: Any) -> str:
        return cell(value).replace("|", "\\|").replace("\n", " ")

    out = [f"# {md(comparison.path_a)} (A) vs {md(comparison.path_b)} (B)", "",
           _comparison_counts(comparison).removeprefix("compare: ") + ".", ""]
    for what, ids in (("Only in A", comparison.only_in_a), ("Only in B", comparison.only_in_b)):
        if ids:
            out += [f"## {what}", "", *(f"- `{md(c)}`" for c in ids), ""]
    if comparison.differences:
        out += ["## Differences", "", "| claim_id | field | A | B |", "| --- | --- | --- | --- |"]
        out += [f"| {md(d.claim_id)} | {d.field} | {md(d.a)} | {md(d.b)} |"
                for d in comparison.differences]
        out.append("")
    out += ["## Agreement", "", "| field | percent | kappa |", "| --- | ---: | ---: |"]
    out += [f"| {name} | {_percent(a.percent)} | {_kappa(a.kappa)} |"
            for name, a in comparison.agreement.items()]
    sys.stdout.write("\n".join(out) + "\n")


# --- history ----------------------------------------------------------------------------------

HISTORY_COLUMNS = ("changed_at", "changed_by", "command", "table", "key", "action", "old",
                   "new")


def print_history(found: Sequence[Entry], fmt: str | None) -> None:
    """`history`: one row per change (JSON: old and new as objects)."""
    chosen = choose_format(fmt)
    if chosen == "json":
        print_json([e.as_dict() for e in found])
        return
    emit([{**e.as_dict(), "old": _values_text(e.old), "new": _values_text(e.new)}
          for e in found], HISTORY_COLUMNS, chosen, title=f"History: {len(found)} change(s)")


def _values_text(values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    return "; ".join(f"{k}={cell(v)}" for k, v in values.items())


# --- pooled outcome ---------------------------------------------------------------------------

POOL_COLUMNS = ("label", "events", "n", "figure", "weight", "note")
POOL_CSV = ("row", "reference_key", "reference_number", "label", "events", "n", "estimate",
            "ci_low", "ci_high", "weight", "reason", "pi_low", "pi_high", "tau2", "i2", "q",
            "q_p", "method", "test")


def print_pool(result: PoolResult, fmt: str | None) -> None:
    """`pool`: the pooled outcome in a format of `formats.POOL` (a table on a terminal)."""
    formats.renderer(formats.POOL, choose_format(fmt))(result)


def _pool_unit(result: PoolResult) -> str:
    """`%` after a percentage, ` months` after other units; nothing after a ratio."""
    if result.unit == "percent":
        return "%"
    return f" {result.unit}" if result.unit and result.unit not in ("ratio", "count") else ""


def _fig(x: float | None, places: int) -> str:
    return "" if x is None else f"{x:.{places}f}"


def _with_ci(estimate: float | None, low: float | None, high: float | None,
             places: int) -> str:
    """`75.7 (66.1–83.4)`: a figure with its CI when it has one."""
    from ivcdb.figures import EN_DASH

    text = _fig(estimate, places)
    if low is not None and high is not None:
        text += f" ({_fig(low, places)}{EN_DASH}{_fig(high, places)})"
    return text


def pool_summary(result: PoolResult) -> list[str]:
    """The pooled estimate, its heterogeneity and the review's claims, in lines of words:
    `Pooled (REML, z, k = 14, n = 326): 75.7% (95% CI 66.1–83.4%; ...)`, or why nothing is."""
    from ivcdb.figures import EN_DASH, figure_text

    p = result.pooled
    places = 1 if result.unit == "percent" else 2
    unit = _pool_unit(result)
    lines = []
    if p is None:
        lines.append(f"Not pooled. {result.reason}")
    else:
        n = f", n = {p.n}" if p.n is not None else ""
        test = "Knapp-Hartung" if p.test == "knha" else "z"
        lines.append(
            f"Pooled ({p.method}, {test}, k = {p.k}{n}): {_fig(p.estimate, places)}{unit} "
            f"(95% CI {_fig(p.ci_low, places)}{EN_DASH}{_fig(p.ci_high, places)}{unit}; "
            f"prediction interval {_fig(p.pi_low, places)}{EN_DASH}"
            f"{_fig(p.pi_high, places)}{unit})")
        lines.append(f"Heterogeneity: tau2 = {p.tau2:.4g}, I2 = {p.i2:.1f}%, "
                     f"Q = {p.q:.2f} (p = {p.q_p:.3g})")
    for c in result.claims:
        figure = figure_text(c.value, c.low, c.high, unit=unit, places=places,
                             bounds=c.bounds)
        lines.append(f"Claimed by {c.claim_id}: {figure} {c.citation}".rstrip())
    return lines


def pool_table(result: PoolResult) -> None:
    places = 1 if result.unit == "percent" else 2
    rows = [{"label": f"[{s.reference_number}] {s.label}" if s.reference_number is not None
             else s.label, "events": s.events, "n": s.n,
             "figure": _with_ci(s.estimate, s.ci_low, s.ci_high, places),
             "weight": "" if s.weight is None else f"{s.weight:.1f}%", "note": s.reason}
            for s in result.studies]
    emit(rows, POOL_COLUMNS, "table",
         title=f"{result.label} ({result.review}): the studies its claims cite")
    for line in pool_summary(result):
        print(line)


def pool_csv(result: PoolResult) -> None:
    """The study rows, then one `pooled` row with the heterogeneity figures (or a
    `not_pooled` row with the reason)."""
    rows = [{**s.as_dict(), "row": "study"} for s in result.studies]
    if result.pooled is not None:
        p = result.pooled
        rows.append({"row": "pooled", "label": f"Pooled ({p.method})", "n": p.n,
                     "estimate": p.estimate, "ci_low": p.ci_low, "ci_high": p.ci_high,
                     "weight": 100.0, "pi_low": p.pi_low, "pi_high": p.pi_high,
                     "tau2": p.tau2, "i2": p.i2, "q": p.q, "q_p": p.q_p, "method": p.method,
                     "test": p.test})
    else:
        rows.append({"row": "not_pooled", "reason": result.reason})
    emit(rows, POOL_CSV, "csv")


def pool_json(result: PoolResult) -> None:
    print_json(result.as_dict())
