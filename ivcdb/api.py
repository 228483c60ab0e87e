"""High-level operations the CLI and scripts share: load files, build a database from a folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ivcdb.errors import ForceNeeded, UsageError
from ivcdb.loaders import FOLDER_FILES, Sources, start
from ivcdb.report import LoadReport

if TYPE_CHECKING:
    from ivcdb.db import Database
    from ivcdb.queries import ReviewRemoval


def data_folder(data: str | os.PathLike[str] | None = None) -> Path:
    """The named data folder, else the curated data shipped with ivcdb."""
    from ivcdb.db import resource_dir

    folder = Path(data) if data is not None else resource_dir("data")
    if not folder.is_dir():
        raise UsageError(f"data folder {folder} does not exist")
    return folder


def build_database(db: str | os.PathLike[str] | None = None,
                   data: str | os.PathLike[str] | None = None, *,
                   update_vocabulary: bool = False) -> tuple[list[LoadReport], Database]:
    """Create (or upgrade) the database, then load every file of the data folder into it."""
    folder = data_folder(data)
    sources = Sources.from_folder(folder)
    binary = _binary_tables(folder)
    if binary:
        raise UsageError(f"{folder}: build --data reads the CSV files of a review folder, not "
                         f"{', '.join(binary)}; export the package as CSV "
                         "(ivcdb export --all DIR)")
    if not sources.paths():
        names = ", ".join(FOLDER_FILES.values())
        raise UsageError(f"no data files in {folder} (expected any of {names})")
    return load_files(db, sources, build=True, update_vocabulary=update_vocabulary)


def _binary_tables(folder: Path) -> list[str]:
    """The workbook or Parquet files of an `export --all` package in `folder` that stand where
    a review folder's CSV files would (which `build --data` would silently skip)."""
    found = [f"{Path(name).stem}.parquet" for name in FOLDER_FILES.values()
             if name.endswith(".csv") and (folder / f"{Path(name).stem}.parquet").is_file()
             and not (folder / name).is_file()]
    if (folder / "tables.xlsx").is_file() and not (folder / FOLDER_FILES["claims"]).is_file():
        found.insert(0, "tables.xlsx")
    return found


def load_files(db: str | os.PathLike[str] | None, sources: Sources, *, dry_run: bool = False,
               skip_invalid: bool = False, prune: bool = False, build: bool = False,
               update_vocabulary: bool = False, by: str | None = None,
               resolve: bool = False) -> tuple[list[LoadReport], Database]:
    """The one load sequence of the CLI and the API: start reading, open the database (with
    `build`, create it or bring its schema up to date first), load. Returns the reports and
    the open database (the caller disposes of it).

    A large BibTeX file is read on a second core from the start, while this one imports the
    database libraries and opens the database.
    """
    with start(sources) as reading:
        from ivcdb.db import open_db, upgrade
        from ivcdb.loaders import load

        if build:
            upgrade(db)
        # A load (not a build) initialises only a new or empty database, inside its
        # transaction; one at an older revision is refused ("run ivcdb db upgrade").
        database = open_db(db) if build else open_db(db, initialise=True)
        try:
            return load(database, reading, dry_run=dry_run, skip_invalid=skip_invalid,
                        prune=prune, update_vocabulary=update_vocabulary, by=by,
                        resolve=resolve), database
        except BaseException:
            database.dispose()
            raise


def remove_review(db: str | os.PathLike[str] | None, review: str, *, force: bool = False
                  ) -> ReviewRemoval:
    """Remove a review: its claims, numbered list, bibliography and findings-file links, in
    one transaction; shared records (vocabulary, library entries, findings another file gives)
    stay. Without `force`, a review that holds any of these is refused (`ForceNeeded`, the
    message listing what would go) and nothing changes."""
    from ivcdb import history, queries, store
    from ivcdb.db import open_db
    from ivcdb.loaders.writer import os_user

    with open_db(db) as database, database.write() as session:
        removal = queries.review_removal(session, review)
        if removal.removes_data and not force:
            raise ForceNeeded(f"{removal.describe()} would be removed; give --force to "
                              "remove them")
        moved = queries.findings_on_entries_of(session, removal.review_id)
        stuck = [finding for finding, entry in moved if entry is None]
        if stuck:
            raise ForceNeeded(f"{len(stuck)} findings other files give were given for entries "
                              f"of {review}'s bibliography, and no other bibliography or the "
                              "library holds their works: load those entries into the library "
                              "first")
        with history.recording(session, who=os_user(), command="review remove"):
            store.remove_review(session, removal.review_id,
                                [(finding, entry) for finding, entry in moved
                                 if entry is not None])
    return removal
