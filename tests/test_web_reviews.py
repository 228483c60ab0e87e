"""The web UI over several reviews: credits from the reviews' records, a review facet and
per-review pages that show only that review's rows.

The database holds the curated li2025 and `tests/data/review_demo` (demo2024, a fictional
review started with `ivcdb review new`). Pages are fetched with Datasette's in-process client,
set up as `ivcdb serve` sets it up (metadata, plugins, settings); no server, no browser.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ENGINES, TESTDATA, shared_database

from ivcdb import queries
from ivcdb.credits import credit, license_label, license_url
from ivcdb.db import Database
from ivcdb.serve import (
    MAX_ROWS,
    PLUGINS_DIR,
    STATIC_DIR,
    load_metadata,
    review_credits,
)
from ivcdb.snapshot import snapshot

DEMO = TESTDATA / "review_demo"
REVIEWS = ("demo2024", "li2025")


def _load_demo(database: Database, _folder: Path) -> None:
    from ivcdb.loaders import Sources, load

    load(database, Sources.from_folder(DEMO))


@pytest.fixture(scope="module", params=ENGINES)
def two(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        pg_admin: sa.Engine | None) -> Iterator[Database]:
    """li2025 and demo2024 in one database, built once per module and engine."""
    with shared_database(request.param, tmp_path_factory, pg_admin, _load_demo) as database:
        yield database


@pytest.fixture(scope="module")
def two_snap(two: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(two.url, tmp_path_factory.mktemp("two") / "two.sqlite").path


class Site:
    """Datasette over a snapshot, as `ivcdb serve` configures it, fetched in-process."""

    def __init__(self, path: Path) -> None:
        from datasette.app import Datasette

        self.metadata = load_metadata(path.stem, credits=review_credits(path))
        self.app = Datasette(immutables=[str(path)], metadata=self.metadata,
                             plugins_dir=str(PLUGINS_DIR),
                             static_mounts=[("assets", str(STATIC_DIR))],
                             settings={"suggest_facets": False,
                                       "max_returned_rows": MAX_ROWS})
        self.name = path.stem

    def get(self, url: str) -> tuple[int, str]:
        if url == "/ivcdb" or url.startswith("/ivcdb/"):  # the database is the file's name
            url = f"/{self.name}{url[len('/ivcdb'):]}"
        response = asyncio.run(self.app.client.get(url))
        return response.status_code, response.text

    def json(self, url: str) -> Any:
        status, text = self.get(url)
        assert status == 200, text[:300]
        return json.loads(text)

    def rows(self, view: str, query: str = "") -> list[dict[str, Any]]:
        return self.json(f"/ivcdb/{view}.json?_shape=array&_size=max&{query}")


@pytest.fixture(scope="module")
def site(two_snap: Path) -> Site:
    return Site(two_snap)


# --- credits from the reviews' records --------------------------------------------------------


def test_li2025_alone_is_credited_as_before(shared_built: Database, tmp_path: Path) -> None:
    """The curated review's record gives the licence and source its pages always showed."""
    path = snapshot(shared_built.url, tmp_path / "one.sqlite").path
    metadata = load_metadata(credits=review_credits(path))
    assert metadata["license"] == "Data: CC BY 4.0 (derived from Li et al., 2025); code: MIT"
    assert metadata["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert metadata["source"] == (
        "Li X, Ruan S, Zou J, Xu A, Huang T, Zhou B, Guo X, 2025, Primary Leiomyosarcoma of "
        "the Inferior Vena Cava: A Case Report and Literature Review. Bio-Byword Scientific "
        "Publishing. Statements are paraphrased; the authors and publisher do not endorse "
        "ivcdb.")


def test_two_reviews_are_both_credited(site: Site, two: Database) -> None:
    with two.session() as session:
        records = queries.review_rows(session)
    metadata = site.json("/-/metadata.json")
    lines = metadata["source"].splitlines()
    assert len(lines) == 3  # one line per review, then the disclaimer
    for code, line in zip(REVIEWS, lines, strict=False):
        record = records[code]
        assert line.startswith(credit(record).citation)
        assert record["title"] in line and str(record["year"]) in line
        assert license_label(record["license"]) in metadata["license"]
    assert "Doe and Roe, 2024" in metadata["license"]
    assert "Li et al., 2025" in metadata["license"]
    assert "license_url" not in metadata  # two licences: each is linked on the front page
    status, page = site.get("/")
    assert status == 200
    for code in REVIEWS:
        assert f'href="/two/claims_view?review={code}"' in page
        assert f'href="{license_url(records[code]["license"])}"' in page


