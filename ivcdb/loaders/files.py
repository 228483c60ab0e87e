"""Reading input files: one place that turns I/O and encoding failures into problems."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from ivcdb.report import Code, Problem

MAX_INPUT_BYTES = 1 << 30  # 1 GiB: far above any literature review, below a runaway read


def read_bytes(path: str | Path) -> tuple[bytes | None, Problem | None]:
    """The file's bytes, or a problem saying why it cannot be read.

    Only a regular file of at most MAX_INPUT_BYTES is read: a device (`/dev/zero`), FIFO or
    socket would never end or never start.
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):
            return None, Problem(Code.PARSE, "is not a regular file (a device, FIFO or "
                                 "socket?); name a file", file=str(path))
        with p.open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            return None, Problem(Code.PARSE, f"is larger than {MAX_INPUT_BYTES >> 20} MiB, "
                                 "the largest input ivcdb reads; split it", file=str(path))
        return data, None
    except FileNotFoundError:
        return None, Problem(Code.PARSE, "file does not exist", file=str(path))
    except IsADirectoryError:
        return None, Problem(Code.PARSE, "is a folder, not a file", file=str(path))
    except PermissionError:
        return None, Problem(Code.PARSE, "permission denied", file=str(path))
    except OSError as error:
        return None, Problem(Code.PARSE, f"cannot be read: {error.strerror}", file=str(path))


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


def read_text(path: str | Path) -> tuple[str, Problem | None]:
    """The file as text, or "" and the problem that stopped it."""
    data, problem = read_bytes(path)
    if data is None:
        return "", problem
    text, problem = decode_utf8(data, str(path))
    return (text or ""), problem


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a regular file; OSError for anything `read_bytes` does not read."""
    data, problem = read_bytes(path)
    if data is None:
        raise OSError(problem.message if problem else "unreadable")
    return hashlib.sha256(data).hexdigest()


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
