"""Evidence synthesis: pool what a review's cited sources report for one outcome.

`pool(db, outcome)` reads the findings of the references a review cites for the outcome's
measure and timepoint (as `ivcdb verify` finds them), puts each usable one on its pooling
scale (`ivcdb.meta`: logit proportions, log ratios, raw means) and fits metafor's
random-effects model; every finding not pooled is listed with the reason. The result
(`PoolResult`) is what `ivcdb pool`, the forest plot and `verify`'s pooled line read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivcdb.errors import UsageError
from ivcdb.figures import Cite, citations, lower_first, normalise_timepoint
from ivcdb.terms import PERCENT
from ivcdb.text import key_fold

if TYPE_CHECKING:
    from sqlmodel import Session

    from ivcdb.contract import LinkRow
    from ivcdb.db import Database
    from ivcdb.meta import Effect, Method
    from ivcdb.queries import CheckClaim, CheckFinding

__all__ = ["EFFECT_COLUMNS", "ClaimedRange", "PoolResult", "Pooled", "StudyRow", "effect_rows",
           "pool", "pool_claims", "pool_outcome", "pool_review"]


@dataclass(frozen=True, slots=True)
class StudyRow:
    """One cited study's finding, on the outcome's unit (a percent stays 0–100).

    `label` reads `Wachtel 2015`; `weight` is its share of the pooled estimate in percent,
    None when it is not pooled, and then `reason` says why.
    """

    reference_key: str
    reference_number: int | None
    label: str
    events: int | None
    n: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    weight: float | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Pooled:
    """The random-effects estimate back on the outcome's unit; τ², I², Q and its p on the
    scale pooled (logit, log ratio or raw). `n`: the participants of the pooled studies
    (None when one has no n)."""

    k: int
    n: int | None
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    q: float
    q_p: float
    method: str
    test: str


@dataclass(frozen=True, slots=True)
class ClaimedRange:
    """What the review claims for the outcome: its figure and the citation it prints."""

    claim_id: str
    value: float | None
    low: float | None
    high: float | None
    citation: str  # `[3], [5]`
    bounds: str | None = None  # what low and high are: a range (None) or a CI

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


_POOLED_KEYS = ("k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                "q", "q_p", "method")


@dataclass(frozen=True, slots=True)
class PoolResult:
    """A pooled outcome: its study rows, the pooled estimate (None, with `reason`, when
    fewer than two studies can be pooled) and the review's claims about it."""

    outcome: str
    label: str
    unit: str | None
    measure: str | None
    timepoint: str | None
    review: str
    studies: tuple[StudyRow, ...]
    pooled: Pooled | None
    reason: str | None
    claims: tuple[ClaimedRange, ...]

    def as_dict(self) -> dict[str, Any]:
        """The issue's JSON layout: the outcome, then `k, n, estimate, ci_low, ci_high,
        pi_low, pi_high, tau2, i2, q, q_p, method` at the top level (null when nothing is
        pooled, `k` then the studies usable), `test`, `reason`, `studies` and `claims`."""
        pooled = self.pooled
        usable = sum(1 for s in self.studies if s.reason is None)
        top: dict[str, Any] = {name: getattr(pooled, name) if pooled else None
                               for name in _POOLED_KEYS}
        if pooled is None:
            top["k"] = usable
        return {"outcome": self.outcome, "label": self.label, "unit": self.unit,
                "measure": self.measure, "timepoint": self.timepoint, "review": self.review,
                **top, "test": pooled.test if pooled else None, "reason": self.reason,
                "studies": [s.as_dict() for s in self.studies],
                "claims": [c.as_dict() for c in self.claims]}

    def to_json(self) -> str:
        """`as_dict()` as JSON text (what `ivcdb pool --format json` prints)."""
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


# --- pooling ----------------------------------------------------------------------------------

PROPORTION, RATIO, MEAN = "proportion", "ratio", "mean"
RATIOS = ("hazard_ratio", "odds_ratio", "risk_ratio")
_EFFECT_WORDS = {"hazard_ratio": "a hazard ratio", "odds_ratio": "an odds ratio",
                 "risk_ratio": "a risk ratio", "mean": "a mean", "median": "a median",
                 PROPORTION: "a proportion", PERCENT: "a percentage"}


