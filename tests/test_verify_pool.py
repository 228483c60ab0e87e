"""`verify` sets each checkable claim against the pooled estimate of its own cited sources
(issue 14, item 4): `ivcdb.synthesis.pool_claims`, metafor's REML, and whether the claimed
figure or range holds the estimate and its CI.

`tests/data/pool_demo` (pool2026) is fictional: its `success` outcome carries metafor's
dat.pritz1997 counts (pooled in test_synthesis against metafor itself).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ENGINES, CliRun, shared_database
from loadkit import POOL_DEMO, edit_csv, load_pool_demo

from ivcdb import verify as verify_module
from ivcdb.db import Database
from ivcdb.synthesis import pool
from ivcdb.verify import ClaimCheck, PoolVerdict, Status, verify


@pytest.fixture(scope="module", params=ENGINES)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         pg_admin: sa.Engine | None) -> Iterator[Database]:
    """li2025 and the fictional pool2026 (read only)."""
    with shared_database(request.param, tmp_path_factory, pg_admin, load_pool_demo) as database:
        yield database


def _checks(database: Database, review: str = "pool2026") -> dict[str, ClaimCheck]:
    with database.session() as session:
        return {c.claim_id: c for c in verify(session, review=review)}


def test_pooled_estimate_is_the_pool_of_the_claims_sources(demo: Database) -> None:
    """`success` has one claim citing all 14 studies: its pool is `ivcdb pool success`."""
    pooled = _checks(demo)["pool2026-success"].pooled
    expected = pool(demo, "success", review="pool2026").pooled
    assert pooled is not None and expected is not None
    assert (pooled.estimate, pooled.ci_low, pooled.ci_high, pooled.k, pooled.method) == (
        expected.estimate, expected.ci_low, expected.ci_high, expected.k, "REML")


@pytest.mark.parametrize(("claim_id", "verdict", "says"), [
    pytest.param("pool2026-success", PoolVerdict.INSIDE, "pooled 76% (66–83%) of [1], [2], ",
                 id="estimate-and-ci-inside-65-90"),
    pytest.param("pool2026-survival", PoolVerdict.ESTIMATE_INSIDE,
                 "inside the claimed 70–80% (approximately 75%), but not its CI",
                 id="ci-60-82-leaves-70-80"),
    pytest.param("pool2026-exposure", PoolVerdict.OUTSIDE,
                 "outside the claimed 1.26–1.54 (approximately 1.4)", id="1.22-below-1.26"),
])
def test_pool_against_the_claimed_range(demo: Database, claim_id: str, verdict: PoolVerdict,
                                        says: str) -> None:
    check = _checks(demo)[claim_id]
    assert check.pooled is not None and check.pooled.verdict is verdict
    low, high = check.accepted_low, check.accepted_high
    assert low is not None and high is not None and check.pooled.estimate is not None
    inside = low <= check.pooled.estimate <= high
    assert inside == (verdict is not PoolVerdict.OUTSIDE)
    assert says in check.pooled.text and says[1:] in check.explanation  # "Pooled ..."


def test_a_claimed_ci_is_what_the_pool_is_set_against(tmp_path: Path) -> None:
    """`1.4 (1.1–1.8)` with bounds `ci`: the pooled 1.22 lies in the claimed CI, though not
    at the point value (the plain claim of 1.4 finds it outside)."""
    from ivcdb.db import open_db, upgrade
    from ivcdb.loaders import Sources, load

    folder = tmp_path / "demo"
    shutil.copytree(POOL_DEMO, folder)
    edit_csv(folder / "claims.csv", "claim_id", "pool2026-exposure", value_low="1.1",
             value_high="1.8", qualifier="", bounds="ci")
    upgrade(tmp_path / "ci.sqlite")
    database = open_db(tmp_path / "ci.sqlite")
    load(database, Sources.from_folder(folder))
    pooled = _checks(database)["pool2026-exposure"].pooled
    assert pooled is not None and pooled.verdict is not PoolVerdict.OUTSIDE
    assert "the claimed CI 1.1–1.8" in (pooled.text or "")


def test_nothing_pooled_says_why(demo: Database) -> None:
    """Medians are listed, never pooled: the follow-up claim gets the pool's reason."""
    pooled = _checks(demo)["pool2026-followup"].pooled
    assert pooled is not None and (pooled.estimate, pooled.verdict, pooled.k) == (None, None, 0)
    assert pooled.reason and "a median or IQR" in pooled.reason
    assert pooled.text.startswith("not pooled: none of the cited studies")


def test_only_checkable_claims_are_pooled(demo: Database) -> None:
    checks = _checks(demo, review="li2025")
    assert all((c.pooled is None) == (c.status is Status.NOT_ASSESSABLE) for c in checks.values())
    five = checks["li2025-os-5y"].pooled  # [3] and [5]: Kaplan-Meier figures without SE
    assert five is not None and five.estimate is None and five.reason
    assert "Kaplan-Meier" in five.reason


def test_without_the_synthesis_extra_nothing_is_pooled(demo: Database,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "missing", lambda _extra: ["scipy"])
    checks = _checks(demo)
    assert {c.pooled for c in checks.values()} == {None}
    assert "pooled" not in checks["pool2026-success"].explanation.lower()


def test_json_pooled_object(demo: Database, cli: CliRun) -> None:
    code, out, _ = cli("verify", "--db", demo.url, "--review", "pool2026", "--format", "json")
    assert code == 0
    checks = {c["claim_id"]: c for c in json.loads(out)}
    pooled = checks["pool2026-success"]["pooled"]
    assert {"estimate", "ci_low", "ci_high", "k", "method", "verdict"} <= set(pooled)
    assert (pooled["k"], pooled["method"], pooled["verdict"]) == (14, "REML", "inside")
    assert pooled["ci_low"] < pooled["estimate"] < pooled["ci_high"]


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_pool_in_every_format(demo: Database, cli: CliRun, fmt: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = cli("verify", "--db", demo.url, "--review", "pool2026", "--format", fmt,
                       "--outcome", "survival_3y")
    assert code == 0
    flat = " ".join(out.split())
    assert "ooled 72% (60–82%) of [1], [2], [4] (k = 3, REML)" in flat
    if fmt == "csv":
        (row,) = csv.DictReader(io.StringIO(out))
        assert "but not its CI" in row["explanation"]
