"""Source check: each claim against what its cited sources report (ivcdb/verify.py)."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pytest
from conftest import DATA

from ivcdb.contract import CLAIM_COLUMNS, CLAIM_LONG_COLUMNS, FINDING, FINDING_COLUMNS
from ivcdb.db import Database
from ivcdb.errors import LoadRefused, NotFound, UsageError
from ivcdb.figures import normalise_timepoint
from ivcdb.loaders import Sources, load
from ivcdb.verify import (
    WHOLE_POPULATIONS,
    ClaimCheck,
    ManualVerdict,
    Reason,
    Relation,
    Status,
    Verdict,
    VerifyConfig,
    decide,
    markdown_report,
    verify,
)

# --- small hand-made data ---------------------------------------------------------------------

UNITS = """code,label,description
percent,%,Percentage.
count,count,Counts.
years,years,Years.
"""
MEASURES = """code,label,family,description
overall_survival,Overall survival,survival,
disease_specific_survival,Disease-specific survival,survival,
female,Women,sex,
median_age,Median age,age,
age_range,Age range,age,
patients,Number of patients,sample_size,
"""
OUTCOMES = """code,label,kind,unit,measure,timepoint,description
os_5y,Overall survival at 5 years,proportion,percent,overall_survival,5 years,
os,Overall survival,proportion,percent,overall_survival,,
women,Share of women,proportion,percent,female,,
age,Median age,age,years,median_age,,
typical_age,Typical age,age,years,age_range,,
remark,A remark,qualitative,,,,
first_year,Year first described,date,years,,,
"""
REFS = ("alpha2001", "beta2002", "gamma2003", "delta2004", "eps2005", "zeta2006", "eta2007")
REVIEW = "[review]\nid = \"r1\"\ntitle = \"A small review\"\n" + "".join(
    f"\n[[citations]]\nnumber = {n}\nkey = \"{key}\"\n" for n, key in enumerate(REFS, 1))
BIB = "".join(f"@article{{{key},\n  author = {{Author, A}},\n  title = {{Study {n}}},\n"
              f"  journal = {{J}},\n  year = {{{key[-4:]}}}\n}}\n\n"
              for n, key in enumerate(REFS, 1))
# What each source reports; eps2005 ([5]) reports nothing.
FINDINGS = ",".join(c for c in FINDING_COLUMNS if FINDING[c].since is None) + """
alpha2001,1,overall_survival,55,,,,,percent,5 years,all patients,,https://example.org/1
alpha2001,1,disease_specific_survival,6,,,,,percent,5 years,all patients,,https://example.org/1
alpha2001,1,female,,,,286,377,count,,all patients,,https://example.org/1
alpha2001,1,median_age,55,,,,,years,,all patients,,https://example.org/1
alpha2001,1,patients,377,,,,,count,,all patients,,https://example.org/1
beta2002,2,overall_survival,80,,,,,percent,5 years,whole cohort,,https://example.org/2
beta2002,2,overall_survival,94,,,,,percent,1 year,whole cohort,,https://example.org/2
gamma2003,3,disease_specific_survival,54,,,,,percent,5 years,all patients,,https://example.org/3
delta2004,4,overall_survival,33,,,,,percent,5 years,complete resection only,subgroup,https://example.org/4
zeta2006,6,overall_survival,77.8,,,,,percent,3 and 5 years,all patients,one figure for both,https://example.org/6
eta2007,7,overall_survival,,50,80,,,percent,5 years,all patients,a range,https://example.org/7
"""


def _claim(claim_id: str, outcome: str, refs: str, **cells: str) -> dict[str, str]:
    numbers = [n for n in refs.split(";") if n]
    return {"claim_id": claim_id, "review": "r1", "outcome": outcome,
            "statement": f"Statement {claim_id}.", "derived": "false",
            "reference_keys": ";".join(REFS[int(n) - 1] for n in numbers),
            "reference_numbers": ";".join(numbers), **cells}


PP = {"unit": "percent"}
APPROX = {"qualifier": "approximately"}
CLAIMS = [
    _claim("c-consistent", "os_5y", "1", value_low="40", value_high="70", **PP, **APPROX),
    _claim("c-consistent-two", "os_5y", "1;2", value_low="50", value_high="85", **PP),
    _claim("c-partly", "os_5y", "1;2", value_low="40", value_high="70", **PP),
    _claim("c-partly-range", "os_5y", "7", value_low="40", value_high="70", **PP),
    _claim("c-inconsistent", "os_5y", "1", value_low="20", value_high="30", **PP, **APPROX),
    _claim("c-different", "os_5y", "3", value_low="40", value_high="70", **PP),
    _claim("c-subgroup", "os_5y", "4", value_low="40", value_high="70", **PP),
    _claim("c-unverified", "os_5y", "5", value_low="40", value_high="70", **PP),
    _claim("c-two-timepoints", "os_5y", "6", value="78", **PP, **APPROX),
    _claim("c-ten-years", "os", "1;2", value_low="20", value_high="40", timepoint="10 years",
           **PP),
    _claim("c-no-timepoint", "os", "1", value="55", **PP),
    _claim("c-up-to", "os", "1", value="60", qualifier="up to", **PP),
    _claim("c-more-than", "os", "1", value="55", qualifier="more than", **PP),
    _claim("c-women-approx", "women", "1", value="80", **PP, **APPROX),
    _claim("c-women-exact", "women", "1", value="76", **PP),
    _claim("c-women-counts", "women", "1", unit="count", numerator="286", denominator="377"),
    _claim("c-age-approx", "age", "1", value="60", unit="years", **APPROX),
    _claim("c-age-range", "typical_age", "1", value_low="50", value_high="60", unit="years"),
    _claim("c-qualitative", "remark", "1"),
    _claim("c-no-numbers", "os_5y", "1"),
    _claim("c-no-measure", "first_year", "1", value="1871", unit="years"),
    _claim("c-disagrees", "os_5y", "2", value="50", reference_roles="disagrees", **PP),
    _claim("c-no-reference", "os_5y", "", value="50", **PP),
]


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_small(folder: Path, claims: list[dict[str, str]] = CLAIMS,
                findings: str = FINDINGS) -> Sources:
    """The small data set as files, in the same formats as data/."""
    files = {"units.csv": UNITS, "measures.csv": MEASURES, "outcomes.csv": OUTCOMES,
             "references.bib": BIB, "review.toml": REVIEW, "findings.csv": findings,
             "claims.csv": csv_text(claims, CLAIM_COLUMNS)}
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Sources.from_folder(folder)


@pytest.fixture
def small(db: Database, tmp_path: Path) -> Database:
    load(db, write_small(tmp_path / "small"))
    return db


def checks_of(db: Database, **options: object) -> dict[str, ClaimCheck]:
    with db.session() as session:
        return {c.claim_id: c for c in verify(session, **options)}  # type: ignore[arg-type]


# --- each status ------------------------------------------------------------------------------


@pytest.mark.parametrize(("claim_id", "status"), [
    pytest.param("c-consistent", Status.CONSISTENT, id="approx-range-holds-55"),
    pytest.param("c-consistent-two", Status.CONSISTENT, id="both-sources-within"),
    pytest.param("c-partly", Status.PARTLY_CONSISTENT, id="55-within-80-outside"),
    pytest.param("c-partly-range", Status.PARTLY_CONSISTENT, id="reported-range-overlaps"),
    pytest.param("c-inconsistent", Status.INCONSISTENT, id="55-outside-15-35"),
    pytest.param("c-different", Status.DIFFERENT_MEASURE, id="disease-specific-only"),
    pytest.param("c-subgroup", Status.DIFFERENT_MEASURE, id="subgroup-only"),
    pytest.param("c-unverified", Status.UNVERIFIED, id="source-without-findings"),
    pytest.param("c-two-timepoints", Status.CONSISTENT, id="3-and-5-years-applies-to-5"),
    pytest.param("c-ten-years", Status.UNVERIFIED, id="no-finding-at-10-years"),
    pytest.param("c-no-timepoint", Status.CONSISTENT, id="claim-without-timepoint"),
    pytest.param("c-up-to", Status.CONSISTENT, id="up-to-60-holds-55"),
    pytest.param("c-more-than", Status.INCONSISTENT, id="more-than-55-excludes-55"),
    pytest.param("c-women-approx", Status.CONSISTENT, id="counts-75.9-within-75-85"),
    pytest.param("c-women-exact", Status.CONSISTENT, id="counts-rounded-to-printed-76"),
    pytest.param("c-women-counts", Status.CONSISTENT, id="counts-against-counts"),
    pytest.param("c-age-approx", Status.CONSISTENT, id="relative-10pc-54-66"),
    pytest.param("c-age-range", Status.DIFFERENT_MEASURE, id="median-age-not-age-range"),
    pytest.param("c-qualitative", Status.NOT_ASSESSABLE, id="qualitative-listed"),
    pytest.param("c-no-numbers", Status.NOT_ASSESSABLE, id="no-figure-listed"),
    pytest.param("c-no-measure", Status.NOT_ASSESSABLE, id="no-measure-listed"),
    pytest.param("c-disagrees", Status.NOT_ASSESSABLE, id="only-disagreeing-listed"),
    pytest.param("c-no-reference", None, id="no-reference-not-listed"),
])
def test_status(small: Database, claim_id: str, status: Status | None) -> None:
    checks = checks_of(small)
    if status is None:
        assert claim_id not in checks
    else:
        assert checks[claim_id].status is status, checks[claim_id].explanation


@pytest.mark.parametrize(("claim_id", "reason", "says"), [
    pytest.param("c-qualitative", Reason.QUALITATIVE, "Not assessable: a qualitative",
                 id="qualitative"),
    pytest.param("c-no-numbers", Reason.NO_NUMBERS, "Not assessable: the claim states no "
                 "figure", id="no-numbers"),
    pytest.param("c-no-measure", Reason.NO_MEASURE, "Not assessable: outcome first_year has "
                 "no measure", id="no-measure"),
    pytest.param("c-disagrees", Reason.NO_SUPPORTING_REFERENCE, "Not assessable: [2] cited "
                 "only as disagreeing", id="only-disagreeing"),
])
def test_not_assessable_says_why(small: Database, claim_id: str, reason: Reason,
                                 says: str) -> None:
    check = checks_of(small)[claim_id]
    assert (check.status, check.reason, check.automatic_status) == (
        Status.NOT_ASSESSABLE, reason, Status.NOT_ASSESSABLE)
    assert check.explanation.startswith(says)
    assert {f.verdict for f in check.findings} <= {None}  # at most listed for reading


def test_every_claim_citing_a_reference_is_listed_once(small: Database) -> None:
    with small.session() as session:
        checks = verify(session)
    cited = [c["claim_id"] for c in CLAIMS if c["reference_keys"]]
    assert sorted(c.claim_id for c in checks) == sorted(cited)
    assert all((c.reason is None) == (c.status is not Status.NOT_ASSESSABLE) for c in checks)
    summary = checks.summary()
    assert summary.startswith(f"{len(cited)} claims citing references: ")
    counted = re.findall(r"(\d+) (?:consistent|partly consistent|inconsistent|different "
                         r"measure|unverified|not assessable)\b", summary)
    assert sum(map(int, counted)) == len(cited)
    reasons = re.search(r"not assessable \((.*)\)", summary)
    assert reasons and sum(int(p.split()[0]) for p in reasons.group(1).split(", ")) == 4


# --- verdicts by hand (the seam for `ivcdb assess`) -------------------------------------------


def _by_hand(status: Status, key: str = "alpha2001") -> ManualVerdict:
    return ManualVerdict(key, status, locator="Table 2, p. 24", quote="55%", by="A. Reviewer")


@pytest.mark.parametrize(("automatic", "manual", "decided"), [
    pytest.param(Status.UNVERIFIED, (), Status.UNVERIFIED, id="none-automatic-stands"),
    pytest.param(Status.UNVERIFIED, (Status.CONSISTENT,), Status.CONSISTENT, id="one-decides"),
    pytest.param(Status.CONSISTENT, (Status.INCONSISTENT, Status.INCONSISTENT),
                 Status.INCONSISTENT, id="agreeing-decide"),
    pytest.param(Status.CONSISTENT, (Status.CONSISTENT, Status.INCONSISTENT),
                 Status.PARTLY_CONSISTENT, id="mixed-is-partly"),
    pytest.param(Status.INCONSISTENT, (Status.UNVERIFIED, Status.CONSISTENT),
                 Status.CONSISTENT, id="comparing-verdict-wins"),
    pytest.param(Status.CONSISTENT, (Status.UNVERIFIED, Status.DIFFERENT_MEASURE),
                 Status.UNVERIFIED, id="else-the-first"),
])
def test_decide(automatic: Status, manual: tuple[Status, ...], decided: Status) -> None:
    assert decide(automatic, [_by_hand(s) for s in manual]) is decided


def test_manual_verdict_overrides_and_is_shown_beside(small: Database) -> None:
    manual = {("r1", "c-unverified"): [_by_hand(Status.CONSISTENT, "eps2005")],
              ("r1", "c-qualitative"): [_by_hand(Status.INCONSISTENT)]}
    checks = checks_of(small, manual=manual)
    check = checks["c-unverified"]
    assert (check.status, check.automatic_status) == (Status.CONSISTENT, Status.UNVERIFIED)
    assert check.status_text() == "consistent by hand (automatic: unverified)"
    assert check.explanation.startswith("Consistent by hand (eps2005, Table 2, p. 24, by A. "
                                        "Reviewer)")
    assert check.as_dict()["manual"][0]["status"] == "consistent"
    qualitative = checks["c-qualitative"]
    assert (qualitative.status, qualitative.reason) == (Status.INCONSISTENT, Reason.QUALITATIVE)
    assert checks["c-consistent"].manual == ()
    text = markdown_report(list(checks.values()))
    assert "## `c-unverified`: consistent by hand (automatic: unverified)" in text
    assert "“55%”" in text


def test_consistent_claim_lists_the_findings_it_rests_on(small: Database) -> None:
    check = checks_of(small)["c-consistent"]
    assert check.reference_numbers == (1,)
    assert check.reference_keys == ("alpha2001",)
    assert (check.accepted_low, check.accepted_high) == (35, 75)
    same = [f for f in check.findings if f.relation is Relation.SAME_MEASURE]
    assert [(f.reference_number, f.value, f.verdict, f.seen_at) for f in same] == [
        (1, 55, Verdict.WITHIN, "https://example.org/1")]
    assert "[1]: 55% overall survival at 5 years" in check.explanation
    assert "within 35–75% (approximately 40–70%)" in check.explanation


def test_other_measure_is_listed_but_does_not_decide(small: Database) -> None:
    check = checks_of(small)["c-consistent"]
    other = [f for f in check.findings if f.measure == "disease_specific_survival"]
    assert [(f.relation, f.verdict) for f in other] == [(Relation.DIFFERENT_MEASURE, None)]
    assert check.status is Status.CONSISTENT  # 6% disease-specific would be outside


def test_unrelated_measures_are_not_compared(small: Database) -> None:
    measures = {f.measure for f in checks_of(small)["c-consistent"].findings}
    assert measures == {"overall_survival", "disease_specific_survival"}


def test_inconsistent_names_the_disagreeing_number(small: Database) -> None:
    check = checks_of(small)["c-inconsistent"]
    assert [(f.value, f.verdict) for f in check.findings
            if f.relation is Relation.SAME_MEASURE] == [(55, Verdict.OUTSIDE)]
    assert "55%" in check.explanation and "outside 15–35%" in check.explanation


def test_partly_consistent_has_both_verdicts(small: Database) -> None:
    check = checks_of(small)["c-partly"]
    verdicts = {(f.reference_number, f.value): f.verdict for f in check.findings}
    assert verdicts == {(1, 55): Verdict.WITHIN, (2, 80): Verdict.OUTSIDE,
                        (1, 6): None}
    assert [f.verdict for f in checks_of(small)["c-partly-range"].findings] == [
        Verdict.OVERLAPS]


def test_subgroup_is_compared_but_reported_as_different_measure(small: Database) -> None:
    (finding,) = checks_of(small)["c-subgroup"].findings
    assert finding.relation is Relation.SUBGROUP
    assert finding.verdict is Verdict.OUTSIDE  # 33% vs 40-70%, shown to the reader
    assert "subgroup" in finding.assessment


def test_unverified_says_what_is_missing(small: Database) -> None:
    check = checks_of(small)["c-unverified"]
    assert check.findings == ()
    assert check.references_without_findings == ("eps2005",)
    assert "overall survival at 5 years not recorded from [5]" in check.explanation.lower()


def test_ten_years_names_the_timepoints_that_exist(small: Database) -> None:
    check = checks_of(small)["c-ten-years"]
    assert check.findings == ()
    assert ("overall survival is recorded from the cited sources only at other timepoints: "
            "1 year, 5 years") in check.explanation
    assert "report" not in check.explanation  # no finding says its full text was read


@pytest.mark.parametrize(("notes", "says"), [
    pytest.param(("Full text, Table 2", "full text, p. 3"), "the cited sources' full texts "
                 "report overall survival only at other timepoints", id="all-read-in-full"),
    pytest.param(("full text, Table 2", "abstract"), "overall survival is recorded from the "
                 "cited sources only at other timepoints", id="one-abstract-only"),
])
def test_only_other_timepoints_needs_the_full_text(tmp_path: Path, db: Database,
                                                  notes: tuple[str, str], says: str) -> None:
    """"Reports only other timepoints" is said only when every such finding says its source
    was read in full (a note beginning `full text`); else the figures are "recorded"."""
    lines = FINDINGS.splitlines()
    for n, key in zip(notes, ("beta2002,2,overall_survival,94", "alpha2001,1,overall_survival"),
                      strict=True):
        lines = [line.replace(",,https", f',"{n}",https') if line.startswith(key) else line
                 for line in lines]
    ten = [c for c in CLAIMS if c["claim_id"] == "c-ten-years"]
    load(db, write_small(tmp_path / "ft", ten, "\n".join(lines) + "\n"))
    assert says in checks_of(db)["c-ten-years"].explanation


def test_notes_and_where_seen_are_in_the_explanation(small: Database) -> None:
    """The explanation is what the table and CSV print: each finding's note and address."""
    check = checks_of(small)["c-partly-range"]
    assert "partly within 40–70% — note: a range, seen at https://example.org/7" in (
        check.explanation)
    assert "— seen at https://example.org/1" in checks_of(small)["c-consistent"].explanation


