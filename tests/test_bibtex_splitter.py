"""`FastSplitter` splits exactly as bibtexparser's own `Splitter`: the same blocks, keys,
fields, lines, raw text and errors, on real files and on random BibTeX-like text (broken
entries, quotes, escapes, `@` inside values, paren-delimited blocks, missing commas)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from bibtexparser.splitter import Splitter
from conftest import ROOT, shared_path
from hypothesis import given, settings
from hypothesis import strategies as st

from ivcdb.loaders.bibtex import splitter as fast
from ivcdb.loaders.files import read_text

EXAMPLES = int(os.environ.get("IVCDB_HYPOTHESIS_EXAMPLES", "25")) * 40


def signature(text: str, cls: type[Splitter]) -> list[tuple[Any, ...]]:
    """Everything a split gives that a load reads, block by block."""
    out = []
    for block in cls(text).split().blocks:
        row: tuple[Any, ...] = (type(block).__name__, block.start_line, block.raw,
                                getattr(block, "key", None), getattr(block, "value", None),
                                getattr(block, "entry_type", None),
                                getattr(block, "comment", None))
        for inner in (block, getattr(block, "ignore_error_block", None)):
            fields = getattr(inner, "fields", None)
            if fields is not None:
                row += (tuple((f.key, f.value, f.start_line) for f in fields),)
        error = getattr(block, "error", None)
        if error is not None:
            row += (getattr(error, "abort_reason", str(error)), getattr(error, "end_index", None))
        duplicates = getattr(block, "duplicate_keys", None)
        if duplicates is not None:
            row += (sorted(duplicates),)
        out.append(row)
    return out


def assert_same_split(text: str) -> None:
    assert signature(text, fast.FastSplitter) == signature(text, Splitter)


def test_the_fast_splitter_is_used_with_the_checked_release_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(fast.splitter("")) is (fast.FastSplitter if bibtexparser.__version__
                                        in fast.CHECKED else Splitter)
    monkeypatch.setattr(bibtexparser, "__version__", "2.99.0")
    assert type(fast.splitter("")) is Splitter


def _bib_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.bib"))


@pytest.mark.parametrize("path", [*_bib_files(ROOT / "tests" / "data"),
                                  ROOT / "data" / "references.bib"],
                         ids=lambda p: p.name)
def test_project_files_split_alike(path: Path) -> None:
    text, _ = read_text(path)
    assert text
    assert_same_split(text)


def test_shared_corpora_split_alike() -> None:
    files = _bib_files(shared_path("corpora"))
    assert files
    for path in files:
        text, problem = read_text(path)
        if text:
            assert_same_split(text)


def test_a_generated_library_splits_alike(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    files = generate(tmp_path, references=400, claims=10, seed=3)
    assert_same_split(files["references.bib"].read_text(encoding="utf-8"))


PIECES = ["@article{", "@ARTICLE(", "@string{", "@comment{", "@preamble{", "@misc{k,", "key,",
          "title = ", "author=", "year = 2001", "{", "}", "(", ")", '"', ",", "=", "\n",
          "\\", '\\"', "\\{", "\\}", "{\"}", " @ ", "\n@", "a", "Müller", "%", "#", " ",
          "{\\'e}", "}\n", ",\n", "\n}\n"]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(texts)
def test_random_text_splits_alike(text: str) -> None:
    assert_same_split(text)


@pytest.mark.parametrize("text", [
    "@article{a, title = {x}, year = 2000}\n@article{b, title = \"q {\"} q\", x = y}\n",
    "@article{a, title = {unclosed,\n@article{b, title = {ok}}\n",
    "@article{a, title = \"no end}\n",
    "@article(a, title = {x (y)}, note = \"a ) b\")\n",
    "@article{a, title = {x} junk, year = 1}\n",
    "@article{a, title = {x}, title = {y}}\n",
    "@article{a,\n  title = {x},\n  dangling\n}\n",
    "@article{a}\n@article{b,}\n@article{c, = x}\n",
    "@article{a, title = {x}",
])
def test_broken_entries_split_alike(text: str) -> None:
    assert_same_split(text)


# Entries written mostly the plain way, with values from tricky pieces: most are read whole
# by `FastSplitter._plain_entry`, the rest (an `@`, a `{"}` in quotes, braces nested too
# deep, a line break after a backslash, a broken value) fall back to the mark loop.
VALUE_PIECES = ["a", "Müller", " ", "\n", ",", "=", "#", "%", "(", ")", "\\", "\\\\", '\\"',
                "\\{", "\\}", "\\\\{", "{", "}", '"', "{\\'e}", "{DNA}", "{{x}}", '{"}', "@",
                "\\\n", "\r\n", "{{{{{{{x}}}}}}}", "{{{{{{x}}}}}}"]
values = st.one_of(
    st.lists(st.sampled_from(VALUE_PIECES), max_size=8).map(lambda p: "{" + "".join(p) + "}"),
    st.lists(st.sampled_from(VALUE_PIECES), max_size=8).map(lambda p: '"' + "".join(p) + '"'),
    st.sampled_from(["2001", "jan", "jtest", 'jtest # " x"', "{a} # b", ""]),
    st.lists(st.sampled_from(VALUE_PIECES), max_size=6).map("".join))
names = st.sampled_from(["title", "author", "year", "Title", " note ", "\nnote", "a b", "",
                         "doi\n"])
fields = st.tuples(names, st.sampled_from([" = ", "=", "\n=\n  "]), values).map("".join)
entries = st.tuples(st.sampled_from(["@article{", "@Book {", "@misc{"]),
                    st.sampled_from(["k1", "k 2", "k@3", "k\\4", ""]),
                    st.lists(fields, max_size=5).map(",\n  ".join),
                    st.sampled_from(["\n}", ",\n}", "}", " junk }", ""])).map(
    lambda parts: parts[0] + parts[1] + ",\n  " + parts[2] + parts[3])
libraries = st.lists(entries, min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(libraries)
def test_plain_and_tricky_entries_split_alike(text: str) -> None:
    assert_same_split(text)


def test_plain_entries_are_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The equivalence tests above go through the whole-entry path (not only the mark loop)."""
    taken: list[bool] = []
    read = fast.FastSplitter._plain_entry

    def counted(self: fast.FastSplitter, m: Any, m_val: str) -> Any:
        block = read(self, m, m_val)
        taken.append(block is not None)
        return block

    monkeypatch.setattr(fast.FastSplitter, "_plain_entry", counted)
    text, _ = read_text(ROOT / "data" / "references.bib")
    assert_same_split(text)
    assert taken and all(taken)
    taken.clear()
    assert_same_split('@article{a,\n title = {x @ y}}\n@article{b,\n title = "q {"} q"}\n'
                      "@article{c,\n title = {{{{{{{deep}}}}}}}}\n@article{d, t = {a\\\nb}}\n"
                      "@article{e, title = {ok}, title = {twice}}\n")
    assert taken == [False, False, False, False, True]
