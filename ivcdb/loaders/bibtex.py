"""Parse and validate a BibTeX file into reference records, without touching the database.

bibtexparser 2 splits the file into blocks (failed blocks become problems, not exceptions).
Everything after that is ours and done only where needed, since most fields of a real
library are plain text: `@string` macros and `#` concatenation are resolved, `crossref` and
`xdata` inheritance applied, LaTeX decoded to Unicode (cached; only values with LaTeX in them
go through pylatexenc), authors split into name parts (cached per distinct name), and the raw
field text kept so an export writes `{DNA}` back as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import marshal
import re
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ivcdb.loaders.files import read_text
from ivcdb.plausibility import reference_warnings
from ivcdb.progress import ENV as PROGRESS_ENV
from ivcdb.progress import track
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import control_character, fold, key_fold, nfc, squash

NOT_REFERENCES = frozenset({"set", "xdata"})
MONTHS = {
    m: str(i)
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_LATEX = re.compile(r"[\\{}$~]")
# What pylatexenc would do more to than drop protecting braces (see `_only_braces`).
_NOT_ONLY_BRACES = re.compile(r"[\\$~%&#^_`']|-[{}]|[{}]-")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_KEY_IN_RAW = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]*)")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_AND_WORD = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")  # bibtexparser's white space


@dataclass(slots=True)
class AuthorName:
    family: str
    given: str = ""
    prefix: str = ""
    suffix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"family": self.family, "given": self.given, "prefix": self.prefix,
                "suffix": self.suffix}


@dataclass(slots=True)
class RefRecord:
    """One reference ready to store: decoded values, authors and raw BibTeX fields."""

    citekey: str
    entry_type: str
    line: int
    title: str
    journal: str | None = None
    year_text: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    study_design: str | None = None
    sample_size: int | None = None
    note: str | None = None
    et_al: bool = False
    authors: list[AuthorName] = field(default_factory=list)
    raw_fields: dict[str, str] = field(default_factory=dict)
    key_norm: str = field(default="", repr=False)  # the citekey folded (set from it)
    # `row()` and `author_values()` worked out ahead, on the core that read the record
    prepared_row: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    prepared_authors: list[AuthorValues] | None = field(default=None, compare=False,
                                                         repr=False)

    def __post_init__(self) -> None:
        if not self.key_norm:
            self.key_norm = key_fold(self.citekey)

    def row(self) -> dict[str, Any]:
        """Column values of the `reference` table (without the surrogate id)."""
        if self.prepared_row is not None:
            return dict(self.prepared_row)
        raw_fields = json.dumps(self.raw_fields, ensure_ascii=False, sort_keys=True)
        title_norm = fold(self.title)
        values = (self.citekey, self.key_norm, self.entry_type, self.title, title_norm,
                  self.journal, self.year_text, self.year, self.volume, self.issue, self.pages,
                  self.doi, self.pmid, self.study_design, self.sample_size, self.note,
                  self.et_al, raw_fields)
        # The hash only has to be stable across runs and engines: the repr of the values
        # (str, int, bool, None) and of the name parts is, and costs far less than JSON.
        # The raw fields' JSON (the longest value) goes in last, as it is.
        names = [(a.family, a.given, a.prefix, a.suffix) for a in self.authors]
        digest = hashlib.sha256(repr((values[:-1], names)).encode())
        digest.update(raw_fields.encode())
        row = dict(zip(_REFERENCE_COLUMNS, values, strict=True))
        row["content_hash"] = digest.hexdigest()
        return row

    def author_values(self) -> list[AuthorValues]:
        """The `author` rows without the reference id: position, name parts, folded name."""
        if self.prepared_authors is not None:
            return self.prepared_authors
        return [(i, a.family, a.given, a.prefix, a.suffix, _name_norm(a.given, a.prefix, a.family))
                for i, a in enumerate(self.authors, 1)]

    def prepare(self) -> None:
        """Work out `row()` and `author_values()` now (on this core, not later)."""
        self.prepared_row = self.row()
        self.prepared_authors = self.author_values()


AuthorValues = tuple[int, str, str, str, str, str]
AUTHOR_COLUMNS = ("reference_id", "position", "family", "given", "prefix", "suffix",
                  "name_norm")
_REFERENCE_COLUMNS = (
    "citekey", "citekey_norm", "entry_type", "title", "title_norm", "journal", "year_text",
    "year", "volume", "issue", "pages", "doi", "pmid", "study_design", "sample_size", "note",
    "et_al", "raw_fields",
)


@lru_cache(maxsize=65536)
def _name_norm(given: str, prefix: str, family: str) -> str:
    """Folded "given prefix family", once per distinct name (names repeat across a library)."""
    return fold(" ".join(p for p in (given, prefix, family) if p))


@dataclass(slots=True)
class ParsedBibliography:
    path: str
    records: list[RefRecord]
    problems: list[Problem]
    blocks: int  # entry-like blocks in the file: stored + reported must equal this
    not_references: list[tuple[str, int]] = field(default_factory=list)  # (key, line)


# --- value decoding ---------------------------------------------------------------------------


class LatexDecodeError(ValueError):
    """The LaTeX decoder failed on a value (malformed macro use)."""


@lru_cache(maxsize=65536)
def decode_latex(value: str) -> str:
    """LaTeX to Unicode NFC (`M{\\"u}ller` -> `Müller`); plain text passes through untouched."""
    pieces: list[str] = []
    plain: str | None = value
    if _LATEX.search(value):
        plain = None if _HOLE in value else _only_braces(_SELF_CONTAINED.sub(
            lambda match: _hold(match, pieces), value))
    if plain is None:
        try:
            value = _latex_to_text(value)
        except RecursionError:
            raise
        except Exception as error:  # pylatexenc fails on some malformed macros (`\title`)
            raise LatexDecodeError(str(error)) from error
    else:
        if "--" in plain:  # the dashes pylatexenc would make
            plain = plain.replace("---", "\u2014").replace("--", "\u2013")
        for piece in pieces:
            plain = plain.replace(_HOLE, piece, 1)
        value = plain
    return squash(nfc(value.replace("\u00a0", " ")))


def _only_braces(value: str) -> str | None:
    """`{DNA} repair` -> `DNA repair`: text whose only LaTeX is balanced protecting braces.

    Most LaTeX in a library is that; pylatexenc gives the same text ~100x slower. None when
    anything else (a macro, math, a special such as `~` or a quote, a dash touching a brace)
    is there, or the braces do not balance.
    """
    if _NOT_ONLY_BRACES.search(value):
        return None
    depth = 0
    for match in _DELIMITERS.finditer(value):
        depth += 1 if match.group() == "{" else -1 if match.group() == "}" else 0
        if depth < 0:
            return None
    return value.replace("{", "").replace("}", "") if depth == 0 else None


# Self-contained LaTeX that decodes alone as it does inside any text: accented and special
# letters (`{\"u}`, `{\"{u}}`, `{\c{c}}`, `\'e`, `{\'\i}`, `{\o}`, `{\ss}`), escaped
# characters (`\%`, `\&`), simple font commands (`\textit{in vivo}`) and Greek letters in math
# (`$\alpha$`). Each is decoded once by pylatexenc (cached) and held out of the text as a
# `_HOLE` while the rest is checked; anything left over that is LaTeX sends the whole value to
# pylatexenc, so the result is always pylatexenc's.
_SELF_CONTAINED = re.compile(
    r"(?<!\\)(?:\{\\[`'^\"~=.](?:[A-Za-z]|\{[A-Za-z]\}|\\[ij])\}"
    r"|\{\\[uvHckbdr]\{[A-Za-z]\}\}|\{\\(?:aa|AA|ss|o|O|ae|AE|oe|OE|l|L)\}"
    r"|\\[`'^\"~=.](?:[A-Za-z]|\{[A-Za-z]\})"
    r"|\\[%&$#_{}]"
    r"|\\(?:textit|textbf|emph|textsc|textrm|textsf|texttt|textup|textsl)\{[^{}\\$%~&#^_`']*\}"
    r"|\$\\(?:alpha|beta|gamma|delta|kappa|lambda|mu|pi|sigma|chi)\$)"
)
_HOLE = "\x00"  # never in a field value: control characters are refused before decoding


def _hold(match: re.Match[str], pieces: list[str]) -> str:
    pieces.append(_decode_piece(match.group()))
    return _HOLE


@lru_cache(maxsize=4096)
def _decode_piece(latex: str) -> str:
    return _latex_to_text(latex)


_DECODER = threading.local()


def _latex_to_text(latex: str) -> str:
    """pylatexenc's text for `latex`, computed inside a generator (see `_decoder`)."""
    decoder = getattr(_DECODER, "generator", None)
    if decoder is None or decoder.gi_frame is None:
        decoder = _DECODER.generator = _decoder()
        next(decoder)
    result = decoder.send(latex)
    if isinstance(result, Exception):
        raise result
    return result


