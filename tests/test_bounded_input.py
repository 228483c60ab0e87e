"""Bounded work and one-line refusals, on SQLite and PostgreSQL: echoed values are clipped,
problem lines capped, integers parsed exactly and checked against the narrower engine's range,
TOML types and depth checked, out-of-range command-line numbers are usage errors (exit 2), and
inputs that used to end in an internal error (exit 3) are one clear line that writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import DATA, CliRun, snapshot
from loadkit import claims_csv, find, line_of, load_curated_lists, refuse, rows, write

from ivcdb.csvformat import INT_MAX, OutOfRange, whole_number
from ivcdb.db import Database
from ivcdb.errors import UsageError
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Problem, problem_lines


@pytest.fixture
def lists(db: Database) -> Database:
    return load_curated_lists(db)


def _cli_refuses(cli: CliRun, db: Database, *argv: str, code: int = 1) -> list[str]:
    """Run a command that must fail with `code` and leave the database as it was: stderr lines."""
    before = snapshot(db)
    exit_code, _, err = cli(*argv)
    assert exit_code == code, err
    assert snapshot(db) == before
    assert "Traceback" not in err and "internal error" not in err
    return err.splitlines()


# --- echoed values and problem lines ----------------------------------------------------------


def test_a_long_key_is_echoed_clipped(lists: Database, tmp_path: Path, cli: CliRun) -> None:
    key = "k" * 100_000  # (a cell over 131,072 characters is refused by the csv reader)
    path = write(tmp_path / "claims.csv", claims_csv({"claim_id": key, "outcome": "nope"}))
    lines = _cli_refuses(cli, lists, "load", "--db", lists.url, "--claims", str(path))
    assert lines[0] == (f"{path}:2: {'k' * 79}…: error [unknown-outcome]: outcome 'nope' is "
                        "not in the outcome vocabulary")
    assert sum(map(len, lines)) < 1000


def test_problem_lines_are_capped_with_a_count(lists: Database, tmp_path: Path,
                                               cli: CliRun) -> None:
    bad = [{"claim_id": f"c{i}", "numerator": "x"} for i in range(120)]
    path = write(tmp_path / "claims.csv", claims_csv(*bad))
    lines = _cli_refuses(cli, lists, "load", "--db", lists.url, "--claims", str(path))
    assert len(lines) == 52
    assert lines[0] == (f"{path}:2: c0: error [bad-value]: 'numerator' is not a number: 'x'")
    assert lines[50:] == ["… and 70 more problems", "error: 120 error(s); nothing was written"]


def test_problem_lines_helper() -> None:
    problems = [Problem(Code.PARSE, f"p{i}") for i in range(3)]
    assert problem_lines(problems, limit=2) == ["<input>: error [parse-error]: p0",
                                                "<input>: error [parse-error]: p1",
                                                "… and 1 more problems"]


def test_long_words_in_a_message_are_clipped_and_invisible_characters_escaped() -> None:
    problem = Problem(Code.BAD_VALUE, f"value '{'x' * 500}' and \u202e\x1b[31m", key="a\u200bb")
    assert problem.format() == (f"<input>: a\\u200bb: error [bad-value]: value '{'x' * 78}… and "
                                "\\u202e\\x1b[31m")


# --- integers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("40", 40), ("40.0", 40), ("4e1", 40), ("-0", 0), ("9007199254740993", 9007199254740993),
    (str(2**63 + 1), 2**63 + 1),
])
def test_whole_numbers_are_parsed_exactly(text: str, expected: int) -> None:
    assert whole_number(text, high=2**64) == expected


@pytest.mark.parametrize("text", ["4.5", "x", "inf", "nan", "³", "١", "", "1e-999999999"])
def test_not_whole_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        whole_number(text)


@pytest.mark.parametrize("text", [str(INT_MAX + 1), "9007199254740993", str(2**63),
                                  "1" * 5000, "1e999999999"])
def test_whole_numbers_past_the_range_are_out_of_range(text: str) -> None:
    with pytest.raises(OutOfRange):
        whole_number(text)


@pytest.mark.parametrize(("column", "value"), [
    ("numerator", str(INT_MAX + 1)), ("numerator", "9007199254740993"),
    ("denominator", str(2**63)), ("paragraph", "1" * 300),
])
def test_counts_past_the_int32_range_are_refused(lists: Database, tmp_path: Path, column: str,
                                                 value: str) -> None:
    cells = {"claim_id": "c1", column: value}
    if column == "numerator":
        cells["denominator"] = value
    path = write(tmp_path / "claims.csv", claims_csv(cells))
    problem = find(refuse(lists, Sources(claims=[path])), Code.OUT_OF_RANGE, file=path, line=2,
                   key="c1")
    assert problem.message == (f"'{column}' {value} is above {INT_MAX}, the largest whole "
                               "number the database keeps")


def test_the_largest_count_is_stored_exactly(lists: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "claims.csv", claims_csv(
        {"claim_id": "c1", "numerator": "4.0e1", "denominator": str(INT_MAX)}))
    load(lists, Sources(claims=[path]))
    (row,) = rows(lists, "claim")
    assert (row["numerator"], row["denominator"]) == (40, INT_MAX)


@pytest.mark.parametrize(("number", "code", "message"), [
    ("³", Code.BAD_VALUE, "reference number '³' is not a whole number of 1 or more"),
    ("0", Code.BAD_VALUE, "reference number '0' is not a whole number of 1 or more"),
    (str(2**63), Code.OUT_OF_RANGE, f"reference number {2**63} is above {INT_MAX}, the largest "
     "whole number the database keeps"),
])
def test_bad_reference_numbers_are_one_line(lists: Database, tmp_path: Path, number: str,
                                            code: Code, message: str) -> None:
    path = write(tmp_path / "claims.csv", claims_csv({"claim_id": "c1",
                                                     "reference_numbers": number}))
    problem = find(refuse(lists, Sources(claims=[path])), code, file=path, line=2, key="c1")
    assert problem.message == message


# --- TOML -------------------------------------------------------------------------------------


def _review(tmp_path: Path, extra: str = "", *, replace: tuple[str, str] = ("", "")) -> Path:
    """data/review.toml with `extra` set first in [review] (replacing that key's line)."""
    text = (DATA / "review.toml").read_text(encoding="utf-8").replace(*replace)
    name = extra.split("=")[0].strip()
    lines = [line for line in text.splitlines() if not name or not line.startswith(name)]
    at = lines.index("[review]") + 1
    return write(tmp_path / "review.toml", "\n".join([*lines[:at], *([extra] if extra else []),
                                                      *lines[at:]]) + "\n")


@pytest.mark.parametrize(("extra", "key", "message"), [
    ('publisher = ["a"]', "li2025", "publisher must be text (in quotes), not an array"),
    ("note = 5", "li2025", "note must be text (in quotes), not a number"),
    ("published = [1]", "li2025", "published must be a date or text, not an array"),
    ("year = 99999999999", "li2025", "year must be a whole number"),
    ("deep = " + "[" * 20 + "]" * 20, "", "'deep' nests arrays or tables more than 16 deep"),
    ("deep = " + "[" * 5000 + "]" * 5000, "", "arrays or tables nest more than 16 deep"),
])
def test_toml_types_and_depth_are_checked(lists: Database, tmp_path: Path, extra: str,
                                          key: str, message: str) -> None:
    path = _review(tmp_path, extra)
    line = line_of(path.read_text(encoding="utf-8"), extra[:4])
    problem = find(refuse(lists, Sources(reviews=[path])),
                   Code.SCHEMA if "deep" in message else Code.BAD_VALUE, file=path, line=line,
                   key=key)
    assert problem.message == message
    assert "INSERT" not in problem.format()


@pytest.mark.parametrize(("review_id", "shown", "message"), [
    ("li\\u0000x", "li\\x00x", "id contains control character U+0000; an identifier holds "
     "visible characters only"),
    ("li\\u202ex", "li\\u202ex", "id contains invisible character U+202E; an identifier holds "
     "visible characters only"),
    ("li\\ufeffx", "li\\ufeffx", "id contains invisible character U+FEFF; an identifier holds "
     "visible characters only"),
])
def test_review_ids_are_validated_like_keys(lists: Database, tmp_path: Path, cli: CliRun,
                                            review_id: str, shown: str, message: str) -> None:
    path = _review(tmp_path, replace=('id = "li2025"', f'id = "{review_id}"'))
    line = line_of(path.read_text(encoding="utf-8"), "id =")
    lines = _cli_refuses(cli, lists, "load", "--db", lists.url, "--review", str(path))
    assert lines == [f"{path}:{line}: {shown}: error [bad-identifier]: {message}",
                     "error: 1 error(s); nothing was written"]


def test_citation_numbers_past_the_range_are_refused(lists: Database, tmp_path: Path) -> None:
    path = _review(tmp_path, replace=("number = 1\n", f"number = {INT_MAX + 1}\n"))
    problems = refuse(lists, Sources(reviews=[path]))
    assert any(p.message == f"citation number must be a whole number from 1 to {INT_MAX}, not "
               f"{INT_MAX + 1}" for p in problems), problems


# --- command-line numbers and settings --------------------------------------------------------


@pytest.mark.parametrize(("argv", "line"), [
    (["show", "99999999999999999999999"], "error: reference number 99999999999999999999999 is "
     f"out of range: citation numbers run from 1 to {INT_MAX}"),
    (["query", "claims", "--limit", "1e20"], None),
    (["query", "claims", "--limit", "99999999999999999999"], None),
    (["query", "claims", "--year-from", str(2**63)], None),
    (["serve", "--port", "70000"], None),
])
def test_command_line_numbers_out_of_range_are_usage_errors(built: Database, cli: CliRun,
                                                            argv: list[str],
                                                            line: str | None) -> None:
    lines = _cli_refuses(cli, built, *argv, "--db", built.url, code=2)
    if line is not None:
        assert lines == [line]


def test_api_numbers_out_of_range_are_usage_errors(built: Database) -> None:
    from ivcdb import queries

    with built.session() as session:
        with pytest.raises(UsageError, match=f"year_from must be a whole number from "
                           f"{-INT_MAX - 1} to {INT_MAX}, not {2**63}"):
            queries.claims(session, year_from=2**63)
        with pytest.raises(UsageError, match=f"limit must be a whole number from 1 to {INT_MAX}"):
            queries.claims(session, limit=2**63)
        with pytest.raises(UsageError, match="reference number .* is out of range"):
            queries.reference_detail(session, str(2**63))


def test_busy_timeout_inf_is_a_usage_error(built: Database, cli: CliRun,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVCDB_BUSY_TIMEOUT", "inf")
    lines = _cli_refuses(cli, built, "load", "--db", built.url, "--review",
                         str(DATA / "review.toml"), code=2)
    assert lines == ["error: $IVCDB_BUSY_TIMEOUT must be a number of seconds from 0 to 86400, "
                     "not 'inf'"]


@pytest.mark.parametrize("url", ["mysql://u:secret@localhost/db",
                                 "postgresql://u:secret@localhost:abc/db"])
def test_unsupported_urls_are_one_line(cli: CliRun, url: str) -> None:
    code, _, err = cli("query", "outcomes", "--db", url)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith("error: --db ") and "secret" not in line


# --- files that are no files ------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--references", "--claims", "--review"])
def test_devices_and_fifos_are_refused(lists: Database, tmp_path: Path, cli: CliRun,
                                       option: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        lines = _cli_refuses(cli, lists, "load", "--db", lists.url, option, path)
        assert lines == [f"{path}: error [parse-error]: is not a regular file (a device, FIFO "
                         "or socket?); name a file", "error: 1 error(s); nothing was written"]


# --- charts -----------------------------------------------------------------------------------


def test_a_dollar_in_a_statement_is_drawn_literally(lists: Database, tmp_path: Path) -> None:
    from ivcdb import plots

    statement = "costs $5 to $x^2$ and \\frac{a}{b} $"
    path = write(tmp_path / "claims.csv", claims_csv(
        {"claim_id": "c1", "outcome": "overall_survival_5y", "statement": statement,
         "value": "40", "unit": "percent"}))
    load(lists, Sources(claims=[path]))
    with lists.session() as session:
        (fig,) = plots.outcome_chart(session, outcomes=["overall_survival_5y"])
    assert plots.render(fig, "png").startswith(b"\x89PNG")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.startswith("costs $5 to $x^2$") for label in labels), labels
    assert all(not t.get_parse_math() for t in ax.get_yticklabels())
