"""`query claims --text`: a word search with prefixes and phrases over statement, outcome and
population, accent- and case-insensitive, the same on SQLite (FTS5) and PostgreSQL (tsvector).

Every engine's answer is compared with one oracle computed in Python from the stored search
text, and with the same expected claim ids, so the two engines give the same claims in the
same order. The word index follows every write: loads, reloads, prunes, a relabelled outcome,
a removed review, a copy.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import CliRun
from hypothesis import given, settings
from hypothesis import strategies as st

from ivcdb import queries
from ivcdb.api import remove_review
from ivcdb.copy import copy_database
from ivcdb.db import Database, open_db, sqlite_path
from ivcdb.errors import UsageError
from ivcdb.loaders import Sources, load
from ivcdb.search import Search, parse
from ivcdb.text import search_text, search_words

EXAMPLES = int(os.environ.get("IVCDB_HYPOTHESIS_EXAMPLES", "25")) * 40

# --- the query language -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fts5", "tsquery"), [
    pytest.param("age", '"age"', "age", id="word"),
    pytest.param("RECUR*", '"recur" *', "recur:*", id="prefix-folded"),
    pytest.param('"recurs frequently"', '"recurs frequently"', "recurs <-> frequently",
                 id="phrase"),
    pytest.param("5-year survival", '"5 year" "survival"', "5 <-> year & survival",
                 id="hyphenated-is-a-phrase"),
    pytest.param("Caliò", '"calio"', "calio", id="accent"),
    pytest.param('"venous drain"*', '"venous drain" *', "venous <-> drain:*",
                 id="phrase-prefix"),
    pytest.param("a OR b", '"a" "or" "b"', "a & or & b", id="no-operators"),
])
def test_each_engine_gets_its_own_form(text: str, fts5: str, tsquery: str) -> None:
    search = parse(text)
    assert (search.fts5(), search.tsquery()) == (fts5, tsquery)


@pytest.mark.parametrize(("text", "says"), [
    pytest.param("*", "a * ends a word", id="bare-star"),
    pytest.param("age *", "a * ends a word", id="lone-star"),
    pytest.param("re*cur", "a * ends a word", id="star-inside"),
    pytest.param('"recurs frequently', "unbalanced quote", id="unbalanced-quote"),
    pytest.param('age "', "unbalanced quote", id="lone-quote"),
    pytest.param('"recur*"', "after the closing quote", id="star-in-phrase"),
    pytest.param("%% --", "no word to search for", id="no-word"),
])
def test_a_query_that_is_not_one_is_a_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=re.escape(says)):
        parse(text)


def test_hits_count_the_matching_words() -> None:
    search = parse("recur* liver")
    assert search.hits("local recurrence recurs liver metastasis") == 3
    assert search.hits("recurrence") == 1 and search.hits(None) == 0


# --- both engines, the curated data -----------------------------------------------------------


def _oracle(session: object, search: Search) -> list[str]:
    """The claim ids `search` must find, ordered as promised, from the stored text alone."""
    labels = queries.outcome_labels(session)  # type: ignore[arg-type]
    rows = []
    for c in queries.claims(session):  # type: ignore[arg-type]
        words = search_text(c.statement, c.outcome, labels[c.outcome], c.population).split()
        if all(_holds(t.words, t.prefix, words) for t in search.terms):
            rows.append((-search.hits(" ".join(words)), c.claim_id))
    return [claim_id for _, claim_id in sorted(rows)]


def _holds(term: tuple[str, ...], prefix: bool, words: list[str]) -> bool:
    for start in range(len(words) - len(term) + 1):
        window = words[start:start + len(term)]
        if window[:-1] == list(term[:-1]) and (
                window[-1].startswith(term[-1]) if prefix else window[-1] == term[-1]):
            return True
    return False


EXPECTED = {
    # most matching words first (outcome code and label count too), then by claim id
    "age": ["li2025-case-age", "li2025-typical-age", "li2025-female-proportion"],
    "female": ["li2025-female-proportion"],
    '"recurs frequently"': ["li2025-recurrence"],
    "recur*": ["li2025-case-recurrence-time", "li2025-recurrence",
               "li2025-case-ifosfamide-dose"],
    "RÉCURRENCE": ["li2025-case-recurrence-time", "li2025-recurrence",
                   "li2025-case-ifosfamide-dose"],
    "images": ["li2025-case-mri-signal"],
}
QUERIES = [*EXPECTED, "survival", "surv* 5", "pivclms women", "renal vein", "5-year",
           '"renal vein"', "drain*", "index case", "tumour*", "years old"]


@pytest.mark.parametrize("text", QUERIES)
def test_every_engine_finds_what_the_stored_words_hold(shared_built: Database,
                                                       text: str) -> None:
    with shared_built.session() as session:
        found = [c.claim_id for c in queries.claims(session, text=text)]
        assert found == _oracle(session, parse(text))
    if text in EXPECTED:
        assert found == EXPECTED[text]


def test_age_is_a_word_not_a_substring(shared_built: Database, cli: CliRun) -> None:
    code, out, err = cli("query", "claims", "--text", "age", "--db", shared_built.url)
    assert (code, err) == (0, "")
    statements = [r["statement"] for r in csv.DictReader(io.StringIO(out))]
    assert any("between 50 and 60 years old" in s for s in statements)
    assert not any("images" in s or "drainage" in s for s in statements)


def test_search_combines_with_the_other_filters(shared_built: Database) -> None:
    with shared_built.session() as session:
        found = queries.claims(session, text="recur*", outcome=["recurrence", "typical_age"])
        assert [c.claim_id for c in found] == ["li2025-recurrence"]
        assert len(queries.claims(session, text="recur*", limit=2)) == 2
        assert [c.claim_id for c in queries.claims(session, text="recur*", limit=1)] == [
            "li2025-case-recurrence-time"]


@pytest.mark.parametrize("text", ["*", '"abc', "re*cur", "!!"])
def test_a_bad_query_is_one_line_exit_2(shared_built: Database, cli: CliRun,
                                        text: str) -> None:
    code, out, err = cli("query", "claims", "--text", text, "--db", shared_built.url)
    assert (code, out) == (2, "")
    assert err.startswith("error: --text: ") and len(err.strip().splitlines()) == 1
    assert "fts5" not in err.lower() and "Traceback" not in err


# --- the index follows every write ------------------------------------------------------------


def _found(database: Database, text: str) -> list[str]:
    with database.session() as session:
        return [c.claim_id for c in queries.claims(session, text=text)]


def _index_is_whole(database: Database) -> None:
    """SQLite: the FTS5 table agrees with `claim.search_norm` word for word."""
    path = sqlite_path(database.url)
    if path is not None:
        conn = sqlite3.connect(path)
        try:
            conn.execute("INSERT INTO claim_search (claim_search, rank) "
                         "VALUES ('integrity-check', 1)")
        finally:
            conn.close()


def _edit(path: Path, claim_id: str, column: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["claim_id"] == claim_id:
            row[column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_reloaded_statement_is_searched_as_it_now_reads(built: Database,
                                                          data_copy: Path) -> None:
    assert _found(built, "frequently") == ["li2025-recurrence"]
    _edit(data_copy / "claims.csv", "li2025-recurrence", "statement",
          "PIVCLMS comes back often (Ménétrier's wording).")
    load(built, Sources(claims=[data_copy / "claims.csv"]))
    assert _found(built, "frequently") == []
    assert _found(built, "menetrier*") == ["li2025-recurrence"]
    _index_is_whole(built)


def test_pruned_claims_and_removed_reviews_leave_the_index(built: Database,
                                                           data_copy: Path) -> None:
    path = data_copy / "claims.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["claim_id"] != "li2025-recurrence"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    load(built, Sources(claims=[path]), prune=True)
    assert _found(built, "frequently") == []
    _index_is_whole(built)
    remove_review(built.url, "li2025", force=True)
    assert _found(built, "age") == []
    _index_is_whole(built)


def test_a_relabelled_outcome_is_searched_by_its_new_label(built: Database,
                                                           data_copy: Path) -> None:
    path = data_copy / "outcomes.csv"
    _edit_outcome(path, "female_proportion", "Share of women (sex ratio)")
    load(built, Sources(outcomes=path), update_vocabulary=True)
    assert _found(built, '"sex ratio"') == ["li2025-female-proportion"]
    assert _found(built, "proportion") == _found(built, "female_proportion")
    _index_is_whole(built)


def _edit_outcome(path: Path, code: str, label: str) -> None:
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith(code + ","))
    parts = old.split(",")
    parts[1] = label
    path.write_text(text.replace(old, ",".join(parts)), encoding="utf-8")


def test_a_copy_searches_as_its_source(built: Database, tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite"
    copy_database(built.url, str(target))
    with open_db(target) as copied:
        for text in QUERIES:
            assert _found(copied, text) == _found(built, text), text
        _index_is_whole(copied)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=4))
def test_the_search_text_is_each_parts_words_in_order(parts: list[str | None]) -> None:
    """The stored search text folds the parts joined: the same words as folding each part
    alone (a space between two parts never joins or splits a word)."""
    assert search_text(*parts) == " ".join(w for part in parts if part
                                           for w in search_words(part))
