"""Content of the curated data once loaded: the reference list, the fixed outcomes, the
identifiers and the rule that statements are paraphrases."""

from __future__ import annotations

import csv
import re
import unicodedata

import pytest
import sqlalchemy as sa
from conftest import shared_path

from ivcdb.db import Database

# The review's printed reference list, in citation order.
KEYS = ["nayyar2010", "cananzi2016", "wachtel2015", "alkhalili2016", "nooromid2022",
        "fiore2012", "cho2008", "liu2018", "dutoit2002", "araujo2014", "yoshidome2005",
        "illuminati2016", "hollenbeck2003", "ghose2018", "ruiz2020", "krikeli2010", "zer2018",
        "kobayashi2020"]
SEED = "000_e36ede5dcd6b0e19.txt"


def query(db: Database, sql: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).all())


def test_eighteen_references_numbered_in_order(shared_built: Database) -> None:
    found = query(shared_built, """SELECT c.number, r.citekey FROM citation c
                            JOIN reference r ON r.id = c.reference_id
                            JOIN review v ON v.id = c.review_id
                            WHERE v.code = 'li2025' ORDER BY c.number""")
    assert [tuple(row) for row in found] == list(enumerate(KEYS, 1))
    keys = query(shared_built, "SELECT citekey FROM reference")
    assert sorted(r[0] for r in keys) == sorted(KEYS)


def test_every_reference_supports_a_claim(shared_built: Database) -> None:
    uncited = query(shared_built, """SELECT citekey FROM reference r WHERE NOT EXISTS
                              (SELECT 1 FROM claim_reference cr WHERE cr.reference_id = r.id)""")
    assert uncited == []


def _claims(db: Database, outcome: str) -> list[dict[str, object]]:
    rows = query(db, """SELECT c.id, c.value, c.value_low, c.value_high, c.unit_code,
                               c.numerator, c.denominator, c.qualifier
                        FROM claim c WHERE c.outcome_code = :o""", o=outcome)
    out = []
    for row in rows:
        claim = dict(row._mapping)
        numbers = query(db, """SELECT ci.number FROM claim_reference cr
                               JOIN claim c ON c.id = cr.claim_id
                               JOIN citation ci ON ci.reference_id = cr.reference_id
                                AND ci.review_id = c.review_id
                               WHERE cr.claim_id = :c ORDER BY cr.position""", c=claim["id"])
        claim["numbers"] = [n[0] for n in numbers]
        out.append(claim)
    return out


@pytest.mark.parametrize(("outcome", "expected"), [
    pytest.param("overall_survival_5y", {"value_low": 40, "value_high": 70, "unit_code":
                                         "percent", "numbers": [3, 5]}, id="os-5y"),
    pytest.param("overall_survival_10y", {"value_low": 20, "value_high": 40, "unit_code":
                                          "percent", "numbers": [3, 5]}, id="os-10y"),
    pytest.param("vro_patency", {"value": 90, "unit_code": "percent", "qualifier": "up to",
                                 "numbers": [8]}, id="vro-patency"),
    pytest.param("nephrectomy", {"numerator": 5, "denominator": 10, "numbers": [11]},
                 id="nephrectomy"),
])
def test_fixed_outcomes(shared_built: Database, outcome: str, expected: dict[str, object]) -> None:
    (claim,) = _claims(shared_built, outcome)
    assert {k: claim[k] for k in expected} == expected


def test_identifiers_only_where_curated(shared_built: Database) -> None:
    with shared_path("sources", "identifiers.csv").open(encoding="utf-8", newline="") as f:
        curated = {int(r["ref_number"]): (r["doi"] or None, r["pmid"] or None)
                   for r in csv.DictReader(f)}
    assert sorted(curated) == [2, 7, 14, 16, 18]
    found = {row[0]: (row[1], row[2]) for row in query(shared_built, """
        SELECT c.number, r.doi, r.pmid FROM reference r
        JOIN citation c ON c.reference_id = r.id
        WHERE r.doi IS NOT NULL OR r.pmid IS NOT NULL""")}
    assert found == curated


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return re.findall(r"[\w']+", text)


def test_no_statement_copies_eight_words_of_the_article(shared_built: Database) -> None:
    article = _words(shared_path("seed", SEED).read_text(encoding="utf-8"))
    grams = {tuple(article[i:i + 8]) for i in range(len(article) - 7)}
    assert len(grams) > 1000  # the article was read
    copied = []
    for claim_id, statement in query(shared_built, "SELECT claim_id, statement FROM claim"):
        words = _words(str(statement))
        hits = [" ".join(words[i:i + 8]) for i in range(len(words) - 7)
                if tuple(words[i:i + 8]) in grams]
        if hits:
            copied.append(f"{claim_id}: {hits[0]}")
    assert copied == []
