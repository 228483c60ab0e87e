"""Text normalisation shared by loaders, search and duplicate checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# C0 (but TAB, LF and CR), DEL and C1: never text. (U+009B alone is a terminal escape.)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What an identifier may not hold: every control and white space but the plain space, and
# the invisible format characters (bidi controls, zero-width characters, U+FEFF, soft hyphen,
# line and paragraph separators) that make two keys look alike or text display reordered.
_NOT_IN_IDENTIFIER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000e0000-\U000e0fff]")
# Shown escaped on a terminal: controls and the invisible format characters.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e0fff]")
_INVISIBLE_BUT_LINES = re.compile(_INVISIBLE.pattern.replace("\x00-\x1f", "\x00-\x08\x0b-\x1f"))
BARE_CR = re.compile(r"\r(?!\n)")  # a carriage return that is not part of a CRLF
CLIP = 80  # characters of an echoed value a message shows
_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    """The NFC form: one stored form for composed and decomposed accents."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Accent- and case-insensitive form for search: `Müller` -> `muller`."""
    if text.isascii():  # nothing to decompose: the same result, much faster
        return _SPACE.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", stripped.casefold()).strip()


_WORD = re.compile(r"[^\W_]+")  # letters and digits: one word of the search text


def search_words(text: str) -> list[str]:
    """The words of `text` as search sees them: folded (`fold`), split at every character
    that is not a letter or digit (`5-year` is `5`, `year`)."""
    return _WORD.findall(fold(text))


def search_text(*parts: str | None) -> str:
    """The stored search text of a claim (statement, outcome code and label, population): their
    words, one space apart. Both engines split it the same way (at the spaces), so a word
    search finds the same claims on SQLite and PostgreSQL."""
    # the parts joined first: one fold and one split (a space never joins two words)
    return " ".join(search_words(" ".join(part for part in parts if part)))


@lru_cache(maxsize=1 << 17)
def key_fold(text: str) -> str:
    """Case-insensitive form of an identifier (citekey, code): NFC then casefold.

    Cached: a load folds the same citekeys again and again (every claim's links).
    """
    return nfc(text).casefold()


def control_character(text: str) -> str | None:
    """The first NUL or other control character in `text` (tab and newlines allowed)."""
    match = _CONTROL.search(text)
    return match.group(0) if match else None


def identifier_character(text: str) -> str | None:
    """The first character an identifier may not hold (control, bidi, zero-width...), if any."""
    match = _NOT_IN_IDENTIFIER.search(text)
    return match.group(0) if match else None


def key_problem(key: str) -> str | None:
    """What is wrong with an identifier (review id, citekey, code), or None: said as
    `contains invisible character U+202E; ...`."""
    bad = identifier_character(key)
    if bad is None:
        return None
    kind = "control" if control_character(bad) or bad in "\t\n\r" else "invisible"
    return (f"contains {kind} character {codepoint(bad)}; an identifier holds visible "
            "characters only")


def codepoint(char: str) -> str:
    """`U+202E`: how a message names a character it cannot show."""
    return f"U+{ord(char):04X}"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def visible(text: str, *, lines: bool = False) -> str:
    """`text` with controls and invisible format characters escaped (`\\u202e`), for a terminal.

    `lines` keeps TAB and LF as they are (a message of several lines).
    """
    if text.isascii() and text.isprintable():
        return text
    return (_INVISIBLE_BUT_LINES if lines else _INVISIBLE).sub(_escape, text)


def clip(text: str, limit: int = CLIP) -> str:
    """`text` cut to `limit` characters with an ellipsis: an echoed value stays short."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def squash(text: str) -> str:
    """Collapse runs of white space to one space and trim."""
    return _SPACE.sub(" ", text).strip()


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'a', 'b'?)` for the close matches of `word` (case-insensitive)."""
    import difflib

    by_fold = {key_fold(c): c for c in choices}
    folded = key_fold(word)
    close = difflib.get_close_matches(folded, list(by_fold), n=3, cutoff=0.6)
    close += [k for k in sorted(by_fold) if folded and folded in k and k not in close][:3]
    shown = [by_fold[k] for k in close[:3]]
    return f" (did you mean {', '.join(repr(c) for c in shown)}?)" if shown else ""
