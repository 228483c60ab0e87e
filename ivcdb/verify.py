"""Source check: compare each claim of a review with what its cited sources themselves report.

Every claim that cites a reference is listed. It is checked when it cites at least one
reference in a supporting role (`supports`, `data_source`), its outcome has a measure and it
states a figure; any other claim is *not assessable*, with the reason. Compared with a checked
claim are the findings of those references whose measure is the outcome's measure, or another
measure of the same family, at a matching timepoint. A manual verdict (`ManualVerdict`), when
given, decides the status and is shown beside the automatic one. The rules are documented in
the README ("Source check").
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from ivcdb.synthesis import PoolResult

from ivcdb import queries
from ivcdb.contract import COMPARED_COLUMNS, FINDING_EXPORT_COLUMNS, FindingRow, LinkRow
from ivcdb.csvformat import format_number
from ivcdb.errors import UsageError
from ivcdb.extras import missing
from ivcdb.figures import (
    COUNT,
    Cite,
    citations,
    cite,
    figure_text,
    lower_first,
    normalise_timepoint,
    span,
    timepoint_months,
    unit_text,
)
from ivcdb.queries import CheckClaim, CheckFinding, Results
from ivcdb.terms import CI, IQR, PERCENT, QUALITATIVE
from ivcdb.text import fold, key_fold

__all__ = ["WHOLE_POPULATIONS", "Checks", "ClaimCheck", "ClaimPool", "ComparedFinding",
           "ManualVerdict", "PoolVerdict", "Reason", "Relation", "Status", "Verdict",
           "VerifyConfig", "decide",
           "markdown_report", "relation", "verify"]

_EPS = 1e-9
# Finding populations that always mean the whole study (data and options add to them).
WHOLE_POPULATIONS = ("all patients", "whole cohort", "entire cohort", "all grafts")
FULL_TEXT = "full text"  # a finding's note beginning so: read in the source's full text
PLACES = 2  # figures on the comparison scale are printed to two decimals


class Status(StrEnum):
    """How a claim compares with what its cited sources report."""

    CONSISTENT = "consistent"
    PARTLY_CONSISTENT = "partly_consistent"
    INCONSISTENT = "inconsistent"
    DIFFERENT_MEASURE = "different_measure"
    UNVERIFIED = "unverified"
    NOT_ASSESSABLE = "not_assessable"  # nothing to compare: see `Reason`

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Reason(StrEnum):
    """Why a claim that cites references is not assessable against them."""

    NO_SUPPORTING_REFERENCE = "no_supporting_reference"  # cited only as `disagrees`
    QUALITATIVE = "qualitative"  # a statement about a qualitative outcome, without figures
    NO_NUMBERS = "no_numbers"  # a quantitative outcome, but the claim states no figure
    NO_MEASURE = "no_measure"  # a figure, but its outcome has no measure to compare with

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class ManualVerdict:
    """A reviewer's verdict on a claim against one cited source, read by hand.

    The seam for `ivcdb assess`: `verify(..., manual=...)` takes them per claim; when a claim
    has any, they decide its status (`decide`) and the automatic status is kept beside them.
    """

    reference_key: str
    status: Status
    locator: str | None = None  # "Table 2, p. 24"
    quote: str | None = None
    by: str | None = None
    at: str | None = None  # when, as ISO 8601 text

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "status": self.status.value}

    def text(self) -> str:
        """`consistent by hand ([3], Table 2, p. 24, by A. Reviewer)`."""
        where = ", ".join(x for x in (self.reference_key, self.locator,
                                      f"by {self.by}" if self.by else None) if x)
        return f"{self.status.label} by hand ({where})"


ManualVerdicts = Mapping[tuple[str, str], Sequence[ManualVerdict]]  # (review, claim_id) ->


def decide(automatic: Status, manual: Sequence[ManualVerdict] = ()) -> Status:
    """The claim's status: the automatic one unless verdicts by hand are given.

    Verdicts by hand that agree decide; consistent and inconsistent ones together are
    partly consistent; otherwise the comparing verdicts among them decide, else the first.
    """
    statuses = _unique(m.status for m in manual)
    if not statuses:
        return automatic
    if len(statuses) == 1:
        return Status(statuses[0])
    comparing = {Status(s) for s in statuses} & {
        Status.CONSISTENT, Status.PARTLY_CONSISTENT, Status.INCONSISTENT}
    if len(comparing) > 1:
        return Status.PARTLY_CONSISTENT
    return comparing.pop() if comparing else Status(statuses[0])


class Relation(StrEnum):
    """How a finding's measure and population relate to the claim's outcome."""

    SAME_MEASURE = "same_measure"  # the outcome's measure, in the whole study population
    SUBGROUP = "subgroup"  # the outcome's measure, in a subgroup of the study
    DIFFERENT_MEASURE = "different_measure"  # another measure of the same family
    RELATED_MEASURE = "related_measure"  # declared related (measures.csv `related`): context


class PoolVerdict(StrEnum):
    """Where the pooled estimate of a claim's sources, and its CI, lie against the claim."""

    INSIDE = "inside"  # the estimate and its whole CI within what the claim accepts
    ESTIMATE_INSIDE = "estimate_inside"  # the estimate within, its CI reaching outside
    OUTSIDE = "outside"  # the estimate outside


