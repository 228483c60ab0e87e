"""Alembic environment: the URL comes from ivcdb, then $IVCDB_DATABASE_URL, then alembic.ini."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from alembic import context

from ivcdb.db import ENV_URL, make_engine, resolve_url
from ivcdb.models import is_search_object, metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("ivcdb_url") or os.environ.get(ENV_URL)
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass --db, set IVCDB_DATABASE_URL or alembic.ini")
    return resolve_url(url)


def _include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave the word index of claims (FTS5 tables, a GIN index: engine-specific, outside the
    models) out of the comparison with the models."""
    return not (type_ in ("table", "index") and is_search_object(name))


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        include_name=_include_name,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=True,  # SQLite alters tables by copying them
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _foreign_keys_off(connection) -> Any:  # type: ignore[no-untyped-def]
    """SQLite: batch mode drops and re-creates tables, so foreign keys must not fire meanwhile.
    The pragma works only outside a transaction: it is set on the driver's connection before
    SQLAlchemy begins one. Returns that connection (to switch them on again), or None."""
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        return None
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    return raw


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key violations after migration: {problems[:5]}")


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, sa.Connection):
        _run(given)
        return
    # pytest-alembic hands over an Engine (or an engine-like wrapper); ivcdb a URL.
    engine = given if given is not None else make_engine(_url(), create=True)
    try:
        with engine.connect() as connection:
            raw = _foreign_keys_off(connection)
            _run(connection)
            # A wrapped connection belongs to a caller's transaction (pytest-alembic's
            # experimental tests): the caller decides. Otherwise the migration is ours.
            owned = given is None or isinstance(given, sa.Engine)
            if owned and connection.in_transaction():
                connection.commit()
            if raw is not None and not connection.in_transaction():
                raw.execute("PRAGMA foreign_keys=ON")  # the pooled connection as it was
    finally:
        if engine is not given:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
