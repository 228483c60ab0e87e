"""The history: every insert, update and delete of a tracked row, and the database as it was.

A writing command reads the tracked tables at its start (`state`) and, before it commits,
records what differs (`record`): one append-only `change_record` row per changed row, with
its primary key, its old and new column values as JSON, who, when and which command. Nothing
updates or deletes those rows. `as_of` copies the database into a scratch SQLite file and
undoes every change made after a time, so any export can be taken of the database as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from ivcdb import queries, store
from ivcdb.errors import NotFound
from ivcdb.loaders.bibtex import AUTHOR_COLUMNS, author_values, raw_authors
from ivcdb.models import (
    Assessment,
    Citation,
    Claim,
    ClaimReference,
    FindingSource,
    Measure,
    Outcome,
    Reference,
    Review,
    SourceFinding,
    Unit,
)
from ivcdb.text import key_fold

__all__ = ["TRACKED", "Entry", "State", "as_of", "entries", "parse_time", "record", "state"]

# Parents before children: inserts and updates are recorded in this order, deletes in the
# reverse one, so undoing the records newest first never breaks a foreign key. (Authors are
# a reference's parsed fields: its `author_list`-derived rows are not tracked.)
TRACKED: tuple[type[SQLModel], ...] = (Review, Unit, Measure, Outcome, Reference, Citation,
                                       Claim, ClaimReference, Assessment, SourceFinding,
                                       FindingSource)
@dataclass(slots=True)
class State:
    """The tracked tables before a command: every row by primary key, and for a table keyed
    by one whole number the largest key (rows above it are new: recorded by the database
    itself, `store.record_inserts`, with no round trip through Python)."""

    rows: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]
    top: dict[str, int | None]


def _tables() -> list[sa.Table]:
    return [model.__table__ for model in TRACKED]  # type: ignore[attr-defined]


# A table keyed by its parent and another column: its rows of a parent added since are new.
_CHILDREN = {"claim_reference": ("claim_id", "claim"),
             "finding_source": ("finding_id", "source_finding")}


def serial(table: sa.Table) -> sa.Column[Any] | None:
    """The column whose values above the largest one before a command mark its new rows: a
    primary key of one whole number, or the parent's key of a `_CHILDREN` table."""
    if table.name in _CHILDREN:
        return table.c[_CHILDREN[table.name][0]]
    pk = list(table.primary_key.columns)
    return pk[0] if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) else None


def state(session: Session) -> State:
    """Every tracked row, by table and primary key (parents before children)."""
    rows: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    top: dict[str, int | None] = {}
    for table in _tables():
        rows[table.name] = queries.table_state(session, table)
        if table.name in _CHILDREN:
            top[table.name] = top[_CHILDREN[table.name][1]]
        elif serial(table) is not None:
            top[table.name] = max((key[0] for key in rows[table.name]), default=0)
    return State(rows, top)


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)


def record(session: Session, before: State, *, who: str, when: datetime,
           command: str) -> None:
    """Record every difference between `before` and the tracked tables now (in the same
    transaction): deletes first, children before parents; then, parents first, each table's
    updates and inserts (so undoing them newest first never breaks a foreign key)."""
    stamp = {"changed_at": when, "changed_by": who, "command": command}
    deletes: list[dict[str, Any]] = []
    later: list[tuple[sa.Table, list[dict[str, Any]], int | None]] = []
    for table in _tables():
        names = list(table.columns.keys())
        pk = [c.name for c in table.primary_key.columns]
        top = before.top.get(table.name)
        old_rows = before.rows[table.name]
        new_rows = queries.table_state(session, table, up_to=top, by=serial(table))

        def change(key: tuple[Any, ...], action: str, old: tuple[Any, ...] | None,
                   new: tuple[Any, ...] | None, *, names: list[str] = names,
                   pk: list[str] = pk, name: str = table.name) -> dict[str, Any]:
            return {**stamp, "table_name": name,
                    "row_key": _json(dict(zip(pk, key, strict=True))), "action": action,
                    "old_values": None if old is None else _json(dict(zip(names, old,
                                                                          strict=True))),
                    "new_values": None if new is None else _json(dict(zip(names, new,
                                                                          strict=True)))}

        rows = []
        for key, new in new_rows.items():
            old = old_rows.get(key)
            if old is None:
                rows.append(change(key, "insert", None, new))
            elif old != new:
                rows.append(change(key, "update", old, new))
        deletes[:0] = [change(key, "delete", old, None) for key, old in old_rows.items()
                       if key not in new_rows]
        later.append((table, rows, top))
    store.record_changes(session, deletes)
    for table, rows, top in later:
        store.record_changes(session, rows)
        if top is not None:
            store.record_inserts(session, table, serial(table), after=top, changed_at=when,
                                 changed_by=who, command=command)


@contextlib.contextmanager
def recording(session: Session, *, who: str, command: str,
              when: datetime | None = None) -> Iterator[None]:
    """Record what the block changes in `session` (its writes, then the history, in one
    transaction)."""
    before = state(session)
    yield
    record(session, before, who=who, when=when or datetime.now(UTC), command=command)


def parse_time(text: str) -> datetime:
    """A date or date and time (ISO 8601); without a zone, UTC. A date alone is its end
    (`2026-11-27`: as it was at the end of that day)."""
    from ivcdb.errors import UsageError

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a date or time: {text!r} (use ISO 8601, e.g. 2026-11-27 or "
                         "2026-11-27T14:30:00Z)") from None
    if len(text.strip()) <= 10:  # a date alone
        value = value.replace(hour=23, minute=59, second=59, microsecond=999999)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@contextlib.contextmanager
