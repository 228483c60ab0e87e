"""Numbered reference lists in the article's own style: Markdown, plain text, HTML and LaTeX.

`- [N] Family I, Family I, Family I, et al., year, Title. *Journal*, vol(issue): pages.` —
three authors then "et al.", an en dash in page ranges, and no period added after a title
that ends in `?` or `!`. Books, chapters, proceedings, theses, reports, web pages and data
sets go on in sentences, Citing Medicine's order, with what they have of: `In: Editors
(eds.), *Book*, pp. 45–67.`, the thesis or report type and number, `2nd ed.`, `Place:
Publisher.`, `(Series).`, `ISBN ...`, `URL (accessed 2024 May 1).`; their date is printed in
full (`2023 Mar 14`). An article is printed as the review prints it (its year only).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from ivcdb import figures
from ivcdb.bibfields import CHAPTERS, MONTH_ABBREVIATIONS, REPORTS
from ivcdb.exports import latex
from ivcdb.exports.details import Details, details
from ivcdb.formats import REFERENCE_LIST, renderer

if TYPE_CHECKING:
    from ivcdb.queries import ExportAuthor, ExportReference

FORMATS = tuple(REFERENCE_LIST)
_PAGE_RANGE = re.compile(r"^\s*(\w+)\s*(?:-{1,2}|\u2013|\u2014)\s*(\w+)\s*$")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def author_list(ref: ExportReference) -> str:
    """Up to three authors; "et al." when there are more, or when the entry says `others`."""
    return _people(ref.authors, et_al=ref.et_al)


def _people(people: Sequence[ExportAuthor], *, et_al: bool) -> str:
    return figures.author_list([figures.author_name(a.family, a.given, a.prefix, a.suffix)
                                for a in people], et_al=et_al)


def _editors(more: Details) -> str:
    """`Smith J, Jones K (eds.)`, `Smith J (ed.)`; empty without editors."""
    if not more.editors:
        return ""
    several = len(more.editors) > 1 or more.editors_et_al
    return f"{_people(more.editors, et_al=more.editors_et_al)} ({'eds.' if several else 'ed.'})"


def printed_date(parts: tuple[int, ...]) -> str:
    """`2023 Mar 14`, `2023 Mar`, `2023` (as Citing Medicine prints dates)."""
    names = [str(parts[0])] if parts else []
    if len(parts) > 1:
        names.append(MONTH_ABBREVIATIONS[parts[1] - 1].title())
    if len(parts) > 2:
        names.append(str(parts[2]))
    return " ".join(names)


def page_range(pages: str) -> str:
    """`438--440`, `438-440` -> `438–440` (en dash); anything else as stored."""
    match = _PAGE_RANGE.match(pages)
    return f"{match.group(1)}\u2013{match.group(2)}" if match else pages.strip()


def _sentence(text: str) -> str:
    """Close a title with a period unless it already ends in `.`, `?` or `!`."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def locator(ref: ExportReference) -> str:
    """`26(3): 438–440`, `33: 245–251`, or whatever parts the reference has."""
    where = (ref.volume or "") + (f"({ref.issue})" if ref.issue else "")
    if ref.pages:
        return f"{where}: {page_range(ref.pages)}" if where else page_range(ref.pages)
    return where


def entry(ref: ExportReference, *, escape: Callable[[str], str],
          italic: Callable[[str], str], link: Callable[[str], str] | None = None) -> str:
    """One entry without its number: authors, year, title. journal, locator; for an entry
    that is not an article, what it has of editors, container, thesis or report type,
    edition, place and publisher, series, pages, ISBN and URL with its access date (the
    URL written by `link`, else `escape`)."""
    if ref.entry_type == "article":
        head = [escape(p) for p in (author_list(ref), _year(ref)) if p]
        text = ", ".join([*head, escape(_sentence(ref.title))]) if head else escape(
            _sentence(ref.title))
        tail = [italic(escape(ref.journal))] if ref.journal else []
        if locator(ref):
            tail.append(escape(locator(ref)))
        return f"{text} {', '.join(tail)}." if tail else text
    more = details(ref)
    people = _people(more.authors, et_al=more.et_al) or _editors(more)
    head = [escape(p) for p in (people, printed_date(more.issued) or _year(ref)) if p]
    text = ", ".join([*head, escape(_sentence(ref.title))])
    parts = [p if p.endswith((".", "?", "!")) else p + "." for p in
             _more_parts(ref, more, escape=escape, italic=italic) if p]
    accessed = printed_date(more.accessed) or more.accessed_text
    url = " ".join(p for p in ((link or escape)(more.url or ""),
                               escape(f"(accessed {accessed})")
                               if accessed else "") if p)
    return " ".join([text, *parts, *([url] if url else [])])  # no period after a URL