@dataclass(frozen=True, slots=True)
class ClaimPool:
    """A claim's cited sources pooled (`ivcdb.synthesis.pool_claims`, metafor's REML) and set
    against the claim: `verdict` None when nothing could be pooled (`reason` says why) or the
    pool is in another unit than the claim."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    k: int  # studies pooled (not pooled: the studies usable, fewer than two)
    method: str | None
    verdict: PoolVerdict | None
    reason: str | None  # why nothing is pooled
    text: str  # `pooled 58% (47–68%) of [3], [5] (k = 2, REML), inside the claimed 40–70%`

    def as_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__}
        return {**out, "verdict": self.verdict.value if self.verdict else None}


class Verdict(StrEnum):
    """Where a finding's figure lies relative to the figure the claim accepts."""

    WITHIN = "within"
    OVERLAPS = "overlaps"  # a reported range partly inside, partly outside
    OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    """Tolerances of the source check.

    `tolerance_pp`: percentage points by which a percentage may differ from an "approximately"
    claim (5: "approximately 80%" accepts 75-85%). `tolerance_rel`: the relative difference
    allowed for any other unit (0.1: "approximately 200 mL" accepts 180-220 mL).
    `whole_populations`: further finding populations (case- and accent-insensitive) that mean
    the whole study rather than a subgroup, added to `WHOLE_POPULATIONS` (never replacing
    them) and to the review's own (`whole_populations` in its review.toml); a population equal
    to the claim's also counts as whole.
    """

    tolerance_pp: float = 5.0
    tolerance_rel: float = 0.10
    whole_populations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, top in (("tolerance_pp", 100.0), ("tolerance_rel", 1.0)):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not math.isfinite(value) or not 0 <= value <= top):
                hint = " (a fraction: 0.1 means ±10%)" if name == "tolerance_rel" else ""
                raise UsageError(f"{name} must be a number from 0 to {top:g}{hint}, "
                                 f"not {value!r}")
        terms = self.whole_populations
        if isinstance(terms, str) or not all(isinstance(t, str) and t.strip() for t in terms):
            raise UsageError(f"whole_populations must be a list of non-empty phrases, "
                             f"not {terms!r}")

    def whole(self, review: Iterable[str] = ()) -> frozenset[str]:
        """The folded populations that mean the whole study: built in, the review's, ours."""
        return frozenset(fold(t) for t in (*WHOLE_POPULATIONS, *review, *self.whole_populations))

    def describe(self) -> str:
        """The tolerance rule in words, for reports."""
        return (f"\"approximately\" accepts ±{format_number(self.tolerance_pp)} percentage "
                f"points for percentages and ±{format_number(self.tolerance_rel * 100)}% "
                "of the value otherwise")


@dataclass(frozen=True, slots=True)
class ComparedFinding(FindingRow):
    """A finding of a cited source (every contract field; its reference number is the one
    the claim cites it by) set against the claim."""

    measure_label: str
    relation: Relation
    compared_low: float | None  # the figure on the claim's scale (a percentage from counts)
    compared_high: float | None
    verdict: Verdict | None  # None: not compared (another measure, or another unit)
    assessment: str  # "within 35–75% (approximately 40–70%)", "a different measure ..."

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as their text), in the keys' first order: the
        finding and how it relates, its figure, then the comparison."""
        out = {name: getattr(self, name) for name in _COMPARED_KEYS}
        return {**out, "relation": self.relation.value,
                "verdict": self.verdict.value if self.verdict else None}


_LEAD = ("finding_id", "reference_number", "reference_key", "measure", "measure_label",
         "relation")
_COMPARED_KEYS = (*_LEAD, *(c for c in ComparedFinding.columns() if c not in _LEAD))


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    """One claim, its status against its cited sources, and the evidence behind the status."""

    claim_id: str
    review: str
    outcome: str
    measure: str
    statement: str
    claimed: str  # the figure in words: "approximately 40–70%"
    qualifier: str | None
    # value ... population: `contract.COMPARED_COLUMNS`, written out for the type checker
    # (tests/test_contract.py fails if they part)
    value: float | None
    value_low: float | None
    value_high: float | None
    numerator: int | None
    denominator: int | None
    unit: str | None
    timepoint: str | None  # the claim's, else the one built into its outcome
    population: str | None
    bounds: str | None
    reference_numbers: tuple[int | None, ...]
    reference_keys: tuple[str, ...]
    status: Status  # the automatic status, or the verdicts by hand when there are any
    reason: Reason | None  # why the claim is not assessable (None: it is)
    automatic_status: Status  # what the comparison with the findings gives
    manual: tuple[ManualVerdict, ...]  # verdicts by hand, in citation order
    accepted_low: float | None  # the interval the claim accepts (None: unbounded / none)
    accepted_high: float | None
    findings: tuple[ComparedFinding, ...]
    references_without_findings: tuple[str, ...]  # citekeys with no finding compared
    remarks: tuple[str, ...]  # what the findings do not say: missing sources, other timepoints
    explanation: str  # every finding with its assessment, then the remarks (and the pool)
    pooled: ClaimPool | None = None  # its cited sources pooled (None: not assessable, or
    # the synthesis extra is not installed)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (enums as their text)."""
        out = dataclasses.asdict(self)
        out["status"] = self.status.value
        out["reason"] = self.reason.value if self.reason else None
        out["automatic_status"] = self.automatic_status.value
        out["manual"] = [m.as_dict() for m in self.manual]
        out["pooled"] = self.pooled.as_dict() if self.pooled else None
        out["reference_numbers"] = list(self.reference_numbers)
        out["reference_keys"] = list(self.reference_keys)
        out["references_without_findings"] = list(self.references_without_findings)
        out["findings"] = [f.as_dict() for f in self.findings]
        return out

    def status_text(self) -> str:
        """`consistent`, `not assessable: qualitative`, `consistent by hand (automatic:
        unverified)`."""
        text = self.status.label
        if self.reason is not None and self.status is Status.NOT_ASSESSABLE:
            text += f": {self.reason.label}"
        if self.manual:
            text += f" by hand (automatic: {self.automatic_status.label})"
        return text

    def references_text(self) -> str:
        """`[3], [5]` (citekeys where a reference has no number in the review)."""
        return citations(self.reference_numbers, Cite.SEPARATE,
                         keys=self.reference_keys) or "none in support"


