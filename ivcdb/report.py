"""Load reports: what a load added, updated or left alone, and every problem it found."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from ivcdb.text import CLIP, clip, visible

MESSAGE_CLIP = 600  # characters of a problem's message, echoed values included
SHOWN_PROBLEMS = 50  # problem lines printed before "... and K more problems"
_LONG_WORD = re.compile(rf"\S{{{CLIP + 1},}}")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Catalogue of problems a loader or check can report."""

    PARSE = "parse-error"
    ENCODING = "not-utf8"
    EMPTY = "no-entries"
    DUPLICATE_KEY = "duplicate-key"
    DUPLICATE_FIELD = "duplicate-field"
    MISSING_FIELD = "missing-field"
    CONTROL_CHAR = "control-character"
    BAD_VALUE = "bad-value"
    UNKNOWN_REFERENCE = "unknown-reference"
    UNKNOWN_OUTCOME = "unknown-outcome"
    UNKNOWN_UNIT = "unknown-unit"
    UNKNOWN_MEASURE = "unknown-measure"
    UNKNOWN_REVIEW = "unknown-review"
    RANGE = "low-above-high"
    PERCENT = "percent-out-of-range"
    FRACTION = "numerator-above-denominator"
    COUNT = "bad-count"
    NOT_FINITE = "not-finite"
    SCHEMA = "schema"
    MISSING_FROM_FILE = "missing-from-file"
    IN_USE = "in-use"
    CROSSREF = "crossref"
    MALFORMED_ID = "malformed-identifier"
    LIKELY_DUPLICATE = "likely-duplicate"
    UNCITED = "no-claims"
    CITATION_ORDER = "citation-order"
    NO_LOCATOR = "no-locator"
    NOT_IN_REVIEW = "not-in-review-list"
    BAD_IDENTIFIER = "bad-identifier"
    OUT_OF_RANGE = "out-of-range"
    BARE_CR = "bare-carriage-return"
    UNDEFINED_MACRO = "undefined-macro"  # a BibTeX @string macro used but not defined
    VOCABULARY_MEANING = "vocabulary-meaning"  # a stored code's meaning changed
    VOCABULARY_TEXT = "vocabulary-text"  # a stored code's label or description differs
    CONFLICT = "conflict"  # a value someone else entered would change (`load --resolve`)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, located as precisely as the input allows."""

    code: Code
    message: str
    file: str = ""
    line: int | None = None
    key: str = ""
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """`file:line: key: severity [code]: message` -- one line, no traceback.

        Echoed values are cut to `CLIP` characters and invisible characters escaped.
        """
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        key = f" {visible(clip(self.key))}:" if self.key else ""
        message = visible(clip(_LONG_WORD.sub(lambda m: clip(m.group(0)), self.message),
                               MESSAGE_CLIP))
        return f"{visible(where)}:{key} {self.severity.value} [{self.code.value}]: {message}"


def problem_lines(problems: Iterable[Problem], limit: int = SHOWN_PROBLEMS) -> list[str]:
    """The formatted problems: the first `limit`, then one line counting the rest."""
    listed = list(problems)
    lines = [p.format() for p in listed[:limit]]
    if len(listed) > limit:
        lines.append(f"\u2026 and {len(listed) - limit} more problems")
    return lines


@dataclass(slots=True)
class LoadReport:
    """Counts of one load plus every problem found; `written` is False for dry runs."""

    kind: str
    path: str = ""
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what else a reader should know
    written: bool = False
    resolved: int = 0  # rows whose values others entered this load replaced (`--resolve`)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """One line a person can read: what the load did."""
        verb = "" if self.written else " (dry run: nothing written)"
        parts = [
            f"{self.kind}: {self.read} read",
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.removed:
            parts.append(f"{self.removed} removed")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.missing:
            parts.append(f"{len(self.missing)} in the database but not in the file")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s)")
        text = ", ".join(parts) + verb
        if self.written and not self.changed:
            text += " -- nothing changed"
        return text
