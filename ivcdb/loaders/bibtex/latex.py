"""LaTeX in field values decoded to Unicode NFC, with pylatexenc only where it is needed.

bibtexparser 2's `LatexDecodingMiddleware` runs pylatexenc on every value; most values of a
real library are plain text or only protecting braces (`{DNA}`), which are handled here ~100x
faster with the same result, and each distinct value is decoded once (cached).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Generator
from functools import lru_cache
from typing import Any

from ivcdb.loaders.bibtex.values import delimiters
from ivcdb.text import nfc, squash

_LATEX = re.compile(r"[\\{}$~]")
# What pylatexenc would do more to than drop protecting braces (see `_only_braces`).
_NOT_ONLY_BRACES = re.compile(r"[\\$~%&#^_`']|-[{}]|[{}]-")

class LatexDecodeError(ValueError):
    """The LaTeX decoder failed on a value (malformed macro use)."""


@lru_cache(maxsize=65536)
def decode_latex(value: str) -> str:
    """LaTeX to Unicode NFC (`M{\\"u}ller` -> `Müller`); plain text passes through untouched."""
    pieces: list[str] = []
    plain: str | None = value
    if _LATEX.search(value):
        plain = None if _HOLE in value else _only_braces(_SELF_CONTAINED.sub(
            lambda match: _hold(match, pieces), value))
    if plain is None:
        try:
            value = _latex_to_text(value)
        except RecursionError:
            raise
        except Exception as error:  # pylatexenc fails on some malformed macros (`\title`)
            raise LatexDecodeError(str(error)) from error
    else:
        if "--" in plain:  # the dashes pylatexenc would make
            plain = plain.replace("---", "\u2014").replace("--", "\u2013")
        for piece in pieces:
            plain = plain.replace(_HOLE, piece, 1)
        value = plain
    return squash(nfc(value.replace("\u00a0", " ")))


def _only_braces(value: str) -> str | None:
    """`{DNA} repair` -> `DNA repair`: text whose only LaTeX is balanced protecting braces.

    Most LaTeX in a library is that; pylatexenc gives the same text ~100x slower. None when
    anything else (a macro, math, a special such as `~` or a quote, a dash touching a brace)
    is there, or the braces do not balance.
    """
    if _NOT_ONLY_BRACES.search(value):
        return None
    if any(depth < 0 for _, _, depth, _ in delimiters(value)):
        return None
    braces = value.count("{")
    return value.replace("{", "").replace("}", "") if braces == value.count("}") else None


# Self-contained LaTeX that decodes alone as it does inside any text: accented and special
# letters (`{\"u}`, `{\"{u}}`, `{\c{c}}`, `\'e`, `{\'\i}`, `{\o}`, `{\ss}`), escaped
# characters (`\%`, `\&`), simple font commands (`\textit{in vivo}`) and Greek letters in math
# (`$\alpha$`). Each is decoded once by pylatexenc (cached) and held out of the text as a
# `_HOLE` while the rest is checked; anything left over that is LaTeX sends the whole value to
# pylatexenc, so the result is always pylatexenc's.
_SELF_CONTAINED = re.compile(
    r"(?<!\\)(?:\{\\[`'^\"~=.](?:[A-Za-z]|\{[A-Za-z]\}|\\[ij])\}"
    r"|\{\\[uvHckbdr]\{[A-Za-z]\}\}|\{\\(?:aa|AA|ss|o|O|ae|AE|oe|OE|l|L)\}"
    r"|\\[`'^\"~=.](?:[A-Za-z]|\{[A-Za-z]\})"
    r"|\\[%&$#_{}]"
    r"|\\(?:textit|textbf|emph|textsc|textrm|textsf|texttt|textup|textsl)\{[^{}\\$%~&#^_`']*\}"
    r"|\$\\(?:alpha|beta|gamma|delta|kappa|lambda|mu|pi|sigma|chi)\$)"
)
_HOLE = "\x00"  # never in a field value: control characters are refused before decoding


def _hold(match: re.Match[str], pieces: list[str]) -> str:
    pieces.append(_decode_piece(match.group()))
    return _HOLE


@lru_cache(maxsize=4096)
def _decode_piece(latex: str) -> str:
    return _latex_to_text(latex)


_DECODER = threading.local()


def _latex_to_text(latex: str) -> str:
    """pylatexenc's text for `latex`, computed inside a generator (see `_decoder`)."""
    decoder = getattr(_DECODER, "generator", None)
    if decoder is None or decoder.gi_frame is None:
        decoder = _DECODER.generator = _decoder()
        next(decoder)
    result = decoder.send(latex)
    if isinstance(result, Exception):
        raise result
    return result


def _decoder() -> Generator[str | Exception, str, None]:
    """Decode each LaTeX string sent in: its text, or the exception pylatexenc raised.

    Every pylatexenc parse leaves a reference cycle through its frames (it returns its
    end-of-input exception, traceback and all), and such a cycle keeps each calling frame
    alive, with every local of the load above it, until the garbage collector runs: a
    20,000-entry file stayed in memory to the end and cost 0.2 s of collection at exit. A
    generator's frame links to no caller, so the cycles stay small and the load's objects
    are freed as soon as they are dropped.
    """
    latex2text = _latex2text()
    result: str | Exception = ""
    while True:
        latex = yield result
        try:
            result = str(latex2text.latex_to_text(latex))
        except Exception as error:  # RecursionError too: the caller decides
            result = error


@lru_cache(maxsize=1)
def _latex2text() -> Any:
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    # pylatexenc's \title/\author/\date remember their text and \maketitle prints it with
    # today's date: state shared between values and a result that changes daily. Keep only
    # the argument text instead (without an argument they fail, and the entry is refused).
    context = get_default_latex_context_db()
    context.add_context_category("ivcdb-no-document-state", prepend=True, macros=[
        MacroTextSpec("maketitle", simplify_repl=""),
        *(MacroTextSpec(name, simplify_repl="%(1)s") for name in ("title", "author", "date")),
    ])
    return LatexNodes2Text(latex_context=context, strict_latex_spaces=True)