# --- timepoints -------------------------------------------------------------------------------


def _timepoints_match(claim: frozenset[str], finding: frozenset[str]) -> bool:
    """A claim without a timepoint takes any finding; otherwise they must share one."""
    return not claim or bool(claim & finding)


def _months_key(text: str | None) -> tuple[float, str]:
    return (timepoint_months(text), text or "")


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Interval:
    """What a claim accepts: bounds (None: unbounded), each closed unless marked open."""

    low: float | None
    high: float | None
    low_open: bool = False
    high_open: bool = False

    def holds(self, x: float) -> bool:
        if self.low is not None and (x < self.low - _EPS or (self.low_open and x <= self.low)):
            return False
        return not (self.high is not None
                    and (x > self.high + _EPS or (self.high_open and x >= self.high)))

    def verdict(self, low: float, high: float) -> Verdict:
        if self.holds(low) and self.holds(high):
            return Verdict.WITHIN
        above = self.high is not None and (low > self.high + _EPS
                                           or (self.high_open and low >= self.high))
        below = self.low is not None and (high < self.low - _EPS
                                          or (self.low_open and high <= self.low))
        return Verdict.OUTSIDE if above or below else Verdict.OVERLAPS

    def rounded(self, places: int) -> _Interval:
        """The interval with its bounds at `places` decimals (a figure's printed precision)."""
        return dataclasses.replace(
            self, low=None if self.low is None else round(self.low, places),
            high=None if self.high is None else round(self.high, places))

    def text(self, unit: str) -> str:
        if self.low is not None and self.high is not None:
            return _span(self.low, self.high, unit)
        if self.high is not None:
            return ("< " if self.high_open else "≤ ") + _span(self.high, self.high, unit)
        if self.low is not None:
            return ("> " if self.low_open else "≥ ") + _span(self.low, self.low, unit)
        return "any value"


def _span(low: float, high: float, unit: str) -> str:
    return span(low, high, PLACES) + unit