# --- related measures -------------------------------------------------------------------------

# every row gains an empty `related` cell; recurrence declares disease-specific survival
RELATED_MEASURES = MEASURES.replace("\n", ",\n").replace("description,\n",
                                                        "description,related\n") + (
    "recurrence,Recurrence,recurrence,,disease_specific_survival\n")
RELATED_OUTCOMES = OUTCOMES + ("rec,Recurrence,qualitative,,recurrence,,\n"
                               "rec_rate,Recurrence rate,proportion,percent,recurrence,,\n")


def _with_related(folder: Path, claims: list[dict[str, str]]) -> Sources:
    sources = write_small(folder, claims)
    (folder / "measures.csv").write_text(RELATED_MEASURES, encoding="utf-8")
    (folder / "outcomes.csv").write_text(RELATED_OUTCOMES, encoding="utf-8")
    return sources


@pytest.mark.parametrize(("claim", "status"), [
    pytest.param(_claim("c-rec", "rec", "1"), Status.NOT_ASSESSABLE, id="qualitative"),
    pytest.param(_claim("c-rec", "rec_rate", "1", value="30", **PP), Status.UNVERIFIED,
                 id="with-a-figure"),
])
def test_related_measure_is_context_not_a_verdict(tmp_path: Path, db: Database,
                                                  claim: dict[str, str],
                                                  status: Status) -> None:
    """recurrence -> disease-specific survival declared in measures.csv: [1]'s 6% DSS is shown
    beside a recurrence claim, never compared, and leaves the status as it was."""
    load(db, _with_related(tmp_path / "rel", [claim]))
    check = checks_of(db)["c-rec"]
    assert check.status is status
    assert [(f.measure, f.relation, f.verdict) for f in check.findings] == [
        ("disease_specific_survival", Relation.RELATED_MEASURE, None)]
    assert "6% disease-specific survival at 5 years, all patients — a measure related to " \
        "recurrence, shown as context" in check.explanation
    assert check.references_without_findings == ("alpha2001",)  # no recurrence finding


