"""`ivcdb check` (ivcdb.checks): each check on small hand-made data, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA
from loadkit import csv_text, write

from ivcdb.checks import run_checks
from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.db import Database
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Problem, Severity


def entry(key: str, **fields: str) -> str:
    values = {"title": f"Title of {key}", "author": "Doe, J", "journal": "J", "year": "2000"}
    values.update(fields)
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in values.items() if v is not None)
    return f"@article{{{key},\n{body}\n}}\n"


def claim(claim_id: str, keys: str = "", numbers: str = "", section: str = "1. Introduction",
          paragraph: str = "1") -> dict[str, str]:
    return {"claim_id": claim_id, "review": "r1", "outcome": "prognosis",
            "statement": f"Statement {claim_id}.", "derived": "false", "section": section,
            "paragraph": paragraph, "reference_keys": keys, "reference_numbers": numbers}


def load_small(db: Database, tmp_path: Path, entries: list[str],
               claims: list[dict[str, str]]) -> list[Problem]:
    """Load the curated vocabularies plus the given references and claims; run the checks.

    The review numbers the references in the order given.
    """
    keys = [e.split("{", 1)[1].split(",", 1)[0] for e in entries]
    review = '[review]\nid = "r1"\ntitle = "A review"\n' + "".join(
        f'\n[[citations]]\nnumber = {n}\nkey = "{k}"\n' for n, k in enumerate(keys, 1))
    table = [list(CLAIM_COLUMNS)] + [[c.get(col, "") for col in CLAIM_COLUMNS] for c in claims]
    sources = Sources(units=DATA / "units.csv", measures=DATA / "measures.csv",
                      outcomes=DATA / "outcomes.csv",
                      references=write(tmp_path / "refs.bib", "\n".join(entries)),
                      reviews=[write(tmp_path / "review.toml", review)],
                      claims=[write(tmp_path / "claims.csv", csv_text(table))])
    load(db, sources)
    with db.session() as session:
        return run_checks(session)


def of(problems: list[Problem], code: Code) -> list[tuple[str, Severity]]:
    return [(p.key, p.severity) for p in problems if p.code is code]


W, E = Severity.WARNING, Severity.ERROR


def test_clean_data_has_no_problems(db: Database, tmp_path: Path) -> None:
    problems = load_small(db, tmp_path, [entry("a1"), entry("b2")],
                          [claim("c1", "a1", "1"), claim("c2", "b2", "2")])
    assert problems == []


@pytest.mark.parametrize(("fields", "missing"), [
    pytest.param({"author": None}, "author", id="no-author"),
    pytest.param({"year": None}, "year", id="no-year"),
    pytest.param({"journal": None}, "journal", id="no-journal"),
    pytest.param({"author": None, "year": None}, "author, year", id="several"),
])
def test_incomplete_reference(db: Database, tmp_path: Path, fields: dict[str, None],
                              missing: str) -> None:
    problems = load_small(db, tmp_path, [entry("a1", **fields), entry("b2")],  # type: ignore[arg-type]
                          [claim("c1", "a1;b2", "1;2")])
    (problem,) = [p for p in problems if p.code is Code.MISSING_FIELD]
    assert (problem.key, problem.severity, problem.file) == ("a1", W, "refs.bib")
    assert problem.message.endswith(f"no {missing}")


@pytest.mark.parametrize(("field", "value", "bad"), [
    pytest.param("doi", "10.1002/jso.24244", False, id="doi-ok"),
    pytest.param("doi", "https://doi.org/10.1007/s11605-008-0700-y", False, id="doi-url-ok"),
    pytest.param("doi", "10.12/x", True, id="doi-short-prefix"),
    pytest.param("doi", "10.1002/jso 24244", True, id="doi-space"),
    pytest.param("doi", "jso.24244", True, id="doi-no-prefix"),
    pytest.param("doi", "10.1002/", True, id="doi-no-suffix"),
    pytest.param("pmid", "30538385", False, id="pmid-ok"),
    pytest.param("pmid", "PMC6265193", True, id="pmid-is-a-pmcid"),
    pytest.param("pmid", "3053-8385", True, id="pmid-not-digits"),
])
def test_malformed_identifiers(db: Database, tmp_path: Path, field: str, value: str,
                               bad: bool) -> None:
    problems = load_small(db, tmp_path, [entry("a1", **{field: value})], [claim("c1", "a1", "1")])
    assert of(problems, Code.MALFORMED_ID) == ([("a1", E)] if bad else [])


def test_same_doi_under_two_citekeys_is_an_error(db: Database, tmp_path: Path) -> None:
    problems = load_small(db, tmp_path, [entry("a1", doi="10.1002/ABC.1"),
                                         entry("b2", doi="10.1002/abc.1", title="Other")],
                          [claim("c1", "a1;b2", "1;2")])
    assert of(problems, Code.LIKELY_DUPLICATE) == [("a1", E), ("b2", E)]
    assert "b2" in next(p.message for p in problems if p.key == "a1")


@pytest.mark.parametrize(("title", "year", "duplicate"), [
    pytest.param("Title of A1", "2000", True, id="same-title-case"),
    pytest.param("Title of: a1.", "2000", True, id="same-title-punctuation"),
    pytest.param("Title of A1", "2001", False, id="other-year"),
    pytest.param("Title of A2", "2000", False, id="other-title"),
])
def test_same_title_and_year_is_a_warning(db: Database, tmp_path: Path, title: str, year: str,
                                          duplicate: bool) -> None:
    problems = load_small(db, tmp_path, [entry("a1"), entry("b2", title=title, year=year)],
                          [claim("c1", "a1;b2", "1;2")])
    assert of(problems, Code.LIKELY_DUPLICATE) == ([("a1", W), ("b2", W)] if duplicate else [])


def test_reference_without_claims(db: Database, tmp_path: Path) -> None:
    problems = load_small(db, tmp_path, [entry("a1"), entry("b2")], [claim("c1", "a1", "1")])
    assert of(problems, Code.UNCITED) == [("b2", W)]


@pytest.mark.parametrize(("claims", "late"), [
    pytest.param([claim("c1", "b2", "2"), claim("c2", "a1", "1")], ["c2"], id="reversed"),
    pytest.param([claim("c1", "b2;a1", "2;1")], ["c1"], id="reversed-within-a-claim"),
    pytest.param([claim("c1", "b2", "2", paragraph="2"), claim("c2", "a1", "1")], [],
                 id="file-order-differs-paragraph-order-right"),
    pytest.param([claim("c1", "a1;b2", "1;2"), claim("c2", "b2;a1", "2;1")], [],
                 id="later-citations-in-any-order"),
])
def test_citation_order(db: Database, tmp_path: Path, claims: list[dict[str, str]],
                        late: list[str]) -> None:
    problems = load_small(db, tmp_path, [entry("a1"), entry("b2")], claims)
    assert of(problems, Code.CITATION_ORDER) == [(c, W) for c in late]


@pytest.mark.parametrize(("section", "paragraph", "missing"), [
    pytest.param("", "1", True, id="no-section"),
    pytest.param("3. Discussion", "", True, id="no-paragraph"),
    pytest.param("3. Discussion", "2", False, id="located"),
])
def test_claim_without_locator(db: Database, tmp_path: Path, section: str, paragraph: str,
                               missing: bool) -> None:
    problems = load_small(db, tmp_path, [entry("a1")],
                          [claim("c1", "a1", "1", section=section, paragraph=paragraph)])
    assert of(problems, Code.NO_LOCATOR) == ([("c1", W)] if missing else [])


def test_curated_data_passes(shared_built: Database) -> None:
    with shared_built.session() as session:
        assert run_checks(session) == []


def test_claim_citing_a_reference_its_review_does_not_list(db: Database, tmp_path: Path) -> None:
    """Loaded, cited by a claim, but not in the review's list: no number to show -- a warning."""
    problems = load_small(db, tmp_path, [entry("a1")], [claim("c1", keys="a1", numbers="1")])
    assert of(problems, Code.NOT_IN_REVIEW) == []
    extra = write(tmp_path / "extra.bib", entry("x9"))
    table = [list(CLAIM_COLUMNS), [claim("c2", keys="x9").get(c, "") for c in CLAIM_COLUMNS]]
    load(db, Sources(references=extra, claims=[write(tmp_path / "more.csv", csv_text(table))]))
    with db.session() as session:
        problems = run_checks(session)
    assert of(problems, Code.NOT_IN_REVIEW) == [("c2", W)]
    (problem,) = [p for p in problems if p.code is Code.NOT_IN_REVIEW]
    assert "'x9'" in problem.message and "'r1'" in problem.message and problem.file == "more.csv"


@pytest.mark.parametrize(("doi", "pmid", "bad"), [
    ("10.1000/x", "123", False), ("11.1000/x", None, True), (None, "12ab", True)])
def test_load_and_check_share_the_identifier_rules(db: Database, tmp_path: Path, doi: str | None,
                                                    pmid: str | None, bad: bool) -> None:
    """What `ivcdb check` calls a malformed identifier, the load already warns about."""
    fields = {k: v for k, v in (("doi", doi), ("pmid", pmid)) if v is not None}
    path = write(tmp_path / "refs.bib", entry("a1", **fields))
    (report,) = load(db, Sources(references=path))
    loaded = [p.message for p in report.warnings if p.code is Code.MALFORMED_ID]
    with db.session() as session:
        checked = [p.message for p in run_checks(session) if p.code is Code.MALFORMED_ID]
    assert loaded == checked and bool(loaded) is bad
