"""Copy a whole database between any two URLs (SQLite <-> PostgreSQL), then prove the copy.

`copy_database(src, dst)` migrates the target to head, copies every table in foreign-key order
(batched, ids kept) in ONE transaction on the target, and commits only when the row count and a
checksum of every table agree on both sides. The checksum hashes the rows in primary-key order,
each value normalised the same way on both engines (floats as floats, times as UTC), so equal
checksums mean equal data. A target that already holds rows is refused unless `force`, which
empties it inside the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ivcdb import queries, store
from ivcdb.db import (
    Database,
    current,
    display_url_safe,
    make_engine,
    open_db,
    resolve_url,
    sqlite_path,
    upgrade,
)
from ivcdb.errors import DatabaseError, OutputExists, UsageError
from ivcdb.models import metadata

BATCH = 1000


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One copied table: rows on each side and the checksum both sides agree on."""

    table: str
    rows: int
    checksum: str


@dataclass(slots=True)
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    emptied: bool = False

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def summary(self) -> str:
        verb = " (target emptied first)" if self.emptied else ""
        return (f"copied {self.rows} rows in {len(self.tables)} tables from {self.source} to "
                f"{self.target}{verb}; row counts and checksums verified")


def tables() -> list[sa.Table]:
    """The ivcdb tables, parents before children."""
    return list(metadata.sorted_tables)


def _value(value: Any, column: sa.Column[Any]) -> Any:
    """A value as both engines store it: floats as floats, times as aware UTC."""
    if value is None:
        return None
    if isinstance(column.type, sa.Float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


class _Checksum:
    """SHA-256 over normalised rows, fed in primary-key order."""

    def __init__(self, table: sa.Table) -> None:
        self.columns = list(table.columns)
        self.digest = hashlib.sha256()
        self.rows = 0

    def normalise(self, row: tuple[Any, ...]) -> list[Any]:
        return [_value(v, c) for v, c in zip(row, self.columns, strict=True)]

    def add(self, values: list[Any]) -> None:
        line = json.dumps([_canonical(v) for v in values], ensure_ascii=False)
        self.digest.update(line.encode() + b"\n")
        self.rows += 1

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def table_checksum(session: Session, table: sa.Table) -> tuple[int, str]:
    """Rows and checksum of one table as `session` sees it."""
    check = _Checksum(table)
    for part in queries.table_rows(session, table, batch=BATCH):
        for row in part:
            check.add(check.normalise(row))
    return check.rows, check.hexdigest()


@contextmanager
def _snapshot(db: Database) -> Iterator[Session]:
    """A read session that sees one consistent state for the whole copy."""
    engine = db.engine
    if db.dialect == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    try:
        with Session(engine) as session:
            yield session
    except sa.exc.OperationalError as error:
        raise DatabaseError(f"{display_url_safe(db.url)}: {error.orig or error}") from error


def _nonempty(session: Session, names: set[str]) -> list[str]:
    return [t.name for t in tables()
            if t.name in names and queries.table_row_count(session, t) > 0]


def _refuse_nonempty(url: str) -> None:
    """Before migrating: a target that already has rows is not touched without `force`."""
    path = sqlite_path(url)
    if (path is not None and not path.exists()) or current(url) is None:
        return
    engine = make_engine(url, readonly=True)
    try:
        with Session(engine) as session:
            names = set(sa.inspect(session.connection()).get_table_names())
            full = _nonempty(session, names)
    finally:
        engine.dispose()
    if full:
        raise OutputExists(_nonempty_message(url, full))


def _nonempty_message(url: str, full: list[str]) -> str:
    return (f"{display_url_safe(url)} is not empty ({', '.join(full)}); copy into an empty "
            "database, or pass --force to replace its contents")


def copy_database(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                  force: bool = False, batch: int = BATCH) -> CopyReport:
    """Copy every table of `src` into `dst` in one verified transaction."""
    src_url, dst_url = resolve_url(src), resolve_url(dst)
    if src_url == dst_url:
        raise UsageError("source and target are the same database")
    source = open_db(src_url, readonly=True)
    try:
        if not force:
            _refuse_nonempty(dst_url)
        upgrade(dst_url)
        with open_db(dst_url) as target:
            return _copy(source, target, force=force, batch=batch)
    finally:
        source.dispose()


def _copy(source: Database, target: Database, *, force: bool, batch: int) -> CopyReport:
    report = CopyReport(display_url_safe(source.url), display_url_safe(target.url))
    all_tables = tables()
    with _snapshot(source) as read, target.write() as write:
        full = _nonempty(write, {t.name for t in all_tables})
        if full and not force:
            raise OutputExists(_nonempty_message(target.url, full))
        if full:
            store.empty_tables(write, all_tables)
            report.emptied = True
        for table in all_tables:
            check = _Checksum(table)
            names = [c.name for c in table.columns]
            for part in queries.table_rows(read, table, batch=batch):
                rows = []
                for row in part:
                    values = check.normalise(row)
                    check.add(values)
                    rows.append(dict(zip(names, values, strict=True)))
                store.insert_table_rows(write, table, rows)
            report.tables.append(TableCopy(table.name, check.rows, check.hexdigest()))
        store.reset_sequences(write, all_tables)
        _verify(write, report)
    return report


def _verify(session: Session, report: CopyReport) -> None:
    """Recount and re-hash every table on the target before committing; raise on a mismatch."""
    by_name = {t.name: t for t in tables()}
    for copied in report.tables:
        rows, checksum = table_checksum(session, by_name[copied.table])
        if (rows, checksum) != (copied.rows, copied.checksum):
            raise DatabaseError(
                f"copy of table {copied.table} does not match the source ({rows} rows vs "
                f"{copied.rows}, checksum {checksum[:12]} vs {copied.checksum[:12]}); "
                "nothing was written")