@dataclass(frozen=True, slots=True)
class _Claim:
    """A claim's figure on its comparison scale."""

    row: CheckClaim
    percent: bool  # compared as a percentage (unit percent, or a count out of a total)
    low: float | None
    high: float | None
    decimals: int | None  # decimals of the printed figure (None: itself computed)
    timepoints: frozenset[str]

    @classmethod
    def of(cls, row: CheckClaim) -> _Claim:
        printed = (row.value, row.value_low, row.value_high) != (None, None, None)
        counts = row.numerator is not None and bool(row.denominator) and not printed
        percent = row.unit == PERCENT or counts
        timepoints = normalise_timepoint(row.timepoint or row.outcome_timepoint)
        if counts:
            share = 100 * (row.numerator or 0) / (row.denominator or 1)
            return cls(row, True, share, share, None, timepoints)
        low = row.value if row.value is not None else row.value_low
        high = row.value if row.value is not None else row.value_high
        low, high = (low if low is not None else high), (high if high is not None else low)
        figures = [x for x in (row.value, row.value_low, row.value_high) if x is not None]
        decimals = max((_decimals(x) for x in figures), default=0)
        return cls(row, percent, low, high, decimals, timepoints)

    @property
    def has_figure(self) -> bool:
        return self.low is not None and self.high is not None

    def accepted(self, config: VerifyConfig) -> _Interval:
        low, high = self.low, self.high
        assert low is not None and high is not None
        qualifier = self.row.qualifier
        if qualifier == "up to":
            return _Interval(None, high)
        if qualifier == "less than":
            return _Interval(None, high, high_open=True)
        if qualifier == "at least":
            return _Interval(low, None)
        if qualifier == "more than":
            return _Interval(low, None, low_open=True)
        if qualifier == "approximately":
            if self.percent:
                tol = config.tolerance_pp
                return _Interval(max(0.0, low - tol), min(100.0, high + tol))
            return _Interval(low - abs(low) * config.tolerance_rel,
                             high + abs(high) * config.tolerance_rel)
        return _Interval(low, high)

    @property
    def unit_code(self) -> str | None:
        """The unit figures are compared in: `percent` for a count out of a total."""
        return PERCENT if self.percent else self.row.unit

    def unit_text(self, labels: dict[str, str]) -> str:
        return unit_text(self.unit_code, labels)

    def claimed(self, labels: dict[str, str]) -> str:
        """The figure compared, in words: `approximately 40–70%`, `5/10 (50%)`; a value with
        its CI or IQR (compared as the value) keeps them: `0.79 (0.60–0.90)`."""
        row = self.row
        if self.decimals is None:  # a count out of a total, compared as its share
            return figure_text(None, None, None, row.numerator, row.denominator,
                               row.qualifier, share=True, places=PLACES)
        if row.value is not None and row.bounds in (CI, IQR):
            return figure_text(row.value, row.value_low, row.value_high,
                               qualifier=row.qualifier, unit=unit_text(row.unit, labels),
                               places=PLACES, bounds=row.bounds)
        return figure_text(None, self.low, self.high, qualifier=row.qualifier,
                           unit=unit_text(row.unit, labels),
                           places=PLACES) or (
            "no figure (qualitative)" if row.outcome_kind == QUALITATIVE else "no figure")

    @property
    def counts(self) -> bool:
        """The claim is a count out of a total (n/N), compared as its share."""
        return self.decimals is None

    def on_scale(self, f: CheckFinding) -> tuple[float, float, bool] | None:
        """The finding's figure on the claim's scale: (low, high, computed from counts).

        An n/N claim is compared with the finding's own counts when it has them (165/1007
        against 16.4% (165/1007): the same counts), never with its rounded percentage."""
        unit = self.unit_code
        if self.counts and f.numerator is not None and f.denominator:
            share = 100 * f.numerator / f.denominator
            return share, share, True
        if f.unit == unit:
            if f.value is not None:
                return f.value, f.value, False
            if f.value_low is not None and f.value_high is not None:
                return f.value_low, f.value_high, False
        if self.percent and f.numerator is not None and f.denominator:
            share = 100 * f.numerator / f.denominator
            return share, share, True
        if unit == COUNT and self.row.denominator is None and f.numerator is not None:
            return float(f.numerator), float(f.numerator), False
        return None


def _decimals(x: float) -> int:
    text = format_number(x)
    return len(text.split(".", 1)[1]) if "." in text else 0


# --- the check --------------------------------------------------------------------------------


def tally(checks: Iterable[ClaimCheck]) -> str:
    """`23 claims citing references: 3 consistent, ..., 16 not assessable (2 no measure,
    14 qualitative)`: every claim counted once, by status, the not assessable by reason."""
    listed = list(checks)
    parts = []
    for status in Status:
        n = sum(1 for c in listed if c.status is status)
        if not n:
            continue
        part = f"{n} {status.label}"
        if status is Status.NOT_ASSESSABLE:
            reasons = {r: sum(1 for c in listed if c.status is status and c.reason is r)
                       for r in Reason}
            part += " (" + ", ".join(f"{k} {r.label}" for r, k in reasons.items() if k) + ")"
        parts.append(part)
    return (f"{len(listed)} claim{'' if len(listed) == 1 else 's'} citing references"
            + (": " + ", ".join(parts) if parts else ""))


class Checks(Results[ClaimCheck]):
    """Every claim citing a reference, checked or not assessable, with what a report needs
    besides them.

    `note` says why no claim is listed (empty when some are); `config` is the rule set used
    and `unit_labels` names the units (`percent` -> `%`).
    """

    def __init__(self, checks: Iterable[ClaimCheck], *, config: VerifyConfig,
                 unit_labels: dict[str, str], note: str = "") -> None:
        super().__init__(checks)
        self.config = config
        self.unit_labels = unit_labels
        self.note = note

    def summary(self) -> str:
        """The counts by status (and reason), adding up to the claims listed."""
        return tally(self)


def verify(session: Session, *, outcome: str | None = None, review: str | None = None,
           config: VerifyConfig | None = None, manual: ManualVerdicts | None = None) -> Checks:
    """Every claim that cites a reference, checked against its sources' findings or marked
    not assessable with the reason.

    `outcome` and `review` narrow the claims (unknown codes raise `NotFound`); when none is
    left, the result's `note` says why. `manual` gives verdicts by hand per (review,
    claim_id), which decide the status of their claims.
    """
    config = config or VerifyConfig()
    claims = queries.source_check_claims(session, outcome=outcome, review=review)
    findings = queries.source_check_findings(session, outcome=outcome, review=review)
    by_ref: dict[str, list[CheckFinding]] = {}
    for f in findings:
        by_ref.setdefault(key_fold(f.reference_key), []).append(f)
    labels = queries.unit_labels(session)
    manual = manual or {}
    terms = queries.review_whole_populations(session)
    wholes = {code: config.whole(found) for code, found in terms.items()}
    related = queries.declared_related(session)
    checks = [_check(row, by_ref, labels, config, manual.get((row.review, row.claim_id), ()),
                     wholes.get(row.review) or config.whole(),
                     related.get(row.measure or "", frozenset()))
              for row in claims]
    checks = _with_pools(session, checks, claims, findings, config, labels)
    note = "" if checks else nothing_to_check(session, outcome=outcome)
    return Checks(checks, config=config, unit_labels=labels, note=note)


