"""Engines, sessions, SQLite pragmas and the Alembic wrappers.

`open_db(url)` is the entry point for scripts: it resolves the URL, refuses to invent an empty
SQLite file, checks the schema revision and returns a `Database` whose `session()` reads and
whose `write()` runs one transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue up
instead of failing half-way).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlmodel import Session

from ivcdb.errors import DatabaseError, SchemaOutOfDate, UsageError
from ivcdb.extras import require

if TYPE_CHECKING:
    from alembic.config import Config

ENV_URL = "IVCDB_DATABASE_URL"
DEFAULT_PATH = "ivcdb.sqlite"
# The Alembic head this code expects; tests/test_migrations.py keeps it equal to the scripts.
SCHEMA_REVISION = "0002"
BUSY_TIMEOUT_S = 30.0
ENV_BUSY_TIMEOUT = "IVCDB_BUSY_TIMEOUT"  # seconds a writer waits for the lock
# Key of the PostgreSQL advisory lock every ivcdb writer takes: writers queue as on SQLite.
PG_WRITE_LOCK = 0x1FCDB
# Keyed by schema too: ivcdb databases in other schemas of one server do not wait for each other.
PG_LOCK_STATEMENT = f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK}, hashtext(current_schema()))"
_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`migrations` or `data`: inside an installed wheel, else the checkout's top level."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """`--db` value, else `$IVCDB_DATABASE_URL`, else `./ivcdb.sqlite`, as a SQLAlchemy URL."""
    raw = os.fspath(db) if db is not None else os.environ.get(ENV_URL) or DEFAULT_PATH
    if not raw.strip():
        raise UsageError("--db is empty; name a database file or URL")
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    scheme, rest = raw.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return raw


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines and in-memory databases."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    if not path.parent.is_dir():
        raise DatabaseError(f"folder {path.parent} does not exist")
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file; name a file with --db")
    if path.exists():
        if not os.access(path, os.R_OK):
            raise DatabaseError(f"cannot read {path}: permission denied")
        return
    if not create:
        raise DatabaseError(
            f"no database at {path}; create it with `ivcdb build` (or `ivcdb init`), "
            "or name another with --db"
        )
    if not os.access(path.parent, os.W_OK):
        raise DatabaseError(f"cannot create {path}: folder {path.parent} is not writable")


def busy_timeout() -> float:
    """Seconds a writer waits for the write lock: `$IVCDB_BUSY_TIMEOUT`, else 30."""
    raw = os.environ.get(ENV_BUSY_TIMEOUT, "").strip()
    try:
        value = float(raw) if raw else BUSY_TIMEOUT_S
    except ValueError:
        return BUSY_TIMEOUT_S
    return value if value >= 0 else BUSY_TIMEOUT_S


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so BEGIN is ours to emit.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception:  # noqa: BLE001 - a read-only file keeps its journal mode
        pass
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(conn: sa.Connection) -> None:
    write = conn.get_execution_options().get("ivcdb_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, create: bool = False) -> sa.Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE."""
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(path, create=create)
    if url.startswith("postgresql+psycopg"):
        require("postgres")
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": busy_timeout()})
            event.listen(engine, "connect", _on_sqlite_connect)
            event.listen(engine, "begin", _on_sqlite_begin)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True)
    except (exc.ArgumentError, exc.NoSuchModuleError, ValueError) as error:
        raise DatabaseError(f"not a database URL: {display_url_safe(url)} ({error})") from error
    return engine


