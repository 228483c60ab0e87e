"""Every write statement: dialect-native upserts, link replacement, pruning, load history.

Loaders decide *what* changes; this module is the only place that says *how* in SQL.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from ivcdb.models import (
    LIBRARY_ENTRY,
    Assessment,
    Author,
    ChangeRecord,
    Citation,
    Claim,
    ClaimReference,
    FindingSource,
    LoadEvent,
    Reference,
    Review,
    SourceFinding,
)
from ivcdb.report import LoadReport
from ivcdb.version import __version__

T = TypeVar("T")
CHUNK = 900  # stays under SQLite's bound-parameter limit in IN lists


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _table(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def upsert(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]],
           key: Sequence[str], *, where: Any = None) -> None:
    """Insert rows, or update the existing row with the same natural `key` (one statement);
    `where`: the predicate of the partial unique index on `key`, if it is one."""
    if not rows:
        return
    table = _table(model)
    insert: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # not importing PostgreSQL's dialect (and its async drivers) saves ~25 ms
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    columns = [c for c in rows[0] if c not in key]
    stmt = stmt.on_conflict_do_update(index_elements=list(key), index_where=where,
                                      set_={c: stmt.excluded[c] for c in columns})
    executemany(session, stmt, rows)


def upsert_references(session: Session, rows: Sequence[dict[str, Any]], *, library: bool
                      ) -> None:
    """Upsert bibliography entries: a review's by (citekey, review), the library's by citekey
    among library entries (the partial unique index)."""
    if library:
        upsert(session, Reference, rows, ["citekey_norm"], where=LIBRARY_ENTRY)
    else:
        upsert(session, Reference, rows, ["citekey_norm", "review_id"])


def new_ids(session: Session, model: type[SQLModel], count: int) -> list[int]:
    """Ids for `count` rows of `model` about to be inserted, in order: the ones the database
    would give them (SQLite: above the largest, as its rowids go, the write lock held since
    BEGIN IMMEDIATE; PostgreSQL: drawn from the id's sequence). Known before the insert, the
    rows go in whole (a reference's work id included) and their ids need not be read back
    (on PostgreSQL, looking up thousands of rows just copied into a table it has no
    statistics of yet took minutes)."""
    if count == 0:
        return []
    table = _table(model)
    if session.get_bind().dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        drawn = sa.select(sa.func.nextval(sequence)).select_from(
            sa.func.generate_series(1, count).alias("n"))
        return sorted(session.scalars(drawn))
    top = session.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Insert new rows given as dicts (all with the keys of the first); see `insert_values`."""
    if rows:
        table = _table(model)
        stmt = sa.insert(table)
        conn, compiled, order = _compile(session, stmt, list(rows[0]))
        if compiled is None:
            _execute_each(session, stmt, rows)
            return
        _insert(conn, compiled, table, order, _values(rows, order))


def executemany(session: Session, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run `stmt` once per row (all rows with the keys of the first) in the session's transaction.

    The statement is compiled once and the rows go straight to the driver's `executemany`,
    with the same bind conversions SQLAlchemy applies (booleans, floats): bulk loads of
    hundreds of thousands of rows spend their time in the database, not in per-row Python.
    """
    conn, compiled, order = _compile(session, stmt, list(rows[0]))
    if compiled is None:
        _execute_each(session, stmt, rows)
        return
    _send(conn, compiled, order, _values(rows, order))


def _values(rows: Sequence[dict[str, Any]], order: list[str]) -> list[Any]:
    """The rows' values as tuples in `order`."""
    get = operator.itemgetter(*order)
    return [(get(row),) for row in rows] if len(order) == 1 else [get(row) for row in rows]


def _insert(conn: Any, compiled: Any, table: sa.Table, order: list[str],
            values: Sequence[Sequence[Any]]) -> None:
    """New rows: PostgreSQL's COPY where the driver has it (psycopg), else `executemany`."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy(conn, table, order, _converted(compiled, order, values))
    else:
        _send(conn, compiled, order, values)


def _compile(session: Session, stmt: Any, names: Sequence[str]) -> tuple[Any, Any, list[str]]:
    """The connection, `stmt` compiled for `names`, and the order its parameters take;
    no compiled statement when SQLAlchemy must fill in column defaults (or is not the
    version this was written for)."""
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(names))
    order = list(compiled.positiontup) if compiled.positiontup is not None else list(names)
    if getattr(compiled, "_bind_processors", None) is None or not set(order) <= set(names):
        return conn, None, order
    return conn, compiled, order


def _execute_each(session: Session, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    for part in chunks(rows, 5000):
        session.execute(stmt, list(part))


def _converted(compiled: Any, order: list[str], values: Sequence[Sequence[Any]]
               ) -> Sequence[Sequence[Any]]:
    """Values with SQLAlchemy's bind conversions applied, column by column (a few list
    passes instead of one per row)."""
    processors = compiled._bind_processors
    convert = [(i, processors[name]) for i, name in enumerate(order) if name in processors]
    if not (convert and values):
        return values
    columns = list(zip(*values, strict=True))
    for i, process in convert:
        columns[i] = tuple(None if v is None else process(v) for v in columns[i])
    return list(zip(*columns, strict=True))


def _send(conn: Any, compiled: Any, order: list[str], values: Sequence[Sequence[Any]]) -> None:
    """Values in parameter order to the driver's `executemany`, in batches."""
    params: Sequence[Any] = _converted(compiled, order, values)
    if compiled.positiontup is None:  # a driver with named parameters (psycopg)
        params = [dict(zip(order, row, strict=True)) for row in params]
    for part in chunks(params, 20000):
        conn.exec_driver_sql(compiled.string, list(part))


def insert_values(session: Session, model: type[SQLModel], columns: Sequence[str],
                  values: Sequence[Sequence[Any]]) -> None:
    """Insert new rows given as value tuples in the order of `columns`.

    On PostgreSQL (psycopg) they go through COPY: several times faster than batched INSERTs
    (90,000 author rows: 0.8 s instead of 2 s).
    """
    if not values:
        return
    table = _table(model)
    stmt = sa.insert(table)
    conn, compiled, order = _compile(session, stmt, columns)
    if compiled is None:
        _execute_each(session, stmt, [dict(zip(columns, v, strict=True)) for v in values])
        return
    if order != list(columns):
        picks = [list(columns).index(name) for name in order]
        values = [[row[i] for i in picks] for row in values]
    _insert(conn, compiled, table, order, values)


def _copy(conn: Any, table: sa.Table, columns: Sequence[str],
          values: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL's COPY FROM STDIN, in the session's transaction; a failure is raised as
    SQLAlchemy's error for it (lock timeout, constraint, lost connection), as an INSERT's
    would be."""
    quote = conn.dialect.identifier_preparer
    sql = (f"COPY {quote.format_table(table)} ({', '.join(quote.quote(c) for c in columns)}) "
           "FROM STDIN")
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
    except dbapi_error as error:
        raise sa.exc.DBAPIError.instance(
            sql, None, error, dbapi_error,
            connection_invalidated=conn.dialect.is_disconnect(error, None, None)) from error


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


def replace_authors(session: Session, columns: Sequence[str], values: Sequence[Sequence[Any]],
                    *, had_authors: Iterable[int]) -> None:
    """Delete the authors of `had_authors`, then insert `values` (tuples of `columns`)."""
    delete_where_in(session, Author, "reference_id", had_authors)
    insert_values(session, Author, columns, values)


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


def set_claim_search(session: Session, words: dict[int, str]) -> None:
    """Set the search text of claims (claim.id -> words); the word index follows (SQLite:
    triggers on `claim`; PostgreSQL: its expression index)."""
    if words:
        table = _table(Claim)
        stmt = (sa.update(table).where(table.c.id == sa.bindparam("claim"))
                .values(search_norm=sa.bindparam("words")))
        executemany(session, stmt, [{"claim": i, "words": w} for i, w in words.items()])


def insert_finding(session: Session, row: dict[str, Any]) -> int:
    """Insert one finding; its id."""
    table = _table(SourceFinding)
    return int(session.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one())


def update_finding(session: Session, finding: int, row: dict[str, Any]) -> None:
    table = _table(SourceFinding)
    session.execute(sa.update(table).where(table.c.id == finding).values(**row))


def link_finding(session: Session, finding: int, path: str, review_id: int | None,
                 key: str) -> None:
    """Record `path` (of review `review_id`, or the library) as a source of `finding`."""
    session.execute(sa.insert(_table(FindingSource)).values(
        finding_id=finding, path=path, review_id=review_id, finding_key=key))


def unlink_findings(session: Session, path: str, links: Sequence[tuple[int, str]]) -> int:
    """Drop `path` as a source of each (finding id, key); a finding no file gives any more
    is deleted. Returns how many findings the file no longer gives."""
    fs = _table(FindingSource)
    for _, key in links:
        session.execute(sa.delete(fs).where((fs.c.path == path) & (fs.c.finding_key == key)))
    delete_orphan_findings(session, [finding for finding, _ in links])
    return len(links)


def delete_orphan_findings(session: Session, ids: Sequence[int]) -> int:
    """Delete those of the findings `ids` that no file gives any more."""
    f, fs = _table(SourceFinding), _table(FindingSource)
    removed = 0
    for part in chunks(sorted(set(ids))):
        given = sa.select(fs.c.finding_id).where(fs.c.finding_id == f.c.id).exists()
        result = session.execute(sa.delete(f).where(f.c.id.in_(part) & ~given))
        removed += result.rowcount  # type: ignore[attr-defined]
    return removed


def remove_review(session: Session, review_id: int, moved: Sequence[tuple[int, int]]) -> None:
    """Delete a review and what is its alone: claims and their links, its numbered list, its
    findings files' links (and the findings no other file gives), its bibliography (after
    `moved`: (finding id, entry id) re-homes a finding other files give to another entry of
    its work), then the review."""
    claims, f, fs = _table(Claim), _table(SourceFinding), _table(FindingSource)
    refs = _table(Reference)
    ids = list(session.execute(sa.select(claims.c.id).where(claims.c.review_id == review_id))
               .scalars())
    prune_claims(session, ids)
    session.execute(sa.delete(_table(Citation)).where(_table(Citation).c.review_id == review_id))
    given = list(session.execute(sa.select(fs.c.finding_id).where(fs.c.review_id == review_id))
                 .scalars())
    session.execute(sa.delete(fs).where(fs.c.review_id == review_id))
    delete_orphan_findings(session, given)
    for finding, entry in moved:
        session.execute(sa.update(f).where(f.c.id == finding).values(reference_id=entry))
    entries = list(session.execute(sa.select(refs.c.id).where(refs.c.review_id == review_id))
                   .scalars())
    prune_references(session, entries)
    session.execute(sa.delete(_table(Review)).where(_table(Review).c.id == review_id))


def record_load(session: Session, report: LoadReport, sha256: str, *, loaded_by: str,
                resolved: int = 0, loaded_at: datetime | None = None) -> None:
    """A load history row for one file: what was read and changed, by whom (`loaded_at`:
    the load's time, that of its change records)."""
    session.execute(sa.insert(_table(LoadEvent)).values(
        loaded_by=loaded_by,
        resolved=resolved,
        loaded_at=loaded_at or datetime.now(UTC),
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


def upsert_assessment(session: Session, row: dict[str, Any]) -> bool:
    """Store a verdict by hand, replacing one on the same claim and reference; whether one
    was replaced."""
    table = _table(Assessment)
    where = (table.c.claim_id == row["claim_id"]) & (table.c.reference_id == row["reference_id"])
    found = session.execute(sa.select(table.c.id).where(where)).scalar_one_or_none()
    if found is None:
        session.execute(sa.insert(table).values(**row))
        return False
    session.execute(sa.update(table).where(table.c.id == found).values(**row))
    return True


# --- history ---------------------------------------------------------------------------------


def record_changes(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append change records (`ivcdb.history`); nothing else writes that table."""
    insert_rows(session, ChangeRecord, rows)


def record_inserts(session: Session, table: sa.Table, by: sa.Column[Any] | None, *,
                   after: int, changed_at: datetime, changed_by: str, command: str) -> None:
    """Record every row of `table` whose column `by` is above `after` as inserted, its key
    and values made into JSON by the database in one statement (a bulk load's rows never
    travel back through Python)."""
    assert by is not None
    pk = list(table.primary_key.columns)
    postgres = session.get_bind().dialect.name == "postgresql"

    def json_object(columns: Sequence[sa.Column[Any]]) -> Any:
        # SQLite keeps a boolean as 0 or 1: made JSON's true and false, as PostgreSQL's are
        # and as Python writes them in the other change records
        pairs: list[Any] = [part for c in columns for part in (sa.literal(c.name), (
            sa.func.json(sa.case((c, "true"), (sa.not_(c), "false")))
            if not postgres and isinstance(c.type, sa.Boolean) else c))]
        if postgres:
            return sa.cast(sa.func.json_build_object(*pairs), sa.Text)
        return sa.func.json_object(*pairs)

    change = _table(ChangeRecord)
    select = sa.select(
        sa.literal(changed_at, sa.DateTime(timezone=True)), sa.literal(changed_by),
        sa.literal(command), sa.literal(table.name), json_object(pk), sa.literal("insert"),
        sa.null(), json_object(list(table.columns))).where(by > after).order_by(*pk)
    session.execute(sa.insert(change).from_select(
        ["changed_at", "changed_by", "command", "table_name", "row_key", "action",
         "old_values", "new_values"], select))


def undo_change(session: Session, table: sa.Table, key: dict[str, Any], action: str,
                old: dict[str, Any] | None) -> None:
    """Reverse one change on a scratch copy (`history.as_of`): an insert deleted, an update
    or delete given its old values back."""
    where = sa.and_(*(table.c[name] == value for name, value in key.items()))
    if action == "insert":
        session.execute(sa.delete(table).where(where))
    elif action == "update":
        session.execute(sa.update(table).where(where).values(**(old or {})))
    else:
        session.execute(sa.insert(table).values(**(old or {})))


# --- copy (whole tables) ----------------------------------------------------------------------


def empty_tables(session: Session, tables: Sequence[sa.Table]) -> None:
    """Delete every row of `tables`, children first (the list is in foreign-key order)."""
    for table in reversed(tables):
        session.execute(sa.delete(table))


def insert_table_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows with their primary keys as given (a copy keeps every id)."""
    if rows:
        session.execute(sa.insert(table), list(rows))


def reset_sequences(session: Session, tables: Sequence[sa.Table]) -> None:
    """PostgreSQL: move each serial id's sequence past the copied ids (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and isinstance(column.type, sa.Integer)
                and len(table.primary_key.columns) == 1
            ):
                after = sa.select(sa.func.coalesce(sa.func.max(column), 0) + 1)
                session.execute(sa.select(sa.func.setval(
                    sa.func.pg_get_serial_sequence(table.name, column.name),
                    after.scalar_subquery(), False)))
