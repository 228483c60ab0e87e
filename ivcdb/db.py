"""Engines, sessions, SQLite pragmas and the Alembic wrappers.

`open_db(url)` is the entry point for scripts: it resolves the URL, refuses to invent an empty
SQLite file, checks the schema revision and returns a `Database` whose `session()` reads and
whose `write()` runs one transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue up
instead of failing half-way). `readonly=True` opens a SQLite file read-only (`mode=ro`, or
`immutable=1` on read-only media); `initialise=True` (loads) lets the first write create the
schema of a new or empty database under the writers' lock. A database that was written is
checkpointed on `dispose()`, so the `.sqlite` file alone holds all of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import re
import shlex
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlmodel import Session

from ivcdb.errors import DatabaseError, ForceNeeded, SchemaOutOfDate, UsageError
from ivcdb.extras import require
from ivcdb.text import clip

if TYPE_CHECKING:
    from alembic.config import Config

ENV_URL = "IVCDB_DATABASE_URL"
DEFAULT_PATH = "ivcdb.sqlite"
# The Alembic head this code expects; tests/test_migrations.py keeps it equal to the scripts.
SCHEMA_REVISION = "0010"
BUSY_TIMEOUT_S = 30.0
MAX_BUSY_TIMEOUT_S = 86400.0  # a day
ENV_BUSY_TIMEOUT = "IVCDB_BUSY_TIMEOUT"  # seconds a writer waits for the lock
CONNECT_TIMEOUT_S = 10.0
ENV_CONNECT_TIMEOUT = "IVCDB_CONNECT_TIMEOUT"  # seconds to reach a PostgreSQL server
SCHEMES = ("sqlite", "postgresql")  # the engines ivcdb supports (any driver of them)
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
    if scheme.split("+", 1)[0] not in (*SCHEMES, "postgres"):
        raise UsageError(f"--db {mask_password(raw)}: {scheme}:// is not supported; name a "
                         "SQLite file (or sqlite:///PATH) or a postgresql:// URL")
    url = f"postgresql+psycopg://{rest}" if scheme in ("postgresql", "postgres") else raw
    try:
        sa.engine.make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        reason = mask_password(str(error).splitlines()[0])
        raise UsageError(f"--db {mask_password(raw)} is not a valid database URL ({reason})"
                         ) from None
    return url


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/\s]*@")


def mask_password(text: str) -> str:
    """`text` with the password of any `scheme://user:password@` in it shown as `***`."""
    return _PASSWORD.sub(r"\1***@", text)


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
    if not value <= MAX_BUSY_TIMEOUT_S:  # inf, nan, or a wait no one means
        raise UsageError(f"${ENV_BUSY_TIMEOUT} must be a number of seconds from 0 to "
                         f"{MAX_BUSY_TIMEOUT_S:g}, not {clip(raw)!r}")
    return value if value >= 0 else BUSY_TIMEOUT_S


def connect_timeout() -> int:
    """Seconds to wait for a PostgreSQL server: `$IVCDB_CONNECT_TIMEOUT`, else 10 (min 1)."""
    raw = os.environ.get(ENV_CONNECT_TIMEOUT, "").strip()
    try:
        value = float(raw) if raw else CONNECT_TIMEOUT_S
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{ENV_CONNECT_TIMEOUT}={raw}: give a number of seconds above 0")
    return max(1, math.ceil(value))


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


def _on_sqlite_read_connect(dbapi_conn: Any, _record: Any) -> None:
    # A reader never changes the file: no journal-mode switch, queries only.
    dbapi_conn.isolation_level = None
    dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_timeout() * 1000)}")
    dbapi_conn.execute("PRAGMA query_only=ON")


def read_only_uri(path: Path) -> str:
    """`file:` URI opening `path` read-only; `immutable` when neither it nor its folder is
    writable (read-only media, where SQLite could not even create the WAL index)."""
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return f"file:{quote(str(path))}?{'mode=ro' if writable else 'immutable=1'}"


def _sqlite_engine(url: str, path: Path | None, *, readonly: bool) -> sa.Engine:
    if readonly and path is not None:
        uri = read_only_uri(path)
        engine = sa.create_engine(
            "sqlite://", poolclass=sa.pool.QueuePool,
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=busy_timeout(),
                                            check_same_thread=False))
        event.listen(engine, "connect", _on_sqlite_read_connect)
    else:
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout()})
        event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_begin(conn: sa.Connection) -> None:
    write = conn.get_execution_options().get("ivcdb_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str, *, create: bool = False, readonly: bool = False) -> sa.Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE
    (`readonly`: opened read-only, journal mode untouched); PostgreSQL a connect timeout."""
    try:
        path = sqlite_path(url)
        if path is not None:
            _check_sqlite_file(path, create=create and not readonly)
        if url.startswith("sqlite"):
            return _sqlite_engine(url, path, readonly=readonly)
        if url.startswith("postgresql+psycopg"):
            require("postgres")
        return sa.create_engine(url, pool_pre_ping=True,
                                connect_args={"connect_timeout": connect_timeout()})
    except (exc.ArgumentError, exc.NoSuchModuleError, ValueError, ImportError) as error:
        message = mask_password(str(error).splitlines()[0] if str(error) else "")
        raise DatabaseError(f"not a database URL: {display_url_safe(url)} ({message})"
                            ) from None