@dataclass(frozen=True, slots=True)
class _Usable:
    """A finding put on the pooling scale, with what its study row shows."""

    effect: Effect
    events: int | None
    n: int | None
    estimate: float
    ci_low: float | None
    ci_high: float | None
    rank: int = 0  # which of a study's figures is pooled: the lowest (counts before a CI)


def pool(db: Database, outcome: str, *, review: str | None = None, method: Method = "REML",
         hk: bool = False) -> PoolResult:
    """Pool the findings the review's cited sources report for `outcome` (see
    `pool_outcome`); `review` as every command chooses it (`--review`, else the only one)."""
    with db.session() as session:
        return pool_outcome(session, outcome, review=review, method=method, hk=hk)


def pool_outcome(session: Session, outcome: str, *, review: str | None = None,
                 method: Method = "REML", hk: bool = False) -> PoolResult:
    """A random-effects meta-analysis (metafor's `rma`, `test="knha"` with `hk`) of the
    findings of the references the review cites in support of its claims on `outcome`, at
    the outcome's measure and timepoint.

    Proportions are pooled as logits (from events/n, or percent × n where the finding gives
    the number analysed), ratios as logs (SE from the CI), means raw; a survival estimate only
    with its own SE, CI or events/n; medians, subgroups and other measures are listed with the
    reason. Fewer than two usable studies: the rows and `reason`, nothing pooled.
    """
    from ivcdb import queries
    from ivcdb.meta import METHODS

    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    chosen = queries.choose_review(session, code=review)
    if chosen is None:
        raise UsageError("no review is loaded: nothing to pool")
    row = queries.export_outcome(session, outcome=outcome)
    scope = queries.ClaimScope(outcome=row["code"], review_id=chosen[0])
    claims = queries.source_check_claims(session, scope=scope)
    findings: dict[str, list[CheckFinding]] = {}
    labels: dict[str, str] = {}
    if claims and row["measure_code"]:  # else nothing to look up: `_gather` says why
        measures = queries.related_measures(session, row["measure_code"])
        findings = _by_reference(queries.source_check_findings(session, scope=scope,
                                                               measures=measures))
        labels = queries.cited_study_labels(session, scope=scope)
    return _fit(_gather(row, chosen[1], claims, findings, labels, _whole(session, chosen[1])),
                method, hk)


def _whole(session: Session, review: str) -> frozenset[str]:
    """The populations meaning a whole study: verify's, with the review's own."""
    from ivcdb import queries
    from ivcdb.verify import VerifyConfig

    return VerifyConfig().whole(queries.review_whole_populations(session).get(review, ()))


# `ivcdb export effects`: what metafor's rma(yi, vi) and statsmodels need, per finding.
EFFECT_COLUMNS = ("review", "outcome", "measure", "timepoint", "claim_ids", "reference_key",
                  "reference_number", "label", "finding_id", "xi", "ni", "yi", "vi", "sei",
                  "effect", "reason")


def effect_rows(session: Session, *, review: str) -> list[dict[str, Any]]:
    """One row per (outcome, finding) of the review's cited sources, in `EFFECT_COLUMNS`:
    `yi`, `vi`, `sei` on the pooling scale (logit, log ratio, raw) exactly where `ivcdb pool`
    pools the finding, else empty with the `reason`. Filtered to one outcome,
    `metafor::rma(yi, vi)` reproduces `ivcdb pool`."""
    rows = []
    for outcome in _outcomes(session, review):
        for s in outcome.studies:
            u = s.usable
            rows.append({
                "review": review, "outcome": outcome.code, "measure": s.finding.measure,
                "timepoint": outcome.timepoint, "claim_ids": list(s.claim_ids),
                "reference_key": s.link.reference_key,
                "reference_number": s.link.reference_number, "label": s.label,
                "finding_id": s.finding.finding_id, "xi": u.events if u else None,
                "ni": u.n if u else s.finding.analysed_n,
                "yi": u.effect.yi if u else None, "vi": u.effect.vi if u else None,
                "sei": u.effect.sei if u else None, "effect": _effect(s.finding),
                "reason": s.reason})
    return rows


def pool_review(session: Session, *, review: str | None = None, method: Method = "REML",
                hk: bool = False) -> list[PoolResult]:
    """Every outcome the review's claims cite sources for, pooled as `pool_outcome` pools
    each (by outcome code), from one reading of the review's claims and findings."""
    from ivcdb import queries
    from ivcdb.meta import METHODS

    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    chosen = queries.choose_review(session, code=review)
    if chosen is None:
        raise UsageError("no review is loaded: nothing to pool")
    return [_fit(outcome, method, hk) for outcome in _outcomes(session, chosen[1])]


