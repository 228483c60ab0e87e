"""Progress bars for long loads and exports: on a terminal only, silent when piped.

`track(items, "parsing references")` yields the items unchanged; when stderr is a terminal and
there are enough items to take a while, a transient rich progress bar on stderr follows them.
Piped or redirected output, `IVCDB_PROGRESS=0`, and short runs show nothing, so scripts and
tests see exactly the output they always did.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

T = TypeVar("T")
ENV = "IVCDB_PROGRESS"  # "0" turns the bars off, "1" forces them (e.g. for a screenshot)
MIN_ITEMS = 5000  # fewer items than this finish before a bar would be worth drawing


def enabled(total: int | None) -> bool:
    """Whether a bar is shown for `total` items."""
    setting = os.environ.get(ENV, "").strip()
    if setting == "0":
        return False
    if setting != "1" and (total is None or total < MIN_ITEMS):
        return False
    return setting == "1" or sys.stderr.isatty()


def track(items: Iterable[T], description: str, *, total: int | None = None) -> Iterator[T]:
    """Yield `items`, with a progress bar on a terminal (see `enabled`)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    if not enabled(total):
        yield from items
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        step = max(1, (total or 0) // 200)  # ~200 redraws, not one per item
        done = 0
        for item in items:
            yield item
            done += 1
            if done % step == 0:
                bar.update(task, completed=done)
        bar.update(task, completed=done)