def display_url_safe(url: str) -> str:
    """`display_url`, or the URL as given with its password masked when it does not parse."""
    try:
        return display_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given, masked
        return mask_password(url)


# PostgreSQL's insufficient_privilege and read_only_sql_transaction: a role that may only read
# (README, "Team workflow") tried to write.
NOT_ALLOWED_TO_WRITE = frozenset({"42501", "25006"})


def _sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def describe(error: BaseException, url: str) -> str:
    """One line for a database error: what failed and where."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    text = _hide_password(mask_password(text), url)
    where = display_url_safe(url)
    lowered = text.lower()
    if "database is locked" in lowered or "lock timeout" in lowered:
        return (
            f"{where}: another process holds the write lock and did not release it within "
            f"{busy_timeout():g} s; nothing was changed, try again"
        )
    if "database or disk is full" in lowered or "no space left" in lowered:
        return f"{where}: the disk (or the database's size limit) is full; nothing was changed"
    if _sqlstate(error) in NOT_ALLOWED_TO_WRITE:
        return (f"{where}: this role may only read here ({text}); nothing was changed, "
                "connect as a role that may write")
    if "readonly" in lowered or "read-only" in lowered:
        return f"{where}: the database is read-only; nothing was changed"
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        path = sqlite_path(url) if url.startswith("sqlite") else None
        return f"{path or where} is not an SQLite database"
    if "connection refused" in lowered or "could not connect" in lowered:
        return f"cannot connect to {where}: {text}"
    if "timeout expired" in lowered or "timed out" in lowered:
        return (f"cannot connect to {where}: no answer within {connect_timeout()} s "
                f"(${ENV_CONNECT_TIMEOUT} sets the limit)")
    return f"{where}: {text}"


def _hide_password(text: str, url: str) -> str:
    """`text` with the URL's password (if any) replaced by `***`."""
    try:
        password = sa.engine.make_url(url).password
    except Exception:  # noqa: BLE001 - an unparsable URL has no password we can name
        return text
    return text.replace(str(password), "***") if password else text


