"""Parse and validate a BibTeX file into reference records, without touching the database.

bibtexparser 2 splits the file into blocks (failed blocks become problems, not exceptions).
Everything after that is ours and done only where needed, since most fields of a real
library are plain text: `@string` macros and `#` concatenation are resolved, `crossref` and
`xdata` inheritance applied, LaTeX decoded to Unicode (cached; only values with LaTeX in them
go through pylatexenc), authors split into name parts (cached per distinct name), and the raw
field text kept so an export writes `{DNA}` back as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ivcdb.loaders.bibtex import parallel
from ivcdb.loaders.bibtex.entries import EntryStart, scan, unread_entries
from ivcdb.loaders.bibtex.latex import LatexDecodeError, decode_latex
from ivcdb.loaders.bibtex.names import AuthorName, NameParts, split_authors, split_name
from ivcdb.loaders.bibtex.parallel import SecondPart
from ivcdb.loaders.bibtex.records import (
    AUTHOR_COLUMNS,
    NOT_REFERENCES,
    AuthorValues,
    ParsedBibliography,
    RefRecord,
    author_values,
    parse_whole,
    raw_authors,
)
from ivcdb.loaders.bibtex.values import (
    MONTHS,
    ValueSyntaxError,
    field_name,
    normalise_doi,
    resolve_value,
)
from ivcdb.loaders.files import read_text
from ivcdb.report import Problem

__all__ = [
    "AUTHOR_COLUMNS", "MONTHS", "NOT_REFERENCES", "AuthorName", "AuthorValues", "BibtexReading",
    "LatexDecodeError", "NameParts", "ParsedBibliography", "RefRecord", "ValueSyntaxError",
    "author_values", "decode_latex", "field_name", "normalise_doi", "parse_bibtex",
    "raw_authors", "resolve_value", "split_authors", "split_name", "start_bibtex",
]


def parse_bibtex(path: str | Path, *, text: str | None = None,
                 macros: dict[str, str] | None = None) -> ParsedBibliography:
    """Read and validate a whole BibTeX file; problems are collected, never raised."""
    return start_bibtex(path, text=text, macros=macros).result()


def start_bibtex(path: str | Path, *, text: str | None = None,
                 macros: dict[str, str] | None = None) -> BibtexReading:
    """Start reading a BibTeX file: a large one's second part is read at once on another core.

    The caller may do other work (a load imports the database libraries) before asking for
    `result()`; use the reading as a context manager, or call `result()`, so the second
    process always ends. `macros` are @string definitions of the files read before.
    """
    path_s = str(path)
    if text is None:
        text, problem = read_text(path)
        if problem is not None:
            return BibtexReading(path_s, "", problem)
    logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
    inherited = dict(macros or {})
    second = (SecondPart.start(text, path_s, inherited)
              if len(text) >= parallel.PARALLEL_MIN_CHARS else None)
    if second is not None:  # each part is scanned on its own core
        return BibtexReading(path_s, text, None, second, None, inherited)
    text, starts = scan(text)
    return BibtexReading(path_s, text, None, None, starts, inherited)


@dataclass(slots=True)
class BibtexReading:
    """A BibTeX file being read; `result()` waits for and returns the parsed bibliography."""

    path: str
    text: str
    problem: Problem | None = None
    second: SecondPart | None = None
    # the entry starts a plain reading finds (`scan`); None: `text` is not scanned yet (its
    # parts are scanned where they are read)
    starts: list[EntryStart] | None = field(default_factory=list)
    macros: dict[str, str] = field(default_factory=dict)  # of the files read before
    notes: list[Problem] = field(default_factory=list)  # warnings of reading it (encoding)

    def result(self) -> ParsedBibliography:
        try:
            if self.problem is not None:
                return ParsedBibliography(self.path, [], [self.problem], 0)
            joined = self.second.finish(self.text, self.path) if self.second else None
            if joined is not None:
                parsed, starts = joined
            else:
                text, starts = (self.text, self.starts) if self.starts is not None else scan(
                    self.text)
                parsed = parse_whole(text, self.path, self.macros)
            unread = unread_entries(starts, {line for line, _ in parsed.entries}, self.path)
            parsed.problems += unread
            parsed.problems[:0] = self.notes
            parsed.blocks += len(unread)
            return parsed
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

