"""Progress bars: shown on a terminal for long runs only, never in piped output."""

from __future__ import annotations

import io

import pytest

from ivcdb import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("setting", "tty", "total", "shown"), [
    pytest.param("", False, 100_000, False, id="piped"),
    pytest.param("", True, 100_000, True, id="terminal"),
    pytest.param("", True, 10, False, id="terminal-short-run"),
    pytest.param("", True, None, False, id="terminal-unknown-length"),
    pytest.param("0", True, 100_000, False, id="turned-off"),
    pytest.param("1", False, 10, True, id="forced"),
])
def test_enabled(monkeypatch: pytest.MonkeyPatch, setting: str, tty: bool, total: int | None,
                 shown: bool) -> None:
    monkeypatch.setenv(progress.ENV, setting)
    monkeypatch.setattr("sys.stderr", _Terminal() if tty else io.StringIO())
    assert progress.enabled(total) is shown


def test_piped_run_yields_everything_and_prints_nothing(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(progress.ENV, raising=False)
    items = list(range(20_000))
    assert list(progress.track(items, "reading")) == items
    assert capsys.readouterr() == ("", "")


def test_terminal_run_draws_a_bar_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setenv(progress.ENV, "1")
    monkeypatch.setattr("sys.stderr", terminal)
    items = iter(range(7_000))  # no len(): the total is given
    assert sum(progress.track(items, "reading refs.bib", total=7_000)) == sum(range(7_000))
    assert "reading refs.bib" in terminal.getvalue()