class Database:
    """An opened ivcdb database: an engine plus read and write sessions.

    `initialise`: the first write creates the schema of a new or empty database (under the
    writers' lock); a new SQLite file appears only when that write commits.
    """

    def __init__(self, url: str, engine: sa.Engine, *, initialise: bool = False,
                 given: str | None = None) -> None:
        self.url = url
        self.engine = engine
        self.initialise = initialise
        self.given = given  # the --db value as typed, for hints
        self._wrote = False

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
        path = sqlite_path(self.url) if self.initialise else None
        with _creation_lock(path, self.url) as new_file:
            if new_file and path is not None:
                with self._write_new_file(path) as session:
                    yield session
            else:
                with self._write() as session:
                    yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        self._wrote = True
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(ivcdb_write=True)
                if self.dialect == "postgresql":
                    _pg_write_lock(conn)
                if self.initialise:
                    self._initialise(conn)
                with Session(conn, expire_on_commit=False) as session:
                    yield session
                    session.commit()
                conn.commit()
        except (exc.OperationalError, exc.IntegrityError, exc.DataError) as error:
            raise DatabaseError(describe(error, self.url)) from error
        except (exc.ProgrammingError, exc.InternalError) as error:
            if _sqlstate(error) not in NOT_ALLOWED_TO_WRITE:
                raise  # a bug, not the user's database
            raise DatabaseError(describe(error, self.url)) from error

    def _initialise(self, conn: sa.Connection) -> None:
        """Under the writers' lock: create the schema of an empty database, in this
        transaction; refuse any other database not at head."""
        revision = _revision_on(conn)
        if revision == SCHEMA_REVISION:
            return
        if revision is None and not _table_names(conn):
            _migrate_on(conn, self.url)
            return
        raise SchemaOutOfDate(schema_problem(revision, self.url, self.given))

    @contextmanager
    def _write_new_file(self, path: Path) -> Iterator[Session]:
        """Write a new SQLite file beside `path`, and publish it only when it has a schema
        (a refused or dry-run load leaves no file)."""
        from ivcdb.exports.files import temp_sibling

        tmp = temp_sibling(path)
        staged = Database(f"sqlite:///{tmp}", make_engine(f"sqlite:///{tmp}", create=True),
                          initialise=True, given=self.given)
        try:
            with staged._write() as session:
                yield session
            published = schema_revision(staged.engine, staged.url) is not None
            staged.dispose()
            if published:
                _publish(tmp, path)
                self._wrote = True
        except FileExistsError:
            raise DatabaseError(f"{path} appeared while this load ran; nothing was written, "
                                "run it again") from None
        finally:
            staged.engine.dispose()
            for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-wal", "-shm", "-journal"))):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def dispose(self) -> None:
        """Close every connection; after a write, first move SQLite's WAL into the file."""
        if self._wrote and self.dialect == "sqlite":
            checkpoint(self.engine)
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _publish(tmp: Path, path: Path) -> None:
    """Put the staged file at `path`, never over a file that appeared meanwhile."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system; the folder lock keeps loads out
        if path.exists():
            raise FileExistsError(path) from None
        os.rename(tmp, path)


def checkpoint(engine: sa.Engine) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it, so the `.sqlite`
    file alone is the whole database (best effort: a busy reader only delays it)."""
    with contextlib.suppress(sqlite3.Error, exc.DBAPIError):
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()


@contextmanager
def _creation_lock(path: Path | None, url: str) -> Iterator[bool]:
    """Yield True, holding a lock on the folder, when `path` does not exist yet: loads that
    would create the same new file queue here as writers of an existing file queue on its
    lock. Yield False (no lock) for an existing file or another engine."""
    if path is None or path.exists():
        yield False
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + busy_timeout()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseError(describe(DatabaseError("database is locked"), url)
                                        ) from None
                time.sleep(0.05)
        yield not path.exists()
    finally:
        os.close(fd)  # releases the lock


def _pg_write_lock(conn: sa.Connection) -> None:
    """Take the writers' advisory lock for this transaction, waiting at most the busy timeout.

    Loads read the database, then upsert: two at once would both see a record as new.
    """
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(busy_timeout() * 1000))}")
    conn.exec_driver_sql(PG_LOCK_STATEMENT)


def _table_names(conn: sa.Connection) -> set[str]:
    """The tables of the database, but the word index's (derived: `is_search_object`)."""
    from ivcdb.models import is_search_object

    return {t for t in sa.inspect(conn).get_table_names() if not is_search_object(t)}