def _decoder() -> Generator[str | Exception, str, None]:
    """Decode each LaTeX string sent in: its text, or the exception pylatexenc raised.

    Every pylatexenc parse leaves a reference cycle through its frames (it returns its
    end-of-input exception, traceback and all), and such a cycle keeps each calling frame
    alive, with every local of the load above it, until the garbage collector runs: a
    20,000-entry file stayed in memory to the end and cost 0.2 s of collection at exit. A
    generator's frame links to no caller, so the cycles stay small and the load's objects
    are freed as soon as they are dropped.
    """
    latex2text = _latex2text()
    result: str | Exception = ""
    while True:
        latex = yield result
        try:
            result = str(latex2text.latex_to_text(latex))
        except Exception as error:  # RecursionError too: the caller decides
            result = error


@lru_cache(maxsize=1)
def _latex2text() -> Any:
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    # pylatexenc's \title/\author/\date remember their text and \maketitle prints it with
    # today's date: state shared between values and a result that changes daily. Keep only
    # the argument text instead (without an argument they fail, and the entry is refused).
    context = get_default_latex_context_db()
    context.add_context_category("ivcdb-no-document-state", prepend=True, macros=[
        MacroTextSpec("maketitle", simplify_repl=""),
        *(MacroTextSpec(name, simplify_repl="%(1)s") for name in ("title", "author", "date")),
    ])
    return LatexNodes2Text(latex_context=context, strict_latex_spaces=True)


