"""Forest plots of one outcome's meta-analysis (`ivcdb plot forest`), as clinicians read them.

`forest_pages(result)` draws a `synthesis.PoolResult`: one row per study labelled
`Wachtel 2015 (n = 377)`, a square whose area is proportional to the study's weight, its
confidence interval as a whisker (a proportion given only as events/n gets its Wilson
interval), its estimate [CI] and weight as text columns; then the pooled estimate as a diamond
with its prediction interval as a line, and the heterogeneity under it (τ², I², Q, p). The
review's claimed figures are shaded bands labelled with their citations; ratios are drawn on a
log axis with a line of no effect at 1. A study that is not pooled keeps its row: its figure
(a hollow circle, no square), no weight, and the reason under its label.

Rows that do not fit one page go on to further pages, each repeating the title, the column
headings and the axis (at most `PAGE_MAX_IN` inches tall: 3,300 px at 300 dpi). Figures are
deterministic, as every chart of `ivcdb.plots`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivcdb.figures import Style, estimate_text, figure_text, first_sentence
from ivcdb.plots import DPI, MUTED, new_figure, style
from ivcdb.terms import PERCENT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ivcdb.db import Database
    from ivcdb.synthesis import ClaimedRange, PoolResult, StudyRow

__all__ = ["PAGE_MAX_IN", "WIDTH_IN", "forest_pages", "forest_plot", "is_ratio"]

WIDTH_IN = 10.0
PAGE_MAX_IN = 11.0  # a US letter page's height; 3,300 px at 300 dpi
ROW_IN = 0.25  # one study row
REASON_LINE_IN = 0.17  # each line of a not-pooled study's reason
TOP_IN = 0.75  # title and subtitle
HEAD_IN = 0.32  # column headings
CLAIM_LABEL_IN = 0.17  # one claimed range's label above the plot
AXIS_IN = 0.62  # ticks and the axis label under the rows
POOLED_IN = 0.7  # gap, diamond row, heterogeneity line
FOOT_IN = 0.3  # the note under the axis
MARGIN_IN = 0.12
CHAR_IN = 0.066  # rough width of one 9 pt DejaVu Sans character
NOTE_CHAR_IN = 0.056  # the same at the note's 7 pt, rounded up so a wrapped line fits
# Ticks of a ratio's log axis: the densest series giving at least three within the limits.
RATIO_TICK_SERIES = ((0.01, 0.1, 1.0, 10.0, 100.0),
                     (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0),
                     (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0),
                     (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5))
VALUE_IN = 1.75  # the estimate [CI] column
WEIGHT_IN = 0.7
MAX_SQUARE_PT = 13.0  # side of the heaviest study's square
MIN_SQUARE_PT = 2.0  # so that a study of tiny weight stays visible
STUDY_COLOUR = "#1f3f66"
POOLED_COLOUR = "#1f5f99"
CLAIM_COLOUR = "#e8a33d"
RATIO_MEASURES = ("ratio",)  # a unit or measure code naming a ratio: log scale, null at 1


@dataclass(frozen=True, slots=True)
class _Line:
    """One study as drawn."""

    label: str
    estimate: float | None
    low: float | None
    high: float | None
    weight: float | None  # percent; None: not pooled
    reason: tuple[str, ...]  # the reason, wrapped; empty when pooled

    @property
    def height(self) -> float:
        return ROW_IN + REASON_LINE_IN * len(self.reason)


def is_ratio(result: PoolResult) -> bool:
    """Ratios (hazard, odds, risk) are drawn on a log axis with a line of no effect at 1."""
    names = (result.unit or "", result.measure or "")
    return any(word in name for name in names for word in RATIO_MEASURES)


def _lines(result: PoolResult, width_chars: int) -> list[_Line]:
    return [_line(study, result, width_chars) for study in result.studies]


def _line(study: StudyRow, result: PoolResult, width_chars: int) -> _Line:
    low, high = study.ci_low, study.ci_high
    if (low is None or high is None) and study.events is not None and study.n:
        scale = 100.0 if result.unit == PERCENT else 1.0
        from ivcdb.meta import wilson

        low, high = (scale * x for x in wilson(study.events, study.n))
    estimate = study.estimate
    if estimate is None and study.events is not None and study.n:
        estimate = (100.0 if result.unit == PERCENT else 1.0) * study.events / study.n
    label = study.label + (f" (n = {_count(study.n)})" if study.n is not None else "")
    pooled = study.weight is not None
    reason = () if pooled else tuple(textwrap.wrap(
        f"not pooled: {study.reason or 'no usable figure'}", width_chars))
    return _Line(label, estimate, low, high, study.weight, reason)


def _count(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _places(result: PoolResult) -> int:
    return 2 if is_ratio(result) else 1


def ratio_ticks(low: float, high: float) -> list[float]:
    """Ticks of a log axis from `low` to `high`, plain numbers readers know (0.5, 1, 2):
    the first series giving three or more, else the densest one's."""
    inside: list[float] = []
    for series in RATIO_TICK_SERIES:
        inside = [t for t in series if low <= t <= high]
        if len(inside) >= 3:
            return inside
    return inside or [1.0]


