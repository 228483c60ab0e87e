"""`ivcdb query outcomes`, `ivcdb query claims` and `ivcdb show`: formats, errors, the curated data.

Commands run in-process through `ivcdb.cli.main` (what the console entry point runs, so
library errors become one line and an exit code); the piped and terminal defaults run a
real process.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA, CliRun

from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.db import Database

Run = tuple[int, str, str]
Invoke = Callable[..., Run]


@pytest.fixture
def run(cli: CliRun) -> Invoke:
    """Run `ivcdb ARGS...` in-process: (exit code, stdout, stderr)."""
    return cli


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def curated(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- query claims -----------------------------------------------------------------------------


def test_five_year_survival_from_the_curated_data(shared_built: Database, run: Invoke) -> None:
    code, out, err = run("query", "claims", "--outcome", "overall_survival_5y",
                         "--db", shared_built.url)
    assert (code, err) == (0, "")
    rows = rows_of(out)
    assert len(rows) == 1
    row = rows[0]
    assert (row["value_low"], row["value_high"], row["unit"], row["reported"]) == (
        "40", "70", "percent", "40–70%")
    assert (row["reference_keys"], row["reference_numbers"]) == ("wachtel2015;nooromid2022",
                                                                 "3;5")


def test_claims_csv_is_the_claims_contract(shared_built: Database, run: Invoke) -> None:
    """Unfiltered CSV output has the columns and cells of data/claims.csv (sorted by id)."""
    code, out, _ = run("query", "claims", "--format", "csv", "--db", shared_built.url)
    assert code == 0
    assert out.splitlines()[0] == ",".join(CLAIM_COLUMNS)
    expected = sorted(curated("claims.csv"), key=lambda r: r["claim_id"].encode())
    later = dict.fromkeys([c for c in CLAIM_COLUMNS if c not in expected[0]], "")  # all empty
    assert rows_of(out) == [{**row, **later} for row in expected]
    assert {"reference_roles", "bounds"} <= set(later)


def test_claims_json(shared_built: Database, run: Invoke) -> None:
    code, out, _ = run("query", "claims", "--reference", "3", "--format", "json",
                       "--db", shared_built.url)
    assert code == 0
    rows = json.loads(out)
    assert rows and all(list(r) == list(CLAIM_COLUMNS) for r in rows)
    assert all("wachtel2015" in r["reference_keys"] for r in rows)
    survival = next(r for r in rows if r["claim_id"] == "li2025-os-5y")
    assert (survival["value_low"], survival["derived"], survival["paragraph"]) == (40, False, 3)
    assert (survival["reference_keys"], survival["reference_numbers"]) == (
        ["wachtel2015", "nooromid2022"], [3, 5])


def test_claims_table(shared_built: Database, run: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one line per row
    code, out, _ = run("query", "claims", "--text", "RÉSECTION", "--year-to", "2016",
                       "--format", "table", "--db", shared_built.url)
    assert code == 0
    assert "┃" in out and "li2025-os-5y" in out and "approximately 40–70%" in out


def test_claims_filters_combine(shared_built: Database, run: Invoke) -> None:
    _, every, _ = run("query", "claims", "--author", "Wachtel", "--db", shared_built.url)
    _, later, _ = run("query", "claims", "--author", "Wachtel", "--year-from", "2016",
                      "--db", shared_built.url)
    _, limited, _ = run("query", "claims", "--author", "Wachtel", "--limit", "2",
                        "--db", shared_built.url)
    assert len(rows_of(every)) > 2
    assert rows_of(later) == []
    assert rows_of(limited) == rows_of(every)[:2]


def _ids(out: str) -> list[str]:
    return [r["claim_id"] for r in rows_of(out)]


def test_a_repeated_outcome_matches_any_of_them(shared_built: Database, run: Invoke) -> None:
    _, both, _ = run("query", "claims", "--outcome", "recurrence", "--outcome", "typical_age",
                     "--db", shared_built.url)
    _, one, _ = run("query", "claims", "--outcome", "recurrence", "--db", shared_built.url)
    _, other, _ = run("query", "claims", "--outcome", "typical_age", "--db", shared_built.url)
    assert _ids(both) == sorted(_ids(one) + _ids(other))
    assert {r["outcome"] for r in rows_of(both)} == {"recurrence", "typical_age"}


@pytest.mark.parametrize(("option", "first", "second"), [
    pytest.param("--reference", "wachtel2015", "liu2018", id="reference"),
    pytest.param("--reference", "3", "cananzi2016", id="number-and-citekey"),
    pytest.param("--author", "Wachtel", "Liu", id="author"),
])
def test_a_repeated_reference_filter_matches_any_of_them(
        shared_built: Database, run: Invoke, option: str, first: str, second: str) -> None:
    _, a, _ = run("query", "claims", option, first, "--db", shared_built.url)
    _, b, _ = run("query", "claims", option, second, "--db", shared_built.url)
    _, both, _ = run("query", "claims", option, first, option, second, "--db",
                     shared_built.url)
    assert _ids(a) and _ids(b) and not set(_ids(a)) & set(_ids(b))
    assert _ids(both) == sorted(_ids(a) + _ids(b))


def test_different_options_must_all_hold(shared_built: Database, run: Invoke) -> None:
    _, out, _ = run("query", "claims", "--outcome", "recurrence", "--outcome", "typical_age",
                    "--reference", "wachtel2015", "--reference", "liu2018",
                    "--db", shared_built.url)
    _, wachtel, _ = run("query", "claims", "--reference", "wachtel2015", "--db",
                        shared_built.url)
    assert set(_ids(out)) == {r["claim_id"] for r in rows_of(wachtel)
                              if r["outcome"] in ("recurrence", "typical_age")}
    assert _ids(out)


def test_an_unknown_value_among_several_is_an_error(shared_built: Database,
                                                    run: Invoke) -> None:
    code, out, err = run("query", "claims", "--outcome", "recurrence", "--outcome",
                         "recurence_rate", "--db", shared_built.url)
    assert (code, out) == (1, "")
    assert "unknown outcome 'recurence_rate'" in err


def test_the_table_names_the_studies(shared_built: Database, run: Invoke,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run("query", "claims", "--outcome", "overall_survival_5y", "--format",
                       "table", "--db", shared_built.url)
    assert code == 0
    assert "[3] Wachtel 2015; [5]" in out


# --- query outcomes ---------------------------------------------------------------------------


def test_outcomes(shared_built: Database, run: Invoke) -> None:
    code, out, _ = run("query", "outcomes", "--db", shared_built.url)
    assert code == 0
    rows = rows_of(out)
    assert {r["code"] for r in rows} == {r["code"] for r in curated("outcomes.csv")}
    assert sum(int(r["claims"]) for r in rows) == len(curated("claims.csv"))
    _, as_json, _ = run("query", "outcomes", "--format", "json", "--db", shared_built.url)
    assert [r["code"] for r in json.loads(as_json)] == [r["code"] for r in rows]


# --- show -------------------------------------------------------------------------------------


def test_show_piped_is_one_json_document(shared_built: Database, run: Invoke) -> None:
    code, out, _ = run("show", "wachtel2015", "--db", shared_built.url)
    assert code == 0
    detail = json.loads(out)
    assert "li2025-os-5y" in {c["claim_id"] for c in detail["claims"]}


def test_show_csv_blocks(shared_built: Database, run: Invoke) -> None:
    code, out, _ = run("show", "wachtel2015", "--db", shared_built.url, "--format", "csv")
    assert code == 0
    fields, claims, findings = out.split("\n\n")
    record = {r["field"]: r["value"] for r in rows_of(fields)}
    assert (record["citation"], record["year"], record["sample_size"]) == ("li2025 [3]", "2015",
                                                                            "377")
    assert record["authors"].startswith("Wachtel H; ")
    assert "li2025-os-5y" in {r["claim_id"] for r in rows_of(claims)}
    expected = [r for r in curated("findings.csv") if r["reference_key"] == "wachtel2015"]
    assert sorted(r["measure"] for r in rows_of(findings)) == sorted(
        r["measure"] for r in expected)
    assert {r["seen_at"] for r in rows_of(findings)} == {r["seen_at"] for r in expected}


def test_show_by_number_json_and_table(shared_built: Database, run: Invoke,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _, by_key, _ = run("show", "wachtel2015", "--format", "json", "--db", shared_built.url)
    code, by_number, _ = run("show", "3", "--format", "json", "--review", "li2025",
                             "--db", shared_built.url)
    assert code == 0 and json.loads(by_number) == json.loads(by_key)
    record = json.loads(by_key)
    assert record["citations"] == [{"review": "li2025", "number": 3}]
    assert {"claims", "findings", "authors", "title", "doi", "pmid"} <= set(record)
    monkeypatch.setenv("COLUMNS", "250")
    code, table, _ = run("show", "5", "--format", "table", "--db", shared_built.url)
    assert code == 0 and "nooromid2022" in table and "Findings reported by" in table


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message", "hint"), [
    pytest.param(("query", "claims", "--outcome", "overall_survival_5"), "unknown outcome",
                 "overall_survival_5y", id="outcome"),
    pytest.param(("query", "claims", "--reference", "wachtel2016"), "unknown reference",
                 "wachtel2015", id="reference"),
    pytest.param(("show", "nooromid2021"), "unknown reference", "nooromid2022", id="show"),
    pytest.param(("show", "99"), "no reference number 99", "(li2025 numbers 1-",
                 id="show-number"),
])
def test_unknown_names_exit_1_with_a_suggestion(shared_built: Database, run: Invoke,
                                                args: tuple[str, ...],
                                                message: str, hint: str) -> None:
    code, out, err = run(*args, "--db", shared_built.url)
    assert code == 1 and out == ""
    assert err.startswith(f"error: {message}") and hint in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_unknown_review_exits_2_naming_the_loaded_ones(shared_built: Database,
                                                       run: Invoke) -> None:
    code, out, err = run("query", "claims", "--review", "li2024", "--db", shared_built.url)
    assert (code, out) == (2, "")
    assert err == "error: unknown review 'li2024' (did you mean 'li2025'?); loaded reviews: " \
        "li2025\n"


def test_bad_options_exit_2(shared_built: Database, run: Invoke) -> None:
    for args in (("--limit", "0"), ("--format", "xml"), ("--year-from", "soon"),
                 ("--text", " ")):
        code, _, err = run("query", "claims", *args, "--db", shared_built.url)
        assert code == 2, args
        assert "Traceback" not in err


def test_missing_database_is_refused(tmp_path: Path, run: Invoke) -> None:
    missing = tmp_path / "missing.sqlite"
    for args in (("query", "claims"), ("query", "outcomes"), ("show", "3")):
        code, out, err = run(*args, "--db", str(missing))
        assert code == 1 and out == ""
        assert err.startswith("error: no database at") and "ivcdb build" in err
    assert not missing.exists()


# --- default format: CSV when piped, a table on a terminal ------------------------------------


def _command(db: Database, *args: str) -> list[str]:
    return [sys.executable, "-m", "ivcdb.cli", *args, "--db", db.url]


def test_piped_output_is_csv(shared_built: Database) -> None:
    done = subprocess.run(_command(shared_built, "query", "claims", "--outcome",
                                   "overall_survival_5y"),
                          capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[0] == ",".join(CLAIM_COLUMNS)


def test_terminal_output_is_a_table(shared_built: Database) -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    with subprocess.Popen(_command(shared_built, "query", "outcomes"), stdout=follower,
                          stderr=subprocess.PIPE, env=env) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    os.close(leader)
    out = b"".join(chunks).decode()
    assert "Outcomes" in out and "overall_survival_5y" in out
    assert "code,label" not in out  # not CSV



def test_piped_csv_neutralises_formulas(capsys: pytest.CaptureFixture[str]) -> None:
    """Text a spreadsheet would run as a formula gets a `'`; numbers, negative ones too, do not."""
    from ivcdb.render import emit

    emit([{"statement": "=HYPERLINK(1)", "value": -5}], ["statement", "value"], "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["statement", "value"], ["'=HYPERLINK(1)", "-5"]]


@pytest.mark.parametrize("columns", [80, 120])
def test_narrow_terminal_never_breaks_an_identifier(shared_built: Database, run: Invoke,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    columns: int) -> None:
    """Ids, codes and statuses stay on one line (whole, or cut with "…"); prose wraps."""
    monkeypatch.setenv("COLUMNS", str(columns))
    claims = {r["claim_id"] for r in curated("claims.csv")}
    outcomes = {r["code"] for r in curated("outcomes.csv") + curated("measures.csv")}
    for args in (("show", "3"), ("query", "claims"), ("verify",)):
        code, out, _ = run(*args, "--format", "table", "--db", shared_built.url)
        assert code == 0, args
        cells = [c.strip() for line in out.splitlines() for c in line.split("│")[1:-1]]
        assert max(len(line) for line in out.splitlines()) <= columns
        for text in cells:
            first = text.split(" ")[0]
            names = claims | outcomes
            broken = [n for n in names if first not in names and n.startswith(first)
                      and ("_" in first or "-" in first)]
            assert not broken, (args, first)  # a cut identifier ends with "…" instead
    code, out, _ = run("query", "claims", "--outcome", "overall_survival_5y", "--format",
                       "table", "--db", shared_built.url)
    assert "Even after radical" in out  # the statement keeps room to be read
    if columns >= 120:
        assert "overall_survival_5y" in out and "li2025-os-5y" in out


def test_author_as_show_prints_it_and_unknown_author(shared_built: Database, run: Invoke) -> None:
    _, by_family, _ = run("query", "claims", "--author", "Wachtel", "--db", shared_built.url)
    code, printed, _ = run("query", "claims", "--author", "Wachtel H", "--db", shared_built.url)
    assert code == 0 and printed == by_family and len(rows_of(printed)) > 0
    code, out, err = run("query", "claims", "--author", "Wachtl H", "--db", shared_built.url)
    assert code == 1 and out == ""
    assert err.startswith("error: no author 'Wachtl H' (did you mean 'Wachtel'")


def test_json_numbers_match_the_export(shared_built: Database, cli: CliRun) -> None:
    """`query claims --format json` writes 40, not 40.0, like `export claims --format json`."""
    code, out, err = cli("query", "claims", "--db", shared_built.url, "--outcome",
                         "overall_survival_5y", "--format", "json")
    assert code == 0, err
    (claim,) = json.loads(out)
    assert (claim["value_low"], claim["value_high"]) == (40, 70)
    assert isinstance(claim["value_low"], int)
    code, out, _ = cli("export", "claims", "--db", shared_built.url, "--format", "json")
    exported = {c["claim_id"]: c for c in json.loads(out)}
    assert exported["li2025-os-5y"]["value_low"] == claim["value_low"]
    # every claim: the same columns and values as the export, reference lists included
    code, out, _ = cli("query", "claims", "--db", shared_built.url, "--format", "json")
    assert {c["claim_id"]: c for c in json.loads(out)} == exported
