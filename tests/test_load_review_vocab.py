"""Loading the review file and the vocabularies: errors refused with their location, nothing
written; counts, updates and skip-invalid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA, snapshot
from loadkit import count, find, line_of, refuse, rows, write

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code

REVIEW = (DATA / "review.toml").read_text(encoding="utf-8")


def citation_line(text: str, number: int) -> int:
    """The line of the `[[citations]]` header of (the last) citation `number`."""
    line = None
    for index, current in enumerate(text.splitlines(), 1):
        if current.strip() == f"number = {number}":
            line = index - 1
    assert line is not None and text.splitlines()[line - 1].strip() == "[[citations]]"
    return line


# (mutation of review.toml, code, line of the problem (a function of the text), key)
Line = Callable[[str], int | None]

def _columns(text: str) -> int:
    """The number of columns of a CSV text's header (the vocabularies gain optional ones)."""
    return len(text.splitlines()[0].split(","))

REVIEW_CASES = [
    pytest.param(lambda t: t.replace("year = 2025", "year = 2025 2026"), Code.PARSE,
                 lambda t: line_of(t, "year ="), "", id="toml-syntax"),
    pytest.param(lambda t: t.replace("[review]", "[revue]"), Code.SCHEMA,
                 lambda _t: None, "", id="no-review-table"),
    pytest.param(lambda _t: "", Code.SCHEMA, lambda _t: None, "", id="empty-file"),
    pytest.param(lambda t: t.replace('id = "li2025"\n', ""), Code.MISSING_FIELD,
                 lambda t: line_of(t, "[review]"), "", id="no-id"),
    pytest.param(lambda t: t.replace('title = "Primary', 'title = 5 #'), Code.BAD_VALUE,
                 lambda t: line_of(t, "title ="), "li2025", id="title-not-text"),
    pytest.param(lambda t: t.replace("year = 2025", 'year = "2025"'), Code.BAD_VALUE,
                 lambda t: line_of(t, "year ="), "li2025", id="year-not-a-number"),
    pytest.param(lambda t: t.replace('title = "Primary', 'title = "\\u0007Primary'),
                 Code.CONTROL_CHAR, lambda t: line_of(t, "title ="), "li2025",
                 id="control-character"),
    pytest.param(lambda t: t.replace('key = "liu2018"', 'key = "liu2019"'),
                 Code.UNKNOWN_REFERENCE, lambda t: citation_line(t, 8), "liu2019",
                 id="cites-unknown-key"),
    pytest.param(lambda t: t.replace("number = 9\n", "number = 8\n"), Code.DUPLICATE_KEY,
                 lambda t: citation_line(t, 8), "dutoit2002", id="duplicate-number"),
    pytest.param(lambda t: t.replace('key = "dutoit2002"', 'key = "LIU2018"'),
                 Code.DUPLICATE_KEY, lambda t: citation_line(t, 9), "LIU2018",
                 id="duplicate-key-differing-in-case"),
    pytest.param(lambda t: t.replace("number = 1\n", "number = 0\n"), Code.BAD_VALUE,
                 lambda t: citation_line(t, 0), "nayyar2010", id="number-zero"),
    pytest.param(lambda t: t.replace('key = "nayyar2010"', 'key = ""'), Code.MISSING_FIELD,
                 lambda t: citation_line(t, 1), "", id="citation-without-key"),
]


@pytest.mark.parametrize(("mutate", "code", "line", "key"), REVIEW_CASES)
def test_review_error_is_refused_with_location(built: Database, tmp_path: Path,
                                               mutate: Callable[[str], str], code: Code,
                                               line: Line, key: str) -> None:
    text = mutate(REVIEW)
    path = write(tmp_path / "review.toml", text)
    problems = refuse(built, Sources(reviews=[path]))
    find(problems, code, file=path, line=line(text), key=key)


