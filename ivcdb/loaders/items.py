"""References read from RIS, CSL-JSON or MEDLINE, turned into the records a BibTeX file gives.

Each reader (`ivcdb.loaders.ris`, `csljson`, `medline`) turns its file into `Item`s: plain
values, one per reference, with the line it starts on. `bibliography` checks them as the
BibTeX loader checks an entry (a title, a usable citekey, no control characters, the same
warnings) and gives the same `ParsedBibliography`, so resolving, writing, reports,
`--skip-invalid` and `--prune` work unchanged. An item without a citekey gets one
(`ivcdb.loaders.citekeys`); `raw_fields` hold BibTeX text, so `export --format bibtex`
writes an imported reference as it writes any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ivcdb.loaders.bibtex import AuthorName, ParsedBibliography, RefRecord, normalise_doi
from ivcdb.loaders.citekeys import assign_keys
from ivcdb.plausibility import reference_warnings
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import control_character, key_problem, nfc

MAX_KEY_CHARS = 250  # as for a BibTeX citekey
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_BIBTEX_SPECIAL = re.compile(r"[\\{}%&#$_]")


@dataclass(slots=True)
class Item:
    """One reference as a reader found it (values as text, not yet checked)."""

    line: int
    entry_type: str  # the BibTeX type it corresponds to (`article`, `book`, ...)
    title: str | None = None
    key: str | None = None  # the file's own citekey (RIS `ID`, CSL `id`), if any
    authors: list[AuthorName] = field(default_factory=list)
    et_al: bool = False
    year_text: str | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    note: str | None = None


def bibliography(path: str, items: list[Item], problems: list[Problem], fmt: str,
                 macros: dict[str, str] | None = None) -> ParsedBibliography:
    """The records of `items`, checked; `problems` are the reader's own (kept first)."""
    problems = list(problems)
    keys = assign_keys([(i.key, i.authors[0].family if i.authors else "", _year(i.year_text),
                         i.doi, i.pmid) for i in items])
    records: list[RefRecord] = []
    generated: list[str] = []
    for item, key in zip(items, keys, strict=True):
        if item.key is None:
            generated.append(key)
        record = _record(item, key, path, problems)
        if record is not None:
            records.append(record)
    if generated:
        problems.append(Problem(
            Code.MISSING_FIELD, f"{len(generated)} {fmt} record(s) have no citekey: generated "
            f"from first author and year: {_shown(generated)}", file=path,
            severity=Severity.WARNING))
    if not items and not any(p.is_error for p in problems):
        problems.append(Problem(Code.EMPTY, f"no {fmt} records found", file=path))
    return ParsedBibliography(path, records, problems, len(items),
                              entries=sorted((i.line, k) for i, k in zip(items, keys,
                                                                          strict=True)),
                              macros=dict(macros or {}), generated=generated)


def _shown(keys: list[str]) -> str:
    return ", ".join(keys[:5]) + (f", ... ({len(keys) - 5} more)" if len(keys) > 5 else "")


def _year(text: str | None) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _record(item: Item, key: str, path: str, problems: list[Problem]) -> RefRecord | None:
    def error(code: Code, message: str) -> None:
        problems.append(Problem(code, message, file=path, line=item.line, key=key))

    if len(key) > MAX_KEY_CHARS or not key.strip():
        error(Code.BAD_VALUE, f"citekey is empty or longer than {MAX_KEY_CHARS} characters")
        return None
    wrong = key_problem(key)
    if wrong is not None:
        error(Code.BAD_IDENTIFIER, f"citekey {wrong}")
        return None
    texts = [item.title, item.journal, item.year_text, item.volume, item.issue, item.pages,
             item.doi, item.pmid, item.note] + [v for a in item.authors for v in
                                                (a.family, a.given, a.suffix)]
    bad = next((c for c in map(control_character, [t for t in texts if t]) if c), None)
    if bad is not None:
        error(Code.CONTROL_CHAR, f"a field contains control character U+{ord(bad):04X}; "
              "remove it")
        return None
    if not item.title or not item.title.strip():
        error(Code.MISSING_FIELD, "record has no title; add one")
        return None
    record = RefRecord(citekey=nfc(key), entry_type=item.entry_type, line=item.line,
                       title=nfc(item.title.strip()), journal=_clean(item.journal),
                       volume=_clean(item.volume), issue=_clean(item.issue),
                       pages=_clean(item.pages), note=_clean(item.note),
                       pmid=_clean(item.pmid), et_al=item.et_al,
                       authors=[AuthorName(*(nfc(p) for p in (a.family, a.given, a.prefix,
                                                             a.suffix)))
                                for a in item.authors])
    doi = _clean(item.doi)
    record.doi = normalise_doi(doi) if doi else None
    record.year_text = _clean(item.year_text)
    record.year = _year(record.year_text)
    if record.year_text is not None and record.year is None:
        problems.append(Problem(Code.BAD_VALUE, f"year '{record.year_text}' has no four-digit "
                                "year; it is kept as text only", file=path, line=item.line,
                                key=key, severity=Severity.WARNING))
    record.raw_fields = bibtex_fields(record)
    missing = [name for name, value in (("author", record.authors),
                                        ("year", record.year_text)) if not value]
    if record.entry_type == "article" and record.journal is None:
        missing.append("journal")
    if missing:
        problems.append(Problem(Code.MISSING_FIELD, f"no {', '.join(missing)}; loaded anyway",
                                file=path, line=item.line, key=key, severity=Severity.WARNING))
    problems += [Problem(Code.MALFORMED_ID if malformed else Code.BAD_VALUE, message,
                         file=path, line=item.line, key=key, severity=Severity.WARNING)
                 for malformed, message in reference_warnings(
                     doi=record.doi, pmid=record.pmid, year=record.year, pages=record.pages)]
    return record


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = nfc(" ".join(value.split()))
    return value or None


def bibtex_text(value: str) -> str:
    """`value` as BibTeX field text: its special characters escaped (`{` -> `\\{`)."""
    return _BIBTEX_SPECIAL.sub(lambda m: "\\textbackslash{}" if m.group() == "\\"
                               else "\\" + m.group(), value)


def bibtex_fields(record: RefRecord) -> dict[str, str]:
    """The record's values as the raw BibTeX fields a `.bib` file would hold."""
    names = [" and ".join(", ".join(p for p in (
        " ".join(x for x in (a.prefix, a.family) if x), a.suffix, a.given) if p)
        for a in record.authors)] if record.authors else []
    if names and record.et_al:
        names = [names[0] + " and others"]
    values = {"author": names[0] if names else None, "title": record.title,
              "journal": record.journal, "year": record.year_text, "volume": record.volume,
              "number": record.issue, "pages": record.pages, "doi": record.doi,
              "pmid": record.pmid, "note": record.note}
    return {name: bibtex_text(value) for name, value in values.items() if value}
