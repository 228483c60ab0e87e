"""`ivcdb summary` and `ivcdb table OUTCOME --studies`: the summary-of-findings layout, the
study rows, every format."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import test_latex_compiles as latex_document
from conftest import DATA, CliRun

from ivcdb import queries
from ivcdb.db import Database
from ivcdb.exports import summary as sof
from ivcdb.synthesis import Pooled, PoolResult, StudyRow
from ivcdb.verify import verify

pdflatex = latex_document.pdflatex  # the fixture: pdflatex, else skip (fail under CI=true)

# Made-up studies (hand-made pool results): the layout, not the curated numbers.
POOLED = Pooled(k=2, n=469, estimate=58.3, ci_low=47.1, ci_high=68.6, pi_low=20.2,
                pi_high=88.9, tau2=0.1, i2=60.0, q=2.5, q_p=0.11, method="REML", test="z")
STUDIES = (StudyRow("alpha2015", 3, "Alpha 2015", 200, 377, 53.0, 48.0, 58.1, 55.0, None),
           StudyRow("beta2022", 5, "Beta 2022", 60, 92, 65.2, 55.0, 74.0, 45.0, None),
           StudyRow("gamma2016", None, "Gamma 2016", None, None, 77.8, None, None, None,
                    "one figure for two timepoints"))


def result(outcome: str, pooled: Pooled | None = POOLED,
           studies: tuple[StudyRow, ...] = STUDIES) -> PoolResult:
    return PoolResult(outcome=outcome, label=f"Label of {outcome.replace('_', ' ')}",
                      unit="percent",
                      measure="overall_survival", timepoint=None, review="li2025",
                      studies=studies, pooled=pooled,
                      reason=None if pooled else "fewer than two usable studies", claims=())


@pytest.fixture
def checked(shared_built: Database) -> tuple[sof.Summary, dict[str, str]]:
    with shared_built.session() as session:
        checks = [c for c in verify(session, review="li2025") if c.measure]
        labels = queries.unit_labels(session)
    outcomes = list(dict.fromkeys(c.outcome for c in checks))
    results = [result(o, POOLED if o == "overall_survival_5y" else None,
                      STUDIES if o == "overall_survival_5y" else STUDIES[2:])
               for o in outcomes]
    statuses = {c.outcome: c.status.label for c in checks}
    return sof.summarise("li2025", results, checks, labels), statuses


def test_one_row_per_checked_outcome(checked: tuple[sof.Summary, dict[str, str]]) -> None:
    table, statuses = checked
    assert [r.outcome for r in table.rows] == list(statuses)
    os5 = next(r for r in table.rows if r.outcome == "overall_survival_5y")
    assert os5.cells() == ("Label of overall survival 5y", "3 (≥ 469)", "58.3% [47.1, 68.6]",
                           "approximately 40–70% [3], [5]", statuses["overall_survival_5y"])
    other = next(r for r in table.rows if r.outcome != "overall_survival_5y")
    assert other.cells()[1:3] == ("1 (n not reported)",
                                  "not pooled: fewer than two usable studies")


@pytest.mark.parametrize(("participants", "complete", "text"), [
    (469, True, "2 (469)"), (377, False, "2 (≥ 377)"), (None, False, "2 (n not reported)")])
def test_studies_and_participants(participants: int | None, complete: bool,
                                  text: str) -> None:
    row = sof.SummaryRow("o", "O", 2, participants, complete, "", None, None, None, None,
                         None, None, (), "%", 1, (), ())
    assert row.studies_text() == text


def test_markdown(checked: tuple[sof.Summary, dict[str, str]]) -> None:
    text = sof.render_summary(checked[0], "markdown")
    lines = text.splitlines()
    assert lines[0] == "Table: Summary of findings: review li2025"
    assert lines[2] == ("| Outcome | № of studies (participants) | Pooled estimate [95% CI] | "
                        "The review's claim | Source check |")
    assert ("| Label of overall survival 5y | 3 (≥ 469) | 58.3% [47.1, 68.6] | "
            "approximately 40–70% [3], [5] | consistent |") in lines
    assert lines[-1].startswith("Certainty of the evidence is not rated")
    assert len(lines) == 4 + len(checked[0].rows) + 2


def test_html_escapes(checked: tuple[sof.Summary, dict[str, str]]) -> None:
    table = checked[0]
    rows = [sof.SummaryRow("x", "<b>&", 1, 5, True, "a<b", None, None, None, None, None,
                           "why", ("c",), "%", 1, (("5 < 6", "[1]"),), ("unverified",))]
    text = sof.render_summary(sof.Summary(table.review, rows), "html")
    assert "<td>&lt;b&gt;&amp;</td>" in text and "<td>5 &lt; 6 [1]</td>" in text
    assert "<b>" not in text


def test_csv_is_tidy(checked: tuple[sof.Summary, dict[str, str]]) -> None:
    rows = list(csv.DictReader(io.StringIO(sof.render_summary(checked[0], "csv"))))
    assert list(rows[0]) == list(sof.SUMMARY_CSV)
    os5 = next(r for r in rows if r["outcome"] == "overall_survival_5y")
    assert (os5["k"], os5["estimate"], os5["ci_low"], os5["ci_high"], os5["method"],
            os5["participants"]) == ("2", "58.3", "47.1", "68.6", "REML", "469")
    assert os5["claims"] == "approximately 40–70% [3], [5]"


def test_study_table() -> None:
    table = sof.study_rows(result("overall_survival_5y"),
                           {"alpha2015": "cohort", "beta2022": "case series"}, {})
    text = sof.render_studies(table, "markdown")
    lines = text.splitlines()
    assert lines[2] == "| Study | Design | n | Estimate [95% CI] | Status |"
    assert lines[4:7] == [
        "| [3] Alpha 2015 | cohort | 200/377 | 53.0% [48.0, 58.1] | pooled (55.0%) |",
        "| [5] Beta 2022 | case series | 60/92 | 65.2% [55.0, 74.0] | pooled (45.0%) |",
        "| Gamma 2016 |  |  | 77.8% | not pooled: one figure for two timepoints |"]
    assert lines[-1] == "Pooled: 58.3% [47.1, 68.6] (k = 2, REML)"
    rows = list(csv.DictReader(io.StringIO(sof.render_studies(table, "csv"))))
    assert [r["status"] for r in rows] == ["pooled (55.0%)", "pooled (45.0%)",
                                           "not pooled: one figure for two timepoints"]
    unpooled = sof.study_rows(result("x", None, STUDIES[2:]), {}, {})
    assert sof.render_studies(unpooled, "markdown").splitlines()[-1] == (
        "Not pooled: fewer than two usable studies")


# --- LaTeX: compiles in an A4 10 pt article and fits the text width ----------------------------


def test_latex_fits_the_text_width(checked: tuple[sof.Summary, dict[str, str]],
                                   pdflatex: str, tmp_path: Path) -> None:
    """The summary and a study table with long cells: no error, no box overfull > 1 pt."""
    long = ("a survival estimate (Kaplan–Meier) without its own SE, CI or events/n; "
            "a cohort size is not its n: anthracycline-based_regimens & 100% of 5/10")
    table = sof.study_rows(result("overall_survival_5y", None, (
        *STUDIES, StudyRow("delta2012", 12, "Delta-Epsilonovic 2012", None, 12345, 33.3,
                           None, None, None, long))), {"alpha2015": long[:60]}, {})
    body = "\n".join([sof.render_summary(checked[0], "latex"),
                      sof.render_studies(table, "latex")])
    log = latex_document.compile_latex(pdflatex, body, tmp_path)
    widths = [float(w) for w in latex_document.OVERFULL.findall(log)]
    assert all(w <= 1.0 for w in widths), widths


# --- the commands, on the curated data ---------------------------------------------------------


def test_readme_shows_the_curated_summary(shared_built: Database, cli: CliRun) -> None:
    code, out, err = cli("summary", "--db", shared_built.url)
    assert code == 0, err
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    assert f"```console\n$ ivcdb summary\n{out}```" in readme


@pytest.mark.parametrize("fmt", ["markdown", "html", "csv", "latex"])
def test_summary_formats(shared_built: Database, cli: CliRun, fmt: str) -> None:
    code, out, err = cli("summary", "--db", shared_built.url, "--format", fmt)
    assert code == 0, err
    claim = "approximately 40--70\\% [3], [5]" if fmt == "latex" else (
        "approximately 40–70% [3], [5]")
    assert "Overall survival at 5 years" in out and claim in out


def test_curated_summary_latex_fits(shared_built: Database, pdflatex: str,
                                    tmp_path: Path) -> None:
    body = "\n".join([sof.render_summary(sof.summary(shared_built), "latex"),
                      sof.render_studies(sof.study_table(shared_built, "overall_survival_5y"),
                                         "latex")])
    log = latex_document.compile_latex(pdflatex, body, tmp_path)
    assert not [w for w in latex_document.OVERFULL.findall(log) if float(w) > 1.0]


def test_table_studies_and_claims_table(shared_built: Database, cli: CliRun) -> None:
    code, out, err = cli("table", "overall_survival_5y", "--studies", "--db", shared_built.url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[2] == "| " + " | ".join(sof.STUDY_HEADERS) + " |"
    assert any(line.startswith("| [3] Wachtel 2015 |") for line in lines)
    assert any(line.startswith("| [5] Nooromid 2022 |") for line in lines)
    code, out, err = cli("table", "overall_survival_5y", "--db", shared_built.url)
    assert out.splitlines()[2].endswith("| References |")  # the claims table keeps its columns
