"""Parsing a large BibTeX file on two cores gives exactly the one-process result: the same
records, lines, problems and counts; anything but the plain case falls back to one piece.
The file is cut near `reader.MAIN_SHARE` of its length; `library` puts its `middle` there."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivcdb.loaders import bibtex
from ivcdb.loaders.bibtex import parallel as reader

HEAD = '@string{jso = "Journal of Surgical Oncology"}\n@string{ann = {Annals} # " of Surgery"}\n\n'


def entry(i: int, *, key: str | None = None, extra: str = "") -> str:
    return (f"@article{{{key or f'ref{i:04d}'},\n"
            f"  author = {{M{{\\\"u}}ller, Anna and von Berg, Jr, Carl and Garc{{\\'i}}a, Eva}},\n"
            f"  title = {{{{IVC}} leiomyosarcoma \\textit{{in vivo}} number {i}}},\n"
            f"  journal = {'jso' if i % 2 else 'ann'},\n  year = {1990 + i % 30},\n"
            f"  pages = {{{i}--{i + 9}}},{extra}\n}}\n\n")


def library(n: int = 60, *, middle: str = "", tail: str = "") -> str:
    body = [entry(i) for i in range(n)]
    body.insert(round(n * reader.MAIN_SHARE), middle)
    return HEAD + "".join(body) + tail


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(two-core result, one-process result, whether the two-core path was taken)."""
    taken: list[bool] = []
    finish = reader.SecondPart.finish

    def spy(self: reader.SecondPart, text: str, path: str) -> bibtex.ParsedBibliography | None:
        result = finish(self, text, path)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(reader.SecondPart, "finish", spy)
    monkeypatch.setattr(reader, "PARALLEL_MIN_CHARS", 0)
    parallel = bibtex.parse_bibtex("refs.bib", text=text)
    monkeypatch.setattr(reader, "PARALLEL_MIN_CHARS", 10**12)
    single = bibtex.parse_bibtex("refs.bib", text=text)
    return parallel, single, taken == [True]