def _limits(result: PoolResult, lines: Sequence[_Line], ratio: bool) -> tuple[float, float]:
    """The x range: every estimate, interval and claimed bound, with a margin; a percent axis
    stays within 0-100, a ratio axis spans 1."""
    values = [v for line in lines for v in (line.estimate, line.low, line.high) if v is not None]
    if result.pooled is not None:
        p = result.pooled
        values += [v for v in (p.estimate, p.ci_low, p.ci_high, p.pi_low, p.pi_high)
                   if v is not None and math.isfinite(v)]
    values += [v for c in result.claims for v in (c.value, c.low, c.high) if v is not None]
    if ratio:
        values = [v for v in values if v > 0] + [1.0]
        low, high = math.log10(min(values)), math.log10(max(values))
        pad = max(0.1 * (high - low), 0.05)
        return 10 ** (low - pad), 10 ** (high + pad)
    if not values:
        return (0.0, 100.0) if result.unit == PERCENT else (0.0, 1.0)
    low, high = min(values), max(values)
    pad = max(0.06 * (high - low), 1e-9 + 0.5 * abs(high) * 0.01)
    low, high = low - pad, high + pad
    if result.unit == PERCENT:
        low, high = max(0.0, low), min(100.0, high)
        if high - low < 10:
            low, high = max(0.0, low - 5), min(100.0, high + 5)
    return low, high


def _pages(lines: Sequence[_Line], capacity: float) -> list[list[_Line]]:
    """Rows split into pages of at most `capacity` inches of rows (at least one row each)."""
    pages: list[list[_Line]] = [[]]
    used = 0.0
    for line in lines:
        if pages[-1] and used + line.height > capacity:
            pages.append([])
            used = 0.0
        pages[-1].append(line)
        used += line.height
    return pages


def _claims_text(claims: Sequence[ClaimedRange], unit: str) -> list[str]:
    """`review's claim [3,5]: 40–70 %` for each claimed range."""
    return [f"review's claim {claim.citation}: " + figure_text(
        claim.value, claim.low, claim.high, style=Style.SIGNS, unit=unit, bounds=claim.bounds)
        for claim in claims]