def _with_pools(session: Session, checks: list[ClaimCheck], claims: Sequence[CheckClaim],
                findings: Sequence[CheckFinding], config: VerifyConfig,
                labels: dict[str, str]) -> list[ClaimCheck]:
    """Each checkable claim with its cited sources pooled and the pool set against it (a
    sentence more in its explanation); unchanged without the synthesis extra."""
    if missing("synthesis"):
        return checks
    from ivcdb.synthesis import pool_claims

    checkable = [row for row, check in zip(claims, checks, strict=True) if check.reason is None]
    pools = pool_claims(session, checkable, findings)
    out = []
    for row, check in zip(claims, checks, strict=True):
        result = pools.get((row.review, row.claim_id))
        if result is not None:
            pooled = _claim_pool(_Claim.of(row), result, config, labels)
            check = dataclasses.replace(check, pooled=pooled, explanation=" ".join(
                x for x in (check.explanation, _sentence(pooled.text)) if x))
        out.append(check)
    return out


def _claim_pool(claim: _Claim, result: PoolResult, config: VerifyConfig,
                labels: dict[str, str]) -> ClaimPool:
    """The pool of a claim's sources against what the claim accepts."""
    pooled = result.pooled
    if pooled is None and not result.studies:  # (the pool would say "no source reports")
        return ClaimPool(None, None, None, 0, None, None, "Nothing recorded from the cited "
                         "sources to pool.", "not pooled: nothing recorded to pool")
    if pooled is None:  # the first sentence of the reason; the whole of it in `reason`
        why = (result.reason or "").split(". ", 1)[0].removesuffix(".")
        return ClaimPool(None, None, None, 0, None, None, result.reason,
                         "not pooled: " + lower_first(why.replace(": nothing to pool", "")))
    studies = [s for s in result.studies if s.weight is not None]
    refs = citations(list(dict.fromkeys(s.reference_number for s in studies)), Cite.SEPARATE,
                     keys=_unique(s.reference_key for s in studies))
    places = PLACES if claim.decimals is None else (
        claim.decimals if claim.percent else max(claim.decimals, PLACES))
    unit = unit_text(result.unit, labels)
    figure = (f"{format_number(round(pooled.estimate, places))}{unit} "
              f"({span(round(pooled.ci_low, places), round(pooled.ci_high, places), places)}"
              f"{unit})")
    text = f"pooled {figure} of {refs} (k = {pooled.k}, {pooled.method})"
    verdict = None
    if result.unit != claim.unit_code:
        text += ", in another unit than the claim, not compared"
    else:
        accepted, what = claim.accepted(config), "the claimed"
        row = claim.row
        if row.bounds == CI and row.value_low is not None and row.value_high is not None:
            # a claimed CI is what the claim accepts of a pool, not its point value alone
            accepted, what = _Interval(row.value_low, row.value_high), "the claimed CI"
        if not accepted.holds(pooled.estimate):
            verdict, word, tail = PoolVerdict.OUTSIDE, "outside", ""
        elif accepted.holds(pooled.ci_low) and accepted.holds(pooled.ci_high):
            verdict, word, tail = PoolVerdict.INSIDE, "inside", ""
        else:
            verdict, word, tail = PoolVerdict.ESTIMATE_INSIDE, "inside", ", but not its CI"
        text += f", {word} {what} {accepted.text(claim.unit_text(labels))}"
        text += (f" ({claim.claimed(labels)})" if claim.row.qualifier else "") + tail
    return ClaimPool(pooled.estimate, pooled.ci_low, pooled.ci_high, pooled.k, pooled.method,
                     verdict, None, text)


def nothing_to_check(session: Session, *, outcome: str | None = None) -> str:
    """Why `verify` lists no claim, as one line for the user."""
    if outcome is None:
        return "no claim cites a reference (see README, Source check)"
    code = queries.outcome_code(session, outcome)
    return f"no claim of outcome {code} cites a reference (see README, Source check)"


def _reason(claim: _Claim) -> Reason | None:
    """Why the claim cannot be compared with its sources' figures (None: it can)."""
    row = claim.row
    if not row.supporting:
        return Reason.NO_SUPPORTING_REFERENCE
    if row.outcome_kind == QUALITATIVE and not claim.has_figure:
        return Reason.QUALITATIVE
    if not claim.has_figure:
        return Reason.NO_NUMBERS
    if not row.measure:
        return Reason.NO_MEASURE
    return None


