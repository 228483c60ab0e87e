"""`ivcdb plot`: forest charts and the reference map — files, determinism, content, errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, CliRun

from ivcdb import plots
from ivcdb.db import Database
from ivcdb.errors import NotFound, UsageError
from ivcdb.figures import normalise_timepoint

SURVIVAL = ["overall_survival_5y", "overall_survival_10y"]
PNG = b"\x89PNG\r\n\x1a\n"


def curated(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def built(shared_built: Database) -> Database:
    """Every test here only reads: the module's shared curated database."""
    return shared_built


def chart(db: Database, outcomes: list[str]) -> Any:
    """The chart's one page (the curated outcomes fit one)."""
    with db.session() as session:
        (page,) = plots.outcome_chart(session, outcomes=outcomes)
    return page


# --- files and determinism --------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "magic"), [(".png", PNG), (".svg", b"<?xml"),
                                               (".pdf", b"%PDF")])
def test_cli_writes_the_chart(built: Database, tmp_path: Path, cli: CliRun, suffix: str,
                              magic: bytes) -> None:
    target = tmp_path / f"survival{suffix}"
    code, _, err = cli("plot", "outcome", *SURVIVAL, "--db", built.url,
                    "--output", str(target))
    assert (code, err.startswith("wrote ")) == (0, True)
    assert target.read_bytes().startswith(magic) and target.stat().st_size > 5000


@pytest.mark.parametrize("fmt", plots.FORMATS)
def test_same_database_same_bytes(built: Database, fmt: str) -> None:
    first = plots.render(chart(built, SURVIVAL), fmt)
    second = plots.render(chart(built, SURVIVAL), fmt)
    assert first == second


def test_same_bytes_from_another_process(built: Database, tmp_path: Path) -> None:
    """SVG ids are hashed with a fixed salt and no date is written: a new process agrees."""
    target = tmp_path / "map.svg"
    subprocess.run([sys.executable, "-m", "ivcdb.cli", "plot", "map", "--db", built.url,
                    "--output", str(target)], check=True, capture_output=True, timeout=120)
    with built.session() as session:
        here = plots.render(plots.reference_map(session), "svg")
    assert target.read_bytes() == here
    assert b"<dc:date>" not in here and b"Matplotlib v" not in here


def test_png_has_no_software_stamp(built: Database) -> None:
    data = plots.render(chart(built, ["overall_survival_5y"]), "png")
    assert data.startswith(PNG) and b"Software" not in data and b"matplotlib" not in data


# --- errors -----------------------------------------------------------------------------------


def test_unknown_outcome_is_a_clear_error(built: Database, tmp_path: Path,
                                          cli: CliRun) -> None:
    with pytest.raises(NotFound, match="unknown outcome 'no_such_outcome'"):
        chart(built, ["overall_survival_5y", "no_such_outcome"])
    target = tmp_path / "x.png"
    code, _, err = cli("plot", "outcome", "no_such_outcome", "--db",
                    built.url, "--output", str(target))
    assert code == 1 and err.count("\n") == 1 and "no_such_outcome" in err
    assert not target.exists()


def test_qualitative_outcome_has_nothing_to_plot(built: Database) -> None:
    qualitative = next(r["code"] for r in curated("outcomes.csv") if r["kind"] == "qualitative")
    with pytest.raises(NotFound, match="qualitative"):
        chart(built, [qualitative])


@pytest.mark.parametrize("name", ["chart.jpg", "chart"])
def test_only_png_svg_and_pdf(name: str) -> None:
    with pytest.raises(UsageError, match=r"\.png or \.svg or \.pdf"):
        plots.chart_format(name)


# --- content ----------------------------------------------------------------------------------


def _expected_sources(claim: dict[str, str]) -> tuple[int, int]:
    """(same measure, related measure) findings of the claim's references, from the data."""
    outcomes = {r["code"]: r for r in curated("outcomes.csv")}
    family = {r["code"]: r["family"] for r in curated("measures.csv")}
    outcome = outcomes[claim["outcome"]]
    when = normalise_timepoint(claim["timepoint"] or outcome["timepoint"])
    keys = set(claim["reference_keys"].split(";"))
    same = related = 0
    for f in curated("findings.csv"):
        if f["reference_key"] not in keys or f["unit"] != claim["unit"]:
            continue
        if when and not when & normalise_timepoint(f["timepoint"]):
            continue
        if f["measure"] == outcome["measure"]:
            same += 1
        elif family[f["measure"]] == family[outcome["measure"]] != "":
            related += 1
    return same, related


