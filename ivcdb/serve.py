"""`ivcdb serve`: a read-only web UI for reviewers, served by Datasette on 127.0.0.1 only.

Datasette gives every view facets, full-text search, sorting and CSV/JSON downloads; ivcdb
adds a snapshot with labelled views (`ivcdb.snapshot`), a metadata file with titles,
descriptions, facets and canned queries (`web/metadata.yml`) and a small plugin that links
claim counts to the claims they count (`web/plugins/`). The database is opened immutable: the
web UI never writes.

Limits: reviewers get the table views and the canned queries; arbitrary SQL only with `--sql`.
Either way a page holds at most `MAX_ROWS` rows, a query runs at most `SQL_TIME_LIMIT_MS`, a
CSV download at most `MAX_CSV_MB`, and `web/plugins/ivcdb_limits.py` caps every value and
every response body.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivcdb.errors import UsageError
from ivcdb.extras import require

if TYPE_CHECKING:
    from ivcdb.contract import Contract

HOST = "127.0.0.1"
DEFAULT_PORT = 8001
WEB_DIR = Path(__file__).resolve().parent / "web"
METADATA = WEB_DIR / "metadata.yml"
PLUGINS_DIR = WEB_DIR / "plugins"
STATIC_DIR = WEB_DIR / "static"  # served at /assets/ (metadata.yml names its stylesheet)
TEMPLATE_NAME = "ivcdb"  # the database key used in metadata.yml and its links
MAX_ROWS = 1000  # Datasette's max_returned_rows: rows in one page or query result
SQL_TIME_LIMIT_MS = 1000  # Datasette's sql_time_limit_ms: time for one query
MAX_CSV_MB = 20  # Datasette's max_csv_mb: size of one streamed CSV download


def load_metadata(name: str = TEMPLATE_NAME, *, sql: bool = False) -> dict[str, Any]:
    """The packaged Datasette metadata, for a database served under `name`; arbitrary SQL
    is allowed only with `sql`."""
    import yaml

    template = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    data: dict[str, Any] = copy.deepcopy(template)
    data["allow_sql"] = sql
    describe_contract_columns(data["databases"][TEMPLATE_NAME]["tables"]["claims_view"])
    if name != TEMPLATE_NAME:
        from datasette.utils import tilde_encode

        data["databases"] = {name: data["databases"].pop(TEMPLATE_NAME)}
        text = json.dumps(data, ensure_ascii=False)
        text = text.replace(f"/{TEMPLATE_NAME}/", f"/{tilde_encode(name)}/")
        data = json.loads(text)
    return data


def describe_contract_columns(view: dict[str, Any], claim: Contract | None = None) -> None:
    """Describe a claims_view column the metadata file does not (a field added to the
    contract later) with the contract's description."""
    from ivcdb.contract import CLAIM

    columns = view.setdefault("columns", {})
    for f in (claim or CLAIM).stored:
        columns.setdefault(f.name, f.description or f.name)


def check_snapshot(path: Path) -> None:
    """Refuse a file that is not an ivcdb snapshot (it lacks the read layer)."""
    if not path.is_file():
        raise UsageError(f"no snapshot at {path}; make one with `ivcdb snapshot --to FILE`")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise UsageError(f"{path} is not a SQLite database ({error})") from error
    if not {"claims_view", "reference_list", "claims_fts"} <= names:
        raise UsageError(f"{path} is not an ivcdb snapshot; make one with "
                         "`ivcdb snapshot --to FILE`")


def check_port(port: int) -> None:
    """Fail early, in one line, when the port is taken or out of range."""
    if not 0 < port < 65536:
        raise UsageError(f"port {port} is not between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise UsageError(f"cannot listen on {HOST}:{port} ({error.strerror}); "
                             "choose another with --port") from error


def datasette_args(path: Path, metadata_path: Path, port: int) -> list[str]:
    """Arguments of `datasette serve`: immutable, local only, ivcdb metadata and plugin."""
    return ["serve", "--immutable", str(path), "--host", HOST, "--port", str(port),
            "--metadata", str(metadata_path), "--plugins-dir", str(PLUGINS_DIR),
            "--static", f"assets:{STATIC_DIR}", "--setting", "suggest_facets", "off",
            "--setting", "max_returned_rows", str(MAX_ROWS),
            "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS),
            "--setting", "max_csv_mb", str(MAX_CSV_MB)]


@contextmanager
def prepared(db: str | os.PathLike[str] | None = None, *,
             snapshot_path: str | os.PathLike[str] | None = None, sql: bool = False,
             review: str | None = None) -> Iterator[tuple[Path, Path]]:
    """(snapshot, metadata file) in a temporary folder removed afterwards; a fresh snapshot
    holds only `review` when one is named (see `ivcdb.snapshot.snapshot`)."""
    with tempfile.TemporaryDirectory(prefix="ivcdb-serve-") as tmp:
        folder = Path(tmp)
        if snapshot_path is not None:
            path = Path(snapshot_path).expanduser().resolve()
            check_snapshot(path)
        else:
            from ivcdb.snapshot import snapshot

            path = snapshot(db, folder / "ivcdb.sqlite", review=review).path
        metadata_path = folder / "metadata.json"
        metadata_path.write_text(json.dumps(load_metadata(path.stem, sql=sql), ensure_ascii=False),
                                 encoding="utf-8")
        yield path, metadata_path


def serve(db: str | os.PathLike[str] | None = None, *, port: int = DEFAULT_PORT,
          snapshot_path: str | os.PathLike[str] | None = None, sql: bool = False,
          review: str | None = None) -> None:
    """Serve a fresh snapshot of `db` (or an existing snapshot) until interrupted.

    SIGTERM stops it like Ctrl-C, so the temporary snapshot folder is removed either way.
    """
    require("web")
    import click
    from datasette.cli import cli as datasette_cli

    check_port(port)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with prepared(db, snapshot_path=snapshot_path, sql=sql, review=review) as (
                path, metadata_path):
            print(f"serving {path.name} read-only at http://{HOST}:{port}/ (Ctrl-C to stop)",
                  file=sys.stderr, flush=True)
            try:
                datasette_cli.main(args=datasette_args(path, metadata_path, port),
                                   prog_name="ivcdb serve", standalone_mode=False)
            except click.ClickException as error:
                raise UsageError(f"datasette: {error.format_message()}") from error
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
