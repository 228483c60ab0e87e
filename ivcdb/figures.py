"""The one formatter: how every output prints a figure, a citation, a reference or a name.

Plain values in, text out; nothing here reads the database, so tables, charts, the source
check, the snapshot and the CLI all import it without depending on one another. Where
outputs legitimately differ, a named style says how:

- `Style.WORDS`, `approximately 40–70%`: evidence tables, the source check, the CLI, LaTeX;
- `Style.SIGNS`, `≈ 40–70 %`: the web UI (snapshot views) and charts.

Citation lists have three named styles (`Cite`): `[1,3]` (tables, chart labels), `[1, 3]`
(web UI) and `[1], [3]` (the source check, where a reference may be named by citekey).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from ivcdb.csvformat import format_number
from ivcdb.terms import CI, DEFAULT_CI_LEVEL, IQR, PERCENT
from ivcdb.text import fold

__all__ = ["Cite", "Style", "author_list", "author_name", "citations", "cite",
           "estimate_text", "figure_text", "first_sentence", "full_name", "initials", "lower_first",
           "normalise_timepoint",
           "number", "numbered", "printed_text", "qualified", "reference_label", "span",
           "study_label", "timepoint_months", "timepoints_match", "unit_text"]

EN_DASH = "\u2013"
COUNT = "count"
CALENDAR_YEAR = "year"
RATIO = "ratio"
# Units the figure does not spell out: `5/10`, `2022`, `0.79 (0.60–0.90)` read better than
# `2 count`, `2022 calendar year`, `0.79 ratio (0.60–0.90 ratio)` (a table column or chart
# axis names them).
UNSPELLED_UNITS = frozenset({COUNT, CALENDAR_YEAR, RATIO})
SIGNS = {"approximately": "≈", "up to": "≤", "at least": "≥", "more than": ">",
         "less than": "<"}
MAX_AUTHORS = 3
ET_AL = "et al."


class Style(StrEnum):
    """How a figure is printed: qualifiers in words or as signs."""

    WORDS = "words"  # approximately 40–70%: tables, source check, CLI, LaTeX
    SIGNS = "signs"  # ≈ 40–70 %: web UI, charts


class Cite(StrEnum):
    """How a list of citation numbers is printed."""

    COMPACT = "compact"  # [1,3]: evidence tables, chart labels
    SPACED = "spaced"  # [1, 3]: web UI
    SEPARATE = "separate"  # [1], [3]: the source check


# --- figures ----------------------------------------------------------------------------------


def number(x: float, places: int | None = None) -> str:
    """`40`, `77.8`; rounded to `places` decimals when given."""
    return format_number(x if places is None else round(x, places))


def span(low: float, high: float, places: int | None = None) -> str:
    """`40–70`, or `40` when both ends are the same printed number."""
    return _joined(number(low, places), number(high, places))


def _joined(first: str, last: str) -> str:
    return first if first == last else f"{first}{EN_DASH}{last}"


def _aligned(numbers: Sequence[float], places: int | None = None) -> list[str]:
    """The numbers to the same decimals, as an estimate is printed with its interval
    (`0.79`, `0.60`, `0.90`); as `number` prints them when one needs an exponent."""
    texts = [number(x, places) for x in numbers]
    if not all(_PLAIN.fullmatch(t) for t in texts):
        return texts
    decimals = max(len(t.partition(".")[2]) for t in texts)
    return [f"{float(t):.{decimals}f}" for t in texts]


_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")


def unit_text(code: str | None, labels: Mapping[str, str], style: Style = Style.WORDS) -> str:
    """What follows the number: `%` (words) or ` %` (signs), ` mm`; empty for none, counts
    and calendar years."""
    if not code or code in UNSPELLED_UNITS:
        return ""
    if code == PERCENT:
        return "%" if style is Style.WORDS else " %"
    return " " + labels.get(code, code)


def qualified(text: str, qualifier: str | None, style: Style = Style.WORDS) -> str:
    """`approximately 40%` (words) or `≈ 40 %` (signs)."""
    if not qualifier or not text:
        return text
    word = SIGNS.get(qualifier, qualifier) if style is Style.SIGNS else qualifier
    return f"{word} {text}"


def figure_text(value: float | None, low: float | None, high: float | None,
                numerator: int | None = None, denominator: int | None = None,
                qualifier: str | None = None, *, style: Style = Style.WORDS, unit: str = "",
                share: bool = False, places: int | None = None, bounds: str | None = None,
                ci_low: float | None = None, ci_high: float | None = None,
                ci_level: float | None = None) -> str:
    """A figure as printed: `approximately 40–70%`, `≈ 40–70 %`, `5/10`; empty without one.

    The printed figure is the range when both ends are given, else the value; `unit` is
    its `unit_text`. A count out of a total (`5/10`) takes no unit; in words it follows a
    printed figure in parentheses (`76% (286/377)`), and `share` adds its percentage to a
    count alone (`5/10 (50%)`). `places` rounds the printed numbers.

    `bounds` says what `low` and `high` are (`terms.CLAIM_BOUNDS`): a range (also None), a
    CI (a claim's) or an IQR. A finding gives its CI as `ci_low`/`ci_high`, at `ci_level`
    percent (None: 95). A value with its CI or IQR keeps the value: `0.79 (0.60–0.90)`,
    `55 (IQR 45–65)`, `0.79 (90% CI 0.60–0.90)`; an interval alone is named (`CI 0.60–0.90`,
    `IQR 45–65`).
    """
    if bounds == CI and low is not None and high is not None:
        low, high, ci_low, ci_high = None, None, low, high
    ranged = low is not None and high is not None
    iqr = ranged and bounds == IQR
    ci = ci_low is not None and ci_high is not None
    ci_named = ""  # `CI 0.60–0.90`, `90% CI 0.60–0.90`: a CI printed on its own
    if ci_low is not None and ci_high is not None:
        ci_named = (_ci_name(ci_level) or "CI ") + span(ci_low, ci_high, places) + unit
    counts = f"{numerator}/{denominator}" if numerator is not None and denominator else ""
    if value is not None and (ci or iqr):
        bounds_given = [x for x in (ci_low, ci_high, low, high) if x is not None]
        shown, *ends = _aligned([value, *bounds_given], places)
        inner = []
        if ci:
            inner.append(_ci_name(ci_level) + _joined(*ends[:2]) + unit)
            ends = ends[2:]
        if ends:
            inner.append(f"{'IQR' if iqr else 'range'} {_joined(*ends)}{unit}")
        text = f"{shown}{unit} ({'; '.join(inner)})"
    elif low is not None and high is not None:
        text = ("IQR " if iqr else "") + span(low, high, places) + unit
        text += f" ({ci_named})" if ci else ""
    elif value is not None:
        text = number(value, places) + unit
    elif ci:
        text = ci_named
    elif counts and share:
        assert numerator is not None and denominator is not None
        text = f"{counts} ({number(100 * numerator / denominator, places)}%)"
        counts = ""
    else:
        text, counts = counts, ""
    if counts and style is Style.WORDS:
        text += f" ({counts})"
    return qualified(text, qualifier, style)


def _ci_name(level: float | None) -> str:
    """What precedes a CI's bounds: nothing for the usual 95%, else `90% CI `."""
    if level is None or level == DEFAULT_CI_LEVEL:
        return ""
    return f"{number(level)}% CI "


def printed_text(qualifier: str | None, reported: str | None) -> str:
    """The figure as the review prints it, with its qualifier: `approximately 44×41 mm`."""
    return qualified(reported or "", qualifier) if reported else ""


def lower_first(label: str) -> str:
    """`Overall survival` -> `overall survival` inside a sentence; `IVC diameter` stays."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


# --- citations and references -----------------------------------------------------------------


def cite(number: int | None, key: str = "") -> str:
    """`[3]`; the citekey when the reference has no number."""
    return f"[{number}]" if number is not None else key


def citations(numbers: Iterable[int | None], style: Cite = Cite.COMPACT, *,
              keys: Sequence[str] | None = None) -> str:
    """`[1,3]`, `[1, 3]` or `[1], [3]`; empty when nothing is numbered.

    References without a number are left out, or named by citekey when `keys` are given
    (with `Cite.SEPARATE`: `[1], smith2020`).
    """
    listed = list(numbers)
    if style is Cite.SEPARATE:
        names = keys if keys is not None else [""] * len(listed)
        return ", ".join(c for c in (cite(n, k) for n, k in zip(listed, names, strict=True))
                         if c)
    shown = [str(n) for n in listed if n is not None]
    joiner = ", " if style is Cite.SPACED else ","
    return f"[{joiner.join(shown)}]" if shown else ""


def numbered(number: int | None, text: str) -> str:
    """`[3] text`; the text alone without a number."""
    return f"[{number}] {text}" if number is not None else text


def study_label(family: str | None, year: int | None, key: str, *, et_al: bool = False) -> str:
    """`Wachtel 2015`, `Wachtel et al. 2015`; the citekey stands in for a missing author."""
    name = f"{family}{' ' + ET_AL if et_al else ''}" if family else key
    return f"{name} {year}" if year is not None else name


def reference_label(number: int | None, family: str | None, year: int | None,
                    key: str) -> str:
    """`[3] Wachtel 2015`: a numbered reference with an author; else the citekey."""
    if number is None or not family:
        return key
    return numbered(number, study_label(family, year, key))


# --- author names -----------------------------------------------------------------------------

_NAME_PARTS = re.compile(r"[\s\-.]+")


def initials(given: str) -> str:
    """`Xiang` -> `X`, `Jean-Pierre` -> `JP`, `R. A.` -> `RA`; stored initials stay as they are."""
    parts = [p for p in _NAME_PARTS.split(given) if p]
    if len(parts) == 1 and parts[0].isupper() and len(parts[0]) <= 3:
        return parts[0]  # already initials, e.g. `RA`
    return "".join(p[0].upper() for p in parts if p[0].isalpha())


def author_name(family: str, given: str = "", prefix: str = "", suffix: str = "") -> str:
    """`Du Toit D`: prefix and family name, then initials, then any suffix."""
    surname = " ".join(p for p in (prefix, family) if p)
    return " ".join(p for p in (surname, initials(given), suffix) if p)


def full_name(family: str, given: str = "", prefix: str = "", suffix: str = "") -> str:
    """`Wachtel Heather`: every part in the stored order, as `ivcdb show` lists authors."""
    return " ".join(p for p in (prefix, family, given, suffix) if p)


def author_list(names: Sequence[str], *, et_al: bool = False,
                limit: int | None = MAX_AUTHORS, separator: str = ", ") -> str:
    """`Wachtel H, Gupta M, Bartlett E, et al.`: up to `limit` names (None: all), then
    "et al." when there are more or the entry says `and others`."""
    shown = list(names if limit is None else names[:limit])
    if et_al or (limit is not None and len(names) > limit):
        shown.append(ET_AL)
    return separator.join(shown)


# --- timepoints -------------------------------------------------------------------------------

_MONTHS = {"year": 12.0, "yr": 12.0, "month": 1.0, "mo": 1.0, "week": 7 / 30.4375,
           "wk": 7 / 30.4375, "day": 1 / 30.4375}
_NUMBER = r"\d+(?:\.\d+)?"
_JOIN = r"-?(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s+or\s+|\s*&\s*|\s*/\s*)"
_TIMEPOINT = re.compile(
    rf"(?:at\s+)?(?P<numbers>{_NUMBER}(?:{_JOIN}{_NUMBER})*)[\s-]*"
    r"(?P<unit>years?|yrs?|months?|mos?|weeks?|wks?|days?)")


def normalise_timepoint(text: str | None) -> frozenset[str]:
    """The timepoints a text names, comparable across spellings; empty when it names none.

    `5 years`, `5-year`, `at 60 months` -> {"60 months"}; `3 and 5 years` -> {"36 months",
    "60 months"} (a list applies to each of its timepoints). Any other text (`median
    follow-up 31.6 months`, `preoperative`) is one timepoint equal only to the same words.
    """
    folded = fold(text or "")
    if not folded:
        return frozenset()
    match = _TIMEPOINT.fullmatch(folded)
    if match is None:
        return frozenset({folded})
    unit = match["unit"].rstrip("s")
    numbers = re.findall(_NUMBER, match["numbers"])
    return frozenset(f"{format_number(round(float(n) * _MONTHS[unit], 3))} months"
                     for n in numbers)


def timepoints_match(claim: str | None, finding: str | None) -> bool:
    """A finding at `finding` speaks to a claim at `claim`: they share a timepoint, or the
    claim names none (then any finding does)."""
    when = normalise_timepoint(claim)
    return not when or bool(when & normalise_timepoint(finding))


def timepoint_months(text: str | None) -> float:
    """The earliest timepoint a text names, in months (infinite when it names none): a sort
    key that puts `1 year` before `5 years` before `preoperative`."""
    months = [float(t.split()[0]) for t in normalise_timepoint(text)
              if t.endswith(" months") and _is_float(t.split()[0])]
    return min(months) if months else math.inf


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def estimate_text(estimate: float | None, low: float | None = None,
                  high: float | None = None, *, places: int = 1, unit: str = "") -> str:
    """`55.0 [45.1, 64.5]`, `58.0% [47.0, 68.0]`: an estimate with its confidence interval to
    fixed decimals, as forest plots and summary tables print them; the estimate alone without
    an interval; empty without an estimate."""
    if estimate is None:
        return ""
    text = f"{estimate:.{places}f}{unit}"
    if low is not None and high is not None:
        text += f" [{low:.{places}f}, {high:.{places}f}]"
    return text


def first_sentence(text: str) -> str:
    """`None of the cited studies ... needs two.` from a longer explanation: its first
    sentence, for a table cell or a chart line (the rest is for the detailed output)."""
    head, dot, _rest = text.partition(". ")
    return head + "." if dot else text
