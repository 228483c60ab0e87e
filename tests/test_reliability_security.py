"""Security: user text never becomes SQL, markup or a formula, and exports stay where asked.

- SQL: no statement is built from interpolated text (an AST scan of ivcdb/ with a reviewed
  allow-list); search words with LIKE wildcards match literally (checked against Python);
  limits are validated;
- export paths: `..`, absolute names and symlinks cannot leave the chosen folder; nothing is
  overwritten without `--force`;
- HTML is escaped, LaTeX is escaped so no command can be injected, CSV cells that a spreadsheet
  would run are neutralised, JSON never contains NaN.
Hostile text enters through the normal loaders, as a user's files would bring it.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, ROOT, snapshot, table_counts
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from ivcdb import queries
from ivcdb.contract import CLAIM_COLUMNS
from ivcdb.db import Database, open_db, upgrade
from ivcdb.errors import NotFound, UsageError
from ivcdb.exports import evidence_table, export, export_folder, reference_list
from ivcdb.exports.files import OutputExists, safe_target, write_atomic
from ivcdb.exports.latex import escape as escape_latex
from ivcdb.loaders import Sources, load
from ivcdb.models import Claim
from ivcdb.search import Term
from ivcdb.search import parse as parse_search

# --- hostile data -----------------------------------------------------------------------------

EVIL_TITLE = (r"<script>alert(1)</script> {\textbackslash}input\{/etc/passwd\} "
              r"{\textbackslash}write18\{calc\} \$x\$ 100\% \& \#1 a\_b")
EVIL_JOURNAL = '=HYPERLINK("http://evil.example/x","click")'
EVIL_STATEMENT = ("=cmd|' /C calc'!A0 <b onmouseover=alert(1)>bold</b> \\input{/etc/passwd} "
                  "$x$ & 100% #1 a_b {x} ~ ^")


@pytest.fixture
def hostile(built: Database, data_copy: Path) -> Database:
    """The curated data with script, LaTeX and formula text in a title, journal and claim."""
    bib = data_copy / "references.bib"
    text = bib.read_text(encoding="utf-8")
    start = text.index("@article{nayyar2010")
    head, entry = text[:start], text[start:text.index("\n}\n", start) + 3]
    entry = re.sub(r"title = \{.*\},\n", lambda _: f"title = {{{EVIL_TITLE}}},\n", entry, count=1)
    entry = re.sub(r"journal = \{.*\},\n", lambda _: f"journal = {{{EVIL_JOURNAL}}},\n", entry,
                   count=1)
    bib.write_text(head + entry + text[start + len(text[start:text.index("\n}\n", start) + 3]):],
                   encoding="utf-8")
    claims = data_copy / "claims.csv"
    rows = list(csv.reader(io.StringIO(claims.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == "li2025-first-report":
            row[header.index("statement")] = EVIL_STATEMENT
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    claims.write_text(buffer.getvalue(), encoding="utf-8")
    reports = load(built, Sources.from_folder(data_copy))
    assert {r.kind: r.updated for r in reports}["references"] == 1
    return built


def test_hostile_text_is_stored_as_given(hostile: Database) -> None:
    with hostile.session() as session:
        (claim,) = queries.claims(session, text="onmouseover")
    assert claim.statement == EVIL_STATEMENT


# --- SQL --------------------------------------------------------------------------------------

SQL_CALLS = {"execute", "exec_driver_sql", "executescript", "executemany", "text",
             "literal_column"}
# Reviewed: each interpolates only an int or a module constant, never user text.
ALLOWED_INTERPOLATIONS = {
    ("db.py", "f'PRAGMA busy_timeout={int(busy_timeout() * 1000)}'"),
    ("db.py", "f'SET LOCAL lock_timeout = {max(1, int(busy_timeout() * 1000))}'"),
    # The views compiled from queries.py's selects, which bind no values.
    ("snapshot.py", "f'BEGIN; {READ_LAYER_SQL} {views} COMMIT;'"),
}


def _is_sqlalchemy_text(func: ast.expr) -> bool:
    """`text(...)` imported from SQLAlchemy, or `sa.text` / `sqlalchemy.text`."""
    if isinstance(func, ast.Name):
        return True
    receiver = getattr(func, "value", None)
    return isinstance(receiver, ast.Name) and receiver.id in {"sa", "sqlalchemy"}


def interpolated_sql() -> set[tuple[str, str]]:
    """(file, argument) of every SQL call whose statement is an f-string, `+`, `%` or
    `.format(...)` expression anywhere in ivcdb/."""
    found = set()
    for path in sorted((ROOT / "ivcdb").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name == "text" and not _is_sqlalchemy_text(node.func):
                continue  # matplotlib's fig.text / ax.text draw words, not SQL
            arg = node.args[0]
            built = isinstance(arg, ast.JoinedStr | ast.BinOp) or (
                isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "format")
            if name in SQL_CALLS and built:
                found.add((path.relative_to(ROOT / "ivcdb").as_posix(), ast.unparse(arg)))
    return found


def test_no_sql_is_built_from_text() -> None:
    """Every statement is composed with SQLAlchemy and bound parameters; the few interpolated
    ones carry numbers or constants and are listed here after review."""
    found = interpolated_sql()
    assert found - ALLOWED_INTERPOLATIONS == set()


HOSTILE_WORDS = ["%", "_", "\\", "'", "''", '"', "%%", "a%", "_o", "\\%", "' OR '1'='1",
                 "'; DROP TABLE claim; --", "1871%", "[a-z]", "*", "é%"]


def _expected(database: Database, text: str) -> list[str] | None:
    """The claims a word search for `text` must find, worked out in Python from each claim's
    stored search words (None: `text` is not a search, so the query must refuse it)."""
    try:
        wanted = parse_search(text)
    except UsageError:
        return None
    with database.engine.connect() as conn:
        stored = conn.execute(sa.select(Claim.claim_id, Claim.search_norm)).all()

    def has(words: list[str], term: Term) -> bool:
        n = len(term.words)
        return any(words[i:i + n - 1] == list(term.words[:-1])
                   and (words[i + n - 1].startswith(term.words[-1]) if term.prefix
                        else words[i + n - 1] == term.words[-1])
                   for i in range(len(words) - n + 1))

    return sorted(claim_id for claim_id, norm in stored
                  if all(has((norm or "").split(), t) for t in wanted.terms))


def _found(session: Session, text: str) -> list[str] | None:
    try:
        return sorted(c.claim_id for c in queries.claims(session, text=text))
    except UsageError:
        return None


def test_search_words_match_literally(shared_built: Database) -> None:
    """Quotes, LIKE wildcards and SQL in search text are words or a clear refusal, never SQL:
    the claims found are those whose stored words match, as worked out in Python."""
    before = table_counts(shared_built)
    with shared_built.session() as session:
        for word in HOSTILE_WORDS:
            assert _found(session, word) == _expected(shared_built, word), word
    assert table_counts(shared_built) == before


@pytest.fixture(scope="module")
def wildcard_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A SQLite database whose extra claims are full of LIKE and quoting characters."""
    folder = tmp_path_factory.mktemp("wildcards")
    upgrade(folder / "wild.sqlite")
    database = open_db(folder / "wild.sqlite")
    load(database, Sources.from_folder(DATA))
    statements = ["100% of a_b", "50%% done", "back\\slash", "it's 'quoted'", 'say "hi"',
                  "[a-z] class", "é% accent", "plain words only", "star * and caret ^"]
    claims_file = folder / "claims_wild.csv"
    with claims_file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CLAIM_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows({"claim_id": f"wild-{i}", "review": "li2025", "outcome": "prognosis",
                          "statement": text} for i, text in enumerate(statements))
    load(database, Sources(claims=[claims_file]))
    yield database
    database.dispose()