def _revision_on(conn: sa.Connection) -> str | None:
    if "alembic_version" not in _table_names(conn):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def schema_revision(engine: sa.Engine, url: str) -> str | None:
    """The database's Alembic revision, or None when it has no ivcdb schema."""
    try:
        with engine.connect() as conn:
            return _revision_on(conn)
    except exc.DBAPIError as error:  # OperationalError, and DatabaseError for a corrupt file
        raise DatabaseError(describe(error, url)) from error


def _is_empty(engine: sa.Engine, url: str) -> bool:
    try:
        with engine.connect() as conn:
            return not _table_names(conn)
    except exc.DBAPIError as error:
        raise DatabaseError(describe(error, url)) from error


def init_hint(given: str | None) -> str:
    """The `ivcdb init` command to suggest, never with a password in it."""
    if given is None:
        return "`ivcdb init`" + (f" (it uses ${ENV_URL})" if os.environ.get(ENV_URL) else "")
    return f"`ivcdb init --db {shlex.quote(mask_password(given))}`"


def schema_problem(revision: str | None, url: str, given: str | None) -> str:
    """Why a database without the schema this code needs is refused, and how to fix it."""
    where = display_url_safe(url)
    if revision is None:
        return f"{where} has no ivcdb schema; run {init_hint(given)} first"
    return (f"{where} is at schema revision {revision}, this ivcdb needs {SCHEMA_REVISION}; "
            "run `ivcdb db upgrade` (back up first with `ivcdb copy`)")


def ensure_schema(engine: sa.Engine, url: str, *, db: str | None = None) -> None:
    """Refuse a database without the schema this code needs, saying how to fix it.

    `db` is the `--db` value as given, shown in the suggested command (password masked).
    """
    revision = schema_revision(engine, url)
    if revision != SCHEMA_REVISION:
        raise SchemaOutOfDate(schema_problem(revision, url, db))


def open_db(
    db: str | os.PathLike[str] | None = None, *, create: bool = False, check: bool = True,
    readonly: bool = False, initialise: bool = False,
) -> Database:
    """Open a database by path or URL.

    `create` allows a new SQLite file; `readonly` opens SQLite read-only (read commands);
    `initialise` (loads) accepts a missing or empty database, whose schema the first write
    creates under the writers' lock, and refuses any other database not at head.
    """
    url = resolve_url(db)
    given = None if db is None else os.fspath(db)
    path = sqlite_path(url)
    if initialise:
        engine = make_engine(url, create=True)
        if path is None or path.exists():
            try:
                probe = make_engine(url, readonly=True) if path is not None else engine
                try:
                    revision = schema_revision(probe, url)
                    empty = revision is None and _is_empty(probe, url)
                finally:
                    if probe is not engine:
                        probe.dispose()
                if revision != SCHEMA_REVISION and not empty:
                    raise SchemaOutOfDate(schema_problem(revision, url, given))
            except DatabaseError:
                engine.dispose()
                raise
        return Database(url, engine, initialise=True, given=given)
    engine = make_engine(url, create=create, readonly=readonly)
    if check:
        try:
            ensure_schema(engine, url, db=given)
        except DatabaseError:
            engine.dispose()
            raise
    return Database(url, engine, given=given)


# --- migrations -------------------------------------------------------------------------------


def alembic_config(url: str) -> Config:
    """An Alembic config for the packaged migrations; no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.set_main_option("path_separator", "os")
    config.attributes["ivcdb_url"] = url
    return config


def _run_alembic(url: str, action: str, *args: Any,
                 connection: sa.Connection | None = None) -> None:
    from alembic import command
    from alembic.util import CommandError

    config = alembic_config(url)
    if connection is not None:
        config.attributes["connection"] = connection
    try:
        getattr(command, action)(config, *args)
    except CommandError as error:
        raise DatabaseError(f"{action}: {mask_password(str(error))}") from error
    except exc.DatabaseError as error:  # OperationalError too
        raise DatabaseError(describe(error, url)) from error


def _migrate_on(conn: sa.Connection, url: str) -> None:
    """Create the schema inside `conn`'s transaction (Alembic joins it)."""
    _run_alembic(url, "upgrade", "head", connection=conn)