def test_only_the_second_review_names_no_other(tmp_path: Path) -> None:
    from ivcdb.db import open_db, upgrade

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    upgrade(url)
    with open_db(url) as database:
        _load_demo(database, tmp_path)
    site = Site(snapshot(url, tmp_path / "demo-snap.sqlite").path)
    metadata = site.json("/-/metadata.json")
    assert metadata["source"].startswith("Doe J, Roe R, 2024, A Fictional Review of Test Data.")
    assert metadata["license_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    for page in ("/", "/ivcdb", "/ivcdb/claims_view", "/ivcdb/reference_list"):
        status, text = site.get(page)
        assert status == 200
        assert "Li et al" not in text and "Leiomyosarcoma" not in text
        assert "Doe and Roe, 2024" in text


def test_a_snapshot_of_one_review_credits_it_alone(two: Database, tmp_path: Path) -> None:
    path = snapshot(two.url, tmp_path / "demo.sqlite", review="demo2024").path
    metadata = load_metadata(credits=review_credits(path))
    assert metadata["license"] == "Data: CC BY-SA 4.0 (derived from Doe and Roe, 2024); code: MIT"
    assert "Li" not in metadata["source"]


def test_no_review_gets_a_neutral_credit() -> None:
    metadata = load_metadata(credits=[])
    assert metadata["license"] == "Code: MIT"
    assert "license_url" not in metadata
    assert "Li" not in metadata["source"]


@pytest.mark.parametrize(("record", "citation", "short", "licence", "url"), [
    pytest.param({"code": "x1", "title": "T", "authors": "", "year": None, "license": None},
                 "T.", "x1", None, None, id="bare"),
    pytest.param({"code": "x1", "title": "", "authors": "Doe, Jane", "year": 2020,
                  "publisher": "P", "license": "MIT"},
                 "Doe J, 2020, x1. P.", "Doe, 2020", "MIT", None, id="no-title"),
    pytest.param({"code": "x1", "title": "Why?", "authors": "A, B; C, D; E, F", "year": 2021,
                  "license": "CC0-1.0"}, "A B, C D, E F, 2021, Why?", "A et al., 2021",
                 "CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/", id="cc0"),
    pytest.param({"code": "x1", "title": "T", "authors": "", "license": "Custom",
                  "extra": json.dumps({"license_url": "https://example.org/terms"})},
                 "T.", "x1", "Custom", "https://example.org/terms", id="given-url"),
    pytest.param({"code": "x1", "title": "T", "authors": "", "license": "Custom",
                  "extra": json.dumps({"license_url": "javascript:alert(1)"})},
                 "T.", "x1", "Custom", None, id="not-a-link"),
])
def test_credit_of_a_record(record: dict[str, Any], citation: str, short: str,
                            licence: str | None, url: str | None) -> None:
    got = credit(record)
    assert (got.citation, got.short, got.license, got.license_url) == (citation, short,
                                                                       licence, url)


# --- the review facet and per-review pages ----------------------------------------------------


@pytest.mark.parametrize("view", ["claims_view", "reference_list", "outcome_summary"])
def test_every_view_has_a_review_facet(site: Site, two: Database, view: str) -> None:
    data = site.json(f"/ivcdb/{view}.json?_size=0")
    facet = data["facet_results"]["review"]
    counts = {r["value"]: r["count"] for r in facet["results"]}
    with two.session() as session:
        reviews = {r.id: r for r in queries.list_reviews(session)}
    assert set(counts) == set(REVIEWS)
    if view == "claims_view":
        assert counts == {code: r.claims for code, r in reviews.items()}
    if view == "reference_list":
        assert counts == {code: r.references for code, r in reviews.items()}


@pytest.mark.parametrize("review", REVIEWS)
def test_claims_filtered_by_review_are_that_reviews(site: Site, two: Database,
                                                    review: str) -> None:
    rows = site.rows("claims_view", f"review={review}")
    with two.session() as session:
        expected = [c.claim_id for c in queries.claims(session, review=review)]
    assert [r["claim_id"] for r in rows] == expected
    assert {r["review"] for r in rows} == {review}


@pytest.mark.parametrize("review", REVIEWS)
def test_reference_list_filtered_by_review_is_that_reviews(site: Site, two: Database,
                                                           review: str) -> None:
    rows = site.rows("reference_list", f"review={review}")
    with two.session() as session:
        review_id = queries.review_index(session)[review]
        refs = queries.export_references(session, review_id=review_id, cited_only=True)
        for row in rows:  # each claim count is of this review's claims only
            detail = queries.reference_detail(session, row["citekey"], review=review)
            assert row["claims"] == len({c.claim_id for c in detail.claims})
    assert [(r["number"], r["citekey"]) for r in rows] == [(r.number, r.key) for r in refs]


@pytest.mark.parametrize("review", REVIEWS)
def test_outcome_summary_counts_only_the_reviews_claims(site: Site, two: Database,
                                                        review: str) -> None:
    rows = site.rows("outcome_summary", f"review={review}")
    with two.session() as session:
        claims = queries.claims(session, review=review)
    assert {r["outcome"]: r["claims"] for r in rows} == Counter(c.outcome for c in claims)
    cited: dict[str, set[str]] = {c.outcome: set() for c in claims}
    for claim in claims:
        cited[claim.outcome].update(link.reference_key for link in claim.links)
    assert {r["outcome"]: r["cited_references"] for r in rows} == {
        outcome: len(keys) for outcome, keys in cited.items()}


def test_shared_outcome_is_counted_per_review(site: Site) -> None:
    rows = site.rows("outcome_summary", "outcome=overall_survival_5y")
    assert sorted(r["review"] for r in rows) == list(REVIEWS)
    assert all(r["claims"] > 0 for r in rows)


def test_reviews_view_links_to_each_reviews_pages(site: Site, two: Database) -> None:
    rows = site.rows("reviews")
    with two.session() as session:
        assert [tuple(r.values()) for r in rows] == [
            tuple(r.as_dict().values()) for r in queries.list_reviews(session)]
    status, page = site.get("/ivcdb/reviews")
    assert status == 200
    for code in REVIEWS:
        for target in ("claims_view", "reference_list", "outcome_summary"):
            assert f'href="/two/{target}?review={code}"' in page


def test_links_stay_within_the_rows_review(site: Site) -> None:
    """A cited reference opens that review's entry; a claim count that review's claims."""
    _, claims = site.get("/ivcdb/claims_view?review=demo2024")
    assert "/two/reference_list?label=%5B1%5D+Doe+2019&amp;review=demo2024" in claims
    _, outcomes = site.get("/ivcdb/outcome_summary?review=demo2024")
    assert "/two/claims_view?outcome=overall_survival_5y&amp;review=demo2024" in outcomes
    _, references = site.get("/ivcdb/reference_list?review=li2025")
    assert "review=li2025" in references and "review=demo2024" not in references


def test_canned_queries_name_the_review(site: Site) -> None:
    rows = site.json("/ivcdb/claims_supported_by_reference.json?reference=1&_shape=array")
    assert {r["review"] for r in rows} == set(REVIEWS)
    for row in rows:
        assert row["entry"].startswith("[1] ")
    demo = [r for r in rows if r["review"] == "demo2024"]
    assert {r["claim_id"] for r in demo} == {"demo2024-os-5y", "demo2024-os-5y-range"}


def test_snapshot_file_holds_the_review_column(two_snap: Path) -> None:
    conn = sqlite3.connect(f"file:{two_snap}?mode=ro", uri=True)
    try:
        for view in ("claims_view", "reference_list", "outcome_summary"):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({view})")]
            assert "review" in columns, view
        pairs = conn.execute("SELECT review, number, count(*) FROM reference_list "
                             "WHERE number IS NOT NULL GROUP BY review, number").fetchall()
        assert pairs and all(n == 1 for *_, n in pairs)  # one row per (review, number)
    finally:
        conn.close()
