"""Numbered reference lists in the article's own style: Markdown, plain text, HTML and LaTeX.

`- [N] Family I, Family I, Family I, et al., year, Title. *Journal*, vol(issue): pages.` —
three authors then "et al.", an en dash in page ranges, and no period added after a title
that ends in `?` or `!`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ivcdb import figures
from ivcdb.formats import REFERENCE_LIST, renderer

if TYPE_CHECKING:
    from ivcdb.queries import ExportReference

FORMATS = tuple(REFERENCE_LIST)
_PAGE_RANGE = re.compile(r"^\s*(\w+)\s*(?:-{1,2}|\u2013|\u2014)\s*(\w+)\s*$")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9:.+/-]+$")
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "\u2013": "--", "\u2014": "---",
}


def author_list(ref: ExportReference) -> str:
    """Up to three authors; "et al." when there are more, or when the entry says `others`."""
    return figures.author_list([figures.author_name(a.family, a.given, a.prefix, a.suffix)
                                for a in ref.authors], et_al=ref.et_al)


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
          italic: Callable[[str], str]) -> str:
    """One entry without its number: authors, year, title. journal, locator."""
    head = [escape(p) for p in (author_list(ref), _year(ref)) if p]
    text = ", ".join([*head, escape(_sentence(ref.title))]) if head else escape(
        _sentence(ref.title))
    tail = [italic(escape(ref.journal))] if ref.journal else []
    if locator(ref):
        tail.append(escape(locator(ref)))
    return f"{text} {', '.join(tail)}." if tail else text


def _year(ref: ExportReference) -> str:
    return str(ref.year) if ref.year is not None else (ref.year_text or "")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _escape_html(text: str) -> str:
    return html.escape(text, quote=False)


def escape_latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _label(ref: ExportReference, index: int) -> str:
    """The citekey as a `\\bibitem` label when LaTeX takes it as is, else `refN`."""
    return ref.key if _SAFE_LABEL.match(ref.key) else f"ref{_number(ref, index)}"


def _number(ref: ExportReference, index: int) -> int:
    return ref.number if ref.number is not None else index


def to_markdown(refs: Sequence[ExportReference]) -> str:
    """`- [N] Authors, year, Title. *Journal*, locator.` lines."""
    return _lines("- " + figures.numbered(_number(r, i), entry(
        r, escape=escape_markdown, italic=lambda s: f"*{s}*")) for i, r in enumerate(refs, 1))


def to_text(refs: Sequence[ExportReference]) -> str:
    """`[N] Authors, year, Title. Journal, locator.` lines."""
    return _lines(figures.numbered(_number(r, i), entry(r, escape=str, italic=str))
                  for i, r in enumerate(refs, 1))


def to_html(refs: Sequence[ExportReference]) -> str:
    """An `<ol>` whose items keep the citation numbers (markup escaped)."""
    items = [f'  <li id="ref-{_number(r, i)}" value="{_number(r, i)}">'
             + entry(r, escape=_escape_html, italic=lambda s: f"<i>{s}</i>") + "</li>"
             for i, r in enumerate(refs, 1)]
    return _lines(['<ol class="references">', *items, "</ol>"])


def to_latex(refs: Sequence[ExportReference]) -> str:
    """A `thebibliography` environment (LaTeX specials escaped)."""
    items = [f"\\bibitem{{{_label(r, i)}}} "
             + entry(r, escape=escape_latex, italic=lambda s: f"\\textit{{{s}}}")
             for i, r in enumerate(refs, 1)]
    width = len(str(max((_number(r, i) for i, r in enumerate(refs, 1)), default=9)))
    return _lines([f"\\begin{{thebibliography}}{{{'9' * width}}}", *items,
                   "\\end{thebibliography}"])


def _lines(lines: Iterable[str]) -> str:
    return "\n".join(lines) + "\n"


def render(refs: Sequence[ExportReference], fmt: str) -> str:
    """The whole list in `fmt` (a name of `formats.REFERENCE_LIST`), ending in a newline."""
    text: str = renderer(REFERENCE_LIST, fmt, what="reference-list format")(refs)
    return text