def test_related_measure_holds_both_ways(tmp_path: Path, db: Database) -> None:
    """Declared on `recurrence`, the relation also shows recurrence beside a DSS claim."""
    findings = FINDINGS + "gamma2003,3,recurrence,12,,,,,percent,,all patients,,https://x.org\n"
    outcomes = RELATED_OUTCOMES + "dss,DSS,proportion,percent,disease_specific_survival,,\n"
    folder = tmp_path / "both"
    sources = write_small(folder, [_claim("c-dss", "dss", "3", value="54", **PP)], findings)
    (folder / "measures.csv").write_text(RELATED_MEASURES, encoding="utf-8")
    (folder / "outcomes.csv").write_text(outcomes, encoding="utf-8")
    load(db, sources)
    check = checks_of(db)["c-dss"]
    assert check.status is Status.CONSISTENT
    assert {(f.measure, f.relation) for f in check.findings} == {
        ("disease_specific_survival", Relation.SAME_MEASURE),
        ("recurrence", Relation.RELATED_MEASURE)}


@pytest.mark.parametrize(("related", "message"), [
    pytest.param("no_such_measure", "related measure 'no_such_measure' is not in the measure "
                 "vocabulary", id="unknown"),
    pytest.param("recurrence", "related measure 'recurrence' is the measure itself", id="self"),
])
def test_related_measure_must_exist(tmp_path: Path, db: Database, related: str,
                                    message: str) -> None:
    folder = tmp_path / "bad"
    sources = _with_related(folder, [])
    (folder / "measures.csv").write_text(
        RELATED_MEASURES.replace(",disease_specific_survival\n", f",{related}\n"),
        encoding="utf-8")
    with pytest.raises(LoadRefused) as refused:
        load(db, sources)
    (problem,) = [p for p in refused.value.problems if "related" in p.message]
    assert problem.message == message
    assert (Path(problem.file or "").name, problem.line, problem.key) == (
        "measures.csv", RELATED_MEASURES.count("\n"), "recurrence")


