"""A review file (TOML): the citing document and its numbered reference list."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivcdb.csvformat import INT_MAX, INT_MIN
from ivcdb.loaders.files import decode_utf8, read_bytes
from ivcdb.report import Code, Problem, Severity
from ivcdb.terms import WHOLE_POPULATIONS_KEY
from ivcdb.text import codepoint, control_character, key_fold, key_problem, nfc

_LINE = re.compile(r"at line (\d+)")
_TABLE = re.compile(r"^[ \t]*\[\[[ \t]*citations[ \t]*\]\]", re.MULTILINE)
REVIEW_FIELDS = ("id", "title", "authors", "year", "published", "publisher", "license", "note")


@dataclass(slots=True)
class ReviewRecord:
    path: str
    code: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    citations: dict[int, str] = field(default_factory=dict)  # number -> citekey as written
    lines: dict[int, int] = field(default_factory=dict)  # number -> line of its [[citations]]
    problems: list[Problem] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {"code": self.code, **self.values}


MAX_DEPTH = 16  # arrays and tables nested deeper than this are refused
TEXT_FIELDS = ("title", "publisher", "license", "note")


def _line_of(text: str, needle: str) -> int | None:
    """The line that sets key `needle` (`needle = ...`), else the first that holds it."""
    match = re.search(rf"^[ \t]*{re.escape(needle)}[ \t]*=", text, re.MULTILINE)
    index = match.start() if match else text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _depth(value: Any) -> int:
    """How deeply arrays and tables nest in `value` (0 for a plain value), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _kind(value: Any) -> str:
    """What TOML calls `value`'s type: `an array`, `a table`, `a number`..."""
    names = {list: "an array", dict: "a table", bool: "a boolean", int: "a number",
             float: "a number", str: "text"}
    return names.get(type(value), "a date")


def parse_review(path: str | Path) -> ReviewRecord:
    record = ReviewRecord(str(path))
    data, problem = read_bytes(path)
    text = None
    if data is not None:
        text, problem = decode_utf8(data, str(path))
    if problem is not None or text is None:
        record.problems.append(problem or Problem(Code.PARSE, "unreadable", file=str(path)))
        return record
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _LINE.search(str(error))
        record.problems.append(Problem(Code.PARSE, f"not valid TOML: {error}", file=str(path),
                                       line=int(match.group(1)) if match else None))
        return record
    except RecursionError:  # tomllib recurses once a nesting level
        deep = re.search(rf"[\[{{](?:\s*[\[{{]){{{MAX_DEPTH}}}", text)
        line = text.count("\n", 0, deep.start()) + 1 if deep else None
        record.problems.append(Problem(Code.SCHEMA, f"arrays or tables nest more than "
                                       f"{MAX_DEPTH} deep", file=str(path), line=line))
        return record

    def fail(code: Code, message: str, needle: str = "", key: str = "",
             line: int | None = None) -> None:
        if line is None and needle:
            line = _line_of(text, needle)
        record.problems.append(Problem(code, message, file=str(path), line=line, key=key))

    for section, content in doc.items():
        for name, value in content.items() if isinstance(content, dict) else [(section,
                                                                                content)]:
            if _depth(value) > MAX_DEPTH:
                fail(Code.SCHEMA, f"'{name}' nests arrays or tables more than {MAX_DEPTH} "
                     "deep", name)
                return record
    review = doc.get("review")
    if not isinstance(review, dict):
        fail(Code.SCHEMA, "no [review] table")
        return record
    code = review.get("id")
    if not isinstance(code, str) or not code.strip():
        fail(Code.MISSING_FIELD, "[review] needs an id (e.g. id = \"smith2024\")", "[review]")
        return record
    record.code = nfc(code.strip())
    bad = key_problem(record.code)
    if bad:
        fail(Code.BAD_IDENTIFIER, f"id {bad}", "id", record.code)
        return record
    for name in TEXT_FIELDS:
        if name in review and not isinstance(review[name], str):
            fail(Code.BAD_VALUE, f"{name} must be text (in quotes), not {_kind(review[name])}",
                 name, record.code)
            review = {**review, name: None}
    published = review.get("published")
    if isinstance(published, list | dict | bool | float):
        fail(Code.BAD_VALUE, f"published must be a date or text, not {_kind(published)}",
             "published", record.code)
        published = None
    title = review.get("title")
    if title is not None and not isinstance(title, str):
        fail(Code.BAD_VALUE, "title must be text", "title", record.code)
        title = None
    if title is None or not title.strip():  # a review just begun has no title yet
        record.problems.append(Problem(Code.MISSING_FIELD, "[review] has no title yet; add one",
                                       file=str(path), line=_line_of(text, "[review]"),
                                       key=record.code, severity=Severity.WARNING))
    authors = review.get("authors", [])
    if isinstance(authors, str):
        authors = [authors]
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        fail(Code.BAD_VALUE, "authors must be a list of names", "authors", record.code)
        authors = []
    terms = review.get(WHOLE_POPULATIONS_KEY)
    if terms is not None and (not isinstance(terms, list) or not all(
            isinstance(t, str) and t.strip() for t in terms)):
        fail(Code.BAD_VALUE, f"{WHOLE_POPULATIONS_KEY} must be an array of phrases (text, "
             "e.g. [\"entire cohort\"])", WHOLE_POPULATIONS_KEY, record.code)
        review = {k: v for k, v in review.items() if k != WHOLE_POPULATIONS_KEY}
    year = review.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)
                             or not INT_MIN <= year <= INT_MAX):
        fail(Code.BAD_VALUE, "year must be a whole number", "year", record.code)
        year = None
    record.values = {
        "title": nfc(str(title or "")),
        "authors": "; ".join(nfc(a) for a in authors),
        "year": year,
        "published": str(published) if published is not None else None,
        "publisher": review.get("publisher"),
        "license": review.get("license"),
        "note": review.get("note"),
        "extra": json.dumps({k: v for k, v in review.items() if k not in REVIEW_FIELDS},
                            ensure_ascii=False, sort_keys=True, default=str),
    }
    for name, value in record.values.items():
        bad_char = control_character(value) if isinstance(value, str) else None
        if bad_char:
            fail(Code.CONTROL_CHAR, f"{name} contains control character {codepoint(bad_char)}",
                 name, record.code)
    _parse_citations(record, doc.get("citations", []), _table_lines(text), fail)
    return record


