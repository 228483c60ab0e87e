"""A large BibTeX file read on two cores: the second part in a forked process.

The forked reader sends its records back through a pipe as `marshal`led lists (several
times faster than pickled objects). It dies with its parent: on Linux the kernel kills it
(`PR_SET_PDEATHSIG`), and anywhere it holds no copy of the pipe's reading end, so a killed
parent leaves it a broken pipe, not a wait.
"""

from __future__ import annotations

import contextlib
import ctypes
import marshal
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any

from ivcdb.loaders.bibtex.entries import EntryStart, scan_part
from ivcdb.loaders.bibtex.names import AuthorName
from ivcdb.loaders.bibtex.records import (
    ParsedBibliography,
    RefRecord,
    entry_lines,
    is_implicit_comment,
    line_of,
    macros_of,
    records_of,
    split_blocks,
)
from ivcdb.loaders.bibtex.values import field_name
from ivcdb.progress import ENV as PROGRESS_ENV
from ivcdb.report import Problem
from ivcdb.text import key_fold

PARALLEL_MIN_CHARS = 2_000_000  # below this, starting a second process costs more than it saves
# The share of a large file this process reads (the second core reads the rest). A load
# also imports the CLI and the database libraries here meanwhile (the console script forks
# before importing them: `ivcdb.launch`), while the forked reader runs slower (copy-on-write
# faults, sending its records back): 47 % here came out even (traced on 20,000
# references, each part now also scanned where it is read; 45 % left the reader of the
# larger part 0.3 s behind, half and half this process).
MAIN_SHARE = 0.47
_ENTRY_START = re.compile(r"\n@[ \t]*(?!(?:comment|string|preamble)\b)\w+[ \t]*[{(]",
                          re.IGNORECASE)
_NOT_ENTRY = re.compile(r"^@[ \t]*(?!(?:comment|string|preamble)\b)\w+[ \t]*[{(]",
                        re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True, weakref_slot=True)
class SecondPart:
    """The part of a large file after `split`, read in a forked process.

    bibtexparser starts a block at every `@type{` that begins a line, so the file is cut just
    before one and each part is split and read alone. Only the plain case is taken this way:
    the @string macros all come before the first entry, and no part has a failed block, a
    @string after that, a `crossref`/`xdata` field, an undefined macro or a citekey of the
    other part. Anything else makes `finish` return None: the file is then read in one
    piece, so the result is always the one-process result.
    """

    split: int  # where the second part starts in the text
    macros: dict[str, str]
    strings: int  # @string blocks before the first entry
    process: Any  # the forked `multiprocessing.Process` reading the second part
    receiver: Any  # the pipe it sends that part through (or None: not plain, or failed)

    @classmethod
    def start(cls, text: str, path: str, inherited: dict[str, str]) -> SecondPart | None:
        """Fork the reader of the part of `text` (the file as read, not yet `scan`ned: each
        part is scanned on its own core) after a cut near `MAIN_SHARE` of it."""
        import multiprocessing
        import weakref

        cut = _ENTRY_START.search(text, int(len(text) * MAIN_SHARE))
        first = _NOT_ENTRY.search(text)
        if (cut is None or first is None or "fork" not in multiprocessing.get_all_start_methods()
                or threading.active_count() > 1):  # forking a threaded process can deadlock
            return None
        head_text, head_starts, _ = scan_part(text[: first.start()])
        if head_starts:  # an entry written in a form the search above does not see
            return None
        head_problems: list[Problem] = []
        head = split_blocks(head_text)  # @string/@comment/@preamble before the entries
        macros = macros_of(head.strings, path, head_problems, inherited)
        if head_problems or head.failed_blocks or macros.undefined:
            return None
        split = cut.start() + 1
        context = multiprocessing.get_context("fork")
        try:
            receiver, sender = context.Pipe(duplex=False)
        except OSError:  # out of file descriptors, say: read the file in one piece
            return None
        process = context.Process(target=_send_second_part, daemon=True, args=(
            receiver, sender, text[split:], text.count("\n", 0, split), macros, path,
            os.getpid()))
        try:
            process.start()
        except (OSError, AssertionError):  # no fork, or inside a daemonic worker process
            receiver.close()
            return None
        finally:
            sender.close()  # the child holds the only writing end: if it dies, reading ends
        part = cls(split, macros, len(head.strings), process, receiver)
        # A reading dropped unfinished (an API caller's) must not leave the child waiting.
        weakref.finalize(part, _end_process, process, receiver)
        return part

    def finish(self, text: str, path: str
               ) -> tuple[ParsedBibliography, list[EntryStart]] | None:
        """Read the first part here, then join the second: the bibliography and its entry
        starts (`scan`), or None when either part is not plain."""
        scanned, starts, depth = scan_part(text[: self.split])
        if depth:  # the cut is inside braces for a plain reading: read in one piece
            self.close()
            return None
        mine = _part(split_blocks(scanned), self.macros, path, strings=self.strings)
        try:
            theirs = self.receiver.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory) unheard
            theirs = None
        if mine is None or theirs is None or mine[4] & theirs[4]:
            return None
        records, problems, not_references, blocks, _, read = mine
        records += _from_plain(theirs[0])
        problems += theirs[1]
        not_references += theirs[2]
        starts += [EntryStart(line, key) for line, key in theirs[6]]
        return ParsedBibliography(path, records, problems, blocks + theirs[3], not_references,
                                  read + theirs[5], self.macros), starts

    def close(self) -> None:
        _end_process(self.process, self.receiver)