def pool_claims(session: Session, claims: Sequence[CheckClaim],
                findings: Sequence[CheckFinding], *, method: Method = "REML"
                ) -> dict[tuple[str, str], PoolResult]:
    """Each claim's own supporting sources pooled as `pool_outcome` pools an outcome's, at
    the claim's timepoint (else its outcome's): (review, claim_id) -> result. `claims` and
    `findings` as `queries.source_check_claims`/`source_check_findings` give them (what
    `ivcdb verify` reads)."""
    from ivcdb import queries
    from ivcdb.models import Outcome

    vocabulary = queries.vocabulary_rows(session, Outcome)
    by_reference = _by_reference(findings)
    reviews = {c.review for c in claims}
    labels = {r: queries.cited_study_labels(session, review=r) for r in reviews}
    whole = {r: _whole(session, r) for r in reviews}
    out = {}
    for claim in claims:
        row = {**vocabulary[claim.outcome],
               "timepoint": claim.timepoint or vocabulary[claim.outcome]["timepoint"]}
        out[claim.review, claim.claim_id] = _fit(_gather(
            row, claim.review, [claim], by_reference, labels[claim.review],
            whole[claim.review]), method, False)
    return out


def _outcomes(session: Session, review: str) -> list[_Outcome]:
    """Every outcome of the review's checkable claims with its cited findings, by code."""
    from ivcdb import queries
    from ivcdb.models import Outcome

    claims = queries.source_check_claims(session, review=review)
    findings = _by_reference(queries.source_check_findings(session, review=review))
    labels = queries.cited_study_labels(session, review=review)
    vocabulary = queries.vocabulary_rows(session, Outcome)
    by_outcome: dict[str, list[CheckClaim]] = {}
    for claim in claims:
        by_outcome.setdefault(claim.outcome, []).append(claim)
    whole = _whole(session, review)
    return [_gather(vocabulary[code], review, by_outcome[code], findings, labels, whole)
            for code in sorted(by_outcome, key=lambda c: c.encode("utf-8"))]


@dataclass(frozen=True, slots=True)
class _Study:
    """One finding of a cited reference, as pooled or with the reason it is not."""

    link: LinkRow  # how the review cites the reference (its number there)
    finding: CheckFinding
    label: str
    usable: _Usable | None
    reason: str | None
    claim_ids: tuple[str, ...]  # the outcome's claims citing the reference


@dataclass(frozen=True, slots=True)
class _Outcome:
    """An outcome's cited findings, each on its pooling scale or with its reason."""

    code: str
    label: str
    measure: str | None
    timepoint: str | None
    review: str
    unit: str | None
    scale: str | None  # proportion, ratio, mean; None: nothing poolable
    studies: tuple[_Study, ...]
    claims: tuple[ClaimedRange, ...]
    reason: str | None  # why nothing can be pooled before looking at the findings


def _by_reference(findings: Sequence[CheckFinding]) -> dict[str, list[CheckFinding]]:
    found: dict[str, list[CheckFinding]] = {}
    for f in findings:
        found.setdefault(key_fold(f.reference_key), []).append(f)
    return found