def relation(claim: CheckClaim, f: CheckFinding, whole: frozenset[str],
             related: frozenset[str] = frozenset()) -> Relation | None:
    """How a finding relates to a claim's outcome (None: unrelated), `whole` the folded
    populations that mean the whole study, `related` the measures declared related to the
    claim's; the check and `ivcdb pool` both use it."""
    if f.measure == claim.measure:
        population = fold(f.population or "")
        whole = whole | {fold(claim.population or "")}
        return Relation.SAME_MEASURE if not population or population in whole else (
            Relation.SUBGROUP)
    if claim.family and f.family == claim.family:
        return Relation.DIFFERENT_MEASURE
    if f.measure in related:
        return Relation.RELATED_MEASURE
    return None


def _check(row: CheckClaim, by_ref: dict[str, list[CheckFinding]], labels: dict[str, str],
           config: VerifyConfig, manual: Sequence[ManualVerdict] = (),
           whole: frozenset[str] = frozenset(WHOLE_POPULATIONS),
           related: frozenset[str] = frozenset()) -> ClaimCheck:
    claim = _Claim.of(row)
    reason = _reason(claim)
    accepted = claim.accepted(config) if reason is None else None
    compared: list[ComparedFinding] = []
    elsewhen: list[CheckFinding] = []  # the outcome's measure at other timepoints
    for ref in row.supporting:
        for f in by_ref.get(key_fold(ref.reference_key), []):
            relation_ = relation(row, f, whole, related)
            if relation_ is None:
                continue
            if _timepoints_match(claim.timepoints, normalise_timepoint(f.timepoint)):
                compared.append(_compare(claim, accepted, ref, f, relation_, labels))
            elif relation_ in (Relation.SAME_MEASURE, Relation.SUBGROUP):
                elsewhen.append(f)
    rank = list(Relation)
    order = {key_fold(r.reference_key): i for i, r in enumerate(row.supporting)}
    compared.sort(key=lambda c: (order[key_fold(c.reference_key)], rank.index(c.relation),
                                 c.measure, _months_key(c.timepoint), c.finding_id))
    automatic = _status(compared) if accepted is not None else Status.NOT_ASSESSABLE
    with_findings = {key_fold(c.reference_key) for c in compared  # context does not count
                     if c.relation is not Relation.RELATED_MEASURE}
    missing = [r for r in row.supporting if key_fold(r.reference_key) not in with_findings]
    read_in_full = {key_fold(r.reference_key) for r in row.supporting
                    if any(full_text_read(f) for f in by_ref.get(key_fold(r.reference_key), []))}
    remarks = _remarks(claim, reason, automatic, missing, elsewhen, read_in_full)
    remarks += _narrower(claim, automatic, compared, labels)
    cited = {key_fold(r.reference_key): i for i, r in enumerate(row.links)}
    manual = sorted(manual, key=lambda m: cited.get(key_fold(m.reference_key), len(cited)))
    lead = ([m.text() for m in manual]  # verdicts by hand, then why nothing is compared
            + remarks[:0 if reason is None else 1])
    sentences = lead + [f"{finding_text(c, labels)} — {c.assessment}{_caveats(c)}"
                        for c in compared] + remarks[0 if reason is None else 1:]
    figure = {name: getattr(row, name) for name in COMPARED_COLUMNS}
    figure["timepoint"] = row.timepoint or row.outcome_timepoint
    return ClaimCheck(
        claim_id=row.claim_id, review=row.review, outcome=row.outcome,
        measure=row.measure or "", statement=row.statement, claimed=claim.claimed(labels),
        qualifier=row.qualifier, **figure,
        reference_numbers=tuple(r.reference_number for r in row.supporting),
        reference_keys=tuple(r.reference_key for r in row.supporting),
        status=decide(automatic, manual), reason=reason, automatic_status=automatic,
        manual=tuple(manual), accepted_low=accepted.low if accepted else None,
        accepted_high=accepted.high if accepted else None, findings=tuple(compared),
        references_without_findings=tuple(r.reference_key for r in missing), remarks=tuple(remarks),
        explanation=_sentence("; ".join(sentences)))


def _compare(claim: _Claim, accepted: _Interval | None, ref: LinkRow, f: CheckFinding,
             relation: Relation, labels: dict[str, str]) -> ComparedFinding:
    figure = claim.on_scale(f) if accepted is not None else None
    verdict = low = high = None
    shown = ""  # the compared figure, when the finding prints it otherwise (as counts)
    precision = ""  # the claim's share, when compared at the finding's printed precision
    if figure is not None:
        low, high, computed = figure
        unit = claim.unit_text(labels)
        if computed or f.unit != claim.unit_code:
            shown = _span(low, high, unit)
        if computed and claim.decimals is not None:  # 286/377 = 75.86% is a printed 76%
            low, high = round(low, claim.decimals), round(high, claim.decimals)
            rounded = _span(low, high, unit)
            shown += f" ({rounded} at the claim's precision)" if rounded != shown else ""
        elif claim.counts and not computed and accepted is not None:
            # an n/N claim against a printed percentage only: at the printed precision
            # (165/1007 = 16.39% is a printed 16.4%)
            exact = accepted.text(unit)
            accepted = accepted.rounded(max(_decimals(low), _decimals(high)))
            if accepted.text(unit) != exact:
                precision = f" ({exact} at the finding's precision)"
    if accepted is not None and low is not None and high is not None and (
            relation in (Relation.SAME_MEASURE, Relation.SUBGROUP)):
        verdict = accepted.verdict(low, high)
    finding = {**{name: getattr(f, name) for name in FINDING_EXPORT_COLUMNS},
               "reference_number": ref.reference_number, "reference_key": ref.reference_key}
    return ComparedFinding(
        **finding, measure_label=f.measure_label, relation=relation, compared_low=low,
        compared_high=high, verdict=verdict,
        assessment=_assessment(claim, accepted, relation, verdict, shown, labels)
        + (precision if verdict is not None else ""))


