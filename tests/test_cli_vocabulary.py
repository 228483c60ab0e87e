"""`ivcdb vocabulary`: the shared codes, or those one review's claims and findings use."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, ENGINES, TESTDATA, CliRun, shared_database

from ivcdb.db import Database

SECOND = TESTDATA / "second_review"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _load_second(database: Database, _folder: Path) -> None:
    from ivcdb.loaders import Sources, load

    load(database, Sources(reviews=[SECOND / "review.toml"],
                           references=[SECOND / "references.bib"],
                           claims=[SECOND / "claims.csv"], findings=[SECOND / "findings.csv"]))


@pytest.fixture(scope="module", params=ENGINES)
def two(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        pg_admin: sa.Engine | None) -> Iterator[str]:
    """li2025 and the made-up other2026 in one database; tests only read."""
    with shared_database(request.param, tmp_path_factory, pg_admin, _load_second) as database:
        yield database.url


def _used(folder: Path) -> dict[str, set[str]]:
    """The codes a review folder's claims and findings use, read from its files and the
    curated outcomes (what `vocabulary --review` must list)."""
    outcomes = {o["code"]: o for o in _csv(DATA / "outcomes.csv")}
    claims, findings = _csv(folder / "claims.csv"), _csv(folder / "findings.csv")
    used_outcomes = {c["outcome"] for c in claims}
    units = {c["unit"] for c in claims} | {outcomes[o]["unit"] for o in used_outcomes}
    measures = {outcomes[o]["measure"] for o in used_outcomes}
    units |= {f["unit"] for f in findings}
    measures |= {f["measure"] for f in findings}
    # and what those declare related (recurrence -> disease_free_survival): its package loads
    related = {m["code"]: m["related"] for m in _csv(DATA / "measures.csv")}
    measures |= {r for m in measures for r in related.get(m, "").split(";")}
    return {"outcomes": used_outcomes, "units": units - {""}, "measures": measures - {""}}


def _rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


@pytest.mark.parametrize("folder", [DATA, SECOND], ids=["li2025", "other2026"])
def test_review_lists_the_codes_its_claims_and_findings_use(two: str, cli: CliRun,
                                                            folder: Path) -> None:
    review = "li2025" if folder == DATA else "other2026"
    code, out, err = cli("vocabulary", "--db", two, "--review", review, "--format", "csv")
    assert (code, err) == (0, "")
    found: dict[str, set[str]] = {"outcomes": set(), "units": set(), "measures": set()}
    for row in _rows(out):
        found[row["vocabulary"] + "s"].add(row["code"])
    assert found == _used(folder)


def test_a_measure_only_findings_use_is_listed(two: str, cli: CliRun) -> None:
    """li2025's findings report measures no outcome names: they are codes it uses."""
    outcome_measures = {o["measure"] for o in _csv(DATA / "outcomes.csv")}
    only_findings = {f["measure"] for f in _csv(DATA / "findings.csv")} - outcome_measures
    assert only_findings
    _, out, _ = cli("vocabulary", "--db", two, "--review", "li2025", "--kind", "measures",
                    "--format", "csv")
    assert only_findings <= {r["code"] for r in _rows(out)}


def test_without_review_every_code_with_its_meaning(two: str, cli: CliRun) -> None:
    code, out, _ = cli("vocabulary", "--db", two, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["vocabulary"] for r in rows] == sorted(
        (r["vocabulary"] for r in rows), key=["unit", "measure", "outcome"].index)
    for kind in ("units", "measures", "outcomes"):
        codes = [r["code"] for r in rows if r["vocabulary"] == kind[:-1]]
        assert codes == sorted((v["code"] for v in _csv(DATA / f"{kind}.csv")), key=str.encode)
    survival = next(r for r in rows if r["code"] == "overall_survival_5y")
    curated = next(o for o in _csv(DATA / "outcomes.csv") if o["code"] == "overall_survival_5y")
    assert (survival["label"], survival["kind"], survival["unit"], survival["measure"],
            survival["timepoint"]) == (curated["label"], curated["kind"], curated["unit"],
                                       curated["measure"], curated["timepoint"])
    family = next(r["family"] for r in rows if r["code"] == curated["measure"])
    assert family == next(m["family"] for m in _csv(DATA / "measures.csv")
                          if m["code"] == curated["measure"])


@pytest.mark.parametrize(("kind", "columns"), [
    ("outcomes", ["code", "label", "kind", "unit", "measure", "timepoint"]),
    ("units", ["code", "label"]),
    ("measures", ["code", "label", "family", "related"]),
])
def test_one_kind_has_its_own_columns(two: str, cli: CliRun, kind: str,
                                      columns: list[str]) -> None:
    _, out, _ = cli("vocabulary", "--db", two, "--kind", kind, "--review", "other2026",
                    "--format", "csv")
    assert out.splitlines()[0].split(",") == columns
    assert {r["code"] for r in _rows(out)} == _used(SECOND)[kind]


def test_an_unknown_review_exits_2_naming_the_loaded_ones(two: str, cli: CliRun) -> None:
    code, out, err = cli("vocabulary", "--db", two, "--review", "nobody")
    assert (code, out) == (2, "")
    assert "unknown review 'nobody'" in err and "li2025, other2026" in err
