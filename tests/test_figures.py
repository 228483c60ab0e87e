"""The one formatter: figures, citations, reference labels, author names and timepoints, and
every output (table, source check, snapshot view, chart) printing figures through it."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from conftest import DATA

from ivcdb import figures, plots, queries
from ivcdb.db import Database
from ivcdb.exports import evidence_table
from ivcdb.figures import Cite, Style, citations, figure_text, unit_text
from ivcdb.snapshot import snapshot
from ivcdb.verify import verify

LABELS = {"percent": "%", "mm": "mm", "min": "minutes", "year": "calendar year",
          "count": "count"}


# --- figures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("figure", "unit", "words", "signs"), [
    pytest.param((None, 40.0, 70.0, None, None, "approximately"), "percent",
                 "approximately 40–70%", "≈ 40–70 %", id="range-approximately"),
    pytest.param((90.0, None, None, None, None, "up to"), "percent", "up to 90%", "≤ 90 %",
                 id="up-to"),
    pytest.param((44.0, None, None, None, None, "approximately"), "mm", "approximately 44 mm",
                 "≈ 44 mm", id="millimetres"),
    pytest.param((390.0, None, None, None, None, None), "min", "390 minutes", "390 minutes",
                 id="unit-label"),
    pytest.param((None, None, None, 5, 10, None), "count", "5/10", "5/10", id="counts"),
    pytest.param((None, None, None, 3, 7, "more than"), "count", "more than 3/7", "> 3/7",
                 id="qualified-counts"),
    pytest.param((76.0, None, None, 286, 377, None), "percent", "76% (286/377)", "76 %",
                 id="value-and-counts"),
    pytest.param((2022.0, None, None, None, None, None), "year", "2022", "2022",
                 id="calendar-year-unspelled"),
    pytest.param((12.0, None, None, None, None, "at least"), "count", "at least 12", "≥ 12",
                 id="count-unspelled"),
    pytest.param((None, None, None, None, None, "approximately"), "percent", "", "",
                 id="qualitative"),
    pytest.param((None, 40.0, None, None, None, None), "percent", "", "",
                 id="one-bound-is-no-range"),
    pytest.param((50.0, 40.0, 60.0, None, None, None), "percent", "40–60%", "40–60 %",
                 id="range-before-value"),
])
def test_figure_text_in_both_styles(figure: tuple[object, ...], unit: str, words: str,
                                    signs: str) -> None:
    value, low, high, numerator, denominator, qualifier = figure
    args = (value, low, high, numerator, denominator, qualifier)
    assert figure_text(*args, unit=unit_text(unit, LABELS)) == words  # type: ignore[arg-type]
    assert figure_text(*args, style=Style.SIGNS,  # type: ignore[arg-type]
                       unit=unit_text(unit, LABELS, Style.SIGNS)) == signs


@pytest.mark.parametrize(("figure", "expected"), [
    pytest.param({"value": 0.79, "low": 0.6, "high": 0.9, "bounds": "ci"}, "0.79 (0.60–0.90)",
                 id="claim-value-with-ci"),
    pytest.param({"value": 55.0, "low": 45.0, "high": 65.0, "bounds": "iqr"}, "55 (IQR 45–65)",
                 id="value-with-iqr"),
    pytest.param({"value": 55.0, "low": 45.0, "high": 65.0, "bounds": "range"}, "45–65",
                 id="explicit-range-as-before"),
    pytest.param({"value": 0.79, "ci_low": 0.6, "ci_high": 0.9}, "0.79 (0.60–0.90)",
                 id="finding-value-with-ci"),
    pytest.param({"value": 0.79, "ci_low": 0.6, "ci_high": 0.9, "ci_level": 95.0},
                 "0.79 (0.60–0.90)", id="level-95-unnamed"),
    pytest.param({"value": 0.79, "ci_low": 0.6, "ci_high": 0.9, "ci_level": 90.0},
                 "0.79 (90% CI 0.60–0.90)", id="other-level-named"),
    pytest.param({"ci_low": 0.6, "ci_high": 0.9}, "CI 0.6–0.9", id="ci-alone"),
    pytest.param({"low": 45.0, "high": 65.0, "bounds": "iqr"}, "IQR 45–65", id="iqr-alone"),
    pytest.param({"value": 31.0, "low": 5.0, "high": 100.0, "ci_low": 25.0, "ci_high": 40.0},
                 "31 (25–40; range 5–100)", id="ci-and-range"),
    pytest.param({"value": 0.79, "ci_low": 0.6}, "0.79", id="one-ci-bound-is-no-ci"),
])
def test_a_value_keeps_its_interval(figure: dict[str, float | str], expected: str) -> None:
    args = {k: figure.get(k) for k in ("value", "low", "high")}
    rest = {k: v for k, v in figure.items() if k not in args}
    assert figure_text(*args.values(), **rest) == expected  # type: ignore[arg-type]


def test_an_interval_takes_the_unit_qualifier_and_counts() -> None:
    assert figure_text(55.0, None, None, ci_low=49.0, ci_high=61.0,
                       unit="%") == "55% (49–61%)"
    assert figure_text(0.79, 0.6, 0.9, qualifier="approximately", bounds="ci",
                       style=Style.SIGNS) == "≈ 0.79 (0.60–0.90)"
    assert figure_text(76.0, None, None, 286, 377, ci_low=71.5, ci_high=80.1,
                       unit="%") == "76.0% (71.5–80.1%) (286/377)"


def test_share_and_places_for_the_source_check() -> None:
    assert figure_text(None, None, None, 5, 10, share=True, places=2) == "5/10 (50%)"
    assert figure_text(None, None, None, 3, 7, "more than", share=True,
                       places=2) == "more than 3/7 (42.86%)"
    assert figure_text(33.3333, None, None, places=2, unit="%") == "33.33%"
    assert figure_text(None, 40.001, 40.004, places=2, unit="%") == "40%"


def test_printed_text_keeps_the_reviews_words() -> None:
    assert figures.printed_text("approximately", "44×41 mm") == "approximately 44×41 mm"
    assert figures.printed_text(None, "two") == "two"
    assert figures.printed_text("approximately", None) == ""


# --- citations and references -----------------------------------------------------------------


@pytest.mark.parametrize(("style", "expected"), [
    (Cite.COMPACT, "[1,3]"), (Cite.SPACED, "[1, 3]"), (Cite.SEPARATE, "[1], [3]"),
])
def test_citation_styles(style: Cite, expected: str) -> None:
    assert citations([1, None, 3], style) == expected
    assert citations([None], style) == ""


def test_unnumbered_references_by_citekey() -> None:
    assert citations([3, None], Cite.SEPARATE, keys=["wachtel2015", "smith2020"]) == (
        "[3], smith2020")
    assert figures.cite(None, "smith2020") == "smith2020"


@pytest.mark.parametrize(("args", "expected"), [
    ((3, "Wachtel", 2015, "wachtel2015"), "[3] Wachtel 2015"),
    ((3, "Wachtel", None, "wachtel2015"), "[3] Wachtel"),
    ((None, "Wachtel", 2015, "wachtel2015"), "wachtel2015"),
    ((3, None, 2015, "wachtel2015"), "wachtel2015"),
])
def test_reference_labels(args: tuple[int | None, str | None, int | None, str],
                          expected: str) -> None:
    assert figures.reference_label(*args) == expected


def test_study_labels() -> None:
    assert figures.study_label("Wachtel", 2015, "k", et_al=True) == "Wachtel et al. 2015"
    assert figures.study_label(None, 2020, "zeta2020") == "zeta2020 2020"
    assert figures.numbered(3, figures.study_label("Wachtel", 2015, "k")) == "[3] Wachtel 2015"


# --- author names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "expected"), [
    (("Toit", "D", "Du", ""), "Du Toit D"),
    (("Berg", "Jan Willem", "van der", "Jr"), "van der Berg JW Jr"),
    (("Martin", "Jean-Pierre", "", ""), "Martin JP"),
    (("Roe", "R. A.", "", ""), "Roe RA"),
    (("Plato", "", "", ""), "Plato"),
])
def test_author_names(parts: tuple[str, str, str, str], expected: str) -> None:
    assert figures.author_name(*parts) == expected


def test_author_lists() -> None:
    names = ["Wachtel H", "Gupta M", "Bartlett E", "Doe J"]
    assert figures.author_list(names) == "Wachtel H, Gupta M, Bartlett E, et al."
    assert figures.author_list(names[:3]) == "Wachtel H, Gupta M, Bartlett E"
    assert figures.author_list(names[:1], et_al=True) == "Wachtel H, et al."
    assert figures.full_name("Berg", "Jan", "van der", "Jr") == "van der Berg Jan Jr"


# --- timepoints -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("5 years", {"60 months"}),
    ("5-year", {"60 months"}),
    ("at 60 months", {"60 months"}),
    ("1 Year", {"12 months"}),
    ("3 and 5 years", {"36 months", "60 months"}),
    ("3- and 5-year", {"36 months", "60 months"}),
    ("1, 3 and 5 years", {"12 months", "36 months", "60 months"}),
    ("median follow-up 31.6 months", {"median follow-up 31.6 months"}),
    ("Preoperative", {"preoperative"}),
    ("", set()),
    (None, set()),
])
def test_normalise_timepoint(text: str | None, expected: set[str]) -> None:
    assert figures.normalise_timepoint(text) == expected


def test_timepoints_sort_by_months() -> None:
    texts = ["preoperative", "5 years", "1 year", "6 months"]
    assert sorted(texts, key=figures.timepoint_months) == ["6 months", "1 year", "5 years",
                                                           "preoperative"]


# --- every output prints the figure through the formatter --------------------------------------


def _curated_claims() -> list[dict[str, str]]:
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _args(c: dict[str, str]) -> tuple[float | None, float | None, float | None, int | None,
                                      int | None, str | None]:
    def num(name: str) -> float | None:
        return float(c[name]) if c[name] else None

    def count(name: str) -> int | None:
        return int(c[name]) if c[name] else None

    return (num("value"), num("value_low"), num("value_high"), count("numerator"),
            count("denominator"), c["qualifier"] or None)


def _numbers(c: dict[str, str]) -> list[int | None]:
    return [int(n) for n in c["reference_numbers"].split(";") if n]


def test_every_output_prints_the_curated_figures_alike(built: Database, tmp_path: Path) -> None:
    """Table and source check print the words style, snapshot and charts the signs style: for
    each curated claim, each output's text is the formatter's."""
    claims = {c["claim_id"]: c for c in _curated_claims()}
    with built.session() as session:
        labels = queries.unit_labels(session)
        checks = {c.claim_id: c for c in verify(session)}
    figured = {k: c for k, c in claims.items() if figure_text(*_args(c))}
    assert len(figured) > 20

    words = {k: figure_text(*_args(c), unit=unit_text(c["unit"], labels))
             for k, c in figured.items()}
    table: dict[str, str] = {}
    for outcome in sorted({c["outcome"] for c in figured.values()}):
        rows = csv.DictReader(io.StringIO(evidence_table(built, outcome, fmt="csv")))
        table.update((r["claim_id"], r["value"]) for r in rows if r["claim_id"] in figured)
    assert table == words

    checked = [k for k in checks if k in figured]
    assert len(checked) >= 5
    for k in checked:  # the source check adds a count's share: `5/10 (50%)`
        shared = figure_text(*_args(claims[k]), unit=unit_text(claims[k]["unit"], labels),
                             share=True, places=2)
        assert checks[k].claimed == shared
        assert shared.startswith(table[k])
        assert checks[k].references_text() == citations(_numbers(claims[k]), Cite.SEPARATE)

    path = snapshot(built.url, tmp_path / "snap.sqlite").path
    with sqlite3.connect(path) as conn:
        view = {k: (f, cited) for k, f, cited in
                conn.execute("SELECT claim_id, figure, cited FROM claims_view")}
    for k, c in claims.items():
        assert view[k] == (figure_text(*_args(c), style=Style.SIGNS),
                           citations(_numbers(c), Cite.SPACED))

    with built.session() as session:
        (fig,) = plots.outcome_chart(session, outcomes=["overall_survival_5y", "ivc_diameter",
                                                        "operative_time", "nephrectomy"])
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    for k in ("li2025-os-5y", "li2025-case-us-ivc-diameter",
              "li2025-nephrectomy-no-reconstruction"):
        c = claims[k]
        share = bool(c["denominator"])  # a count out of a total is drawn as its share
        assert figure_text(*_args(c), style=Style.SIGNS, share=share, places=1 if share
                           else None, unit=unit_text(c["unit"], labels, Style.SIGNS)) in texts
        assert any(t.endswith(citations(_numbers(c))) for t in ticks)


def test_every_output_prints_a_value_with_its_ci(built: Database, data_copy: Path,
                                                 tmp_path: Path) -> None:
    """A claim's point value with its CI and a finding's CI print alike in the evidence
    table, the source check, the snapshot (web UI), `show` and the chart."""
    from loadkit import edit_claims, write

    from ivcdb.loaders import Sources, load
    from ivcdb.render import with_figure

    claims = write(data_copy / "claims.csv", edit_claims(
        {"li2025-os-5y": {"value": "55", "bounds": "ci", "qualifier": ""}}))
    findings = (DATA / "findings.csv").read_text(encoding="utf-8").splitlines()
    findings = [findings[0] + ",ci_low,ci_high", *(line + ",," for line in findings[1:])]
    os5 = next(i for i, line in enumerate(findings) if line.startswith(
        "wachtel2015,3,overall_survival,55,"))
    findings[os5] = findings[os5][:-2] + ",49,61"
    load(built, Sources(claims=[claims],
                        findings=[write(data_copy / "findings.csv", "\n".join(findings))]))
    claimed, found = "55% (40–70%)", "55% (49–61%)"
    rows = csv.DictReader(io.StringIO(evidence_table(built, "overall_survival_5y", fmt="csv")))
    assert {r["claim_id"]: r["value"] for r in rows}["li2025-os-5y"] == claimed
    with built.session() as session:
        (check,) = [c for c in verify(session) if c.claim_id == "li2025-os-5y"]
        detail = queries.reference_detail(session, "wachtel2015")
    assert check.claimed == claimed
    assert f"[3]: {found} overall survival at 5 years" in check.explanation
    (finding,) = [f for f in detail.finding_dicts() if f["ci_low"] == 49]
    assert with_figure(finding)["figure"] == "55 (49–61)"  # `show`: the unit has a column
    (claim,) = [c for c in detail.claim_dicts() if c["claim_id"] == "li2025-os-5y"]
    assert claim["bounds"] == "ci"
    path = snapshot(built.url, tmp_path / "snap.sqlite").path
    with sqlite3.connect(path) as conn:
        (figure,) = conn.execute("SELECT figure FROM claims_view WHERE claim_id = "
                                 "'li2025-os-5y'").fetchone()
        beside = {f for (f,) in conn.execute("SELECT figure FROM claim_finding")}
    assert figure == "55 (40–70)"  # the view has the unit in a column of its own
    assert "55 (49–61)" in beside  # the web UI's claims beside the sources' figures
    with built.session() as session:
        (fig,) = plots.outcome_chart(session, outcomes=["overall_survival_5y"])
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"55 % (40–70 %)", "55 % (49–61 %)"} <= texts
