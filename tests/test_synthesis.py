"""ivcdb.synthesis: a review's cited findings for one outcome, pooled as metafor pools them.

`tests/data/pool_demo` is a fictional review (pool2026) whose outcome `success` carries the
counts of metafor's dat.pritz1997 and `exposure_or` the first six odds ratios of
dat.hackshaw1998, so `pool` must give metafor's figures (tests/data/metafor); around them
sit findings that must be listed and not pooled, each for its own reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import ENGINES, ROOT, CliRun, shared_database
from loadkit import load_pool_demo

from ivcdb.db import Database
from ivcdb.errors import NotFound, UsageError
from ivcdb.meta import Control, log_ratio, logit_proportion, rma
from ivcdb.synthesis import ClaimedRange, Pooled, PoolResult, StudyRow, pool, pool_review

METAFOR = ROOT / "tests" / "data" / "metafor"
TOP = ["k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q",
       "q_p", "method"]
STUDY = ["reference_key", "reference_number", "label", "events", "n", "estimate", "ci_low",
         "ci_high", "weight"]




@pytest.fixture(scope="module", params=ENGINES)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         pg_admin: sa.Engine | None) -> Iterator[Database]:
    """li2025 and the fictional pool2026, loaded once per module and engine (read only)."""
    with shared_database(request.param, tmp_path_factory, pg_admin, load_pool_demo) as database:
        yield database


def _metafor(name: str, method: str = "REML", test: str = "z") -> dict[str, float]:
    data = json.loads((METAFOR / f"{name}.json").read_text(encoding="utf-8"))
    return next(f for f in data["fits"] if (f["method"], f["test"], f["control"])
                == (method, test, "default" if method == "REML" else "tight"))


def _expit100(x: float) -> float:
    return 100 / (1 + math.exp(-x))


@pytest.mark.parametrize(("method", "hk"), [("REML", False), ("REML", True), ("DL", False),
                                            ("PM", True)])
def test_proportions_pool_as_metafor_plo(demo: Database, method: str, hk: bool) -> None:
    result = pool(demo, "success", review="pool2026", method=method, hk=hk)  # type: ignore[arg-type]
    fit = _metafor("pritz1997", method, "knha" if hk else "z")
    p = result.pooled
    assert p is not None and (p.k, p.n, p.method, p.test) == (14, 326, method,
                                                              "knha" if hk else "z")
    assert p.estimate == pytest.approx(_expit100(fit["estimate"]), rel=1e-9)
    for ours, theirs in ((p.ci_low, "ci_low"), (p.ci_high, "ci_high"), (p.pi_low, "pi_low"),
                         (p.pi_high, "pi_high")):
        assert ours == pytest.approx(_expit100(fit[theirs]), rel=1e-9)
    assert (p.tau2, p.i2, p.q, p.q_p) == pytest.approx(
        (fit["tau2"], fit["i2"], fit["q"], fit["q_p"]), rel=1e-9)
    pooled = [s for s in result.studies if s.weight is not None]
    assert [s.weight for s in pooled] == pytest.approx(fit["weights"], rel=1e-9)
    assert sum(s.weight or 0 for s in pooled) == pytest.approx(100)


def test_study_rows_say_why_a_finding_is_not_pooled(demo: Database) -> None:
    result = pool(demo, "success", review="pool2026")
    rows = [(s.label, s.events, s.n, s.reason) for s in result.studies]
    assert rows[:4] == [
        ("Aalto 1991", 16, 17, None),
        ("Aalto 1991", None, 10, "a subgroup (women only), not the whole study"),
        ("Berg 1992", None, 12, "another figure of the same study (one per study is pooled)"),
        ("Berg 1992", 10, 12, None),  # its counts are pooled, not its printed 80% of 12
    ]
    assert ("Castro 1993", None, 8, "another measure (late success), not success") in rows
    dahl = next(s for s in result.studies if s.label == "Dahl 1994")
    assert (dahl.events, dahl.n, dahl.estimate) == (43, 58, 74.14)  # 74.14% of 58: 43 events
    eklund = next(s for s in result.studies if s.label == "Eklund 1995")
    assert (eklund.estimate, eklund.ci_high) == (100.0, 100.0)  # 10/10: Wilson CI, ½ pooled
    assert eklund.ci_low == pytest.approx(72.2, abs=0.05)
    assert result.claims == (ClaimedRange("pool2026-success", None, 70.0, 85.0,
                                          ", ".join(f"[{n}]" for n in range(1, 15))),)
    assert (result.unit, result.measure, result.timepoint) == ("percent", "success", None)


def test_survival_needs_its_own_se_ci_or_events(demo: Database) -> None:
    result = pool(demo, "survival_3y", review="pool2026")
    by_label = {s.label: s for s in result.studies}
    assert set(by_label) == {"Aalto 1991", "Berg 1992", "Castro 1993", "Dahl 1994"}
    assert by_label["Castro 1993"].reason == (
        "a Kaplan-Meier survival estimate without its own SE, CI or events/n (a cohort size "
        "is not its n)")  # 60% with n = 40: not 24 events of 40
    # by hand: logit SE from the CI 70-88%, from SE 5 points by the delta method, events 30/50
    z = 1.959963984540054
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    yi = [logit(0.8), logit(0.75), logit_proportion(30, 50).yi]
    vi = [((logit(0.88) - logit(0.70)) / (2 * z)) ** 2, (0.05 / (0.75 * 0.25)) ** 2,
          logit_proportion(30, 50).vi]
    fit = rma(yi, vi)
    assert result.pooled is not None and result.pooled.k == 3 and result.pooled.n is None
    assert result.pooled.estimate == pytest.approx(_expit100(fit.estimate), rel=1e-12)
    assert result.pooled.tau2 == pytest.approx(fit.tau2, rel=1e-12)


def test_ratios_pool_on_the_log_scale_with_se_from_the_ci(demo: Database) -> None:
    result = pool(demo, "exposure_or", review="pool2026", method="DL")
    data = json.loads((METAFOR / "hackshaw1998.json").read_text(encoding="utf-8"))["inputs"]
    effects = [log_ratio(o, lo, hi) for o, lo, hi in
               zip(data["or"][:6], data["or_lb"][:6], data["or_ub"][:6], strict=True)]
    fit = rma([e.yi for e in effects], [e.vi for e in effects], method="DL")
    assert result.pooled is not None and result.pooled.k == 6
    assert result.pooled.estimate == pytest.approx(math.exp(fit.estimate), rel=1e-12)
    assert result.pooled.ci_low == pytest.approx(math.exp(fit.ci_low), rel=1e-12)
    reasons = {s.reason for s in result.studies if s.reason}
    assert reasons == {"a hazard ratio, while this outcome pools odds ratios",
                       "a ratio without its CI or SE"}
    assert result.unit == "ratio"


def test_medians_are_listed_never_pooled(demo: Database) -> None:
    result = pool(demo, "followup", review="pool2026")
    assert result.pooled is None and len(result.studies) == 2
    assert {s.reason for s in result.studies} == {"a median or IQR: listed, never pooled"}
    assert result.reason == ("None of the cited studies gives a figure that can be pooled, and "
                             "pooling needs two. [1] Aalto 1991, [2] Berg 1992: a median or "
                             "IQR: listed, never pooled.")


def test_curated_five_year_survival_says_why_nothing_is_pooled(demo: Database) -> None:
    result = pool(demo, "overall_survival_5y", review="li2025")
    assert result.pooled is None
    assert [(s.reference_number, s.label, s.estimate) for s in result.studies] == [
        (3, "Wachtel 2015", 55.0), (3, "Wachtel 2015", 6.0), (5, "Nooromid 2022", 65.0)]
    assert result.reason is not None
    assert result.reason.startswith("None of the cited studies gives a figure that can be "
                                    "pooled, and pooling needs two. [3] Wachtel 2015, "
                                    "[5] Nooromid 2022: a Kaplan-Meier survival estimate "
                                    "without its own SE, CI or events/n")
    assert "[3] Wachtel 2015: another measure (disease-free survival)" in result.reason


def test_one_usable_study_is_not_pooled(demo: Database) -> None:
    result = pool(demo, "female_proportion", review="li2025")
    study, = result.studies
    assert (study.events, study.n, study.weight) == (286, 377, None)
    assert result.pooled is None and result.reason is not None
    assert result.reason.startswith("Only one of the cited studies")


def test_outcome_without_cited_findings(demo: Database) -> None:
    result = pool(demo, "nephrectomy", review="li2025")
    assert (result.studies, result.pooled) == ((), None)
    assert result.reason == "No cited source reports nephrectomy: nothing to pool."
    assert result.claims[0].value == 50  # 5 of 10, as a percentage


@pytest.mark.parametrize("review", ["pool2026", "li2025"])
def test_pooling_a_whole_review_gives_each_outcomes_pool(demo: Database, review: str) -> None:
    with demo.session() as session:
        every = pool_review(session, review=review, method="PM", hk=True)
    assert [r.outcome for r in every] == sorted({r.outcome for r in every}, key=str.encode)
    assert {"overall_survival_5y", "success"} & {r.outcome for r in every}
    for result in every:
        assert result == pool(demo, result.outcome, review=review, method="PM", hk=True)


@pytest.mark.parametrize(("args", "error", "message"), [
    ({"outcome": "sucess", "review": "pool2026"}, NotFound, "did you mean"),
    ({"outcome": "success"}, UsageError, "2 reviews are loaded"),
    ({"outcome": "success", "review": "nope"}, UsageError, "unknown review 'nope'"),
    ({"outcome": "success", "review": "pool2026", "method": "HS"}, UsageError,
     "unknown method 'HS'"),
], ids=["unknown-outcome", "several-reviews", "unknown-review", "unknown-method"])
def test_refusals(demo: Database, args: dict[str, str], error: type[Exception],
                  message: str) -> None:
    with pytest.raises(error, match=message):
        pool(demo, **args)  # type: ignore[arg-type]


def test_cli_json_is_the_issues_layout(cli: CliRun, demo: Database) -> None:
    code, out, err = cli("pool", "success", "--review", "pool2026", "--format", "json",
                         "--db", demo.url)
    assert (code, err) == (0, "")
    data = json.loads(out)
    keys = list(data)
    assert keys[keys.index("k"):keys.index("method") + 1] == TOP
    assert data["k"] == 14 and data["method"] == "REML" and data["reason"] is None
    assert list(data["studies"][0])[:len(STUDY)] == STUDY
    assert data["studies"][0]["label"] == "Aalto 1991"


def test_cli_table_and_csv(cli: CliRun, demo: Database) -> None:
    code, out, _ = cli("pool", "overall_survival_5y", "--review", "li2025", "--format",
                       "table", "--db", demo.url)
    assert code == 0
    assert "Not pooled. None of the cited studies gives a figure that can be pooled" in out
    assert "Claimed by li2025-os-5y: 40–70% [3], [5]" in out
    code, out, _ = cli("pool", "success", "--review", "pool2026", "--method", "DL", "--hk",
                       "--format", "csv", "--db", demo.url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("row,reference_key,reference_number,label,events,n,estimate")
    assert lines[-1].startswith("pooled,,,Pooled (DL),,326,")
    assert lines[-1].endswith(",DL,knha")


def test_cli_refuses_an_unknown_method(cli: CliRun, demo: Database) -> None:
    code, out, err = cli("pool", "success", "--review", "pool2026", "--method", "ML",
                         "--db", demo.url)
    assert (code, out) == (2, "") and "ML" in err


# --- the result's data classes ----------------------------------------------------------------


def _result(pooled: Pooled | None, reason: str | None) -> PoolResult:
    study = StudyRow("wachtel2015", 3, "Wachtel 2015", None, None, 55.0, None, None, None,
                     "a Kaplan-Meier survival estimate without its own SE, CI or events/n")
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


def test_a_claimed_value_keeps_its_ci() -> None:
    from ivcdb.render import pool_summary

    claim = ClaimedRange("x-hr", 0.79, 0.6, 0.9, "[1], [2]", "ci")
    result = PoolResult("death_hr", "Hazard ratio of death", "ratio", "death_hr", None, "x",
                        (), None, "nothing", (claim,))
    assert pool_summary(result)[-1] == "Claimed by x-hr: 0.79 (0.60–0.90) [1], [2]"
    assert json.loads(result.to_json())["claims"][0]["bounds"] == "ci"


def test_json_when_nothing_is_pooled_says_why() -> None:
    out = json.loads(_result(None, "fewer than two studies can be pooled").to_json())
    assert out["reason"] == "fewer than two studies can be pooled"
    assert out["k"] == 0 and all(out[k] is None for k in TOP if k != "k")
    assert out["studies"][0]["weight"] is None and out["studies"][0]["reason"]


def test_default_control_is_metafors() -> None:
    assert Control() == Control(threshold=1e-5, stepadj=1.0, maxiter=100)
