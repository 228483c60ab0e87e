"""`ivcdb serve`: the web UI as a reviewer uses it, driven in Debian's headless Chromium.

The server runs as a real subprocess (`python -m ivcdb.cli serve`) on a free port of
127.0.0.1. Without /usr/bin/chromium (and its chromedriver) the browser test skips, except
under CI=true, where `.ci/run` installs them and a missing browser is a failure. Selenium is
pointed at the Debian binaries, so nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, IN_CI

from ivcdb import queries
from ivcdb.db import Database, sqlite_path
from ivcdb.errors import UsageError
from ivcdb.queries import list_outcomes
from ivcdb.serve import (
    HOST,
    MAX_ROWS,
    SQL_TIME_LIMIT_MS,
    banner,
    check_port,
    load_metadata,
)
from ivcdb.text import fold, search_text

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT_S = 90.0
PNG = b"\x89PNG\r\n\x1a\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - local server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fetch_json(url: str) -> Any:
    status, body = fetch(url)
    assert status == 200, body[:300]
    return json.loads(body)


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    tmp: Path  # the server's TMPDIR: its snapshot folder must be gone after it stops


@contextmanager
def running_server(built: Database, tmp_path: Path, *extra: str) -> Iterator[Server]:
    """`ivcdb serve --db URL --port N [extra]` in a subprocess, up and answering."""
    port = free_port()
    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    log = (tmp_path / "server.log").open("wb")
    env = {**os.environ, "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ivcdb.cli", "serve", "--db", built.url, "--port", str(port),
         *extra], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail("ivcdb serve exited: "
                            + (tmp_path / "server.log").read_text(errors="replace"))
            try:
                if fetch(f"{base}/-/versions.json")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ivcdb serve did not answer within {START_TIMEOUT_S:g} s")
            time.sleep(0.25)
        yield Server(base, process, tmp)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


@pytest.fixture
def server(built: Database, tmp_path: Path) -> Iterator[Server]:
    """`ivcdb serve`: table views and canned queries only."""
    with running_server(built, tmp_path) as running:
        yield running


# --- over HTTP (no browser needed) ------------------------------------------------------------


def test_serves_a_snapshot_read_only_and_cleans_up(server: Server) -> None:
    databases = fetch_json(f"{server.base}/-/databases.json")
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("ivcdb", False)]
    status, body = fetch(f"{server.base}/ivcdb.json?sql=delete+from+claim")
    assert status == 400 and b"must be a SELECT" in body
    with pytest.raises(UsageError, match="choose another with --port"):
        check_port(int(server.base.rsplit(":", 1)[1]))  # taken while the server runs
    assert any(server.tmp.iterdir())  # the snapshot lives in a temporary folder ...
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    assert list(server.tmp.iterdir()) == []  # ... removed when the server stops


def test_sigterm_also_removes_the_snapshot_folder(server: Server) -> None:
    """`kill PID` (SIGTERM, as service managers stop it) cleans up like Ctrl-C."""
    assert any(server.tmp.iterdir())
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert list(server.tmp.iterdir()) == []


def test_reviewer_pages_answer(server: Server, built: Database) -> None:
    """Outcomes with claim counts, titled views and columns, canned queries."""
    with built.session() as session:
        expected = {row.code: row.claims for row in list_outcomes(session)}
    rows = fetch_json(f"{server.base}/ivcdb/outcome_summary.json?_shape=array&_size=max")
    assert {r["outcome"]: r["claims"] for r in rows} == expected
    total = fetch_json(f"{server.base}/ivcdb/claims_view.json?_size=0")
    assert total["filtered_table_rows_count"] == sum(expected.values())

    tables = load_metadata()["databases"]["ivcdb"]["tables"]
    served = fetch_json(f"{server.base}/-/metadata.json")["databases"]["ivcdb"]["tables"]
    for view in ("claims_view", "reference_list", "outcome_summary", "reviews"):
        assert served[view]["title"] == tables[view]["title"]
        columns = fetch_json(f"{server.base}/ivcdb/{view}.json?_size=1")["columns"]
        assert set(columns) == set(tables[view]["columns"]), f"{view}: describe every column"

    rows = fetch_json(f"{server.base}/ivcdb/claims_supported_by_reference.json"
                      "?reference=3&_shape=array")
    assert rows and all(r["entry"].startswith("[3] ") for r in rows)
    rows = fetch_json(f"{server.base}/ivcdb/evidence_for_outcome.json"
                      "?outcome=overall_survival_5y&_shape=array")
    assert rows and {r["outcome_label"] for r in rows} == {"Overall survival at 5 years"}


def test_arbitrary_sql_only_with_the_sql_option(server: Server) -> None:
    """Without --sql: table views and canned queries answer; any SQL of one's own is refused."""
    for query in ("sql=select+1", "sql=select+randomblob(300000000)"):
        status, _ = fetch(f"{server.base}/ivcdb.json?{query}")
        assert status == 403, query
    assert fetch(f"{server.base}/ivcdb/claims_view.json?_where=1%3D1")[0] == 403
    assert fetch(f"{server.base}/ivcdb/claims_view.json?_size=1")[0] == 200
    assert fetch(f"{server.base}/ivcdb/evidence_for_outcome.json"
                 "?outcome=overall_survival_5y")[0] == 200
    settings = fetch_json(f"{server.base}/-/settings.json")
    assert (settings["max_returned_rows"], settings["sql_time_limit_ms"]) == (
        MAX_ROWS, SQL_TIME_LIMIT_MS)