class ValueSyntaxError(ValueError):
    """A field value that is not one BibTeX value (typically a missing comma after it)."""


_WORD = re.compile(r"^[^\s\"#%'(),={}]+$")
_DELIMITERS = re.compile(r'[{}"#]')


def _enclosed(part: str) -> str | None:
    """The inside of `{...}` or `"..."` when the opening delimiter closes at the very end."""
    part = part.strip()
    if len(part) < 2 or part[0] not in '{"':
        return None
    if part[0] == "{" and part[-1] == "}" and part.count("{") == 1 and part.count("}") == 1:
        return part[1:-1]  # the usual `{text}`, nothing nested
    depth = 0
    for match in _DELIMITERS.finditer(part):  # only delimiters change the state
        i, ch = match.start(), match.group()
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and part[0] == '"' and i > 0 and depth == 0:
            return part[1:-1] if i == len(part) - 1 else None
        if part[0] == "{" and depth == 0:
            return part[1:-1] if i == len(part) - 1 else None
    return None


def _strip_comments(value: str) -> str:
    """Drop `% ...` line comments outside braces and quotes (biber allows them after a value)."""
    if "%" not in value:
        return value
    out, depth, quoted, i = [], 0, False, 0
    while i < len(value):
        ch = value[i]
        if ch == "%" and depth == 0 and not quoted and (i == 0 or value[i - 1] != "\\"):
            end = value.find("\n", i)
            i = len(value) if end < 0 else end
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        out.append(ch)
        i += 1
    return "".join(out)


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
    parts, depth, quoted, start = [], 0, False, 0
    for match in _DELIMITERS.finditer(value):  # only delimiters and `#` change the state
        i, ch = match.start(), match.group()
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def resolve_value(raw: str, macros: dict[str, str]) -> str:
    """The field's text: delimiters removed, macros expanded, `#` concatenations joined.

    Raises `KeyError` for an undefined macro and `ValueSyntaxError` for text that is not one
    value, which bibtexparser accepts when the comma before the next field is missing.
    """
    out = []
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
        elif word.lower() in MONTHS:
            out.append(MONTHS[word.lower()])
        else:
            raise KeyError(word)
    return "".join(out)


@lru_cache(maxsize=65536)
def split_name(name: str) -> AuthorName:
    """One BibTeX name into family/given/prefix/suffix, decoded to Unicode."""
    parts = _plain_name_parts(name)
    if parts is None:
        from bibtexparser.middlewares.names import parse_single_name_into_parts

        found = parse_single_name_into_parts(name, strict=False)
        parts = (found.first, found.von, found.last, found.jr)
    first, von, last, jr = parts
    return AuthorName(
        family=decode_latex(" ".join(last)),
        given=decode_latex(" ".join(first)),
        prefix=decode_latex(" ".join(von)),
        suffix=decode_latex(" ".join(jr)),
    )


_NAME_SPACE = re.compile(r"[ ~\r\n\t]+")  # what separates the words of a BibTeX name
NameParts = tuple[list[str], list[str], list[str], list[str]]  # first, von, last, jr


