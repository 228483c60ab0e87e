"""Helpers for the load tests: write an input file, run a load that must be refused, find a
problem, read rows back."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATA, ROOT, snapshot

from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Problem


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8, `\\n` line ends, as given) or bytes to `path`."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def refuse(db: Database, sources: Sources, **options: Any) -> list[Problem]:
    """Run a load that must be refused; assert the database is unchanged; its problems."""
    before = snapshot(db)
    with pytest.raises(LoadRefused) as info:
        load(db, sources, **options)
    assert snapshot(db) == before, "a refused load changed the database"
    return info.value.problems


def find(problems: list[Problem], code: Code, *, file: Path | str, line: int | None,
         key: str) -> Problem:
    """The problem with this code, file, line and key; fails with the list when absent."""
    for p in problems:
        if p.code is code and p.file == str(file) and p.line == line and p.key == key:
            return p
    shown = "\n".join(p.format() for p in problems)
    raise AssertionError(f"no {code.value} at {file}:{line} key {key!r} among:\n{shown}")


def line_of(text: str, start: str) -> int:
    """The 1-based number of the first line of `text` that starts with `start`."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(start):
            return number
    raise AssertionError(f"no line starts with {start!r}")


def rows(db: Database, table: str, where: str = "", **params: Any) -> list[dict[str, Any]]:
    """Rows of `table` (optionally filtered by a SQL condition), as dicts in id order."""
    sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
    with db.engine.connect() as conn:
        result = conn.execute(sa.text(sql), params).mappings().all()
    return [dict(r) for r in result]


def count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def claims_table() -> list[list[str]]:
    """data/claims.csv as a list of rows (header first)."""
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as f:
        return [list(r) for r in csv.reader(f)]


def csv_text(table: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    return buf.getvalue()


def edit_claims(changes: dict[str, dict[str, str]], *, extra: tuple[list[str], ...] = (),
                drop: tuple[str, ...] = ()) -> str:
    """data/claims.csv with cells changed ({claim_id: {column: value}}), rows added/removed;
    a changed column the file does not have (one added later) is added, empty elsewhere."""
    table = claims_table()
    header = table[0]
    added = [c for cells in changes.values() for c in cells if c not in header]
    header += list(dict.fromkeys(added))
    out = [header]
    for row in table[1:]:
        if row[0] in drop:
            continue
        row = list(row) + [""] * len(set(added))
        for column, value in changes.get(row[0], {}).items():
            row[header.index(column)] = value
        out.append(row)
    out += [list(r) for r in extra]
    return csv_text(out)


def claim_row(claim_id: str) -> list[str]:
    return next(list(r) for r in claims_table() if r[0] == claim_id)


def claims_csv(*rows: dict[str, str], crlf: bool = False) -> str:
    """A claims CSV of `rows` (defaults: review li2025, outcome prognosis, one reference),
    every cell quoted as a careful user writes it."""
    from ivcdb.contract import CLAIM_COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CLAIM_COLUMNS, quoting=csv.QUOTE_ALL,
                            lineterminator="\r\n" if crlf else "\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"review": "li2025", "outcome": "prognosis", "statement": "a claim",
                         "derived": "false", "reference_keys": "nayyar2010", **row})
    return buffer.getvalue()


def load_curated_lists(db: Database) -> Database:
    """The curated vocabularies, references and review of data/, but no claims or findings."""
    load(db, Sources(units=DATA / "units.csv", measures=DATA / "measures.csv",
                     outcomes=DATA / "outcomes.csv", references=DATA / "references.bib",
                     reviews=[DATA / "review.toml"]))
    return db


POOL_DEMO = ROOT / "tests" / "data" / "pool_demo"  # fictional pool2026 on metafor's data


def load_pool_demo(database: Database, _folder: object) -> None:
    """`shared_database`'s loader for li2025 plus the fictional pool2026."""
    load(database, Sources.from_folder(POOL_DEMO))


def edit_csv(path: Path, key: str, match: str, **cells: str) -> None:
    """Set `cells` in the rows of a CSV whose `key` column is `match` (new columns last)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    header += [c for c in cells if c not in header]
    for row in rows:
        if row[key] == match:
            row.update(cells)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
