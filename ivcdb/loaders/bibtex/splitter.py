"""bibtexparser's splitter with its two innermost loops written tighter, same results.

bibtexparser 2 splits a file by walking its "marks" (braces, quotes, commas, `=`, line
breaks, block starts) one method call at a time; on a large library those calls are most of
a load's splitting time. `FastSplitter` keeps the library's algorithm and every state change
as they are and only inlines the mark loop of `_next_mark` and of
`_move_to_comma_or_closing_delimiter` (each mark's text read once, no call per mark).

It overrides private methods, so it is used only with the bibtexparser release it was
written against (`CHECKED`); any other release splits with its own `Splitter`.
tests/test_bibtex_splitter.py checks the two give identical blocks on every BibTeX file
of the test data and of the shared corpora.
"""

from __future__ import annotations

import re
from typing import Any

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException, ParserStateException
from bibtexparser.model import Field
from bibtexparser.splitter import Splitter

CHECKED = ("2.1.0",)  # bibtexparser releases whose splitter this mirrors


class FastSplitter(Splitter):
    """`bibtexparser.splitter.Splitter` with the mark loops inlined (see the module)."""

    # the library's own state, as its methods keep it
    _markiter: Any
    _unaccepted_mark: Any
    _current_char_index: int
    _current_line: int

    def _next_mark(self, accept_eof: bool) -> re.Match[str] | None:
        m = self._unaccepted_mark
        if m is not None:
            self._unaccepted_mark = None
            self._current_char_index = m.start()
            return m  # type: ignore[no-any-return]
        mark: re.Match[str]
        for mark in self._markiter:
            if mark.group() != "\n":
                self._current_char_index = mark.start()
                return mark
            self._current_line += 1
        self._current_char_index = len(self.bibstr)
        if not accept_eof:
            raise BlockAbortedException(abort_reason="Unexpectedly reached end of file.",
                                        end_index=self._current_char_index)
        return None

    def _move_to_end_of_entry(self, first_key_start: int
                              ) -> tuple[list[Field], int, set[str]]:
        result: list[Field] = []
        keys: set[str] = set()
        duplicate_keys: set[str] = set()
        bibstr = self.bibstr
        closing = self._closing_delimiter
        next_mark = self._next_mark
        key_start = first_key_start
        while True:
            equals_mark = next_mark(accept_eof=False)
            assert equals_mark is not None
            mark = equals_mark.group()
            if mark == closing:
                dangling_key = bibstr[key_start:equals_mark.start()].strip()
                if dangling_key:
                    raise BlockAbortedException(
                        abort_reason=f"Expected a `=` after entry key `{dangling_key}`, "
                        f"but found the end of the entry (`{closing}`).",
                        end_index=equals_mark.end())
                return result, equals_mark.end(), duplicate_keys
            if mark != "=":
                self._unaccepted_mark = equals_mark
                raise BlockAbortedException(
                    abort_reason=f"Expected a `=` after entry key, but found `{mark}`.",
                    end_index=equals_mark.start())
            start_line = self._current_line  # a field starts on the line of its `=`
            value_end = self._move_to_comma_or_closing_delimiter(
                currently_quote_escaped=False, num_open_curls=0)
            key = bibstr[key_start:equals_mark.start()].strip()
            value = bibstr[equals_mark.end():value_end].strip()
            if key in keys:
                duplicate_keys.add(key)
            keys.add(key)
            result.append(Field(start_line=start_line, key=key, value=value))
            after = next_mark(accept_eof=False)
            assert after is not None
            mark = after.group()
            if mark == ",":
                key_start = after.end()
            elif mark == closing:
                self._unaccepted_mark = after  # read again at the top: the entry's end
                key_start = after.start()
            else:
                self._unaccepted_mark = after
                raise BlockAbortedException(
                    abort_reason=f"Expected either a `,` or `{closing}` after a closed entry "
                    f"field value, but found a {mark} before.",
                    end_index=after.start())

    def _move_to_comma_or_closing_delimiter(self, currently_quote_escaped: bool = False,
                                            num_open_curls: int = 0) -> int:
        if num_open_curls > 0 and currently_quote_escaped:
            raise ParserStateException(
                message="Internal error in parser. Found a field-value that is both "
                "quote-escaped and curly-escaped. Please report this bug.")
        bibstr = self.bibstr
        closing = self._closing_delimiter
        marks = self._markiter
        pending, self._unaccepted_mark = self._unaccepted_mark, None
        line = self._current_line
        while True:
            if pending is not None:
                m, pending = pending, None
                mark = m.group()
            else:
                m = next(marks, None)
                if m is None:
                    self._current_line = line
                    self._current_char_index = len(bibstr)
                    raise BlockAbortedException(abort_reason="Unexpectedly reached end of file.",
                                                end_index=self._current_char_index)
                mark = m.group()
                if mark == "\n":
                    line += 1
                    continue
            if mark == '"' and not num_open_curls > 0:
                if currently_quote_escaped:  # `{"}` inside quotes is a literal quote
                    pos = m.start()
                    if (pos > 0 and pos + 2 < len(bibstr) and bibstr[pos - 1] == "{"
                            and bibstr[pos + 1] == "}"):
                        continue
                currently_quote_escaped = not currently_quote_escaped
                continue
            if mark == "{" and not currently_quote_escaped:
                num_open_curls += 1
                continue
            if mark == "}" and not currently_quote_escaped and num_open_curls > 0:
                num_open_curls -= 1
                continue
            escaped = currently_quote_escaped or num_open_curls > 0
            if (mark == "," or mark == closing) and not escaped:
                self._current_line = line
                self._current_char_index = m.start()
                self._unaccepted_mark = m
                return m.start()  # type: ignore[no-any-return]
            if mark[0] == "@" and self._is_at_line_start(m.start()):
                self._current_line = line
                self._current_char_index = m.start()
                self._unaccepted_mark = m
                if currently_quote_escaped:
                    looking_for = '`"`'
                elif num_open_curls > 0:
                    looking_for = "`}`"
                else:
                    looking_for = f"`,` or `{closing}`"
                raise BlockAbortedException(
                    abort_reason=f"Unexpected block start: `{mark}`. "
                    f"Was still looking for field-value closing {looking_for} ",
                    end_index=m.start() - 1)


def splitter(text: str) -> Any:
    """A splitter of `text`: the fast one with a checked bibtexparser release, else its own."""
    if bibtexparser.__version__ in CHECKED:
        return FastSplitter(text)
    return Splitter(text)