def _plain_name_parts(name: str) -> NameParts | None:
    """bibtexparser's parts of `Family, Given` or `Given Family`, or None for anything else.

    Most names of a library are one of those two forms with no braces, escapes or lowercase
    (`von`) words, and then BibTeX's rules reduce to a split; bibtexparser's character-by-
    character parser, which `split_name` uses for every other name, costs ten times as much.
    (tests/test_load_bibtex_names.py checks the two against each other.)
    """
    if "{" in name or "}" in name or "\\" in name:
        return None
    sections = name.split(",")
    if len(sections) > 2:
        return None
    words = [[w for w in _NAME_SPACE.split(section) if w] for section in sections]
    if not all(words):
        return None  # an empty part (`Smith,`, `, Anna`) has rules of its own
    if len(words) == 2:  # von Last, First
        family, given = words
        if len(family) > 1 and any(map(_lowercase_word, family)):
            return None
        return given, [], family, []
    words_ = words[0]  # First von Last
    if len(words_) > 2 and any(map(_lowercase_word, words_)):
        return None
    return words_[:-1], [], words_[-1:], []


def _lowercase_word(word: str) -> bool:
    """Whether BibTeX counts a word without braces as lowercase: its first letter is not
    an uppercase one (a word without letters is neither)."""
    for char in word:
        if char.isalpha():
            return not char.isupper()
    return False


def _split_names(value: str) -> list[str]:
    """The names of a name list, split at ` and ` outside braces (bibtexparser's rule)."""
    value = value.strip(" \r\n\t")
    if not value:
        return []
    if "{" in value or "}" in value or "\\" in value:
        names = _AND_WORD.split(value) if _plain_braces(value) else None
        if names is None or any(n.count("{") != n.count("}") for n in names):
            # An escape where it matters, or an `and` inside braces: bibtexparser's own
            # splitter. (With balanced pieces every split was outside braces.)
            from bibtexparser.middlewares.names import split_multiple_persons_names

            return list(split_multiple_persons_names(value))
        return names
    return _AND_WORD.split(value)  # nothing to skip over: one regex split is the same


_NAME_DELIMITERS = re.compile(r"[{}\\]")


def _plain_braces(value: str) -> bool:
    """Whether braces balance, never close unopened, and every backslash is inside braces
    escaping something other than a brace or backslash: then splitting at ` and ` is
    bibtexparser's split, apart from `and`s inside braces (see `_split_names`)."""
    depth = 0
    for match in _NAME_DELIMITERS.finditer(value):
        char = match.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0 or value[match.end():match.end() + 1] in ("", "{", "}", "\\"):
            return False
    return depth == 0


def split_authors(value: str) -> tuple[list[AuthorName], bool]:
    """Authors in order, and whether the list ends in `and others` (et al.)."""
    names = [n.strip() for n in _split_names(value) if n.strip()]
    et_al = bool(names) and names[-1].lower() == "others"
    if et_al:
        names = names[:-1]
    return [split_name(n) for n in names], et_al


def normalise_doi(value: str) -> str:
    value = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                   "http://dx.doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            return value[len(prefix):].strip()
    return value


# --- parsing ----------------------------------------------------------------------------------


def _problem(code: Code, message: str, path: str, line: int | None, key: str = "",
             severity: Severity = Severity.ERROR) -> Problem:
    return Problem(code, message, file=path, line=line, key=key, severity=severity)


def _line(item: Any) -> int:
    """The 1-based line where a bibtexparser block or field starts."""
    return int(item.start_line or 0) + 1


def _failed_key(raw: str) -> str:
    match = _KEY_IN_RAW.match(raw.lstrip())
    return match.group(1) if match else ""


