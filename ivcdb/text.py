"""Text normalisation shared by loaders, search and duplicate checks."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    """The NFC form: one stored form for composed and decomposed accents."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Accent- and case-insensitive form for search: `Müller` -> `muller`."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", stripped.casefold()).strip()


def key_fold(text: str) -> str:
    """Case-insensitive form of an identifier (citekey, code): NFC then casefold."""
    return nfc(text).casefold()


def control_character(text: str) -> str | None:
    """The first NUL or other control character in `text` (tab and newlines allowed)."""
    match = _CONTROL.search(text)
    return match.group(0) if match else None


def squash(text: str) -> str:
    """Collapse runs of white space to one space and trim."""
    return _SPACE.sub(" ", text).strip()