def _status(compared: Sequence[ComparedFinding]) -> Status:
    """The same measure in the whole population decides; else another measure or subgroup."""
    verdicts = {c.verdict for c in compared
                if c.relation is Relation.SAME_MEASURE and c.verdict is not None}
    if verdicts == {Verdict.WITHIN}:
        return Status.CONSISTENT
    if verdicts == {Verdict.OUTSIDE}:
        return Status.INCONSISTENT
    if verdicts:
        return Status.PARTLY_CONSISTENT
    if any(c.relation in (Relation.SUBGROUP, Relation.DIFFERENT_MEASURE) for c in compared):
        return Status.DIFFERENT_MEASURE
    return Status.UNVERIFIED


# --- explanations -----------------------------------------------------------------------------


def finding_text(f: ComparedFinding, labels: dict[str, str]) -> str:
    """`[3]: 55% overall survival at 5 years, all patients`; `[3]: 0.79 (0.60–0.90) ...`."""
    figure = figure_text(f.value, f.value_low, f.value_high, f.numerator, f.denominator,
                         unit=unit_text(f.unit, labels), places=PLACES, bounds=f.bounds,
                         ci_low=f.ci_low, ci_high=f.ci_high,
                         ci_level=f.ci_level) or "no figure"
    text = f"{cite(f.reference_number, f.reference_key)}: {figure} "
    text += lower_first(f.measure_label)
    if f.timepoint:
        text += f" at {f.timepoint}"
    return text + (f", {f.population}" if f.population else "")


def _assessment(claim: _Claim, accepted: _Interval | None, relation: Relation,
                verdict: Verdict | None, shown: str, labels: dict[str, str]) -> str:
    """What the finding says about the claim, in a few words."""
    if relation is Relation.RELATED_MEASURE:
        measure = lower_first(claim.row.measure_label or claim.row.measure or "")
        return f"a measure related to {measure}, shown as context, not compared"
    if accepted is None:
        return "listed for reading"
    if relation is Relation.DIFFERENT_MEASURE:
        measure = lower_first(claim.row.measure_label or claim.row.measure or "")
        return f"a different measure from {measure}, not compared"
    if verdict is None:
        return "no figure in the claim's unit, not compared"
    interval = accepted.text(claim.unit_text(labels))
    claimed = claim.claimed(labels)
    word = {Verdict.WITHIN: "within", Verdict.OUTSIDE: "outside",
            Verdict.OVERLAPS: "partly within"}[verdict]
    text = f"{shown + ' ' if shown else ''}{word} {interval}"
    text += f" ({claimed})" if claim.row.qualifier else ""
    return f"subgroup, {text}" if relation is Relation.SUBGROUP else text


def _not_assessable(claim: _Claim, reason: Reason) -> str:
    """The reason a claim is not assessable, as the first sentence of its explanation."""
    row = claim.row
    if reason is Reason.NO_SUPPORTING_REFERENCE:
        refs = citations([r.reference_number for r in row.links], Cite.SEPARATE,
                         keys=[r.reference_key for r in row.links])
        return f"not assessable: {refs} cited only as disagreeing, no source in support"
    if reason is Reason.QUALITATIVE:
        return "not assessable: a qualitative statement, not compared with figures"
    if reason is Reason.NO_NUMBERS:
        return "not assessable: the claim states no figure to compare"
    return f"not assessable: outcome {row.outcome} has no measure to compare sources by"


def _remarks(claim: _Claim, reason: Reason | None, status: Status, missing: Sequence[LinkRow],
             elsewhen: Sequence[CheckFinding], read_in_full: set[str]) -> list[str]:
    """Why nothing is compared (if so), then what the compared findings leave open:
    references without one, other timepoints (`read_in_full`: folded citekeys of the
    sources read in full text)."""
    row = claim.row
    measure = lower_first(row.measure_label or row.measure or "")
    timepoint = row.timepoint or row.outcome_timepoint
    out = [] if reason is None else [_not_assessable(claim, reason)]
    if not row.measure:
        return out
    if missing:
        where = f" at {timepoint}" if timepoint else ""
        refs = citations([r.reference_number for r in missing], Cite.SEPARATE,
                         keys=[r.reference_key for r in missing])
        out.append(f"{measure}{where} not recorded from {refs}")
    if elsewhen and status in (Status.UNVERIFIED, Status.DIFFERENT_MEASURE,
                               Status.NOT_ASSESSABLE):
        seen = ", ".join(_unique(
            f.timepoint or "no stated timepoint"
            for f in sorted(elsewhen, key=lambda f: _months_key(f.timepoint))))
        # "reports only" needs the full text; an abstract may leave timepoints out
        sources = {key_fold(f.reference_key) for f in elsewhen}
        out.append(f"the cited sources' full texts report {measure} only at other timepoints: "
                   f"{seen}" if sources <= read_in_full else
                   f"{measure} is recorded from the cited sources only at other timepoints: "
                   f"{seen}")
    return out


