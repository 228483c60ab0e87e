"""docs/format.md is tested: its worked example, written into a folder made by `ivcdb review
new`, loads with no problem; its column tables name the loader's columns, and a cell it calls
required or optional is so; its general rules hold."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import DATA, ROOT, CliRun
from loadkit import write

from ivcdb.contract import CLAIM_COLUMNS, CLAIM_LONG_COLUMNS, FINDING_COLUMNS
from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders import FOLDER_FILES, Sources, load
from ivcdb.loaders.review import REVIEW_FIELDS
from ivcdb.loaders.vocab import COLUMNS as VOCAB_COLUMNS
from ivcdb.loaders.vocab import SPECS
from ivcdb.scaffold import new_review

FORMAT = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
LONG = "claims.csv (long form)"
_EXAMPLE = re.compile(r"<!-- example: ([^>]+?) -->\n```\w*\n(.*?)```\n", re.DOTALL)
_COLUMNS = re.compile(r"<!-- columns: ([^>]+?) -->\n\|[^\n]*\n\|[^\n]*\n((?:\|[^\n]*\n)+)")
EXAMPLES = dict(_EXAMPLE.findall(FORMAT))
REVIEW_ID = tomllib.loads(EXAMPLES["review.toml"])["review"]["id"]


def _table(name: str) -> list[tuple[str, str]]:
    """(column, cell) of each row of the docs' column table for `name`."""
    tables = dict(_COLUMNS.findall(FORMAT))
    rows = [line.split(" | ") for line in tables[name].splitlines()]
    return [(row[0].strip("| `"), row[1].strip()) for row in rows]


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _csv_text(table: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    return buffer.getvalue()


def _example_folder(folder: Path, *, skip: tuple[str, ...] = ()) -> Path:
    """A review started with `new_review` and filled in with the docs' worked example."""
    new_review(REVIEW_ID, folder)
    for name in FOLDER_FILES.values():
        if name not in skip:
            write(folder / name, EXAMPLES[name])
    return folder


@pytest.fixture
def example(db: Database, tmp_path: Path) -> tuple[Database, Path]:
    folder = _example_folder(tmp_path / "example")
    load(db, Sources.from_folder(folder))
    return db, folder


def test_the_example_fills_every_file_build_reads() -> None:
    assert set(EXAMPLES) == set(FOLDER_FILES.values()) | {LONG}


@pytest.mark.parametrize("name", ["units.csv", "measures.csv", "outcomes.csv", "claims.csv",
                                  "findings.csv"])
def test_example_headers_are_those_review_new_writes(tmp_path: Path, name: str) -> None:
    new_review(REVIEW_ID, tmp_path)
    header = (tmp_path / name).read_text(encoding="utf-8")
    assert EXAMPLES[name].splitlines()[0] + "\n" == header


def test_the_worked_example_loads_with_no_problem(tmp_path: Path, db_url: str,
                                                  cli: CliRun) -> None:
    folder = tmp_path / "li2025-excerpt"
    assert cli("review", "new", REVIEW_ID, str(folder))[0] == 0
    for name in FOLDER_FILES.values():  # "put these rows into its files"
        write(folder / name, EXAMPLES[name])
    code, _, err = cli("build", "--db", db_url, "--data", str(folder), "-q")
    assert (code, err) == (0, "")
    code, out, _ = cli("reviews", "--db", db_url, "--format", "json")
    claims, references, findings = map(int, re.search(
        rf"lists {REVIEW_ID} with (\d+) claims, (\d+) references and (\d+) findings",
        FORMAT).groups())  # type: ignore[union-attr]
    (row,) = json.loads(out)
    assert (row["id"], row["claims"], row["references"], row["findings"]) == (
        REVIEW_ID, claims, references, findings)
    code, out, _ = cli("verify", "--db", db_url, "--format", "json")
    consistent = re.search(r"`ivcdb verify` finds `([^`]+)` and `([^`]+)` consistent", FORMAT)
    statuses = {c["claim_id"]: c["status"] for c in json.loads(out)}
    assert consistent is not None
    assert statuses == dict.fromkeys(consistent.groups(), "consistent")


def test_the_long_form_example_loads_the_same_claims(example: tuple[Database, Path],
                                                    tmp_path: Path) -> None:
    db, _ = example
    path = write(tmp_path / "long.csv", EXAMPLES[LONG])
    (report,) = load(db, Sources(claims=[path]))
    assert (report.read, report.unchanged, report.added, report.updated) == (3, 3, 0, 0)
    assert not report.problems


@pytest.mark.parametrize("name", ["units.csv", "measures.csv", "outcomes.csv", "claims.csv",
                                  "findings.csv"])
def test_the_example_rows_are_the_curated_data(name: str) -> None:
    """Row for row, on the curated file's columns; a column it leaves out (one added later,
    as the example shows every column `review new` writes) is empty in the example."""
    curated = _csv((DATA / name).read_text(encoding="utf-8"))
    example = _csv(EXAMPLES[name])
    kept = [i for i, column in enumerate(example[0]) if column in curated[0]]
    assert all(not row[i] for row in example[1:] for i in set(range(len(row))) - set(kept))
    assert {tuple(row[i] for i in kept) for row in example} <= {tuple(r) for r in curated}


def test_the_example_references_and_review_are_the_curated_data() -> None:
    curated = (DATA / "references.bib").read_text(encoding="utf-8")
    for entry in EXAMPLES["references.bib"].strip().split("\n\n"):
        assert entry in curated
    example = tomllib.loads(EXAMPLES["review.toml"])
    data = tomllib.loads((DATA / "review.toml").read_text(encoding="utf-8"))
    assert example["review"].items() <= data["review"].items()
    assert all(c in data["citations"] for c in example["citations"])


# --- the column tables ------------------------------------------------------------------------

LOADER_COLUMNS = {
    "units.csv": VOCAB_COLUMNS["units"],
    "measures.csv": VOCAB_COLUMNS["measures"],
    "outcomes.csv": VOCAB_COLUMNS["outcomes"],
    "claims.csv": CLAIM_COLUMNS,
    LONG: tuple(c for c in CLAIM_LONG_COLUMNS if c not in CLAIM_COLUMNS),
    "findings.csv": FINDING_COLUMNS,
    "review.toml": REVIEW_FIELDS,
}


@pytest.mark.parametrize("name", list(LOADER_COLUMNS))
def test_column_tables_name_the_loaders_columns_in_order(name: str) -> None:
    assert tuple(column for column, _ in _table(name)) == LOADER_COLUMNS[name]


@pytest.mark.parametrize("kind", list(SPECS))
def test_vocabulary_required_columns_are_the_loaders(kind: str) -> None:
    required = {c for c, cell in _table(f"{kind}.csv") if cell == "required"}
    assert required == set(SPECS[kind][0])


CELLS = [(name, column, cell) for name in ("units.csv", "measures.csv", "outcomes.csv",
                                           "claims.csv", "findings.csv")
         for column, cell in _table(name)]


@pytest.mark.parametrize(("name", "column", "cell"), CELLS,
                         ids=[f"{n}-{c}" for n, c, _ in CELLS])
def test_a_cell_is_required_or_optional_as_documented(example: tuple[Database, Path],
                                                      tmp_path: Path, name: str, column: str,
                                                      cell: str) -> None:
    """The example file with `column` empty in every row: refused when documented required,
    loaded when optional; of two columns of which one is needed, either may be empty."""
    db, folder = example
    table = _csv(EXAMPLES[name])
    index = table[0].index(column)
    for row in table[1:]:
        row[index] = ""
    path = write(tmp_path / name, _csv_text(table))
    kind = next(k for k, n in FOLDER_FILES.items() if n == name)
    sources = Sources(**{kind: [path] if kind in ("claims", "findings") else path})
    # the codes are stored already: emptying a cell of one changes it (shared codes)
    if cell == "required":
        with pytest.raises(LoadRefused):
            load(db, sources, dry_run=True, update_vocabulary=True)
    else:
        assert cell in ("optional", "one of the two")
        reports = load(db, sources, dry_run=True, update_vocabulary=True)
        assert not [p for r in reports for p in r.errors]


def test_one_of_the_two_reference_columns_is_needed(example: tuple[Database, Path],
                                                    tmp_path: Path) -> None:
    db, _ = example
    pair = [c for c, cell in _table("findings.csv") if cell == "one of the two"]
    assert pair == ["reference_key", "reference_number"]
    table = _csv(EXAMPLES["findings.csv"])
    for row in table[1:]:
        row[0] = row[1] = ""
    with pytest.raises(LoadRefused):
        load(db, Sources(findings=[write(tmp_path / "f.csv", _csv_text(table))]), dry_run=True)


@pytest.mark.parametrize("key", [k for k, _ in _table("review.toml")])
def test_review_keys_are_required_or_optional_as_documented(example: tuple[Database, Path],
                                                            tmp_path: Path, key: str) -> None:
    db, _ = example
    text = "".join(line for line in EXAMPLES["review.toml"].splitlines(keepends=True)
                   if not line.startswith(f"{key} ="))
    sources = Sources(reviews=[write(tmp_path / "review.toml", text)])
    if dict(_table("review.toml"))[key] == "required":
        with pytest.raises(LoadRefused):
            load(db, sources, dry_run=True)
    else:
        assert not [p for r in load(db, sources, dry_run=True) for p in r.errors]


# --- rules for every file ---------------------------------------------------------------------


def _reordered(table: list[list[str]]) -> list[list[str]]:
    return [list(reversed(row)) for row in table]


def _padded(table: list[list[str]]) -> list[list[str]]:
    return [table[0]] + [[f"  {cell} " for cell in row] for row in table[1:]]


def _blank_rows(table: list[list[str]]) -> list[list[str]]:
    blank = [""] * len(table[0])
    return [table[0], blank] + [r for row in table[1:] for r in (row, blank)]


def _cells(column: str, old: str, new: str) -> object:
    def edit(table: list[list[str]]) -> list[list[str]]:
        index = table[0].index(column)
        for row in table[1:]:
            row[index] = new if row[index] == old else row[index]
        return table
    return edit


SAME_CLAIMS = [
    pytest.param(_reordered, id="columns-in-any-order"),
    pytest.param(_padded, id="spaces-around-cells-dropped"),
    pytest.param(_blank_rows, id="blank-rows-skipped"),
    *(pytest.param(_cells("derived", "false", word), id=f"flag-{word or 'empty'}")
      for word in ("FALSE", "no", "n", "f", "0", "")),
    pytest.param(_cells("paragraph", "3", "3.0"), id="whole-number-with-point-zero"),
    pytest.param(_cells("reference_numbers", "3;5", " 3 ; 5 "), id="list-items-trimmed"),
]


@pytest.mark.parametrize("edit", SAME_CLAIMS)
def test_general_csv_rules_read_the_same_claims(example: tuple[Database, Path],
                                                tmp_path: Path, edit: object) -> None:
    db, _ = example
    table = edit(_csv(EXAMPLES["claims.csv"]))  # type: ignore[operator]
    path = write(tmp_path / "claims.csv", _csv_text(table))
    (report,) = load(db, Sources(claims=[path]))
    assert (report.unchanged, report.added, report.updated) == (3, 0, 0)
    assert not report.problems


def test_flag_words_for_true(example: tuple[Database, Path], tmp_path: Path) -> None:
    db, _ = example
    table = _csv(EXAMPLES["claims.csv"])
    for word, updated in (("true", 3), ("TRUE", 0), ("yes", 0), ("y", 0), ("t", 0), ("1", 0)):
        path = write(tmp_path / "claims.csv",
                     _csv_text(_cells("derived", "false", word)(table)))  # type: ignore[operator]
        (report,) = load(db, Sources(claims=[path]))
        assert (report.updated, report.unchanged) == (updated, 3 - updated), word
        table = _csv(EXAMPLES["claims.csv"])