def _checkpoint_url(url: str) -> None:
    if sqlite_path(url) is not None:
        engine = make_engine(url)
        try:
            checkpoint(engine)
        finally:
            engine.dispose()


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
        _checkpoint_url(url)
    return url


def _target_revision(url: str, current_rev: str | None, revision: str) -> str | None:
    """The revision `revision` names (`base` is None; `-N` counts down from the current)."""
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    if revision == "base":
        return None
    script = ScriptDirectory.from_config(alembic_config(url))
    try:
        if revision.startswith("-") and revision[1:].isdigit():
            target = current_rev
            for _ in range(int(revision[1:])):
                if target is None:
                    raise DatabaseError(f"downgrade: {revision} goes below base")
                found = script.get_revision(target)
                down = found.down_revision if found is not None else None
                target = down if isinstance(down, str) or down is None else down[0]
            return target
        found = script.get_revision(revision)
    except (CommandError, RevisionError) as error:
        raise DatabaseError(f"downgrade: {error}") from error
    if found is None:
        return None
    return found.revision


def _tables_at(revision: str | None) -> set[str]:
    """The ivcdb tables a database at `revision` has (migrated in memory to find out)."""
    if revision is None:
        return set()
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            _run_alembic("sqlite://", "upgrade", revision, connection=conn)
            return _table_names(conn) - {"alembic_version"}
    finally:
        engine.dispose()


def downgrade_plan(db: str | os.PathLike[str] | None, revision: str) -> list[tuple[str, int]]:
    """(table, rows) of every table a downgrade to `revision` would drop."""
    url = resolve_url(db)
    engine = make_engine(url, readonly=True)
    try:
        with engine.connect() as conn:
            current_rev = _revision_on(conn)
            target = _target_revision(url, current_rev, revision)
            present = _table_names(conn) - {"alembic_version"}
            gone = sorted(present - _tables_at(target))
            return [(name, conn.execute(sa.select(sa.func.count()).select_from(
                sa.table(name))).scalar_one()) for name in gone]
    except exc.DBAPIError as error:
        raise DatabaseError(describe(error, url)) from error
    finally:
        engine.dispose()


def downgrade(db: str | os.PathLike[str] | None, revision: str, *,
              force: bool = False) -> list[tuple[str, int]]:
    """Migrate the database down to `revision` (`base` removes every table).

    Dropping a table that holds rows needs `force`. Returns the dropped tables with rows.
    """
    url = resolve_url(db)
    dropped = downgrade_plan(url, revision)
    full = [f"{name} ({rows} rows)" for name, rows in dropped if rows]
    if full and not force:
        raise ForceNeeded(f"downgrade to {revision} would drop {len(full)} table(s) holding "
                          f"rows: {', '.join(full)}; nothing was changed. Back up first "
                          "(`ivcdb copy`), then pass --force")
    _run_alembic(url, "downgrade", revision)
    _checkpoint_url(url)
    return dropped


def current(db: str | os.PathLike[str] | None = None) -> str | None:
    """The database's schema revision (None for an empty database)."""
    url = resolve_url(db)
    engine = make_engine(url, readonly=True)
    try:
        return schema_revision(engine, url)
    finally:
        engine.dispose()


def check(db: str | os.PathLike[str] | None = None) -> None:
    """Raise `DatabaseError` unless the database is at head and matches the models."""
    url = resolve_url(db)
    engine = make_engine(url, readonly=True)
    try:
        with engine.connect() as conn:
            _run_alembic(url, "check", connection=conn)
    except exc.DBAPIError as error:
        raise DatabaseError(describe(error, url)) from error
    finally:
        engine.dispose()
