"""Every write statement: dialect-native upserts, link replacement, pruning, load history.

Loaders decide *what* changes; this module is the only place that says *how* in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from ivcdb import __version__
from ivcdb.models import (
    Author,
    Citation,
    Claim,
    ClaimReference,
    LoadEvent,
    Reference,
    SourceFinding,
)
from ivcdb.report import LoadReport

T = TypeVar("T")
CHUNK = 900  # stays under SQLite's bound-parameter limit in IN lists


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def upsert(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]],
           key: Sequence[str]) -> None:
    """Insert rows, or update the existing row with the same natural `key` (one statement)."""
    if not rows:
        return
    table = _table(model)
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    columns = [c for c in rows[0] if c not in key]
    stmt = stmt.on_conflict_do_update(index_elements=list(key),
                                      set_={c: stmt.excluded[c] for c in columns})
    for part in chunks(rows, 5000):
        session.execute(stmt, list(part))


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        table = _table(model)
        for part in chunks(rows, 5000):
            session.execute(sa.insert(table), list(part))


def delete_where_in(session: Session, model: type[SQLModel], column: str,
                    values: Iterable[Any]) -> int:
    """Delete rows whose `column` is in `values`; returns how many went."""
    table = _table(model)
    values = list(values)
    removed = 0
    for part in chunks(values):
        result = session.execute(sa.delete(table).where(table.c[column].in_(part)))
        removed += result.rowcount  # type: ignore[attr-defined]
    return removed


def replace_authors(session: Session, rows_by_reference: dict[int, list[dict[str, Any]]],
                    *, had_authors: Iterable[int]) -> None:
    delete_where_in(session, Author, "reference_id", had_authors)
    insert_rows(session, Author, [r for rows in rows_by_reference.values() for r in rows])


def replace_citations(session: Session, review_id: int, rows: list[dict[str, Any]]) -> None:
    session.execute(sa.delete(_table(Citation)).where(_table(Citation).c.review_id == review_id))
    insert_rows(session, Citation, rows)


def replace_claim_links(session: Session, claim_ids: Iterable[int],
                        rows: list[dict[str, Any]]) -> None:
    delete_where_in(session, ClaimReference, "claim_id", claim_ids)
    insert_rows(session, ClaimReference, rows)


def prune_references(session: Session, ids: Sequence[int]) -> int:
    delete_where_in(session, Author, "reference_id", ids)
    return delete_where_in(session, Reference, "id", ids)


def prune_claims(session: Session, ids: Sequence[int]) -> int:
    delete_where_in(session, ClaimReference, "claim_id", ids)
    return delete_where_in(session, Claim, "id", ids)


def prune_findings(session: Session, ids: Sequence[int]) -> int:
    return delete_where_in(session, SourceFinding, "id", ids)


def record_load(session: Session, report: LoadReport, sha256: str) -> None:
    session.execute(sa.insert(_table(LoadEvent)).values(
        loaded_at=datetime.now(UTC),
        kind=report.kind,
        path=report.path,
        sha256=sha256,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
        skipped=len(report.skipped),
        warnings=len(report.warnings),
        version=__version__,
    ))