def full_text_read(f: FindingRow) -> bool:
    """The finding says its source was read in full text: its note begins with `full text`
    (`full text, Table 2, p. 24`; case and accents ignored)."""
    return fold(f.note or "").startswith(FULL_TEXT)


def _caveats(f: ComparedFinding) -> str:
    """` — note: early version of the abstract, seen at https://...`: what qualifies a
    finding, for every format that prints the explanation (table and CSV included)."""
    parts = [f"note: {f.note}" if f.note else "", f"seen at {f.seen_at}" if f.seen_at else ""]
    text = ", ".join(p for p in parts if p)
    return f" — {text}" if text else ""


def _narrower(claim: _Claim, status: Status, compared: Sequence[ComparedFinding],
              labels: dict[str, str]) -> list[str]:
    """A consistent range wider than its evidence: say which bounds no source reports."""
    row = claim.row
    figures = [(c.compared_low, c.compared_high) for c in compared
               if c.relation is Relation.SAME_MEASURE and c.compared_low is not None
               and c.compared_high is not None]
    if status is not Status.CONSISTENT or row.value_low is None or row.value_high is None:
        return []
    if not figures:
        return []
    low = min(f[0] for f in figures if f[0] is not None)
    high = max(f[1] for f in figures if f[1] is not None)
    if low - row.value_low < _EPS and row.value_high - high < _EPS:
        return []
    unit = unit_text(row.unit, labels)
    verb = "are" if abs(high - low) < _EPS else "lie within"
    return [f"the sources' own figures {verb} {_span(low, high, unit)}, narrower than the "
            f"claimed {_span(row.value_low, row.value_high, unit)}"]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "." if text else ""


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- report -----------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell or list item."""
    return re.sub(r"([\\|*_`<])", r"\\\1", " ".join(text.split()))


def _link(address: str | None) -> str:
    if not address:
        return "not recorded"
    return f"<{address}>" if re.match(r"https?://\S+$", address) else _md(address)


def markdown_report(checks: Sequence[ClaimCheck], config: VerifyConfig | None = None,
                    *, labels: dict[str, str] | None = None) -> str:
    """A short report an author can attach to a peer review: summary table, then evidence."""
    config = config or VerifyConfig()
    labels = labels or {}
    reviews = _unique(c.review for c in checks)
    lines = [
        "# Source check",
        "",
        f"Review{'s' if len(reviews) > 1 else ''}: {', '.join(f'`{r}`' for r in reviews) or '—'}. "
        f"{tally(checks)}.",
        "",
        f"Each claim is compared with the figures its cited sources report for the same measure "
        f"and timepoint; {config.describe()}. A claim without a figure, a measure or a "
        "supporting source is not assessable. A source without a recorded finding is not "
        "evidence that it does not report one.",
    ]
    if checks:
        lines += ["", "| Claim | The review says | Cited | Status |", "| --- | --- | --- | --- |"]
    for c in checks:
        said = c.claimed + (f" at {c.timepoint}" if c.timepoint else "")
        lines.append(f"| `{c.claim_id}` | {_md(said)} | {_md(c.references_text())} | "
                     f"**{_md(c.status_text())}** |")
    for c in checks:
        said = c.claimed + (f" at {c.timepoint}" if c.timepoint else "")
        lines += ["", f"## `{c.claim_id}`: {_md(c.status_text())}", "",
                  f"> {_md(c.statement)}", "",
                  f"Claimed: {_md(said)}; cited: {_md(c.references_text())}.", ""]
        lines += [f"- {_md(_sentence(m.text()))}" + (f" “{_md(m.quote)}”" if m.quote else "")
                  for m in c.manual]
        lead = 1 if c.reason is not None else 0  # why nothing is compared comes first
        lines += [f"- {_md(_sentence(r))}" for r in c.remarks[:lead]]
        for f in c.findings:
            note = f" Note: {_md(f.note)}." if f.note else ""
            lines.append(f"- {_md(finding_text(f, labels))} — {_md(f.assessment)}.{note} "
                         f"Seen at {_link(f.seen_at)}.")
        lines += [f"- {_md(_sentence(r))}" for r in c.remarks[lead:]]
        if c.pooled is not None:  # nothing pooled: the pool's whole reason
            lines.append(f"- Not pooled: {_md(lower_first(c.pooled.reason))}"
                         if c.pooled.reason else f"- {_md(_sentence(c.pooled.text))}")
    return "\n".join(lines) + "\n"