def _sql(server: Server, sql: str) -> tuple[int, bytes]:
    query = urllib.parse.urlencode({"sql": sql})
    return fetch(f"{server.base}/ivcdb.json?{query}")


def test_arbitrary_sql_with_the_option_is_capped(built: Database, tmp_path: Path) -> None:
    """--sql: read-only SELECTs, at most MAX_ROWS rows, no value above 1 MB, no response body
    above 20 MB."""
    count = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n}) "
    with running_server(built, tmp_path, "--sql") as server:
        status, body = _sql(server, "select count(*) from claim")
        assert status == 200 and json.loads(body)["rows"] == [[78]]
        status, body = _sql(server, "delete from claim")
        assert status == 400 and b"must be a SELECT" in body
        status, body = _sql(server, count.format(n=MAX_ROWS * 3) + "SELECT x FROM c")
        answer = json.loads(body)
        assert status == 200 and len(answer["rows"]) == MAX_ROWS and answer["truncated"]
        status, body = _sql(server, "select randomblob(300000000)")
        assert status == 400 and json.loads(body)["error"] == "string or blob too big"
        status, body = _sql(server, count.format(n=40) + "SELECT randomblob(900000) FROM c")
        assert status == 413 and body.startswith(b"This response would be larger")
        assert fetch(f"{server.base}/ivcdb/claims_view.json?_size=1")[0] == 200


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Debian's headless Chromium through its chromedriver; no download, fresh profile."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = f"{CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium " \
                  "chromium-driver)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path / "chromium-profile"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _rows_count(driver: Any) -> int:
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr"))


def _click(driver: Any, element: Any) -> None:
    """Click a link and wait until the browser has left the page."""
    from selenium.webdriver.support.ui import WebDriverWait

    before = driver.current_url
    element.click()
    WebDriverWait(driver, 30).until(lambda d: d.current_url != before)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _claims_mentioning(word: str) -> int:
    """Claims whose statement, outcome (code or label) or population has the word."""
    with (DATA / "outcomes.csv").open(encoding="utf-8", newline="") as handle:
        labels = {r["code"]: r["label"] for r in csv.DictReader(handle)}
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as handle:
        claims = list(csv.DictReader(handle))
    return sum(1 for c in claims if fold(word) in search_text(
        c["statement"], c["outcome"], labels[c["outcome"]], c["population"]).split())


