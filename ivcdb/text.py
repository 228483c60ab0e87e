"""Text normalisation shared by loaders, search and duplicate checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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
