"""`ivcdb export effects`: metafor-ready effect sizes that reproduce `ivcdb pool`.

One row per (review, outcome, finding) of the review's cited sources, `yi`/`vi` filled
exactly where `pool` pools the finding. statsmodels' combine_effects, ivcdb's rma and (where
Rscript exists; under CI=true it must) `metafor::rma(yi, vi, data=read.csv(...))` run on the
exported file give `pool`'s figures.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from conftest import ENGINES, IN_CI, CliRun, shared_database
from loadkit import load_pool_demo

from ivcdb.db import Database
from ivcdb.exports import export
from ivcdb.meta import rma
from ivcdb.synthesis import EFFECT_COLUMNS, pool

POOLED = ("success", "survival_3y", "exposure_or")




@pytest.fixture(scope="module", params=ENGINES)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         pg_admin: sa.Engine | None) -> Iterator[Database]:
    with shared_database(request.param, tmp_path_factory, pg_admin, load_pool_demo) as database:
        yield database


def _rows(database: Database, review: str = "pool2026") -> list[dict[str, str]]:
    text = export(database, "effects", review=review).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _effects(rows: list[dict[str, str]], outcome: str) -> tuple[list[float], list[float]]:
    chosen = [r for r in rows if r["outcome"] == outcome and r["yi"]]
    return [float(r["yi"]) for r in chosen], [float(r["vi"]) for r in chosen]


def _back(outcome: str, x: float) -> float:
    return math.exp(x) if outcome == "exposure_or" else 100 / (1 + math.exp(-x))


def test_columns_and_one_row_per_finding(demo: Database) -> None:
    text = export(demo, "effects", review="pool2026").decode("utf-8")
    assert text.splitlines()[0] == ",".join(EFFECT_COLUMNS)
    rows = _rows(demo)
    assert len({(r["review"], r["outcome"], r["finding_id"]) for r in rows}) == len(rows)
    success = [r for r in rows if r["outcome"] == "success"]
    assert len(success) == 17 and sum(1 for r in success if r["yi"]) == 14
    first = success[0]
    assert (first["claim_ids"], first["label"], first["xi"], first["ni"]) == (
        "pool2026-success", "Aalto 1991", "16", "17")
    assert float(first["yi"]) == pytest.approx(math.log(16 / 1))
    assert float(first["sei"]) ** 2 == pytest.approx(float(first["vi"]))
    skipped = [r for r in success if not r["yi"]]
    assert all(r["reason"] for r in skipped) and not any(r["reason"] for r in success
                                                        if r["yi"])


def test_json_export_has_typed_values(demo: Database) -> None:
    rows = json.loads(export(demo, "effects", review="pool2026", fmt="json"))
    assert list(rows[0]) == list(EFFECT_COLUMNS)
    assert rows[0]["claim_ids"] == ["pool2026-success"] or rows[0]["outcome"] != "success"
    assert any(isinstance(r["yi"], float) for r in rows)


@pytest.mark.parametrize("outcome", POOLED)
def test_statsmodels_and_rma_on_the_export_reproduce_pool(demo: Database, outcome: str) -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    yi, vi = _effects(_rows(demo), outcome)
    pooled = pool(demo, outcome, review="pool2026", method="DL").pooled
    assert pooled is not None and pooled.k == len(yi)
    theirs = combine_effects(np.array(yi), np.array(vi), method_re="dl")
    assert pooled.estimate == pytest.approx(_back(outcome, theirs.mean_effect_re), rel=1e-9)
    assert pooled.tau2 == pytest.approx(max(0.0, theirs.tau2), rel=1e-9, abs=1e-12)
    reml = pool(demo, outcome, review="pool2026").pooled
    fit = rma(yi, vi)
    assert reml is not None
    assert (reml.estimate, reml.ci_low, reml.pi_high) == pytest.approx(
        (_back(outcome, fit.estimate), _back(outcome, fit.ci_low),
         _back(outcome, fit.pi_high)), rel=1e-12)


def test_curated_export_lists_why_nothing_is_pooled(demo: Database) -> None:
    rows = [r for r in _rows(demo, "li2025") if r["outcome"] == "overall_survival_5y"]
    assert [(r["reference_key"], r["yi"]) for r in rows] == [
        ("wachtel2015", ""), ("wachtel2015", ""), ("nooromid2022", "")]
    assert rows[0]["reason"].startswith("a Kaplan-Meier survival estimate")


def test_cli_export_effects(cli: CliRun, demo: Database) -> None:
    code, out, err = cli("export", "effects", "--review", "pool2026", "--db", demo.url)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == ",".join(EFFECT_COLUMNS)


_R = """
suppressPackageStartupMessages(library(metafor))
d <- read.csv(commandArgs(TRUE)[1])
out <- c()
for (o in c({outcomes})) {{
  r <- rma(yi, vi, data = d[d$outcome == o, ])
  p <- predict(r)
  out <- c(out, sprintf("%s %.17g %.17g %.17g %.17g %.17g", o, r$beta[1], r$ci.lb, p$pi.ub,
                        r$tau2, r$I2))
}}
writeLines(out)
"""


def test_metafor_on_the_export_reproduces_pool(demo: Database, tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        if IN_CI:
            pytest.fail("CI=true but Rscript is missing (.ci/run installs r-cran-metafor)")
        pytest.skip("Rscript not installed")
    path = tmp_path / "effects.csv"
    path.write_bytes(export(demo, "effects", review="pool2026"))
    script = tmp_path / "pool.R"
    script.write_text(_R.format(outcomes=", ".join(f'"{o}"' for o in POOLED)),
                      encoding="utf-8")
    run = subprocess.run([rscript, str(script), str(path)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    for line in run.stdout.splitlines():
        outcome, *figures = line.split()
        beta, ci_low, pi_high, tau2, i2 = map(float, figures)
        pooled = pool(demo, outcome, review="pool2026").pooled
        assert pooled is not None
        assert (pooled.estimate, pooled.ci_low, pooled.pi_high) == pytest.approx(
            (_back(outcome, beta), _back(outcome, ci_low), _back(outcome, pi_high)), rel=1e-8)
        assert (pooled.tau2, pooled.i2) == pytest.approx((tau2, i2), rel=1e-8, abs=1e-12)
