"""Writing export files safely: atomically, never over an existing file unless asked, never
over anything but a regular file, and never outside the folder the user chose.

One rule for symbolic links everywhere (`--output`, `--to`): a link is followed, so the file it
points to is replaced and the link stays. Temporary files are named `.NAME.ivcdb-tmp-PID`
beside the target; the next write to that target removes those of processes no longer alive
(an export killed with SIGKILL cannot remove its own).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path

from ivcdb.errors import OutputExists, UsageError

# An Office file's created/modified dates, and its zip entries' times: no clock in the bytes,
# so the same data give the same workbook or document.
FIXED_TIME = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


TEMP_MARK = ".ivcdb-tmp-"


def temp_sibling(target: Path) -> Path:
    """`.NAME.ivcdb-tmp-PID` beside `target`, after removing stale ones of dead processes."""
    remove_stale_temps(target)
    return target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}")


def remove_stale_temps(target: Path) -> None:
    """Remove temporary files (or folders) a killed process left for `target`."""
    pattern = re.compile(re.escape(f".{target.name}{TEMP_MARK}") + r"(\d+)(-wal|-shm|-journal)?")
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            found = pattern.fullmatch(entry.name)
            if found and not _alive(int(found.group(1))):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        entry.unlink()


def _alive(pid: int) -> bool:
    """Whether `pid` may still be writing; this process's own leftovers are finished."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def output_target(path: str | os.PathLike[str], *, force: bool) -> Path:
    """The file an output to `path` replaces: symlinks followed; refused unless it is missing
    or (with `force`) a regular file, so a device, FIFO or folder is never replaced."""
    given = Path(path).expanduser()
    target = given.resolve()
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    if stat.S_ISDIR(mode):
        raise UsageError(f"{given} is a folder; name a file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{given} is not a regular file (a device, FIFO or socket); "
                         "name a file")
    if not force:
        raise OutputExists(f"{given} exists; use --force to overwrite it")
    return target


def write_atomic(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename it.

    An interrupted write leaves the old file (or no file) and no temporary file behind.
    """
    target = output_target(path, force=force)
    mode = _mode_for(target)
    tmp = temp_sibling(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
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


def fixed_zip_times(data: bytes) -> bytes:
    """The zip again, each entry stamped with one fixed time (byte-identical reruns)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            target.writestr(fixed, source.read(info))
    return out.getvalue()