def forest_pages(result: PoolResult, *, dpi: int = DPI, width: float = WIDTH_IN,
                 page_max: float = PAGE_MAX_IN) -> list[Figure]:
    """The forest plot of `result`, one figure per page (see the module docstring)."""
    if not result.studies:
        from ivcdb.errors import NotFound

        raise NotFound(f"no study reports {result.label}: nothing to plot"
                       + (f" ({result.reason})" if result.reason else ""))
    ratio = is_ratio(result)
    label_in = min(max(2.2, 0.3 * width), 0.42 * width)
    plot_in = width - label_in - VALUE_IN - WEIGHT_IN - 2 * MARGIN_IN
    if plot_in < 1.5:
        from ivcdb.errors import UsageError

        raise UsageError(f"--width {width:g} is too narrow for a forest plot (at least "
                         f"{width - plot_in + 1.5:g} inches)")
    lines = _lines(result, int((label_in + plot_in) / CHAR_IN) - 2)
    limits = _limits(result, lines, ratio)
    claims = [c for c in result.claims if (c.low, c.high, c.value) != (None, None, None)]
    head = HEAD_IN + CLAIM_LABEL_IN * len(claims)
    fixed = TOP_IN + head + AXIS_IN + FOOT_IN
    capacity = page_max - fixed - POOLED_IN
    if capacity < ROW_IN + REASON_LINE_IN * 3:
        from ivcdb.errors import UsageError

        raise UsageError(f"a page of {page_max:g} inches cannot hold a forest plot")
    pages = _pages(lines, capacity)
    weights = [line.weight for line in lines if line.weight]
    biggest = max(weights, default=1.0)
    figures = []
    with style():
        for number, rows in enumerate(pages, start=1):
            last = number == len(pages)
            page = _Page(result, rows, number, len(pages), last, ratio, limits, claims,
                         biggest)
            figures.append(page.draw(dpi, width, label_in, plot_in, fixed))
    return figures


