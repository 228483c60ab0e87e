"""Codes are shared by every review (issue 12, item 4): a load may add codes; changing a
stored code's meaning is refused unless --update-vocabulary; differing text is kept as stored,
with a warning, unless --update-vocabulary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import DATA, CliRun, snapshot
from loadkit import find, refuse, rows, write

from ivcdb.db import Database
from ivcdb.exports import evidence_table
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Severity

OS5 = "overall_survival_5y"
TABLES = {"units": "unit", "measures": "measure", "outcomes": "outcome"}


def _table(kind: str) -> list[dict[str, str]]:
    with (DATA / f"{kind}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _edited(folder: Path, vocabulary: str, code: str, cells: dict[str, str]
            ) -> tuple[Path, int]:
    """data/VOCABULARY.csv with cells of `code` changed, written to `folder`; its path and
    the code's line."""
    table = _table(vocabulary)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(table[0]), lineterminator="\n")
    writer.writeheader()
    line = 0
    for number, row in enumerate(table, 2):
        if row["code"] == code:
            row.update(cells)
            line = number
        writer.writerow(row)
    assert line, code
    return write(folder / f"{vocabulary}.csv", buffer.getvalue()), line


def _stored(database: Database, kind: str, code: str) -> dict[str, object]:
    (row,) = rows(database, TABLES[kind], "code = :code", code=code)
    return row


def _sources(kind: str, path: Path) -> Sources:
    return Sources(**{kind: path})


MEANING = [
    pytest.param("outcomes", OS5, "kind", "kind", "count", id="outcome-kind"),
    pytest.param("outcomes", OS5, "unit", "unit_code", "months", id="outcome-unit"),
    pytest.param("outcomes", OS5, "measure", "measure_code", "recurrence",
                 id="outcome-measure"),
    pytest.param("outcomes", OS5, "timepoint", "timepoint", "10 years", id="outcome-timepoint"),
    pytest.param("outcomes", OS5, "timepoint", "timepoint", "", id="outcome-timepoint-emptied"),
    pytest.param("measures", "overall_survival", "family", "family", "recurrence",
                 id="measure-family"),
    pytest.param("measures", "recurrence", "related", "related", "disease_specific_survival",
                 id="measure-related-changed"),
    pytest.param("measures", "recurrence", "related", "related", "", id="measure-related-dropped"),
]


def test_an_empty_related_may_be_filled_without_the_option(built: Database,
                                                           tmp_path: Path) -> None:
    """Declaring related measures where none were only adds context: no option needed."""
    path, _ = _edited(tmp_path, "measures", "local_recurrence", {"related":
                                                                 "disease_free_survival"})
    (report,) = load(built, _sources("measures", path))
    assert (report.updated, report.errors) == (1, [])
    assert _stored(built, "measures", "local_recurrence")["related"] == "disease_free_survival"


@pytest.mark.parametrize(("kind", "code", "column", "stored_column", "value"), MEANING)
def test_a_changed_meaning_is_refused_naming_both_definitions(
        built: Database, tmp_path: Path, kind: str, code: str, column: str,
        stored_column: str, value: str) -> None:
    path, line = _edited(tmp_path, kind, code, {column: value})
    stored = _stored(built, kind, code)[stored_column]
    problem = find(refuse(built, _sources(kind, path)), Code.VOCABULARY_MEANING, file=path,
                   line=line, key=code)
    shown = f"'{value}'" if value else "none"
    assert problem.is_error and problem.message.startswith(
        f"{kind[:-1]} '{code}': {column} is '{stored}' in the database, {shown} in this file; "
        "load with --update-vocabulary to change it")


@pytest.mark.parametrize(("kind", "code", "column", "stored_column", "value"), MEANING)
def test_update_vocabulary_applies_a_changed_meaning(
        built: Database, tmp_path: Path, kind: str, code: str, column: str,
        stored_column: str, value: str) -> None:
    path, line = _edited(tmp_path, kind, code, {column: value})
    (report,) = load(built, _sources(kind, path), update_vocabulary=True)
    assert (report.updated, report.added) == (1, 0)
    assert _stored(built, kind, code)[stored_column] == (value or None)
    warning = find(report.problems, Code.VOCABULARY_MEANING, file=path, line=line, key=code)
    assert warning.severity is Severity.WARNING and "for every review using it" in \
        warning.message


def test_several_changes_of_one_code_are_named_in_one_error(built: Database,
                                                            tmp_path: Path) -> None:
    path, line = _edited(tmp_path, "outcomes", OS5, {"kind": "count", "timepoint": "10 years",
                                                     "label": "Another label"})
    problem = find(refuse(built, Sources(outcomes=path)), Code.VOCABULARY_MEANING, file=path,
                   line=line, key=OS5)
    assert ("kind is 'proportion' in the database, 'count' in this file; timepoint is "
            "'5 years' in the database, '10 years' in this file; load with") in problem.message


