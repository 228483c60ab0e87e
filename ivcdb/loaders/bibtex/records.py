"""BibTeX entries assembled into reference records: fields resolved, inherited, decoded, checked.

`crossref` and `xdata` inheritance is applied here: bibtexparser 2 has no middleware for it
(version 1 had `add_missing_from_crossref`,
https://github.com/sciunto-org/python-bibtexparser/pull/216; version 2 dropped it).
Failed blocks, duplicate keys and bad values become problems (`file:line: key`), never
exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivcdb.csvformat import INT_MAX, OutOfRange, whole_number
from ivcdb.loaders.bibtex.entries import entry_type_name
from ivcdb.loaders.bibtex.latex import LatexDecodeError, decode_latex
from ivcdb.loaders.bibtex.names import AuthorName, name_norm, split_authors
from ivcdb.loaders.bibtex.values import (
    MAX_EXPANSION,
    MAX_VALUE_CHARS,
    Macros,
    MacroUse,
    ValueSyntaxError,
    ValueTooLong,
    field_name,
    month_as_written,
    normalise_doi,
    resolve_value,
)
from ivcdb.loaders.files import content_hash
from ivcdb.plausibility import reference_warnings
from ivcdb.progress import track
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import BARE_CR, control_character, fold, key_fold, key_problem, nfc
from ivcdb.works import work_keys

NOT_REFERENCES = frozenset({"set", "xdata"})
MAX_KEY_CHARS = 250  # a citekey (real ones are under 50)
CLIPPED = 60  # characters of a key or name echoed in a problem


def clip(text: str) -> str:
    """`text` as echoed in a problem: at most `CLIPPED` characters, then an ellipsis."""
    return text if len(text) <= CLIPPED else text[:CLIPPED - 1] + "…"
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_KEY_IN_RAW = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]*)")


@dataclass(slots=True)
class RefRecord:
    """One reference ready to store: decoded values, authors and raw BibTeX fields."""

    # Plain fields shaped like the columns in `ivcdb.models`, kept apart: records are parsed
    # and checked without the database libraries (in the forked reader too).
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
    prepared_work_keys: list[str] | None = field(default=None, compare=False, repr=False)

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
        names = [(a.family, a.given, a.prefix, a.suffix) for a in self.authors]
        row = dict(zip(_REFERENCE_COLUMNS, values, strict=True))
        # The raw fields' JSON (the longest value) is hashed as it is, after the rest.
        row["content_hash"] = content_hash((values[:-1], names), raw_fields)
        return row

    def author_values(self) -> list[AuthorValues]:
        """The `author` rows without the reference id: position, name parts, folded name."""
        if self.prepared_authors is not None:
            return self.prepared_authors
        return author_values(self.authors)

    def work_keys(self) -> list[str]:
        """The keys that match this entry to other entries of the same work (`ivcdb.works`)."""
        if self.prepared_work_keys is not None:
            return self.prepared_work_keys
        row, authors = self.prepared_row or self.row(), self.author_values()
        return work_keys(row["doi"], row["pmid"], row["title_norm"], row["year"],
                         authors[0][1] if authors else None)

    def prepare(self) -> None:
        """Work out `row()`, `author_values()` and `work_keys()` now (on this core, not
        later)."""
        self.prepared_row = self.row()
        self.prepared_authors = self.author_values()
        self.prepared_work_keys = self.work_keys()


AuthorValues = tuple[int, str, str, str, str, str]


def author_values(authors: list[AuthorName]) -> list[AuthorValues]:
    """The `author` rows of these names without the reference id: position, name parts,
    folded name."""
    return [(i, a.family, a.given, a.prefix, a.suffix, name_norm(a.given, a.prefix, a.family))
            for i, a in enumerate(authors, 1)]


def raw_authors(raw: dict[str, str]) -> tuple[list[AuthorName], bool] | None:
    """The names (and "and others") of an entry's raw `author` field, else its `editor`
    field; None when it has neither."""
    for name in ("author", "editor"):
        if name in raw and raw[name].strip():
            return split_authors(raw[name])
    return None
AUTHOR_COLUMNS = ("reference_id", "position", "family", "given", "prefix", "suffix",
                  "name_norm")
_REFERENCE_COLUMNS = (
    "citekey", "citekey_norm", "entry_type", "title", "title_norm", "journal", "year_text",
    "year", "volume", "issue", "pages", "doi", "pmid", "study_design", "sample_size", "note",
    "et_al", "raw_fields",
)



@dataclass(slots=True)
class ParsedBibliography:
    path: str
    records: list[RefRecord]
    problems: list[Problem]
    blocks: int  # entry-like blocks in the file: stored + reported must equal this
    not_references: list[tuple[str, int]] = field(default_factory=list)  # (key, line)
    # (line, citekey) of every entry-like block read (stored or reported), in line order
    entries: list[tuple[int, str]] = field(default_factory=list)
    macros: dict[str, str] = field(default_factory=dict)  # @string definitions, for the next
    # citekeys made up for records without one (RIS, CSL-JSON, MEDLINE; see loaders.citekeys)
    generated: list[str] = field(default_factory=list)
    # @string macros used but defined neither here nor before, with their first use
    undefined: dict[str, MacroUse] = field(default_factory=dict)



def _problem(code: Code, message: str, path: str, line: int | None, key: str = "",
             severity: Severity = Severity.ERROR) -> Problem:
    return Problem(code, message, file=path, line=line, key=key, severity=severity)


def line_of(item: Any) -> int:
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

    line = line_of(block)
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



def parse_whole(text: str, path: str, inherited: dict[str, str] | None = None
                ) -> ParsedBibliography:
    """The file in one piece, in this process (`inherited`: macros of the files before)."""
    problems: list[Problem] = []
    library = split_blocks(text)
    problems += keep_first_fields(library, path)
    macros = macros_of(library.strings, path, problems, inherited)
    for failed in library.failed_blocks:
        problems.append(_failed_block_problem(failed, path))
    problems += _first_of_duplicates(library.failed_blocks, path)
    entries = list(library.entries)
    by_key = {key_fold(e.key): e for e in entries}
    records, not_references = records_of(entries, macros, by_key, path, problems)
    problems += [undefined_macro_warning(use, path) for use in macros.undefined.values()]
    blocks = len(entries) - len(not_references) + len(library.failed_blocks)
    if blocks == 0 and not problems and not text.strip():
        problems.append(_problem(Code.EMPTY, "no BibTeX entries found", path, None))
    elif blocks == 0 and not problems:  # only comments (a file just begun) or macros
        message = ("no BibTeX entries, only @string definitions (which the files after it in "
                   "this load use); no references loaded from it" if library.strings
                   else "no BibTeX entries found; nothing loaded from it")
        problems.append(_problem(Code.EMPTY, message, path, None, severity=Severity.WARNING))
    read = entry_lines(entries) + [
        (line_of(b), getattr(b, "key", "") or _failed_key(b.raw or ""))
        for b in library.failed_blocks]
    return ParsedBibliography(path, records, problems, blocks, not_references, sorted(read),
                              macros, undefined=macros.undefined)


def keep_first_fields(library: Any, path: str) -> list[Problem]:
    """An entry giving a field twice keeps the first value, with a warning naming the line of
    each one dropped (BibTeX and biber warn and do the same); the entry replaces the failed
    block bibtexparser made of it."""
    from bibtexparser.model import DuplicateFieldKeyBlock, Entry

    problems = []
    for block in [b for b in library.failed_blocks if isinstance(b, DuplicateFieldKeyBlock)]:
        entry: Any = block.ignore_error_block
        kept: dict[str, Any] = {}
        for f in entry.fields:
            name = field_name(f.key)
            if name in kept:
                problems.append(_problem(
                    Code.DUPLICATE_FIELD, f"field '{clip(name)}' is given again (first on line "
                    f"{line_of(kept[name])}); the first value is kept, as BibTeX keeps it",
                    path, line_of(f), entry.key, Severity.WARNING))
            else:
                kept[name] = f
        library.replace(block, Entry(entry.entry_type, entry.key, list(kept.values()),
                                     entry.start_line, entry.raw), fail_on_duplicate_key=False)
    return problems


def undefined_macro_warning(use: MacroUse, path: str) -> Problem:
    """One warning per macro a file uses without a definition (BibTeX warns too)."""
    times = f" ({use.uses} uses, the first here)" if use.uses > 1 else ""
    return _problem(Code.UNDEFINED_MACRO, f"@string macro '{clip(use.name)}' is not defined"
                    f"{times}; its name is kept as the text. Define it, or load the file "
                    "that does with this one (--references abbrev.bib --references this.bib)",
                    path, use.line, use.key, Severity.WARNING)


def _note_undefined(macros: dict[str, str], names: list[str], line: int, key: str) -> None:
    """Count the uses of undefined macros in `macros.undefined` (a `Macros`' own record)."""
    if not isinstance(macros, Macros):
        return
    seen = macros.undefined
    for name in names:
        use = seen.get(name.lower())
        seen[name.lower()] = (MacroUse(name, line, key) if use is None else
                              MacroUse(use.name, use.line, use.key, use.uses + 1))


def entry_lines(entries: list[Any]) -> list[tuple[int, str]]:
    """(line, citekey) of each entry."""
    return [(line_of(e), e.key) for e in entries]


def _first_of_duplicates(failed: list[Any], path: str) -> list[Problem]:
    """The first entry of a citekey used again is reported too: each entry of the key is
    skipped, and each is named."""
    from bibtexparser.model import DuplicateBlockKeyBlock

    return [_problem(Code.DUPLICATE_KEY, f"citekey '{b.key}' is used again on line "
                     f"{line_of(b)}; rename one", path, line_of(b.previous_block), b.key)
            for b in failed if isinstance(b, DuplicateBlockKeyBlock)
            and getattr(b.previous_block, "start_line", None) is not None]


def split_blocks(text: str, first_line: int = 0) -> Any:
    """bibtexparser's split of `text` into blocks, lines counted from `first_line` (0-based).

    When an entry cannot be split and has a `%` in it, the text is split again with every
    `% ...` comment between fields blanked (biber reads such comments; bibtexparser takes a
    comma in one for the next field), and that split is kept if fewer blocks fail.
    """
    library = _split(text, first_line)
    if any(type(b).__name__ == "ParsingFailedBlock" and "%" in (b.raw or "")
           for b in library.failed_blocks):
        plain = without_field_comments(text)
        if plain != text:
            again = _split(plain, first_line)
            if len(again.failed_blocks) < len(library.failed_blocks):
                return again
    return library


# bibtexparser's splitter takes a mark (`{`, `}`, `"`, `,`, `=`, a line break) after a
# backslash as escaped, whatever comes before the backslash: `{C:\\}` runs past its value and
# a line ending in `\\` (a TeX line break, as in Beebe's TUGboat bibliographies) is not
# counted, so every later entry gets a wrong line (sciunto-org/python-bibtexparser#598, open).
# A mark after an even run of backslashes, and every line break, get `_MARK_GUARD` before
# them while splitting. It also ends a quoted value at a `"` inside braces (`"zeitgem{"a}{\ss}"`,
# `"{... "optional" ...}"`), which BibTeX reads as text: such quotes are `_HIDDEN_QUOTE`
# while splitting. Both are undone in what the split gives.
_BACKSLASHES_BEFORE_MARK = re.compile(r'\\+(?=[{}",=\n])')
_MARK_GUARD = "\x1f"
_HIDDEN_QUOTE = "\x1e"
_NESTED_QUOTE_HINT = re.compile(r'\{[^{}"]*(?<!\\)"')
_QUOTE_TOKENS = re.compile(r'\\.|[{}"]', re.DOTALL)


def _split(text: str, first_line: int) -> Any:
    """The split, with quotes inside braces of a quoted value hidden when the text may have
    one, unless hiding them makes more blocks fail (a file with a quote truly unclosed)."""
    library = _split_once(text, first_line, hide=False)
    if (_HIDDEN_QUOTE not in text and _NESTED_QUOTE_HINT.search(text) is not None
            and _quote_cut_short(library)):
        hidden = _split_once(text, first_line, hide=True)
        if _failed(hidden) <= _failed(library):
            return hidden
    return library


def _failed(library: Any) -> int:
    return sum(type(b).__name__ == "ParsingFailedBlock" for b in library.failed_blocks)


def _quote_cut_short(library: Any) -> bool:
    """Whether a split shows a quoted value ended inside braces: a failed block, or a value
    starting with `"` whose braces do not balance (a file without: split once)."""
    return _failed(library) > 0 or any(
        f.value[:1] == '"' and f.value.count("{") != f.value.count("}")
        for e in library.entries for f in e.fields if isinstance(f.value, str))


def _split_once(text: str, first_line: int, *, hide: bool) -> Any:
    from ivcdb.loaders.bibtex.splitter import splitter as fast_splitter

    guarded = _MARK_GUARD not in text and ("\\\\" in text or "\\\n" in text)
    if hide:
        text = hide_nested_quotes(text)
    splitter = fast_splitter(_BACKSLASHES_BEFORE_MARK.sub(_guard, text) if guarded else text)
    splitter._current_line += first_line  # as if `text` started on that line of the file
    library = splitter.split()
    if guarded or hide:
        _unguard(library)
    return library


def _guard(match: re.Match[str]) -> str:
    """A run of backslashes before a line break, or an even run before another mark, with
    `_MARK_GUARD` after it (an odd run escapes the mark: `\\{` stays)."""
    run = match.group()
    following = match.string[match.end()]
    return run + _MARK_GUARD if following == "\n" or len(run) % 2 == 0 else run


def hide_nested_quotes(text: str) -> str:
    """`text` with each `"` inside braces within a quoted value (outside none, at any depth
    below the value's own) replaced by `_HIDDEN_QUOTE`; everything else as it was."""
    out = list(text)
    depth, value_depth = 0, None  # value_depth: brace depth of the open quoted value
    for match in _QUOTE_TOKENS.finditer(text):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif token == '"' and depth > 0:
            if value_depth is None:
                value_depth = depth
            elif depth == value_depth:
                value_depth = None
            else:
                out[match.start()] = _HIDDEN_QUOTE
    return "".join(out)


def _unguard(library: Any) -> None:
    """Undo `_MARK_GUARD` and `_HIDDEN_QUOTE` in every key, value and raw text of a split."""
    def plain(value: str) -> str:
        return value.replace(_MARK_GUARD, "").replace(_HIDDEN_QUOTE, '"')

    blocks = list(library.blocks)
    blocks += [b.ignore_error_block for b in blocks
               if getattr(b, "ignore_error_block", None) is not None]
    for block in blocks:
        for name in ("key", "value", "raw"):
            value = getattr(block, name, None)
            if isinstance(value, str) and (_MARK_GUARD in value or _HIDDEN_QUOTE in value):
                # `raw` has no setter: its attribute is set
                setattr(block, "_raw" if name == "raw" else name, plain(value))
        for f in getattr(block, "fields", None) or []:
            for name in ("key", "value"):
                value = getattr(f, name)
                if isinstance(value, str) and (_MARK_GUARD in value or _HIDDEN_QUOTE in value):
                    setattr(f, name, plain(value))


def without_field_comments(text: str) -> str:
    """`text` with each `%` comment between an entry's fields (outside its values) blanked
    to the end of its line, so every line and offset stays."""
    out = list(text)
    depth, quoted, i = 0, False, text.find("@")
    while 0 <= i < len(text):
        ch = text[i]
        if depth == 0 and ch not in "{}":
            if ch == "@" or i + 1 >= len(text):
                i += 1
                continue
            at = text.find("@", i)  # between entries: nothing to do until the next one
            brace = text.find("{", i)
            i = brace if brace >= 0 and (at < 0 or brace < at) else at
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == '"' and depth == 1:
            quoted = not quoted
        elif ch == "%" and depth == 1 and not quoted:
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
            continue
        i += 1
    return "".join(out)


def macros_of(strings: Iterable[Any], path: str, problems: list[Problem],
              inherited: dict[str, str] | None = None) -> Macros:
    """The @string definitions, in order, after those `inherited` from earlier files."""
    macros = Macros(inherited or {})
    for string_block in strings:
        undefined: list[str] = []
        try:
            macros[string_block.key.lower()] = resolve_value(string_block.value, macros,
                                                             undefined)
            _note_undefined(macros, undefined, line_of(string_block), string_block.key)
        except ValueSyntaxError as junk:
            problems.append(_problem(Code.PARSE, _junk_message("@string value", str(junk)),
                                     path, line_of(string_block), string_block.key))
        except ValueTooLong:
            problems.append(_problem(
                Code.BAD_VALUE, f"@string '{clip(string_block.key)}' expands to more than "
                f"{MAX_EXPANSION:,} characters (macros joined to each other?); shorten it",
                path, line_of(string_block), clip(string_block.key)))
    return macros


def records_of(entries: list[Any], macros: dict[str, str], by_key: dict[str, Any], path: str,
             problems: list[Problem]) -> tuple[list[RefRecord], list[tuple[str, int]]]:
    """The records of `entries` in order, and the @set/@xdata blocks (not references)."""
    records: list[RefRecord] = []
    not_references: list[tuple[str, int]] = []
    seen: dict[str, tuple[int, str]] = {}
    for entry in track(entries, f"reading {Path(path).name}"):
        line = line_of(entry)
        if entry_type_name(entry.entry_type) in NOT_REFERENCES:
            not_references.append((entry.key, line))
            continue
        norm = key_fold(entry.key)
        if norm in seen:
            first_line, first_key = seen[norm]
            problems += [_problem(
                Code.DUPLICATE_KEY,
                f"citekey '{entry.key}' differs only in case from the one on line {first_line}",
                path, line, entry.key), _problem(
                Code.DUPLICATE_KEY, f"citekey '{first_key}' is used again on line {line} "
                f"(as '{entry.key}'); rename one", path, first_line, first_key)]
            continue
        seen[norm] = (line, entry.key)
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



def is_implicit_comment(block: Any) -> bool:
    return type(block).__name__ == "ImplicitComment"


def _raw_fields(entry: Any, macros: dict[str, str], path: str,
                problems: list[Problem]) -> dict[str, str] | None:
    raw: dict[str, str] = {}
    ok = True
    for f in entry.fields:
        key, value = f.key, f.value
        too_long = False
        name = field_name(key)
        if not isinstance(value, str):
            value = str(value)
        try:
            if value[:1] == "{" and value.count("{") == 1 and value.count("}") == 1 and (
                    value[-1] == "}"):
                value = value[1:-1]  # the usual `{text}`: what resolve_value gives, sooner
            elif name == "month" and (month := month_as_written(value, macros)) is not None:
                value = month
            elif not value.isdigit():
                undefined: list[str] = []
                value = resolve_value(value, macros, undefined)
                if undefined:
                    _note_undefined(macros, undefined, line_of(f), entry.key)
        except ValueSyntaxError as junk:
            problems.append(_problem(Code.PARSE, _junk_message(f"field '{name}'", str(junk)),
                                     path, line_of(f), entry.key))
            ok = False
            continue
        except ValueTooLong:
            value = ""
            too_long = True
        if too_long or len(value) > MAX_VALUE_CHARS:
            problems.append(_problem(Code.BAD_VALUE, f"field '{clip(name)}' is longer than "
                                     f"{MAX_VALUE_CHARS:,} characters, or its @string macros "
                                     f"expand past {MAX_EXPANSION:,}",
                                     path, line_of(f), clip(entry.key)))
            ok = False
            continue
        raw[name] = value if value.isascii() else nfc(value)
    joined = "\n".join(raw.values())
    if control_character(joined) is not None or "\r" in joined:  # one search, not one a field
        ok = _no_control_characters(entry, raw, path, problems) and ok
    return raw if ok else None


def _no_control_characters(entry: Any, raw: dict[str, str], path: str,
                           problems: list[Problem]) -> bool:
    """Report each field of `raw` with a control character (or a CR outside a CRLF) in it;
    True when there is none."""
    lines = {field_name(f.key): line_of(f) for f in entry.fields}
    ok = True
    for name, value in raw.items():
        bad = control_character(value)
        if bad is not None:
            problems.append(_problem(
                Code.CONTROL_CHAR,
                f"field '{name}' contains control character U+{ord(bad):04X}; remove it",
                path, lines.get(name), entry.key))
            ok = False
        elif BARE_CR.search(value):
            problems.append(_problem(
                Code.BARE_CR, f"field '{name}' contains a carriage return (CR) that is not "
                "part of a CRLF; remove it", path, lines.get(name), entry.key))
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
                path, line_of(entry), entry.key, Severity.WARNING))
            continue
        for f in parent.fields:
            name = field_name(f.key)
            if name in ("crossref", "xdata", "ids"):
                continue
            try:
                value = nfc(resolve_value(f.value, macros, []))  # undefined: reported
            except (ValueSyntaxError, ValueTooLong):
                continue  # reported where the parent itself is read
            target = name
            if name == "title" and entry_type_name(parent.entry_type) in ("proceedings", "book",
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
    line = line_of(entry)
    key = entry.key
    if len(key) > MAX_KEY_CHARS:
        problems.append(_problem(Code.BAD_VALUE, f"citekey is longer than {MAX_KEY_CHARS} "
                                 "characters; shorten it", path, line, clip(key)))
        return None
    bad_key = control_character(key)
    if bad_key is not None or not key.strip():
        problems.append(_problem(Code.BAD_VALUE, "citekey is empty or has control characters",
                                 path, line, key))
        return None
    wrong = None if key.isascii() and key.isprintable() else key_problem(key)
    if wrong is not None:
        problems.append(_problem(Code.BAD_IDENTIFIER, f"citekey {wrong}", path, line, key))
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
    if title is None:  # BibTeX warns too; a data set or a biber test entry may have none
        problems.append(_problem(Code.MISSING_FIELD, "entry has no title; loaded with an "
                                 "empty one (add it)", path, line, key, Severity.WARNING))
        title = ""
    record = RefRecord(citekey=nfc(key), entry_type=entry_type_name(entry.entry_type), line=line,
                       title=title, raw_fields=raw)
    for attribute, names in _DECODED_FIELDS:
        for name in names:
            value = raw.get(name)
            if value is not None and value.strip():
                setattr(record, attribute, decode_latex(value))
                break
    doi = get("doi")
    record.doi = normalise_doi(doi) if doi else None
    if record.pmid is None:
        record.pmid = pmid_elsewhere(raw)
    _set_year(record, get("year") or get("date"), path, problems)
    _set_sample_size(record, get("samplesize"), path, problems)
    people = raw_authors(raw)
    if people is not None:
        record.authors, record.et_al = people
    _warn_missing(record, path, problems)
    problems += [_problem(Code.MALFORMED_ID if malformed else Code.BAD_VALUE, message, path,
                          line, record.citekey, Severity.WARNING)
                 for malformed, message in reference_warnings(
                     doi=record.doi, pmid=record.pmid, year=record.year, pages=record.pages)]
    return record


_PMID_LINE = re.compile(r"(?i)\bPMID:[ \t]*(\d+)\b")
_PUBMED_EPRINT = ("pubmed", "pmid")


def pmid_elsewhere(raw: dict[str, str]) -> str | None:
    """A PMID given outside a `pmid` field: Better BibLaTeX's `eprint` with `eprinttype`
    `pubmed`, or a `PMID: n` line of `note` or `extra` (as Zotero writes it)."""
    if raw.get("eprinttype", "").strip().lower() in _PUBMED_EPRINT and raw.get("eprint"):
        return raw["eprint"].strip()
    for name in ("note", "extra"):
        match = _PMID_LINE.search(raw.get(name, ""))
        if match:
            return match.group(1)
    return None


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
    digits = text.strip()
    if digits.isascii() and digits.isdigit():  # not `²`: exact, and within INTEGER's range
        try:
            record.sample_size = whole_number(digits, low=0)
        except OutOfRange:
            problems.append(_problem(Code.OUT_OF_RANGE, f"samplesize {digits} is above "
                                     f"{INT_MAX}, the largest whole number the database keeps",
                                     path, record.line, record.citekey))
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

