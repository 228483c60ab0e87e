"""Which bibliography entries are one work: the same DOI, the same PMID, or the same folded
title, year and first author's family name.

Two reviews citing one study each keep their own entry; the entries share a work id, so a
reviewer can ask which reviews cite a study, and what the study reports (its findings) serves
every review that cites it.
"""

from __future__ import annotations

from collections.abc import Iterable


def work_keys(doi: str | None, pmid: str | None, title_norm: str | None, year: int | None,
              first_family: str | None) -> list[str]:
    """The keys under which an entry is matched to other entries of the same work."""
    keys = []
    if doi:
        keys.append("doi:" + doi.casefold())
    if pmid:
        keys.append("pmid:" + pmid)
    if title_norm and year is not None and first_family:
        keys.append(f"title:{title_norm}|{year}|{first_family.casefold()}")
    return keys


def assign_works(entries: Iterable[tuple[int, list[str]]], known: dict[str, int]
                 ) -> dict[int, int]:
    """The work id of each (entry id, keys): that of the first known key, else the entry's
    own id. `known` (key -> work id) grows with each entry, so entries of one load match each
    other too."""
    works: dict[int, int] = {}
    for entry_id, keys in entries:
        work = next((known[k] for k in keys if k in known), entry_id)
        works[entry_id] = work
        for key in keys:
            known.setdefault(key, work)
    return works