def _gather(row: dict[str, Any], review: str, claims: Sequence[CheckClaim],
            findings: dict[str, list[CheckFinding]], labels: dict[str, str],
            whole: frozenset[str]) -> _Outcome:
    """The outcome's (vocabulary `row`) cited findings on their pooling scale; `whole`: the
    folded populations that mean a whole study (as `ivcdb verify` reads them)."""
    code = row["code"]
    claimed = tuple(c for c in (_claimed(c) for c in claims) if c is not None)
    scale = PROPORTION if row["kind"] in (PROPORTION, "count") else None
    fields = {"code": code, "label": row["label"], "measure": row["measure_code"],
              "timepoint": row["timepoint"], "review": review, "claims": claimed}
    if not row["measure_code"]:
        return _Outcome(**fields, unit=row["unit_code"], scale=None, studies=(),
                        reason=f"Outcome {code} has no measure: nothing to pool.")
    candidates = _candidates(claims, findings, row["timepoint"], whole)
    if scale is None:
        scale = _scale_of([f for f, why in candidates if why is None])
    target = _target(scale, [f for f, why in candidates if why is None])
    citing: dict[str, list[str]] = {}
    for claim in claims:
        for link in claim.supporting:
            citing.setdefault(key_fold(link.reference_key), []).append(claim.claim_id)
    assessed = []
    best: dict[str, tuple[int, str]] = {}  # per study: the figure pooled (lowest rank first)
    for link, f, why in _ordered(claims, candidates):
        usable = None
        if why is None:
            usable, why = _usable(f, scale, target)
        key = key_fold(f.reference_key)
        if usable is not None and (key not in best or usable.rank < best[key][0]):
            best[key] = (usable.rank, f.finding_id)
        assessed.append((link, f, usable, why))
    studies: list[_Study] = []
    for link, f, usable, why in assessed:
        key = key_fold(f.reference_key)
        if usable is not None and best[key][1] != f.finding_id:
            usable, why = None, "another figure of the same study (one per study is pooled)"
        label = labels.get(link.reference_key) or labels.get(f.reference_key) or f.reference_key
        studies.append(_Study(link, f, label, usable, why, tuple(dict.fromkeys(citing[key]))))
    unit = {PROPORTION: PERCENT, RATIO: row["unit_code"] or "ratio"}.get(scale or "",
                                                                         row["unit_code"])
    reason = None if studies else (f"No cited source reports {lower_first(row['label'])}: "
                                   "nothing to pool.")
    return _Outcome(**fields, unit=unit, scale=scale, studies=tuple(studies), reason=reason)


def _claimed(c: CheckClaim) -> ClaimedRange | None:
    value, low, high = c.value, c.value_low, c.value_high
    if (value, low, high) == (None, None, None):
        if c.numerator is None or not c.denominator:
            return None
        value = 100 * c.numerator / c.denominator  # a count out of a total, as its share
    keys = [link.reference_key for link in c.supporting]
    numbers = [link.reference_number for link in c.supporting]
    return ClaimedRange(c.claim_id, value, low, high,
                        citations(numbers, Cite.SEPARATE, keys=keys), c.bounds)


def _candidates(claims: Sequence[CheckClaim], findings: dict[str, list[CheckFinding]],
                timepoint: str | None, whole: frozenset[str]
                ) -> list[tuple[CheckFinding, str | None]]:
    """The findings of the claims' supporting references at the outcome's timepoint, of its
    measure or a related one, each with why it is not a candidate (None: it is)."""
    from ivcdb.verify import Relation, relation

    wanted = normalise_timepoint(timepoint)
    seen: dict[tuple[str, str], tuple[CheckFinding, str | None]] = {}
    for claim in claims:
        for link in claim.supporting:
            for f in findings.get(key_fold(link.reference_key), []):
                if wanted and not wanted & normalise_timepoint(f.timepoint):
                    continue
                related = relation(claim, f, whole)
                if related is None:
                    continue
                why = None
                if related is Relation.SUBGROUP:
                    why = f"a subgroup ({f.population}), not the whole study"
                elif related is Relation.DIFFERENT_MEASURE:
                    why = (f"another measure ({lower_first(f.measure_label)}), not "
                           f"{lower_first(claim.measure_label or claim.measure or '')}")
                key = (key_fold(f.reference_key), f.finding_id)
                if key not in seen or (seen[key][1] is not None and why is None):
                    seen[key] = (f, why)
    return list(seen.values())


def _ordered(claims: Sequence[CheckClaim], candidates: Sequence[tuple[CheckFinding, str | None]]
             ) -> list[tuple[LinkRow, CheckFinding, str | None]]:
    """Candidates with their review link, by citation number (then citekey), the pooled
    measure first, then finding id."""
    links: dict[str, LinkRow] = {}
    for claim in claims:
        for link in claim.supporting:
            links.setdefault(key_fold(link.reference_key), link)
    out = [(links[key_fold(f.reference_key)], f, why) for f, why in candidates]
    out.sort(key=lambda t: (t[0].reference_number is None, t[0].reference_number or 0,
                            t[0].reference_key, t[2] is not None, t[1].finding_id))
    return out


def _effect(f: CheckFinding) -> str | None:
    """The finding's effect measure: as recorded, else told by its unit or counts."""
    if f.effect:
        return f.effect
    if f.unit == PERCENT:
        return PERCENT
    if f.numerator is not None and f.denominator and f.value is None:
        return PROPORTION
    return None


