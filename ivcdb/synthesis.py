"""Evidence synthesis: pool what a review's cited sources report for one outcome.

`pool(db, outcome)` reads the findings of the references a review cites for the outcome's
measure and timepoint (as `ivcdb verify` finds them), puts each usable one on its pooling
scale (`ivcdb.meta`: logit proportions, log ratios, raw means) and fits metafor's
random-effects model; every finding not pooled is listed with the reason. The result
(`PoolResult`) is what `ivcdb pool`, the forest plot and `verify`'s pooled line read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ClaimedRange", "PoolResult", "Pooled", "StudyRow"]


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
