"""Vocabulary files: units, measures and outcomes (CSV, one row per code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivcdb.csvformat import LIST_SEPARATOR
from ivcdb.loaders.csvfile import CellReader, read_csv
from ivcdb.report import Code, Problem, Severity
from ivcdb.terms import OUTCOME_KINDS


@dataclass(slots=True)
class VocabFile:
    """A parsed vocabulary file: rows by code, ready to store."""

    kind: str  # "units" | "measures" | "outcomes"
    path: str
    rows: dict[str, dict[str, Any]]
    lines: dict[str, int]
    problems: list[Problem]
    count: int = 0  # rows in the file, valid or not


SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "units": (("code", "label"), ("description",)),
    "measures": (("code", "label"), ("family", "description", "related")),
    "outcomes": (("code", "label", "kind"), ("unit", "measure", "timepoint", "description")),
}
# Each vocabulary file's columns in the order its files and exports write them.
COLUMNS = {kind: required + optional for kind, (required, optional) in SPECS.items()}
# Codes are shared by every review. What a stored code means may change only with
# --update-vocabulary (stored columns, as their files name them); its text (label,
# description) differing is kept as stored, with a warning, unless --update-vocabulary.
MEANING: dict[str, dict[str, str]] = {
    "units": {},
    "measures": {"family": "family", "related": "related"},
    "outcomes": {"kind": "kind", "unit_code": "unit", "measure_code": "measure",
                 "timepoint": "timepoint"},
}
# Meaning a stored code may gain without --update-vocabulary while it has none: declaring
# related measures adds context only (changing or dropping declared ones is a change).
ADDITIVE = frozenset({"related"})
TEXT = {"label": "label", "description": "description"}
SINGULAR = {"units": "unit", "measures": "measure", "outcomes": "outcome"}
UPDATE_OPTION = "--update-vocabulary"


def parse_vocab(kind: str, path: str | Path) -> VocabFile:
    required, optional = SPECS[kind]
    table = read_csv(path, required=required, optional=optional, key_column="code")
    result = VocabFile(kind, str(path), {}, {}, list(table.problems), table.count)
    for row in table.rows:
        code = row.cells.get("code", "")
        cells = CellReader(table, row, code)
        cells.required("code")
        cells.required("label")
        values = _values(kind, cells)
        if code in result.rows:
            cells.error(Code.DUPLICATE_KEY, f"code '{code}' is listed twice (line "
                        f"{result.lines[code]})")
        result.problems.extend(row.problems)
        if code and not row.problems:
            result.rows[code] = values
            result.lines[code] = row.line
    return result


def _values(kind: str, cells: CellReader) -> dict[str, Any]:
    row = cells.row.cells
    values: dict[str, Any] = {
        "code": row.get("code", ""),
        "label": row.get("label", ""),
        "description": row.get("description", ""),
    }
    if kind == "measures":
        values["family"] = row.get("family", "")
        related = [c.strip() for c in (cells.text("related") or "").split(LIST_SEPARATOR)]
        values["related"] = LIST_SEPARATOR.join(_unique(c for c in related if c)) or None
    if kind == "outcomes":
        kind_value = row.get("kind", "")
        if kind_value not in OUTCOME_KINDS:
            cells.error(Code.BAD_VALUE, f"kind '{kind_value}' is not one of "
                        f"{', '.join(OUTCOME_KINDS)}")
        values |= {
            "kind": kind_value,
            "unit_code": cells.text("unit"),
            "measure_code": cells.text("measure"),
            "timepoint": cells.text("timepoint"),
        }
    return values


def outcome_link_problems(vocab: VocabFile, units: set[str], measures: set[str]
                          ) -> list[Problem]:
    """Every outcome's unit and measure must exist (in the database or the same load)."""
    problems = []
    for code, values in vocab.rows.items():
        line = vocab.lines[code]
        if values["unit_code"] and values["unit_code"] not in units:
            problems.append(Problem(Code.UNKNOWN_UNIT, f"unit '{values['unit_code']}' is not "
                                    "in the unit vocabulary", vocab.path, line, code))
        if values["measure_code"] and values["measure_code"] not in measures:
            problems.append(Problem(
                Code.UNKNOWN_MEASURE, f"measure '{values['measure_code']}' is not in the "
                "measure vocabulary", vocab.path, line, code))
    return problems


def measure_link_problems(vocab: VocabFile, measures: set[str]) -> list[Problem]:
    """Every related measure must exist (in the database or the same load) and be another."""
    problems = []
    for code, values in vocab.rows.items():
        for other in (values.get("related") or "").split(LIST_SEPARATOR):
            if other and (other not in measures or other == code):
                why = "is the measure itself" if other == code else "is not in the measure " \
                    "vocabulary"
                problems.append(Problem(Code.UNKNOWN_MEASURE, f"related measure '{other}' "
                                        f"{why}", vocab.path, vocab.lines[code], code))
    return problems


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def _shown(value: Any) -> str:
    return f"'{value}'" if value else "none"


def _differences(stored: dict[str, Any], row: dict[str, Any], columns: dict[str, str]
                 ) -> list[str]:
    """`kind is 'proportion' in the database, 'count' in this file` for each column that
    differs (an empty cell and none are the same)."""
    return [f"{name} is {_shown(stored.get(column))} in the database, "
            f"{_shown(row.get(column))} in this file"
            for column, name in columns.items()
            if (stored.get(column) or None) != (row.get(column) or None)]


def vocabulary_changes(vocab: VocabFile, stored: dict[str, dict[str, Any]], *,
                       update: bool) -> tuple[list[Problem], set[str]]:
    """The file's rows set against the stored codes: a changed meaning is an error (a
    warning with `update`), changed text a warning. Returns the problems and the codes
    whose stored text is kept (changed text, without `update`)."""
    problems: list[Problem] = []
    kept: set[str] = set()
    what = SINGULAR[vocab.kind]
    for code, row in vocab.rows.items():
        old = stored.get(code)
        if old is None:
            continue
        meaning = _differences(old, row, {
            column: name for column, name in MEANING[vocab.kind].items()
            if column not in ADDITIVE or old.get(column)})
        text = _differences(old, row, TEXT)
        line = vocab.lines[code]
        if meaning and not update:
            problems.append(Problem(
                Code.VOCABULARY_MEANING, f"{what} '{code}': {'; '.join(meaning)}; load with "
                f"{UPDATE_OPTION} to change it (every review using it sees the change)",
                vocab.path, line, code))
        elif meaning:
            problems.append(Problem(
                Code.VOCABULARY_MEANING, f"{what} '{code}' changed for every review using "
                f"it: {'; '.join(meaning)}", vocab.path, line, code, Severity.WARNING))
        elif text and not update:
            kept.add(code)
            problems.append(Problem(
                Code.VOCABULARY_TEXT, f"{what} '{code}': {'; '.join(text)}; the stored text "
                f"is kept (load with {UPDATE_OPTION} to replace it)", vocab.path, line, code,
                Severity.WARNING))
    return problems, kept
