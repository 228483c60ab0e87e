"""ivcdb: a literature-review evidence database.

    >>> import ivcdb
    >>> db = ivcdb.open_db("ivcdb.sqlite")
    >>> with db.session() as session:
    ...     rows = ivcdb.queries.claims(session, outcome="overall_survival_5y")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivcdb.version import __version__

__all__ = ["__version__", "open_db"]

if TYPE_CHECKING:
    from ivcdb.db import open_db


def __getattr__(name: str) -> Any:
    # Lazy: `import ivcdb` stays cheap for the CLI's start-up.
    if name == "open_db":
        from ivcdb.db import open_db

        return open_db
    if name in ("queries", "loaders", "exports", "db", "models", "verify"):
        import importlib

        return importlib.import_module(f"ivcdb.{name}")
    raise AttributeError(name)