def test_plain_file_is_read_in_halves_with_the_same_result(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    text = library(tail="@comment{jabref-meta: databaseType:bibtex;}\n")
    parallel, single, taken = both(text, monkeypatch)
    assert taken
    assert parallel == single
    assert isinstance(single, bibtex.ParsedBibliography)
    assert single.records[-1].line == text.count("\n", 0, text.rindex("@article")) + 1
    assert single.records[-1].journal == "Journal of Surgical Oncology"


def test_problems_keep_their_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    text = library(middle=entry(999, extra="\n  samplesize = {many}"),
                   tail="@article{late, title = {No year}}\n")
    parallel, single, taken = both(text, monkeypatch)
    assert taken
    assert parallel == single
    assert isinstance(single, bibtex.ParsedBibliography) and len(single.problems) == 2


ODD = ("@ article{odd{n}, title = {Space}, author = {Roe, Ann}, year = {2001}, journal = {J}}\n\n"
       "@article\n{odd{n}b, title = {Break}, author = {Roe, Ann}, year = {2002}, journal = {J}}\n\n"
       "@FAKE-ENTRY{odd{n}c, title = {Renamed}}\n\n")


def test_entries_written_oddly_in_either_part_are_read_in_halves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part is scanned on its own core: the odd `@type{` forms `scan` rewrites, in the
    head, at the cut and in the second part, give the one-process result."""
    text = library(middle=ODD.replace("{n}", "1"), tail=ODD.replace("{n}", "2"))
    text = text.replace(entry(3), entry(3) + ODD.replace("{n}", "0"))
    parallel, single, taken = both(text, monkeypatch)
    assert taken
    assert parallel == single
    assert isinstance(single, bibtex.ParsedBibliography)
    assert {"odd0", "odd1b", "odd2c"} <= {r.citekey for r in single.records}


@pytest.mark.parametrize("middle", [
    pytest.param("A note between entries with a stray { in it\n\n", id="comment-text"),
    pytest.param("@article{open, title = {Never {closed}, year = {2000}\n\n", id="entry"),
])
def test_a_cut_inside_braces_gives_the_one_process_result(middle: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A brace left open before the cut: for a plain reading every later `@` is inside
    braces (`@article⏎{late,` is not rewritten), so the file is read in one piece."""
    text = library(middle=middle, tail="@article\n{late, title = {T}, year = {2001}}\n")
    parallel, single, taken = both(text, monkeypatch)
    assert not taken
    assert parallel == single


@pytest.mark.parametrize(("middle", "tail"), [
    pytest.param("", "@string{late = {Late}}\n", id="string-after-entries"),
    pytest.param("", entry(1, key="REF0001"), id="key-differs-in-case-across-halves"),
    pytest.param("", entry(2), id="duplicate-key-across-halves"),
    pytest.param(entry(1000, extra="\n  crossref = {ref0001}"), "", id="crossref"),
    pytest.param("@article{broken,\n  title = {Oops,\n", "", id="failed-block-at-the-cut"),
    pytest.param("@comment{open\n", "", id="comment-cut-open"),
    pytest.param("", "@article{bad, title = {T}, journal = nomacro}\n", id="undefined-macro"),
    pytest.param("@set{bundle, entryset = {ref0001,ref0002}}\n\n", "", id="set-block"),
])
def test_anything_unusual_gives_the_one_process_result(middle: str, tail: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    parallel, single, _ = both(library(middle=middle, tail=tail), monkeypatch)
    assert parallel == single


def test_small_files_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: str) -> None:
        raise AssertionError("a small file was split")

    monkeypatch.setattr(reader.SecondPart, "start", fail)
    assert bibtex.parse_bibtex("refs.bib", text=library(4)).blocks == 4


def test_a_started_reading_can_be_left_unfinished(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a reading that was never asked for its result ends the second process."""
    monkeypatch.setattr(reader, "PARALLEL_MIN_CHARS", 0)
    with bibtex.start_bibtex("refs.bib", text=library()) as reading:
        assert reading.second is not None
        process = reading.second.process
    assert reading.second is None
    assert not process.is_alive()


@pytest.mark.parametrize("failure", ["dies", "raises"])
def test_a_failed_second_process_gives_the_one_process_result(
        failure: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second process killed (out of memory, say) or failing: no hang, the same result."""
    import os

    def fail(*_: object) -> None:
        if failure == "dies":
            os._exit(9)
        raise RuntimeError("boom")

    monkeypatch.setattr(reader, "_read_second_part", fail)  # the fork inherits it
    parallel, single, taken = both(library(), monkeypatch)
    assert not taken and parallel == single


def test_reading_can_start_before_the_result_is_asked_for(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(reader, "PARALLEL_MIN_CHARS", 0)
    text = library()
    reading = bibtex.start_bibtex("refs.bib", text=text)
    assert reading.second is not None  # the second part is already being read
    parallel = reading.result()
    monkeypatch.setattr(reader, "PARALLEL_MIN_CHARS", 10**12)
    assert parallel == bibtex.parse_bibtex("refs.bib", text=text)
    assert reading.second is None


def test_a_second_process_that_cannot_start_gives_the_one_process_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    def refuse(*_: object) -> None:
        raise OSError("fork: resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refuse)
    parallel, single, taken = both(library(), monkeypatch)
    assert not taken and parallel == single


def test_the_second_process_ends_when_the_main_one_is_killed(tmp_path: Path) -> None:
    """A main process killed outright (the OOM killer, `kill -9`) leaves no reader behind."""
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from ivcdb.loaders import bibtex\n"
        "bibtex.parallel.PARALLEL_MIN_CHARS = 0\n"
        "reading = bibtex.start_bibtex('refs.bib', text=open(sys.argv[1]).read())\n"
        "print(reading.second.process.pid, flush=True)\n"
        "time.sleep(0.5)\n"  # the child has read its part and waits to send it
        "os.kill(os.getpid(), signal.SIGKILL)\n", encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text(library(3000), encoding="utf-8")
    assert not _reader_left_running(script, bib)


def _reader_left_running(script: Path, bib: Path) -> bool:
    """Run `script` (it prints its reader's pid, then kills itself): is the reader still up
    20 s later?"""
    done = subprocess.run([sys.executable, str(script), str(bib)], capture_output=True,
                          text=True, timeout=60, check=False)
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _running(child)


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its reaper counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_busy_second_process_dies_with_the_main_one(tmp_path: Path) -> None:
    """Killed while its reader is still busy (here: never done), the main process takes the
    reader with it (Linux `PR_SET_PDEATHSIG`), not only once the reader tries to send."""
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, sys, time\n"
        "from ivcdb.loaders import bibtex\n"
        "bibtex.parallel.PARALLEL_MIN_CHARS = 0\n"
        "bibtex.parallel._read_second_part = lambda *_: time.sleep(600)\n"  # never done
        "reading = bibtex.start_bibtex('refs.bib', text=open(sys.argv[1]).read())\n"
        "print(reading.second.process.pid, flush=True)\n"
        "time.sleep(0.5)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n", encoding="utf-8")
    bib = tmp_path / "refs.bib"
    bib.write_text(library(), encoding="utf-8")
    assert not _reader_left_running(script, bib)
