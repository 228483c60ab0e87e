"""Baseline for the claims load: pandas.read_csv, then raw DBAPI executemany of the same rows.

    python benchmarks/baseline_claims.py DATABASE CLAIMS_CSV

DATABASE is a SQLite file or a postgresql:// URL of a database that already holds the review,
vocabularies and references (as `ivcdb load` would need). It inserts one `claim` row per CSV
row and one `claim_reference` row per cited key, in one transaction, with no validation,
no normalisation beyond a lower-cased statement, and no content hash.
"""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd

CLAIM_COLUMNS = ("claim_id", "review_id", "outcome_code", "statement", "statement_norm",
                 "value", "value_low", "value_high", "unit_code", "numerator", "denominator",
                 "qualifier", "timepoint", "population", "derived", "reported", "section",
                 "paragraph", "source", "content_hash")


def _connect(target: str) -> tuple[Any, str]:
    if target.startswith("postgresql"):
        import psycopg

        return psycopg.connect(target.replace("postgresql+psycopg", "postgresql")), "%s"
    import sqlite3

    return sqlite3.connect(target), "?"


def main(target: str, path: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    conn, mark = _connect(target)
    cur = conn.cursor()
    cur.execute("SELECT code, id FROM review")
    reviews = dict(cur.fetchall())
    cur.execute("SELECT citekey, id FROM reference")
    references = dict(cur.fetchall())

    def num(text: str) -> float | None:
        return float(text) if text else None

    def count(text: str) -> int | None:
        return int(text) if text else None

    def opt(text: str) -> str | None:
        return text or None

    rows = [
        (r.claim_id, reviews[r.review], r.outcome, r.statement, r.statement.lower(),
         num(r.value), num(r.value_low), num(r.value_high), opt(r.unit), count(r.numerator),
         count(r.denominator), opt(r.qualifier), opt(r.timepoint), opt(r.population),
         r.derived == "true", opt(r.reported), opt(r.section), count(r.paragraph),
         "claims.csv", "")
        for r in frame.itertuples(index=False)
    ]
    columns = ", ".join(CLAIM_COLUMNS)
    marks = ", ".join([mark] * len(CLAIM_COLUMNS))
    cur.executemany(f"INSERT INTO claim ({columns}) VALUES ({marks})", rows)
    cur.execute("SELECT claim_id, id FROM claim")
    ids = dict(cur.fetchall())
    links = [
        (ids[claim_id], references[key], "supports", position)
        for claim_id, keys in zip(frame["claim_id"], frame["reference_keys"], strict=True)
        for position, key in enumerate(keys.split(";") if keys else [], 1)
    ]
    cur.executemany("INSERT INTO claim_reference (claim_id, reference_id, role, position) "
                    f"VALUES ({mark}, {mark}, {mark}, {mark})", links)
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