def _more_parts(ref: ExportReference, more: Details, *, escape: Callable[[str], str],
                italic: Callable[[str], str]) -> Iterator[str]:
    """The sentences between the title and the URL of an entry that is not an article."""
    container = italic(escape(ref.journal)) if ref.journal else ""
    edited_by = escape(_editors(more)) if more.authors else ""
    chapter = ref.entry_type in CHAPTERS
    if chapter:
        inside = ", ".join(p for p in (edited_by, container) if p)
        yield f"In: {inside}" if inside else ""
    else:
        yield escape(" ".join(p for p in (more.genre, ref.issue if ref.entry_type in REPORTS
                                          else None) if p))
        yield ", ".join(p for p in (edited_by, container,
                                    escape(locator(ref)) if container else "") if p)
    yield escape(_edition(more.edition) if more.edition else "")
    yield escape(f"Version {more.version}" if more.version else "")
    yield escape(": ".join(p for p in (more.place, more.publisher) if p))
    volume = ref.volume if chapter or not container else None
    if more.series:
        yield escape(f"({more.series}; vol. {volume})" if volume else f"({more.series})")
    elif volume:
        yield escape(f"Vol. {volume}")
    if chapter or not container:
        yield escape(_pages(ref))
    yield escape(f"ISBN {more.isbn}" if more.isbn else "")


def _pages(ref: ExportReference) -> str:
    if not ref.pages:
        return ""
    pages = page_range(ref.pages)
    return f"pp. {pages}" if "\u2013" in pages else f"p. {pages}"


def _edition(edition: str) -> str:
    """`2` -> `2nd ed.`; `Second` -> `Second ed.`; an edition naming itself stays."""
    if edition.isdigit():
        n = int(edition)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} ed."
    return edition if "ed" in edition.lower() else f"{edition} ed."


def _year(ref: ExportReference) -> str:
    return str(ref.year) if ref.year is not None else (ref.year_text or "")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _escape_html(text: str) -> str:
    return html.escape(text, quote=False)


def number(ref: ExportReference, index: int) -> int:
    """The reference's citation number, else its place (from 1) in the list."""
    return ref.number if ref.number is not None else index


def to_markdown(refs: Sequence[ExportReference]) -> str:
    """`- [N] Authors, year, Title. *Journal*, locator.` lines."""
    return _lines("- " + figures.numbered(number(r, i), entry(
        r, escape=escape_markdown, italic=lambda s: f"*{s}*")) for i, r in enumerate(refs, 1))


def to_text(refs: Sequence[ExportReference]) -> str:
    """`[N] Authors, year, Title. Journal, locator.` lines."""
    return _lines(figures.numbered(number(r, i), entry(r, escape=str, italic=str))
                  for i, r in enumerate(refs, 1))


def to_html(refs: Sequence[ExportReference]) -> str:
    """An `<ol>` whose items keep the citation numbers (markup escaped)."""
    items = [f'  <li id="ref-{number(r, i)}" value="{number(r, i)}">'
             + entry(r, escape=_escape_html, italic=lambda s: f"<i>{s}</i>") + "</li>"
             for i, r in enumerate(refs, 1)]
    return _lines(['<ol class="references">', *items, "</ol>"])


def to_latex(refs: Sequence[ExportReference]) -> str:
    """A `thebibliography` environment (text escaped by `latex.escape`; the labels are those
    `latex.cite` writes)."""
    items = [f"\\bibitem{{{latex.bibitem_label(r.key, number(r, i))}}} "
             + entry(r, escape=latex.escape, italic=lambda s: f"\\textit{{{s}}}",
                     link=latex.escape_url)
             for i, r in enumerate(refs, 1)]
    width = len(str(max((number(r, i) for i, r in enumerate(refs, 1)), default=9)))
    return _lines([f"\\begin{{thebibliography}}{{{'9' * width}}}", *items,
                   "\\end{thebibliography}"])


def _lines(lines: Iterable[str]) -> str:
    return "\n".join(lines) + "\n"


def render(refs: Sequence[ExportReference], fmt: str) -> str | bytes:
    """The whole list in `fmt` (a name of `formats.REFERENCE_LIST`), ending in a newline."""
    text: str | bytes = renderer(REFERENCE_LIST, fmt, what="reference-list format")(refs)
    return text
