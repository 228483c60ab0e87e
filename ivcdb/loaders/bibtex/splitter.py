"""bibtexparser's splitter, same results, faster: plain entries read whole, the rest with the
library's mark loop written tighter.

bibtexparser 2 splits a file by walking its "marks" (braces, quotes, commas, `=`, line
breaks, block starts) one method call at a time; on a large library those calls are most of
a load's splitting time. `FastSplitter` reads an entry written the plain way (see `_FIELD`)
with a few regular expressions, one match per field, and leaves the splitter where the mark
loop would have; any other entry or block goes through the library's algorithm with every
state change as it is, only the mark loops of `_next_mark` and of
`_move_to_comma_or_closing_delimiter` inlined (each mark's text read once, no call per mark).

It overrides private methods and builds the library's `Field` objects directly, so it is
used only with the bibtexparser release it was written against (`CHECKED`); any other
release splits with its own `Splitter`. tests/test_bibtex_splitter.py checks the two give
identical blocks on every BibTeX file of the test data and of the shared corpora, and on
random plain, tricky and broken text.
"""

from __future__ import annotations

import re
from typing import Any

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException, ParserStateException
from bibtexparser.model import DuplicateFieldKeyBlock, Entry, Field
from bibtexparser.splitter import _MARK_PATTERN, Splitter

CHECKED = ("2.1.0",)  # bibtexparser releases whose splitter this mirrors

# One whole `{`-delimited entry read by a few regular expressions instead of mark by mark
# (`FastSplitter._plain_entry`), for entries written the plain way only: no `@` anywhere in
# it, no backslash in a key, braces nested at most `_DEPTH` deep, no `{"}` in quotes. A mark
# is one of `{}",=` or a line break not after a backslash, as in bibtexparser; anything these
# patterns do not take is left to the library's mark loop, which then reads the entry as
# always (nothing was consumed). Inside braces quotes do nothing, inside quotes braces do
# nothing, and a field's value ends at the first `,` or `}` outside both, as there.
_DEPTH = 6
_IN_BRACES = r'[^{}\\@]++|\\|(?<=\\)[{}]'  # a character that is not an unescaped brace


def _braced(depth: int) -> str:
    inner = _IN_BRACES if depth == 1 else f"{_IN_BRACES}|{_braced(depth - 1)}"
    return rf"\{{(?:{inner})*+\}}"


_BARE = r'[^{}",\\@]++|\\|(?<=\\)[{}",]'  # outside braces and quotes, not ending the value
# a quote that is not the `{"}` bibtexparser reads as a literal quote inside quotes
_QUOTED = r'"(?:[^"\\@]++|\\|(?<=\\)")*+(?:(?<!\{)"|"(?!\}))'
_ENTRY_KEY = re.compile(r'([^{}",=\\@\n]*),')
_FIELD = re.compile(rf'([^{{}}",=\\@]*+)=((?:{_BARE}|{_QUOTED}|{_braced(_DEPTH)})*+)(?=[,}}])')
_ENTRY_END = re.compile(r'([^{}",=\\@]*+)}')


_new_field = object.__new__


class FastSplitter(Splitter):
    """`bibtexparser.splitter.Splitter` reading plain entries whole and the rest with its
    mark loops inlined (see the module)."""

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

    def _handle_entry(self, m: re.Match[str], m_val: str) -> Any:
        if self._closing_delimiter == "}" and self._unaccepted_mark is None:
            block = self._plain_entry(m, m_val)
            if block is not None:
                return block
        return super()._handle_entry(m, m_val)

    def _plain_entry(self, m: re.Match[str], m_val: str) -> Any:
        """The entry opened by `m`, read whole when written the plain way (see `_FIELD`),
        with the splitter moved past it as the mark loop would leave it; else None, with
        nothing moved."""
        text = self.bibstr
        brace = m.end()  # the block's `{`, consumed by `_open_block`
        head = _ENTRY_KEY.match(text, brace + 1)
        if head is None:
            return None
        start_line = self._current_line
        line, counted = start_line, brace
        fields: list[Field] = []
        keys: list[str] = []
        at = head.end()
        while True:
            found = _FIELD.match(text, at)
            if found is None:
                end = _ENTRY_END.match(text, at)
                if end is None or end.group(1).strip():
                    return None  # not plain, or a key without `=`: the mark loop reports it
                close = end.end() - 1
                break
            equals, at = found.end(1), found.end()
            line += text.count("\n", counted, equals)
            counted = equals
            key, value = found.group(1, 2)
            key = key.strip()
            keys.append(key)
            field = _new_field(Field)  # as `Field(start_line=, key=, value=)` builds it
            field._start_line, field._key, field._value, field._enclosing = (
                line, key, value.strip(), None)
            fields.append(field)
            if text[at] == "}":
                close = at
                break
            at += 1
        if text.count("\\\n", brace, close):  # a line break after a backslash is no mark
            return None
        self._current_line = line + text.count("\n", counted, close)
        self._current_char_index = close
        self._markiter = _MARK_PATTERN.finditer(text, close + 1)
        entry = Entry(start_line=start_line, entry_type=m_val[1:].strip(),
                      key=head.group(1).strip(), fields=fields, raw=text[m.start():close + 1])
        if len(set(keys)) < len(keys):
            duplicates = {key for i, key in enumerate(keys) if key in keys[:i]}
            return DuplicateFieldKeyBlock(duplicate_keys=duplicates, entry=entry)
        return entry

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
