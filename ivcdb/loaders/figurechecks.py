"""Checks of a figure's cells taken together, shared by the claims and findings loaders:
what its two bounds are (`bounds`), and a finding's confidence interval and standard error.

Each check adds located problems through the row's `CellReader`; the schema's CHECKs
(`ivcdb.models`) hold the same rules, so a row these pass is one the database takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivcdb.loaders.csvfile import CellReader
from ivcdb.report import Code
from ivcdb.terms import RANGE


def check_bounds(cells: CellReader, values: Mapping[str, Any]) -> None:
    """`bounds` needs both value_low and value_high; a CI or IQR holds `value`."""
    bounds, value = values.get("bounds"), values.get("value")
    low, high = values.get("value_low"), values.get("value_high")
    if bounds is None:
        return
    if low is None or high is None:
        cells.error(Code.MISSING_FIELD, f"bounds '{bounds}' needs both value_low and "
                    "value_high; give both, or leave bounds empty")
    elif bounds != RANGE and value is not None and not low <= value <= high:
        cells.error(Code.RANGE, f"value {value:g} is outside its {bounds} {low:g} to "
                    f"{high:g} (value_low, value_high)")


def check_interval(cells: CellReader, values: Mapping[str, Any]) -> None:
    """A finding's CI: both bounds or neither, low <= high, holding `value`; its level
    above 0 and below 100 (percent); `se` not negative; `n` at least 1 and the numerator."""
    value, ci_low, ci_high = values.get("value"), values.get("ci_low"), values.get("ci_high")
    if (ci_low is None) != (ci_high is None):
        given, missing = ("ci_low", "ci_high") if ci_high is None else ("ci_high", "ci_low")
        cells.error(Code.MISSING_FIELD, f"{given} is given but {missing} is empty; give both "
                    "bounds of the confidence interval, or neither")
    elif ci_low is not None and ci_high is not None:
        if ci_low > ci_high:
            cells.error(Code.RANGE, f"ci_low {ci_low:g} is above ci_high {ci_high:g}")
        elif value is not None and not ci_low <= value <= ci_high:
            cells.error(Code.RANGE, f"value {value:g} is outside its confidence interval "
                        f"{ci_low:g} to {ci_high:g} (ci_low, ci_high)")
    level = values.get("ci_level")
    if level is not None and not 0 < level < 100:
        cells.error(Code.OUT_OF_RANGE, f"ci_level {level:g} is not a level in percent above "
                    "0 and below 100 (95 for a 95% CI)")
    se = values.get("se")
    if se is not None and se < 0:
        cells.error(Code.BAD_VALUE, f"se {se:g} is negative; a standard error is 0 or more")
    n, numerator = values.get("n"), values.get("numerator")
    if n == 0:
        cells.error(Code.COUNT, "n must be 1 or more (the number of patients analysed)")
    elif n is not None and numerator is not None and numerator > n:
        cells.error(Code.FRACTION, f"numerator {numerator} is above n {n}, the number "
                    "analysed")
