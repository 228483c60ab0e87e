"""BibTeX field values: delimiters, `@string` macros, `#` concatenation, `%` comments.

bibtexparser 2 keeps a value as written (`{DNA} # " repair"`), and its own interpolation
middleware does not handle `#` concatenation with macros and quoted parts together
(https://github.com/sciunto-org/python-bibtexparser/issues/396), so values are resolved here.
One scanner (`delimiters`) walks the braces and quotes of every value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MONTHS = {
    m: str(i)
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


class ValueSyntaxError(ValueError):
    """A field value that is not one BibTeX value (typically a missing comma after it)."""


MAX_VALUE_CHARS = 10_000_000  # one field's text (a 5 MB field is stored as it is)
MAX_EXPANSION = 100_000  # characters one value may take from @string macros
MAX_FILE_EXPANSION = 20_000_000  # ... and all the values of one file together


class ValueTooLong(ValueError):
    """A value past `MAX_VALUE_CHARS`, or macros expanding past their limits (macros that
    double each other: `b = a # a`, `c = b # b`, ...)."""


@dataclass(frozen=True, slots=True)
class MacroUse:
    """Where a file first uses a macro it does not define (the field text keeps its name)."""

    name: str  # as written
    line: int
    key: str  # the entry's citekey or the @string's name
    uses: int = 1


class Macros(dict[str, str]):
    """The @string definitions of a file (names in lower case), counting the characters
    their expansion has made so far: one file's expansion is bounded (`resolve_value`);
    `undefined`: the macros its values use that are not defined (lower-case names)."""

    expanded: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.undefined: dict[str, MacroUse] = {}


_WORD = re.compile(r"^[^\s\"#%'(),={}]+$")
VALUE_DELIMITERS = re.compile(r'[{}"#%]')


def delimiters(value: str, pattern: re.Pattern[str] = VALUE_DELIMITERS
               ) -> Iterator[tuple[int, str, int, bool]]:
    """Each character of `value` that `pattern` matches, with the brace depth and whether a
    quoted (`"..."`) part is open just after it. Only `{`, `}` and `"` (at depth 0) change
    the state; the one scanner of braces and quotes for values, LaTeX and names."""
    depth, quoted = 0, False
    for match in pattern.finditer(value):
        i, ch = match.start(), match.group()
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        yield i, ch, depth, quoted


def _enclosed(part: str) -> str | None:
    """The inside of `{...}` or `"..."` when the opening delimiter closes at the very end."""
    part = part.strip()
    if len(part) < 2 or part[0] not in '{"':
        return None
    if part[0] == "{" and part[-1] == "}" and part.count("{") == 1 and part.count("}") == 1:
        return part[1:-1]  # the usual `{text}`, nothing nested
    for i, ch, depth, _ in delimiters(part):
        if depth == 0 and (part[0] == "{" or (ch == '"' and i > 0)):
            return part[1:-1] if i == len(part) - 1 else None
    return None


def _strip_comments(value: str) -> str:
    """Drop `% ...` line comments outside braces and quotes (biber allows them after a value)."""
    if "%" not in value:
        return value
    for i, ch, depth, quoted in delimiters(value):
        if ch == "%" and depth == 0 and not quoted and (i == 0 or value[i - 1] != "\\"):
            end = value.find("\n", i)
            return value[:i] + ("" if end < 0 else _strip_comments(value[end:]))
    return value


def field_name(key: str) -> str:
    """A field's name in lower case, without `%` comment lines bibtexparser left before it."""
    if key.isidentifier():  # the usual `author`: no line, no comment, no space
        return key.lower()
    lines = [line for line in key.splitlines() if not line.lstrip().startswith("%")]
    return " ".join(lines).strip().lower()


def _split_concatenation(value: str) -> list[str]:
    """Split `a # {b} # "c"` at top-level `#` signs."""
    if "#" not in value:
        return [value]
    parts, start = [], 0
    for i, ch, depth, quoted in delimiters(value):
        if ch == "#" and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def resolve_value(raw: str, macros: dict[str, str], undefined: list[str] | None = None) -> str:
    """The field's text: delimiters removed, macros expanded, `#` concatenations joined.

    An undefined macro keeps its name as its text and is added to `undefined` (BibTeX warns
    and uses an empty string); without that list it raises `KeyError`. Raises
    `ValueSyntaxError` for text that is not one
    value, which bibtexparser accepts when the comma before the next field is missing, and
    `ValueTooLong` when macros would expand past `MAX_EXPANSION` in this value or, with
    `Macros`, past `MAX_FILE_EXPANSION` in the file (checked before the text is built).
    """
    out: list[str] = []
    grown = 0  # characters taken from macros
    for part in _split_concatenation(_strip_comments(raw)):
        enclosed = _enclosed(part)
        if enclosed is not None:
            out.append(enclosed)
            continue
        word = part.strip()
        if not _WORD.match(word):
            raise ValueSyntaxError(word)
        if word.isdigit():
            out.append(word)
        elif word.lower() in macros:
            out.append(macros[word.lower()])
            grown += len(out[-1])
            if grown > MAX_EXPANSION:
                raise ValueTooLong(raw)
        elif word.lower() in MONTHS:
            out.append(MONTHS[word.lower()])
        elif undefined is not None:
            undefined.append(word)
            out.append(word)
        else:
            raise KeyError(word)
    if grown and isinstance(macros, Macros):
        macros.expanded += grown
        if macros.expanded > MAX_FILE_EXPANSION:
            raise ValueTooLong(raw)
    return "".join(out)


def month_as_written(raw: str, macros: dict[str, str]) -> str | None:
    """`may` when the month field is the bare month macro `may` (not redefined by @string):
    kept as written, so an export writes `month = may`, not `{5}`."""
    word = raw.strip()
    return word if word.lower() in MONTHS and word.lower() not in macros else None


def normalise_doi(value: str) -> str:
    value = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                   "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            return value[len(prefix):].strip()
    return value

