"""Start a review: a data folder with every file `build --data` reads, ready to fill in.

The CSV files get their header row only (the loaders' column lists, from ivcdb.contract),
the BibTeX file a comment, and `review.toml` the review's id with commented placeholders for
the rest, so the folder loads as it is (with warnings that its files are still empty) and
every row added following docs/format.md loads too.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from ivcdb.contract import CLAIM_COLUMNS, FINDING_COLUMNS
from ivcdb.errors import OutputExists, UsageError
from ivcdb.loaders import FOLDER_FILES
from ivcdb.loaders.vocab import COLUMNS as VOCAB_COLUMNS
from ivcdb.terms import REVIEW_ID_LENGTH
from ivcdb.text import key_problem, nfc

REVIEW_TEMPLATE = """\
# Review {id}: its record and its numbered reference list (docs/format.md, "review.toml").
# Only `id` is required; remove the `#` of each line you fill in.
[review]
id = {id_toml}
# title = "Title as printed"
# authors = ["Surname, Given names", "Surname, Given names"]
# year = 2026
# published = "2026-01-31"  # date of publication, YYYY-MM-DD
# publisher = "Publisher as printed"
# license = "CC-BY-4.0"  # SPDX licence identifier
# note = "Free-text remark"
# Any other key (affiliation = "...", keywords = ["..."]) is kept as given.

# One [[citations]] table per reference, in the order of the review's reference list:
# `number` is the reference's bracket number [n], `key` its citekey in references.bib.
# [[citations]]
# number = 1
# key = "smith2020"
"""
BIBTEX_TEMPLATE = """\
% References of review {id}: one BibTeX entry each (docs/format.md, "references.bib").
"""


def _header(columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue()


def review_files(review_id: str) -> dict[str, str]:
    """File name -> text of a new review's folder, in load order."""
    texts = {kind: _header(columns) for kind, columns in VOCAB_COLUMNS.items()}
    texts |= {
        "references": BIBTEX_TEMPLATE.format(id=review_id),
        "reviews": REVIEW_TEMPLATE.format(id=review_id,
                                          id_toml=json.dumps(review_id, ensure_ascii=False)),
        "claims": _header(CLAIM_COLUMNS),
        "findings": _header(FINDING_COLUMNS),
    }
    return {name: texts[kind] for kind, name in FOLDER_FILES.items()}


def new_review(review_id: str, folder: str | os.PathLike[str], *,
               force: bool = False) -> list[Path]:
    """Write a new review's files into `folder` (created if needed) and return their paths.

    Refuses an id that is not a valid key, and a folder that already holds anything unless
    `force` (which replaces the files of the same names and leaves the others).
    """
    review_id = nfc(review_id)
    stripped = review_id.strip()
    why = ("is empty" if not stripped else "has white space around it"
           if stripped != review_id else key_problem(review_id))
    if why is None and len(review_id) > REVIEW_ID_LENGTH:
        why = f"is longer than {REVIEW_ID_LENGTH} characters"
    if why is not None:
        raise UsageError(f"review id {review_id!r} {why}")
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputExists(f"{target} is not empty; use --force to write the review's files "
                           "into it (files of the same names are replaced)")
    from ivcdb.exports.files import write_atomic

    target.mkdir(parents=True, exist_ok=True)
    return [write_atomic(target / name, text.encode("utf-8"), force=True)
            for name, text in review_files(review_id).items()]
