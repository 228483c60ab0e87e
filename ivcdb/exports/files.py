"""Writing export files safely: atomically, never over an existing file unless asked, and
never outside the folder the user chose."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from ivcdb.errors import OutputExists, UsageError


def safe_target(folder: str | os.PathLike[str], name: str) -> Path:
    """`folder/name`, refused if `..` or a symlink would take it outside `folder`."""
    root = Path(folder).resolve()
    target = (root / name).resolve()
    if target != root and root in target.parents:
        return target
    raise UsageError(f"{name!r} would be written outside {root}; refused")


def _mode_for(path: Path) -> int:
    """The existing file's permissions, else the usual ones for a new file (umask applied)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename it.

    An interrupted write leaves the old file (or no file) and no temporary file behind.
    """
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a folder; name a file")
    if target.exists() and not force:
        raise OutputExists(f"{target} exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist")
    mode = _mode_for(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def write_output(data: bytes, output: str | os.PathLike[str] | None, *, force: bool = False,
                 folder: str | os.PathLike[str] | None = None) -> Path | None:
    """Write to `output` (inside `folder` when given), or to stdout when `output` is None."""
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return None
    target = safe_target(folder, os.fspath(output)) if folder is not None else Path(output)
    try:
        return write_atomic(target, data, force=force)
    except PermissionError as error:
        raise UsageError(f"cannot write {target}: permission denied") from error
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror}") from error