def test_a_unit_has_no_meaning_to_change(built: Database, tmp_path: Path) -> None:
    path, _ = _edited(tmp_path, "units", "mm", {"label": "millimetre",
                                                "description": "A length."})
    (report,) = load(built, Sources(units=path))
    assert [p.code for p in report.problems] == [Code.VOCABULARY_TEXT]
    assert _stored(built, "units", "mm")["label"] == "mm"


def test_changed_text_keeps_the_stored_text_and_warns(built: Database, tmp_path: Path) -> None:
    """Another review's outcomes file labels overall_survival_5y its own way: li2025's table
    caption does not change; new codes in the same file are added."""
    before = evidence_table(built, OS5)
    stored = _stored(built, "outcomes", OS5)
    path, line = _edited(tmp_path, "outcomes", OS5, {"label": "OS at five years",
                                                     "description": "Another review's words."})
    write(path, path.read_text(encoding="utf-8") + "new_outcome,New,qualitative,,,,New.\n")
    (report,) = load(built, Sources(outcomes=path))
    assert (report.added, report.updated, report.unchanged) == (1, 0, report.read - 1)
    warning = find(report.problems, Code.VOCABULARY_TEXT, file=path, line=line, key=OS5)
    assert warning.severity is Severity.WARNING
    assert (f"label is '{stored['label']}' in the database, 'OS at five years' in this file; "
            f"description is '{stored['description']}' in the database, 'Another review's "
            "words.' in this file; the stored text is kept") in warning.message
    assert _stored(built, "outcomes", OS5) == stored
    assert _stored(built, "outcomes", "new_outcome")["label"] == "New"
    assert evidence_table(built, OS5) == before
    (report,) = load(built, Sources(outcomes=path), update_vocabulary=True)
    assert (report.added, report.updated) == (0, 1) and not report.problems
    assert _stored(built, "outcomes", OS5)["label"] == "OS at five years"
    assert evidence_table(built, OS5) != before


def test_skip_invalid_skips_a_changed_meaning_and_stores_the_rest(built: Database,
                                                                  tmp_path: Path) -> None:
    path, _ = _edited(tmp_path, "measures", "overall_survival", {"family": "recurrence"})
    text = path.read_text(encoding="utf-8")
    empty = "," * (text.split("\n", 1)[0].count(",") - 1)  # the other cells of the header
    write(path, text + f"new_measure,New{empty}\n")
    (report,) = load(built, Sources(measures=path), skip_invalid=True)
    assert report.skipped == ["overall_survival"] and report.added == 1
    assert _stored(built, "measures", "overall_survival")["family"] == "survival"
    assert report.added + report.updated + report.unchanged + len(report.skipped) == report.read


def test_reloading_the_same_vocabulary_says_nothing(built: Database) -> None:
    before = snapshot(built)
    reports = load(built, Sources(units=DATA / "units.csv", measures=DATA / "measures.csv",
                                  outcomes=DATA / "outcomes.csv"))
    assert all(not r.problems and r.unchanged == r.read for r in reports)
    assert {k: v for k, v in snapshot(built).items() if k != "load_event"} == {
        k: v for k, v in before.items() if k != "load_event"}


def test_cli_refuses_then_updates_with_the_option(built: Database, tmp_path: Path,
                                                  cli: CliRun) -> None:
    path, line = _edited(tmp_path, "outcomes", OS5, {"kind": "count"})
    code, _, err = cli("load", "--db", built.url, "--outcomes", str(path))
    assert code == 1 and "nothing was written" in err
    assert (f"{path}:{line}: {OS5}: error [vocabulary-meaning]: outcome '{OS5}': kind is "
            "'proportion' in the database, 'count' in this file; load with "
            "--update-vocabulary to change it") in err
    assert _stored(built, "outcomes", OS5)["kind"] == "proportion"
    code, _, err = cli("load", "--db", built.url, "--outcomes", str(path),
                       "--update-vocabulary")
    assert code == 0 and "warning [vocabulary-meaning]" in err
    assert _stored(built, "outcomes", OS5)["kind"] == "count"


def test_build_takes_the_option(built: Database, data_copy: Path, cli: CliRun) -> None:
    path, _ = _edited(data_copy, "outcomes", OS5, {"timepoint": "10 years"})
    assert path.parent == data_copy
    code, _, err = cli("build", "--db", built.url, "--data", str(data_copy), "-q")
    assert code == 1 and "[vocabulary-meaning]" in err
    code, _, err = cli("build", "--db", built.url, "--data", str(data_copy), "-q",
                       "--update-vocabulary")
    assert code == 0
    assert _stored(built, "outcomes", OS5)["timepoint"] == "10 years"