@settings(max_examples=60, deadline=None, database=None)
@given(word=st.text(alphabet="%_\\'\"ab é[]^-*", min_size=1, max_size=5))
def test_search_property_matches_python(wildcard_db: Database, word: str) -> None:
    """The same for generated words, on claims full of wildcard characters."""
    with wildcard_db.session() as session:
        assert _found(session, word) == _expected(wildcard_db, word)


def test_limits_are_validated(shared_built: Database) -> None:
    with shared_built.session() as session:
        for limit in (0, -1, True, "5", 2.5, "1; DROP TABLE claim"):
            with pytest.raises(UsageError, match="limit"):
                queries.claims(session, limit=limit)  # type: ignore[arg-type]
        assert len(queries.claims(session, limit=3)) == 3


def test_author_filter_is_literal(shared_built: Database) -> None:
    before = snapshot(shared_built)
    with shared_built.session() as session:
        for name in ("%", "_", "' OR 1=1 --", "\\", "%a%", "% H", "_, %"):
            with pytest.raises(NotFound, match="no author"):  # matches no author literally
                queries.claims(session, author=name)
    assert snapshot(shared_built) == before


# --- export paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../escape.csv", "sub/../../escape.csv", "/etc/passwd",
                                  "..", ".", ""])
def test_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(UsageError, match="outside"):
        safe_target(folder, name)


def test_symlink_cannot_lead_out_of_the_folder(shared_built: Database, tmp_path: Path) -> None:
    """A planted symlink `claims.csv -> ../outside.csv` is refused; the outside file is intact,
    and no other file of the export is written either."""
    folder, outside = tmp_path / "out", tmp_path / "outside.csv"
    folder.mkdir()
    outside.write_text("precious\n", encoding="utf-8")
    (folder / "claims.csv").symlink_to(outside)
    with pytest.raises(UsageError, match="outside"):
        export_folder(shared_built, folder)
    assert outside.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in folder.iterdir()) == ["claims.csv"]
    with pytest.raises(UsageError, match="outside"):
        export_folder(shared_built, folder, force=True)
    assert outside.read_text(encoding="utf-8") == "precious\n"


def test_symlinked_folder_inside_is_refused(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UsageError, match="outside"):
        safe_target(folder, "sub/claims.csv")


