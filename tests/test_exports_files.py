"""Export files are written atomically, never over an existing file without --force, and
never outside the chosen folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivcdb.errors import UsageError
from ivcdb.exports import files
from ivcdb.exports.files import OutputExists, safe_target, write_atomic, write_output


def test_writes_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_atomic(target, b"one")
    with pytest.raises(OutputExists, match="--force"):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_atomic(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt])
def test_failure_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              failure: BaseException) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old contents")

    def broken_fsync(fd: int) -> None:
        os.write(fd, b"half")  # part of the new data is on disk when it fails
        raise failure

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(type(failure) if isinstance(failure, BaseException) else failure):
        write_atomic(target, b"new contents " * 1000, force=True)
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left behind


def test_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "new.csv", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("name", ["../escape.csv", "sub/../../escape.csv", "/etc/passwd"])
def test_paths_escaping_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(UsageError, match="outside"):
        safe_target(folder, name)


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder, outside = tmp_path / "exports", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "link").symlink_to(outside)
    with pytest.raises(UsageError, match="outside"):
        write_output(b"x", "link/file.csv", folder=folder)
    assert not (outside / "file.csv").exists()
    assert safe_target(folder, "inside.csv") == (folder / "inside.csv").resolve()


def test_missing_folder_and_folder_target(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        write_output(b"x", tmp_path / "nope" / "f.csv")
    with pytest.raises(UsageError, match="is a folder"):
        write_output(b"x", tmp_path)