def _scale_of(findings: Sequence[CheckFinding]) -> str | None:
    effects = [_effect(f) for f in findings]
    if any(e in RATIOS for e in effects):
        return RATIO
    if any(e in (PROPORTION, PERCENT) for e in effects):
        return PROPORTION
    if any(e == MEAN for e in effects):
        return MEAN
    return None


def _target(scale: str | None, findings: Sequence[CheckFinding]) -> str | None:
    """The one ratio measure pooled (the most frequent; the first on a tie)."""
    if scale != RATIO:
        return None
    effects = [e for e in (_effect(f) for f in findings) if e in RATIOS]
    return max(dict.fromkeys(effects), key=effects.count) if effects else None


def _usable(f: CheckFinding, scale: str | None, target: str | None
            ) -> tuple[_Usable | None, str | None]:
    """The finding on the pooling scale, or why it cannot be pooled."""
    effect = _effect(f)
    if effect == "median" or f.bounds == "iqr":
        return None, "a median or IQR: listed, never pooled"
    if effect is None:
        return None, "no effect measure recorded (a count, duration or size without one)"
    if scale == PROPORTION and effect in (PROPORTION, PERCENT):
        return _proportion(f)
    if scale == RATIO and effect == target:
        return _ratio(f)
    if scale == MEAN and effect == MEAN:
        return _mean(f)
    pooled = {PROPORTION: "proportions", RATIO: (target or "ratio").replace("_", " ") + "s",
              MEAN: "means"}.get(scale or "", "nothing")
    return None, f"{_EFFECT_WORDS.get(effect, effect)}, while this outcome pools {pooled}"


def _proportion(f: CheckFinding) -> tuple[_Usable | None, str | None]:
    from ivcdb.meta import Effect, logit_proportion, z_crit

    survival = f.family == "survival"
    n = f.analysed_n
    if f.numerator is not None and f.denominator:
        if f.numerator > f.denominator:
            return None, f"more events than patients ({f.numerator}/{f.denominator})"
        effect = logit_proportion(f.numerator, f.denominator)
        low, high = _given_ci(f) or _wilson(f.numerator, f.denominator)
        return _Usable(effect, f.numerator, f.denominator,
                       100 * f.numerator / f.denominator, low, high), None
    if f.value is None or f.unit != PERCENT:
        return None, "no percentage or events/n to pool"
    share = f.value / 100
    if not survival and f.n is not None and f.n > 0:
        events = round(share * f.n)
        low, high = _given_ci(f) or _wilson(events, f.n)
        return _Usable(logit_proportion(events, f.n), events, f.n, f.value, low, high, 1), None
    inside = 0 < share < 1
    ci = _given_ci(f)
    if ci is not None and inside and 0 < ci[0] < f.value < ci[1] < 100:
        z = z_crit(f.ci_level_or_default or 95)
        se = (_logit(ci[1] / 100) - _logit(ci[0] / 100)) / (2 * z)
        return _Usable(Effect(_logit(share), se**2), None, n, f.value, *ci, 2), None
    if f.se is not None and f.se > 0 and inside:
        se = (f.se / 100) / (share * (1 - share))
        low, high = _back_ci(_logit(share), se, PROPORTION)
        return _Usable(Effect(_logit(share), se**2), None, n, f.value, low, high, 3), None
    if survival:
        return None, ("a Kaplan-Meier survival estimate without its own SE, CI or events/n "
                      "(a cohort size is not its n)")
    return None, "a percentage without the number analysed (n), its SE or CI"


def _ratio(f: CheckFinding) -> tuple[_Usable | None, str | None]:
    from ivcdb.meta import Effect, MetaError, log_ratio

    if f.value is None or f.value <= 0:
        return None, "a ratio without a positive point value"
    ci = _given_ci(f)
    if ci is not None:
        try:
            effect = log_ratio(f.value, ci[0], ci[1], level=f.ci_level_or_default or 95)
        except MetaError as error:
            return None, str(error)
        return _Usable(effect, None, f.analysed_n, f.value, *ci), None
    if f.se is not None and f.se > 0:
        se = f.se / f.value  # the SE of the ratio itself, on the log scale by the delta method
        return _Usable(Effect(math.log(f.value), se**2), None, f.analysed_n, f.value,
                       *_back_ci(math.log(f.value), se, RATIO), 1), None
    return None, "a ratio without its CI or SE"


