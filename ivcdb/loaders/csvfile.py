"""Reading a CSV input: header check, per-cell parsing and located problems.

An Excel workbook (`.xlsx`) is read by the same rules: its sheet becomes CSV text first
(`ivcdb.loaders.xlsxfile`), and its problems name sheet rows.
"""

from __future__ import annotations

import contextlib
import csv
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ivcdb.contract import Field, Kind
from ivcdb.csvformat import INT_MAX, OutOfRange, unneutralise, whole_number
from ivcdb.errors import UsageError
from ivcdb.loaders.files import file_problem, read_text
from ivcdb.loaders.xlsxfile import is_workbook, sheet_text
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
    rows: list[Row]  # empty for a streamed table: see `stream`
    problems: list[Problem]  # file-level, and rows too broken to read (not in `rows`)
    text: str | None = ""  # None: a streamed file, read again from `path` by `stream`
    key_column: str | None = None
    keys: dict[str, int] = field(default_factory=dict)  # readable rows per key cell
    readable: int = 0  # data rows with as many cells as the header
    sheet_rows: dict[int, int] | None = None  # a workbook's: CSV line -> sheet row, if differing

    @property
    def count(self) -> int:
        """Data rows in the file, readable or not: stored + skipped must add up to this."""
        return self.readable + len({p.line for p in self.problems if p.line and p.line > 1})

    def stream(self) -> Iterator[Row]:
        """The readable rows, each parsed only when asked for (the file is read again)."""
        if not self.readable:
            return
        if self.text is not None:
            yield from self._parsed_rows(_records(_lines(self.text), self.sheet_rows))
            return
        try:
            file = _open(self.path)
        except OSError as error:
            raise _changed(self.path) from error
        with file:
            yield from self._parsed_rows(_records(file))

    def _parsed_rows(self, records: Iterator[tuple[int, list[str]]]) -> Iterator[Row]:
        try:
            next(records)  # the header
        except (_CsvError, UnicodeDecodeError, StopIteration) as error:
            raise _changed(self.path) from error
        key_index = self.header.index(self.key_column) if self.key_column in self.header else None
        width = len(self.header)
        try:
            for line, record in records:
                if len(record) == width and any(cell.strip() for cell in record):
                    yield self._row(line, record, key_index)
        except (_CsvError, UnicodeDecodeError) as error:
            raise _changed(self.path) from error

    def _row(self, line: int, record: list[str], key_index: int | None) -> Row:
        key = record[key_index].strip() if key_index is not None else ""
        row = Row(line, {}, key)
        # one search and one ASCII test a row, not one a cell (most rows need neither)
        whole = "\t".join(record)
        controls = control_character(whole) is not None
        ascii_only = whole.isascii()  # NFC changes no ASCII text
        for name, cell in zip(self.header, record, strict=True):
            bad = control_character(cell) if controls else None
            if bad is not None:
                row.problems.append(Problem(
                    Code.CONTROL_CHAR,
                    f"column '{name}' contains control character {codepoint(bad)}; remove it",
                    file=self.path, line=line, key=key))
            elif (name in IDENTIFIER_COLUMNS and not (cell.isascii() and cell.isprintable())
                  and (wrong := key_problem(cell.strip()))):
                row.problems.append(Problem(Code.BAD_IDENTIFIER, f"column '{name}' {wrong}",
                                            file=self.path, line=line, key=key))
            cell = cell.strip()
            if cell[:1] == "'":
                cell = unneutralise(cell)
            row.cells[name] = cell if ascii_only else nfc(cell)
        return row


