"""Every entry of a BibTeX file accounted for, whatever spacing BibTeX accepts around it.

bibtexparser's splitter misses an entry written `@ article{key,` (space after `@`) or with a
line break before its brace (`@article⏎{key,`) and keeps it as comment text, so such an entry
would vanish without a word. `scan` finds every entry start a plain reading finds (`@type{` or
`@type(` outside any braces, `@comment`, `@string` and `@preamble` aside) and rewrites those
forms into one bibtexparser reads (the line breaks moved after the brace, so every line keeps
its number; a type it misreads renamed, see `entry_type_name`); a load then checks that each
start it found was read (`unread_entries`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivcdb.report import Code, Problem

_START = re.compile(r"@(\s*)([A-Za-z_][\w:.+-]*)(\s*)([{(])\s*([^,\s{}()]*)")
NOT_ENTRIES = frozenset({"comment", "string", "preamble"})
# A type bibtexparser misreads (`@FAKE-ENTRY{`, `@ABNT-options{`: it takes only letters,
# digits and `_`; `@COMMENTED{`: it takes any type starting `comment`, `string` or `preamble`
# for those blocks) is renamed to this prefix and the type's hex while splitting.
_RENAMED = "ivcdbtype"
_PLAIN_TYPE = re.compile(r"\w+")


def _safe_type(name: str) -> str:
    lower = name.lower()
    if lower in NOT_ENTRIES or (_PLAIN_TYPE.fullmatch(name) and not lower.startswith(
            tuple(NOT_ENTRIES)) and not lower.startswith(_RENAMED)):
        return name
    return _RENAMED + name.encode().hex()


def entry_type_name(entry_type: str) -> str:
    """An entry's type as the file wrote it (undoing the renaming `scan` did), lower-case."""
    lower = entry_type.lower()
    if lower.startswith(_RENAMED):
        try:
            return bytes.fromhex(lower[len(_RENAMED):]).decode().lower()
        except ValueError:
            return lower
    return lower


@dataclass(frozen=True, slots=True)
class EntryStart:
    line: int  # 1-based, of the `@`
    key: str  # as written after the brace (may be empty)


def scan(text: str) -> tuple[str, list[EntryStart]]:
    """The text in a form bibtexparser splits, and the entry starts found in it.

    Brace depth is counted between consecutive `@` signs with `str.count` (fast on a large
    file): an `@` is a start only where every brace before it is closed.
    """
    scanned, starts, _ = scan_part(text)
    return scanned, starts


def scan_part(text: str, first_line: int = 0) -> tuple[str, list[EntryStart], int]:
    """`scan` of a part of a file that starts on line `first_line` + 1 (its starts numbered
    as the file's lines), and the brace depth at its end: a file cut where that depth is 0
    scans in parts exactly as in one piece."""
    starts: list[EntryStart] = []
    pieces: list[str] = []
    depth, line, previous, copied = 0, 1 + first_line, 0, 0
    at = text.find("@")
    while at >= 0:
        between = text[previous:at]
        depth = max(0, depth + between.count("{") - between.count("}"))
        line += between.count("\n")
        previous = at
        match = _START.match(text, at) if depth == 0 else None
        if match is not None:
            if match.group(2).lower() not in NOT_ENTRIES:
                starts.append(EntryStart(line, match.group(5)))
            gap = match.group(1) + match.group(3)
            safe = _safe_type(match.group(2))
            if match.group(1) or "\n" in gap or "\r" in gap or safe != match.group(2):
                pieces += [text[copied:at], "@", safe, match.group(4),
                           "\n" * gap.count("\n")]
                copied = match.start(4) + 1
        at = text.find("@", at + 1)
    depth = max(0, depth + text.count("{", previous) - text.count("}", previous))
    if not pieces:
        return text, starts, depth
    pieces.append(text[copied:])
    return "".join(pieces), starts, depth


def unread_entries(starts: list[EntryStart], read_lines: set[int], path: str
                   ) -> list[Problem]:
    """A problem for each entry start that no entry, failed block or reported duplicate of
    the parse begins on: every entry is stored or reported, never silently dropped."""
    return [Problem(Code.PARSE, "an entry starts here but was not read; check the `@type{key,` "
                    "line (the type, the brace and the key)", file=path, line=s.line, key=s.key)
            for s in starts if s.line not in read_lines]