def test_curated_recurrence_shows_disease_free_survival(shared_built: Database) -> None:
    """data/measures.csv declares recurrence <-> disease-free survival; [3] reports 6% DFS."""
    with (DATA / "measures.csv").open(encoding="utf-8", newline="") as f:
        declared = {r["code"]: r["related"] for r in csv.DictReader(f)}
    assert declared["recurrence"] == "disease_free_survival"
    (dfs,) = curated_findings("wachtel2015", "disease_free_survival")
    check = checks_of(shared_built)["li2025-recurrence"]
    assert [(f.measure, f.value, f.relation) for f in check.findings] == [
        ("disease_free_survival", float(dfs["value"]), Relation.RELATED_MEASURE)]
    assert check.status is Status.NOT_ASSESSABLE


# --- n/N claims -------------------------------------------------------------------------------

COUNT_FINDINGS = FINDINGS + """\
eta2007,7,female,16.4,,,165,1007,percent,,all patients,,https://example.org/7
zeta2006,6,female,16.4,,,,,percent,,all patients,,https://example.org/6
delta2004,4,female,16.5,,,,,percent,,all patients,,https://example.org/4
gamma2003,3,female,,,,166,1007,count,,all patients,,https://example.org/3
"""


@pytest.mark.parametrize(("refs", "status", "says"), [
    pytest.param("7", Status.CONSISTENT, "within 16.39%", id="same-counts-as-16.4%"),
    pytest.param("6", Status.CONSISTENT, "16.39% at the finding's precision",
                 id="printed-16.4%-only"),
    pytest.param("4", Status.INCONSISTENT, "outside 16.4%", id="printed-16.5%-only"),
    pytest.param("3", Status.INCONSISTENT, "16.48% outside 16.39%", id="other-counts"),
])
def test_counts_claim_compared_by_counts(tmp_path: Path, db: Database, refs: str,
                                         status: Status, says: str) -> None:
    """165/1007 against a finding of 16.4% (165/1007) is the same figure: the counts decide,
    and a printed percentage alone is read at its own precision."""
    claim = _claim("c-n-of-n", "women", refs, unit="count", numerator="165",
                   denominator="1007")
    load(db, write_small(tmp_path / "nn", [claim], COUNT_FINDINGS))
    check = checks_of(db)["c-n-of-n"]
    assert check.status is status, check.explanation
    assert says in check.explanation


