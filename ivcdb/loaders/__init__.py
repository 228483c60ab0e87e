"""Loading files into the database: parse, resolve, write, in one transaction.

`load(db, Sources(...))` is the whole contract: every file is parsed and checked (against the
database *and* the other files of the same load); the claims are validated in one pass while
they are written in batches; all writes happen in one transaction, so a file with any error
changes nothing (unless `skip_invalid`); reloading the same files changes nothing; an edited
file updates exactly the changed rows.

Reading needs no database: `start(sources)` begins it (a large BibTeX file's second half on
another core) before the database libraries are even imported; `ivcdb.loaders.resolve` and
`ivcdb.loaders.writer` hold what needs them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ivcdb.loaders.parse import FOLDER_FILES, ParsedSources, Reading, Sources, parse, start
from ivcdb.report import LoadReport

if TYPE_CHECKING:
    from ivcdb.db import Database

__all__ = ["FOLDER_FILES", "LoadReport", "ParsedSources", "Reading", "Sources", "load", "parse",
           "start"]


@contextlib.contextmanager
def _paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a large load allocates millions of long-lived,
    acyclic objects, and the collector's repeated passes over them only cost time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                # Move the load's objects to the oldest generation untraversed: re-enabling
                # would otherwise scan them all at once (~0.4 s for 20,000 references).
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@_paused_gc()
def load(db: Database, sources: Sources | Reading, *, dry_run: bool = False,
         skip_invalid: bool = False, prune: bool = False,
         update_vocabulary: bool = False, by: str | None = None,
         resolve: bool = False) -> list[LoadReport]:
    """Load `sources` in one transaction and return one report per file.

    Every file is parsed before the transaction begins (no lock is held while parsing);
    `sources` may be a `Reading` already begun with `start`. Raises `LoadRefused` (carrying
    every problem) when any file has an error, unless `skip_invalid`, which stores the valid
    records and lists the skipped ones. Codes (units, measures, outcomes) are shared by
    every review: a load may add codes, but changes a stored code's meaning (an outcome's
    kind, unit, measure or timepoint, a measure's family) or text (label, description) only
    with `update_vocabulary`; without it a changed meaning is an error and changed text is
    kept as stored, with a warning. `by` names who loads: it fills `extracted_by` of the
    claims and findings a file leaves it empty for, and the load history records it (else
    the OS user). A claim or finding whose stored `extracted_by` names someone else is a
    conflict when the load would change its values: the load is refused (`LoadRefused`,
    one `conflict` problem per field) unless `resolve`, which replaces them and records how
    many it replaced in the load history.
    """
    from ivcdb.loaders.writer import write

    reading = sources if isinstance(sources, Reading) else start(sources)
    return write(db, reading.parse(), dry_run=dry_run, skip_invalid=skip_invalid,
                 prune=prune, update_vocabulary=update_vocabulary, by=by, resolve=resolve)
