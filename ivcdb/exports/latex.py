"""LaTeX that compiles as it is: escaped text, citation labels, and the one table writer.

Every LaTeX output of ivcdb is a fragment without a preamble that needs no package beyond
booktabs, tabularx, longtable and array (with `\\usepackage[T1]{fontenc}` and
`\\usepackage[utf8]{inputenc}`, the defaults of a modern LaTeX):

- text is escaped by `escape`: LaTeX's specials become commands; ASCII and the Latin-1
  letters stay as they are (T1 has them); every other character is written as the LaTeX
  command pylatexenc knows for it (`≈` → `\\ensuremath{\\approx}`, `±` → `\\ensuremath{\\pm}`,
  `µ` → `{\\textmu}`, `č` → `\\v{c}`) when the LaTeX kernel defines that command, else as
  its code point (`\\texttt{[U+4E2D]}`), so that no character stops the compilation;
- tables are `longtable`s (`table_fragment`): they break across pages with the header
  repeated, and every column is a wrapping `p{}` column sized as a share of `\\linewidth`
  (tabularx's X columns do not work inside longtable), so the table is exactly as wide as the
  text whatever the paper and font size.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = ["Column", "bibitem_label", "cite", "escape", "escape_url", "table_fragment"]

_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "\u2013": "--", "\u2014": "---",
}
# The control words of pylatexenc's encodings that LaTeX's kernel defines (with the T1 and
# TS1 font encodings and the default math fonts): in text, and inside `\ensuremath`. An
# encoding using any other (amssymb's `\lesssim`, tipa's, `\mathbb`) is not used.
# tests/test_latex_compiles.py compiles every character of the blocks pylatexenc covers.
_TEXT_WORDS = frozenset("""
AE DH DJ H IJ L NG O OE TH ae c dh dj enskip ensuremath guillemotleft guillemotright
guilsinglleft guilsinglright hspace i ij k l ng o oe quad quotedblbase quotesinglbase r ss
textasciiacute textasciidieresis textasciimacron textasteriskcentered textbrokenbar
textbullet textcelsius textcent textcircledP textcolonmonetary textcopyright textcurrency
textdagger textdaggerdbl textdegree textdiscount textdiv textdong textdownarrow textellipsis
textemdash textendash textestimated texteuro textexclamdown textflorin textfractionsolidus
textinterrobang textleftarrow textlira textlnot textmho textmu textnaira textnumero
textonehalf textonequarter textonesuperior textordfeminine textordmasculine textparagraph
textperiodcentered textpertenthousand textperthousand textpeso textquestiondown
textquotedblleft textquotedblright textquoteleft textquoteright textrecipe textreferencemark
textregistered textrightarrow textsc textsection textservicemark textsterling
textthreequarters textthreesuperior texttimes texttrademark texttwosuperior textuparrow
textwon textyen th u v
""".split())
_MATH_WORDS = frozenset("""
Delta Downarrow Gamma Lambda Leftarrow Leftrightarrow Omega Phi Pi Psi Rightarrow Sigma Theta
Uparrow Updownarrow Upsilon Vert Xi acute aleph alpha angle approx asymp beta bigcap bigcup
bigvee bigwedge bowtie bullet cap cdot cdots chi circ cong coprod cup dashv ddot ddots delta
diamond doteq ell ensuremath epsilon equiv eta exists forall gamma geq gg hbar hookleftarrow
hookrightarrow in infty int iota kappa kern lambda leftharpoondown leftharpoonup
leftrightarrow leq ll mapsto mathbin mid mp mu nabla nearrow neq ni not notin nu nwarrow odot
oint omega ominus oplus oslash otimes parallel partial perp phi pi pm prec preceq prod propto
psi rho rightharpoondown rightharpoonup rightleftharpoons searrow sigma sim simeq sqcap sqcup
sqrt sqsubseteq sqsupseteq star subset subseteq succ succeq sum supset supseteq swarrow tau
theta times top updownarrow uplus upsilon varepsilon varphi varpi varrho varsigma vartheta
vdash vdots vee wedge wp wr xi zeta
""".split())
_WORD = re.compile(r"\\([A-Za-z]+)")
_COMPOUND_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")  # between two letters
# no break before the hyphen, a break (and hyphenation of the next part) after it
_BREAKABLE_HYPHEN = r"\nobreak-\hspace{0pt}"
_URL_BREAK = re.compile(r"(?<=[/.?&=_#-])(?=[^/])")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9:.+/-]+$")


def escape(text: str, *, narrow: bool = False) -> str:
    """`text` as LaTeX that prints it: specials escaped, characters outside T1 as commands,
    line breaks and other control characters as spaces.

    `narrow`, for a narrow column: a word joined to another by a hyphen may break inside
    either part too (TeX hyphenates neither part of `anthracycline-based` on its own, and
    such a word sticks out of a narrow column).
    """
    parts = _COMPOUND_HYPHEN.split(text) if narrow else [text]
    return _BREAKABLE_HYPHEN.join("".join(_character(ch) for ch in part) for part in parts)


@lru_cache(maxsize=4096)
def _character(ch: str) -> str:
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    if " " <= ch <= "~" or ("\u00c0" <= ch <= "\u00ff" and ch not in "\u00d7\u00f7"):
        return ch  # printable ASCII, and the Latin-1 letters T1 has
    if unicodedata.category(ch) == "Cc":
        return " "
    encoded = _pylatexenc(ch)
    if encoded is None or not _kernel_only(encoded):
        return f"\\texttt{{[U+{ord(ch):04X}]}}"
    return encoded


def _pylatexenc(ch: str) -> str | None:
    from pylatexenc.latexencode import UnicodeToLatexEncoder

    encoder = UnicodeToLatexEncoder(non_ascii_only=True, unknown_char_policy="fail",
                                    replacement_latex_protection="braces",
                                    unknown_char_warning=False)
    try:
        encoded: str = encoder.unicode_to_latex(ch)
    except ValueError:  # no LaTeX for it
        return None
    return encoded


def _kernel_only(encoded: str) -> bool:
    """Whether every control word of `encoded` is the kernel's, math ones in `\\ensuremath`."""
    words = set(_WORD.findall(encoded))
    allowed = _MATH_WORDS if encoded.startswith("\\ensuremath{") else _TEXT_WORDS
    return words <= allowed


