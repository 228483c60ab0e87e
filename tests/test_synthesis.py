"""ivcdb.synthesis: pooling a review's cited findings for one outcome."""

from __future__ import annotations

import json

from ivcdb.synthesis import ClaimedRange, Pooled, PoolResult, StudyRow

TOP = ["k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q",
       "q_p", "method"]
STUDY = ["reference_key", "reference_number", "label", "events", "n", "estimate", "ci_low",
         "ci_high", "weight"]


def _result(pooled: Pooled | None, reason: str | None) -> PoolResult:
    study = StudyRow("wachtel2015", 3, "Wachtel 2015", None, None, 55.0, None, None, None,
                     "a Kaplan-Meier estimate without its own SE, CI or events/n")
    return PoolResult("overall_survival_5y", "Overall survival at 5 years", "percent",
                      "overall_survival", "5 years", "li2025", (study,), pooled, reason,
                      (ClaimedRange("li2025-os-5y", None, 40.0, 70.0, "[3], [5]"),))


def test_json_layout_is_the_issues() -> None:
    pooled = Pooled(2, 30, 58.0, 47.0, 68.0, 30.0, 80.0, 0.1, 20.0, 1.3, 0.25, "REML", "z")
    out = json.loads(_result(pooled, None).to_json())
    keys = list(out)
    assert keys[keys.index("k"):keys.index("method") + 1] == TOP
    assert [out[k] for k in TOP] == [2, 30, 58.0, 47.0, 68.0, 30.0, 80.0, 0.1, 20.0, 1.3, 0.25,
                                     "REML"]
    assert list(out["studies"][0])[:len(STUDY)] == STUDY
    assert out["reason"] is None and out["claims"][0]["citation"] == "[3], [5]"


def test_json_when_nothing_is_pooled_says_why() -> None:
    out = json.loads(_result(None, "fewer than two studies can be pooled").to_json())
    assert out["reason"] == "fewer than two studies can be pooled"
    assert out["k"] == 0 and all(out[k] is None for k in TOP if k != "k")
    assert out["studies"][0]["weight"] is None and out["studies"][0]["reason"]
