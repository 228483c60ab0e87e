"""The evidence table of one outcome in Markdown, HTML, LaTeX and CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from exportkit import load_tricky

from ivcdb.contract import CLAIM_LONG_COLUMNS
from ivcdb.db import Database
from ivcdb.errors import NotFound
from ivcdb.exports import evidence_table
from ivcdb.loaders import Sources, load


def test_markdown_table_for_five_year_survival(shared_built: Database) -> None:
    lines = evidence_table(shared_built, "overall_survival_5y").splitlines()
    assert lines[0] == "Table: Overall survival at 5 years"
    assert lines[2] == "| Claim | Value | Timepoint | Population | References |"
    assert len(lines) == 5
    assert lines[4].endswith("| approximately 40–70% | 5 years | patients with PIVCLMS after "
                             "radical resection | [3,5] |")


def test_every_format_has_every_claim(built: Database, tmp_path: Path) -> None:
    load_tricky(built, tmp_path)
    rows = list(csv.DictReader(io.StringIO(evidence_table(built, "overall_survival_5y",
                                                          fmt="csv"))))
    assert [r["claim_id"] for r in rows] == ["li2025-os-5y", "Éclair-claim"]
    assert rows[0]["references"] == "3;5"
    assert rows[1]["statement"].startswith("'@SUM")  # formula guard in CSV
    assert rows[1]["value"] == "approximately 0.1%"
    html = evidence_table(built, "overall_survival_5y", fmt="html")
    assert html.count("<tr>") == 3 and "@SUM(A1) of \"quoted\"" in html
    latex = evidence_table(built, "overall_survival_5y", fmt="latex")
    rows = latex.split("\\endlastfoot\n")[1].splitlines()
    assert rows[-1] == r"\end{longtable}" and len(rows) == 3 and r"40--70\%" in rows[0]
    assert rows[1].startswith("@SUM(A1) of \"quoted\", commas; and a newline & ")


def test_case_insensitive_outcome_and_unknown_outcome(shared_built: Database) -> None:
    assert evidence_table(shared_built, "OVERALL_survival_5y") == evidence_table(shared_built,
                                                                           "overall_survival_5y")
    with pytest.raises(NotFound, match="did you mean"):
        evidence_table(shared_built, "overall_survival_5")


def test_counts_and_sizes(shared_built: Database) -> None:
    text = evidence_table(shared_built, "tumour_size_ct")
    assert "approximately 44 mm" in text


def test_a_disagreeing_reference_is_never_cited_as_support(built: Database,
                                                           tmp_path: Path) -> None:
    """Long form: [3] and [5] support the claim, [1] disagrees with it."""
    path = tmp_path / "disputed.csv"
    claim = {"claim_id": "disputed", "review": "li2025", "outcome": "overall_survival_5y",
             "statement": "Disputed survival", "value": "50", "unit": "percent",
             "derived": "false"}
    links = [("wachtel2015", "3", "supports"), ("nayyar2010", "1", "disagrees"),
             ("nooromid2022", "5", "data_source")]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_LONG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for key, number, role in links:
            writer.writerow({**claim, "reference_key": key, "reference_number": number,
                             "role": role})
    load(built, Sources(claims=[path]))
    markdown = evidence_table(built, "overall_survival_5y")
    assert "| Disputed survival | 50% |  |  | [3,5]; disagrees: [1] |" in markdown
    assert "[1,3,5]" not in markdown
    rows = {r["claim_id"]: r for r in csv.DictReader(io.StringIO(
        evidence_table(built, "overall_survival_5y", fmt="csv")))}
    assert (rows["disputed"]["references"], rows["disputed"]["disagrees"]) == ("3;5", "1")
    assert rows["li2025-os-5y"]["disagrees"] == ""
    html = evidence_table(built, "overall_survival_5y", fmt="html")
    assert "<td>[3,5]; disagrees: [1]</td>" in html
