"""Tests use ivcdb's public names: a private one (`_name`) is used only where no public one
exists, and each such use is listed here with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# (test file, module alias.private name): why no public name can do.
ALLOWED = {
    ("test_load_bibtex_names.py", "names._plain_name_parts"):
        "which path (fast or bibtexparser's) a name takes is not visible through split_name",
    ("test_load_bibtex_names.py", "names._split_names"):
        "the fast author-list splitter against bibtexparser's, before names are parsed",
    ("test_load_bibtex_halves.py", "reader._read_second_part"):
        "a fault injected into the forked reader of the second half",
    ("test_reliability_faults.py", "store._copy"):
        "faults injected into PostgreSQL's COPY, which SQLAlchemy's events do not see",
}


def _ivcdb_aliases(tree: ast.Module) -> set[str]:
    """Names bound to ivcdb modules: `from ivcdb.x import y` and `import ivcdb.x as y`."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ivcdb"):
            aliases.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            aliases.update(a.asname or a.name for a in node.names if a.name.startswith("ivcdb"))
    return aliases


def private_uses(path: Path) -> set[str]:
    """`alias._name` and `setattr(alias, "_name")` on ivcdb modules, and private imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = _ivcdb_aliases(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ivcdb"):
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if a.name.startswith("_") and not a.name.startswith("__"))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in aliases and node.attr.startswith("_")
              and not node.attr.startswith("__")):
            found.add(f"{node.value.id}.{node.attr}")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "setattr"
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            target, name = node.args[0], node.args[1].value
            if isinstance(target, ast.Name) and target.id in aliases and str(name)[:1] == "_":
                found.add(f"{target.id}.{name}")
            if isinstance(name, str) and name.startswith("ivcdb.") and any(
                    part.startswith("_") for part in name.split(".")):
                found.add(name)
    return found


def test_no_test_reaches_into_private_names() -> None:
    used = {(path.name, name) for path in sorted(TESTS.glob("*.py"))
            for name in private_uses(path)}
    assert used - set(ALLOWED) == set()


def test_every_allowed_private_use_is_still_needed() -> None:
    used = {(path.name, name) for path in sorted(TESTS.glob("*.py"))
            for name in private_uses(path)}
    assert set(ALLOWED) - used == set()