def test_survival_chart_draws_every_claim_and_source_figure(built: Database) -> None:
    claims = [c for c in curated("claims.csv") if c["outcome"] in SURVIVAL]
    fig = chart(built, SURVIVAL)
    marks = dict(plots.marks(fig))
    ranges = sum(1 for c in claims if c["value_low"])
    points = sum(1 for c in claims if c["value"])
    same = sum(_expected_sources(c)[0] for c in claims)
    related = sum(_expected_sources(c)[1] for c in claims)
    assert marks.get("ivcdb-claim-range", 0) == ranges > 0
    assert marks.get("ivcdb-claim-point", 0) == points
    assert marks.get("ivcdb-source-point", 0) == same + related > 0
    squares = {line.get_marker() for ax in fig.axes for line in ax.lines
               if line.get_gid() == "ivcdb-source-point"}
    assert squares == {"s"}  # a study's own figure is no diamond: diamonds mean pooled
    hollow = [line for ax in fig.axes for line in ax.lines
              if line.get_gid() == "ivcdb-source-point" and line.get_markerfacecolor() == "white"]
    assert len(hollow) == related > 0  # disease-free survival beside overall survival
    (ax,) = fig.axes  # one unit, one panel
    assert "%" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    for c in claims:
        cited = "[" + ",".join(c["reference_numbers"].split(";")) + "]"
        assert any(label.endswith(cited) for label in labels)


def test_qualifier_is_shown_beside_the_figure(built: Database) -> None:
    fig = chart(built, ["overall_survival_5y"])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    claim = next(c for c in curated("claims.csv") if c["outcome"] == "overall_survival_5y")
    assert claim["qualifier"] == "approximately"
    assert f"≈ {claim['value_low']}–{claim['value_high']} %" in texts


def test_one_panel_per_unit(built: Database) -> None:
    """A count out of a total joins the percentages; a count alone keeps its own panel."""
    outcomes = ["overall_survival_5y", "nephrectomy", "typical_age", "hepatic_nodule_count"]
    units = {"percent" if c["denominator"] else c["unit"] for c in curated("claims.csv")
             if c["outcome"] in outcomes}
    fig = chart(built, outcomes)
    assert len(fig.axes) == len(units) == 3
    assert [ax.get_xlabel() for ax in fig.axes] == ["Percent (%)", "Years", "Count"]


def test_map_marks_every_reference_outcome_pair(built: Database) -> None:
    pairs = {(key, c["outcome"]) for c in curated("claims.csv")
             for key in c["reference_keys"].split(";") if key}
    with built.session() as session:
        fig = plots.reference_map(session)
    (ax,) = fig.axes
    assert dict(plots.marks(fig))["ivcdb-map-cell"] == len(pairs)
    references = {key for key, _ in pairs}
    assert len(ax.get_yticklabels()) == len(references)
    assert len(ax.get_xticklabels()) == len({outcome for _, outcome in pairs})


def test_readme_shows_the_current_survival_chart(built: Database) -> None:
    """docs/img/survival.png is embedded and has the layout the code draws today."""
    root = DATA.parent
    assert "](docs/img/survival.png)" in (root / "README.md").read_text(encoding="utf-8")
    data = (root / "docs" / "img" / "survival.png").read_bytes()
    assert data.startswith(PNG)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    fig = chart(built, SURVIVAL)
    assert (width, height) == tuple(round(x * plots.DPI) for x in fig.get_size_inches())
    assert plots.DPI >= 300


def test_unknown_outcome_reads_as_in_query(built: Database, tmp_path: Path,
                                           cli: CliRun) -> None:
    """Same lookup as `query`/`verify`: quoted name, close matches, any case accepted."""
    code, _, err = cli("plot", "outcome", "overall_survival_5", "--db",
                    built.url, "--output", str(tmp_path / "x.png"))
    assert code == 1
    assert err.startswith("error: unknown outcome 'overall_survival_5' (did you mean "
                          "'overall_survival_5y'")
    code, _, query_err = cli("query", "claims", "--outcome",
                          "overall_survival_5", "--db", built.url)
    assert query_err == err
    fig = chart(built, ["OVERALL_SURVIVAL_5Y"])
    assert fig.get_suptitle() == "Overall survival at 5 years"


def test_one_outcome_has_no_repeated_heading(built: Database) -> None:
    (ax,) = chart(built, ["overall_survival_5y"]).axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Overall survival at 5 years" not in labels
    (ax,) = chart(built, SURVIVAL).axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert {"Overall survival at 5 years", "Overall survival at 10 years"} <= set(labels)


