"""`ivcdb serve`: a read-only web UI for reviewers, served by Datasette on 127.0.0.1 only.

Datasette gives every view facets, full-text search, sorting and CSV/JSON downloads; ivcdb
adds a snapshot with labelled views (`ivcdb.snapshot`), a metadata file with titles,
descriptions, facets and canned queries (`web/metadata.yml`), the licence and source of the
reviews the snapshot holds (from their records, `ivcdb.credits`) and a small plugin that links
claim counts to the claims they count (`web/plugins/`). The database is opened immutable: the
web UI never writes.

Limits: reviewers get the table views and the canned queries; arbitrary SQL only with `--sql`.
Either way a page holds at most `MAX_ROWS` rows, a query runs at most `SQL_TIME_LIMIT_MS`, a
CSV download at most `MAX_CSV_MB`, and `web/plugins/ivcdb_limits.py` caps every value and
every response body.
"""

from __future__ import annotations

import copy
import html
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ivcdb.errors import UsageError
from ivcdb.extras import require
from ivcdb.models import SEARCH_TABLE

if TYPE_CHECKING:
    from ivcdb.contract import Contract
    from ivcdb.credits import Credit

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


def load_metadata(name: str = TEMPLATE_NAME, *, sql: bool = False,
                  credits: Sequence[Credit] = ()) -> dict[str, Any]:
    """The packaged Datasette metadata, for a database served under `name`, crediting the
    reviews of `credits` (see `credit_metadata`); arbitrary SQL is allowed only with `sql`."""
    import yaml

    template = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    data: dict[str, Any] = copy.deepcopy(template)
    fixed = data.pop("ivcdb_credits")
    data.update(credit_metadata(credits, fixed))
    if len(credits) > 1:
        data["description_html"] += reviews_html(credits, fixed, f"/{TEMPLATE_NAME}/")
    data["allow_sql"] = sql
    describe_contract_columns(data["databases"][TEMPLATE_NAME]["tables"]["claims_view"])
    if name != TEMPLATE_NAME:
        from datasette.utils import tilde_encode

        data["databases"] = {name: data["databases"].pop(TEMPLATE_NAME)}
        text = json.dumps(data, ensure_ascii=False)
        text = text.replace(f"/{TEMPLATE_NAME}/", f"/{tilde_encode(name)}/")
        data = json.loads(text)
    return data


def credit_metadata(credits: Sequence[Credit], fixed: dict[str, str]) -> dict[str, Any]:
    """Datasette's license, license_url and source from the reviews' credits and the fixed
    texts of metadata.yml.

    One review: `Data: CC BY 4.0 (derived from Li et al., 2025); code: MIT`, its citation
    as source. Several: one part per review in the licence, one line per review in the
    source, a link only when every review has the same licence page. None: neutral text.
    """
    if not credits:
        return {"license": fixed["no_review_license"], "source": fixed["no_review"]}
    parts = [f"{c.license or fixed['no_license']} (derived from {c.short})" for c in credits]
    out: dict[str, Any] = {"license": f"Data: {'; '.join(parts)}; {fixed['code_license']}"}
    urls = {c.license_url for c in credits}
    if len(urls) == 1 and None not in urls:
        out["license_url"] = urls.pop()
    if len(credits) == 1:
        out["source"] = f"{credits[0].citation} {fixed['one_review']}"
        return out
    out["source"] = "\n".join([*(c.citation for c in credits), fixed["reviews"]])
    return out


def reviews_html(credits: Sequence[Credit], fixed: dict[str, str], base: str) -> str:
    """The front page's list of several reviews: each links to its claims, with its
    citation and licence."""
    items = []
    for c in credits:
        url = f"{base}claims_view?{urlencode({'review': c.review})}"
        licence = c.license or fixed["no_license"]
        if c.license_url:
            licence = f'<a href="{html.escape(c.license_url)}">{html.escape(licence)}</a>'
        else:
            licence = html.escape(licence)
        items.append(f'<li><a href="{html.escape(url)}">{html.escape(c.review)}</a>: '
                     f"{html.escape(c.citation)} {licence}</li>")
    head = fixed["reviews_html"].format(count=len(credits))
    return f"{head}<ul>{''.join(items)}</ul>"


def review_credits(path: Path) -> list[Credit]:
    """The credits of the reviews a snapshot holds, by id."""
    from ivcdb import queries
    from ivcdb.credits import credit
    from ivcdb.db import open_db

    with open_db(path, readonly=True, check=False) as snap, snap.session() as session:
        return [credit(row) for _, row in sorted(queries.review_rows(session).items())]


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
    if not {"claims_view", "reference_list", SEARCH_TABLE} <= names:
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
        metadata = load_metadata(path.stem, sql=sql, credits=review_credits(path))
        metadata_path = folder / "metadata.json"
        metadata_path.write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
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
            print(banner(db, snapshot_path=snapshot_path, review=review, port=port),
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


def banner(db: str | os.PathLike[str] | None = None, *, port: int = DEFAULT_PORT,
           snapshot_path: str | os.PathLike[str] | None = None,
           review: str | None = None) -> str:
    """What `serve` says it serves: the snapshot file given, else the database (`--db`,
    `$IVCDB_DATABASE_URL` or ./ivcdb.sqlite, password hidden) its fresh snapshot copies."""
    from ivcdb.db import display_url_safe, resolve_url, sqlite_path

    if snapshot_path is not None:
        what = f"snapshot {Path(snapshot_path).expanduser().resolve()}"
    else:
        url = resolve_url(db)
        path = sqlite_path(url)
        what = f"a snapshot of {path if path is not None else display_url_safe(url)}"
        what += f" (review {review})" if review is not None else ""
    return f"serving {what} read-only at http://{HOST}:{port}/ (Ctrl-C to stop)"


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
