"""Charts of the evidence with matplotlib: claims beside their sources per outcome, a
reference map (the forest plot of a meta-analysis is `ivcdb.forest`).

`outcome_chart(session, outcomes=[...])` draws one row per claim: claimed ranges as light
bands, single values as circles, the qualifier beside the figure (≈ approximately, ≤ up to,
...), counts out of a total drawn as percentages (`5/10 (50%)`), and under each claim the
figures its supporting references themselves report for the outcome's measure family at the same
timepoint (squares, labelled `Wachtel 2015 [3]`; hollow for a related measure, e.g.
disease-free instead of overall survival). Claims in different units get one panel per unit.
`reference_map(session)` marks which references are cited for which outcomes.

Output is deterministic (fixed size, DPI and font, fixed SVG hash salt, no dates or versions
in the file's metadata), so the same database gives the same bytes. PNG is drawn at 300 dpi
by default; SVG and PDF keep their text as text (editable, searchable). A chart too tall for
one page is a list of figures, written to `name.png`, `name-2.png`, ... (`save_pages`).
matplotlib is imported lazily and used without pyplot: no global backend is chosen for the
caller.
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from ivcdb import queries
from ivcdb.errors import NotFound, UsageError
from ivcdb.extras import require
from ivcdb.figures import (
    CALENDAR_YEAR,
    COUNT,
    SIGNS,
    Style,
    citations,
    cite,
    figure_text,
    lower_first,
    numbered,
    study_label,
    unit_text,
)
from ivcdb.formats import CHART, renderer
from ivcdb.models import Outcome
from ivcdb.terms import PERCENT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = tuple(CHART)
DPI = 300
WIDTH_IN = 11.0
LEFT = 0.40  # share of the width for row labels
ROW_IN = 0.36  # height of one label line
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "svg.hashsalt": "ivcdb",
    "svg.fonttype": "none",  # SVG text stays text (editable), not outlines
    "pdf.fonttype": 42,  # TrueType in the PDF: editable text
    "savefig.dpi": DPI,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.parse_math": False,  # chart text is drawn literally: `$5$` is not mathtext
}
# No date, no software version: two runs (and two matplotlib patch releases) give one file.
SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
                 "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
CLAIM_COLOUR = "#1f5f99"
SOURCE_COLOUR = "#c45a00"
MUTED = "#666666"
STATEMENT_WIDTH = 52  # characters per label line
STATEMENT_LINES = 2
CHAR_IN = 0.075  # rough width of one 9 pt character, for margins
MAP_COL_IN = 0.42
CHAR_SHARE = 0.012  # share of the axis width one annotation character takes
MAP_ROW_IN = 0.32


@dataclass(slots=True)
class _Row:
    label: str
    kind: str  # "heading", "claim", "source", "note"
    low: float | None = None
    high: float | None = None
    point: float | None = None
    text: str = ""
    same_measure: bool = True
    height: float = 1.0


@dataclass(slots=True)
class _Panel:
    unit: str | None
    unit_label: str
    rows: list[_Row] = field(default_factory=list)
    limits: tuple[float, float] | None = None  # the x range, shared by its pages

    @property
    def height(self) -> float:
        return sum(r.height for r in self.rows)


@contextmanager
def style() -> Iterator[None]:
    """The charts' fixed style (font, sizes, editable text, no metadata stamps)."""
    require("plot")
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float, *, dpi: int = DPI) -> Figure:
    """A figure of `width` x `height` inches drawn at `dpi` (PNG), without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not 50 <= dpi <= 1200:
        raise UsageError(f"--dpi must be from 50 to 1200, not {dpi}")
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def chart_format(path: str | os.PathLike[str]) -> str:
    """`png`, `svg` or `pdf` from the file name; anything else is a usage error."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        names = " or ".join(f".{name}" for name in FORMATS)
        raise UsageError(f"{path}: name a {names} file (got {fmt or 'no extension'!r})")
    return fmt


def render(fig: Figure, fmt: str) -> bytes:
    """The chart as PNG, SVG or PDF bytes (a name of `formats.CHART`), identical for
    identical input."""
    data: bytes = renderer(CHART, fmt, what="chart format")(fig)
    return data


def to_png(fig: Figure) -> bytes:
    return _save(fig, "png")


def to_svg(fig: Figure) -> bytes:
    return _save(fig, "svg")


def to_pdf(fig: Figure) -> bytes:
    return _save(fig, "pdf")


