"""Connections fail fast and never show secrets (issue 17 item 4).

A server that accepts TCP but never answers fails within `IVCDB_CONNECT_TIMEOUT`; no message,
hint or `--debug` traceback holds a password; an unsupported URL scheme is one line.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from conftest import CliRun

from ivcdb.db import ENV_CONNECT_TIMEOUT, ENV_URL, connect_timeout, mask_password

SECRET = "TopSecret123"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_silent_server_fails_within_the_connect_timeout(silent_server: int) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{silent_server}/x"
    result = subprocess.run(
        [sys.executable, "-m", "ivcdb.cli", "query", "outcomes", "--db", url],
        capture_output=True, text=True, timeout=120,  # a guard only: without a limit, a hang
        env={**_env(), ENV_CONNECT_TIMEOUT: "1"}, check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot connect to postgresql+psycopg://postgres:***@127.0.0.1:{silent_server}"
        f"/x: no answer within 1 s (${ENV_CONNECT_TIMEOUT} sets the limit)\n")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != ENV_URL}


@pytest.mark.parametrize(("raw", "seconds"), [("", 10), ("2.5", 3), ("0.2", 1)])
def test_connect_timeout_setting(monkeypatch: pytest.MonkeyPatch, raw: str,
                                 seconds: int) -> None:
    monkeypatch.setenv(ENV_CONNECT_TIMEOUT, raw)
    assert connect_timeout() == seconds


@pytest.mark.parametrize("raw", ["abc", "inf", "nan", "0", "-3"])
def test_bad_connect_timeout_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, cli: CliRun,
                                              raw: str) -> None:
    monkeypatch.setenv(ENV_CONNECT_TIMEOUT, raw)
    code, _, err = cli("query", "outcomes", "--db", "postgresql://u@127.0.0.1:1/x")
    assert (code, err) == (2, f"error: {ENV_CONNECT_TIMEOUT}={raw}: give a number of seconds "
                              "above 0\n")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("url", [
    pytest.param(f"postgresql://postgres:{SECRET}@127.0.0.1:1/x", id="refused"),
    pytest.param(f"postgresql://postgres:{SECRET}@127.0.0.1:abc/x", id="bad-port"),
    pytest.param(f"mysql://root:{SECRET}@127.0.0.1/x", id="mysql"),
    pytest.param(f"postgresql://postgres:{SECRET}@[::1/x", id="unparsable"),
])
def test_no_password_in_any_message(cli: CliRun, url: str, debug: bool) -> None:
    code, out, err = cli(*(["--debug"] if debug else []), "query", "outcomes", "--db", url)
    assert code in (1, 2)
    assert SECRET not in out + err
    assert "***" in err
    if not debug:
        assert len(err.splitlines()) == 1 and err.startswith("error: ")


@pytest.mark.postgresql
def test_no_password_in_the_init_hint(pg_url: str, cli: CliRun,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server trusts local connections: any password is accepted, none is shown."""
    url = pg_url.replace("://postgres@", f"://postgres:{SECRET}@")
    masked = shlex.quote(url.replace(SECRET, "***"))
    code, _, err = cli("query", "outcomes", "--db", url)
    assert code == 1 and SECRET not in err
    assert err.endswith(f"has no ivcdb schema; run `ivcdb init --db {masked}` first\n")
    monkeypatch.setenv(ENV_URL, url)
    code, _, err = cli("query", "outcomes")
    assert code == 1 and SECRET not in err
    assert err.endswith(f"has no ivcdb schema; run `ivcdb init` (it uses ${ENV_URL}) first\n")


def test_unknown_scheme_is_one_line(cli: CliRun) -> None:
    code, _, err = cli("query", "outcomes", "--db", "mysql://u:pw@h/x")
    assert (code, err) == (2, "error: --db mysql://u:***@h/x: mysql:// is not supported; name a "
                              "SQLite file (or sqlite:///PATH) or a postgresql:// URL\n")


def test_mask_password() -> None:
    assert mask_password("see postgresql://u:p@ss@h/db and x://a:b@c") == \
        "see postgresql://u:***@h/db and x://a:***@c"
    assert mask_password("sqlite:////tmp/a:b@c.sqlite") == "sqlite:////tmp/a:b@c.sqlite"