class _CsvError(Exception):
    def __init__(self, error: csv.Error, line: int) -> None:
        super().__init__(str(error))
        self.line = line


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their ends, split as `open(newline="")` splits them (an
    `io.StringIO` would hold a copy of the whole text four bytes a character)."""
    return (match.group() for match in _LINE.finditer(text))


@contextlib.contextmanager
def _source(path: str, text: str | None) -> Iterator[Iterable[str]]:
    """The lines of `text`, or of the file at `path` read as it is needed: a large file is
    never held whole."""
    if text is not None:
        yield _lines(text)
        return
    with _open(path) as file:
        yield file


def _open(path: str) -> TextIO:
    return Path(path).open(encoding="utf-8-sig", newline="")  # UTF-8, a BOM dropped


def _changed(path: str) -> UsageError:
    return UsageError(f"{path} changed while it was being loaded (nothing was written); "
                      "load it again")


def _records(lines: Iterable[str], sheet_rows: dict[int, int] | None = None
             ) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each record; a workbook's line is its sheet row."""
    reader = csv.reader(lines, strict=True)
    start = 1
    try:
        for record in reader:
            yield (start if sheet_rows is None else sheet_rows.get(start, start)), record
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
             key_column: str | None = None, stream: bool = False) -> CsvTable:
    """Rows of a CSV file whose header must hold `required` columns (+ `optional` ones).

    `alternatives` lists other accepted required sets (e.g. the long form of the claims CSV);
    `key_column` names the column whose cell keys a problem of that row. The whole file's
    syntax and row widths are checked here; with `stream`, the rows are parsed only when
    `CsvTable.stream()` is read (one row at a time), else they are in `rows`.
    """
    path_s = str(path)
    problem = file_problem(path) if text is None and stream else None
    sheet_rows = None
    if text is None and is_workbook(path):
        problem = problem or file_problem(path)
        if problem is None:
            text, sheet_rows, problem = sheet_text(path, required)
    if text is None and not stream and problem is None:
        text, problem = read_text(path)
    if problem is not None:
        return CsvTable(path_s, [], [], [problem])
    table = CsvTable(path_s, [], [], [], text, key_column, sheet_rows=sheet_rows)
    if text is not None and _bare_cr(table, text):
        return table
    accepted = [list(required), *[list(a) for a in alternatives]]
    lone_cr = [False]  # a streamed file: a CR not in a CRLF seen (checked whole below)
    try:
        with _source(path_s, text) as lines:
            _check(table, lines if text is not None else _noting_lone_cr(lines, lone_cr),
                   accepted, optional)
    except _CsvError as error:
        table.problems = [Problem(Code.PARSE, f"not valid CSV: {error} (an unbalanced quote?)",
                                  file=path_s, line=error.line)]
        table.keys, table.readable = {}, 0
        lone_cr[0] = True  # a bare CR before or after it is the problem reported
    except (OSError, UnicodeDecodeError):  # say why as a whole read says it
        problem = read_text(path)[1]
        table = CsvTable(path_s, [], [], [problem or Problem(Code.PARSE, "unreadable",
                                                             file=path_s)])
    if text is None and lone_cr[0] and _bare_cr(table, read_text(path)[0]):  # rare: whole
        table.keys, table.readable = {}, 0
        return table
    if not stream:
        table.rows = list(table.stream())
        table.text = ""
    return table


def _bare_cr(table: CsvTable, text: str) -> bool:
    """Whether `text` has a CR outside quotes that is not part of a CRLF: then that is the
    table's one problem."""
    line = bare_cr_line(text)
    if line is not None:
        table.problems = [Problem(Code.BARE_CR, "a carriage return (CR) outside a quoted cell; "
                                  "use LF or CRLF line ends, or quote the cell",
                                  file=table.path, line=line)]
    return line is not None


def _noting_lone_cr(lines: Iterable[str], seen: list[bool]) -> Iterator[str]:
    """The lines, setting `seen[0]` when one ends with a CR that is not part of a CRLF."""
    for line in lines:
        if line[-1:] == "\r":
            seen[0] = True
        yield line


def _check(table: CsvTable, lines: Iterable[str], accepted: list[list[str]],
           optional: Sequence[str]) -> None:
    """The header, then every row's width; counts the readable rows per key (one pass)."""
    records = _records(lines, table.sheet_rows)
    first = next(records, None)
    if first is None:
        table.problems.append(Problem(Code.EMPTY, "the file is empty (no header)",
                                      file=table.path))
        return
    header = [nfc(h.strip()) for h in first[1]]
    table.header = header
    problem = _header_problem(header, accepted, optional, table.path)
    if problem is not None:
        table.problems.append(problem)
        for _ in records:  # a CSV syntax error anywhere is the one problem reported
            pass
        return
    key_index = header.index(table.key_column) if table.key_column in header else None
    keys = table.keys
    for line, record in track(records, f"reading {Path(table.path).name}"):
        if not any(cell.strip() for cell in record):
            continue
        key = record[key_index].strip() if key_index is not None and key_index < len(
            record) else ""
        if len(record) != len(header):
            table.problems.append(Problem(
                Code.SCHEMA, f"{len(record)} cells, the header has {len(header)} (a missing "
                "or extra comma, or a cell with a comma that is not quoted?)",
                file=table.path, line=line, key=key))
            continue
        table.readable += 1
        if key_index is not None:
            norm = nfc(unneutralise(key) if key[:1] == "'" else key)
            keys[norm] = keys.get(norm, 0) + 1
    if not table.readable and not table.problems:  # a file just begun: nothing to load yet
        table.problems.append(Problem(Code.EMPTY, "no data rows; nothing loaded from it",
                                      file=table.path, severity=Severity.WARNING))


def _header_problem(header: list[str], accepted: list[list[str]], optional: Sequence[str],
                    path: str) -> Problem | None:
    if not any(set(req) <= set(header) for req in accepted):
        missing = [c for c in accepted[0] if c not in header]
        return Problem(Code.SCHEMA, f"missing column(s): {', '.join(missing)}; expected "
                       f"{', '.join(accepted[0])}", file=path, line=1)
    known = set().union(*map(set, accepted), optional)
    unknown = [h for h in header if h not in known]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if unknown or duplicated:
        what = [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
        what += [f"repeated column(s): {', '.join(duplicated)}"] if duplicated else []
        return Problem(Code.SCHEMA, "; ".join(what), file=path, line=1)
    return None


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
