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

from ivcdb.bibfields import container_field, normalise_pmcid, publisher_field
from ivcdb.loaders.bibtex import AuthorName, ParsedBibliography, RefRecord, normalise_doi
from ivcdb.loaders.citekeys import assign_keys, shown_keys
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
    # beyond an article's fields (see `ivcdb.exports.details`), as plain text
    editors: list[AuthorName] = field(default_factory=list)
    publisher: str | None = None  # or the school (thesis), the institution (report)
    place: str | None = None
    edition: str | None = None
    isbn: str | None = None
    issn: str | None = None
    series: str | None = None
    url: str | None = None
    urldate: str | None = None  # ISO `2024-05-01` when it is a date
    date: str | None = None  # ISO `2015-03-12`, `2015-03`: the issue date beyond its year
    genre: str | None = None  # a thesis's or report's type
    version: str | None = None
    pmcid: str | None = None

    def more(self) -> dict[str, str | None]:
        """The values beyond an article's, by the BibTeX field that keeps them."""
        return {publisher_field(self.entry_type): self.publisher, "address": self.place,
                "edition": self.edition, "isbn": self.isbn, "issn": self.issn,
                "series": self.series, "type": self.genre, "version": self.version,
                "date": self.date,
                "pmcid": normalise_pmcid(self.pmcid) if self.pmcid else None}


def bibliography(path: str, items: list[Item], problems: list[Problem], fmt: str,
                 macros: dict[str, str] | None = None) -> ParsedBibliography:
    """The records of `items`, checked; `problems` are the reader's own (kept first)."""
    problems = list(problems)
    keys = assign_keys([(i.key, next((p.family for p in i.authors + i.editors), ""),
                         _year(i.year_text), i.doi, i.pmid) for i in items])
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
            Code.MISSING_FIELD, f"{len(generated)} {fmt} record(s) have no citekey: each "
            "keeps the key stored for its DOI or PMID, else gets one from first author and "
            f"year: {shown_keys(generated)}", file=path,
            severity=Severity.WARNING))
    if not items and not any(p.is_error for p in problems):
        problems.append(Problem(Code.EMPTY, f"no {fmt} records found", file=path))
    return ParsedBibliography(path, records, problems, len(items),
                              entries=sorted((i.line, k) for i, k in zip(items, keys,
                                                                          strict=True)),
                              macros=dict(macros or {}), generated=generated)


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
             item.doi, item.pmid, item.note, item.url, item.urldate, *item.more().values()
             ] + [v for a in item.authors + item.editors for v in (a.family, a.given, a.suffix)]
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
                       pmid=_clean(item.pmid), et_al=item.et_al and bool(item.authors),
                       authors=_names(item.authors or item.editors))
    doi = _clean(item.doi)
    record.doi = normalise_doi(doi) if doi else None
    record.year_text = _clean(item.year_text)
    record.year = _year(record.year_text)
    if record.year_text is not None and record.year is None:
        problems.append(Problem(Code.BAD_VALUE, f"year '{record.year_text}' has no four-digit "
                                "year; it is kept as text only", file=path, line=item.line,
                                key=key, severity=Severity.WARNING))
    record.raw_fields = bibtex_fields(record, _names(item.authors), _names(item.editors),
                                      item)
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


def _names(names: list[AuthorName]) -> list[AuthorName]:
    return [AuthorName(*(nfc(p) for p in (a.family, a.given, a.prefix, a.suffix)))
            for a in names]


def name_list(names: list[AuthorName], *, et_al: bool = False) -> str | None:
    """`Family, Given and ...` as a BibTeX `author` or `editor` field holds it (escaped; a
    name of one part with spaces in it, an organisation's, braced whole)."""
    if not names:
        return None
    text = " and ".join(_bibtex_name(a) for a in names)
    return text + " and others" if et_al else text


def _bibtex_name(name: AuthorName) -> str:
    if not (name.given or name.prefix or name.suffix) and " " in name.family.strip():
        return "{" + bibtex_text(name.family) + "}"
    family = " ".join(x for x in (name.prefix, name.family) if x)
    return ", ".join(bibtex_text(p) for p in (family, name.suffix, name.given) if p)


def bibtex_fields(record: RefRecord, authors: list[AuthorName], editors: list[AuthorName],
                  item: Item) -> dict[str, str]:
    """The record's values as the raw BibTeX fields a `.bib` file would hold (its URL as
    written: BibTeX keeps a `url` verbatim)."""
    values = {"title": record.title,
              container_field(record.entry_type): record.journal, "year": record.year_text,
              "volume": record.volume, "number": record.issue, "pages": record.pages,
              "doi": record.doi, "pmid": record.pmid, "note": record.note,
              "urldate": _clean(item.urldate)}
    values |= {name: _clean(value) for name, value in item.more().items()}
    people = {"author": name_list(authors, et_al=record.et_al), "editor": name_list(editors)}
    fields = {name: value for name, value in people.items() if value}
    fields |= {name: bibtex_text(value) for name, value in values.items() if value}
    url = _clean(item.url)
    if url:
        fields["url"] = url if "{" not in url and "}" not in url else bibtex_text(url)
    return fields
