"""One SQL home: every view of the snapshot and every canned query of the web UI gives the
rows of the matching `ivcdb.queries` function, on the curated data of each engine.

A view or canned query added without a comparison here fails `test_every_view_and_query_is_
compared`, so the web UI cannot drift from the library unnoticed.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session

from ivcdb import queries
from ivcdb.db import Database
from ivcdb.figures import Style, figure_text, timepoints_match
from ivcdb.serve import load_metadata
from ivcdb.snapshot import VIEWS, compiled_views, snapshot

CANNED = load_metadata()["databases"]["ivcdb"]["queries"]


@pytest.fixture(scope="module")
def snap(shared_built: Database, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[sqlite3.Connection]:
    """A snapshot of the curated database of each engine, opened read-only."""
    path = snapshot(shared_built.url, tmp_path_factory.mktemp("snap") / "snap.sqlite").path
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def session(shared_built: Database) -> Iterator[Session]:
    with shared_built.session() as opened:
        yield opened


def _view(snap: sqlite3.Connection, name: str) -> list[sqlite3.Row]:
    return list(snap.execute(f"SELECT * FROM {name}"))  # noqa: S608 - a fixed view name


def _canned(snap: sqlite3.Connection, name: str, **params: str) -> list[sqlite3.Row]:
    return list(snap.execute(CANNED[name]["sql"], params))


def _numbers(value: Any) -> list[int]:
    """Citation numbers from a result row: a list, or the `3;5` text of a CSV cell."""
    if isinstance(value, str):
        return [int(n) for n in value.split(";") if n]
    return [int(n) for n in value]


def _keys(value: Any) -> list[str]:
    return [k for k in value.split(";") if k] if isinstance(value, str) else list(value)


# --- views ------------------------------------------------------------------------------------


def check_outcome_summary(snap: sqlite3.Connection, session: Session) -> None:
    rows = [tuple(r) for r in _view(snap, "outcome_summary")]
    assert rows == [dataclasses.astuple(r) for r in queries.outcome_overview(session)]
    counts: dict[str, int] = {}
    for row in _view(snap, "outcome_summary"):  # an outcome's claims, over its reviews
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + row["claims"]
    assert counts == {r.code: r.claims for r in queries.list_outcomes(session)}
    assert [r.keys() for r in _view(snap, "outcome_summary")][0] == [
        f.name for f in dataclasses.fields(queries.OutcomeOverview)]


def check_reviews(snap: sqlite3.Connection, session: Session) -> None:
    rows = _view(snap, "reviews")
    assert [tuple(r) for r in rows] == [dataclasses.astuple(r)
                                        for r in queries.list_reviews(session)]
    assert rows[0].keys() == [f.name for f in dataclasses.fields(queries.ReviewRow)]


CLAIM_FIELDS = ("claim_id", "review", "outcome", "statement", "value", "value_low", "value_high",
                "numerator", "denominator", "qualifier", "timepoint", "population", "reported",
                "section", "paragraph")


def check_claims_view(snap: sqlite3.Connection, session: Session) -> None:
    labels = queries.unit_labels(session)
    expected = [(*(getattr(c, f) for f in CLAIM_FIELDS), labels.get(c.unit) if c.unit else None,
                 bool(c.derived), _numbers(c.reference_numbers))
                for c in queries.claims(session)]
    got = [(*(r[f] for f in CLAIM_FIELDS), r["unit"], bool(r["derived"]),
            _numbers(r["cited"].strip("[]").replace(", ", ";")))
           for r in _view(snap, "claims_view")]
    assert got == expected
    assert len(got) > 10


def check_reference_list(snap: sqlite3.Connection, session: Session) -> None:
    review = queries.choose_review(session, code=None)
    assert review is not None
    rows = _view(snap, "reference_list")
    cited = [r for r in rows if r["review"] == review[1]]
    refs = queries.export_references(session, review_id=review[0], cited_only=True)
    fields = ("number", "year", "study_design", "sample_size", "doi", "pmid", "note")
    assert [(r["citekey"], *(r[f] for f in fields)) for r in cited] == [
        (ref.key, *(getattr(ref, f) for f in fields)) for ref in refs]
    for row in rows:
        detail = queries.reference_detail(session, row["citekey"], review=row["review"])
        assert row["claims"] == len({c.claim_id for c in detail.claims})
        assert row["source_findings"] == len(detail.findings)
    keys = {r.key for r in queries.export_references(session, review_id=None)}
    assert {r["citekey"] for r in rows} == keys


# --- canned queries ---------------------------------------------------------------------------


def check_evidence_for_outcome(snap: sqlite3.Connection, session: Session) -> None:
    # An outcome code, or part of a label: the claims of each such outcome, by code.
    outcomes = sorted((o for o in queries.list_outcomes(session) if o.claims),
                      key=lambda o: o.code)
    for typed in [*(o.code for o in outcomes), "survival"]:
        rows = _canned(snap, "evidence_for_outcome", outcome=typed)
        claims = [c for o in outcomes if o.code == typed or typed in o.label.lower()
                  for c in queries.claims(session, outcome=o.code)]
        assert [(r["claim_id"], r["review"], r["statement"], r["timepoint"], r["section"],
                 r["paragraph"]) for r in rows] == [
            (c.claim_id, c.review, c.statement, c.timepoint, c.section, c.paragraph)
            for c in claims]
        assert claims


def check_claims_supported_by_reference(snap: sqlite3.Connection, session: Session) -> None:
    review = queries.choose_review(session, code=None)
    assert review is not None
    compared = 0
    for ref in queries.export_references(session, review_id=review[0], cited_only=True):
        detail = queries.reference_detail(session, ref.key, review=review[1])
        expected = [(c.claim_id, c.role_of(detail.citekey), c.statement) for c in detail.claims]
        for typed in (ref.key, str(ref.number)):
            rows = _canned(snap, "claims_supported_by_reference", reference=typed)
            assert [(r["claim_id"], r["role"], r["statement"]) for r in rows] == expected
            assert {r["review"] for r in rows} <= {review[1]}
        compared += len(expected)
    assert compared > 10


def check_claims_beside_source_figures(snap: sqlite3.Connection, session: Session) -> None:
    # An outcome code, or part of a label: each such outcome's claims beside the findings
    # `plot_findings` gives them (same measure family, at the claim's timepoint).
    outcomes = sorted((o for o in queries.list_outcomes(session) if o.claims),
                      key=lambda o: o.code)
    compared = 0
    for typed in [*(o.code for o in outcomes), "survival"]:
        rows = _canned(snap, "claims_beside_source_figures", outcome=typed)
        got = [(r["claim_id"], r["reference"], r["source_measure"], r["value"],
                r["value_low"], r["value_high"], r["numerator"], r["denominator"],
                r["source_unit"], r["source_timepoint"], r["source_population"], r["note"],
                r["source_figure"]) for r in rows]
        found = [f for o in outcomes if o.code == typed or typed in o.label.lower()
                 for f in queries.plot_findings(session, outcome=o.code)]
        expected = [(f.claim_id, f.reference_key, f.measure_label, f.value, f.value_low,
                     f.value_high, f.numerator, f.denominator, f.unit, f.timepoint,
                     f.population, f.note,
                     figure_text(f.value, f.value_low, f.value_high, f.numerator,
                                 f.denominator, style=Style.SIGNS))
                    for f in sorted(found, key=lambda f: f.claim_id)]
        assert got == expected, typed
        assert all(timepoints_match(r["review_timepoint"], r["source_timepoint"])
                   for r in rows)
        compared += len(got)
    assert compared
    # [3] and [5] report overall survival at 1, 3 and 5 years only: nothing beside 10 years
    assert _canned(snap, "claims_beside_source_figures", outcome="overall_survival_10y") == []
    assert _canned(snap, "claims_beside_source_figures", outcome="overall_survival_5y")


CHECKS: dict[str, Callable[[sqlite3.Connection, Session], None]] = {
    "outcome_summary": check_outcome_summary,
    "reviews": check_reviews,
    "claims_view": check_claims_view,
    "reference_list": check_reference_list,
    "evidence_for_outcome": check_evidence_for_outcome,
    "claims_supported_by_reference": check_claims_supported_by_reference,
    "claims_beside_source_figures": check_claims_beside_source_figures,
}


def test_every_view_and_query_is_compared() -> None:
    assert set(CHECKS) == {*VIEWS, *CANNED}


@pytest.mark.parametrize("name", list(CHECKS))
def test_view_or_query_gives_the_library_rows(snap: sqlite3.Connection, session: Session,
                                              name: str) -> None:
    CHECKS[name](snap, session)


@pytest.mark.parametrize(("name", "sql"), compiled_views().items())
def test_view_is_compiled_from_the_library(snap: sqlite3.Connection, name: str,
                                           sql: str) -> None:
    stored, = snap.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    assert stored == f"CREATE VIEW {name} AS {sql}"