def test_a_finding_for_several_timepoints_applies_to_each(small: Database) -> None:
    (finding,) = checks_of(small)["c-two-timepoints"].findings
    assert (finding.timepoint, finding.verdict) == ("3 and 5 years", Verdict.WITHIN)


def test_claim_without_timepoint_takes_findings_at_any(small: Database) -> None:
    check = checks_of(small)["c-no-timepoint"]
    same = sorted(f.timepoint or "" for f in check.findings
                  if f.relation is Relation.SAME_MEASURE)
    assert same == ["5 years"]  # [1] reports survival at 5 years only


def test_percentage_from_counts(small: Database) -> None:
    """286/377 = 75.86%: rounded to the printed claim's decimals; exact against counts."""
    for claim_id in ("c-women-approx", "c-women-exact"):
        (finding,) = checks_of(small)[claim_id].findings
        assert (finding.compared_low, finding.compared_high) == (76, 76)
    (counts,) = checks_of(small)["c-women-counts"].findings
    assert counts.compared_low == pytest.approx(100 * 286 / 377)
    assert "75.86%" in counts.assessment


def test_qualitative_claim_with_a_measure_lists_findings(tmp_path: Path, db: Database) -> None:
    outcomes = OUTCOMES.replace("remark,A remark,qualitative,,,,",
                                "remark,A remark,qualitative,,overall_survival,,")
    sources = write_small(tmp_path / "q")
    (tmp_path / "q" / "outcomes.csv").write_text(outcomes, encoding="utf-8")
    load(db, sources)
    check = checks_of(db)["c-qualitative"]
    assert (check.status, check.reason) == (Status.NOT_ASSESSABLE, Reason.QUALITATIVE)
    assert check.claimed == "no figure (qualitative)"
    assert check.findings and {f.verdict for f in check.findings} == {None}  # for reading
    assert check.explanation.startswith("Not assessable: a qualitative statement")