def _end_process(process: Any, receiver: Any) -> None:
    """Stop the reader of the second part if it still runs, and close its pipe."""
    if process.is_alive():  # its part was not asked for (or not all read)
        process.terminate()
    process.join()
    receiver.close()


_Part = tuple[list[RefRecord], list[Problem], list[tuple[str, int]], int, set[str],
              list[tuple[int, str]]]
_PlainPart = tuple[bytes, list[Problem], list[tuple[str, int]], int, set[str],
                   list[tuple[int, str]], list[tuple[int, str]]]


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when `parent` dies (Linux `PR_SET_PDEATHSIG`), even
    while it is busy reading; elsewhere the broken pipe ends it when it sends."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(0)


_PR_SET_PDEATHSIG = 1


def _send_second_part(receiver: Any, sender: Any, text: str, first_line: int,
                      macros: dict[str, str], path: str, parent: int) -> None:
    """The forked process: send the second part, or None when it is not plain or fails
    (the main process then reads the whole file itself). Quiet whatever happens: the main
    process reports, and Ctrl-C is its to handle (it ends this process)."""
    import gc

    _die_with(parent)
    receiver.close()  # so that a killed main process leaves this one a broken pipe, not a wait
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # a short-lived process of long-lived objects (see loaders._paused_gc)
    os.environ[PROGRESS_ENV] = "0"  # the main process draws the one progress bar
    try:
        part = _read_second_part(text, first_line, macros, path)
    except Exception:
        part = None
    with contextlib.suppress(OSError):  # the main process stopped listening
        sender.send(part)
    sender.close()


def _read_second_part(text: str, first_line: int, macros: dict[str, str], path: str
                      ) -> _PlainPart | None:
    """The second part: it must start with an entry on `first_line`."""
    scanned, starts, _ = scan_part(text, first_line)
    library = split_blocks(scanned, first_line)
    blocks = [b for b in library.blocks if not is_implicit_comment(b)]
    if not blocks or line_of(blocks[0]) != first_line + 1:
        return None
    part = _part(library, macros, path, strings=0, to_end=True)
    if part is None:
        return None
    return (_to_plain(part[0]), *part[1:], [(s.line, s.key) for s in starts])


_FIELDS = tuple(RefRecord.__dataclass_fields__)


def _to_plain(records: list[RefRecord]) -> bytes:
    """Records as marshalled lists: several times faster to pass between processes than
    pickled objects."""
    authors = _FIELDS.index("authors")
    plain = []
    for record in records:
        values = [getattr(record, name) for name in _FIELDS]
        values[authors] = [(a.family, a.given, a.prefix, a.suffix) for a in record.authors]
        plain.append(values)
    return marshal.dumps(plain)


def _from_plain(data: bytes) -> list[RefRecord]:
    records = []
    for values in marshal.loads(data):
        record = RefRecord(*values)
        record.authors = [AuthorName(*parts) for parts in record.authors]  # type: ignore[misc]
        records.append(record)
    return records


def _part(library: Any, macros: dict[str, str], path: str, *, strings: int,
          to_end: bool = False) -> _Part | None:
    """Records (their rows worked out), problems, non-references, block count and folded
    keys of one part, or None when the part is not plain (see `SecondPart`)."""
    entries = list(library.entries)
    if library.failed_blocks or len(library.strings) != strings or not entries:
        return None
    blocks = [b for b in library.blocks if not is_implicit_comment(b)]
    if not to_end and blocks[-1] is not entries[-1]:
        return None  # the part must end with a complete entry, not a cut comment
    if any(field_name(f.key) in ("crossref", "xdata") for e in entries for f in e.fields):
        return None
    by_key = {key_fold(e.key): e for e in entries}
    problems: list[Problem] = []
    records, not_references = records_of(entries, macros, by_key, path, problems)
    if getattr(macros, "undefined", None):  # reported once a file: read in one piece
        return None
    for record in records:  # on this part's core, not later in the main process alone
        record.prepare()
    return (records, problems, not_references, len(entries) - len(not_references), set(by_key),
            entry_lines(entries))

