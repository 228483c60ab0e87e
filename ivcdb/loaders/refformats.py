"""Which format a references file is in, and reading it: BibTeX, RIS, CSL-JSON or MEDLINE.

The extension names the format (`.bib`, `.ris`, `.json`, `.nbib`); a `.txt` file, or one of
another extension, is recognised by its content (`@type{`, `TY  - `, `[`/`{`, `PMID- `).
A file whose content is plainly another format than its extension says, or whose format
cannot be told, is refused with one problem naming it. A file that is not UTF-8 is read as
Windows-1252 (else Latin-1), with a warning naming the encoding (`files.read_legacy_text`).
Every format gives the same `ParsedBibliography` (see `ivcdb.loaders.items`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ivcdb.loaders.bibtex import BibtexReading, ParsedBibliography, start_bibtex
from ivcdb.loaders.files import read_legacy_text
from ivcdb.loaders.items import Item, bibliography
from ivcdb.report import Code, Problem

NAMES = {"bibtex": "BibTeX", "ris": "RIS", "csljson": "CSL-JSON", "medline": "MEDLINE"}
EXTENSIONS = {".bib": "bibtex", ".bibtex": "bibtex", ".ris": "ris", ".json": "csljson",
              ".nbib": "medline", ".medline": "medline"}
_SNIFF = (
    # blank lines before the first tag: `[^\S\n]*\n`, not `\s*\n`, which matches a run of
    # blank lines in exponentially many ways (a file after 30 blank lines took minutes)
    ("ris", re.compile(r"\A(?:[^\S\n]*\n)*TY  - ")),
    ("csljson", re.compile(r"\A\s*[\[{]")),
    ("medline", re.compile(r"\A(?:[^\S\n]*\n)*PMID- ")),
    ("bibtex", re.compile(r"^\s*@\s*\w+\s*[{(]", re.MULTILINE)),
)
Reader = Callable[[str, str], tuple[list[Item], list[Problem]]]


def sniff(text: str) -> str | None:
    """The format the content of a file shows, if any."""
    head = text.removeprefix("\ufeff")[:100_000]
    return next((fmt for fmt, pattern in _SNIFF if pattern.search(head)), None)


def reference_format(path: str | Path, text: str) -> tuple[str | None, Problem | None]:
    """The format of a references file, or the problem saying why it cannot be read."""
    by_name = EXTENSIONS.get(Path(path).suffix.lower())
    by_content = sniff(text)
    if by_name is not None and by_content not in (None, by_name):
        return None, Problem(Code.PARSE, f"the file is named as {NAMES[by_name]} but holds "
                             f"{NAMES[by_content]}; rename it to "
                             f"{_extension(by_content)}", file=str(path))
    fmt = by_name or by_content
    if fmt is None:
        if not text.strip():
            fmt = "bibtex"  # an empty file: reported as having no entries
        else:
            return None, Problem(Code.PARSE, "cannot tell the references format: name the "
                                 "file .bib (BibTeX), .ris (RIS), .json (CSL-JSON) or .nbib "
                                 "(PubMed MEDLINE)", file=str(path))
    return fmt, None


def _extension(fmt: str) -> str:
    return next(ext for ext, f in EXTENSIONS.items() if f == fmt)


def _readers() -> dict[str, Reader]:
    from ivcdb.loaders import csljson, medline, ris

    return {"ris": ris.read, "csljson": csljson.read, "medline": medline.read}


@dataclass(slots=True)
class ReadReferences:
    """A references file already read in full (every format but a large BibTeX file)."""

    parsed: ParsedBibliography

    def result(self) -> ParsedBibliography:
        return self.parsed

    def close(self) -> None:
        """Nothing runs in the background."""


def start_references(path: str | Path, *, macros: dict[str, str] | None = None
                     ) -> BibtexReading | ReadReferences:
    """Begin reading a references file in whatever format it is (see `start_bibtex`)."""
    path_s = str(path)
    text, problem = read_legacy_text(path)
    if problem is not None and problem.is_error:
        return BibtexReading(path_s, "", problem)
    notes = [problem] if problem is not None else []  # read as cp1252 or Latin-1
    fmt, problem = reference_format(path, text)
    if problem is not None:
        return ReadReferences(ParsedBibliography(path_s, [], [*notes, problem], 0,
                                                 macros=dict(macros or {})))
    if fmt == "bibtex":
        reading = start_bibtex(path, text=text, macros=macros)
        reading.notes = notes
        return reading
    items, problems = _readers()[fmt or ""](text, path_s)
    return ReadReferences(bibliography(path_s, items, [*notes, *problems], NAMES[fmt or ""],
                                       macros))