def test_percent_axis_ends_at_100_with_labels_inside(built: Database) -> None:
    """A figure near 100 % gets its label on the left of its mark, inside the axes."""
    percent = [r["code"] for r in curated("outcomes.csv") if r["unit"] == "percent"]
    near_top = [c["outcome"] for c in curated("claims.csv")
                if c["outcome"] in percent and c["value"] and float(c["value"]) >= 85]
    assert near_top  # the curated data has one (patency up to 90%)
    fig = chart(built, [*SURVIVAL, *near_top])
    for ax in fig.axes:
        assert ax.get_xlim() == (0.0, 100.0)
        renderer = fig.canvas.get_renderer()
        right = ax.get_window_extent(renderer).x1
        for text in ax.texts:
            assert text.get_window_extent(renderer).x1 <= right + 1, text.get_text()
    assert any(t.get_ha() == "right" for ax in fig.axes for t in ax.texts)


def test_source_rows_name_the_study(built: Database) -> None:
    """`Wachtel 2015 [3]: overall survival, 5 years`, not `source [3]`."""
    (ax,) = chart(built, ["overall_survival_5y"]).axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Wachtel 2015 [3]: overall survival, 5 years" in labels
    assert not any(label.startswith("source") for label in labels)


def test_claimed_range_is_a_light_band(built: Database) -> None:
    """A claimed range must not read as a confidence interval: translucent, full row."""
    (ax,) = chart(built, ["overall_survival_5y"]).axes
    (band,) = [p for p in ax.patches if p.get_gid() == "ivcdb-claim-range"]
    assert band.get_alpha() is not None and band.get_alpha() < 0.5


def test_count_out_of_a_total_is_a_percentage(built: Database) -> None:
    claim = next(c for c in curated("claims.csv")
                 if c["unit"] == "count" and c["numerator"] and c["denominator"])
    share = 100 * int(claim["numerator"]) / int(claim["denominator"])
    (ax,) = chart(built, [claim["outcome"]]).axes
    assert ax.get_xlabel() == "Percent (%)" and ax.get_xlim() == (0.0, 100.0)
    (point,) = [line for line in ax.lines if line.get_gid() == "ivcdb-claim-point"]
    assert list(point.get_xdata()) == [share]
    texts = [t.get_text() for t in ax.texts]
    assert f"{claim['numerator']}/{claim['denominator']} ({share:g}%)" in texts


def test_title_sits_above_the_data(built: Database) -> None:
    fig = chart(built, [*SURVIVAL, "nephrectomy"])
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)  # noqa: SLF001 (matplotlib's own)
    for ax in fig.axes:
        assert title.y0 >= ax.get_window_extent(renderer).y1


def test_long_chart_goes_on_to_further_pages(built: Database, tmp_path: Path) -> None:
    """Pages no taller than asked, each with its title and axis; every row drawn once."""
    outcomes = [*SURVIVAL, "nephrectomy", "typical_age", "vro_patency", "female_proportion"]
    with built.session() as session:
        (whole,) = plots.outcome_chart(session, outcomes=outcomes, page_max=100.0, dpi=100)
        pages = plots.outcome_chart(session, outcomes=outcomes, page_max=4.0, dpi=100)
    assert len(pages) > 1
    rows = [t.get_text() for fig in pages for ax in fig.axes for t in ax.get_yticklabels()]
    assert rows == [t.get_text() for ax in whole.axes for t in ax.get_yticklabels()]
    for number, fig in enumerate(pages, start=1):
        assert fig.get_size_inches()[1] <= 4.0 + 1e-9
        assert fig.get_suptitle().endswith(f"(page {number} of {len(pages)})")
        assert all(ax.get_xlabel() for ax in fig.axes)
    paths = plots.save_pages(pages, tmp_path / "chart.png")
    assert [p.name for p in paths] == ["chart.png", *(f"chart-{n}.png"
                                                      for n in range(2, len(pages) + 1))]


def test_dpi_and_width(built: Database, tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "c.png"
    code, _, err = cli("plot", "outcome", "overall_survival_5y", "--db", built.url,
                       "--output", str(target), "--dpi", "150", "--width", "8")
    assert code == 0, err
    data = target.read_bytes()
    assert int.from_bytes(data[16:20], "big") == 8 * 150


def test_svg_and_pdf_keep_text_editable(built: Database) -> None:
    fig = chart(built, ["overall_survival_5y"])
    svg = plots.render(fig, "svg")
    assert b"<text" in svg and b"Wachtel 2015 [3]" in svg
    pdf = plots.render(fig, "pdf")
    assert b"/FontFile2" in pdf  # an embedded TrueType font: text, not outlines
    assert b"/CreationDate" not in pdf and b"Matplotlib" not in pdf