@dataclass(slots=True)
class _Page:
    result: PoolResult
    rows: list[_Line]
    number: int
    of: int
    last: bool
    ratio: bool
    limits: tuple[float, float]
    claims: list[ClaimedRange]
    biggest: float

    def draw(self, dpi: int, width: float, label_in: float, plot_in: float,
             fixed: float) -> Figure:
        rows_in = sum(r.height for r in self.rows) + (POOLED_IN if self.last else 0.0)
        height = fixed + rows_in
        fig = new_figure(width, height, dpi=dpi)
        left = MARGIN_IN + label_in
        bottom = AXIS_IN + FOOT_IN
        ax = fig.add_axes((left / width, bottom / height, plot_in / width, rows_in / height))
        y_end = rows_in / ROW_IN  # y in row units, 0 at the top
        ax.set_ylim(y_end, 0)
        ax.set_xlim(*self.limits)
        if self.ratio:
            from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

            ax.set_xscale("log")
            # The chart style draws text literally (no mathtext), so the log scale's own
            # `$10^{0}$` labels would print as written: plain numbers at chosen ticks.
            ticks = ratio_ticks(*self.limits)
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.set_xticklabels([f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.axvline(1.0, color="#333333", linewidth=0.8, gid="ivcdb-forest-null")
        ax.set_yticks([])
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(self._axis_label())
        self._title(fig, height)
        self._headings(fig, ax, width, height, left + plot_in)
        self._bands(ax)
        y = 0.0
        for row in self.rows:
            self._study(fig, ax, row, y + ROW_IN / 2 / ROW_IN, width, left + plot_in)
            y += row.height / ROW_IN
        if self.last:
            self._pooled(fig, ax, y, width, left + plot_in)
        note = "\n".join(textwrap.wrap(self._note(), int((width - 2 * MARGIN_IN) / NOTE_CHAR_IN)))
        fig.text(MARGIN_IN / width, 0.04 / height, note, fontsize=7, color=MUTED,
                 ha="left", va="bottom", linespacing=1.1)
        return fig

    def _axis_label(self) -> str:
        r = self.result
        name = r.label
        if r.unit == PERCENT:
            return f"{name} (%)"
        return f"{name} ({r.unit})" if r.unit and not self.ratio else name

    def _title(self, fig: Figure, height: float) -> None:
        r = self.result
        title = r.label + (f" (page {self.number} of {self.of})" if self.of > 1 else "")
        fig.text(MARGIN_IN / fig.get_figwidth(), 1 - 0.12 / height, title, fontsize=11,
                 fontweight="bold", ha="left", va="top")
        parts = [f"review {r.review}" if r.review else "", f"at {r.timepoint}"
                 if r.timepoint else "", self._model()]
        fig.text(MARGIN_IN / fig.get_figwidth(), 1 - 0.42 / height,
                 " · ".join(p for p in parts if p), fontsize=8.5, color=MUTED, ha="left",
                 va="top")

    def _model(self) -> str:
        p = self.result.pooled
        if p is None:
            return "not pooled"
        test = ", Knapp–Hartung" if p.test == "t" else ""
        return f"random effects ({p.method}{test})"

    def _headings(self, fig: Figure, ax: Axes, width: float, height: float,
                  right_in: float) -> None:
        y = 1 - (TOP_IN + HEAD_IN * 0.5) / height
        bold: dict[str, Any] = {"fontweight": "bold", "va": "center"}
        fig.text(MARGIN_IN / width, y, "Study", ha="left", **bold)
        fig.text((right_in + VALUE_IN - 0.1) / width, y, "Estimate [95% CI]", ha="right",
                 **bold)
        fig.text((width - MARGIN_IN) / width, y, "Weight", ha="right", **bold)
        from matplotlib.transforms import blended_transform_factory

        trans = blended_transform_factory(ax.transData, fig.transFigure)
        unit = " %" if self.result.unit == PERCENT else ""
        for index, (claim, text) in enumerate(zip(self.claims,
                                                  _claims_text(self.claims, unit),
                                                  strict=True)):
            centre = _centre(claim, self.ratio)
            y_text = 1 - (TOP_IN + HEAD_IN + CLAIM_LABEL_IN * (index + 0.5)) / height
            ax.text(centre, y_text, text, transform=trans, ha="center", va="center",
                    fontsize=7.5, color="#8a5a00", gid="ivcdb-forest-claim-label")

    def _bands(self, ax: Axes) -> None:
        for claim in self.claims:
            if claim.low is not None and claim.high is not None:
                ax.axvspan(claim.low, claim.high, color=CLAIM_COLOUR, alpha=0.18, linewidth=0,
                           gid="ivcdb-forest-claim")
            elif claim.value is not None:
                ax.axvline(claim.value, color=CLAIM_COLOUR, linewidth=1.5, linestyle="--",
                           gid="ivcdb-forest-claim")

    def _study(self, fig: Figure, ax: Axes, row: _Line, y: float, width: float,
               right_in: float) -> None:
        from matplotlib.transforms import blended_transform_factory

        trans = blended_transform_factory(fig.transFigure, ax.transData)
        ax.text(MARGIN_IN / width, y, row.label, transform=trans, ha="left", va="center",
                gid="ivcdb-forest-label")
        places = _places(self.result)
        value = estimate_text(row.estimate, row.low, row.high, places=places)
        ax.text((right_in + VALUE_IN - 0.1) / width, y, value, transform=trans, ha="right",
                va="center")
        weight = f"{row.weight:.1f}%" if row.weight is not None else "—"
        ax.text((width - MARGIN_IN) / width, y, weight, transform=trans, ha="right",
                va="center", color="black" if row.weight is not None else MUTED)
        for index, line in enumerate(row.reason):
            ax.text((MARGIN_IN + 0.15) / width, y + 0.5 + REASON_LINE_IN * (index + 0.5) / ROW_IN,
                    line, transform=trans, ha="left", va="center", fontsize=7.5,
                    color=MUTED, style="italic", gid="ivcdb-forest-reason")
        if row.low is not None and row.high is not None:
            ax.plot([row.low, row.high], [y, y], color=STUDY_COLOUR if row.weight else MUTED,
                    linewidth=1.0, solid_capstyle="butt", gid="ivcdb-forest-ci")
        if row.estimate is None:
            return
        if row.weight:
            side = max(MIN_SQUARE_PT, MAX_SQUARE_PT * math.sqrt(row.weight / self.biggest))
            ax.plot([row.estimate], [y], linestyle="none", marker="s", markersize=side,
                    color=STUDY_COLOUR, markeredgewidth=0, gid="ivcdb-forest-square")
        else:
            ax.plot([row.estimate], [y], linestyle="none", marker="o", markersize=5,
                    markerfacecolor="white", markeredgecolor=MUTED, markeredgewidth=1.0,
                    gid="ivcdb-forest-unpooled")

    def _pooled(self, fig: Figure, ax: Axes, y: float, width: float, right_in: float) -> None:
        from matplotlib.patches import Polygon
        from matplotlib.transforms import blended_transform_factory

        trans = blended_transform_factory(fig.transFigure, ax.transData)
        centre = y + 0.9
        ax.axhline(y + 0.2, color="#999999", linewidth=0.6)
        p = self.result.pooled
        if p is None:
            reason = first_sentence(self.result.reason or "fewer than two usable studies.")
            lines = textwrap.wrap(f"Not pooled: {reason}", int((width - 2 * MARGIN_IN)
                                                               / CHAR_IN))
            for index, line in enumerate(lines[:2]):
                ax.text(MARGIN_IN / width, centre + 0.75 * index, line, transform=trans,
                        ha="left", va="center", gid="ivcdb-forest-not-pooled")
            return
        n = f", n = {_count(p.n)}" if p.n is not None else ""
        ax.text(MARGIN_IN / width, centre, f"Random-effects model (k = {p.k}{n})",
                transform=trans, ha="left", va="center", fontweight="bold")
        value = estimate_text(p.estimate, p.ci_low, p.ci_high, places=_places(self.result))
        ax.text((right_in + VALUE_IN - 0.1) / width, centre, value, transform=trans,
                ha="right", va="center", fontweight="bold")
        ax.text((width - MARGIN_IN) / width, centre, "100%", transform=trans, ha="right",
                va="center", fontweight="bold")
        if p.pi_low is not None and p.pi_high is not None:
            ax.plot([p.pi_low, p.pi_high], [centre, centre], color=POOLED_COLOUR,
                    linewidth=1.0, marker="|", markersize=7, gid="ivcdb-forest-pi")
        ax.add_patch(Polygon([(p.ci_low, centre), (p.estimate, centre - 0.32),
                              (p.ci_high, centre), (p.estimate, centre + 0.32)],
                             closed=True, facecolor=POOLED_COLOUR, edgecolor=POOLED_COLOUR,
                             zorder=3, gid="ivcdb-forest-diamond"))
        ax.text(MARGIN_IN / width, centre + 1.1, _heterogeneity(p), transform=trans,
                ha="left", va="center", fontsize=8, color=MUTED,
                gid="ivcdb-forest-heterogeneity")

    def _note(self) -> str:
        studies = self.result.studies
        parts = []
        if any(s.weight for s in studies):
            parts.append("Squares: pooled studies, area proportional to weight")
        if any(not s.weight for s in studies):
            parts.append("hollow circles: studies not pooled")
        if any(line.low is not None for line in self.rows):
            wilson = any(s.events is not None and (s.ci_low is None or s.ci_high is None)
                         for s in studies)
            parts.append("lines: 95% CI" + (" (Wilson for events/n)" if wilson else ""))
        if self.result.pooled is not None:
            parts.append("diamond: pooled estimate with its 95% CI; line through it: "
                         "95% prediction interval")
        if self.claims:
            parts.append("shaded: the review's claim")
        text = "; ".join(parts) + "."
        return text[:1].upper() + text[1:]


def _centre(claim: ClaimedRange, ratio: bool) -> float:
    if claim.low is not None and claim.high is not None:
        return math.sqrt(claim.low * claim.high) if ratio else (claim.low + claim.high) / 2
    assert claim.value is not None
    return claim.value


def _heterogeneity(p: Any) -> str:
    df = p.k - 1
    q_p = "p < 0.001" if p.q_p < 0.001 else f"p = {p.q_p:.3f}"
    return (f"Heterogeneity: τ² = {p.tau2:.4g}; I² = {p.i2:.1f}%; "
            f"Q = {p.q:.2f} (df = {df}), {q_p}")


def forest_plot(database: Database, outcome: str, *, review: str | None = None,
                dpi: int = DPI, width: float = WIDTH_IN) -> list[Figure]:
    """The forest plot of `outcome` in one review (`review`, else the only one loaded;
    several and none named: `UsageError`), pooled by `synthesis.pool`, one figure a page."""
    from ivcdb import queries
    from ivcdb.synthesis import pool

    with database.session() as session:
        chosen = queries.choose_review(session, code=review)
    result = pool(database, outcome, review=chosen[1] if chosen else None)
    return forest_pages(result, dpi=dpi, width=width)