def _junk_message(what: str, text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return (f"{what} is not one value ({shown!r}); a comma is probably missing after it, "
            "or a brace or quote is unbalanced")


def _duplicate_field_line(block: Any) -> int:
    """The line of the first repeated field (1-based), else the block's first line."""
    seen: set[str] = set()
    for f in getattr(block.ignore_error_block, "fields", []):
        name = field_name(f.key)
        if name in seen:
            return int(f.start_line) + 1
        seen.add(name)
    return int(block.start_line) + 1


def _failed_block_problem(block: Any, path: str) -> Problem:
    from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock

    line = _line(block)
    if isinstance(block, DuplicateBlockKeyBlock):
        first = getattr(block.previous_block, "start_line", None)
        where = f" (first on line {first + 1})" if first is not None else ""
        return _problem(Code.DUPLICATE_KEY,
                        f"citekey '{block.key}' is used twice{where}; rename one",
                        path, line, block.key)
    if isinstance(block, DuplicateFieldKeyBlock):
        entry = block.ignore_error_block
        key = getattr(entry, "key", "") or _failed_key(block.raw or "")
        fields = ", ".join(sorted(block.duplicate_keys))
        return _problem(Code.DUPLICATE_FIELD, f"field(s) {fields} given twice; keep one",
                        path, _duplicate_field_line(block), key)
    reason = getattr(block.error, "abort_reason", "") or str(block.error) or "syntax error"
    return _problem(
        Code.PARSE,
        f"entry cannot be parsed ({reason.strip()}); check for unbalanced braces or quotes, "
        "a missing comma between fields, or a truncated file",
        path, line, _failed_key(block.raw or ""),
    )


def parse_bibtex(path: str | Path, *, text: str | None = None) -> ParsedBibliography:
    """Read and validate a whole BibTeX file; problems are collected, never raised."""
    return start_bibtex(path, text=text).result()


def start_bibtex(path: str | Path, *, text: str | None = None) -> BibtexReading:
    """Start reading a BibTeX file: a large one's second part is read at once on another core.

    The caller may do other work (a load imports the database libraries) before asking for
    `result()`; use the reading as a context manager, or call `result()`, so the second
    process always ends.
    """
    path_s = str(path)
    if text is None:
        text, problem = read_text(path)
        if problem is not None:
            return BibtexReading(path_s, "", problem)
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    second = _SecondPart.start(text, path_s) if len(text) >= PARALLEL_MIN_CHARS else None
    return BibtexReading(path_s, text, None, second)


@dataclass(slots=True)
class BibtexReading:
    """A BibTeX file being read; `result()` waits for and returns the parsed bibliography."""

    path: str
    text: str
    problem: Problem | None = None
    second: _SecondPart | None = None

    def result(self) -> ParsedBibliography:
        try:
            if self.problem is not None:
                return ParsedBibliography(self.path, [], [self.problem], 0)
            if self.second is not None:
                parsed = self.second.finish(self.text, self.path)
                if parsed is not None:
                    return parsed
            return _parse_whole(self.text, self.path)
        finally:
            self.close()
            self.text = ""  # not kept in memory through the write

    def close(self) -> None:
        """End the second process, if one is still running (its work is then dropped)."""
        if self.second is not None:
            self.second.close()
            self.second = None

    def __enter__(self) -> BibtexReading:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _parse_whole(text: str, path: str) -> ParsedBibliography:
    """The file in one piece, in this process."""
    problems: list[Problem] = []
    library = _split(text)
    macros = _macros(library.strings, path, problems)
    for failed in library.failed_blocks:
        problems.append(_failed_block_problem(failed, path))
    entries = list(library.entries)
    by_key = {key_fold(e.key): e for e in entries}
    records, not_references = _records(entries, macros, by_key, path, problems)
    blocks = len(entries) - len(not_references) + len(library.failed_blocks)
    if blocks == 0 and not problems:
        problems.append(_problem(Code.EMPTY, "no BibTeX entries found", path, None))
    return ParsedBibliography(path, records, problems, blocks, not_references)


def _split(text: str, first_line: int = 0) -> Any:
    """bibtexparser's split of `text` into blocks, lines counted from `first_line` (0-based)."""
    from bibtexparser.splitter import Splitter

    splitter = Splitter(text)
    splitter._current_line += first_line  # as if `text` started on that line of the file
    return splitter.split()


def _macros(strings: Iterable[Any], path: str, problems: list[Problem]) -> dict[str, str]:
    macros: dict[str, str] = {}
    for string_block in strings:
        try:
            macros[string_block.key.lower()] = resolve_value(string_block.value, macros)
        except KeyError as missing:
            problems.append(_problem(Code.BAD_VALUE,
                                     f"@string uses undefined macro {missing}", path,
                                     _line(string_block), string_block.key))
        except ValueSyntaxError as junk:
            problems.append(_problem(Code.PARSE, _junk_message("@string value", str(junk)),
                                     path, _line(string_block), string_block.key))
    return macros


def _records(entries: list[Any], macros: dict[str, str], by_key: dict[str, Any], path: str,
             problems: list[Problem]) -> tuple[list[RefRecord], list[tuple[str, int]]]:
    """The records of `entries` in order, and the @set/@xdata blocks (not references)."""
    records: list[RefRecord] = []
    not_references: list[tuple[str, int]] = []
    seen: dict[str, int] = {}
    for entry in track(entries, f"reading {Path(path).name}"):
        line = _line(entry)
        if entry.entry_type.lower() in NOT_REFERENCES:
            not_references.append((entry.key, line))
            continue
        norm = key_fold(entry.key)
        if norm in seen:
            problems.append(_problem(
                Code.DUPLICATE_KEY,
                f"citekey '{entry.key}' differs only in case from the one on line {seen[norm]}",
                path, line, entry.key))
            continue
        seen[norm] = line
        try:
            record = _entry_record(entry, macros, by_key, path, problems)
        except RecursionError:  # pylatexenc recurses once per nested LaTeX group
            problems.append(_problem(
                Code.PARSE, "a field nests braces or LaTeX commands too deeply to decode; "
                "flatten it", path, line, entry.key))
            continue
        except LatexDecodeError:
            problems.append(_problem(
                Code.PARSE, "a field has LaTeX that cannot be decoded (a command without "
                "its argument?); fix or remove the command", path, line, entry.key))
            continue
        if record is not None:
            records.append(record)
    return records, not_references


# --- parsing a large file on two cores -----------------------------------------------------------

PARALLEL_MIN_CHARS = 2_000_000  # below this, starting a second process costs more than it saves
# The share of a large file this process reads (the second core reads the rest). A load
# also imports the database libraries here meanwhile, but the forked reader runs slower
# (copy-on-write faults, sending its records back): half and half came out even.
MAIN_SHARE = 0.5
_ENTRY_START = re.compile(r"\n@[ \t]*(?!(?:comment|string|preamble)\b)\w+[ \t]*[{(]",
                          re.IGNORECASE)
_NOT_ENTRY = re.compile(r"^@[ \t]*(?!(?:comment|string|preamble)\b)\w+[ \t]*[{(]",
                        re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True, weakref_slot=True)
class _SecondPart:
    """The part of a large file after `split`, read in a forked process.

    bibtexparser starts a block at every `@type{` that begins a line, so the file is cut just
    before one and each part is split and read alone. Only the plain case is taken this way:
    the @string macros all come before the first entry, and no part has a failed block, a
    @string after that, a `crossref`/`xdata` field or a citekey of the other part. Anything
    else makes `finish` return None: the file is then read in one piece, so the result is
    always the one-process result.
    """

    split: int  # where the second part starts in the text
    macros: dict[str, str]
    strings: int  # @string blocks before the first entry
    process: Any  # the forked `multiprocessing.Process` reading the second part
    receiver: Any  # the pipe it sends that part through (or None: not plain, or failed)

    @classmethod
    def start(cls, text: str, path: str) -> _SecondPart | None:
        import multiprocessing
        import weakref

        cut = _ENTRY_START.search(text, int(len(text) * MAIN_SHARE))
        first = _NOT_ENTRY.search(text)
        if (cut is None or first is None or "fork" not in multiprocessing.get_all_start_methods()
                or threading.active_count() > 1):  # forking a threaded process can deadlock
            return None
        head_problems: list[Problem] = []
        head = _split(text[: first.start()])  # @string/@comment/@preamble before the entries
        macros = _macros(head.strings, path, head_problems)
        if head_problems or head.failed_blocks:
            return None
        split = cut.start() + 1
        context = multiprocessing.get_context("fork")
        try:
            receiver, sender = context.Pipe(duplex=False)
        except OSError:  # out of file descriptors, say: read the file in one piece
            return None
        process = context.Process(target=_send_second_part, daemon=True, args=(
            receiver, sender, text[split:], text.count("\n", 0, split), macros, path))
        try:
            process.start()
        except (OSError, AssertionError):  # no fork, or inside a daemonic worker process
            receiver.close()
            return None
        finally:
            sender.close()  # the child holds the only writing end: if it dies, reading ends
        part = cls(split, macros, len(head.strings), process, receiver)
        # A reading dropped unfinished (an API caller's) must not leave the child waiting.
        weakref.finalize(part, _end_process, process, receiver)
        return part

    def finish(self, text: str, path: str) -> ParsedBibliography | None:
        """Read the first part here, then join the second; None when either is not plain."""
        mine = _part(_split(text[: self.split]), self.macros, path, strings=self.strings)
        try:
            theirs = self.receiver.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory) unheard
            theirs = None
        if mine is None or theirs is None or mine[4] & theirs[4]:
            return None
        records, problems, not_references, blocks, _ = mine
        records += _from_plain(theirs[0])
        problems += theirs[1]
        not_references += theirs[2]
        return ParsedBibliography(path, records, problems, blocks + theirs[3], not_references)

    def close(self) -> None:
        _end_process(self.process, self.receiver)


