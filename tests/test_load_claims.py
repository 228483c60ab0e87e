"""Loading claims: every error class refused with file, line and claim id, nothing written;
skip-invalid, dry-run, updates, missing claims and pruning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, snapshot
from loadkit import (
    claim_row,
    claims_csv,
    claims_table,
    count,
    csv_text,
    edit_claims,
    find,
    line_of,
    refuse,
    rows,
    write,
)

from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Problem

OS5 = "li2025-os-5y"
NEPH = "li2025-nephrectomy-no-reconstruction"
AGE = "li2025-case-age"

# (cell changes, code, claim id): each makes one claim invalid.
CELL_CASES = [
    pytest.param({OS5: {"reference_keys": "wachtel2015;nobody1999", "reference_numbers": ""}},
                 Code.UNKNOWN_REFERENCE, OS5, id="unknown-reference-key"),
    pytest.param({OS5: {"reference_keys": "", "reference_numbers": "3;99"}},
                 Code.UNKNOWN_REFERENCE, OS5, id="unknown-reference-number"),
    pytest.param({OS5: {"reference_numbers": "3;6"}}, Code.UNKNOWN_REFERENCE, OS5,
                 id="reference-number-and-key-disagree"),
    pytest.param({OS5: {"reference_numbers": "3"}}, Code.SCHEMA, OS5,
                 id="keys-and-numbers-count-differ"),
    pytest.param({OS5: {"reference_numbers": "3;x"}}, Code.BAD_VALUE, OS5,
                 id="reference-number-not-a-number"),
    pytest.param({OS5: {"outcome": "overall_survival_5"}}, Code.UNKNOWN_OUTCOME, OS5,
                 id="unknown-outcome"),
    pytest.param({OS5: {"unit": "percnt"}}, Code.UNKNOWN_UNIT, OS5, id="unknown-unit"),
    pytest.param({OS5: {"review": "nobody2030"}}, Code.UNKNOWN_REVIEW, OS5,
                 id="unknown-review"),
    pytest.param({OS5: {"value_low": "80"}}, Code.RANGE, OS5, id="low-above-high"),
    pytest.param({OS5: {"value_high": "170"}}, Code.PERCENT, OS5, id="percent-above-100"),
    pytest.param({OS5: {"value_low": "-5"}}, Code.PERCENT, OS5, id="percent-below-0"),
    pytest.param({NEPH: {"numerator": "11"}}, Code.FRACTION, NEPH,
                 id="numerator-above-denominator"),
    pytest.param({NEPH: {"numerator": "-1"}}, Code.COUNT, NEPH, id="negative-count"),
    pytest.param({NEPH: {"numerator": "2.5"}}, Code.COUNT, NEPH, id="fractional-count"),
    pytest.param({NEPH: {"denominator": "0", "numerator": "0"}}, Code.COUNT, NEPH,
                 id="zero-denominator"),
    pytest.param({AGE: {"value": "nan"}}, Code.NOT_FINITE, AGE, id="nan"),
    pytest.param({AGE: {"value": "inf"}}, Code.NOT_FINITE, AGE, id="infinity"),
    pytest.param({AGE: {"value": "-Infinity"}}, Code.NOT_FINITE, AGE, id="minus-infinity"),
    pytest.param({AGE: {"value": "fifty-six"}}, Code.BAD_VALUE, AGE, id="not-a-number"),
    pytest.param({AGE: {"derived": "maybe"}}, Code.BAD_VALUE, AGE, id="bad-derived-flag"),
    pytest.param({OS5: {"qualifier": "roughly"}}, Code.BAD_VALUE, OS5, id="bad-qualifier"),
    pytest.param({AGE: {"paragraph": "0"}}, Code.BAD_VALUE, AGE, id="paragraph-zero"),
    pytest.param({AGE: {"statement": ""}}, Code.MISSING_FIELD, AGE, id="empty-statement"),
    pytest.param({AGE: {"outcome": ""}}, Code.MISSING_FIELD, AGE, id="empty-outcome"),
    pytest.param({AGE: {"population": "index\x00case"}}, Code.CONTROL_CHAR, AGE,
                 id="nul-character"),
    pytest.param({AGE: {"population": "index\x1bcase"}}, Code.CONTROL_CHAR, AGE,
                 id="control-character"),
    pytest.param({OS5: {"bounds": "sd"}}, Code.BAD_VALUE, OS5, id="bounds-not-a-choice"),
    pytest.param({AGE: {"bounds": "ci"}}, Code.MISSING_FIELD, AGE, id="bounds-without-ends"),
    pytest.param({OS5: {"value": "80", "bounds": "ci"}}, Code.RANGE, OS5,
                 id="value-outside-its-ci"),
    pytest.param({OS5: {"value": "30", "bounds": "iqr"}}, Code.RANGE, OS5,
                 id="value-outside-its-iqr"),
]


@pytest.mark.parametrize(("changes", "code", "claim_id"), CELL_CASES)
def test_bad_cell_is_refused_with_location(built: Database, tmp_path: Path,
                                           changes: dict[str, dict[str, str]], code: Code,
                                           claim_id: str) -> None:
    text = edit_claims(changes)
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(built, Sources(claims=[path]))
    find(problems, code, file=path, line=line_of(text, claim_id + ","), key=claim_id)

LOG = ("load_event", "change_record")  # what a load writes about itself


def test_duplicate_claim_id_is_reported_on_the_repeat(built: Database, tmp_path: Path) -> None:
    text = edit_claims({}, extra=(claim_row(OS5),))
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(built, Sources(claims=[path]))
    problem = find(problems, Code.DUPLICATE_KEY, file=path, line=len(text.splitlines()),
                   key=OS5)
    assert f"line {line_of(text, OS5 + ',')}" in problem.message


def test_wrong_cell_count_is_refused(built: Database, tmp_path: Path) -> None:
    short = ["li2025-other"] + claim_row(OS5)[1:-1]  # one cell too few
    text = edit_claims({}, extra=(short,))
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(built, Sources(claims=[path]))
    find(problems, Code.SCHEMA, file=path, line=len(text.splitlines()), key="li2025-other")


FILE_CASES = [
    pytest.param(lambda t: t.replace("claim_id,", "claim_id,extra,", 1), Code.SCHEMA, 1,
                 id="unknown-column"),
    pytest.param(lambda t: t.replace(",statement,", ",", 1), Code.SCHEMA, 1,
                 id="missing-column"),
    pytest.param(lambda t: t.replace("claim_id,review,", "claim_id,claim_id,review,", 1),
                 Code.SCHEMA, 1, id="repeated-column"),
    pytest.param(lambda _t: "", Code.EMPTY, None, id="empty-file"),
    pytest.param(lambda t: t + 'x,"unclosed\n', Code.PARSE, None, id="unclosed-quote"),
]


@pytest.mark.parametrize(("mutate", "code", "line"), FILE_CASES)
def test_broken_file_is_refused(built: Database, tmp_path: Path, mutate: object, code: Code,
                                line: int | None) -> None:
    text = mutate(edit_claims({}))  # type: ignore[operator]
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(built, Sources(claims=[path]))
    if code is Code.PARSE:  # the reader names the line where the broken record starts
        line = len(text.splitlines())
    find(problems, code, file=path, line=line, key="")


def test_bytes_not_utf8(built: Database, tmp_path: Path) -> None:
    text = edit_claims({AGE: {"population": "índex case"}})
    latin1 = text.encode("utf-8").replace("í".encode(), "í".encode("latin-1"))
    path = write(tmp_path / "claims.csv", latin1)
    problems = refuse(built, Sources(claims=[path]))
    find(problems, Code.ENCODING, file=path, line=line_of(text, AGE + ","), key="")


@pytest.mark.parametrize("name", [pytest.param("missing.csv", id="missing-file"),
                                  pytest.param("", id="folder-not-file")])
def test_unreadable_path_is_refused(built: Database, tmp_path: Path, name: str) -> None:
    path = tmp_path / name if name else tmp_path
    find(refuse(built, Sources(claims=[path])), Code.PARSE, file=path, line=None, key="")


def test_long_form_errors(built: Database, tmp_path: Path) -> None:
    table = claims_table()
    header = table[0][:-2] + ["reference_key", "reference_number", "role"]
    row = claim_row(OS5)[:-2]
    long = [header, row + ["wachtel2015", "3", "supports"], row + ["nooromid2022", "5", "agrees"]]
    other = list(row)
    other[header.index("statement")] = "Something else."
    long.append(other + ["nooromid2022", "5", "supports"])
    path = write(tmp_path / "claims.csv", csv_text(long))
    problems = refuse(built, Sources(claims=[path]))
    find(problems, Code.BAD_VALUE, file=path, line=3, key=OS5)  # role
    find(problems, Code.SCHEMA, file=path, line=4, key=OS5)  # rows of one claim disagree


def test_long_form_loads_like_the_wide_form(built: Database, tmp_path: Path) -> None:
    table = claims_table()
    header = table[0][:-2] + ["reference_key", "reference_number", "role"]
    long = [header]
    for row in table[1:]:
        keys, numbers = row[-2].split(";"), row[-1].split(";")
        for key, number in zip(keys, numbers, strict=True):
            long.append(row[:-2] + [key, number, "supports" if key else ""])
    path = write(tmp_path / "claims.csv", csv_text(long))
    before = snapshot(built, sources=False)
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(table) - 1)
    # the load's own record, and the history of the `source` paths it moved, aside
    assert {k: v for k, v in snapshot(built, sources=False).items() if k not in LOG} == {
        k: v for k, v in before.items() if k not in LOG}


def test_every_error_of_a_file_is_reported_at_once(built: Database, tmp_path: Path) -> None:
    text = edit_claims({OS5: {"value_high": "170"}, AGE: {"unit": "zz"},
                        NEPH: {"numerator": "11"}, "li2025-first-report": {"outcome": "zzz"}})
    path = write(tmp_path / "claims.csv", text)
    problems = refuse(built, Sources(claims=[path]))
    assert [(p.key, p.code) for p in problems if p.is_error] == sorted(
        [(AGE, Code.UNKNOWN_UNIT), (OS5, Code.PERCENT), (NEPH, Code.FRACTION),
         ("li2025-first-report", Code.UNKNOWN_OUTCOME)],
        key=lambda kc: line_of(text, kc[0] + ","))
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


# --- skip-invalid, dry-run, updates -------------------------------------------------------------


def _claim(db: Database, claim_id: str) -> dict[str, object]:
    (row,) = rows(db, "claim", "claim_id = :c", c=claim_id)
    return row


def test_skip_invalid_stores_valid_claims_and_lists_skipped(built: Database,
                                                            data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    write(path, edit_claims({OS5: {"value_high": "60", "outcome": "zzz"},
                             NEPH: {"numerator": "4"}, AGE: {"value": "nan"}},
                            extra=(["li2025-broken", "li2025"],)))
    (report,) = load(built, Sources(claims=[path]), skip_invalid=True)
    assert report.skipped == sorted([AGE, "li2025-broken", OS5])
    assert report.updated == 1  # the nephrectomy count
    assert report.added + report.updated + report.unchanged + len(report.skipped) == report.read
    assert report.read == len(claims_table())  # the file's claims + the broken row
    assert _claim(built, OS5)["value_high"] == 70  # the stored version is kept
    assert _claim(built, NEPH)["numerator"] == 4


def test_skip_invalid_skips_claims_of_a_skipped_review(built: Database, data_copy: Path) -> None:
    review = data_copy / "review.toml"
    text = review.read_text(encoding="utf-8").replace('id = "li2025"', 'id = "li2026"')
    write(review, text.replace('key = "liu2018"', 'key = "liu2019"'))
    claims = data_copy / "claims.csv"
    write(claims, edit_claims({OS5: {"review": "li2026"}}))
    reports = load(built, Sources(reviews=[review], claims=[claims]), skip_invalid=True)
    assert reports[0].skipped == ["li2026"] and reports[1].skipped == [OS5]
    assert not rows(built, "review", "code = 'li2026'")


def test_skip_invalid_skips_claims_citing_a_skipped_reference(db: Database,
                                                              data_copy: Path) -> None:
    bib = data_copy / "references.bib"
    write(bib, bib.read_text(encoding="utf-8").replace("samplesize = {377}",
                                                       "samplesize = {many}"))  # bad-count
    sources = Sources.from_folder(data_copy)
    reports = {r.kind: r for r in load(db, sources, skip_invalid=True)}
    assert "li2025" in reports["review"].skipped  # its citation 3 is wachtel2015
    # the new review is skipped, and with it its bibliography, claims and findings
    assert "wachtel2015" in reports["references"].skipped
    assert len(reports["references"].skipped) == reports["references"].read
    assert OS5 in reports["claims"].skipped
    assert not rows(db, "reference", "1 = 1")
    assert reports["findings"].added == 0


def test_dry_run_reports_would_be_counts(built: Database, data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    write(path, edit_claims({OS5: {"value_high": "60"}}, drop=(AGE,)))
    before = snapshot(built)
    (report,) = load(built, Sources(claims=[path]), dry_run=True)
    assert (report.added, report.updated, report.missing) == (0, 1, [AGE])
    assert snapshot(built) == before


def test_edited_value_updates_exactly_one_claim(built: Database, data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    write(path, edit_claims({OS5: {"value_high": "60"}}))
    (report,) = load(built, Sources(claims=[path]))
    total = len(claims_table()) - 1
    assert (report.added, report.updated, report.unchanged) == (0, 1, total - 1)
    assert _claim(built, OS5)["value_high"] == 60


def test_edited_reference_list_replaces_the_links(built: Database, data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    write(path, edit_claims({OS5: {"reference_keys": "nooromid2022", "reference_numbers": "5"}}))
    (report,) = load(built, Sources(claims=[path]))
    assert report.updated == 1
    links = rows(built, "claim_reference", "claim_id = :c", c=_claim(built, OS5)["id"])
    cited = {r["id"]: r["citekey"] for r in rows(built, "reference")}
    assert [cited[link["reference_id"]] for link in links] == ["nooromid2022"]


def test_removed_claim_is_reported_kept_then_pruned(built: Database, data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    write(path, edit_claims({}, drop=(OS5,)))
    (kept,) = load(built, Sources(claims=[path]))
    assert kept.missing == [OS5] and kept.removed == 0 and not kept.changed
    assert rows(built, "claim", "claim_id = :c", c=OS5)
    (pruned,) = load(built, Sources(claims=[path]), prune=True)
    assert pruned.removed == 1
    assert not rows(built, "claim", "claim_id = :c", c=OS5)
    assert count(built, "claim") == len(claims_table()) - 2


def test_added_claim(built: Database, data_copy: Path) -> None:
    new = claim_row(OS5)
    new[0] = "li2025-os-5y-copy"
    path = data_copy / "claims.csv"
    write(path, edit_claims({}, extra=(new,)))
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated) == (1, 0)
    assert _claim(built, "li2025-os-5y-copy")["value_low"] == 40


def test_new_claims_get_the_ids_the_database_would_give(built: Database, data_copy: Path
                                                       ) -> None:
    """New claims' ids are worked out before the insert (never read back): they follow the
    largest id in file order, an edited claim keeps its id, and its links follow both."""
    before = {r["claim_id"]: r["id"] for r in rows(built, "claim")}
    first, second = claim_row(OS5), claim_row(NEPH)
    first[0], second[0] = "li2025-new-a", "li2025-new-b"
    path = data_copy / "claims.csv"
    write(path, edit_claims({OS5: {"value_low": "41"}}, extra=(first, second)))
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated) == (2, 1)
    after = {r["claim_id"]: r["id"] for r in rows(built, "claim")}
    top = max(before.values())
    assert after["li2025-new-b"] == after["li2025-new-a"] + 1 and after["li2025-new-a"] > top
    assert {k: v for k, v in after.items() if k in before} == before
    links = {(r["claim_id"], r["reference_id"]) for r in rows(built, "claim_reference")}
    refs = {r["citekey"]: r["id"] for r in rows(built, "reference")}
    for claim_id, source in (("li2025-new-a", OS5), ("li2025-new-b", NEPH), (OS5, OS5)):
        cited = {ref for claim, ref in links if claim == after[claim_id]}
        assert cited == {ref for claim, ref in links if claim == after[source]}
        assert cited and cited <= set(refs.values())


def test_prune_is_ignored_when_records_were_skipped(built: Database, data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    # li2025-case-age is removed, li2025-os-5y is broken: neither may be deleted.
    write(path, edit_claims({OS5: {"unit": "zz"}}, drop=(AGE,)))
    (report,) = load(built, Sources(claims=[path]), skip_invalid=True, prune=True)
    assert report.missing == [AGE] and report.skipped == [OS5] and report.removed == 0
    assert any("--prune ignored" in p.message for p in report.warnings)
    assert rows(built, "claim", "claim_id = :c", c=AGE)
    assert rows(built, "claim", "claim_id = :c", c=OS5)


def test_unchanged_claims_under_another_file_name_are_unchanged(built: Database,
                                                                tmp_path: Path) -> None:
    """An export saved under a new name is the same content: nothing reports as updated,
    and the claims now belong to the new file (a reload of it reports none missing)."""
    renamed = tmp_path / "claims-export.csv"
    shutil.copyfile(DATA / "claims.csv", renamed)
    (report,) = load(built, Sources(claims=[renamed]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, report.read)
    assert report.missing == []
    (original,) = load(built, Sources(claims=[DATA / "claims.csv"]))
    assert (original.updated, original.unchanged) == (0, original.read)
    (again,) = load(built, Sources(claims=[renamed]))
    assert again.missing == [] and again.unchanged == again.read


# --- every problem at once; citations the review does not list; path spellings ---------------

CLAIM_HEADER = claims_table()[0]
HEADER = ",".join(CLAIM_HEADER) + "\n"


def _codes(problems: list[Problem], line: int) -> set[Code]:
    return {p.code for p in problems if p.line == line}


def test_duplicate_claim_rows_are_each_checked_in_full(built: Database, tmp_path: Path) -> None:
    """Both rows of a duplicated claim_id get their own cell and vocabulary errors too."""
    path = write(tmp_path / "claims.csv", HEADER
                 + "x-1,li2025,overall_survival_5y,S,abc,,,percent,,,,,,false,,s,1,wachtel2015,3\n"
                 + "x-1,li2025,overall_survival_5y,D,50,,,percnt,,,,,,false,,s,1,wachtel2015,3\n")
    problems = refuse(built, Sources(claims=[path]))
    find(problems, Code.BAD_VALUE, file=path, line=2, key="x-1")
    find(problems, Code.DUPLICATE_KEY, file=path, line=3, key="x-1")
    find(problems, Code.UNKNOWN_UNIT, file=path, line=3, key="x-1")


def test_row_with_a_cell_error_is_resolved_too(built: Database, tmp_path: Path) -> None:
    """A bad value does not hide the row's unknown outcome, unit and reference."""
    path = write(tmp_path / "claims.csv", HEADER
                 + "x-5,li2025,overall_surival_5y,T,abc,,,percnt,,,,,,false,,s,1,nosuch2000,\n")
    problems = refuse(built, Sources(claims=[path]))
    assert {Code.BAD_VALUE, Code.UNKNOWN_OUTCOME, Code.UNKNOWN_UNIT,
            Code.UNKNOWN_REFERENCE} <= _codes(problems, 2)
    (report,) = load(built, Sources(claims=[path]), skip_invalid=True)
    assert report.skipped == ["x-5"] and report.added == 0
    assert not rows(built, "claim", "claim_id = 'x-5'")


