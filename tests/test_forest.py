"""`ivcdb plot forest`: the layout read from the figure's artists (not a pixel golden), pages,
determinism, editable text, Wilson intervals. The studies here are made up (hand-made pool
results); the curated data's forest plot is tested through the CLI."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, CliRun

from ivcdb import forest, plots
from ivcdb.db import Database
from ivcdb.errors import UsageError
from ivcdb.meta import wilson
from ivcdb.synthesis import ClaimedRange, Pooled, PoolResult, StudyRow

POOLED = Pooled(k=3, n=480, estimate=60.1, ci_low=50.2, ci_high=69.3, pi_low=30.5,
                pi_high=84.0, tau2=0.12, i2=56.3, q=4.58, q_p=0.101, method="REML", test="z")
STUDIES = (
    StudyRow("alpha2015", 3, "Alpha 2015", 200, 377, 53.0, 48.0, 58.1, 45.0, None),
    StudyRow("beta2022", 5, "Beta 2022", 60, 92, 65.2, 55.0, 74.0, 30.0, None),
    StudyRow("gamma2016", 2, "Gamma 2016", 8, 11, 72.7, None, None, 25.0, None),
    StudyRow("delta2012", 6, "Delta 2012", None, 15, 80.0, None, None, None,
             "a crude rate at follow-up, not a 5-year estimate"),
)
RESULT = PoolResult(outcome="overall_survival_5y", label="Overall survival at 5 years",
                    unit="percent", measure="overall_survival", timepoint="5 years",
                    review="li2025", studies=STUDIES, pooled=POOLED, reason=None,
                    claims=(ClaimedRange("li2025-os-5y", None, 40.0, 70.0, "[3], [5]"),))


def artists(fig: Any, gid: str) -> list[Any]:
    (ax,) = fig.axes
    return [a for a in [*ax.lines, *ax.patches, *ax.texts] if a.get_gid() == gid]


def texts(fig: Any) -> list[str]:
    return [t.get_text() for t in [*fig.texts, *(t for ax in fig.axes for t in ax.texts)]]


def test_layout() -> None:
    """Labels with n, squares whose area follows the weight, a diamond, the claimed band with
    its citation, value and weight columns, heterogeneity under the diamond."""
    (fig,) = forest.forest_pages(RESULT, dpi=100)
    shown = texts(fig)
    for label in ("Alpha 2015 (n = 377)", "Beta 2022 (n = 92)", "Gamma 2016 (n = 11)",
                  "Delta 2012 (n = 15)", "Study", "Estimate [95% CI]", "Weight"):
        assert label in shown
    assert "53.0 [48.0, 58.1]" in shown and "45.0%" in shown
    assert "60.1 [50.2, 69.3]" in shown
    squares = artists(fig, "ivcdb-forest-square")
    assert len(squares) == 3  # the pooled studies
    by_weight = sorted(zip((s.weight for s in STUDIES[:3]), squares, strict=True),
                       key=lambda pair: pair[0])
    sides = [square.get_markersize() for _, square in by_weight]
    assert sides == sorted(sides) and sides[0] < sides[-1]
    # area proportional to weight
    ratio = (sides[-1] / sides[0]) ** 2
    assert math.isclose(ratio, by_weight[-1][0] / by_weight[0][0], rel_tol=1e-9)
    (diamond,) = artists(fig, "ivcdb-forest-diamond")
    xs = sorted(x for x, _ in diamond.get_xy())
    assert (xs[0], xs[-1]) == (POOLED.ci_low, POOLED.ci_high)
    (pi,) = artists(fig, "ivcdb-forest-pi")
    assert list(pi.get_xdata()) == [POOLED.pi_low, POOLED.pi_high]
    (band,) = artists(fig, "ivcdb-forest-claim")
    assert band.get_alpha() < 0.5
    (label,) = artists(fig, "ivcdb-forest-claim-label")
    assert label.get_text() == "review's claim [3], [5]: 40–70 %"
    (heterogeneity,) = artists(fig, "ivcdb-forest-heterogeneity")
    assert heterogeneity.get_text() == ("Heterogeneity: τ² = 0.12; I² = 56.3%; "
                                        "Q = 4.58 (df = 2), p = 0.101")
    assert fig.axes[0].get_xscale() == "linear" and not artists(fig, "ivcdb-forest-null")


def test_study_not_pooled_keeps_its_row_with_the_reason() -> None:
    (fig,) = forest.forest_pages(RESULT, dpi=100)
    (hollow,) = artists(fig, "ivcdb-forest-unpooled")
    assert list(hollow.get_xdata()) == [80.0]
    (reason,) = artists(fig, "ivcdb-forest-reason")
    assert reason.get_text() == "not pooled: a crude rate at follow-up, not a 5-year estimate"
    assert "—" in texts(fig)  # no weight


def test_proportion_without_ci_gets_its_wilson_interval() -> None:
    (fig,) = forest.forest_pages(RESULT, dpi=100)
    low, high = wilson(8, 11)
    assert "72.7 [" + f"{100 * low:.1f}, {100 * high:.1f}]" in texts(fig)
    whiskers = [list(line.get_xdata()) for line in artists(fig, "ivcdb-forest-ci")]
    assert [100 * low, 100 * high] in whiskers


@pytest.mark.parametrize(("events", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718)])
def test_wilson_interval(events: int, n: int, low: float, high: float) -> None:
    """The Wilson score limits Newcombe (Stat Med 1998;17:857-72, Table I, method 3) gives."""
    got = wilson(events, n)
    assert got == pytest.approx((low, high), abs=5e-5)
    from statsmodels.stats.proportion import proportion_confint

    assert got == pytest.approx(proportion_confint(events, n, method="wilson"), abs=1e-12)


def test_wilson_interval_of_none_or_all_ends_exactly_at_0_or_1() -> None:
    assert wilson(0, 15)[0] == 0.0 and wilson(20, 20)[1] == 1.0


def test_ratio_on_a_log_axis_with_a_line_of_no_effect() -> None:
    studies = (StudyRow("epsilon2018", 17, "Epsilon 2018", None, 500, 0.79, 0.60, 0.90, 60.0,
                        None),
               StudyRow("zeta2020", 18, "Zeta 2020", None, 300, 1.10, 0.80, 1.50, 40.0, None))
    pooled = replace(POOLED, k=2, estimate=0.88, ci_low=0.64, ci_high=1.21, pi_low=0.3,
                     pi_high=2.6)
    result = replace(RESULT, unit="ratio", measure="hazard_ratio",
                     studies=studies, pooled=pooled, claims=())
    (fig,) = forest.forest_pages(result, dpi=100)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    (null,) = artists(fig, "ivcdb-forest-null")
    assert list(null.get_xdata()) == [1.0, 1.0]
    low, high = ax.get_xlim()
    assert low < 0.3 and high > 2.6
    assert "0.79 [0.60, 0.90]" in texts(fig)
    # the log axis is labelled with plain numbers, not `$\\mathdefault{10^{0}}$` printed as is
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible()]
    assert labels == ["0.5", "1", "2"]
    assert not [t for t in ax.get_xticklabels(minor=True) if t.get_text()]


@pytest.mark.parametrize(("low", "high", "ticks"), [
    pytest.param(0.45, 1.7, [0.5, 0.7, 1.0, 1.5], id="narrow"),
    pytest.param(0.25, 3.0, [0.5, 1.0, 2.0], id="tenfold"),
    pytest.param(0.005, 150, [0.01, 0.1, 1.0, 10.0, 100.0], id="wide"),
    pytest.param(0.95, 1.05, [1.0], id="hardly-any"),
])
def test_ratio_ticks_are_plain_numbers_readers_know(low: float, high: float,
                                                    ticks: list[float]) -> None:
    assert forest.ratio_ticks(low, high) == ticks


def test_note_under_the_chart_is_wrapped_to_its_width() -> None:
    (fig,) = forest.forest_pages(RESULT, dpi=100, width=7)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    (note,) = [t for t in fig.texts if t.get_text().startswith("Squares")]
    assert note.get_window_extent(renderer).x1 <= fig.bbox.width


def test_nothing_pooled_says_why_and_draws_no_diamond() -> None:
    result = replace(RESULT, pooled=None, reason="fewer than two studies report events/n",
                     studies=tuple(replace(s, weight=None, reason="no SE") for s in STUDIES))
    (fig,) = forest.forest_pages(result, dpi=100)
    assert not artists(fig, "ivcdb-forest-diamond") and not artists(fig, "ivcdb-forest-square")
    (why,) = artists(fig, "ivcdb-forest-not-pooled")
    assert why.get_text() == "Not pooled: fewer than two studies report events/n"


def many(k: int) -> PoolResult:
    rnd = random.Random(k)
    studies = []
    for i in range(k):
        n = rnd.randint(10, 400)
        events = rnd.randint(1, n - 1)
        studies.append(StudyRow(f"s{i}", i + 1, f"Author{i} {1990 + i % 30}", events, n,
                                100 * events / n, None, None,
                                None if i % 9 == 0 else 100 / k, None if i % 9 else "subgroup"))
    return replace(RESULT, studies=tuple(studies))


def test_200_studies_go_on_pages_no_taller_than_4000_px() -> None:
    pages = forest.forest_pages(many(200), dpi=300)
    assert len(pages) > 1
    labels = []
    for number, fig in enumerate(pages, start=1):
        assert fig.get_size_inches()[1] * 300 <= 4000
        shown = texts(fig)
        assert {"Study", "Estimate [95% CI]", "Weight"} <= set(shown)  # header repeated
        assert fig.axes[0].get_xlabel() == "Overall survival at 5 years (%)"  # axis repeated
        assert f"Overall survival at 5 years (page {number} of {len(pages)})" in shown
        assert bool(artists(fig, "ivcdb-forest-diamond")) == (number == len(pages))
        labels += [t.get_text() for t in artists(fig, "ivcdb-forest-label")]
    assert labels == [f"{s.label} (n = {s.n})" for s in many(200).studies]
    assert len({fig.axes[0].get_xlim() for fig in pages}) == 1  # one scale on every page


@pytest.mark.parametrize("fmt", plots.FORMATS)
def test_same_result_same_bytes(fmt: str) -> None:
    first = [plots.render(fig, fmt) for fig in forest.forest_pages(RESULT)]
    second = [plots.render(fig, fmt) for fig in forest.forest_pages(RESULT)]
    assert first == second


def test_png_at_300_dpi_and_editable_svg_and_pdf() -> None:
    (fig,) = forest.forest_pages(RESULT)
    png = plots.render(fig, "png")
    assert int.from_bytes(png[16:20], "big") == round(forest.WIDTH_IN * 300)
    svg = plots.render(fig, "svg")
    assert b"<text" in svg and b"Alpha 2015 (n = 377)" in svg
    pdf = plots.render(fig, "pdf")
    assert b"/FontFile2" in pdf and b"/CreationDate" not in pdf


def test_too_narrow_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="too narrow"):
        forest.forest_pages(RESULT, width=4.0)


# --- the command, on the curated data ---------------------------------------------------------


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])
def test_cli_writes_the_forest_plot(shared_built: Database, tmp_path: Path, cli: CliRun,
                                    suffix: str, magic: bytes) -> None:
    target = tmp_path / f"forest{suffix}"
    code, _, err = cli("plot", "forest", "overall_survival_5y", "--db", shared_built.url,
                       "--output", str(target))
    assert (code, err) == (0, f"wrote {target}\n")
    assert target.read_bytes().startswith(magic)


def test_cli_default_name_dpi_and_width(shared_built: Database, tmp_path: Path, cli: CliRun,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("plot", "forest", "overall_survival_5y", "--db", shared_built.url,
                       "--dpi", "100", "--width", "9")
    assert code == 0, err
    data = (tmp_path / "overall_survival_5y-forest.png").read_bytes()
    assert int.from_bytes(data[16:20], "big") == 900


def test_curated_5_year_plot(shared_built: Database) -> None:
    """[3] and [5] report 5-year survival without an SE, CI or events/n: listed with the
    reason, nothing pooled; the review's 40-70% is the band."""
    (fig,) = forest.forest_plot(shared_built, "overall_survival_5y", dpi=100)
    shown = texts(fig)
    assert any(t.startswith("Wachtel 2015") for t in shown)
    assert any(t.startswith("Nooromid 2022") for t in shown)
    assert len(artists(fig, "ivcdb-forest-reason")) >= 2
    (label,) = artists(fig, "ivcdb-forest-claim-label")
    assert label.get_text() == "review's claim [3], [5]: 40–70 %"
    assert artists(fig, "ivcdb-forest-claim")


def test_readme_shows_the_curated_forest_plot(shared_built: Database) -> None:
    root = DATA.parent
    assert "](docs/img/forest-5y.png)" in (root / "README.md").read_text(encoding="utf-8")
    assert "--output docs/img/forest-5y.png" in (root / "Makefile").read_text(encoding="utf-8")
    data = (root / "docs" / "img" / "forest-5y.png").read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    (fig,) = forest.forest_plot(shared_built, "overall_survival_5y", dpi=100)
    assert (width, height) == tuple(round(x * 300) for x in fig.get_size_inches())
