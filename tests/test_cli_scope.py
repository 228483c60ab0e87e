"""Every command is scoped by review and refuses ambiguity (issue 12, item 5).

A database holding li2025 (data/) and a small made-up second review (tests/data/
second_review: its own claim ids and citekeys) is compared with one holding li2025 alone.
`--review ID`, else `$IVCDB_REVIEW`, else the only loaded review; commands printing one
review's numbered evidence refuse (exit 2, naming every review) when several are loaded and
none is chosen; a chosen review's output is byte for byte the single-review output.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ENGINES, TESTDATA, CliRunBytes, shared_database

from ivcdb.db import Database

SECOND = TESTDATA / "second_review"
AMBIGUOUS = ("error: 2 reviews are loaded (li2025, other2026); name one with --review ID or "
             "$IVCDB_REVIEW\n")


def _load_second(database: Database, _folder: Path) -> None:
    from ivcdb.loaders import Sources, load

    load(database, Sources(reviews=[SECOND / "review.toml"],
                           references=[SECOND / "references.bib"],
                           claims=[SECOND / "claims.csv"], findings=[SECOND / "findings.csv"]))


@pytest.fixture(scope="module", params=ENGINES)
def dbs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        pg_admin: sa.Engine | None) -> Iterator[tuple[str, str]]:
    """(URL of li2025 alone, URL of li2025 plus other2026) on one engine; tests only read."""
    with shared_database(request.param, tmp_path_factory, pg_admin) as one, \
            shared_database(request.param, tmp_path_factory, pg_admin, _load_second) as two:
        yield one.url, two.url


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


# --- one review's numbered evidence: refused when ambiguous -----------------------------------


NUMBERED = [
    pytest.param(("table", "overall_survival_5y"), id="table"),
    pytest.param(("refs",), id="refs"),
    pytest.param(("refs", "--style", "vancouver"), id="refs-style"),
    pytest.param(("plot", "outcome", "overall_survival_5y"), id="plot-outcome"),
    pytest.param(("plot", "map"), id="plot-map"),
    pytest.param(("plot", "forest", "overall_survival_5y"), id="plot-forest"),
    pytest.param(("summary",), id="summary"),
    pytest.param(("table", "overall_survival_5y", "--studies"), id="table-studies"),
]


def _with_output(args: tuple[str, ...], folder: Path) -> tuple[str, ...]:
    return (*args, "--output", str(folder / "chart.svg")) if args[0] == "plot" else args


@pytest.mark.parametrize("args", NUMBERED)
def test_numbered_evidence_refuses_several_reviews(dbs: tuple[str, str], args: tuple[str, ...],
                                                   cli_bytes: CliRunBytes,
                                                   tmp_path: Path) -> None:
    code, out, err = cli_bytes(*_with_output(args, tmp_path), "--db", dbs[1])
    assert (code, out, err) == (2, b"", AMBIGUOUS)
    assert not (tmp_path / "chart.svg").exists()


@pytest.mark.parametrize("args", [pytest.param(("table", "overall_survival_5y"), id="table"),
                                  pytest.param(("table", "overall_survival_5y", "--studies"),
                                               id="table-studies"),
                                  pytest.param(("summary",), id="summary"),
                                  pytest.param(("summary", "--format", "latex"),
                                               id="summary-latex"),
                                  pytest.param(("refs",), id="refs"),
                                  pytest.param(("refs", "--format", "latex"), id="refs-latex")])
def test_a_chosen_review_prints_what_it_prints_alone(dbs: tuple[str, str],
                                                     args: tuple[str, ...],
                                                     cli_bytes: CliRunBytes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    alone = cli_bytes(*args, "--db", dbs[0])
    assert alone[0] == 0 and alone[1]
    assert cli_bytes(*args, "--db", dbs[1], "--review", "li2025") == alone
    monkeypatch.setenv("IVCDB_REVIEW", "li2025")
    assert cli_bytes(*args, "--db", dbs[1]) == alone
    assert cli_bytes(*args, "--db", dbs[0]) == alone


@pytest.mark.parametrize("kind", ["outcome", "map", "forest"])
def test_a_chosen_review_draws_what_it_draws_alone(dbs: tuple[str, str], kind: str,
                                                   cli_bytes: CliRunBytes,
                                                   tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    codes = ("overall_survival_5y",) if kind in ("outcome", "forest") else ()
    charts = []
    for url, review in ((dbs[0], ()), (dbs[1], ("--review", "li2025")),
                        (dbs[1], ("--review", "other2026"))):
        path = tmp_path / f"{len(charts)}.svg"
        code, _, _ = cli_bytes("plot", kind, *codes, "--output", str(path), "--db", url, *review)
        assert code == 0
        charts.append(path.read_bytes())
    assert charts[1] == charts[0]
    assert charts[2] != charts[0]


def test_the_environment_names_the_review(dbs: tuple[str, str], cli_bytes: CliRunBytes,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVCDB_REVIEW", "other2026")
    code, out, err = cli_bytes("refs", "--format", "text", "--db", dbs[1])
    assert (code, err) == (0, "")
    assert [line.split(" ", 2)[:2] for line in out.decode().splitlines()] == [
        ["[1]", "Alpha"], ["[2]", "Beta"]]
    # --review wins over the environment; a review the database lacks is refused
    assert cli_bytes("refs", "--db", dbs[1], "--review", "li2025") == cli_bytes(
        "refs", "--db", dbs[0], "--review", "li2025")
    assert cli_bytes("refs", "--db", dbs[0]) == (
        2, b"", "error: unknown review 'other2026'; loaded reviews: li2025\n")


@pytest.mark.parametrize("args", [
    pytest.param(("refs",), id="refs"),
    pytest.param(("table", "overall_survival_5y"), id="table"),
    pytest.param(("plot", "outcome", "overall_survival_5y"), id="plot"),
    pytest.param(("show", "3"), id="show"),
    pytest.param(("verify",), id="verify"),
    pytest.param(("check",), id="check"),
    pytest.param(("query", "claims"), id="query-claims"),
    pytest.param(("query", "outcomes"), id="query-outcomes"),
    pytest.param(("export", "claims"), id="export-claims"),
    pytest.param(("export", "references", "--format", "bibtex"), id="export-bibtex"),
    pytest.param(("export", "outcomes"), id="export-outcomes"),
])
@pytest.mark.parametrize("from_env", [False, True], ids=["option", "env"])
def test_an_unknown_review_exits_2_naming_the_loaded_ones(
        dbs: tuple[str, str], args: tuple[str, ...], from_env: bool, cli_bytes: CliRunBytes,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if from_env:
        monkeypatch.setenv("IVCDB_REVIEW", "li2024")
    chosen = () if from_env else ("--review", "li2024")
    code, out, err = cli_bytes(*_with_output(args, tmp_path), "--db", dbs[1], *chosen)
    assert (code, out) == (2, b"")
    assert err == ("error: unknown review 'li2024' (did you mean 'li2025'?); loaded reviews: "
                   "li2025, other2026\n")


# --- commands covering every review unless one is chosen --------------------------------------


@pytest.mark.parametrize("args", [
    pytest.param(("export", "claims"), id="claims"),
    pytest.param(("export", "claims", "--long"), id="claims-long"),
    pytest.param(("export", "claims", "--format", "json"), id="claims-json"),
    pytest.param(("export", "citations"), id="citations"),
    pytest.param(("export", "outcomes"), id="outcomes"),
    pytest.param(("export", "units"), id="units"),
    pytest.param(("export", "measures"), id="measures"),
    pytest.param(("query", "claims"), id="query-claims"),
    pytest.param(("query", "claims", "--reference", "3"), id="query-claims-number"),
    pytest.param(("query", "outcomes"), id="query-outcomes"),
    pytest.param(("verify", "--format", "json"), id="verify-json"),
    pytest.param(("verify", "--format", "markdown"), id="verify-markdown"),
    pytest.param(("show", "3", "--format", "json"), id="show"),
    pytest.param(("check",), id="check"),
])
def test_a_chosen_review_is_byte_identical_to_it_alone(dbs: tuple[str, str],
                                                       args: tuple[str, ...],
                                                       cli_bytes: CliRunBytes,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    alone = cli_bytes(*args, "--db", dbs[0], "--review", "li2025")
    assert alone[0] == 0 and alone[1] + alone[2].encode()
    assert cli_bytes(*args, "--db", dbs[1], "--review", "li2025") == alone
    monkeypatch.setenv("IVCDB_REVIEW", "li2025")
    assert cli_bytes(*args, "--db", dbs[1]) == alone


@pytest.mark.parametrize("args", [
    pytest.param(("export", "claims"), id="claims"),
    pytest.param(("export", "citations"), id="citations"),
    pytest.param(("verify", "--format", "json"), id="verify-json"),
    pytest.param(("query", "claims"), id="query-claims"),
    pytest.param(("show", "3", "--format", "json"), id="show"),
])
def test_one_loaded_review_is_the_default(dbs: tuple[str, str], args: tuple[str, ...],
                                          cli_bytes: CliRunBytes) -> None:
    assert cli_bytes(*args, "--db", dbs[0]) == cli_bytes(*args, "--db", dbs[0], "--review",
                                                         "li2025")


def test_unscoped_exports_cover_every_review(dbs: tuple[str, str],
                                             cli_bytes: CliRunBytes) -> None:
    def export(kind: str, *more: str) -> list[dict[str, str]]:
        code, out, err = cli_bytes("export", kind, "--db", dbs[1], *more)
        assert (code, err) == (0, "")
        return _rows(out)

    claims = export("claims")
    assert {c["review"] for c in claims} == {"li2025", "other2026"}
    assert [c["claim_id"] for c in export("claims", "--review", "other2026")] == [
        "other-os-5y", "other-recurrence"]
    references = export("references")
    assert [(r["review"], r["number"], r["key"]) for r in references[-2:]] == [
        ("other2026", "1", "alpha2020"), ("other2026", "2", "beta2021")]
    assert [r["review"] for r in references[:18]] == ["li2025"] * 18
    findings = export("findings")
    assert list(findings[0])[:2] == ["review", "finding_id"]
    assert [(f["review"], f["reference_key"], f["reference_number"])
            for f in findings if f["review"] == "other2026"] == [("other2026", "alpha2020", "1")]
    assert {r["review"] for r in export("citations", "--review", "other2026")} == {"other2026"}
    # the shared vocabulary: whole unless a review is named, then the codes its claims use
    assert [o["code"] for o in export("outcomes", "--review", "other2026")] == [
        "overall_survival_5y", "recurrence"]
    assert [u["code"] for u in export("units", "--review", "other2026")] == ["percent"]
    assert len(export("outcomes")) > 2


def test_query_claims_by_review(dbs: tuple[str, str], cli_bytes: CliRunBytes) -> None:
    code, out, _ = cli_bytes("query", "claims", "--review", "other2026", "--db", dbs[1])
    assert code == 0
    assert [(c["claim_id"], c["reference_numbers"]) for c in _rows(out)] == [
        ("other-os-5y", "2;1"), ("other-recurrence", "1")]
    _, everything, _ = cli_bytes("query", "claims", "--db", dbs[1])
    assert {c["review"] for c in _rows(everything)} == {"li2025", "other2026"}
    code, out, _ = cli_bytes("query", "outcomes", "--review", "other2026", "--db", dbs[1])
    assert [(o["code"], o["claims"]) for o in _rows(out)] == [("overall_survival_5y", "1"),
                                                              ("recurrence", "1")]


def test_check_reports_the_chosen_review_only(dbs: tuple[str, str],
                                              cli_bytes: CliRunBytes) -> None:
    def check(*review: str) -> str:
        code, out, err = cli_bytes("check", "--db", dbs[1], *review)
        assert code == 0
        return out.decode() + err

    everything, other, li = check(), check("--review", "other2026"), check("--review", "li2025")
    # other2026 cites [2] before [1]: its problem, not li2025's
    assert "review 'other2026'" in other and "review 'other2026'" in everything
    assert "other2026" not in li and "alpha2020" not in li
    assert all("other" in line or line.startswith("check:") for line in other.splitlines())


def test_a_snapshot_of_one_review(dbs: tuple[str, str], cli_bytes: CliRunBytes,
                                  tmp_path: Path) -> None:
    target = tmp_path / "other.sqlite"
    code, _, err = cli_bytes("snapshot", "--to", str(target), "--db", dbs[1],
                             "--review", "other2026")
    assert code == 0, err
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT code FROM review").fetchall() == [("other2026",)]
        assert conn.execute("SELECT DISTINCT review FROM claims_view").fetchall() == [
            ("other2026",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    code, _, err = cli_bytes("snapshot", "--to", str(tmp_path / "x.sqlite"), "--db", dbs[1],
                             "--review", "nope")
    assert code == 2 and "loaded reviews: li2025, other2026" in err