def _save(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    with style():
        fig.savefig(buffer, format=fmt, dpi="figure", metadata=SAVE_METADATA[fmt])
    return buffer.getvalue()


def save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write the chart to `path` (format from its suffix), atomically; replaces a file."""
    from ivcdb.exports.files import write_atomic

    return write_atomic(path, render(fig, chart_format(path)), force=True)


def page_paths(path: str | os.PathLike[str], pages: int) -> list[Path]:
    """`forest.png`, then `forest-2.png`, `forest-3.png`, ... for the further pages."""
    first = Path(path)
    return [first, *(first.with_name(f"{first.stem}-{n}{first.suffix}")
                     for n in range(2, pages + 1))]


def save_pages(figures: Sequence[Figure], path: str | os.PathLike[str]) -> list[Path]:
    """Write each page (format from the suffix): the first to `path`, the next to
    `path-2`, ... (see `page_paths`); replaces files."""
    chart_format(path)
    return [save(fig, target) for fig, target in zip(figures, page_paths(path, len(figures)),
                                                     strict=True)]


# --- outcome chart: claims beside their sources' figures ---------------------------------------

PAGE_MAX_IN = 11.0  # the tallest page (3,300 px at 300 dpi); more rows go to further pages
TOP_IN = 0.75  # the title
PANEL_IN = 0.75  # under each panel: ticks and the axis label
BOTTOM_IN = 0.85  # the legend


def _drawn(value: float | None, low: float | None, high: float | None,
           numerator: int | None, denominator: int | None, unit: str | None
           ) -> tuple[str | None, float | None, float | None, float | None]:
    """(unit, low, high, point) to draw: a range, else a point; a count out of a total as
    its percentage (5/10 at 50 %), a count alone at its count."""
    if unit == COUNT and numerator is not None and denominator:
        return PERCENT, None, None, 100.0 * numerator / denominator
    if low is not None and high is not None:
        return unit, low, high, None
    if value is not None:
        return unit, None, None, value
    if numerator is not None:
        return unit, None, None, float(numerator)
    return unit, None, None, None


def _drawn_text(value: float | None, low: float | None, high: float | None,
                numerator: int | None, denominator: int | None, unit: str | None,
                qualifier: str | None, spelled: str, *, bounds: str | None = None,
                ci_low: float | None = None, ci_high: float | None = None,
                ci_level: float | None = None) -> str:
    """`≈ 40–70 %`, `0.79 (0.60–0.90)`; a count out of a total with its share, `5/10 (50%)`
    (`bounds` and the CI as `figure_text` takes them)."""
    share = unit == COUNT and numerator is not None and bool(denominator)
    return figure_text(value, low, high, numerator, denominator, qualifier, style=Style.SIGNS,
                       unit=spelled, share=share, places=1 if share else None, bounds=bounds,
                       ci_low=ci_low, ci_high=ci_high, ci_level=ci_level)


def _statement_label(statement: str, cited: str) -> str:
    lines = textwrap.wrap(statement, STATEMENT_WIDTH)
    if len(lines) > STATEMENT_LINES:
        last = textwrap.shorten(" ".join(lines[STATEMENT_LINES - 1:]), STATEMENT_WIDTH - 1,
                                placeholder="")
        lines = [*lines[:STATEMENT_LINES - 1], last.rstrip(" ,.;") + "…"]
    lines[-1] = f"{lines[-1]} {cited}".rstrip()
    return "\n".join(lines)


def _source_label(f: queries.PlotFinding, studies: dict[str, str]) -> str:
    """`Wachtel 2015 [3]: overall survival, 5 years`."""
    when = f", {f.timepoint}" if f.timepoint else ""
    study = studies.get(f.reference_key, f.reference_key)
    cited = cite(f.reference_number)
    return f"{study} {cited}".rstrip() + f": {lower_first(f.measure_label)}{when}"


def _known_outcomes(session: Session, outcomes: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not outcomes:
        raise UsageError("name at least one outcome code")
    codes = [queries.outcome_code(session, code) for code in outcomes]  # NotFound, with hints
    vocabulary = queries.vocabulary_rows(session, Outcome)
    return {code: vocabulary[code] for code in dict.fromkeys(codes)}


def _panels(session: Session, known: dict[str, dict[str, Any]],
            review_id: int | None) -> list[_Panel]:
    """Rows per unit: a heading per outcome (one outcome: the title says it), each claim (of
    one review, with `review_id`), then its sources' figures."""
    labels = queries.unit_labels(session)
    panels: dict[str | None, _Panel] = {}
    for code in known:
        findings = queries.plot_findings(session, outcome=code, review_id=review_id)
        studies = queries.cited_studies(session, outcome=code, review_id=review_id)
        for claim in queries.export_claims(session, outcome=code, review_id=review_id):
            unit, low, high, point = _drawn(claim.value, claim.value_low, claim.value_high,
                                            claim.numerator, claim.denominator, claim.unit)
            if low is None and point is None:
                continue  # qualitative: nothing to draw
            unit_label = labels.get(unit or "", unit or "")
            panel = panels.setdefault(unit, _Panel(unit, unit_label))
            heading = known[code]["label"]
            if len(known) > 1 and not any(r.kind == "heading" and r.label == heading
                                          for r in panel.rows):
                panel.rows.append(_Row(heading, "heading", height=0.9))
            cited = citations(link.reference_number for link in claim.links)
            panel.rows.append(_Row(
                _statement_label(claim.statement, cited), "claim", low, high, point,
                _drawn_text(claim.value, claim.value_low, claim.value_high, claim.numerator,
                            claim.denominator, claim.unit, claim.qualifier,
                            unit_text(claim.unit, labels, Style.SIGNS), bounds=claim.bounds),
                height=1.6))
            shown = []  # plot_findings keeps those at the claim's timepoint
            for f in findings:
                f_unit, f_low, f_high, f_point = _drawn(f.value, f.value_low, f.value_high,
                                                        f.numerator, f.denominator, f.unit)
                if (f.claim_id == claim.claim_id and f_unit == unit
                        and (f_low is not None or f_point is not None)):
                    shown.append(_Row(
                        _source_label(f, studies), "source", f_low, f_high, f_point,
                        _drawn_text(f.value, f.value_low, f.value_high, f.numerator,
                                    f.denominator, f.unit, None,
                                    unit_text(f.unit, labels, Style.SIGNS), bounds=f.bounds,
                                    ci_low=f.ci_low, ci_high=f.ci_high,
                                    ci_level=f.ci_level),
                        same_measure=f.same_measure, height=1.0))
            shown.sort(key=lambda r: not r.same_measure)  # stable: citation order kept
            panel.rows.extend(shown)
            if claim.links and known[code]["measure_code"] and not shown:
                panel.rows.append(_Row("no figure of its sources recorded", "note",
                                       height=0.9))
    if not panels:
        raise NotFound(f"no claim about {', '.join(known)} has a figure to plot "
                       "(qualitative claims only)")
    for panel in panels.values():
        panel.limits = _x_limits(panel)
    return list(panels.values())


def _paginate(panels: Sequence[_Panel], page_max: float) -> list[list[_Panel]]:
    """The panels cut into pages no taller than `page_max` inches: a panel that does not
    fit goes on, with its own axis, on the next page."""
    pages: list[list[_Panel]] = [[]]
    used = TOP_IN + BOTTOM_IN
    for panel in panels:
        chunk: _Panel | None = None
        for row in panel.rows:
            need = row.height * ROW_IN + (PANEL_IN if chunk is None else 0.0)
            if used + need > page_max and pages[-1] and (chunk is None or chunk.rows):
                pages.append([])
                used, chunk = TOP_IN + BOTTOM_IN, None
                need = row.height * ROW_IN + PANEL_IN
            if chunk is None:
                chunk = _Panel(panel.unit, panel.unit_label, limits=panel.limits)
                pages[-1].append(chunk)
            chunk.rows.append(row)
            used += need
    return pages


def outcome_chart(session: Session, *, outcomes: Sequence[str], review_id: int | None = None,
                  dpi: int = DPI, width: float = WIDTH_IN,
                  page_max: float = PAGE_MAX_IN) -> list[Figure]:
    """The claims about the outcomes beside their sources' figures (see the module
    docstring), by the claims of one review with `review_id` (see `queries.choose_review`):
    one figure per page of at most `page_max` inches."""
    known = _known_outcomes(session, outcomes)
    panels = _panels(session, known, review_id)
    title = " · ".join(row["label"] for row in known.values())
    pages = _paginate(panels, page_max)
    figures = []
    with style():
        for number, page in enumerate(pages, start=1):
            height = TOP_IN + BOTTOM_IN + sum(p.height * ROW_IN + PANEL_IN for p in page)
            fig = new_figure(width, height, dpi=dpi)
            top = height - TOP_IN
            for panel in page:
                axes_in = panel.height * ROW_IN
                ax = fig.add_axes((LEFT, (top - axes_in) / height, 0.97 - LEFT,
                                   axes_in / height))
                _draw_panel(ax, panel)
                top -= axes_in + PANEL_IN
            suffix = f" (page {number} of {len(pages)})" if len(pages) > 1 else ""
            fig.suptitle(title + suffix, x=0.02, y=1 - 0.2 / height, ha="left", va="top",
                         fontweight="bold")
            _legend(fig, page)
            figures.append(fig)
    return figures


def _draw_panel(ax: Axes, panel: _Panel) -> None:
    ticks, labels, y = [], [], 0.0
    for row in panel.rows:
        ticks.append(y + row.height / 2)
        labels.append(row.label)
        y += row.height
    limits = panel.limits or _x_limits(panel)
    for centre, row in zip(ticks, panel.rows, strict=True):
        _draw_row(ax, row, centre, limits)
    ax.set_ylim(y, 0)
    ax.set_yticks(ticks, labels)
    ax.tick_params(axis="y", length=0)
    for tick, row in zip(ax.get_yticklabels(), panel.rows, strict=True):
        if row.kind == "heading":
            tick.set_fontweight("bold")
        elif row.kind in ("source", "note"):
            tick.set_color(MUTED)
            tick.set_fontsize(8)
    ax.set_xlim(*limits)
    if panel.unit == PERCENT:
        ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(_axis_label(panel))
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _x_limits(panel: _Panel) -> tuple[float, float]:
    """From 0 (calendar years: from the data), with room on the right for the figures' text;
    a percent axis ends at 100 (text that would not fit goes left of its mark)."""
    values = [v for r in panel.rows for v in (r.low, r.high, r.point) if v is not None]
    low, high = min(values), max(values)
    if panel.unit == CALENDAR_YEAR:
        span = max(high - low, 10.0)
        start = low - 0.08 * span
    else:
        start = min(0.0, low)
        if panel.unit == PERCENT and high <= 100.0:
            return start, 100.0
        span = (high - start) or 1.0
    longest = max((len(r.text) for r in panel.rows), default=0)
    room = min(0.5, 0.03 + CHAR_SHARE * longest)
    return start, high + span * room / (1 - room)


def _axis_label(panel: _Panel) -> str:
    if panel.unit == PERCENT:
        return "Percent (%)"
    return panel.unit_label[:1].upper() + panel.unit_label[1:] if panel.unit_label else "Value"


def _draw_row(ax: Axes, row: _Row, centre: float, limits: tuple[float, float]) -> None:
    colour = CLAIM_COLOUR if row.kind == "claim" else SOURCE_COLOUR
    end: float | None = None
    if row.low is not None and row.high is not None:
        if row.kind == "claim":  # a claimed range: a light band, not a bar read as a CI
            ax.barh(centre, row.high - row.low, left=row.low, height=0.8, color=colour,
                    alpha=0.22, linewidth=0, gid="ivcdb-claim-range")
        else:  # a source's own range (or IQR): a thin line with end ticks
            ax.plot([row.low, row.high], [centre, centre], color=colour, linewidth=1.2,
                    marker="|", markersize=7, alpha=1.0 if row.same_measure else 0.6,
                    gid="ivcdb-source-range")
        end = row.high
    elif row.point is not None:
        marker = "o" if row.kind == "claim" else "s"  # a diamond would read as a pooled figure
        ax.plot([row.point], [centre], linestyle="none", marker=marker, markersize=7,
                color=colour, markerfacecolor=colour if row.same_measure else "white",
                markeredgewidth=1.4, gid=f"ivcdb-{row.kind}-point")
        end = row.point
    if end is None or not row.text:
        return
    start = row.low if row.low is not None else end
    span = limits[1] - limits[0]
    fits = end + span * (0.03 + CHAR_SHARE * len(row.text)) <= limits[1]
    ax.annotate(row.text, (end, centre) if fits else (start, centre),
                xytext=(8 if fits else -8, 0), textcoords="offset points", va="center",
                ha="left" if fits else "right", fontsize=9 if row.kind == "claim" else 8,
                color=colour)


def _legend(fig: Figure, panels: Sequence[_Panel]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = [r for p in panels for r in p.rows]
    handles: list[Any] = []
    if any(r.kind == "claim" and r.low is not None for r in rows):
        handles.append(Patch(facecolor=CLAIM_COLOUR, alpha=0.22, label="review: claimed range"))
    if any(r.kind == "claim" and r.point is not None for r in rows):
        handles.append(Line2D([], [], linestyle="none", marker="o", color=CLAIM_COLOUR,
                              label="review: value"))
    if any(r.kind == "source" and r.same_measure for r in rows):
        handles.append(Line2D([], [], linestyle="none", marker="s", color=SOURCE_COLOUR,
                              label="source's own figure"))
    if any(r.kind == "source" and not r.same_measure for r in rows):
        handles.append(Line2D([], [], linestyle="none", marker="s", color=SOURCE_COLOUR,
                              markerfacecolor="white", label="source: related measure"))
    signs = sorted({t.split()[0] for r in rows if r.kind == "claim"
                    for t in [r.text] if t and t.split()[0] in SIGNS.values()})
    words = {v: k for k, v in SIGNS.items()}
    note = "   ".join(f"{s} {words[s]}" for s in signs)
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncols=4,
               frameon=False, fontsize=8, title=note or None, title_fontsize=8,
               alignment="left")


# --- reference map ----------------------------------------------------------------------------


def reference_map(session: Session, *, review_id: int | None = None) -> Figure:
    """References (rows: number, first author, year) × outcomes (columns) they are cited for
    (by one review's claims and numbered in it, with `review_id`)."""
    cells = queries.reference_outcome_map(session, review_id=review_id)
    if not cells:
        raise NotFound("no claim cites a reference: nothing to map")
    refs = list(dict.fromkeys((c.reference_key, _map_label(c)) for c in cells))
    first_col: dict[str, tuple[int, str]] = {}
    for c in cells:
        first_col.setdefault(c.outcome, (c.reference_number or 10**9, c.outcome_label))
    outcomes = sorted(first_col, key=lambda o: (first_col[o][0], o))
    row_of = {key: i for i, (key, _label) in enumerate(refs)}
    col_of = {code: j for j, code in enumerate(outcomes)}
    names = [first_col[o][1] for o in outcomes]
    # Column labels run up and to the right at 50 degrees: leave room above and beside.
    top = 0.4 + CHAR_IN * 0.77 * max(len(n) for n in names)
    right = 0.3 + max(0.0, *(CHAR_IN * 0.64 * len(n) - MAP_COL_IN * (len(names) - 1 - j)
                             for j, n in enumerate(names)))
    left = 0.3 + CHAR_IN * max(len(label) for _key, label in refs)
    with style():
        width = left + right + MAP_COL_IN * len(outcomes)
        height = top + 0.5 + MAP_ROW_IN * len(refs)
        fig = new_figure(width, height)
        ax = fig.add_axes((left / width, 0.5 / height, 1 - (left + right) / width,
                           1 - (top + 0.5) / height))
        for c in cells:
            x, y = col_of[c.outcome], row_of[c.reference_key]
            ax.plot([x], [y], linestyle="none", marker="o", markersize=7 + 2 * min(c.claims, 4),
                    color=CLAIM_COLOUR, markerfacecolor=CLAIM_COLOUR if c.supporting
                    else "white", gid="ivcdb-map-cell")
            if c.claims > 1:
                ax.text(x, y, str(c.claims), ha="center", va="center", color="white",
                        fontsize=7, fontweight="bold")
        ax.set_xticks(range(len(outcomes)), names, rotation=50, ha="left", rotation_mode="anchor")
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(refs)), [label for _key, label in refs])
        ax.set_xlim(-0.6, len(outcomes) - 0.4)
        ax.set_ylim(len(refs) - 0.4, -0.6)
        ax.tick_params(length=0)
        ax.grid(color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        fig.text(0.01, 0.01, "Circle: the reference is cited for a claim about the outcome "
                 "(number: claims; hollow: not in support).", fontsize=7, color=MUTED)
    return fig


def _map_label(cell: queries.MapCell) -> str:
    return numbered(cell.reference_number,
                    study_label(cell.first_author, cell.year, cell.reference_key))


def marks(fig: Figure) -> list[tuple[str, int]]:
    """(gid, count) of the drawn marks per kind, for tests and sanity checks."""
    counts: dict[str, int] = {}
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.patches]:
            gid = artist.get_gid()
            if gid:
                counts[gid] = counts.get(gid, 0) + 1
    return sorted(counts.items())
