"""Loading findings.csv: the rules of docs/format.md — errors refused with their location,
how a finding is identified, how its reference is named."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA
from loadkit import find, refuse, rows, write

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code

FINDINGS = (DATA / "findings.csv").read_text(encoding="utf-8")
HEADER = FINDINGS.splitlines()[0]
OS5 = ("wachtel2015,3,overall_survival,55,,,,,percent,5 years,all patients,,"
       "https://scholars.uky.edu/en/publications/outcomes-after-resection-of-leiomyosarcomas-"
       "of-the-inferior-vena-")
assert OS5 in FINDINGS


def _with(row: str) -> str:
    return FINDINGS + row + "\n"


ERROR_CASES = [
    pytest.param(OS5.replace(",overall_survival,", ",,"), Code.MISSING_FIELD, "wachtel2015",
                 id="no-measure"),
    pytest.param(OS5.replace(",overall_survival,", ",os,"), Code.UNKNOWN_MEASURE,
                 "wachtel2015", id="unknown-measure"),
    pytest.param(OS5.replace(",percent,", ",pct,"), Code.UNKNOWN_UNIT, "wachtel2015",
                 id="unknown-unit"),
    pytest.param(OS5.replace("wachtel2015,3,", "wachtel2016,3,"), Code.UNKNOWN_REFERENCE,
                 "wachtel2016", id="unknown-reference"),
    pytest.param(OS5.replace("wachtel2015,3,", ",,"), Code.MISSING_FIELD, "",
                 id="no-reference"),
    pytest.param(OS5.replace(",55,,,", ",101,,,"), Code.PERCENT, "wachtel2015",
                 id="percent-above-100"),
    pytest.param(OS5.replace(",55,,,", ",,60,50,"), Code.RANGE, "wachtel2015",
                 id="low-above-high"),
    pytest.param(OS5.replace(",55,,,,,", ",55,,,5,4,"), Code.FRACTION, "wachtel2015",
                 id="numerator-above-denominator"),
    pytest.param(OS5.replace(",55,,,,,", ",55,,,-1,4,"), Code.COUNT, "wachtel2015",
                 id="negative-count"),
    pytest.param(OS5.replace(",55,", ",about 55,"), Code.BAD_VALUE, "wachtel2015",
                 id="not-a-number"),
    pytest.param(OS5.replace(",55,", ",inf,"), Code.NOT_FINITE, "wachtel2015",
                 id="not-finite"),
]


# The columns added for synthesis (0.2), each case one row of OS5 with these cells.
LATER = ("n", "ci_low", "ci_high", "ci_level", "se", "bounds", "effect")


def _with_later(cells: dict[str, str], row: str = OS5) -> str:
    """The curated findings with the synthesis columns (empty), then `row` with `cells`."""
    lines = [line + "," * len(LATER) for line in FINDINGS.splitlines()]
    lines[0] = HEADER + "," + ",".join(LATER)
    return "\n".join([*lines, row + "," + ",".join(cells.get(c, "") for c in LATER)]) + "\n"


SYNTHESIS_CASES = [
    pytest.param({"effect": "rate"}, Code.BAD_VALUE, id="effect-not-a-choice"),
    pytest.param({"bounds": "ci"}, Code.BAD_VALUE, id="bounds-ci-is-not-a-finding-choice"),
    pytest.param({"ci_low": "60", "ci_high": "50"}, Code.RANGE, id="ci-low-above-high"),
    pytest.param({"ci_low": "50"}, Code.MISSING_FIELD, id="ci-low-only"),
    pytest.param({"ci_high": "60"}, Code.MISSING_FIELD, id="ci-high-only"),
    pytest.param({"se": "-0.5"}, Code.BAD_VALUE, id="negative-se"),
    pytest.param({"ci_low": "50", "ci_high": "60", "ci_level": "100"}, Code.OUT_OF_RANGE,
                 id="level-100"),
    pytest.param({"ci_level": "0"}, Code.OUT_OF_RANGE, id="level-0"),
    pytest.param({"ci_level": "-5"}, Code.OUT_OF_RANGE, id="level-negative"),
    pytest.param({"ci_low": "56", "ci_high": "60"}, Code.RANGE, id="value-below-its-ci"),
    pytest.param({"ci_low": "40", "ci_high": "54.9"}, Code.RANGE, id="value-above-its-ci"),
    pytest.param({"n": "0"}, Code.COUNT, id="n-zero"),
    pytest.param({"n": "-3"}, Code.COUNT, id="n-negative"),
    pytest.param({"n": "many"}, Code.BAD_VALUE, id="n-not-a-number"),
    pytest.param({"bounds": "iqr"}, Code.MISSING_FIELD, id="iqr-without-ends"),
]


@pytest.mark.parametrize(("cells", "code"), SYNTHESIS_CASES)
def test_a_bad_synthesis_cell_is_refused_with_location(built: Database, tmp_path: Path,
                                                       cells: dict[str, str],
                                                       code: Code) -> None:
    text = _with_later(cells, OS5.replace("all patients", "another population"))
    path = write(tmp_path / "findings.csv", text)
    problem = find(refuse(built, Sources(findings=[path])), code, file=path,
                   line=len(text.splitlines()), key="wachtel2015")
    assert any(column in problem.message for column in (*LATER, "value"))


def test_numerator_above_n_and_value_outside_an_iqr_are_refused(built: Database,
                                                                tmp_path: Path) -> None:
    row = OS5.replace(",55,,,,,", ",55,60,70,5,10,").replace("all patients", "others")
    text = _with_later({"n": "4", "bounds": "iqr"}, row)
    path = write(tmp_path / "findings.csv", text)
    problems = refuse(built, Sources(findings=[path]))
    for code in (Code.FRACTION, Code.RANGE):
        find(problems, code, file=path, line=len(text.splitlines()), key="wachtel2015")


def test_the_synthesis_fields_are_stored_exported_and_reloaded(built: Database,
                                                               tmp_path: Path) -> None:
    from ivcdb.exports import export

    cells = {"n": "300", "ci_low": "49", "ci_high": "61", "ci_level": "90", "se": "3.1",
             "effect": "percent"}
    text = _with_later(cells, OS5.replace("all patients", "resected"))
    path = write(tmp_path / "findings.csv", text)
    (report,) = load(built, Sources(findings=[path]))
    assert (report.added, report.problems) == (1, [])
    (stored,) = rows(built, "source_finding", "population = 'resected'")
    assert {c: stored[c] for c in LATER} == {"n": 300, "ci_low": 49, "ci_high": 61,
                                             "ci_level": 90, "se": 3.1, "bounds": None,
                                             "effect": "percent"}
    exported = export(built, "findings", fmt="csv").decode("utf-8")
    header, *lines = exported.splitlines()
    assert header.endswith("," + ",".join(LATER))
    (line,) = [x for x in lines if ",resected," in x]
    assert line.endswith(",300,49,61,90,3.1,,percent")
    (again,) = load(built, Sources(findings=[write(tmp_path / "export.csv", exported)]))
    assert (again.added, again.updated, again.problems) == (0, 0, [])


def test_a_file_without_the_synthesis_columns_hashes_as_before(built: Database,
                                                               tmp_path: Path) -> None:
    """The columns written empty change nothing: every finding is unchanged."""
    path = write(tmp_path / "findings.csv", "\n".join(_with_later({}).splitlines()[:-1]) + "\n")
    (report,) = load(built, Sources(findings=[path]))
    assert (report.unchanged, report.added, report.updated) == (38, 0, 0)


@pytest.mark.parametrize(("row", "code", "key"), ERROR_CASES)
def test_finding_error_is_refused_with_location(built: Database, tmp_path: Path, row: str,
                                                code: Code, key: str) -> None:
    text = _with(row.replace("all patients", "another population"))  # not a repeat
    path = write(tmp_path / "findings.csv", text)
    find(refuse(built, Sources(findings=[path])), code, file=path,
         line=len(text.splitlines()), key=key)


def test_the_same_finding_twice_names_the_first_line(built: Database, tmp_path: Path) -> None:
    text = _with(OS5.replace(",55,", ",56,"))  # another figure: still the same finding
    path = write(tmp_path / "findings.csv", text)
    problem = find(refuse(built, Sources(findings=[path])), Code.DUPLICATE_KEY, file=path,
                   line=len(text.splitlines()), key="wachtel2015")
    assert f"line {FINDINGS.splitlines().index(OS5) + 1}" in problem.message


def _finding_ids(db: Database) -> dict[str, float | None]:
    return {r["finding_id"]: r["value"] for r in rows(db, "source_finding")}


def test_an_edited_figure_updates_the_same_finding(built: Database, data_copy: Path) -> None:
    before = _finding_ids(built)
    path = write(data_copy / "findings.csv", FINDINGS.replace(OS5, OS5.replace(",55,", ",56,")))
    (report,) = load(built, Sources(findings=[path]))
    assert (report.updated, report.added, report.missing) == (1, 0, [])
    after = _finding_ids(built)
    assert after.keys() == before.keys()
    assert [fid for fid in after if after[fid] != before[fid]] != []


@pytest.mark.parametrize(("column", "counts"), [
    ("timepoint", (1, 0, 1)), ("population", (1, 0, 1)),
    # what a source reports is the same finding whatever its note: this file's only finding,
    # edited (the old id, no longer in the file, is reported missing)
    ("note", (0, 1, 1)), ("seen_at", (0, 1, 1))])
def test_an_edited_identity_makes_another_finding(built: Database, data_copy: Path,
                                                  column: str,
                                                  counts: tuple[int, int, int]) -> None:
    table = list(csv.DictReader(io.StringIO(FINDINGS)))
    (edited,) = [r for r in table if ",".join(r.values()) == OS5]
    edited[column] += " (edited)"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HEADER.split(","), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    path = write(data_copy / "findings.csv", buffer.getvalue())
    (report,) = load(built, Sources(findings=[path]))
    assert (report.added, report.updated, len(report.missing)) == counts


def _without_column(text: str, column: str) -> str:
    table = list(csv.reader(io.StringIO(text)))
    index = table[0].index(column)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [row[:index] + row[index + 1:] for row in table])
    return buffer.getvalue()


@pytest.mark.parametrize("column", ["reference_key", "reference_number"])
def test_either_reference_column_may_be_left_out(built: Database, tmp_path: Path,
                                                 column: str) -> None:
    """With one review loaded, a number alone names its reference: the same findings."""
    path = write(tmp_path / "findings.csv", _without_column(FINDINGS, column))
    (report,) = load(built, Sources(findings=[path]))
    assert (report.unchanged, report.added, report.updated) == (38, 0, 0)


def test_a_number_alone_is_refused_with_several_reviews(built: Database,
                                                        tmp_path: Path) -> None:
    other = write(tmp_path / "review.toml", '[review]\nid = "b2026"\ntitle = "B"\n'
                  '[[citations]]\nnumber = 3\nkey = "zer2018"\n')
    bib = write(tmp_path / "references.bib", "@article{zer2018, title = {Z}, year = 2018}\n")
    load(built, Sources(reviews=[other], references=bib))
    text = _without_column(FINDINGS, "reference_key")
    path = write(tmp_path / "findings.csv", text)
    problems = refuse(built, Sources(findings=[path]))
    find(problems, Code.UNKNOWN_REFERENCE, file=path, line=2, key="")


def test_a_finding_id_column_is_taken_as_given(built: Database, tmp_path: Path) -> None:
    from ivcdb.exports import export

    exported = export(built, "findings", fmt="csv").decode("utf-8")
    path = write(tmp_path / "export.csv", exported)
    (report,) = load(built, Sources(findings=[path]))
    assert (report.unchanged, report.added) == (38, 0)
    renamed = exported.replace("\nwachtel2015-overall-survival-", "\nmy-own-id-", 1)
    assert renamed != exported
    # the same finding under another id in this file: stored once, this file's id recorded
    (report,) = load(built, Sources(findings=[write(path, renamed)]))
    assert (report.added, report.unchanged, len(report.missing)) == (0, 38, 1)
    assert report.missing[0].startswith("wachtel2015-overall-survival-")
    keys = [r["finding_key"] for r in rows(built, "finding_source", "path = :p",
                                           p=str(path.resolve()))]
    assert sum(k.startswith("my-own-id-") for k in keys) == 1


# --- review.toml and vocabularies: documented rules not tested elsewhere -----------------------


Edit = Callable[[str], str]


def test_review_values_as_documented(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "review.toml", '[review]\nid = "b2026"\ntitle = "B"\n'
                 'authors = "Smith, Anna"\npublished = 2026-01-31\n'
                 'affiliation = "A lab"\nkeywords = ["x", "y"]\n')
    (report,) = load(db, Sources(reviews=[path]))
    assert not report.problems
    (review,) = rows(db, "review")
    assert (review["authors"], review["published"]) == ("Smith, Anna", "2026-01-31")
    assert review["extra"] == '{"affiliation": "A lab", "keywords": ["x", "y"]}'


def test_a_vocabulary_file_misses_every_code_it_does_not_list(built: Database,
                                                               tmp_path: Path) -> None:
    """Whichever file loaded a code: here codes of data/units.csv, reloaded from another."""
    units = (DATA / "units.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path = write(tmp_path / "other-units.csv", "".join(units[:3]))
    (report,) = load(built, Sources(units=path))
    assert len(report.missing) == len(units) - 3


def test_a_csv_byte_order_mark_is_dropped(built: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "findings.csv", "\ufeff" + FINDINGS)
    (report,) = load(built, Sources(findings=[path]))
    assert (report.unchanged, report.problems) == (38, [])