def display_url_safe(url: str) -> str:
    try:
        return display_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def describe(error: BaseException, url: str) -> str:
    """One line for a database error: what failed and where."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    where = display_url_safe(url)
    lowered = text.lower()
    if "database is locked" in lowered or "lock timeout" in lowered:
        return (
            f"{where}: another process holds the write lock and did not release it within "
            f"{busy_timeout():g} s; nothing was changed, try again"
        )
    if "database or disk is full" in lowered or "no space left" in lowered:
        return f"{where}: the disk (or the database's size limit) is full; nothing was changed"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{where}: the database is read-only; nothing was changed"
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        path = sqlite_path(url) if url.startswith("sqlite") else None
        return f"{path or where} is not an SQLite database"
    if "connection refused" in lowered or "could not connect" in lowered:
        return f"cannot connect to {where}: {text}"
    return f"{where}: {text}"


class Database:
    """An opened ivcdb database: an engine plus read and write sessions."""

    def __init__(self, url: str, engine: sa.Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; database errors become `DatabaseError`."""
        try:
            with Session(self.engine) as session:
                yield session
        except exc.DatabaseError as error:  # OperationalError too
            raise DatabaseError(describe(error, self.url)) from error

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed if the block ends normally, else rolled back."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(ivcdb_write=True)
                if self.dialect == "postgresql":
                    _pg_write_lock(conn)
                with Session(conn, expire_on_commit=False) as session:
                    yield session
                    session.commit()
                conn.commit()
        except (exc.OperationalError, exc.IntegrityError, exc.DataError) as error:
            raise DatabaseError(describe(error, self.url)) from error

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _pg_write_lock(conn: sa.Connection) -> None:
    """Take the writers' advisory lock for this transaction, waiting at most the busy timeout.

    Loads read the database, then upsert: two at once would both see a record as new.
    """
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(busy_timeout() * 1000))}")
    conn.exec_driver_sql(PG_LOCK_STATEMENT)


def schema_revision(engine: sa.Engine, url: str) -> str | None:
    """The database's Alembic revision, or None when it has no ivcdb schema."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except exc.DBAPIError as error:  # OperationalError, and DatabaseError for a corrupt file
        raise DatabaseError(describe(error, url)) from error


def ensure_schema(engine: sa.Engine, url: str, *, db: str | None = None) -> None:
    """Refuse a database without the schema this code needs, saying how to fix it.

    `db` is the `--db` value as given, shown in the suggested command.
    """
    revision = schema_revision(engine, url)
    if revision == SCHEMA_REVISION:
        return
    where = display_url_safe(url)
    if revision is None:
        target = shlex.quote(db if db is not None else where)
        raise SchemaOutOfDate(f"{where} has no ivcdb schema; run `ivcdb init --db {target}` "
                              "first")
    raise SchemaOutOfDate(
        f"{where} is at schema revision {revision}, this ivcdb needs {SCHEMA_REVISION}; "
        "run `ivcdb db upgrade` (back up first with `ivcdb copy`)"
    )


def open_db(
    db: str | os.PathLike[str] | None = None, *, create: bool = False, check: bool = True
) -> Database:
    """Open a database by path or URL; `create` allows a new SQLite file (init/build/load)."""
    url = resolve_url(db)
    engine = make_engine(url, create=create)
    if check:
        try:
            ensure_schema(engine, url, db=None if db is None else os.fspath(db))
        except DatabaseError:
            engine.dispose()
            raise
    return Database(url, engine)


# --- migrations -------------------------------------------------------------------------------


def alembic_config(url: str) -> Config:
    """An Alembic config for the packaged migrations; no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("path_separator", "os")
    config.attributes["ivcdb_url"] = url
    return config


def _run_alembic(url: str, action: str, *args: Any) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        getattr(command, action)(alembic_config(url), *args)
    except CommandError as error:
        raise DatabaseError(f"{action}: {error}") from error
    except exc.DatabaseError as error:  # OperationalError too
        raise DatabaseError(describe(error, url)) from error


def upgrade(db: str | os.PathLike[str] | None = None, revision: str = "head") -> str:
    """Migrate the database (created if it is a new SQLite file) up to `revision`."""
    url = resolve_url(db)
    engine = make_engine(url, create=True)
    try:
        at_head = revision == "head" and schema_revision(engine, url) == SCHEMA_REVISION
    finally:
        engine.dispose()
    if not at_head:  # already at head: no need to import and run Alembic (load start-up)
        _run_alembic(url, "upgrade", revision)
    return url


def downgrade(db: str | os.PathLike[str] | None = None, revision: str = "-1") -> str:
    """Migrate the database down to `revision` (`base` removes every table)."""
    url = resolve_url(db)
    make_engine(url).dispose()
    _run_alembic(url, "downgrade", revision)
    return url


def current(db: str | os.PathLike[str] | None = None) -> str | None:
    """The database's schema revision (None for an empty database)."""
    url = resolve_url(db)
    engine = make_engine(url)
    try:
        return schema_revision(engine, url)
    finally:
        engine.dispose()


def check(db: str | os.PathLike[str] | None = None) -> None:
    """Raise `DatabaseError` unless the database is at head and matches the models."""
    url = resolve_url(db)
    make_engine(url).dispose()
    _run_alembic(url, "check")
