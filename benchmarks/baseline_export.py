"""Baseline for the claims export: `pandas.read_sql` + `to_csv` of the same query.

    python benchmarks/baseline_export.py DATABASE OUT.csv

One SQL query returns the columns of `ivcdb.contract.CLAIM_COLUMNS`, ordered by claim id, with
each claim's reference keys and numbers joined by `;` in citation order, and its roles so
joined when one is not `supports`.
"""

from __future__ import annotations

import sys

import pandas as pd

_CLAIM = """
SELECT c.claim_id, r.code AS review, c.outcome_code AS outcome, c.statement, c.value,
       c.value_low, c.value_high, c.unit_code AS unit, c.numerator, c.denominator, c.qualifier,
       c.timepoint, c.population, c.derived, c.reported, c.section, c.paragraph, {keys},
       {numbers}, {roles}
FROM claim c JOIN review r ON r.id = c.review_id
ORDER BY c.claim_id {collate}
"""
SQLITE = _CLAIM.format(
    keys="(SELECT group_concat(k, ';') FROM (SELECT ref.citekey AS k FROM claim_reference cr "
    "JOIN reference ref ON ref.id = cr.reference_id WHERE cr.claim_id = c.id "
    "ORDER BY cr.position)) AS reference_keys",
    numbers="(SELECT group_concat(n, ';') FROM (SELECT ct.number AS n FROM claim_reference cr "
    "LEFT JOIN citation ct ON ct.reference_id = cr.reference_id AND ct.review_id = c.review_id "
    "WHERE cr.claim_id = c.id ORDER BY cr.position)) AS reference_numbers",
    roles="(SELECT CASE WHEN max(r <> 'supports') THEN group_concat(r, ';') END FROM (SELECT "
    "cr.role AS r FROM claim_reference cr WHERE cr.claim_id = c.id ORDER BY cr.position)) "
    "AS reference_roles",
    collate="",
)
POSTGRESQL = """
WITH links AS (
    SELECT cr.claim_id, string_agg(ref.citekey, ';' ORDER BY cr.position) AS reference_keys,
           string_agg(ct.number::text, ';' ORDER BY cr.position) AS reference_numbers,
           CASE WHEN bool_or(cr.role <> 'supports')
                THEN string_agg(cr.role, ';' ORDER BY cr.position) END AS reference_roles
    FROM claim_reference cr JOIN claim c ON c.id = cr.claim_id
    JOIN reference ref ON ref.id = cr.reference_id
    LEFT JOIN citation ct ON ct.reference_id = cr.reference_id AND ct.review_id = c.review_id
    GROUP BY cr.claim_id)
SELECT c.claim_id, r.code AS review, c.outcome_code AS outcome, c.statement, c.value,
       c.value_low, c.value_high, c.unit_code AS unit, c.numerator, c.denominator, c.qualifier,
       c.timepoint, c.population, c.derived, c.reported, c.section, c.paragraph,
       l.reference_keys, l.reference_numbers, l.reference_roles
FROM claim c JOIN review r ON r.id = c.review_id LEFT JOIN links l ON l.claim_id = c.id
ORDER BY c.claim_id COLLATE "C"
"""


def main(target: str, out: str) -> None:
    if target.startswith("postgresql"):
        import sqlalchemy as sa

        engine = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            frame = pd.read_sql(sa.text(POSTGRESQL), conn)
    else:
        import sqlite3

        with sqlite3.connect(target) as conn:
            frame = pd.read_sql(SQLITE, conn)
    frame.to_csv(out, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