def _end_process(process: Any, receiver: Any) -> None:
    """Stop the reader of the second part if it still runs, and close its pipe."""
    if process.is_alive():  # its part was not asked for (or not all read)
        process.terminate()
    process.join()
    receiver.close()


_Part = tuple[list[RefRecord], list[Problem], list[tuple[str, int]], int, set[str]]
_PlainPart = tuple[bytes, list[Problem], list[tuple[str, int]], int, set[str]]


def _send_second_part(receiver: Any, sender: Any, text: str, first_line: int,
                      macros: dict[str, str], path: str) -> None:
    """The forked process: send the second part, or None when it is not plain or fails
    (the main process then reads the whole file itself). Quiet whatever happens: the main
    process reports, and Ctrl-C is its to handle (it ends this process)."""
    import gc
    import os
    import signal

    receiver.close()  # so that a killed main process leaves this one a broken pipe, not a wait
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # a short-lived process of long-lived objects (see loaders._paused_gc)
    os.environ[PROGRESS_ENV] = "0"  # the main process draws the one progress bar
    try:
        part = _read_second_part(text, first_line, macros, path)
    except Exception:
        part = None
    with contextlib.suppress(OSError):  # the main process stopped listening
        sender.send(part)
    sender.close()


def _read_second_part(text: str, first_line: int, macros: dict[str, str], path: str
                      ) -> _PlainPart | None:
    """The second part: it must start with an entry on `first_line`."""
    library = _split(text, first_line)
    blocks = [b for b in library.blocks if not _is_implicit_comment(b)]
    if not blocks or _line(blocks[0]) != first_line + 1:
        return None
    part = _part(library, macros, path, strings=0, to_end=True)
    if part is None:
        return None
    return (_to_plain(part[0]), *part[1:])


