"""High-level operations the CLI and scripts share: build a database from a data folder."""

from __future__ import annotations

import os
from pathlib import Path

from ivcdb.db import Database, open_db, resource_dir, upgrade
from ivcdb.errors import UsageError
from ivcdb.loaders import FOLDER_FILES, Sources, load
from ivcdb.report import LoadReport


def data_folder(data: str | os.PathLike[str] | None = None) -> Path:
    """The named data folder, else the curated data shipped with ivcdb."""
    folder = Path(data) if data is not None else resource_dir("data")
    if not folder.is_dir():
        raise UsageError(f"data folder {folder} does not exist")
    return folder


def build_database(db: str | os.PathLike[str] | None = None,
                   data: str | os.PathLike[str] | None = None,
                   ) -> tuple[list[LoadReport], Database]:
    """Create (or upgrade) the database, then load every file of the data folder into it."""
    folder = data_folder(data)
    sources = Sources.from_folder(folder)
    if not sources.paths():
        names = ", ".join(FOLDER_FILES.values())
        raise UsageError(f"no data files in {folder} (expected any of {names})")
    upgrade(db)
    database = open_db(db)
    return load(database, sources), database
