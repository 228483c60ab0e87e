"""Who to credit for a review's evidence: its citation, a short label and its licence.

Made from the review's own record (review.toml: authors, year, title, publisher, license, and
an optional `license_url` among its further keys), so the web UI credits whatever reviews are
loaded. A Creative Commons SPDX identifier (`CC-BY-4.0`) reads `CC BY 4.0` and links to its
deed; any other licence is shown as given, linked only when the review gives `license_url`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivcdb.figures import ET_AL, author_list, author_name

_CC = re.compile(r"^CC-(BY(?:-NC)?(?:-ND|-SA)?)-(\d\.\d)$", re.IGNORECASE)
_CC0 = re.compile(r"^CC0-(1\.0)$", re.IGNORECASE)
LICENSE_URL_KEY = "license_url"  # a further key of [review] naming the licence's page


@dataclass(frozen=True, slots=True)
class Credit:
    """One review's credit line parts."""

    review: str  # the review's id
    citation: str  # `Li X, Ruan S, ..., 2025, Title. Publisher.`
    short: str  # `Li et al., 2025`
    license: str | None  # `CC BY 4.0`, or the licence as given; None: not given
    license_url: str | None


def credit(row: Mapping[str, Any]) -> Credit:
    """The credit of a review from its stored record (a `review` table row)."""
    names = _names(row.get("authors") or "")
    license_ = (row.get("license") or "").strip() or None
    return Credit(review=row["code"], citation=citation(row, names), short=short(row, names),
                  license=license_label(license_) if license_ else None,
                  license_url=_given_license_url(row) or license_url(license_))


def _names(authors: str) -> list[tuple[str, str]]:
    """`Li, Xiang; Ruan, Shuai` -> [(family, given)]; a name without a comma is a family."""
    out = []
    for name in (n.strip() for n in authors.split(";")):
        if name:
            family, _, given = name.partition(",")
            out.append((family.strip(), given.strip()))
    return out


def _given_license_url(row: Mapping[str, Any]) -> str | None:
    """The review file's own `license_url`, kept among the record's further keys."""
    try:
        extra = json.loads(row.get("extra") or "{}")
    except ValueError:
        return None
    url = extra.get(LICENSE_URL_KEY) if isinstance(extra, dict) else None
    if not isinstance(url, str) or not url.strip().lower().startswith(("https://", "http://")):
        return None  # a link, never `javascript:` or a relative path
    return url.strip()


def citation(row: Mapping[str, Any], names: list[tuple[str, str]]) -> str:
    """`Authors, year, Title. Publisher.`: every author (`Li X`), as a reference list prints
    one; the parts the record lacks are left out, the review's id stands in for a title."""
    head = [p for p in (author_list([author_name(f, g) for f, g in names], limit=None),
                        str(row["year"]) if row.get("year") is not None else "") if p]
    title = _sentence((row.get("title") or "").strip() or row["code"])
    text = ", ".join([*head, title])
    publisher = (row.get("publisher") or "").strip()
    return f"{text} {_sentence(publisher)}" if publisher else text


def short(row: Mapping[str, Any], names: list[tuple[str, str]]) -> str:
    """`Li et al., 2025`, `Doe and Roe, 2024`, `Doe, 2024`; the review's id without authors."""
    families = [family for family, _ in names]
    if len(families) > 2:
        name = f"{families[0]} {ET_AL}"
    else:
        name = " and ".join(families) or row["code"]
    return f"{name}, {row['year']}" if row.get("year") is not None else name


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def license_label(spdx: str) -> str:
    """`CC-BY-4.0` -> `CC BY 4.0`, `CC0-1.0` -> `CC0 1.0`; any other licence as given."""
    if match := _CC.match(spdx):
        return f"CC {match.group(1).upper()} {match.group(2)}"
    if match := _CC0.match(spdx):
        return f"CC0 {match.group(1)}"
    return spdx


def license_url(spdx: str | None) -> str | None:
    """The deed of a Creative Commons licence named by its SPDX identifier, else None."""
    if spdx and (match := _CC.match(spdx)):
        return f"https://creativecommons.org/licenses/{match.group(1).lower()}/{match.group(2)}/"
    if spdx and (match := _CC0.match(spdx)):
        return f"https://creativecommons.org/publicdomain/zero/{match.group(1)}/"
    return None