def test_export_folder_never_overwrites_without_force(shared_built: Database,
                                                      tmp_path: Path) -> None:
    written = export_folder(shared_built, tmp_path)
    (tmp_path / "claims.csv").write_text("mine\n", encoding="utf-8")
    with pytest.raises(OutputExists, match="--force"):
        export_folder(shared_built, tmp_path)
    assert (tmp_path / "claims.csv").read_text(encoding="utf-8") == "mine\n"
    assert export_folder(shared_built, tmp_path, force=True) == written
    assert (tmp_path / "claims.csv").read_text(encoding="utf-8") != "mine\n"


def test_write_atomic_refuses_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    target.write_bytes(b"old")
    with pytest.raises(OutputExists):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temporary left behind


def test_cli_output_is_not_overwritten_without_force(shared_built: Database,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "claims.csv"
    target.write_text("mine\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "ivcdb.cli", "export", "claims", "--db", shared_built.url,
           "--output", str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode != 0
    assert done.stderr.strip().startswith("error:") and "--force" in done.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"
    forced = subprocess.run(cmd + ["--force"], capture_output=True, text=True, check=False)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8").startswith("claim_id,")


# --- markup and formulas ----------------------------------------------------------------------


def test_html_outputs_are_escaped(hostile: Database) -> None:
    refs = reference_list(hostile, fmt="html")
    table = evidence_table(hostile, "first_report_year", fmt="html")
    for out in (refs, table):
        assert "<script" not in out and "<b " not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refs
    assert "&lt;b onmouseover=alert(1)&gt;" in table


def test_markdown_outputs_escape_html(hostile: Database) -> None:
    refs = reference_list(hostile, fmt="markdown")
    assert "<script>" not in refs


LATEX_ESCAPES = re.compile(r"\\(textbackslash|textasciitilde|textasciicircum)\{\}|\\[&%$#_{}]")
LATEX_ACTIVE = set("\\{}$&#%_^~")


def assert_inert_latex(escaped: str) -> None:
    """Once the escape sequences are removed, no LaTeX special character is left."""
    rest = LATEX_ESCAPES.sub("", escaped)
    assert not (set(rest) & LATEX_ACTIVE), rest


def test_latex_outputs_cannot_run_commands(hostile: Database) -> None:
    refs = reference_list(hostile, fmt="latex")
    table = evidence_table(hostile, "first_report_year", fmt="latex")
    assert "\\input{" not in refs + table and "\\write18" not in refs + table
    assert r"\textbackslash{}input\{/etc/passwd\}" in table
    assert r"\textbackslash{}input\{/etc/passwd\}" in refs
    line = next(x for x in table.splitlines() if "passwd" in x)
    assert_inert_latex(line.split(" & ")[0])


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(), narrow=st.booleans())
def test_latex_escape_property(text: str, narrow: bool) -> None:
    """Any text, escaped, contains LaTeX's active characters only in the escapes of LaTeX's
    specials and in the fixed command written for each character T1 lacks (`≈`:
    `\\ensuremath{\\approx}`), which tests/test_latex_compiles.py compiles."""
    escaped = escape_latex(text, narrow=narrow)
    for ch in {c for c in text if not " " <= c <= "~"}:  # beyond printable ASCII
        escaped = escaped.replace(escape_latex(ch), "")
    assert_inert_latex(escaped.replace(r"\nobreak-\hspace{0pt}", "-"))


def test_csv_exports_neutralise_formulas(hostile: Database) -> None:
    claims = list(csv.DictReader(io.StringIO(export(hostile, "claims").decode("utf-8"))))
    cell = next(r["statement"] for r in claims if r["claim_id"] == "li2025-first-report")
    assert cell == "'" + EVIL_STATEMENT
    references = list(csv.DictReader(io.StringIO(
        export(hostile, "references").decode("utf-8"))))
    journals = [r["journal"] for r in references if "HYPERLINK" in r.get("journal", "")]
    assert journals == ["'" + EVIL_JOURNAL]
    table = evidence_table(hostile, "first_report_year", fmt="csv")
    assert ",'=cmd|" in table or "\"'=cmd|" in table
    for rows in (claims, references):
        for row in rows:
            for value in row.values():
                assert not (value[:1] in ("=", "@") and value != "")


def test_csv_numbers_are_not_mangled(shared_built: Database) -> None:
    claims = list(csv.DictReader(io.StringIO(export(shared_built, "claims").decode("utf-8"))))
    values = [r["value"] for r in claims if r["value"]]
    assert values and all(not v.startswith("'") for v in values)


def test_json_exports_never_contain_nan(built: Database) -> None:
    """A NaN that reached the database by another route is exported as null, never NaN."""
    c = Claim.__table__
    with built.engine.begin() as conn:
        conn.execute(sa.update(c).where(c.c.claim_id == "li2025-first-report")
                     .values(value=float("nan")))

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON")

    for kind in ("claims", "references", "citations", "outcomes", "findings", "units",
                 "measures"):
        data = json.loads(export(built, kind, fmt="json"), parse_constant=refuse)
        assert isinstance(data, list) and data
    claims = json.loads(export(built, "claims", fmt="json"), parse_constant=refuse)
    assert next(r for r in claims if r["claim_id"] == "li2025-first-report")["value"] is None