def test_review_file_not_utf8_missing_or_folder(built: Database, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", REVIEW.encode("utf-8").replace(b"Li, Xiang", b"Li, X\xe9"))
    find(refuse(built, Sources(reviews=[bad])), Code.ENCODING, file=bad,
         line=line_of(REVIEW, "authors"), key="")
    for path in (tmp_path / "missing.toml", tmp_path):
        find(refuse(built, Sources(reviews=[path])), Code.PARSE, file=path, line=None, key="")


def test_review_reports_one_record(built: Database) -> None:
    (report,) = load(built, Sources(reviews=[DATA / "review.toml"]))
    assert (report.read, report.unchanged, report.added, report.updated) == (1, 1, 0, 0)


def test_edited_review_updates_the_review_only(built: Database, data_copy: Path) -> None:
    path = write(data_copy / "review.toml", REVIEW.replace("Bio-Byword", "Bio Byword"))
    citations = rows(built, "citation")
    (report,) = load(built, Sources(reviews=[path]))
    assert (report.updated, report.unchanged) == (1, 0)
    assert rows(built, "review")[0]["publisher"] == "Bio Byword Scientific Publishing"
    assert rows(built, "citation") == citations


def test_review_errors_all_reported_at_once(built: Database, tmp_path: Path) -> None:
    text = (REVIEW.replace("year = 2025", 'year = "x"')
            .replace('key = "liu2018"', 'key = "liu2019"')
            .replace("number = 1\n", "number = 0\n"))
    path = write(tmp_path / "review.toml", text)
    problems = refuse(built, Sources(reviews=[path]))
    assert {p.code for p in problems} == {Code.BAD_VALUE, Code.UNKNOWN_REFERENCE}
    assert len(problems) == 3


# --- vocabularies --------------------------------------------------------------------------------


def _vocab(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


VOCAB_CASES = [
    pytest.param("units", lambda t: t + "mm,mm,again\n", Code.DUPLICATE_KEY,
                 lambda t: len(t.splitlines()), "mm", id="duplicate-code"),
    pytest.param("units", lambda t: t + "furlong,,\n", Code.MISSING_FIELD,
                 lambda t: len(t.splitlines()), "furlong", id="missing-label"),
    pytest.param("units", lambda t: t + "furlong,fur,long,extra\n", Code.SCHEMA,
                 lambda t: len(t.splitlines()), "furlong", id="wrong-cell-count"),
    pytest.param("units", lambda t: t.replace("code,label,description",
                                              "code,label,description,colour"),
                 Code.SCHEMA, lambda _t: 1, "", id="unknown-column"),
    pytest.param("units", lambda _t: "", Code.EMPTY, lambda _t: None, "", id="empty-file"),
    pytest.param("outcomes", lambda t: t.replace(",proportion,percent,overall_survival,5 years",
                                                 ",share,percent,overall_survival,5 years"),
                 Code.BAD_VALUE, lambda t: line_of(t, "overall_survival_5y,"),
                 "overall_survival_5y", id="unknown-kind"),
    pytest.param("outcomes", lambda t: t.replace(",proportion,percent,overall_survival,5 years",
                                                 ",proportion,pct,overall_survival,5 years"),
                 Code.UNKNOWN_UNIT, lambda t: line_of(t, "overall_survival_5y,"),
                 "overall_survival_5y", id="outcome-unknown-unit"),
    pytest.param("outcomes", lambda t: t.replace(",proportion,percent,overall_survival,5 years",
                                                 ",proportion,percent,os,5 years"),
                 Code.UNKNOWN_MEASURE, lambda t: line_of(t, "overall_survival_5y,"),
                 "overall_survival_5y", id="outcome-unknown-measure"),
    pytest.param("measures", lambda t: t + "x\x00y,label" + "," * (_columns(t) - 2) + "\n",
                 Code.CONTROL_CHAR,
                 lambda t: len(t.splitlines()), "x\x00y", id="nul-character"),
]


@pytest.mark.parametrize(("kind", "mutate", "code", "line", "key"), VOCAB_CASES)
def test_vocabulary_error_is_refused(built: Database, tmp_path: Path, kind: str,
                                     mutate: Callable[[str], str], code: Code, line: Line,
                                     key: str) -> None:
    text = mutate(_vocab(f"{kind}.csv"))
    path = write(tmp_path / f"{kind}.csv", text)
    problems = refuse(built, Sources(**{kind: path}))
    find(problems, code, file=path, line=line(text), key=key)


def test_claims_using_an_outcome_from_the_same_load(built: Database, data_copy: Path) -> None:
    outcomes = data_copy / "outcomes.csv"
    write(outcomes, _vocab("outcomes.csv") + "new_outcome,New,qualitative,,,,A new one.\n")
    claims = data_copy / "claims.csv"
    text = claims.read_text(encoding="utf-8")
    write(claims, text.replace(",li2025,patient_sex,", ",li2025,new_outcome,"))
    reports = load(built, Sources(outcomes=outcomes, claims=[claims]))
    assert [(r.kind, r.added, r.updated) for r in reports] == [
        ("outcomes", 1, 0), ("claims", 0, 1)]


def test_edited_unit_label_is_kept_unless_updated(built: Database, data_copy: Path) -> None:
    path = write(data_copy / "units.csv", _vocab("units.csv").replace("mm,mm,", "mm,millimetre,"))
    (report,) = load(built, Sources(units=path))
    assert (report.updated, report.added, report.unchanged, report.read) == (
        0, 0, report.read, len(_vocab("units.csv").splitlines()) - 1)
    assert rows(built, "unit", "code = 'mm'")[0]["label"] == "mm"
    (report,) = load(built, Sources(units=path), update_vocabulary=True)
    assert (report.updated, report.added, report.unchanged) == (1, 0, report.read - 1)
    assert rows(built, "unit", "code = 'mm'")[0]["label"] == "millimetre"


def test_skip_invalid_outcome_with_unknown_unit(built: Database, data_copy: Path) -> None:
    path = data_copy / "outcomes.csv"
    write(path, _vocab("outcomes.csv") + "bad_one,Bad,count,furlongs,,,\n"
          "good_one,Good,qualitative,,,,\n")
    before = count(built, "outcome")
    (report,) = load(built, Sources(outcomes=path), skip_invalid=True)
    assert report.skipped == ["bad_one"] and report.added == 1
    assert count(built, "outcome") == before + 1
    assert report.added + report.updated + report.unchanged + len(report.skipped) == report.read


def test_vocabulary_reload_is_idempotent(built: Database) -> None:
    before = snapshot(built)
    reports = load(built, Sources(units=DATA / "units.csv", measures=DATA / "measures.csv",
                                  outcomes=DATA / "outcomes.csv"))
    assert all(not r.changed and r.unchanged == r.read for r in reports)
    after = snapshot(built)
    assert after["outcome"] == before["outcome"] and after["unit"] == before["unit"]


def test_prune_removes_unused_codes_and_keeps_used_ones(built: Database,
                                                        data_copy: Path) -> None:
    path = data_copy / "units.csv"
    write(path, _vocab("units.csv") + "furlong,fur,\n")
    load(built, Sources(units=path))
    text = _vocab("units.csv")
    write(path, "".join(line for line in text.splitlines(keepends=True)
                        if not line.startswith("mm,")))
    (kept,) = load(built, Sources(units=path))
    assert kept.missing == ["furlong", "mm"] and kept.removed == 0
    (pruned,) = load(built, Sources(units=path), prune=True)
    assert pruned.removed == 1
    find(pruned.problems, Code.IN_USE, file=path, line=None, key="mm")
    assert {r["code"] for r in rows(built, "unit")} >= {"mm"}
    assert not rows(built, "unit", "code = 'furlong'")
