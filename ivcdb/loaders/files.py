"""Reading input files: one place that turns I/O and encoding failures into problems."""

from __future__ import annotations

import codecs
import hashlib
import re
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

from ivcdb.report import Code, Problem, Severity

MAX_INPUT_BYTES = 1 << 30  # 1 GiB: far above any literature review, below a runaway read


def read_bytes(path: str | Path) -> tuple[bytes | None, Problem | None]:
    """The file's bytes, or a problem saying why it cannot be read.

    Only a regular file of at most MAX_INPUT_BYTES is read: a device (`/dev/zero`), FIFO or
    socket would never end or never start.
    """
    problem = file_problem(path)
    if problem is not None:
        return None, problem
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        return None, _os_problem(path, error)
    if len(data) > MAX_INPUT_BYTES:
        return None, _too_large(path)
    return data, None


def file_problem(path: str | Path) -> Problem | None:
    """Why `path` is not read as input (missing, a folder, a device, FIFO or socket, larger
    than MAX_INPUT_BYTES, not readable), or None."""
    try:
        status = Path(path).stat()
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError
    except OSError as error:
        return _os_problem(path, error)
    if not stat.S_ISREG(status.st_mode):
        return Problem(Code.PARSE, "is not a regular file (a device, FIFO or socket?); name "
                       "a file", file=str(path))
    if status.st_size > MAX_INPUT_BYTES:
        return _too_large(path)
    return None


def _too_large(path: str | Path) -> Problem:
    return Problem(Code.PARSE, f"is larger than {MAX_INPUT_BYTES >> 20} MiB, the largest "
                   "input ivcdb reads; split it", file=str(path))


def _os_problem(path: str | Path, error: OSError) -> Problem:
    """The one-line problem for an OSError met opening or reading `path`."""
    if isinstance(error, FileNotFoundError):
        message = "file does not exist"
    elif isinstance(error, IsADirectoryError):
        message = "is a folder, not a file"
    elif isinstance(error, PermissionError):
        message = "permission denied"
    else:
        message = f"cannot be read: {error.strerror}"
    return Problem(Code.PARSE, message, file=str(path))


def decode_utf8(data: bytes, path: str) -> tuple[str | None, Problem | None]:
    """UTF-8 text (a BOM is dropped), or a problem naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        return None, Problem(
            Code.ENCODING,
            f"byte 0x{byte:02x} is not UTF-8; convert the file first, e.g. "
            f"`iconv -f latin1 -t utf-8 {path} > fixed.bib` (or save it as UTF-8)",
            file=path,
            line=line,
        )


# What a references file that is not UTF-8 is read as, unless its first lines declare an
# encoding (Emacs' `-*- coding: latin-9 -*-`, JabRef's `% Encoding: windows-1252`): Windows'
# Western code page, which reference managers on Windows write (EndNote, JabRef, Citavi). It
# decodes Latin-1 text the same (their printable characters agree); the five bytes it leaves
# undefined, and Latin-1's C1 controls, are no text, so a file with one is refused.
LEGACY_ENCODING = "cp1252"
_DECLARED = re.compile(rb"(?:-\*-.*?\bcoding[:=]\s*|%\s*!?\s*(?:TeX\s+)?encoding\s*[:=]\s*)"
                       rb"([-\w.]+)", re.IGNORECASE)


def read_legacy_text(path: str | Path) -> tuple[str, Problem | None]:
    """The file as text: UTF-8, else (when no byte of it is UTF-8 beyond ASCII) the encoding
    its first lines declare or Windows-1252, with a warning naming it, else "" and the problem.

    A file with valid UTF-8 characters and a bad byte is damaged, not in another encoding:
    it is refused as `read_text` refuses it.
    """
    data, problem = read_bytes(path)
    if data is None:
        return "", problem
    text, problem = decode_utf8(data, str(path))
    if text is not None or problem is None:
        return text or "", None
    if any(ord(c) > 0x7F and c != "\ufffd" for c in data.decode("utf-8", errors="replace")):
        return "", problem
    declared = _declared_encoding(data)
    try:
        text = data.decode(declared or LEGACY_ENCODING)
    except UnicodeDecodeError:
        return "", problem
    at = next(i for i, byte in enumerate(data) if byte > 0x7F)
    used = (f"{declared}, as the file declares" if declared else "Windows-1252 (cp1252, "
            "which holds Latin-1's characters), as reference managers on Windows write it")
    return text, Problem(
        Code.ENCODING, f"is not UTF-8 (byte 0x{data[at]:02x}); read as {used}. Check its "
        "accented characters, or save it as UTF-8", file=str(path),
        line=data.count(b"\n", 0, at) + 1, severity=Severity.WARNING)


def _declared_encoding(data: bytes) -> str | None:
    """The encoding the first three lines name, when Python knows it (`latin-9` included)."""
    match = _DECLARED.search(b"\n".join(data.split(b"\n", 3)[:3]))
    if match is None:
        return None
    name = match.group(1).decode("ascii").lower()
    name = re.sub(r"-(?:unix|dos|mac)$", "", name)
    for candidate in (name, name.replace("-", "")):
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return None


def read_text(path: str | Path) -> tuple[str, Problem | None]:
    """The file as text, or "" and the problem that stopped it."""
    data, problem = read_bytes(path)
    if data is None:
        return "", problem
    text, problem = decode_utf8(data, str(path))
    return (text or ""), problem


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a regular file, read in blocks (never whole in memory); OSError for
    anything `read_bytes` does not read."""
    problem = file_problem(path)
    if problem is not None:
        raise OSError(problem.message)
    with Path(path).open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def content_hash(values: object, text: str = "") -> str:
    """The fingerprint of a stored row, to tell an edited record from an unchanged one.

    The one scheme for references, claims and findings: SHA-256 of the `repr` of plain
    values (str, int, float, bool, None, tuples, lists and dicts built in a fixed order,
    which is stable across runs and engines and costs far less than JSON), then of `text`.
    """
    digest = hashlib.sha256(repr(values).encode())
    if text:
        digest.update(text.encode())
    return digest.hexdigest()


def row_hash(values: Mapping[str, object], later: Collection[str], *linked: object) -> str:
    """`content_hash` of a row's column values (then of `linked`, what the row points to).

    A column added to the contract later (`later`) counts only when filled, so adding one
    leaves the hash of every row that does not use it unchanged (a reload: unchanged).
    """
    hashed = {k: v for k, v in values.items() if v is not None or k not in later
              } if later else values
    return content_hash((hashed, *linked) if linked else hashed)
