"""The main query paths reach their rows through indexes, on SQLite and PostgreSQL.

Each case runs a real query function of `ivcdb.queries` on the curated database, records the
statements it sends, and reads the engine's plan for each: `EXPLAIN QUERY PLAN` on SQLite,
`EXPLAIN` on PostgreSQL with `enable_seqscan = off` (PostgreSQL scans tables this small
anyway; with sequential scans priced out, a missing index still shows as a `Seq Scan`).
The filtered table must be searched through one of the named indexes: a library of
hundreds of thousands of claims must not be read whole to answer one question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ivcdb import queries
from ivcdb.db import Database

Query = Callable[[Session], object]


def _claims_by_outcome(session: Session) -> object:
    return queries.claims(session, outcome="overall_survival_5y")


def _claims_by_reference(session: Session) -> object:
    return queries.claims(session, reference="wachtel2015")


def _claims_by_review(session: Session) -> object:
    return queries.claims(session, review="li2025")


def _authors_by_reference(session: Session) -> object:
    return queries.reference_detail(session, "wachtel2015")


def _citations_by_review(session: Session) -> object:
    review_id = queries.review_index(session)["li2025"]
    return queries.export_references(session, review_id=review_id, cited_only=True)


CASES = [
    pytest.param(_claims_by_outcome, "claim", {"ix_claim_outcome_code"}, id="claims-by-outcome"),
    pytest.param(_claims_by_reference, "claim_reference", {"ix_claim_reference_reference_id"},
                 id="claims-by-reference"),
    pytest.param(_claims_by_review, "claim", {"uq_claim_review_id_claim_id"},
                 id="claims-by-review"),
    pytest.param(_authors_by_reference, "author",
                 {"uq_author_reference_id_position"},
                 id="authors-by-reference"),
    pytest.param(_citations_by_review, "citation",
                 {"ix_citation_review_id", "uq_citation_review_id_number",
                  "uq_citation_review_id_reference_id"}, id="citations-by-review"),
]


def _statements(conn: sa.Connection, query: Query) -> list[tuple[str, Any]]:
    """Every SELECT the query function sends, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        query(Session(bind=conn))
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    return sent


def _plan(conn: sa.Connection, statement: str, parameters: Any) -> list[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return [row[-1] for row in rows]
    return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]


def _index_used(dialect: str, line: str, table: str, indexes: set[str]) -> bool:
    names = "|".join(map(re.escape, sorted(indexes)))
    if dialect == "sqlite" and any(name.startswith("uq_") for name in indexes):
        names += rf"|sqlite_autoindex_{table}_\d+"  # SQLite's name for a UNIQUE's index
    if dialect == "sqlite":
        pattern = rf"^SEARCH {table}\b.* USING (COVERING )?INDEX ({names}) "
    else:
        pattern = (rf"(Index (Only )?Scan using ({names}) on {table}\b"
                   rf"|Bitmap Index Scan on ({names})\b)")
    return re.search(pattern, line.strip() + " ") is not None


def _full_scan(dialect: str, line: str, table: str) -> bool:
    if dialect == "sqlite":
        return re.match(rf"^SCAN {table}\b", line.strip()) is not None  # in any order
    return re.search(rf"Seq Scan on {table}\b", line) is not None


@pytest.fixture
def plan_conn(built: Database) -> Iterator[sa.Connection]:
    with built.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        yield conn


@pytest.mark.parametrize(("query", "table", "indexes"), CASES)
def test_query_path_uses_an_index(plan_conn: sa.Connection, query: Query, table: str,
                                  indexes: set[str]) -> None:
    dialect = plan_conn.dialect.name
    plans = [_plan(plan_conn, statement, params)
             for statement, params in _statements(plan_conn, query)]
    assert plans, "the query function sent no SELECT"
    lines = [line for plan in plans for line in plan]
    assert any(_index_used(dialect, line, table, indexes) for line in lines), (
        f"{table} is not searched through {sorted(indexes)}:\n" + "\n".join(lines))
    assert not any(_full_scan(dialect, line, table) for line in lines), (
        f"{table} is read whole:\n" + "\n".join(lines))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("line", "used"), [
    ("SEARCH claim USING INDEX ix_claim_outcome_code (outcome_code=?)", True),
    ("SCAN claim USING INDEX uq_claim_claim_id", False),
    ("Index Scan using ix_claim_outcome_code on claim  (cost=0.14..8.16 rows=1)", True),
    ("Bitmap Index Scan on ix_claim_outcome_code  (cost=0.00..4.16 rows=1)", True),
    ("Seq Scan on claim  (cost=10000000000.00..10000000001.76 rows=1)", False),
])
def test_plan_reading(dialect: str, line: str, used: bool) -> None:
    """The plan reader itself: it accepts an index search and nothing else."""
    engine_line = line.startswith(("SEARCH", "SCAN")) == (dialect == "sqlite")
    expected = used and engine_line
    assert _index_used(dialect, line, "claim", {"ix_claim_outcome_code"}) is expected
