"""Every command's options: one given twice where it takes one value is a usage error.

Click keeps the last of two `--format` silently; ivcdb refuses (exit 2, one line naming the
option), so a second `--text` or `--outcome` never replaces the first unnoticed. Options that
take several values (`--claims`, `query claims --outcome`) stay repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from conftest import CliRun
from typer.core import TyperGroup, TyperOption

from ivcdb.cli import app


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, TyperGroup):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _single(command: Any) -> list[TyperOption]:
    return [p for p in command.params if isinstance(p, TyperOption)
            and not p.multiple and not p.count and not p.is_eager]


def _value(option: TyperOption) -> list[str]:
    """The option as typed: a flag alone, else with a value (checked only after the
    repetition, so any will do)."""
    return [option.opts[0]] if option.is_flag else [option.opts[0], "1"]


CASES = [pytest.param(path, option.name, id=f"{' '.join(path)} {max(option.opts, key=len)}")
         for path, command in _commands(typer.main.get_command(app))
         for option in _single(command)]


def test_the_walk_sees_every_command() -> None:
    paths = {" ".join(case.values[0]) for case in CASES}
    assert {"query claims", "verify", "export", "load", "serve", "db upgrade"} <= paths
    assert len(CASES) > 40


@pytest.mark.parametrize(("path", "name"), CASES)
def test_a_single_valued_option_given_twice_is_refused(cli: CliRun, path: tuple[str, ...],
                                                      name: str) -> None:
    command = dict(_commands(typer.main.get_command(app)))[path]  # type: ignore[arg-type]
    option = next(p for p in command.params if p.name == name)
    assert isinstance(option, TyperOption)
    code, out, err = cli(*path, *_value(option), *_value(option))
    assert code == 2, (out, err)
    assert f"{max(option.opts, key=len)} is given more than once; it takes one value" in err


def test_the_message_names_the_option_as_typed_last(cli: CliRun) -> None:
    code, _, err = cli("query", "claims", "--text", "age", "--text", "female")
    assert code == 2
    assert "--text is given more than once" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--outcome", "--reference", "--author"])
def test_repeatable_filters_are_not_refused(cli: CliRun, option: str) -> None:
    code, _, err = cli("query", "claims", option, "a", option, "b", "--db", "/nonexistent/x")
    assert "given more than once" not in err
    assert code != 2 or "given more than once" not in err