_FIELDS = tuple(RefRecord.__dataclass_fields__)


def _to_plain(records: list[RefRecord]) -> bytes:
    """Records as marshalled lists: several times faster to pass between processes than
    pickled objects."""
    authors = _FIELDS.index("authors")
    plain = []
    for record in records:
        values = [getattr(record, name) for name in _FIELDS]
        values[authors] = [(a.family, a.given, a.prefix, a.suffix) for a in record.authors]
        plain.append(values)
    return marshal.dumps(plain)


def _from_plain(data: bytes) -> list[RefRecord]:
    records = []
    for values in marshal.loads(data):
        record = RefRecord(*values)
        record.authors = [AuthorName(*parts) for parts in record.authors]  # type: ignore[misc]
        records.append(record)
    return records


def _part(library: Any, macros: dict[str, str], path: str, *, strings: int,
          to_end: bool = False) -> _Part | None:
    """Records (their rows worked out), problems, non-references, block count and folded
    keys of one part, or None when the part is not plain (see `_SecondPart`)."""
    entries = list(library.entries)
    if library.failed_blocks or len(library.strings) != strings or not entries:
        return None
    blocks = [b for b in library.blocks if not _is_implicit_comment(b)]
    if not to_end and blocks[-1] is not entries[-1]:
        return None  # the part must end with a complete entry, not a cut comment
    if any(field_name(f.key) in ("crossref", "xdata") for e in entries for f in e.fields):
        return None
    by_key = {key_fold(e.key): e for e in entries}
    problems: list[Problem] = []
    records, not_references = _records(entries, macros, by_key, path, problems)
    for record in records:  # on this part's core, not later in the main process alone
        record.prepare()
    return records, problems, not_references, len(entries) - len(not_references), set(by_key)


def _is_implicit_comment(block: Any) -> bool:
    return type(block).__name__ == "ImplicitComment"


def _raw_fields(entry: Any, macros: dict[str, str], path: str,
                problems: list[Problem]) -> dict[str, str] | None:
    raw: dict[str, str] = {}
    ok = True
    for f in entry.fields:
        key, value = f.key, f.value
        name = field_name(key)
        if not isinstance(value, str):
            value = str(value)
        try:
            if value[:1] == "{" and value.count("{") == 1 and value.count("}") == 1 and (
                    value[-1] == "}"):
                value = value[1:-1]  # the usual `{text}`: what resolve_value gives, sooner
            elif not value.isdigit():
                value = resolve_value(value, macros)
        except KeyError as missing:
            problems.append(_problem(Code.BAD_VALUE,
                                     f"field '{name}' uses undefined @string macro {missing}",
                                     path, _line(f), entry.key))
            ok = False
            continue
        except ValueSyntaxError as junk:
            problems.append(_problem(Code.PARSE, _junk_message(f"field '{name}'", str(junk)),
                                     path, _line(f), entry.key))
            ok = False
            continue
        raw[name] = value if value.isascii() else nfc(value)
    if control_character("\n".join(raw.values())) is not None:  # one search, not one a field
        ok = _no_control_characters(entry, raw, path, problems) and ok
    return raw if ok else None


def _no_control_characters(entry: Any, raw: dict[str, str], path: str,
                           problems: list[Problem]) -> bool:
    """Report each field of `raw` with a control character in it; True when there is none."""
    lines = {field_name(f.key): _line(f) for f in entry.fields}
    ok = True
    for name, value in raw.items():
        bad = control_character(value)
        if bad is not None:
            problems.append(_problem(
                Code.CONTROL_CHAR,
                f"field '{name}' contains control character U+{ord(bad):04X}; remove it",
                path, lines.get(name), entry.key))
            ok = False
    return ok