def as_of(url: str, at: datetime) -> Iterator[str]:
    """The URL of a scratch SQLite copy of the database at `url` as it was at `at` (every
    tracked change made later undone); removed afterwards."""
    from ivcdb.copy import copy_database
    from ivcdb.db import open_db

    with tempfile.TemporaryDirectory(prefix="ivcdb-as-of-") as folder:
        path = str(Path(folder) / "as-of.sqlite")
        copy_database(url, path)
        tables = {t.name: t for t in _tables()}
        with open_db(path) as scratch:
            with scratch.write() as session:
                entries_undone = set()
                for change in reversed(queries.changes(session, after=at)):
                    table = tables.get(change.table_name)
                    if table is None:
                        continue
                    old = None if change.old_values is None else _values(
                        table, json.loads(change.old_values))
                    key = json.loads(change.row_key)
                    store.undo_change(session, table, key, change.action, old)
                    if change.table_name == "reference":
                        entries_undone.add(key["id"])
                _restore_authors(session, entries_undone)
        yield path
        with contextlib.suppress(OSError):
            os.remove(path)


def _restore_authors(session: Session, ids: set[int]) -> None:
    """The author rows of the entries `ids` as their restored raw fields give them (authors
    are derived from the entry, not tracked: a removed entry brought back had none, an
    updated one its later ones)."""
    if not ids:
        return
    rows = []
    for entry, text in queries.reference_raw_fields(session, ids).items():
        names = raw_authors(json.loads(text))
        rows += [(entry, *values) for values in author_values(names[0] if names else [])]
    store.replace_authors(session, AUTHOR_COLUMNS, rows, had_authors=ids)


def _values(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """JSON values back in their column types (the few JSON does not keep: times)."""
    for name, value in values.items():
        if value is not None and isinstance(table.c[name].type, sa.DateTime):
            values[name] = datetime.fromisoformat(value)
    return values


# --- what `ivcdb history` shows ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One change as `ivcdb history` shows it: what, which row, old and new values."""

    changed_at: str
    changed_by: str
    command: str
    table: str
    key: str
    action: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"changed_at": self.changed_at, "changed_by": self.changed_by,
                "command": self.command, "table": self.table, "key": self.key,
                "action": self.action, "old": self.old, "new": self.new}


# Columns a reader needs no history of: ids are shown as the row's key, hashes and folded
# text follow from the other columns.
_HIDDEN = frozenset({"id", "content_hash", "statement_norm", "title_norm", "citekey_norm",
                     "search_norm"})


def entries(session: Session, *, claim_id: str | None = None, reference: str | None = None,
            since: datetime | None = None) -> list[Entry]:
    """The history, oldest first: of one claim (its row and its links), of one reference
    (its entries, citations and the links to it), or every change (`since` a time)."""
    found = queries.changes(session, since=since)
    claims = _ids(found, "claim", "claim_id", claim_id) if claim_id else set()
    refs = _ids(found, "reference", "citekey", reference) if reference else set()
    if claim_id and not claims:
        raise NotFound(f"no history of claim {claim_id!r}")
    if reference and not refs:
        raise NotFound(f"no history of reference {reference!r}")
    out = []
    for change in found:
        old = json.loads(change.old_values) if change.old_values else None
        new = json.loads(change.new_values) if change.new_values else None
        values = new or old or {}
        if claim_id and not (
                (change.table_name == "claim" and values.get("id") in claims)
                or (change.table_name in ("claim_reference", "assessment")
                    and values.get("claim_id") in claims)):
            continue
        if reference and not (
                (change.table_name == "reference" and values.get("id") in refs)
                or (change.table_name in ("citation", "claim_reference", "assessment")
                    and values.get("reference_id") in refs)):
            continue
        out.append(Entry(_time(change.changed_at), change.changed_by, change.command,
                         change.table_name, _key(change.table_name, values, change.row_key),
                         change.action, _shown(old, new, change.action == "update"),
                         _shown(new, old, change.action == "update")))
    return out


def _ids(found: Sequence[queries.Change], table: str, column: str, wanted: str) -> set[int]:
    """Database ids of the rows of `table` whose `column` was ever `wanted` (case-folded)."""
    out = set()
    for change in found:
        if change.table_name != table:
            continue
        for text in (change.old_values, change.new_values):
            values = json.loads(text) if text else {}
            if values and key_fold(str(values.get(column, ""))) == key_fold(wanted):
                out.add(values["id"])
    return out


_KEYS = {"claim": "claim_id", "reference": "citekey", "review": "code", "unit": "code",
         "measure": "code", "outcome": "code", "source_finding": "finding_id",
         "citation": "number", "finding_source": "finding_key"}


def _key(table: str, values: dict[str, Any], row_key: str) -> str:
    """The row as a reader names it (a claim by its id, a code by itself...)."""
    column = _KEYS.get(table)
    return str(values[column]) if column in values else row_key


def _shown(values: dict[str, Any] | None, other: dict[str, Any] | None,
           update: bool) -> dict[str, Any] | None:
    """The values a reader sees: an update's changed columns only; never the hidden ones."""
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in _HIDDEN
            and (not update or other is None or other.get(k) != v)}


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).isoformat(timespec="seconds"))
    return str(value)
