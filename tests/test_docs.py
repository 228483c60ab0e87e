"""Docs are tested: every CLI command and option has help text and a README entry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ivcdb import formats
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
REGISTRIES = (formats.ROWS, formats.SOURCE_CHECK, formats.COMPARISON, formats.POOL,
              formats.REFERENCE_LIST,
              formats.EVIDENCE_TABLE, formats.SUMMARY, formats.EXPORT)


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


# --- the README's tables, checked against the code --------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ivcdb"


def _section(title: str) -> str:
    """The text of the README section `## title`, up to the next `## ` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _table_rows(text: str) -> list[tuple[str, str]]:
    """(first cell, rest) of each body row of the Markdown tables in `text`."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) >= 2 and not set(cells[0]) <= set("- ") and cells[0] not in (
                "Command", "Path", "Code"):
            rows.append((cells[0], " | ".join(cells[1:])))
    return rows


def _documented_commands() -> set[str]:
    """`ivcdb db upgrade [REV]` → `db upgrade`: the command words of every table row."""
    found = set()
    for first, _rest in _table_rows(_section("Commands").split("\n### ")[0]):
        for span in re.findall(r"`ivcdb ([^`]*)`", first):
            words = []
            for word in span.split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            if words:
                found.add(" ".join(words))
    return found


def test_command_table_lists_exactly_the_commands() -> None:
    leaves = {name for name, command in COMMANDS if not _is_group(command)}
    assert _documented_commands() == leaves


LAYOUT = _table_rows(_section("Layout"))


def _paths(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_layout_paths_exist() -> None:
    for first, concern in LAYOUT:
        for path in _paths(first):
            assert (ROOT / path).exists(), f"README Layout names {path}, which does not exist"
            if path.endswith("/"):  # files named in a folder's row are in that folder
                inside = {p.relative_to(ROOT / path).as_posix() for p in (ROOT / path).rglob("*")}
                for name in _paths(concern):
                    if re.fullmatch(r"[\w/]+(\.py|/)", name):
                        assert any(f == name.rstrip("/") or f.endswith("/" + name.rstrip("/"))
                                   for f in inside), f"{path} holds no {name}"


def test_layout_lists_every_module() -> None:
    listed = {p for first, _ in LAYOUT for p in _paths(first)}
    folders = {p: concern for first, concern in LAYOUT for p in _paths(first)
               if p.endswith("/")}
    for module in sorted(PACKAGE.rglob("*.py")):
        relative = module.relative_to(ROOT).as_posix()
        if module.name == "__init__.py" or relative in listed:
            continue
        folder = max((f for f in folders if relative.startswith(f)), key=len, default=None)
        assert folder is not None, f"README Layout does not list {relative}"
        inside = relative[len(folder):]
        named = _paths(folders[folder])
        assert inside in named or inside.split("/")[0] + "/" in named, (
            f"README Layout's row for {folder} does not name {inside}")


def _format_choices(command: Any) -> list[str] | None:
    for param in command.params:
        if "--format" in getattr(param, "opts", ()):
            return [str(c) for c in param.type_descriptor.choices]
    return None


FORMAT_COMMANDS = [(n, c) for n, c in COMMANDS if _format_choices(c) is not None]


@pytest.mark.parametrize(("name", "command"), FORMAT_COMMANDS,
                         ids=[n for n, _ in FORMAT_COMMANDS])
def test_format_choices_in_readme_are_the_registrys(name: str, command: Any) -> None:
    """A command's `--format` choices come from `ivcdb.formats`; the README lists the same."""
    choices = _format_choices(command)
    assert choices is not None
    assert any(list(family) == choices for family in REGISTRIES), choices
    rows = [line for line in README.splitlines() if line.startswith(f"| `ivcdb {name} ")
            or line.startswith(f"| `ivcdb {name}`")]
    for row in rows:
        if "--format" in row:
            assert "--format " + "\\|".join(choices) in row, row


def test_every_format_command_reads_a_registry() -> None:
    names = {n for n, _ in FORMAT_COMMANDS}
    assert {"query claims", "query outcomes", "show", "verify", "refs", "table",
            "export"} <= names


def test_export_kinds_are_the_registrys() -> None:
    """`ivcdb export KIND` offers the kinds of `formats.EXPORT_KIND`; the README lists them."""
    kind = next(p for p in dict(COMMANDS)["export"].params if p.name == "kind")
    assert [str(c) for c in kind.type_descriptor.choices] == list(formats.EXPORT_KIND)
    row = next(line for line in README.splitlines() if line.startswith("| `ivcdb export KIND"))
    assert "(" + ", ".join(f"`{k}`" for k in formats.EXPORT_KIND) + ")" in row