# --- tolerance --------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "claim_id", "status"), [
    pytest.param(VerifyConfig(), "c-women-approx", Status.CONSISTENT, id="5pp-accepts-76"),
    pytest.param(VerifyConfig(tolerance_pp=3), "c-women-approx", Status.INCONSISTENT,
                 id="3pp-refuses-76"),
    pytest.param(VerifyConfig(tolerance_pp=3), "c-consistent", Status.CONSISTENT,
                 id="3pp-37-73-holds-55"),
    pytest.param(VerifyConfig(tolerance_rel=0.05), "c-age-approx", Status.INCONSISTENT,
                 id="5pc-57-63-refuses-55"),
    pytest.param(VerifyConfig(tolerance_rel=0.05), "c-women-approx", Status.CONSISTENT,
                 id="rel-does-not-touch-percent"),
    pytest.param(VerifyConfig(tolerance_pp=0), "c-consistent", Status.CONSISTENT,
                 id="0pp-is-the-printed-range"),
    pytest.param(VerifyConfig(tolerance_pp=0), "c-women-approx", Status.INCONSISTENT,
                 id="0pp-76-is-not-80"),
])
def test_tolerance(small: Database, config: VerifyConfig, claim_id: str,
                   status: Status) -> None:
    assert checks_of(small, config=config)[claim_id].status is status


