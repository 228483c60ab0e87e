"""Docs are tested: every CLI command and option has help text and a README entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from ivcdb.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")  # typer vendors click: duck-type it


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    if _is_group(group):
        for name, command in group.commands.items():
            path = f"{prefix} {name}".strip()
            found.append((path, command))
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_there_are_commands() -> None:
    assert {"init", "build", "load", "db upgrade"} <= {name for name, _ in COMMANDS}


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help(name: str, command: Any) -> None:
    assert (command.help or "").strip(), f"`ivcdb {name}` has no help text"
    for param in command.params:
        if param.param_type_name == "option" and not param.hidden:
            assert (param.help or "").strip(), f"`ivcdb {name}` option {param.opts} has no help"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_is_in_readme(name: str, command: Any) -> None:
    top = name.split()[0]
    if _is_group(command) and name == top:
        assert f"ivcdb {top}" in README
        return
    assert f"ivcdb {name}" in README, f"README.md does not document `ivcdb {name}`"
