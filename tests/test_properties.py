"""Property-based tests (hypothesis), on SQLite and PostgreSQL.

- any generated valid library: load -> export BibTeX -> load into an empty database gives the
  same references and authors;
- any generated claims set: load -> export claims CSV -> reload gives the same claims, links
  and the same export;
- the loaders never raise anything but a report on arbitrary text, and the fuzz target of
  benchmarks/fuzz_loader.py survives a short run (longer: `python benchmarks/fuzz_loader.py`).

`IVCDB_HYPOTHESIS_EXAMPLES` raises the number of examples for a longer run on demand.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import string
import sys
from typing import Any

import sqlalchemy as sa
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivcdb import store
from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.copy import tables
from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.loaders.bibtex import parse_bibtex
from ivcdb.loaders.claims import parse_claims
from ivcdb.models import Author, Claim, ClaimReference, Reference
from ivcdb.terms import QUALIFIERS
from ivcdb.text import key_fold

EXAMPLES = int(os.environ.get("IVCDB_HYPOTHESIS_EXAMPLES", "25"))
DB_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture,
                                              HealthCheck.too_slow])

# --- generated libraries ----------------------------------------------------------------------

# Printable text that needs no escaping inside a braced BibTeX value: no braces, backslash,
# control characters or surrogates; Latin accents, Greek, CJK and symbols included.
_SAFE = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn"),
                      exclude_characters="{}\\")
_WORD = st.text(alphabet=_SAFE, min_size=1, max_size=12).filter(lambda w: w.strip() != "")
_LATEX = st.sampled_from(['{\\"u}', "{\\'e}", "{\\ss}", "\\&", "{DNA}", "{\\c{c}}", "--",
                          "{\\o}", "$\\alpha$"])
_TEXT = st.lists(st.one_of(_WORD, _LATEX), min_size=1, max_size=8).map(" ".join)
_NAME = st.text(alphabet=st.sampled_from(string.ascii_letters + "äöüéèçñøÅ'-"), min_size=1,
                max_size=10).filter(lambda n: n.strip("'-") != "" and n[0] not in "-'")
_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9_:\-/.]{0,20}", fullmatch=True)


@st.composite
def bib_entry(draw: st.DrawFn, key: str) -> str:
    kind = draw(st.sampled_from(["article", "book", "inproceedings", "misc", "techreport"]))
    fields: dict[str, str] = {"title": draw(_TEXT)}
    authors = draw(st.lists(st.tuples(_NAME, _NAME), max_size=4))
    if authors:
        names = [f"{family}, {given}" for family, given in authors]
        if draw(st.booleans()):
            names.append("others")
        fields["author"] = " and ".join(names)
    optional = {
        "journal": _TEXT, "note": _TEXT,
        "year": st.integers(1800, 2100).map(str),
        "volume": st.integers(1, 999).map(str),
        "pages": st.tuples(st.integers(1, 500), st.integers(0, 50)).map(
            lambda p: f"{p[0]}--{p[0] + p[1]}"),
        "doi": st.from_regex(r"10\.[0-9]{4,5}/[a-z0-9.\-]{1,12}", fullmatch=True),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key},\n{body}\n}}\n"


@st.composite
def library(draw: st.DrawFn) -> str:
    keys = draw(st.lists(_KEY, min_size=1, max_size=8, unique_by=key_fold))
    return "\n".join(draw(bib_entry(k)) for k in keys)


def empty(database: Database) -> None:
    with database.write() as session:
        store.empty_tables(session, tables())


def reference_content(database: Database) -> list[tuple[Any, ...]]:
    """References and authors without surrogate ids (the load history is left out)."""
    r, a = Reference.__table__, Author.__table__
    # not `source` either: the path of the file the entry came from
    columns = [c for c in r.columns if c.name not in ("id", "source", "work_id")]
    with database.engine.connect() as conn:
        refs = conn.execute(sa.select(*columns).order_by(r.c.citekey_norm)).all()
        authors = conn.execute(sa.select(r.c.citekey_norm, *[c for c in a.columns if c.name
                                                              not in ("id", "reference_id")])
                               .join(r, r.c.id == a.c.reference_id)
                               .order_by(r.c.citekey_norm, a.c.position)).all()
    return [tuple(x) for x in refs] + [tuple(x) for x in authors]


@DB_SETTINGS
@given(text=library())
def test_library_round_trips_through_bibtex_export(db: Database, tmp_path_factory: Any,
                                                   text: str) -> None:
    folder = tmp_path_factory.mktemp("lib")
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    original = folder / "a" / "lib.bib"
    original.write_text(text, encoding="utf-8")
    empty(db)
    (report,) = load(db, Sources(references=original))
    assert not report.errors, [p.format() for p in report.errors]
    first = reference_content(db)
    exported = folder / "b" / "lib.bib"
    exported.write_bytes(export(db, "references", fmt="bibtex"))
    empty(db)
    (again,) = load(db, Sources(references=exported))
    assert not again.errors, [p.format() for p in again.errors]
    assert reference_content(db) == first


# --- generated claims -------------------------------------------------------------------------

_CELL_TEXT = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
            min_size=1, max_size=40),
    st.sampled_from(["=SUM(A1:A2)", "+1 tablet", "-", "@risk", "a, b; \"quoted\"", "50%",
                     "line one\nline two", "Müller et al.", "=", "-3"]),
).filter(lambda s: s.strip() != "")


def curated_context(database: Database) -> dict[str, Any]:
    with database.engine.connect() as conn:
        outcomes = conn.exec_driver_sql("SELECT code FROM outcome ORDER BY code").scalars().all()
        units = conn.exec_driver_sql("SELECT code FROM unit ORDER BY code").scalars().all()
        keys = conn.exec_driver_sql(
            "SELECT r.citekey FROM citation c JOIN reference r ON r.id = c.reference_id "
            "ORDER BY c.number").scalars().all()
        review = conn.exec_driver_sql("SELECT code FROM review").scalar_one()
    return {"outcomes": outcomes, "units": units, "keys": keys, "review": review}


@st.composite
def claim_row(draw: st.DrawFn, claim_id: str, ctx: dict[str, Any]) -> dict[str, str]:
    unit = draw(st.sampled_from(["", *ctx["units"]]))
    bound = (0.0, 100.0) if unit == "percent" else (-1e6, 1e6)
    numbers = st.floats(*bound, allow_nan=False, allow_infinity=False)
    row = dict.fromkeys(CLAIM_COLUMNS, "")
    row.update(claim_id=claim_id, review=ctx["review"], unit=unit,
               outcome=draw(st.sampled_from(ctx["outcomes"])), statement=draw(_CELL_TEXT),
               derived=draw(st.sampled_from(["true", "false"])))
    if draw(st.booleans()):
        row["value"] = repr(draw(numbers))
    if draw(st.booleans()):
        low, high = sorted((draw(numbers), draw(numbers)))
        row["value_low"], row["value_high"] = repr(low), repr(high)
    if draw(st.booleans()):
        denominator = draw(st.integers(1, 10_000))
        row["numerator"] = str(draw(st.integers(0, denominator)))
        row["denominator"] = str(denominator)
    row["qualifier"] = draw(st.sampled_from(["", *QUALIFIERS]))
    for name in ("timepoint", "population", "reported", "section"):
        if draw(st.booleans()):
            row[name] = draw(_CELL_TEXT)
    if draw(st.booleans()):
        row["paragraph"] = str(draw(st.integers(1, 50)))
    row["reference_keys"] = ";".join(draw(st.lists(st.sampled_from(ctx["keys"]), max_size=3,
                                                   unique=True)))
    return row


def claims_csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CLAIM_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def claim_content(database: Database) -> list[tuple[Any, ...]]:
    c, cr, r = Claim.__table__, ClaimReference.__table__, Reference.__table__
    columns = [col for col in c.columns if col.name not in ("id", "source")]
    with database.engine.connect() as conn:
        claims = conn.execute(sa.select(*columns).order_by(c.c.claim_id)).all()
        links = conn.execute(sa.select(c.c.claim_id, r.c.citekey, cr.c.role, cr.c.position)
                             .join(c, c.c.id == cr.c.claim_id).join(r, r.c.id == cr.c.reference_id)
                             .order_by(c.c.claim_id, cr.c.position)).all()
    return [tuple(x) for x in claims] + [tuple(x) for x in links]


def drop_claims(database: Database) -> None:
    with database.write() as session:
        store.empty_tables(session, [Claim.__table__, ClaimReference.__table__])


@DB_SETTINGS
@given(data=st.data())
def test_claims_round_trip_through_claims_csv(built: Database, tmp_path_factory: Any,
                                              data: st.DataObject) -> None:
    ctx = curated_context(built)
    ids = data.draw(st.lists(st.from_regex(r"[a-z][a-z0-9\-]{0,15}", fullmatch=True),
                             min_size=1, max_size=6, unique=True), label="claim ids")
    rows = [data.draw(claim_row(i, ctx), label=i) for i in ids]
    folder = tmp_path_factory.mktemp("claims")
    generated = folder / "claims.csv"
    generated.write_text(claims_csv(rows), encoding="utf-8")
    drop_claims(built)
    (report,) = load(built, Sources(claims=[generated]))
    assert not report.errors, [p.format() for p in report.errors]
    first = claim_content(built)
    exported_bytes = export(built, "claims", fmt="csv")
    exported = folder / "out" / "claims.csv"
    exported.parent.mkdir()
    exported.write_bytes(exported_bytes)
    drop_claims(built)
    (again,) = load(built, Sources(claims=[exported]))
    assert not again.errors, [p.format() for p in again.errors]
    assert claim_content(built) == first
    assert export(built, "claims", fmt="csv") == exported_bytes


# --- arbitrary text ---------------------------------------------------------------------------

_BIB_TOKENS = st.sampled_from(["@article{", "@string{", "@comment{", "@preamble{", "@set{",
                               "(", ")", "{", "}", "\"", ",", "=", "#", "%", "\\", "\\'{e}",
                               "and", " and others", "crossref = ", "xdata = ", "author = ",
                               "title = ", "\n", "\x00", "\x1b", "\ufeff", "é", "e\u0301"])
_BIBTEXISH = st.lists(st.one_of(_BIB_TOKENS, st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=EXAMPLES * 8, deadline=None, database=None)
@given(text=st.one_of(st.text(), _BIBTEXISH))
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    """Any text gives a report (records and problems), never an exception."""
    bib = parse_bibtex("fuzz.bib", text=text)
    assert len(bib.records) <= bib.blocks
    assert all(p.file == "fuzz.bib" for p in bib.problems)
    claims = parse_claims("fuzz.csv", text=text)
    problems = claims.problems + [p for _, found, _ in claims.claims() for p in found]
    assert all(p.file == "fuzz.csv" for p in problems)


@DB_SETTINGS
@given(text=_BIBTEXISH)
def test_load_of_arbitrary_text_stores_or_refuses(db: Database, tmp_path_factory: Any,
                                                  text: str) -> None:
    """A whole load on any text either succeeds or raises LoadRefused: nothing else."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.bib"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load(db, Sources(references=path))
    except LoadRefused as refused:
        assert any(p.is_error for p in refused.problems)
    load(db, Sources(references=path), skip_invalid=True)


def test_fuzz_target_short_run() -> None:
    """benchmarks/fuzz_loader.py for a few seconds: no input makes the loader raise."""
    spec = importlib.util.spec_from_file_location("fuzz_loader",
                                                  ROOT / "benchmarks" / "fuzz_loader.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_loader"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["fuzz_loader"]
    stats = module.run(seconds=float(os.environ.get("IVCDB_FUZZ_SECONDS", "4")), seed=1)
    assert stats.crashes == [] and stats.vanished == 0 and stats.executions > 50