def _inherit(raw: dict[str, str], entry: Any, by_key: dict[str, Any], macros: dict[str, str],
             path: str, problems: list[Problem]) -> None:
    """Fill fields missing from the entry from its `crossref` parent and `xdata` sources."""
    parents: list[str] = []
    if "crossref" in raw:
        parents.append(raw["crossref"])
    if "xdata" in raw:
        parents.extend(p.strip() for p in raw["xdata"].split(",") if p.strip())
    for parent_key in parents:
        parent = by_key.get(key_fold(parent_key))
        if parent is None:
            problems.append(_problem(
                Code.CROSSREF, f"crossref/xdata target '{parent_key}' is not in the file",
                path, _line(entry), entry.key, Severity.WARNING))
            continue
        for f in parent.fields:
            name = field_name(f.key)
            if name in ("crossref", "xdata", "ids"):
                continue
            try:
                value = nfc(resolve_value(f.value, macros))
            except (KeyError, ValueSyntaxError):
                continue  # reported where the parent itself is read
            target = name
            if name == "title" and parent.entry_type.lower() in ("proceedings", "book",
                                                                 "collection", "mvbook"):
                target = "booktitle"
            raw.setdefault(target, value)


# Record attributes decoded from the first of their fields that is given and not blank.
_DECODED_FIELDS = (
    ("journal", ("journal", "journaltitle", "booktitle")),
    ("volume", ("volume",)),
    ("issue", ("number", "issue")),
    ("pages", ("pages",)),
    ("note", ("note",)),
    ("study_design", ("studydesign",)),
    ("pmid", ("pmid",)),
)


def _entry_record(entry: Any, macros: dict[str, str], by_key: dict[str, Any], path: str,
                  problems: list[Problem]) -> RefRecord | None:
    line = _line(entry)
    key = entry.key
    bad_key = control_character(key)
    if bad_key is not None or not key.strip():
        problems.append(_problem(Code.BAD_VALUE, "citekey is empty or has control characters",
                                 path, line, key))
        return None
    raw = _raw_fields(entry, macros, path, problems)
    if raw is None:
        return None
    _inherit(raw, entry, by_key, macros, path, problems)

    def get(*names: str) -> str | None:
        for name in names:
            value = raw.get(name)
            if value is not None and value.strip():
                return decode_latex(value)
        return None

    title = get("title")
    if title is None:
        problems.append(_problem(Code.MISSING_FIELD, "entry has no title; add one", path,
                                 line, key))
        return None
    record = RefRecord(citekey=nfc(key), entry_type=entry.entry_type.lower(), line=line,
                       title=title, raw_fields=raw)
    for attribute, names in _DECODED_FIELDS:
        for name in names:
            value = raw.get(name)
            if value is not None and value.strip():
                setattr(record, attribute, decode_latex(value))
                break
    doi = get("doi")
    record.doi = normalise_doi(doi) if doi else None
    _set_year(record, get("year") or get("date"), path, problems)
    _set_sample_size(record, get("samplesize"), path, problems)
    if "author" in raw and raw["author"].strip():
        record.authors, record.et_al = split_authors(raw["author"])
    elif "editor" in raw and raw["editor"].strip():
        record.authors, record.et_al = split_authors(raw["editor"])
    _warn_missing(record, path, problems)
    problems += [_problem(Code.MALFORMED_ID if malformed else Code.BAD_VALUE, message, path,
                          line, record.citekey, Severity.WARNING)
                 for malformed, message in reference_warnings(
                     doi=record.doi, pmid=record.pmid, year=record.year, pages=record.pages)]
    return record


def _set_year(record: RefRecord, text: str | None, path: str, problems: list[Problem]) -> None:
    if text is None:
        return
    record.year_text = text
    match = _YEAR.search(text)
    if match:
        record.year = int(match.group(1))
    else:
        problems.append(_problem(Code.BAD_VALUE, f"year '{text}' has no four-digit year; "
                                 "it is kept as text only", path, record.line, record.citekey,
                                 Severity.WARNING))


def _set_sample_size(record: RefRecord, text: str | None, path: str,
                     problems: list[Problem]) -> None:
    if text is None:
        return
    if text.strip().isdigit():
        record.sample_size = int(text)
    else:
        problems.append(_problem(Code.COUNT, f"samplesize '{text}' is not a whole number "
                                 "of 0 or more", path, record.line, record.citekey))


def _warn_missing(record: RefRecord, path: str, problems: list[Problem]) -> None:
    missing = []
    if not record.authors:
        missing.append("author")
    if record.year_text is None:
        missing.append("year")
    if record.entry_type == "article" and record.journal is None:
        missing.append("journal")
    if missing:
        problems.append(_problem(Code.MISSING_FIELD, f"no {', '.join(missing)}; loaded anyway",
                                 path, record.line, record.citekey, Severity.WARNING))