def escape_url(url: str) -> str:
    """A URL as `escape` writes it, with a break allowed after each `/ . ? & = - _ #` (no
    `url` package needed: a long URL would otherwise stick out of the line)."""
    return r"\allowbreak{}".join(escape(part) for part in _URL_BREAK.split(url))


def bibitem_label(key: str, number: int | None) -> str:
    """The citekey as a `\\bibitem`/`\\cite` label when LaTeX takes it as it is, else
    `refN` (N the citation number), else the key with every other character as `-`."""
    if _SAFE_LABEL.match(key):
        return key
    if number is not None:
        return f"ref{number}"
    return re.sub(r"[^A-Za-z0-9:.+/-]", "-", key) or "ref"


def cite(cited: Sequence[tuple[int | None, str]]) -> str:
    """`\\cite{key1,key2}` for (number, citekey) pairs, with the labels `refs --format latex`
    gives the `\\bibitem`s; empty for none."""
    return f"\\cite{{{','.join(bibitem_label(k, n) for n, k in cited)}}}" if cited else ""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of `table_fragment`: its header (LaTeX), its share of `\\linewidth` and how
    its text is set (ragged right by default: narrow columns read better unjustified)."""

    header: str
    share: float
    align: Literal["left", "center", "right"] = "left"


_ALIGN = {"left": r"\raggedright", "center": r"\centering", "right": r"\raggedleft"}


def _column_spec(columns: Sequence[Column]) -> str:
    """`@{}>{...}p{\\dimexpr 0.3\\linewidth-\\tabcolsep\\relax}...@{}`: each column its
    share of the line less its padding, so the shares add up to the table's width.

    `\\hspace{0pt}` lets TeX hyphenate a cell's first word (a long word in a narrow column
    would otherwise stick out).
    """
    specs = []
    for i, column in enumerate(columns):
        padding = (i > 0) + (i < len(columns) - 1)  # @{} at the outer edges, as booktabs
        width = f"{column.share:.4f}".rstrip("0").rstrip(".") + r"\linewidth"
        if padding:
            width = rf"\dimexpr {width}-{padding if padding > 1 else ''}\tabcolsep\relax"
        specs.append(rf">{{{_ALIGN[column.align]}\arraybackslash\hspace{{0pt}}}}p{{{width}}}")
    return "@{}" + "".join(specs) + "@{}"


def _row(cells: Sequence[str]) -> str:
    # `\\` looks ahead for `*` or `[`: a row starting with one would be read as its argument
    first = "{}" + cells[0] if cells and cells[0].startswith(("*", "[")) else cells[0]
    return " & ".join([first, *cells[1:]]) + r" \\"


def table_fragment(columns: Sequence[Column], rows: Iterable[Sequence[str]], *,
                   caption: str | None = None, label: str | None = None) -> str:
    """A booktabs `longtable` of `rows` under `columns`, with an optional caption and label.

    Headers, cells and caption are LaTeX (pass text through `escape`). The shares of the
    columns should add up to 1 (at most): the table then spans `\\linewidth` exactly, its
    cells wrapping, and on a page break the header is repeated. Needs booktabs, longtable and
    array; works in a one-column document (longtable does not work in `twocolumn`).
    """
    if sum(c.share for c in columns) > 1.0001:
        raise ValueError("the column shares add up to more than the line width")
    header = _row([c.header for c in columns])
    width = len(columns)
    lines = [rf"\begin{{longtable}}{{{_column_spec(columns)}}}"]
    if caption is not None:
        lines.append(rf"\caption{{{caption}}}" + (rf"\label{{{label}}}" if label else "")
                     + r"\\")
    lines += [r"\toprule", header, r"\midrule", r"\endfirsthead",
              r"\toprule", header, r"\midrule", r"\endhead",
              r"\midrule",
              rf"\multicolumn{{{width}}}{{@{{}}r@{{}}}}{{\footnotesize\itshape continued on "
              r"the next page}\\",
              r"\endfoot", r"\bottomrule", r"\endlastfoot"]
    lines += [_row(list(cells)) for cells in rows]
    lines.append(r"\end{longtable}")
    return "\n".join(lines) + "\n"