def test_default_tolerance() -> None:
    assert (VerifyConfig().tolerance_pp, VerifyConfig().tolerance_rel) == (5, 0.1)


def test_accepted_interval_follows_the_tolerance(small: Database) -> None:
    check = checks_of(small, config=VerifyConfig(tolerance_pp=2))["c-women-approx"]
    assert (check.accepted_low, check.accepted_high) == (78, 82)
    age = checks_of(small)["c-age-approx"]
    assert (age.accepted_low, age.accepted_high) == (pytest.approx(54), pytest.approx(66))


@pytest.mark.parametrize("options", [
    pytest.param({"tolerance_pp": -1}, id="negative-pp"),
    pytest.param({"tolerance_pp": math.nan}, id="nan-pp"),
    pytest.param({"tolerance_pp": 101}, id="pp-above-100"),
    pytest.param({"tolerance_rel": 10}, id="rel-as-percent"),
    pytest.param({"tolerance_rel": "0.1"}, id="rel-as-text"),
])
def test_bad_tolerance_refused(options: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        VerifyConfig(**options)  # type: ignore[arg-type]


def test_whole_population_phrases_are_configurable(small: Database) -> None:
    config = VerifyConfig(whole_populations=("complete resection only",))
    checks = checks_of(small, config=config)
    assert checks["c-subgroup"].status is Status.INCONSISTENT  # 33%: the whole study's now
    # added to the built-in phrases, never replacing them: "whole cohort" stays whole
    assert checks["c-consistent-two"].status is Status.CONSISTENT
    assert {f.relation for f in checks["c-consistent-two"].findings} == {
        Relation.SAME_MEASURE, Relation.DIFFERENT_MEASURE}


@pytest.mark.parametrize("population", ["entire cohort", "Entire Cohort", "whole cohort",
                                        "all patients", "all grafts"])
def test_built_in_whole_populations(tmp_path: Path, db: Database, population: str) -> None:
    assert population.lower() in WHOLE_POPULATIONS
    findings = FINDINGS.replace("80,,,,,percent,5 years,whole cohort",
                                f"80,,,,,percent,5 years,{population}")
    load(db, write_small(tmp_path / "w", findings=findings))
    assert checks_of(db)["c-partly"].status is Status.PARTLY_CONSISTENT  # 80% decides too


def test_review_declares_its_whole_populations(tmp_path: Path, db: Database) -> None:
    """`whole_populations` in review.toml adds phrases for that review's claims."""
    sources = write_small(tmp_path / "r")
    toml = tmp_path / "r" / "review.toml"
    toml.write_text(REVIEW.replace('title = "A small review"\n', 'title = "A small review"\n'
                                   'whole_populations = ["Complete resection only"]\n'),
                    encoding="utf-8")
    load(db, sources)
    assert checks_of(db)["c-subgroup"].status is Status.INCONSISTENT
    assert checks_of(db)["c-consistent-two"].status is Status.CONSISTENT  # built-ins kept


@pytest.mark.parametrize("value", ['"entire cohort"', '[1, 2]', '[""]'])
def test_review_whole_populations_must_be_phrases(tmp_path: Path, db: Database,
                                                  value: str) -> None:
    sources = write_small(tmp_path / "bad")
    toml = tmp_path / "bad" / "review.toml"
    toml.write_text(REVIEW.replace('title = "A small review"\n', 'title = "A small review"\n'
                                   f'whole_populations = {value}\n'), encoding="utf-8")
    with pytest.raises(LoadRefused) as refused:
        load(db, sources)
    (problem,) = [p for p in refused.value.problems if "whole_populations" in p.message]
    assert (Path(problem.file).name, problem.line, problem.key) == ("review.toml", 4, "r1")


@pytest.mark.parametrize("terms", [("",), "entire cohort", (3,)])
def test_bad_whole_populations_refused(terms: object) -> None:
    with pytest.raises(UsageError):
        VerifyConfig(whole_populations=terms)  # type: ignore[arg-type]


# --- filters ----------------------------------------------------------------------------------


def test_outcome_filter(small: Database) -> None:
    checks = checks_of(small, outcome="women")
    assert set(checks) == {"c-women-approx", "c-women-exact", "c-women-counts"}


def test_review_filter_and_unknown_codes(small: Database) -> None:
    assert checks_of(small, review="r1")
    with pytest.raises(NotFound):
        checks_of(small, review="nope")
    with pytest.raises(NotFound):
        checks_of(small, outcome="nope")


def test_disagreeing_reference_is_not_a_source(tmp_path: Path, db: Database) -> None:
    """Only references cited in support are compared; a claim citing none is listed as not
    assessable, with nothing compared."""
    folder = tmp_path / "roles"
    write_small(folder)
    long_columns = CLAIM_LONG_COLUMNS
    base = {k: v for k, v in CLAIMS[0].items()
            if k not in ("reference_keys", "reference_numbers")}
    rows = [{**base, "reference_key": "alpha2001", "reference_number": "1",
             "role": "disagrees"}]
    (folder / "claims.csv").write_text(csv_text(rows, long_columns), encoding="utf-8")
    load(db, Sources.from_folder(folder))
    (check,) = checks_of(db).values()
    assert (check.status, check.reason) == (Status.NOT_ASSESSABLE,
                                            Reason.NO_SUPPORTING_REFERENCE)
    assert check.findings == () and check.reference_keys == ()


# --- curated data -----------------------------------------------------------------------------


def curated_findings(key: str, measure: str) -> list[dict[str, str]]:
    with (DATA / "findings.csv").open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f)
                if r["reference_key"] == key and r["measure"] == measure]


