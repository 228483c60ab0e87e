"""CSL-JSON files (Zotero, Better BibTeX, citeproc tools, ivcdb's own export): an array of
items, read with the json module.

The citekey is `citation-key` when given, else `id` when it looks like one (Zotero's ids
are item URIs: those get a generated key). Each item's line is where its `{` starts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ivcdb.bibfields import iso_date
from ivcdb.loaders.bibtex import AuthorName
from ivcdb.loaders.items import Item
from ivcdb.report import Code, Problem

# CSL type -> BibTeX type (the inverse of `ivcdb.exports.csl.CSL_TYPES`, and more)
TYPES = {
    "article-journal": "article", "article-magazine": "article",
    "article-newspaper": "article", "review": "article", "book": "book",
    "chapter": "incollection", "paper-conference": "inproceedings", "thesis": "thesis",
    "report": "report", "webpage": "online", "post-weblog": "online",
    "manuscript": "unpublished", "pamphlet": "booklet", "dataset": "dataset",
    "software": "software",
}
_KEY_LIKE = re.compile(r"^[^\s/,{}]+$")


def read(text: str, path: str) -> tuple[list[Item], list[Problem]]:
    """The items of a CSL-JSON array (or one item), and the problems that kept one out."""
    text = text.removeprefix("\ufeff")
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    try:
        if text[start:start + 1] != "[":
            whole, _ = decoder.raw_decode(text, start)
            values = [(start, whole)]
        else:
            values = _array_items(text, start + 1, decoder)
    except ValueError as error:
        line = getattr(error, "lineno", None)
        return [], [Problem(Code.PARSE, f"not valid JSON ({getattr(error, 'msg', error)}); "
                            "CSL-JSON is an array of items", file=path, line=line)]
    items, problems = [], []
    for at, value in values:
        line = text.count("\n", 0, at) + 1
        if not isinstance(value, dict):
            problems.append(Problem(Code.SCHEMA, "a CSL-JSON item is an object with a type "
                                    f"and a title, not {type(value).__name__}", file=path,
                                    line=line))
            continue
        items.append(_item(value, line))
    return items, problems


def _array_items(text: str, at: int, decoder: json.JSONDecoder) -> list[tuple[int, Any]]:
    """(offset, value) of each element of the array opened just before `at`."""
    out: list[tuple[int, Any]] = []
    while True:
        at = _skip(text, at)
        if text[at:at + 1] == "]" and not out:
            break
        if out:
            if text[at:at + 1] == "]":
                break
            if text[at:at + 1] != ",":
                raise json.JSONDecodeError("expected ',' or ']'", text, at)
            at = _skip(text, at + 1)
        value, end = decoder.raw_decode(text, at)
        out.append((at, value))
        at = end
    if text[_skip(text, at + 1):].strip():
        raise json.JSONDecodeError("extra data after the array", text, _skip(text, at + 1))
    return out


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    text = str(value).strip()
    return text or None


def _name(name: Any) -> AuthorName | None:
    if not isinstance(name, dict):
        return None
    literal = _text(name.get("literal"))
    if literal:
        return AuthorName(literal)
    family = _text(name.get("family")) or ""
    given = " ".join(p for p in (_text(name.get("given")),
                                 _text(name.get("dropping-particle"))) if p)
    prefix = _text(name.get("non-dropping-particle")) or ""
    suffix = _text(name.get("suffix")) or ""
    return AuthorName(family, given, prefix, suffix) if family or given else None


def _parts(date: Any) -> tuple[int, ...]:
    """A CSL date's first date-parts as numbers ((year, month, day), as far as given)."""
    parts = date.get("date-parts") if isinstance(date, dict) else None
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list)):
        return ()
    out: list[int] = []
    for part in parts[0][:3]:
        text = _text(part)
        if text is None or not text.isdigit():
            break
        out.append(int(text))
    return tuple(out)


def _year(issued: Any) -> str | None:
    if not isinstance(issued, dict):
        return _text(issued)
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return _text(parts[0][0])
    return _text(issued.get("literal")) or _text(issued.get("raw"))


def _date(value: Any) -> str | None:
    """An ISO date (`2024-05-01`, `2024-05`, `2024`) of a CSL date, else its text."""
    parts = _parts(value)
    if parts:
        return iso_date(parts) or str(parts[0])
    if isinstance(value, dict):
        return _text(value.get("literal")) or _text(value.get("raw"))
    return _text(value)


def _names(value: Any) -> list[AuthorName]:
    if not isinstance(value, list):
        return []
    return [n for n in map(_name, value) if n is not None]


def _key(item: dict[str, Any]) -> str | None:
    key = _text(item.get("citation-key"))
    if key:
        return key
    key = _text(item.get("id"))
    return key if key and _KEY_LIKE.match(key) and not key.isdigit() else None


def _item(item: dict[str, Any], line: int) -> Item:
    return Item(
        line=line, entry_type=TYPES.get(str(item.get("type", "")), "misc"),
        title=_text(item.get("title")), key=_key(item), authors=_names(item.get("author")),
        editors=_names(item.get("editor")),
        year_text=_year(item.get("issued")), journal=_text(item.get("container-title")),
        volume=_text(item.get("volume")),
        issue=_text(item.get("issue")) or _text(item.get("number")),
        pages=_text(item.get("page")), doi=_text(item.get("DOI")),
        pmid=_text(item.get("PMID")), note=_text(item.get("note")),
        series=_text(item.get("collection-title")), publisher=_text(item.get("publisher")),
        place=_text(item.get("publisher-place")), edition=_text(item.get("edition")),
        isbn=_text(item.get("ISBN")), issn=_text(item.get("ISSN")), url=_text(item.get("URL")),
        urldate=_date(item.get("accessed")), date=iso_date(_parts(item.get("issued"))),
        genre=_text(item.get("genre")), version=_text(item.get("version")),
        pmcid=_text(item.get("PMCID")))
