"""Reviewer queries: claims by outcome, reference, author, year and text; evidence; references.

Every test runs on SQLite and PostgreSQL (`built`); the answers must be the same on both.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, ENGINES, shared_database
from sqlmodel import Session

from ivcdb import queries
from ivcdb.contract import CLAIM_COLUMNS, CLAIM_LONG_COLUMNS, FINDING_EXPORT_COLUMNS, ClaimRow
from ivcdb.db import Database
from ivcdb.errors import NotFound, UsageError
from ivcdb.loaders import Sources, load
from ivcdb.models import Reference
from ivcdb.text import search_text, search_words

# A second review citing one new reference with accented authors and wachtel2015, with
# statements that hold LIKE's wildcards and its escape character literally.
EXTRA_BIB = r"""
@article{mueller2020,
  author = {M{\"u}ller, J{\"o}rg and Dubois, {\'E}lise},
  title = {A Test Series},
  journal = {Journal of Tests},
  year = {2020},
}
"""
EXTRA_REVIEW = """
[review]
id = "test2025"
title = "A test review"
authors = ["Tester, T"]
year = 2025

[[citations]]
number = 1
key = "mueller2020"

[[citations]]
number = 2
key = "wachtel2015"
"""
EXTRA_CLAIMS = [
    {"claim_id": "Test2025-upper", "outcome": "overall_survival_5y", "value": "50",
     "unit": "percent", "reported": "50%", "reference_keys": "mueller2020;wachtel2015",
     "reference_numbers": "1;2",
     "statement": "After caval R\u00e9section the M\u00fcller series split 50_50 at 5 years."},
    {"claim_id": "test2025-plain", "outcome": "prognosis", "reference_keys": "mueller2020",
     "reference_numbers": "1",
     "statement": "Outcomes split 50-50 in a/b comparisons, a 100\\% honest figure."},
    # nooromid2022 has no number in test2025: the claim's numbers cannot be listed
    {"claim_id": "test2025-uncited", "outcome": "prognosis",
     "reference_keys": "mueller2020;nooromid2022", "statement": "A claim citing by key only."},
]
# Long form: one claim cited in two roles.
DISPUTE = [("wachtel2015", "2", "supports"), ("mueller2020", "1", "disagrees")]


def load_second_review(built: Database, tmp_path: Path) -> None:
    """Load the second review above into a database holding the curated data."""
    # its own bibliography: its entry, and its copies of the curated ones it cites
    curated = (DATA / "references.bib").read_text(encoding="utf-8")
    (tmp_path / "extra.bib").write_text(EXTRA_BIB + "\n" + curated, encoding="utf-8")
    (tmp_path / "review2.toml").write_text(EXTRA_REVIEW, encoding="utf-8")
    with (tmp_path / "claims2.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for claim in EXTRA_CLAIMS:
            writer.writerow({"review": "test2025", "derived": "false", **claim})
    with (tmp_path / "claims3.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CLAIM_LONG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for key, number, role in DISPUTE:
            writer.writerow({"claim_id": "test2025-dispute", "review": "test2025",
                             "outcome": "overall_survival_5y", "value": "45", "unit": "percent",
                             "derived": "false", "statement": "A disputed survival figure.",
                             "reference_key": key, "reference_number": number, "role": role})
    load(built, Sources(references=tmp_path / "extra.bib", reviews=[tmp_path / "review2.toml"],
                        claims=[tmp_path / "claims2.csv", tmp_path / "claims3.csv"]))


@pytest.fixture(scope="module", params=ENGINES)
def two_reviews(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                pg_admin: sa.Engine | None) -> Iterator[Database]:
    """The curated data plus the second review above (module-scoped: its tests only read)."""
    with shared_database(request.param, tmp_path_factory, pg_admin,
                         load_second_review) as database:
        yield database


# Every claim citing mueller2020 (test2025's number 1), byte-wise.
MUELLER = ["Test2025-upper", "test2025-dispute", "test2025-plain", "test2025-uncited"]


def ids(rows: list[ClaimRow]) -> list[str]:
    return [r.claim_id for r in rows]


def split(cell: str) -> list[str]:
    return cell.split(";") if cell else []


def supporting(row: ClaimRow) -> tuple[list[str], list[int | None]]:
    return ([r.reference_key for r in row.supporting],
            [r.reference_number for r in row.supporting])


def disagreeing(row: ClaimRow) -> list[str]:
    return [r.reference_key for r in row.disagreeing]


def curated_claims() -> list[dict[str, str]]:
    with (DATA / "claims.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the curated data -------------------------------------------------------------------------


def test_five_year_survival_claim(shared_built: Database) -> None:
    with shared_built.session() as session:
        rows = queries.claims(session, outcome="overall_survival_5y")
    assert len(rows) == 1
    row = rows[0]
    assert (row.value_low, row.value_high, row.unit, row.qualifier) == (40, 70, "percent",
                                                                        "approximately")
    assert (row.reference_keys, row.reference_numbers) == (["wachtel2015", "nooromid2022"],
                                                           [3, 5])


def test_claims_match_the_curated_file(shared_built: Database) -> None:
    """Unfiltered, every claim comes back with its references in citation order."""
    expected = {r["claim_id"]: (r["outcome"], r["statement"], split(r["reference_keys"]),
                                [int(n) for n in split(r["reference_numbers"])])
                for r in curated_claims()}
    with shared_built.session() as session:
        rows = queries.claims(session)
    assert {r.claim_id: (r.outcome, r.statement, r.reference_keys, r.reference_numbers)
            for r in rows} == expected


def test_order_is_bytewise(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        found = ids(queries.claims(session))
    assert found == sorted(found, key=lambda s: s.encode())
    assert found[0] == "Test2025-upper"  # upper case sorts first byte-wise, not by locale


def test_each_outcome_filter_returns_exactly_its_claims(shared_built: Database) -> None:
    by_outcome: dict[str, set[str]] = {}
    for r in curated_claims():
        by_outcome.setdefault(r["outcome"], set()).add(r["claim_id"])
    with shared_built.session() as session:
        for outcome, expected in by_outcome.items():
            assert set(ids(queries.claims(session, outcome=outcome))) == expected


# --- reference --------------------------------------------------------------------------------


def test_reference_by_key_any_case_and_by_number(shared_built: Database) -> None:
    with shared_built.session() as session:
        by_key = queries.claims(session, reference="wachtel2015")
        assert by_key
        assert all("wachtel2015" in r.reference_keys for r in by_key)
        assert queries.claims(session, reference="WACHTEL2015") == by_key
        assert queries.claims(session, reference=3) == by_key
        assert queries.claims(session, reference=" 3 ") == by_key


def test_reference_numbers_are_those_of_the_claims_review(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        rows = {r.claim_id: r for r in queries.claims(session, reference="wachtel2015")}
    assert rows["Test2025-upper"].reference_numbers == [1, 2]
    assert rows["li2025-os-5y"].reference_numbers == [3, 5]


def test_reference_number_needs_a_review_when_ambiguous(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        with pytest.raises(UsageError, match="ambiguous.*li2025, test2025"):
            queries.claims(session, reference=1)
        own = ids(queries.claims(session, reference=1, review="test2025"))
        assert own == MUELLER
        # 3 is cited by one review only: no ambiguity
        assert queries.claims(session, reference=3) == queries.claims(session,
                                                                      reference="wachtel2015")


@pytest.mark.parametrize(("ref", "hint"), [
    pytest.param("wachtel2016", "wachtel2015", id="close-key"),
    pytest.param("nooromid", "nooromid2022", id="prefix"),
    pytest.param(99, "no reference number 99", id="number"),
])
def test_unknown_reference_suggests(shared_built: Database, ref: str | int, hint: str) -> None:
    with shared_built.session() as session, pytest.raises(NotFound, match=hint):
        queries.claims(session, reference=ref)


# --- author -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Müller", "MULLER", "muller", "Jörg Müller", "jorg muller",
                                  "Müller, Jörg", "Elise Dubois", "DUBOIS"])
def test_author_accent_and_case_insensitive(two_reviews: Database, name: str) -> None:
    with two_reviews.session() as session:
        assert ids(queries.claims(session, author=name)) == MUELLER


@pytest.mark.parametrize("name", ["mull", "Jörg", "Dubois Elise", "%", "_", "Müller E",
                                  "Müller, E."])
def test_author_needs_a_full_or_family_name(two_reviews: Database, name: str) -> None:
    with two_reviews.session() as session, pytest.raises(NotFound, match="no author"):
        queries.claims(session, author=name)


def test_author_on_curated_data(shared_built: Database) -> None:
    with shared_built.session() as session:
        rows = queries.claims(session, author="Wachtel")
        assert rows == queries.claims(session, reference="wachtel2015")
        assert queries.claims(session, author="H Wachtel") == rows


@pytest.mark.parametrize("name", ["Müller J", "muller j", "Müller, J.", "MÜLLER J.",
                                  "J Müller", "Dubois E", "Dubois, É", "Dubois É"])
def test_author_as_refs_and_show_print_it(two_reviews: Database, name: str) -> None:
    """"Family Initials", "Family, Initials" and "Initials Family": initials are a prefix."""
    with two_reviews.session() as session:
        assert ids(queries.claims(session, author=name)) == MUELLER


def test_printed_author_names_find_their_claims(shared_built: Database) -> None:
    """Every author name `show` prints ("Wachtel H") finds the claims citing that reference."""
    with shared_built.session() as session:
        detail = queries.reference_detail(session, "wachtel2015")
        expected = ids(queries.claims(session, reference="wachtel2015"))
        for name in detail.authors:
            found = ids(queries.claims(session, author=name))
            assert set(expected) <= set(found), name
        with pytest.raises(NotFound, match=r"no author 'Wachtl H' \(did you mean 'Wachtel'"):
            queries.claims(session, author="Wachtl H")


# --- year -------------------------------------------------------------------------------------


def reference_years(session: Session) -> dict[str, int | None]:
    t = Reference.__table__  # type: ignore[attr-defined]
    return dict(session.execute(sa.select(t.c.citekey, t.c.year)).all())


@pytest.mark.parametrize(("low", "high"), [(2015, 2016), (2020, None), (None, 2005),
                                           (2010, 2010), (1900, 1901)])
def test_year_range_any_cited_reference(shared_built: Database, low: int | None,
                                        high: int | None) -> None:
    def within(year: int | None) -> bool:
        return year is not None and (low is None or year >= low) and (high is None or
                                                                       year <= high)

    with shared_built.session() as session:
        years = reference_years(session)
        expected = [r.claim_id for r in queries.claims(session)
                    if any(within(years[k]) for k in r.reference_keys)]
        assert ids(queries.claims(session, year_from=low, year_to=high)) == expected


def test_reference_filters_hold_for_one_reference(shared_built: Database) -> None:
    """li2025-os-5y cites Wachtel (2015) and a 2022 paper: 'Wachtel from 2020 on' is no match."""
    with shared_built.session() as session:
        assert "li2025-os-5y" in ids(queries.claims(session, year_from=2020))
        assert queries.claims(session, author="wachtel", year_from=2020) == []
        assert ids(queries.claims(session, author="wachtel", year_to=2015)) == ids(
            queries.claims(session, author="wachtel"))


def test_empty_year_range_refused(shared_built: Database) -> None:
    with shared_built.session() as session, pytest.raises(UsageError, match="empty"):
        queries.claims(session, year_from=2020, year_to=2010)


# --- text -------------------------------------------------------------------------------------


def test_text_accent_and_case_insensitive(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        upper = queries.claims(session, text="RÉSECTION")
        assert upper == queries.claims(session, text="resection")
        assert upper == queries.claims(session, text="Resection")
        found = ids(upper)
        assert "Test2025-upper" in found  # stored with an accent, found without
        assert "li2025-os-5y" in found  # stored without, found with one


def test_text_every_word_must_match(shared_built: Database) -> None:
    with shared_built.session() as session:
        both = ids(queries.claims(session, text="resection  10-YEAR"))
        assert both == ids([r for r in queries.claims(session, text="resection")
                            if "10-year" in r.statement.lower()])
        assert both == ["li2025-os-10y"]


@pytest.mark.parametrize("needle", ["50_50", "100\\%", "a/b", "'; DROP TABLE claim; --",
                                    'NEAR(a b)', "a OR b", "^x", "col: resection"])
def test_search_syntax_of_the_engines_is_only_words(two_reviews: Database, needle: str) -> None:
    """SQL wildcards, FTS5 operators and column filters are words like any other: the
    claims holding those words, one after the other, are found, and nothing fails."""
    words = search_words(needle)
    with two_reviews.session() as session:
        labels = queries.outcome_labels(session)
        everything = queries.claims(session)
        stored = {r.claim_id: search_text(r.statement, r.outcome, labels[r.outcome],
                                          r.population) for r in everything}
        expected = sorted(c for c, text in stored.items() if f" {' '.join(words)} " in
                          f" {text} ")
        assert sorted(ids(queries.claims(session, text=needle))) == expected
    assert len(expected) < len(everything)


@pytest.mark.parametrize("text", ["", "   ", "%", "_", "/", "--"])
def test_text_without_a_word_is_refused(shared_built: Database, text: str) -> None:
    with shared_built.session() as session, pytest.raises(UsageError,
                                                          match="no word to search for"):
        queries.claims(session, text=text)


# --- combination, review, limit ---------------------------------------------------------------


def test_filters_combine_with_and(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        survival = set(ids(queries.claims(session, outcome="overall_survival_5y")))
        wachtel = set(ids(queries.claims(session, reference="wachtel2015")))
        both = ids(queries.claims(session, outcome="overall_survival_5y",
                                  reference="wachtel2015"))
        assert set(both) == survival & wachtel == {"Test2025-upper", "li2025-os-5y",
                                                   "test2025-dispute"}
        assert ids(queries.claims(session, outcome="overall_survival_5y",
                                  review="test2025")) == ["Test2025-upper", "test2025-dispute"]


def test_limit(shared_built: Database) -> None:
    with shared_built.session() as session:
        everything = queries.claims(session)
        assert queries.claims(session, limit=3) == everything[:3]
        assert queries.claims(session, reference="wachtel2015", limit=1) == (
            queries.claims(session, reference="wachtel2015")[:1])


@pytest.mark.parametrize("limit", [0, -1, True, "5", 2.5])
def test_limit_must_be_a_positive_int(shared_built: Database, limit: object) -> None:
    with shared_built.session() as session, pytest.raises(UsageError, match="limit"):
        queries.claims(session, limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize(("outcome", "hint"), [
    ("overall_survival_5", "overall_survival_5y"),
    ("overal_survival_5y", "overall_survival_5y"),
    ("vro", "vro_patency"),
])
def test_unknown_outcome_suggests_close_code(shared_built: Database, outcome: str,
                                            hint: str) -> None:
    with shared_built.session() as session, pytest.raises(NotFound, match=hint):
        queries.claims(session, outcome=outcome)


def test_outcome_code_is_case_insensitive(shared_built: Database) -> None:
    with shared_built.session() as session:
        assert queries.claims(session, outcome="OVERALL_SURVIVAL_5Y") == queries.claims(
            session, outcome="overall_survival_5y")


def test_unknown_review(shared_built: Database) -> None:
    with shared_built.session() as session, pytest.raises(NotFound, match="li2025"):
        queries.claims(session, review="li2024")


# --- outcomes, evidence, references -----------------------------------------------------------


def test_list_outcomes_counts_claims(shared_built: Database) -> None:
    with (DATA / "outcomes.csv").open(encoding="utf-8", newline="") as handle:
        vocabulary = {r["code"]: r for r in csv.DictReader(handle)}
    counts: dict[str, int] = {}
    for r in curated_claims():
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    with shared_built.session() as session:
        rows = queries.list_outcomes(session)
    assert [r.code for r in rows] == sorted(vocabulary, key=lambda s: s.encode())
    for row in rows:
        assert row.claims == counts.get(row.code, 0)
        assert (row.label, row.kind, row.unit or "") == (
            vocabulary[row.code]["label"], vocabulary[row.code]["kind"],
            vocabulary[row.code]["unit"])


def test_evidence_table(shared_built: Database) -> None:
    with shared_built.session() as session:
        rows = queries.evidence(session, "overall_survival_5y")
        claims = queries.claims(session, outcome="overall_survival_5y")
    assert [r.claim_id for r in rows] == ids(claims)
    row = rows[0]
    assert row.studies == ("[3] Wachtel et al. 2015", "[5] Nooromid et al. 2022")
    assert (supporting(row), disagreeing(row)) == (
        (["wachtel2015", "nooromid2022"], [3, 5]), [])
    assert (row.qualifier, row.value_low, row.value_high, row.unit) == (
        "approximately", 40, 70, "percent")


def test_roles_in_evidence_and_detail(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        claim = queries.claims(session, text="disputed")
        rows = {r.claim_id: r for r in queries.evidence(session, "overall_survival_5y",
                                                        review="test2025")}
        mueller = queries.reference_detail(session, "mueller2020")
    assert (claim[0].reference_keys, claim[0].reference_numbers) == (
        ["wachtel2015", "mueller2020"], [2, 1])
    dispute = rows["test2025-dispute"]
    assert (supporting(dispute), disagreeing(dispute)) == (
        (["wachtel2015"], [2]), ["mueller2020"])
    assert dispute.studies == ("[2] Wachtel et al. 2015",)
    assert rows["Test2025-upper"].studies == ("[1] Müller et al. 2020",
                                              "[2] Wachtel et al. 2015")
    assert {c["claim_id"]: c["role"] for c in mueller.claim_dicts()} == {
        "Test2025-upper": "supports", "test2025-dispute": "disagrees",
        "test2025-plain": "supports", "test2025-uncited": "supports"}


def test_numbers_listed_only_when_every_reference_has_one(two_reviews: Database) -> None:
    """nooromid2022 has no number in test2025: a partial list would misalign with the keys."""
    with two_reviews.session() as session:
        row = queries.claims(session, text="by key only")[0]
    assert (row.reference_keys, row.reference_numbers) == (["mueller2020", "nooromid2022"], [])


def test_evidence_unknown_outcome(shared_built: Database) -> None:
    with shared_built.session() as session, pytest.raises(NotFound, match="overall_survival_10y"):
        queries.evidence(session, "overall_survival_10")


def test_reference_detail(shared_built: Database) -> None:
    with (DATA / "findings.csv").open(encoding="utf-8", newline="") as handle:
        measures = sorted(r["measure"] for r in csv.DictReader(handle)
                          if r["reference_key"] == "wachtel2015")
    with shared_built.session() as session:
        detail = queries.reference_detail(session, 3)
        cited = queries.claims(session, reference="wachtel2015")
        assert queries.reference_detail(session, "Wachtel2015") == detail
    assert (detail.citekey, detail.year, detail.sample_size) == ("wachtel2015", 2015, 377)
    assert detail.authors[0] == "Wachtel H" and detail.et_al
    assert detail.citations == (queries.CitationNumber("li2025", 3),)
    assert [c.claim_id for c in detail.claims] == ids(cited)
    assert {c.role_of(detail.citekey) for c in detail.claims} == {"supports"}
    assert sorted(f.measure for f in detail.findings) == measures


def test_reference_detail_in_one_review(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        every = queries.reference_detail(session, "wachtel2015")
        own = queries.reference_detail(session, 2, review="test2025")
        mueller = queries.reference_detail(session, "MUELLER2020")
    assert [(c.review, c.number) for c in every.citations] == [("li2025", 3), ("test2025", 2)]
    assert own.citekey == "wachtel2015"
    assert [(c.review, c.number) for c in own.citations] == [("test2025", 2)]
    assert [c.claim_id for c in own.claims] == ["Test2025-upper", "test2025-dispute"]
    assert own.findings == every.findings  # findings belong to the reference, not a review
    assert mueller.authors == ("Müller Jörg", "Dubois Élise") and not mueller.et_al
    assert mueller.findings == []


# --- frames -----------------------------------------------------------------------------------


def test_to_frame_columns(two_reviews: Database) -> None:
    with two_reviews.session() as session:
        frames = {
            "claims": (queries.claims(session, outcome="overall_survival_5y"), CLAIM_COLUMNS),
            "none": (queries.claims(session, text="no such words here"), CLAIM_COLUMNS),
            "outcomes": (queries.list_outcomes(session), ("code", "label", "kind", "unit",
                                                          "claims")),
        }
        evidence = queries.evidence(session, "overall_survival_5y")
        detail = queries.reference_detail(session, "mueller2020")
    for name, (rows, columns) in frames.items():
        frame = rows.to_frame()
        assert list(frame.columns) == list(columns), name
        assert len(frame) == len(rows), name
    assert list(evidence.to_frame().columns) == [*CLAIM_COLUMNS, "studies"]
    assert list(detail.findings.to_frame().columns) == [  # empty, still typed
        *FINDING_EXPORT_COLUMNS]
    one = detail.to_frame()
    assert len(one) == 1 and one.loc[0, "authors"] == "Müller Jörg; Dubois Élise"
    assert one.loc[0, "citations"] == "test2025 [1]"
