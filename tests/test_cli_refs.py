"""`ivcdb refs`, `ivcdb table`, `ivcdb export` and the two export scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TESTDATA, CliRunBytes

from ivcdb.db import Database


def test_refs_markdown_is_the_article_list(shared_built: Database, cli_bytes: CliRunBytes) -> None:
    code, out, _ = cli_bytes("refs", "--db", shared_built.url)
    assert code == 0
    assert out == (TESTDATA / "reflist_li2025.md").read_bytes()


def test_refs_style_and_errors(shared_built: Database, cli_bytes: CliRunBytes) -> None:
    code, out, _ = cli_bytes("refs", "--db", shared_built.url, "--style",
                           "vancouver")
    assert code == 0 and out.decode().startswith("1. Nayyar R, Panda S, Saini A, et al. ")
    code, out, err = cli_bytes("refs", "--db", shared_built.url,
                             "--review", "nope")
    assert code != 0 and out == b"" and err.startswith("error: unknown review 'nope'")
    assert "Traceback" not in err


def test_table_and_output_file(shared_built: Database, cli_bytes: CliRunBytes,
                               tmp_path: Path) -> None:
    target = tmp_path / "os5.html"
    args = ("table", "overall_survival_5y", "--db", shared_built.url, "--format", "html",
            "--output", str(target))
    code, out, err = cli_bytes(*args)
    assert code == 0 and out == b"" and "wrote" in err
    assert "<caption>Overall survival at 5 years</caption>" in target.read_text(encoding="utf-8")
    code, _, err = cli_bytes(*args)
    assert code != 0 and "--force" in err
    code, _, _ = cli_bytes(*args, "--force")
    assert code == 0


def test_export_claims_then_load_reports_unchanged(
        built: Database, cli_bytes: CliRunBytes,
        tmp_path: Path) -> None:
    target = tmp_path / "claims.csv"
    code, _, _ = cli_bytes("export", "claims", "--db", built.url,
                         "--excel", "--output", str(target))
    assert code == 0 and target.read_bytes().startswith(b"\xef\xbb\xbfclaim_id,")
    code, _, err = cli_bytes("load", "--db", built.url, "--claims",
                           str(target))
    assert code == 0 and "0 added, 0 updated, 78 unchanged" in err


def test_export_formats_to_stdout(shared_built: Database, cli_bytes: CliRunBytes) -> None:
    code, out, _ = cli_bytes("export", "citations", "--db", shared_built.url,
                           "--format", "json")
    assert code == 0 and json.loads(out)[0] == {"review": "li2025", "number": 1,
                                                "reference_key": "nayyar2010"}
    code, out, _ = cli_bytes("export", "references", "--db",
                           shared_built.url, "--format", "bibtex")
    assert code == 0 and out.count(b"\n@article{") == 17
    code, _, err = cli_bytes("export", "claims", "--db", shared_built.url,
                           "--format", "ris")
    assert code == 2 and "references only" in err


def test_scripts(shared_built: Database) -> None:
    refs = subprocess.run([sys.executable, str(ROOT / "scripts" /
                                               "regenerate_reference_table.py"),
                           "--db", shared_built.url], capture_output=True, check=False)
    assert refs.returncode == 0
    assert refs.stdout == (TESTDATA / "reflist_li2025.md").read_bytes()


def test_existing_output_is_refused_alike_with_exit_1(shared_built: Database, tmp_path: Path,
                                                      cli_bytes: CliRunBytes
                                                      ) -> None:
    """Every "exists, use --force" is an error of the run (1), not of the command line (2)."""
    commands = {"refs": ("refs",), "table": ("table", "overall_survival_5y"),
                "export": ("export", "claims"), "snapshot": ("snapshot",)}
    for name, args in commands.items():
        target = tmp_path / f"{name}.sqlite"
        target.write_bytes(b"keep")
        option = "--to" if name == "snapshot" else "--output"
        code, _, err = cli_bytes(*args, "--db", shared_built.url,
                               option, str(target))
        assert code == 1, (name, err)
        assert err.startswith("error:") and "--force" in err and target.read_bytes() == b"keep"
        code, _, err = cli_bytes(*args, "--db", shared_built.url,
                               option, str(target), "--force")
        assert code == 0, (name, err)
        assert target.read_bytes() != b"keep"
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"old")  # plot replaces silently (documented in its --help)
    code, _, err = cli_bytes("plot", "outcome",
                           "overall_survival_5y", "--db", shared_built.url, "--output", str(chart))
    assert code == 0 and chart.read_bytes() != b"old", err
