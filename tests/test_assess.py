"""Verdicts by hand: `ivcdb assess` and the assessments CSV, stored, in the history, shown by
verify beside the automatic status, which they override (both engines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRun, table_counts

from ivcdb.db import Database
from ivcdb.history import entries
from ivcdb.terms import MANUAL_STATUSES
from ivcdb.verify import Status

CLAIM_ID = "li2025-os-10y"  # unverified automatically: no 10-year finding of [3] or [5]
HEADER = "claim_id,review,reference_key,status,locator,quote,assessed_by,assessed_at\n"


@pytest.fixture
def run(cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> CliRun:
    monkeypatch.setenv("COLUMNS", "250")
    return cli


def _check(run: CliRun, url: str) -> dict[str, object]:
    code, out, err = run("verify", "--db", url, "--format", "json")
    assert code == 0, err
    found: dict[str, object] = next(c for c in json.loads(out) if c["claim_id"] == CLAIM_ID)
    return found


def _history(built: Database) -> list[tuple[str, str, str, str | None]]:
    with built.session() as session:
        return [(e.action, e.changed_by, e.command, (e.new or {}).get("status"))
                for e in entries(session, claim_id=CLAIM_ID) if e.table == "assessment"]


def test_statuses_are_verifys() -> None:
    assert set(MANUAL_STATUSES) == {s.value for s in Status} - {Status.NOT_ASSESSABLE.value}


def test_a_verdict_overrides_and_shows_beside_the_automatic(run: CliRun,
                                                           built: Database) -> None:
    url = built.url
    assert _check(run, url)["status"] == "unverified"
    code, _, err = run("assess", CLAIM_ID, "--reference", "3", "--status", "consistent",
                       "--locator", "Table 2, p. 24", "--quote", "10-year survival 31%",
                       "--by", "carol", "--db", url)
    assert code == 0, err
    assert "li2025/li2025-os-10y against wachtel2015: consistent (recorded)" in err
    check = _check(run, url)
    assert (check["status"], check["automatic_status"]) == ("consistent", "unverified")
    manual = check["manual"]
    assert isinstance(manual, list)
    assert manual == [{"reference_key": "wachtel2015", "status": "consistent",
                       "locator": "Table 2, p. 24", "quote": "10-year survival 31%",
                       "by": "carol", "at": manual[0]["at"]}]
    code, out, _ = run("verify", "--db", url, "--format", "table")
    row = next(line for line in out.splitlines() if CLAIM_ID in line)
    assert "consistent" in row and "unverified" in row
    assert "Consistent by hand (wachtel2015, Table 2, p. 24, by carol)" in out
    code, _, err = run("assess", CLAIM_ID, "--reference", "wachtel2015", "--status",
                       "inconsistent", "--by", "dan", "--db", url)
    assert code == 0 and "inconsistent (replaced)" in err
    assert _check(run, url)["status"] == "inconsistent"
    assert _history(built) == [("insert", "carol", "assess", "consistent"),
                               ("update", "dan", "assess", "inconsistent")]
    code, out, _ = run("history", CLAIM_ID, "--db", url)
    assert code == 0 and "assess,assessment" in out and "status=inconsistent" in out
    code, out, _ = run("history", "--reference", "wachtel2015", "--db", url)
    assert code == 0 and out.count("assess,assessment") == 2


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(("--reference", "3", "--status", "fine"), 2, "unknown status 'fine'",
                 id="bad-status"),
    pytest.param(("--reference", "nayyar2010", "--status", "consistent"), 1,
                 "does not cite 'nayyar2010'", id="not-cited"),
])
def test_refusals(run: CliRun, built: Database, args: tuple[str, ...], code: int,
                  message: str) -> None:
    got, _, err = run("assess", CLAIM_ID, *args, "--db", built.url)
    assert got == code and message in err and "Traceback" not in err


def test_unknown_claim(run: CliRun, built: Database) -> None:
    code, _, err = run("assess", "no-such", "--reference", "3", "--status", "consistent",
                       "--db", built.url)
    assert code == 1 and "no claim 'no-such' in review li2025" in err


def test_the_csv_loads_idempotently(run: CliRun, built: Database, tmp_path: Path) -> None:
    path = tmp_path / "assessments.csv"
    path.write_text(HEADER + f'{CLAIM_ID},li2025,nooromid2022,inconsistent,"Table 3, p. 5",'
                    '"10-year OS 12%",erin,2026-11-01T10:00:00+00:00\n', encoding="utf-8")
    code, _, err = run("load", "--db", built.url, "--assessments", str(path), "--by", "lead")
    assert code == 0, err
    assert "1 added" in err
    check = _check(run, built.url)
    assert check["status"] == "inconsistent" and check["automatic_status"] == "unverified"
    counts = table_counts(built)
    code, _, err = run("load", "--db", built.url, "--assessments", str(path))
    assert code == 0 and "0 added" in err and "1 unchanged" in err
    assert table_counts(built) == {**counts, "load_event": counts["load_event"] + 1}
    assert _history(built) == [("insert", "lead", "load", "inconsistent")]  # who loaded
    assert check["manual"][0]["by"] == "erin"  # type: ignore[index]


@pytest.mark.parametrize(("row", "message"), [
    pytest.param(f"{CLAIM_ID},li2025,wachtel2015,fine,,,,", ":2: li2025-os-10y: error "
                 "[bad-value]: unknown status 'fine'", id="unknown-status"),
    pytest.param("no-such,li2025,wachtel2015,consistent,,,,", ":2: no-such: error "
                 "[bad-value]: no claim 'no-such' in review li2025", id="unknown-claim"),
    pytest.param(f"{CLAIM_ID},li2025,,consistent,,,,", ":2: li2025-os-10y: error "
                 "[missing-field]: 'reference_key' is empty", id="missing-reference"),
    pytest.param(f"{CLAIM_ID},li2025,nayyar2010,consistent,,,,", ":2: li2025-os-10y: error "
                 "[unknown-reference]: claim 'li2025-os-10y' does not cite 'nayyar2010'",
                 id="not-cited"),
    pytest.param(f"{CLAIM_ID},li2099,wachtel2015,consistent,,,,", ":2: li2025-os-10y: error "
                 "[unknown-review]: unknown review 'li2099'", id="unknown-review"),
])
def test_bad_rows_are_refused(run: CliRun, built: Database, tmp_path: Path, row: str,
                              message: str) -> None:
    path = tmp_path / "assessments.csv"
    good = f"{CLAIM_ID},li2025,wachtel2015,consistent,,,,\n"
    path.write_text(HEADER + row + "\n" + good, encoding="utf-8")
    counts = table_counts(built)
    code, _, err = run("load", "--db", built.url, "--assessments", str(path))
    assert code == 1 and f"{path}{message}" in err and "nothing was written" in err, err
    assert table_counts(built) == counts
