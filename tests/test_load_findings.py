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
