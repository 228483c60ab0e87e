"""ivcdb.meta.rma against R's metafor on its example data sets.

The reference values are fixtures written by scripts/metafor_fixtures.R (tests/data/metafor):
with the tight control (REML threshold 1e-12, stepadj 0.5, maxiter 10000) every figure agrees
to 6 significant digits and DL's to 1e-10; with metafor's default control REML agrees to
1e-4 relative. Where Rscript exists the script is run again and compared (without R it skips,
except under CI=true, where .ci/run installs R and metafor and a missing R is a failure).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IN_CI, ROOT

from ivcdb.meta import (
    Control,
    MetaError,
    RmaResult,
    log_ratio,
    logit_proportion,
    mean_effect,
    percent_from_logit,
    rma,
    zeroin,
)

FIXTURES = ROOT / "tests" / "data" / "metafor"
SCRIPT = ROOT / "scripts" / "metafor_fixtures.R"
TIGHT = Control(threshold=1e-12, stepadj=0.5, maxiter=10000)
FIGURES = ("estimate", "se", "stat", "p", "ci_low", "ci_high", "pi_low", "pi_high", "tau2",
           "se_tau2", "i2", "h2", "q", "q_p")
SETS = sorted(p.stem for p in FIXTURES.glob("*.json"))


def _load(name: str, folder: Path = FIXTURES) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _fit(data: dict[str, Any], fit: dict[str, Any]) -> RmaResult:
    control = TIGHT if fit["control"] == "tight" else Control()
    return rma(data["yi"], data["vi"], method=fit["method"], test=fit["test"], control=control)


def _tolerance(fit: dict[str, Any]) -> dict[str, float]:
    if fit["control"] == "default":
        return {"rel": 1e-4, "abs": 1e-12}
    if fit["method"] == "DL":
        return {"rel": 1e-10, "abs": 1e-12}
    return {"rel": 5e-7, "abs": 1e-12}  # six significant digits


def _assert_matches(ours: RmaResult, fit: dict[str, Any], where: str) -> None:
    tol = _tolerance(fit)
    for name in FIGURES:
        assert getattr(ours, name) == pytest.approx(fit[name], **tol), f"{where}: {name}"
    assert ours.weights == pytest.approx(fit["weights"], **tol), f"{where}: weights"


def test_at_least_five_example_data_sets() -> None:
    assert len(SETS) >= 5
    for name in SETS:
        fits = {(f["method"], f["test"], f["control"]) for f in _load(name)["fits"]}
        assert fits >= {(m, t, "tight") for m in ("REML", "DL", "PM") for t in ("z", "knha")}
        assert {("REML", "z", "default"), ("REML", "knha", "default")} <= fits


@pytest.mark.parametrize("name", SETS)
def test_rma_equals_metafor(name: str) -> None:
    data = _load(name)
    for fit in data["fits"]:
        where = f"{name} {fit['method']} {fit['test']} {fit['control']}"
        _assert_matches(_fit(data, fit), fit, where)


def test_the_fixtures_cover_truncation_and_heterogeneity() -> None:
    tau2 = {name: [f["tau2"] for f in _load(name)["fits"]] for name in SETS}
    assert any(all(t == 0 for t in values) for values in tau2.values())  # τ² truncated at 0
    assert sum(all(t > 0 for t in values) for values in tau2.values()) >= 4


def test_plo_is_metafor_escalc_with_a_half_added_at_0_or_n() -> None:
    data = _load("pritz1997")
    xi, ni = data["inputs"]["xi"], data["inputs"]["ni"]
    assert any(x == n for x, n in zip(xi, ni, strict=True))  # 10/10 and 12/12: ½ added
    for x, n, yi, vi in zip(xi, ni, data["yi"], data["vi"], strict=True):
        effect = logit_proportion(int(x), int(n))
        assert (effect.yi, effect.vi) == pytest.approx((yi, vi), rel=1e-12)
    assert logit_proportion(0, 10).yi == pytest.approx(math.log(0.5 / 10.5))
    assert logit_proportion(3, 10).vi == pytest.approx(1 / 3 + 1 / 7)


def test_log_ratio_se_from_its_confidence_interval() -> None:
    data = _load("hackshaw1998")  # published odds ratios with their 95% CIs
    i = data["inputs"]
    for ratio, low, high, yi, vi in zip(i["or"], i["or_lb"], i["or_ub"], data["yi"],
                                        data["vi"], strict=True):
        effect = log_ratio(ratio, low, high)
        assert (effect.yi, effect.vi) == pytest.approx((yi, vi), rel=1e-9)
    assert log_ratio(0.79, 0.6, 0.9, level=90).sei == pytest.approx(
        (math.log(0.9) - math.log(0.6)) / (2 * 1.6448536269514722))


def test_back_transform_to_percent() -> None:
    assert percent_from_logit(0.0) == 50.0
    assert percent_from_logit(logit_proportion(3, 4).yi) == pytest.approx(75.0)
    assert mean_effect(4.5, 2.0).vi == 4.0


@pytest.mark.parametrize(("call", "message"), [
    (lambda: rma([0.1], [0.01]), "at least two"),
    (lambda: rma([0.1, 0.2], [0.01, 0.0]), "positive"),
    (lambda: rma([0.1, math.nan], [0.01, 0.02]), "finite"),
    (lambda: logit_proportion(11, 10), "between 0 and n"),
    (lambda: log_ratio(2.0, 0.5, 1.5), "hold it"),
    (lambda: mean_effect(1.0, 0.0), "positive"),
    (lambda: rma([0.0, 1.0, 2.0], [0.1, 0.1, 0.1], method="HS"), "unknown method"),  # type: ignore[arg-type]
], ids=["one-study", "zero-variance", "nan", "events-over-n", "ratio-outside-ci", "zero-se",
        "method"])
def test_refusals_say_why(call: Any, message: str) -> None:
    with pytest.raises(MetaError, match=message):
        call()


def test_reml_that_cannot_converge_says_so() -> None:
    data = _load("bcg")
    with pytest.raises(MetaError, match="did not converge"):
        rma(data["yi"], data["vi"], control=Control(maxiter=1, threshold=1e-15))


def test_knapp_hartung_scale_factor_is_not_truncated() -> None:
    # Nearly homogeneous effects: the KH factor is below 1, so its CI is narrower than z's
    # would be with t alone (metafor's test="knha"; "adhoc" would truncate it at 1).
    yi, vi = [0.10, 0.11, 0.09, 0.10], [0.04, 0.05, 0.04, 0.06]
    z, kh = rma(yi, vi, method="DL"), rma(yi, vi, method="DL", test="knha")
    assert kh.se < z.se


@pytest.mark.parametrize(("f", "interval", "tol", "root", "iterations"), [
    (lambda x: x**3 - 2, (0.0, 2.0), (2.0**-52) ** 0.25, 1.2599338350608136, 5),
    (lambda x: math.exp(x) - 5 + x, (-3.0, 4.0), 1e-3, 1.3065351081569643, 7),
], ids=["cube-root", "loose-tol"])
def test_zeroin_stops_where_r_uniroot_stops(f: Any, interval: tuple[float, float], tol: float,
                                            root: float, iterations: int) -> None:
    # R 4: r <- uniroot(f, interval, tol = tol); sprintf("%.17g", r$root); r$iter
    low, high = interval
    assert zeroin(f, low, high, f(low), f(high), tol=tol, maxiter=1000) == (root, iterations)


def test_statsmodels_agrees_on_dl_and_pm_except_truncation() -> None:
    """statsmodels' combine_effects has DL and PM (no REML); with PM's root found to 1e-12
    both agree with ivcdb, except that its DL leaves a negative τ² untruncated."""
    from statsmodels.stats.meta_analysis import combine_effects

    exact = Control(tol=1e-12)
    for name in SETS:
        data = _load(name)
        for method, sm in (("DL", "dl"), ("PM", "pm")):
            ours = rma(data["yi"], data["vi"], method=method, control=exact)  # type: ignore[arg-type]
            with np.errstate(invalid="ignore"):  # its SE of a negative τ²: sqrt of < 0
                theirs = combine_effects(np.array(data["yi"]), np.array(data["vi"]),
                                         method_re=sm)
            if ours.tau2 == 0 and theirs.tau2 < 0:
                assert method == "DL" and name == "hine1989"
                continue
            assert ours.tau2 == pytest.approx(theirs.tau2, rel=1e-6, abs=1e-9)
            assert ours.estimate == pytest.approx(theirs.mean_effect_re, rel=1e-6)


def test_regenerated_by_r_equals_the_fixtures(tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        if IN_CI:
            pytest.fail("CI=true but Rscript is missing (.ci/run installs r-cran-metafor)")
        pytest.skip("Rscript not installed: the stored metafor fixtures were checked instead")
    run = subprocess.run([rscript, str(SCRIPT), str(tmp_path)], capture_output=True,
                         text=True, timeout=300, check=False)
    if run.returncode != 0 and "metafor" in run.stderr and not IN_CI:
        pytest.skip(f"R has no metafor: {run.stderr.strip().splitlines()[-1]}")
    assert run.returncode == 0, run.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == SETS
    for name in SETS:
        live, stored = _load(name, tmp_path), _load(name)
        assert (live["yi"], live["vi"]) == (stored["yi"], stored["vi"])
        for fit, kept in zip(live["fits"], stored["fits"], strict=True):
            where = f"{name} {fit['method']} {fit['test']} {fit['control']} (live)"
            _assert_matches(_fit(live, fit), fit, where)
            for figure in FIGURES:
                assert fit[figure] == pytest.approx(kept[figure], rel=1e-9, abs=1e-12)
