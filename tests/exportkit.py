"""Helpers for the export tests: awkward extra data, every export of a database, CLI runs."""

from __future__ import annotations

import csv
from pathlib import Path

from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.db import Database
from ivcdb.loaders import Sources, load

# Keys that sort differently byte-wise and by locale, LaTeX to decode, {protection} to keep,
# characters HTML and LaTeX must escape, more than three authors without `and others`.
TRICKY_BIB = r"""
@article{Zeta2020,
  author = {{\"O}berg, {\AA}sa and van der Berg, Jan and Smith, Jr., John and Doe, Jane},
  title = {{DNA} Repair \& Growth: 50\% of Cases_1 <script>?},
  journal = {J. Tests {\&} Trials},
  year = {2020},
  volume = {7},
  pages = {7-9},
  doi = {10.1000/zeta}
}

@article{alpha2021,
  author = {Alpha, Anna},
  title = {=HYPERLINK("http://example.org")},
  year = {2021}
}

@book{Éclair2019,
  author = {M{\"u}ller, J{\"o}rg-Peter and others},
  title = {A Book about {LaTeX} Braces},
  publisher = {Tests Press},
  year = {2019}
}
"""
TRICKY_CLAIMS = [
    {"claim_id": "Zeta-claim", "outcome": "prognosis", "statement": "=1+1",
     # every tricky entry is cited: a review's references export lists the library
     # entries (here the tricky ones) its claims cite
     "reference_keys": "Zeta2020;nayyar2010;alpha2021",
     "reference_roles": "data_source;supports;supports"},
    {"claim_id": "alpha-claim", "outcome": "prognosis", "statement": "-5",
     "value": "-5", "unit": "ratio", "reference_keys": "nayyar2010;wachtel2015",
     "reference_numbers": "1;3", "reference_roles": "supports;disagrees"},
    {"claim_id": "Éclair-claim", "outcome": "overall_survival_5y",
     "statement": "@SUM(A1) of \"quoted\", commas; and a\nnewline", "value": "0.1",
     "unit": "percent", "qualifier": "approximately", "reference_keys": "Éclair2019"},
]


def load_tricky(db: Database, folder: Path) -> None:
    """Add the awkward references and claims above to a database holding the curated data."""
    (folder / "tricky.bib").write_text(TRICKY_BIB, encoding="utf-8")
    with (folder / "claims_tricky.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for claim in TRICKY_CLAIMS:
            writer.writerow({"review": "li2025", "derived": "false", **claim})
    load(db, Sources(references=folder / "tricky.bib", claims=[folder / "claims_tricky.csv"]))