def test_claim_citing_a_reference_its_review_does_not_list_warns(built: Database,
                                                                 tmp_path: Path) -> None:
    bib = write(tmp_path / "extra.bib", "@article{extra2001,\n author={Doe, J}, title={T}, "
                "journal={J}, year=2001}\n")
    new = claim_row(OS5)
    new[0] = "x-unlisted"
    new[CLAIM_HEADER.index("reference_keys")] = "extra2001"
    new[CLAIM_HEADER.index("reference_numbers")] = ""
    path = write(tmp_path / "claims.csv", csv_text([CLAIM_HEADER, new]))
    reports = load(built, Sources(references=bib, claims=[path]))
    claims = reports[-1]
    assert claims.added == 1
    (warning,) = [p for p in claims.warnings if p.code is Code.NOT_IN_REVIEW]
    assert warning.key == "x-unlisted" and "'li2025'" in warning.message
    # A listed one does not warn.
    (again,) = load(built, Sources(claims=[DATA / "claims.csv"]))
    assert not [p for p in again.problems if p.code is Code.NOT_IN_REVIEW]


@pytest.mark.parametrize("spelling", ["plain", "dot-slashes", "inside", "absolute"])
def test_missing_claim_is_reported_whatever_the_path_spelling(
        built: Database, data_copy: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    """The file the claims came from, named as `data/claims.csv`, `./data//claims.csv`, from
    inside the folder or by absolute path: the removed claim is reported missing, then
    pruned."""
    write(data_copy / "claims.csv", edit_claims({}, drop=(OS5,)))
    monkeypatch.chdir(data_copy if spelling == "inside" else data_copy.parent)
    path = {"plain": Path("data/claims.csv"), "dot-slashes": Path("./data//claims.csv"),
            "inside": Path("claims.csv"), "absolute": data_copy / "claims.csv"}[spelling]
    (kept,) = load(built, Sources(claims=[path]))
    assert kept.missing == [OS5] and kept.unchanged == kept.read
    (pruned,) = load(built, Sources(claims=[path]), prune=True)
    assert pruned.missing == [OS5] and pruned.removed == 1
    assert not rows(built, "claim", "claim_id = :c", c=OS5)


# --- the claims are streamed: validated and written a batch at a time, in one transaction -----


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of two claims, so the curated file takes several."""
    from ivcdb.loaders import writer

    monkeypatch.setattr(writer, "CLAIM_BATCH", 2)


@pytest.mark.usefixtures("small_batches")
def test_an_error_in_the_last_claim_rolls_back_every_batch(built: Database,
                                                           data_copy: Path) -> None:
    """Earlier batches are already written when the last claim is read: they go too."""
    table = claims_table()
    last = table[-1][0]
    path = data_copy / "claims.csv"
    write(path, edit_claims({r[0]: {"statement": r[3] + " (edited)"} for r in table[1:-1]}
                            | {last: {"unit": "percnt"}}))
    problems = refuse(built, Sources(claims=[path]))
    assert [p.code for p in problems if p.is_error] == [Code.UNKNOWN_UNIT]
    find(problems, Code.UNKNOWN_UNIT, file=path, line=len(table), key=last)


@pytest.mark.usefixtures("small_batches")
def test_batches_store_what_one_write_stores(built: Database, data_copy: Path) -> None:
    """Reloading in batches of two changes nothing; an edit updates exactly its claim."""
    path = data_copy / "claims.csv"
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(claims_table()) - 1)
    write(path, edit_claims({NEPH: {"numerator": "4"}}))
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated) == (0, 1)
    assert _claim(built, NEPH)["numerator"] == 4


def test_long_form_rows_of_one_claim_apart_are_one_claim(built: Database,
                                                         tmp_path: Path) -> None:
    """The rows of a long-form claim need not be next to each other."""
    table = claims_table()
    header = table[0][:-2] + ["reference_key", "reference_number", "role"]
    firsts, rests = [], []
    for row in table[1:]:
        keys, numbers = row[-2].split(";"), row[-1].split(";")
        links = [row[:-2] + [k, n, "supports" if k else ""]
                 for k, n in zip(keys, numbers, strict=True)]
        firsts.append(links[0])
        rests += links[1:]
    assert rests, "the curated claims have claims with several references"
    path = write(tmp_path / "claims.csv", csv_text([header, *firsts, *rests]))
    before = snapshot(built, sources=False)
    (report,) = load(built, Sources(claims=[path]))
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(table) - 1)
    # the load's own record, and the history of the `source` paths it moved, aside
    assert {k: v for k, v in snapshot(built, sources=False).items() if k not in LOG} == {
        k: v for k, v in before.items() if k not in LOG}


def test_a_file_changed_during_the_load_writes_nothing(built: Database,
                                                       data_copy: Path) -> None:
    """The claims are read again while writing: a file edited in between is refused."""
    from ivcdb.errors import UsageError
    from ivcdb.loaders import start

    path = data_copy / "claims.csv"
    parsed = start(Sources(claims=[path])).parse()
    write(path, '"unclosed\n')
    before = snapshot(built)
    from ivcdb.loaders.writer import write as write_parsed

    with pytest.raises(UsageError, match="changed while it was being loaded"):
        write_parsed(built, parsed, dry_run=False, skip_invalid=False, prune=False)
    assert snapshot(built) == before


# --- reference_roles: the wide form's citation roles ------------------------------------------


@pytest.mark.parametrize(("cells", "code", "message"), [
    pytest.param({"reference_roles": "supports;disagrees"}, Code.SCHEMA,
                 "'reference_roles' has 2 role(s) but 'reference_keys' 1 reference(s)",
                 id="more-roles-than-keys"),
    pytest.param({"reference_keys": "", "reference_numbers": "1;3",
                  "reference_roles": "disagrees"}, Code.SCHEMA,
                 "'reference_roles' has 1 role(s) but 'reference_numbers' 2 reference(s)",
                 id="fewer-roles-than-numbers"),
    pytest.param({"reference_roles": "agrees"}, Code.BAD_VALUE,
                 "'reference_roles' item 1 'agrees' is not one of", id="unknown-role"),
    pytest.param({"reference_keys": "nayyar2010;wachtel2015", "reference_roles": "supports;"},
                 Code.BAD_VALUE, "'reference_roles' item 2 '' is not one of", id="empty-item"),
])
def test_bad_reference_roles_are_refused_with_location(built: Database, tmp_path: Path,
                                                       cells: dict[str, str], code: Code,
                                                       message: str) -> None:
    path = write(tmp_path / "claims.csv", claims_csv({"claim_id": "c2"}, {"claim_id": "c1",
                                                                          **cells}))
    problem = find(refuse(built, Sources(claims=[path])), code, file=path, line=3, key="c1")
    assert message in problem.message


def _stored_roles(database: Database) -> dict[str, list[str]]:
    """claim id -> the roles of its links in citation order, for the claims `r...`."""
    with database.engine.connect() as conn:
        links = conn.execute(sa.text(
            "SELECT c.claim_id, cr.role FROM claim_reference cr JOIN claim c "
            "ON c.id = cr.claim_id WHERE c.claim_id LIKE 'r%' ORDER BY c.claim_id, cr.position"))
        out: dict[str, list[str]] = {}
        for claim_id, role in links:
            out.setdefault(claim_id, []).append(role)
    return out


def test_reference_roles_are_stored_and_reloaded(built: Database, tmp_path: Path) -> None:
    keys = "nayyar2010;wachtel2015"
    claims = [{"claim_id": "r1", "reference_keys": keys, "reference_roles": "disagrees;supports"},
              {"claim_id": "r2", "reference_keys": "", "reference_numbers": "1;3",
               "reference_roles": "supports;data_source"},
              {"claim_id": "r3", "reference_keys": keys}]
    path = write(tmp_path / "claims_roles.csv", claims_csv(*claims))
    (report,) = load(built, Sources(claims=[path]))
    assert report.added == 3 and not report.problems
    assert _stored_roles(built) == {"r1": ["disagrees", "supports"],
                                    "r2": ["supports", "data_source"],
                                    "r3": ["supports", "supports"]}
    (report,) = load(built, Sources(claims=[path]))
    assert (report.unchanged, report.updated) == (3, 0)
    claims[0]["reference_roles"] = ""  # empty: every reference supports
    write(path, claims_csv(*claims))
    (report,) = load(built, Sources(claims=[path]))
    assert (report.unchanged, report.updated) == (2, 1)
    assert _stored_roles(built)["r1"] == ["supports", "supports"]


def test_the_long_form_has_no_reference_roles(built: Database, tmp_path: Path) -> None:
    header = claims_table()[0][:-2] + ["reference_key", "reference_number", "role",
                                       "reference_roles"]
    row = claim_row(OS5)[:-2] + ["wachtel2015", "3", "supports", "supports"]
    path = write(tmp_path / "claims.csv", csv_text([header, row]))
    problem = find(refuse(built, Sources(claims=[path])), Code.SCHEMA, file=path, line=1,
                   key="")
    assert "'reference_roles' is a column of the wide form" in problem.message


def test_a_claims_bounds_are_stored_and_reloaded_unchanged(built: Database,
                                                           tmp_path: Path) -> None:
    """A point value with its CI keeps both; a file without the column clears it."""
    text = edit_claims({OS5: {"value": "55", "bounds": "ci"}})
    path = write(tmp_path / "claims.csv", text)
    (report,) = load(built, Sources(claims=[path]))
    assert (report.updated, report.problems) == (1, [])
    stored = _claim(built, OS5)
    assert (stored["value"], stored["value_low"], stored["value_high"], stored["bounds"]) == (
        55, 40, 70, "ci")
    (again,) = load(built, Sources(claims=[path]))
    assert (again.unchanged, again.updated) == (again.read, 0)