def test_curated_five_year_survival_is_consistent(shared_built: Database) -> None:
    check = checks_of(shared_built)["li2025-os-5y"]
    five = {(int(r["reference_number"]), float(r["value"]))
            for key in ("wachtel2015", "nooromid2022")
            for r in curated_findings(key, "overall_survival")
            if "60 months" in normalise_timepoint(r["timepoint"])}
    assert five == {(3, 55), (5, 65)}  # what the sources report, read from the file
    same = {(f.reference_number, f.value) for f in check.findings
            if f.relation is Relation.SAME_MEASURE}
    assert same == five
    assert check.status is Status.CONSISTENT


@pytest.mark.parametrize(("claim_id", "without"), [
    pytest.param("li2025-os-10y", ("wachtel2015", "nooromid2022"), id="no-10-year-figure"),
    pytest.param("li2025-vro-patency", ("liu2018",), id="nothing-from-8"),
    pytest.param("li2025-nephrectomy-no-reconstruction", ("yoshidome2005",),
                 id="nothing-from-11"),
])
def test_curated_unverified(shared_built: Database, claim_id: str,
                            without: tuple[str, ...]) -> None:
    check = checks_of(shared_built)[claim_id]
    assert check.status is Status.UNVERIFIED
    assert check.findings == ()
    assert check.references_without_findings == without


def test_curated_share_of_women(shared_built: Database) -> None:
    (row,) = curated_findings("wachtel2015", "female")
    assert (row["value"], row["numerator"], row["denominator"]) == ("76", "286", "377")
    check = checks_of(shared_built)["li2025-female-proportion"]
    assert (check.qualifier, check.value) == ("approximately", 80)
    assert check.status is Status.CONSISTENT  # |76 - 80| = 4 percentage points <= 5
    strict = checks_of(shared_built,
                       config=VerifyConfig(tolerance_pp=3))["li2025-female-proportion"]
    assert strict.status is Status.INCONSISTENT


def test_curated_lists_every_claim_citing_a_reference(shared_built: Database) -> None:
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as f:
        citing = {r["claim_id"] for r in csv.DictReader(f) if r["reference_keys"]}
    checks = checks_of(shared_built)
    assert set(checks) == citing and len(citing) == 23
    assert checks["li2025-os-5y"].reason is None
    assert checks["li2025-first-report"].reason is Reason.NO_MEASURE  # a date
    assert checks["li2025-prognosis"].reason is Reason.QUALITATIVE
    assert not any(c.startswith("li2025-case-") for c in checks)  # no references


def test_markdown_report_lists_every_claim_and_its_sources(shared_built: Database) -> None:
    with shared_built.session() as session:
        checks = verify(session)
    text = markdown_report(checks)
    for check in checks:
        assert f"## `{check.claim_id}`: {check.status_text()}" in text
        for finding in check.findings:
            assert f"<{finding.seen_at}>" in text
    assert "±5 percentage points" in text


def test_markdown_report_without_claims() -> None:
    text = markdown_report([])
    assert "0 claims" in text and "| Claim |" not in text