def _mean(f: CheckFinding) -> tuple[_Usable | None, str | None]:
    from ivcdb.meta import mean_effect, z_crit

    if f.value is None:
        return None, "a mean without a point value"
    ci = _given_ci(f)
    if f.se is not None and f.se > 0:
        se, rank = f.se, 0
    elif ci is not None and ci[1] > ci[0]:
        se, rank = (ci[1] - ci[0]) / (2 * z_crit(f.ci_level_or_default or 95)), 1
    else:
        return None, "a mean without its SE or CI"
    low, high = ci or _back_ci(f.value, se, MEAN)
    return _Usable(mean_effect(f.value, se), None, f.analysed_n, f.value, low, high,
                   rank), None


def _given_ci(f: CheckFinding) -> tuple[float, float] | None:
    return (f.ci_low, f.ci_high) if f.ci_low is not None and f.ci_high is not None else None


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _wilson(events: int, n: int, level: float = 95) -> tuple[float, float]:
    """The Wilson score interval of events/n, in percent (a study row's CI from counts)."""
    from ivcdb.meta import wilson

    low, high = wilson(events, n, level)
    return 100 * low, 100 * high


def _back(x: float, scale: str | None) -> float:
    """A value on the pooling scale back on the outcome's unit."""
    from ivcdb.meta import percent_from_logit

    if scale == PROPORTION:
        return percent_from_logit(x)
    if scale == RATIO:
        return math.exp(x)
    return x


def _back_ci(y: float, se: float, scale: str | None) -> tuple[float, float]:
    from ivcdb.meta import z_crit

    z = z_crit()
    return _back(y - z * se, scale), _back(y + z * se, scale)


def _fit(outcome: _Outcome, method: Method, hk: bool) -> PoolResult:
    """Pool the usable studies of `outcome` (two at least) and build its result."""
    from ivcdb.meta import rma

    usable = [s.usable for s in outcome.studies if s.usable is not None]
    fitted = None
    if len(usable) >= 2:
        fitted = rma([u.effect.yi for u in usable], [u.effect.vi for u in usable],
                     method=method, test="knha" if hk else "z")
    weights = iter(fitted.weights if fitted else ())
    rows = []
    for s in outcome.studies:
        link, f, u = s.link, s.finding, s.usable
        if u is None:
            shown = f.value
            if shown is None and outcome.scale == PROPORTION and f.numerator is not None \
                    and f.denominator:
                shown = 100 * f.numerator / f.denominator
            rows.append(StudyRow(link.reference_key, link.reference_number, s.label,
                                 f.numerator, f.analysed_n, shown, f.ci_low, f.ci_high,
                                 None, s.reason))
        else:
            rows.append(StudyRow(link.reference_key, link.reference_number, s.label, u.events,
                                 u.n, u.estimate, u.ci_low, u.ci_high,
                                 next(weights) if fitted else None,
                                 None if fitted else "the only study that can be pooled"))
    pooled = None
    reason = outcome.reason
    if fitted is not None:
        scale = outcome.scale
        ns = [u.n for u in usable]
        pooled = Pooled(
            k=fitted.k, n=None if None in ns else sum(n for n in ns if n is not None),
            estimate=_back(fitted.estimate, scale), ci_low=_back(fitted.ci_low, scale),
            ci_high=_back(fitted.ci_high, scale), pi_low=_back(fitted.pi_low, scale),
            pi_high=_back(fitted.pi_high, scale), tau2=fitted.tau2, i2=fitted.i2, q=fitted.q,
            q_p=fitted.q_p, method=method, test=fitted.test)
    elif reason is None:
        reason = _why_not(rows, len(usable))
    return PoolResult(outcome.code, outcome.label, outcome.unit, outcome.measure,
                      outcome.timepoint, outcome.review, tuple(rows), pooled, reason,
                      outcome.claims)


def _why_not(rows: Sequence[StudyRow], usable: int) -> str:
    """Nothing pooled: which studies gave what, grouped by reason."""
    groups: dict[str, list[str]] = {}
    for s in rows:
        if s.reason:
            cited = groups.setdefault(s.reason, [])
            if _cited(s) not in cited:
                cited.append(_cited(s))
    count = "Only one" if usable == 1 else "None"
    listed = "; ".join(f"{', '.join(cited)}: {why}" for why, cited in groups.items())
    return (f"{count} of the cited studies gives a figure that can be pooled, and pooling "
            f"needs two. {listed}.")


def _cited(s: StudyRow) -> str:
    number = f"[{s.reference_number}] " if s.reference_number is not None else ""
    return f"{number}{s.label}"
