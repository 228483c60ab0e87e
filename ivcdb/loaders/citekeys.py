"""Citekeys for references whose file has none (RIS, CSL-JSON, MEDLINE records may not).

A key is the first author's family name folded to ASCII letters and digits, then the year:
`wachtel2015`; a second record of the same stem in the file is `wachtel2015a`, then
`wachtel2015b`, ... in file order (`anon` without an author, `nd` without a year). Keys the
file gives itself are never reused. On a reload, a record whose DOI or PMID matches an entry
of the same bibliography keeps that entry's key first, so reordering a file never moves a
key from one reference to another.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping, Sequence

from ivcdb.text import fold, key_fold

# (the file's own key or None, first author's family name, year, DOI, PMID)
KeySource = tuple[str | None, str, int | None, str | None, str | None]
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def stem(family: str, year: int | None) -> str:
    """`Wächtel`, 2015 -> `wachtel2015`."""
    name = _NOT_KEY.sub("", fold(family)) or "anon"
    return f"{name}{year if year is not None else 'nd'}"


def identities(doi: str | None, pmid: str | None) -> list[str]:
    """The identifiers a reload matches a record by: DOI (case-insensitive), then PMID."""
    return ([f"doi:{doi.strip().lower()}"] if doi and doi.strip() else []) + (
        [f"pmid:{pmid.strip()}"] if pmid and pmid.strip() else [])


def _suffixes() -> Iterator[str]:
    yield ""
    width = 1
    while True:
        for n in range(26 ** width):
            letters = ""
            for _ in range(width):
                n, digit = divmod(n, 26)
                letters = string.ascii_lowercase[digit] + letters
            yield letters
        width += 1


def assign_keys(items: Sequence[KeySource], stored: Mapping[str, str] | None = None
                ) -> list[str]:
    """A citekey for each item: its own, else the stored key of its DOI/PMID (`stored`:
    identity -> citekey of the same bibliography), else stem and suffix by file order."""
    stored = stored or {}
    taken = {key_fold(key) for key, *_ in items if key}
    keys: list[str | None] = []
    for key, _, _, doi, pmid in items:
        found = key
        if found is None:
            for identity in identities(doi, pmid):
                known = stored.get(identity)
                if known is not None and key_fold(known) not in taken:
                    found = known
                    taken.add(key_fold(known))
                    break
        keys.append(found)
    out: list[str] = []
    for (_, family, year, _, _), key in zip(items, keys, strict=True):
        if key is None:
            base = stem(family, year)
            key = next(base + s for s in _suffixes() if key_fold(base + s) not in taken)
            taken.add(key_fold(key))
        out.append(key)
    return out


def shown_keys(keys: Sequence[str]) -> str:
    """The generated keys a warning lists: the first five, then how many more."""
    return ", ".join(keys[:5]) + (f", ... ({len(keys) - 5} more)" if len(keys) > 5 else "")
