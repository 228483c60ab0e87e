"""Reading a CSV input: header check, per-cell parsing and located problems."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivcdb.contract import Field, Kind
from ivcdb.csvformat import INT_MAX, OutOfRange, unneutralise, whole_number
from ivcdb.loaders.files import read_text
from ivcdb.progress import track
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import BARE_CR, codepoint, control_character, key_problem, nfc

TRUE = frozenset({"true", "yes", "1", "y", "t"})
FALSE = frozenset({"false", "no", "0", "n", "f", ""})


@dataclass(slots=True)
class Row:
    """One data row: its first line in the file and its cells by column name."""

    line: int
    cells: dict[str, str]
    key: str = ""
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class CsvTable:
    path: str
    header: list[str]
    rows: list[Row]
    problems: list[Problem]  # file-level, and rows too broken to read (not in `rows`)

    @property
    def count(self) -> int:
        """Data rows in the file, readable or not: stored + skipped must add up to this."""
        return len(self.rows) + len({p.line for p in self.problems if p.line and p.line > 1})


class _CsvError(Exception):
    def __init__(self, error: csv.Error, line: int) -> None:
        super().__init__(str(error))
        self.line = line


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as error:
        raise _CsvError(error, start) from error


# Columns holding identifiers (keys and codes): no bidi, zero-width or other invisible character.
IDENTIFIER_COLUMNS = frozenset({"claim_id", "review", "outcome", "unit", "measure", "code",
                                "reference_key", "reference_keys"})


def bare_cr_line(text: str) -> int | None:
    """The line of the first CR outside a quoted cell that is not part of a CRLF, if any.

    Such a CR ends a row for some readers and not for others; inside quotes it round-trips.
    """
    if BARE_CR.search(text) is None:  # the usual file: no scan
        return None
    quoted, opens, line = False, True, 1  # opens: a quote here starts a quoted cell
    for index, char in enumerate(text):
        line += char == "\n"
        if quoted:
            if char == '"':  # the end, or the first of a doubled quote (reopened next)
                quoted, opens = False, True
            continue
        if char == '"' and opens:
            quoted = True
        elif char == "\r" and not text.startswith("\n", index + 1):
            return line
        opens = char in ",\n"
    return None


def read_csv(path: str | Path, *, required: Sequence[str], optional: Sequence[str] = (),
             alternatives: Sequence[Sequence[str]] = (), text: str | None = None,
             key_column: str | None = None) -> CsvTable:
    """Rows of a CSV file whose header must hold `required` columns (+ `optional` ones).

    `alternatives` lists other accepted required sets (e.g. the long form of the claims CSV);
    `key_column` names the column whose cell keys a problem of that row.
    """
    path_s = str(path)
    if text is None:
        text, problem = read_text(path)
        if problem is not None:
            return CsvTable(path_s, [], [], [problem])
    table = CsvTable(path_s, [], [], [])
    cr_line = bare_cr_line(text)
    if cr_line is not None:
        table.problems.append(Problem(Code.BARE_CR, "a carriage return (CR) outside a quoted "
                                      "cell; use LF or CRLF line ends, or quote the cell",
                                      file=path_s, line=cr_line))
        return table
    try:
        records = list(_records(text))
    except _CsvError as error:
        table.problems.append(Problem(Code.PARSE, f"not valid CSV: {error} (an unbalanced "
                                      "quote?)", file=path_s, line=error.line))
        return table
    if not records:
        table.problems.append(Problem(Code.EMPTY, "the file is empty (no header)", file=path_s))
        return table
    header = [nfc(h.strip()) for h in records[0][1]]
    table.header = header
    accepted = [list(required), *[list(a) for a in alternatives]]
    if not any(set(req) <= set(header) for req in accepted):
        missing = [c for c in required if c not in header]
        table.problems.append(Problem(Code.SCHEMA, f"missing column(s): {', '.join(missing)}; "
                                      f"expected {', '.join(required)}", file=path_s, line=1))
        return table
    known = set().union(*map(set, accepted), optional)
    unknown = [h for h in header if h not in known]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or duplicated:
        what = [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
        what += [f"repeated column(s): {', '.join(duplicated)}"] if duplicated else []
        table.problems.append(Problem(Code.SCHEMA, "; ".join(what), file=path_s, line=1))
        return table
    key_index = header.index(key_column) if key_column in header else None
    for line, record in track(records[1:], f"reading {Path(path_s).name}"):
        if not any(cell.strip() for cell in record):
            continue
        key = record[key_index].strip() if key_index is not None and key_index < len(
            record) else ""
        if len(record) != len(header):
            table.problems.append(Problem(
                Code.SCHEMA, f"{len(record)} cells, the header has {len(header)} (a missing "
                "or extra comma, or a cell with a comma that is not quoted?)",
                file=path_s, line=line, key=key))
            continue
        row = Row(line, {}, key)
        for name, cell in zip(header, record, strict=True):
            bad = control_character(cell)
            if bad is not None:
                row.problems.append(Problem(
                    Code.CONTROL_CHAR,
                    f"column '{name}' contains control character {codepoint(bad)}; remove it",
                    file=path_s, line=line, key=key))
            elif (name in IDENTIFIER_COLUMNS and not (cell.isascii() and cell.isprintable())
                  and (wrong := key_problem(cell.strip()))):
                row.problems.append(Problem(Code.BAD_IDENTIFIER, f"column '{name}' {wrong}",
                                            file=path_s, line=line, key=key))
            cell = cell.strip()
            row.cells[name] = nfc(unneutralise(cell) if cell[:1] == "'" else cell)
        table.rows.append(row)
    if not table.rows and not table.problems:  # a file just begun: nothing to load yet
        table.problems.append(Problem(Code.EMPTY, "no data rows; nothing loaded from it",
                                      file=path_s, severity=Severity.WARNING))
    return table


def cell_reader(field: Field) -> Callable[[CellReader], Any]:
    """A function reading the cell of a contract field, by its kind and rules (made once per
    field, called once per cell)."""
    name, default, choices = field.name, field.default, field.choices
    if field.kind is Kind.NUMBER:
        return lambda cells: cells.number(name)
    if field.kind is Kind.COUNT:
        return lambda cells: cells.count(name)
    if field.kind is Kind.FLAG:
        return lambda cells: cells.flag(name)
    if field.required:
        return lambda cells: cells.required(name)
    if not choices:
        return lambda cells: cells.text(name) or default

    def choice(cells: CellReader) -> str | None:
        text = cells.text(name) or default
        if text and text not in choices:
            cells.error(Code.BAD_VALUE, f"{name} '{text}' is not one of {', '.join(choices)}")
        return text

    return choice


class CellReader:
    """Typed access to a row's cells; every bad cell adds a located problem."""

    def __init__(self, table: CsvTable, row: Row, key: str) -> None:
        self.table, self.row, self.key = table, row, key

    def error(self, code: Code, message: str, severity: Severity = Severity.ERROR) -> None:
        self.row.problems.append(Problem(code, message, file=self.table.path, line=self.row.line,
                                         key=self.key, severity=severity))

    def value(self, field: Field) -> Any:
        """The cell of a contract field, parsed by its kind and rules."""
        return cell_reader(field)(self)

    def text(self, name: str) -> str | None:
        value = self.row.cells.get(name, "")
        return value or None

    def required(self, name: str) -> str:
        value = self.row.cells.get(name, "")
        if not value:
            self.error(Code.MISSING_FIELD, f"'{name}' is empty")
        return value

    def number(self, name: str) -> float | None:
        text = self.row.cells.get(name, "")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            self.error(Code.BAD_VALUE, f"'{name}' is not a number: '{text}'")
            return None
        if not math.isfinite(value):
            self.error(Code.NOT_FINITE, f"'{name}' must be a finite number, not '{text}'")
            return None
        return value + 0.0  # -0.0 -> 0.0: exports write "0", so a reload must hash the same

    def count(self, name: str) -> int | None:
        """A whole number of 0 or more that the database can keep, parsed exactly."""
        text = self.row.cells.get(name, "")
        if not text or self.number(name) is None:
            return None
        try:
            value = whole_number(text)
        except OutOfRange:
            if not text.startswith("-"):
                self.error(Code.OUT_OF_RANGE, f"'{name}' {text} is above {INT_MAX}, the "
                           "largest whole number the database keeps")
                return None
            value = -1
        except ValueError:
            value = -1
        if value < 0:
            self.error(Code.COUNT, f"'{name}' must be a whole number of 0 or more, not '{text}'")
            return None
        return value

    def flag(self, name: str) -> bool:
        text = self.row.cells.get(name, "").lower()
        if text in TRUE:
            return True
        if text not in FALSE:
            self.error(Code.BAD_VALUE, f"'{name}' must be true or false, not '{text}'")
        return False