def _table_lines(text: str) -> list[int]:
    """The line of each `[[citations]]` header, in order (TOML keeps array order)."""
    return [text.count("\n", 0, m.start()) + 1 for m in _TABLE.finditer(text)]


def _parse_citations(record: ReviewRecord, citations: Any, lines: list[int],
                     fail: Any) -> None:
    if not isinstance(citations, list):
        fail(Code.SCHEMA, "citations must be an array of tables ([[citations]])", "citations")
        return
    seen_keys: dict[str, int] = {}
    for index, item in enumerate(citations):
        line = lines[index] if index < len(lines) else None

        def bad(code: Code, message: str, key: str = "", line: int | None = line) -> None:
            fail(code, message, key=key, line=line)

        if not isinstance(item, dict):
            bad(Code.SCHEMA, "each [[citations]] needs number and key")
            continue
        number, key = item.get("number"), item.get("key")
        if (not isinstance(number, int) or isinstance(number, bool)
                or not 1 <= number <= INT_MAX):
            bad(Code.BAD_VALUE, f"citation number must be a whole number from 1 to {INT_MAX}, "
                f"not {number!r}", str(key or ""))
            continue
        if not isinstance(key, str) or not key.strip():
            bad(Code.MISSING_FIELD, f"citation {number} has no key")
            continue
        key = nfc(key.strip())
        bad_key = key_problem(key)
        if bad_key:
            bad(Code.BAD_IDENTIFIER, f"key {bad_key}", key)
            continue
        if number in record.citations:
            bad(Code.DUPLICATE_KEY, f"citation number {number} is given twice (first on "
                f"line {record.lines.get(number)})", key)
            continue
        if key_fold(key) in seen_keys:
            bad(Code.DUPLICATE_KEY, f"reference '{key}' is cited as both "
                f"{seen_keys[key_fold(key)]} and {number}", key)
            continue
        seen_keys[key_fold(key)] = number
        record.citations[number] = key
        if line is not None:
            record.lines[number] = line