def test_reviewer_walk_through(server: Server, browser: Any, tmp_path: Path) -> None:
    """Home → Claims → search → a cited reference → its claims → a facet → CSV; screenshot."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(server.base + "/")
    assert "ivcdb" in driver.title
    _click(driver, driver.find_element(By.LINK_TEXT, "Claims"))
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Claims")
    assert {e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR,
                                                                ".facet-info")} >= {
        "facet-outcome", "facet-reference", "facet-author", "facet-year"}

    # Search: case and accents are ignored; every claim naming the word is found.
    box = driver.find_element(By.ID, "_search")
    box.send_keys("SURVIVAL" + Keys.ENTER)
    WebDriverWait(driver, 30).until(lambda d: "_search=" in d.current_url)
    assert _rows_count(driver) == _claims_mentioning("survival") > 0

    # Click through to a reference cited by a claim.
    link = driver.find_element(By.CSS_SELECTOR, "td.col-reference a")
    label = link.text
    _click(driver, link)
    assert "/reference_list" in driver.current_url and _rows_count(driver) == 1
    entry = driver.find_element(By.CSS_SELECTOR, "td.col-entry").text
    number = label.split("]")[0].lstrip("[")
    assert entry.startswith(f"[{number}] ")

    # ... and see every claim it supports.
    claims_link = driver.find_element(By.CSS_SELECTOR, "td.col-claims a")
    count = int(claims_link.text.split()[0])
    _click(driver, claims_link)
    assert _rows_count(driver) == count > 0
    cells = driver.find_elements(By.CSS_SELECTOR, "td.col-reference")
    assert all(label in c.text for c in cells)

    # Apply a facet: one outcome among them.
    facet = driver.find_element(By.CSS_SELECTOR, "#facet-outcome ul li a")
    outcome = facet.text
    _click(driver, facet)
    assert f"outcome={urllib.parse.quote(outcome)}" in driver.current_url
    shown = _rows_count(driver)
    assert 0 < shown <= count

    # Download this view as CSV: the link on the page, fetched as a user agent would.
    csv_href = driver.find_element(By.CSS_SELECTOR, "p.export-links a[href*='.csv']")
    status, body = fetch(urllib.parse.urljoin(driver.current_url,
                                              csv_href.get_attribute("href")))
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert len(rows) == shown
    assert {"claim_id", "statement", "figure", "reference"} <= set(rows[0])
    assert {r["outcome"] for r in rows} == {outcome}
    assert all(label in json.loads(r["reference"]) for r in rows)

    shot = tmp_path / "claims.png"
    assert driver.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000


# --- set-up errors and metadata (no server) ---------------------------------------------------


def test_serve_refuses_a_file_that_is_not_a_snapshot(db_url: str, tmp_path: Path) -> None:
    from ivcdb.serve import check_snapshot

    with pytest.raises(UsageError, match="no snapshot at"):
        check_snapshot(tmp_path / "missing.sqlite")
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match="not a SQLite database"):
        check_snapshot(not_sqlite)
    path = sqlite_path(db_url)
    if path is not None:  # an ivcdb database is not a snapshot: it lacks the read layer
        with pytest.raises(UsageError, match="not an ivcdb snapshot"):
            check_snapshot(path)


def test_metadata_follows_the_served_file_name() -> None:
    default = load_metadata()
    renamed = load_metadata("review-2026")
    assert list(renamed["databases"]) == ["review-2026"]
    assert renamed["databases"]["review-2026"]["tables"] == default["databases"]["ivcdb"][
        "tables"]
    assert "/ivcdb/" not in renamed["description_html"]
    assert "/review-2026/claims_view" in renamed["description_html"]


def test_the_banner_names_the_database_served(server: Server, built: Database) -> None:
    """Not the temporary snapshot's name (`ivcdb.sqlite`): the database it copies."""
    log = (server.tmp.parent / "server.log").read_text(errors="replace")
    port = int(server.base.rsplit(":", 1)[1])
    assert banner(built.url, port=port) in log
    path = sqlite_path(built.url)
    assert f"a snapshot of {path if path is not None else ''}" in log


@pytest.mark.parametrize(("kwargs", "says"), [
    pytest.param({"db": "postgresql://ana:s3cret@db.example:5432/lab"},
                 "a snapshot of postgresql", id="postgresql"),
    pytest.param({"db": "postgresql://ana:s3cret@db.example:5432/lab", "review": "li2025"},
                 "(review li2025)", id="one-review"),
    pytest.param({"db": "reviews/lab.sqlite"}, "lab.sqlite read-only", id="sqlite"),
    pytest.param({"snapshot_path": "shared/snap.sqlite"}, "serving snapshot /", id="snapshot"),
])
def test_the_banner_never_names_the_temporary_file(kwargs: dict[str, str], says: str) -> None:
    text = banner(**kwargs, port=8123)  # type: ignore[arg-type]
    assert says in text and text.endswith("at http://127.0.0.1:8123/ (Ctrl-C to stop)")
    assert "s3cret" not in text and "ivcdb.sqlite" not in text
    if "postgresql" in says:
        assert "db.example:5432/lab" in text and "***" in text


def test_the_search_box_searches_as_the_command_line(server: Server, built: Database) -> None:
    """Prefixes and phrases as `query claims --text`; a query that is not one: a 400 page
    saying why, never an FTS5 error."""
    with built.session() as session:
        for text in ("recur*", '"recurs frequently"', "CALIÒ", "female", "age"):
            expected = {c.claim_id for c in queries.claims(session, text=text)}
            query = urllib.parse.urlencode({"_search": text, "_shape": "array",
                                            "_size": "max"})
            rows = fetch_json(f"{server.base}/ivcdb/claims_view.json?{query}")
            assert {r["claim_id"] for r in rows} == expected, text
    status, body = fetch(f"{server.base}/ivcdb/claims_view?_search=%22recurs")
    assert status == 400 and b"unbalanced quote" in body and b"fts5" not in body.lower()
