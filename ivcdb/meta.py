"""Random-effects meta-analysis of one effect per study, as R's metafor computes it.

`rma(yi, vi)` follows metafor's `rma()` (an intercept-only model) and `predict()` step for
step, so its figures are metafor's: τ² by REML (Fisher scoring from the Hedges estimate, with
metafor's threshold, step adjustment, iteration limit and its check against τ² = 0),
DerSimonian-Laird (closed form) or Paule-Mandel (the root of the generalised Q, found by a
port of the Brent search R's `uniroot` runs); τ² truncated at 0; I² = 100·τ²/(τ² + s²) with
s² = (k−1)Σw/((Σw)² − Σw²); the CI and prediction interval by z, or with `test="knha"` by
Knapp-Hartung (its scale factor not truncated) with t on k−1 df. tests/test_meta.py checks
every figure against metafor's on its example data sets (scripts/metafor_fixtures.R).

Pure numerics: numpy and scipy's special functions (the `synthesis` extra). The effect-size
helpers put proportions, ratios and means on the scale they are pooled on, and back again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ivcdb.errors import IvcdbError

__all__ = ["METHODS", "TESTS", "Control", "Effect", "MetaError", "RmaResult", "expit",
           "log_ratio", "logit_proportion", "mean_effect", "percent_from_logit", "rma",
           "wilson", "z_crit", "zeroin"]

Method = Literal["REML", "DL", "PM"]
Test = Literal["z", "knha"]
METHODS: tuple[Method, ...] = ("REML", "DL", "PM")
TESTS: tuple[Test, ...] = ("z", "knha")

_EPS = float(np.finfo(float).eps)
_Array = NDArray[np.float64]


class MetaError(IvcdbError):
    """The effects cannot be pooled (too few, a variance not positive, no convergence)."""


@dataclass(frozen=True, slots=True)
class Control:
    """metafor's `control=` of `rma()`: REML's Fisher scoring (`threshold`, `stepadj`,
    `maxiter`) and Paule-Mandel's root search (`tol`, `maxiter`, `tau2_max`; None: metafor's
    max(100, 10·mad(yi)²))."""

    threshold: float = 1e-5
    stepadj: float = 1.0
    maxiter: int = 100
    tol: float = _EPS ** 0.25
    tau2_max: float | None = None


@dataclass(frozen=True, slots=True)
class RmaResult:
    """What metafor's `rma()` and `predict()` report for an intercept-only model.

    `stat` is z (or t with Knapp-Hartung), `p` its two-sided p; `weights` are percentages
    (metafor's `weights()`); `iterations` those of REML's scoring or the root search.
    """

    k: int
    method: Method
    test: Test
    level: float
    estimate: float
    se: float
    stat: float
    p: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    q: float
    q_p: float
    weights: tuple[float, ...]
    iterations: int = 0
    note: str | None = None  # metafor's warning, when it gives one


def rma(yi: Sequence[float] | _Array, vi: Sequence[float] | _Array, *,
        method: Method = "REML", test: Test = "z", level: float = 95,
        control: Control | None = None) -> RmaResult:
    """A random-effects model of effects `yi` with sampling variances `vi` (metafor's
    `rma(yi, vi, method=, test=, level=, control=)` and its `predict()`)."""
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = len(y)
    if method not in METHODS:
        raise MetaError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise MetaError(f"unknown test {test!r}; choose one of {', '.join(TESTS)}")
    if k < 2 or len(v) != k:
        raise MetaError(f"need at least two effects, each with its variance (got {k})")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise MetaError("every effect and variance must be finite, every variance positive")
    con = control or Control()
    fixed = 1.0 / v
    sum_w = float(fixed.sum())
    tr_p = sum_w - float((fixed**2).sum()) / sum_w  # trace of the fixed-effects P
    q = max(0.0, _rss(y, fixed))
    note = None
    if method == "DL":
        tau2 = max(0.0, (q - (k - 1)) / tr_p)
        iterations = 0
        pp = _sum_pp(fixed)
        se_tau2 = math.sqrt((2 * (k - 1) + 4 * tau2 * tr_p + 2 * tau2**2 * pp) / tr_p**2)
    elif method == "PM":
        tau2, iterations = _paule_mandel(y, v, con)
        w = 1.0 / (v + tau2)
        se_tau2 = math.sqrt(2 * k**2 / (k - 1) / float(w.sum()) ** 2)
    else:
        tau2, iterations, note = _reml(y, v, con)
        se_tau2 = math.sqrt(2 / _sum_pp(1.0 / (v + tau2)))
    w = 1.0 / (v + tau2)
    sum_rw = float(w.sum())
    estimate = float((w * y).sum()) / sum_rw
    vb = 1.0 / sum_rw
    if test == "knha":
        rss = float((w * (y - estimate) ** 2).sum())
        vb *= 0.0 if rss <= _EPS else rss / (k - 1)
    alpha = _alpha(level)
    if test == "knha":
        crit = float(-special.stdtrit(k - 1, alpha / 2))
    else:
        crit = z_crit(level)
    se = math.sqrt(vb)
    stat = estimate / se if se > 0 else math.copysign(math.inf, estimate)
    p = float(2 * special.stdtr(k - 1, -abs(stat)) if test == "knha"
              else 2 * special.ndtr(-abs(stat)))
    half_pi = crit * math.sqrt(vb + tau2)
    vt = (k - 1) / tr_p
    return RmaResult(
        k=k, method=method, test=test, level=level, estimate=estimate, se=se, stat=stat, p=p,
        ci_low=estimate - crit * se, ci_high=estimate + crit * se,
        pi_low=estimate - half_pi, pi_high=estimate + half_pi, tau2=tau2, se_tau2=se_tau2,
        i2=100 * tau2 / (vt + tau2), h2=tau2 / vt + 1, q=q,
        q_p=float(special.chdtrc(k - 1, q)),
        weights=tuple(float(x) for x in 100 * w / sum_rw), iterations=iterations, note=note)


def _alpha(level: float) -> float:
    """metafor's `.level()`: 95 and 0.95 both mean a 95% interval."""
    if level == 0:
        return 1.0
    if level >= 1:
        return (100 - level) / 100
    return 1 - level if level > 0.5 else level


def wilson(events: float, n: float, level: float = 95) -> tuple[float, float]:
    """The Wilson score interval of `events` out of `n`, as proportions (0-1).

    The closed form, z the normal quantile of a `level`% interval:
    (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n); statsmodels'
    `proportion_confint(method="wilson")` gives the same (tests/test_forest.py checks both and
    Newcombe 1998's published values).
    """
    z = z_crit(level)
    p = events / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    # 0 events: the lower bound is exactly 0, n events: the upper exactly 1 (the closed form
    # gives 0.9999999999999997, printed so in JSON and CSV)
    low = 0.0 if events == 0 else max(0.0, (centre - half) / scale)
    high = 1.0 if events == n else min(1.0, (centre + half) / scale)
    return low, high


def z_crit(level: float = 95) -> float:
    """The two-sided normal critical value of a `level`% interval (1.959964 for 95)."""
    return float(-special.ndtri(_alpha(level) / 2))


def _rss(y: _Array, w: _Array) -> float:
    """Σw(y − ȳ_w)²: Q at these weights."""
    mean = float((w * y).sum()) / float(w.sum())
    return float((w * (y - mean) ** 2).sum())


def _sum_pp(w: _Array) -> float:
    """tr(PP) = ΣP²ᵢⱼ of P = W − wwᵀ/Σw."""
    s = float(w.sum())
    s2 = float((w**2).sum())
    return s2 - 2 * float((w**3).sum()) / s + (s2 / s) ** 2


def _reml(y: _Array, v: _Array, con: Control) -> tuple[float, int, str | None]:
    """metafor's Fisher scoring for REML, from the Hedges (HE) estimate."""
    k = len(y)
    centred = y - y.mean()
    tau2 = max(0.0, (float((centred**2).sum()) - float(v.sum()) * (k - 1) / k) / (k - 1))
    change = con.threshold + 1
    iterations = 0
    while change > con.threshold:
        iterations += 1
        old = tau2
        w = 1.0 / (v + tau2)
        s = float(w.sum())
        py = w * (y - float((w * y).sum()) / s)
        tr_p = s - float((w**2).sum()) / s
        adj = (float((py**2).sum()) - tr_p) / _sum_pp(w) * con.stepadj
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        change = abs(old - tau2)
        if iterations > con.maxiter:
            raise MetaError("REML's Fisher scoring did not converge in "
                            f"{con.maxiter} iterations (raise maxiter or lower stepadj)")
    note = None
    if _reml_loglik(y, v, 0.0) - _reml_loglik(y, v, tau2) > con.tol and tau2 > con.threshold:
        note = "Fisher scoring may have stopped at a local maximum; tau2 set to 0 as metafor does"
        tau2 = 0.0
    return max(0.0, tau2), iterations, note


def _reml_loglik(y: _Array, v: _Array, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    return (-0.5 * (len(y) - 1) * math.log(2 * math.pi) - 0.5 * float(np.log(v + tau2).sum())
            - 0.5 * math.log(float(w.sum())) - 0.5 * _rss(y, w))


def _paule_mandel(y: _Array, v: _Array, con: Control) -> tuple[float, int]:
    """The τ² at which the generalised Q equals k − 1 (0 when Q(0) is below it)."""
    k = len(y)
    centred = y - y.mean()

    def excess(tau2: float) -> float:
        return _rss(centred, 1.0 / (v + tau2)) - (k - 1)

    at_zero = excess(0.0)
    if at_zero < 0:
        return 0.0, 0
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    top = con.tau2_max if con.tau2_max is not None else max(100.0, 10 * mad**2)
    at_top = excess(top)
    if at_top > 0:
        raise MetaError(f"Paule-Mandel: tau2 lies above tau2_max = {top:g}; raise tau2_max")
    root, iterations = zeroin(excess, 0.0, top, at_zero, at_top, tol=con.tol,
                              maxiter=con.maxiter)
    return root, iterations


def zeroin(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, *,
           tol: float, maxiter: int) -> tuple[float, int]:
    """Brent's root search exactly as R's `uniroot` runs it (`R_zeroin2`), so the root it
    stops at, `tol` away from the true one at most, is the one metafor reports.

    scipy's `brentq` stops elsewhere within the tolerance; metafor's PM default `tol`
    (eps^0.25, about 1e-4) makes that visible in the sixth digit. Returns the root and the
    iterations (−1: not converged in `maxiter`, as R warns and still returns it).
    """
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0.0:
        return a, 0
    if fb == 0.0:
        return b, 0
    left = maxiter + 1
    while left:
        left -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, maxiter - left
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, -1


# --- effect sizes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Effect:
    """One study's effect on the pooled scale: `yi` with its sampling variance `vi`."""

    yi: float
    vi: float

    @property
    def sei(self) -> float:
        return math.sqrt(self.vi)


def logit_proportion(events: int, n: int, *, add: float = 0.5) -> Effect:
    """metafor's `escalc(measure="PLO")` with its defaults (add=1/2, to="only0"): the logit of
    events/n, `add` given to events and non-events only when events is 0 or n."""
    if n <= 0 or not 0 <= events <= n:
        raise MetaError(f"events must lie between 0 and n, and n be positive ({events}/{n})")
    x, m = float(events), float(n - events)
    if events in (0, n):
        x, m = x + add, m + add
    return Effect(math.log(x / m), 1 / x + 1 / m)


def log_ratio(ratio: float, low: float, high: float, *, level: float = 95) -> Effect:
    """A ratio (hazard, odds, risk) on the log scale, its SE from a `level`% CI:
    (log high − log low)/(2·z)."""
    if not 0 < low <= ratio <= high:
        raise MetaError(f"a ratio's CI must be positive and hold it ({ratio}, {low}–{high})")
    se = (math.log(high) - math.log(low)) / (2 * z_crit(level))
    return Effect(math.log(ratio), se**2)


def mean_effect(mean: float, se: float) -> Effect:
    """A mean (or mean difference) on its own scale."""
    if not se > 0:
        raise MetaError(f"a mean's standard error must be positive ({se})")
    return Effect(mean, se**2)


def expit(x: float) -> float:
    """The inverse logit."""
    return float(special.expit(x))


def percent_from_logit(x: float) -> float:
    """A logit back on the percent scale (0–100)."""
    return 100 * expit(x)
