"""Database selection, SQLite pragmas and clear errors for unusable databases."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from conftest import CliRun

from ivcdb.db import ENV_URL, open_db, resolve_url, upgrade
from ivcdb.errors import DatabaseError


@pytest.mark.parametrize(
    ("given", "expected_start"),
    [
        pytest.param("postgresql://u@h/db", "postgresql+psycopg://u@h/db", id="pg-driver"),
        pytest.param("postgres://u@h/db", "postgresql+psycopg://u@h/db", id="pg-alias"),
        pytest.param("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db", id="explicit"),
        pytest.param("sqlite:///x.db", "sqlite:///x.db", id="sqlite-url"),
    ],
)
def test_resolve_url(given: str, expected_start: str) -> None:
    assert resolve_url(given) == expected_start


def test_resolve_url_path_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_url(tmp_path / "a.sqlite") == f"sqlite:///{tmp_path / 'a.sqlite'}"
    monkeypatch.setenv(ENV_URL, str(tmp_path / "env.sqlite"))
    assert resolve_url(None).endswith("env.sqlite")
    monkeypatch.delenv(ENV_URL)
    monkeypatch.chdir(tmp_path)
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'ivcdb.sqlite'}"


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    target = tmp_path / "absent.sqlite"
    with pytest.raises(DatabaseError, match="no database at"):
        open_db(target)
    assert not target.exists()


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        upgrade(tmp_path / "no" / "such" / "x.sqlite")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(DatabaseError, match="not writable"):
        upgrade(folder / "x.sqlite")


def test_refused_connection_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot connect"):
        open_db("postgresql://postgres@127.0.0.1:1/none")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    url = upgrade(tmp_path / "p.sqlite")
    database = open_db(url)
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    database.dispose()


def test_write_rolls_back_on_error(db_url: str) -> None:
    from ivcdb.models import Unit

    database = open_db(db_url)
    with pytest.raises(RuntimeError), database.write() as session:
        session.add(Unit(code="kg", label="kg"))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.get(Unit, "kg") is None
    database.dispose()


def test_check_constraints_hold_in_the_database(db_url: str) -> None:
    """Integrity lives in the schema: a bad row is refused even when written directly."""
    import sqlalchemy as sa

    database = open_db(db_url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO unit (code, label, description) VALUES "
                             "('percent', 'pct', '')")
        conn.exec_driver_sql("INSERT INTO review (code, title, authors, extra) VALUES "
                             "('r', 't', '', '{}')")
        conn.exec_driver_sql("INSERT INTO outcome (code, label, kind, description) VALUES "
                             "('o', 'o', 'proportion', '')")
    bad_rows = [
        "value_low, value_high, unit_code) VALUES (50, 40, 'percent')",
        "value, value_low, unit_code) VALUES (101, NULL, 'percent')",
        "numerator, denominator, unit_code) VALUES (5, 4, NULL)",
    ]
    for i, tail in enumerate(bad_rows):
        with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO claim (claim_id, review_id, outcome_code, statement, "
                "statement_norm, derived, source, content_hash, " + tail.replace(
                    ") VALUES (", f") VALUES ('c{i}', (SELECT id FROM review), 'o', 's', 's', "
                    "false, '', '', "))
    database.dispose()


FINDING_BAD_ROWS = [  # the CHECKs of issue 14's fields, each broken alone
    pytest.param("bounds) VALUES ('ci')", id="bounds-not-a-finding-choice"),
    pytest.param("value_low, bounds) VALUES (1, 'iqr')", id="bounds-one-end"),
    pytest.param("value, value_low, value_high, bounds) VALUES (9, 1, 5, 'iqr')",
                 id="value-outside-iqr"),
    pytest.param("n) VALUES (0)", id="n-zero"),
    pytest.param("numerator, n) VALUES (5, 4)", id="numerator-above-n"),
    pytest.param("ci_low) VALUES (1)", id="one-ci-bound"),
    pytest.param("ci_low, ci_high) VALUES (2, 1)", id="ci-low-above-high"),
    pytest.param("value, ci_low, ci_high) VALUES (3, 1, 2)", id="value-outside-ci"),
    pytest.param("ci_level) VALUES (100)", id="ci-level-100"),
    pytest.param("se) VALUES (-0.1)", id="negative-se"),
    pytest.param("effect) VALUES ('rate')", id="unknown-effect"),
]


@pytest.mark.parametrize("tail", FINDING_BAD_ROWS)
def test_finding_checks_hold_in_the_database(db_url: str, tail: str) -> None:
    import sqlalchemy as sa

    database = open_db(db_url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO measure (code, label, family, description) VALUES "
                             "('m', 'm', '', '')")
        conn.exec_driver_sql("INSERT INTO reference (citekey, citekey_norm, entry_type, title, "
                             "title_norm, et_al, source, raw_fields, content_hash) VALUES "
                             "('k', 'k', 'article', 't', 't', false, '', '{}', '')")
    insert = ("INSERT INTO source_finding (finding_id, reference_id, measure_code, source, "
              "content_hash, ")
    values = ") VALUES ('f', (SELECT id FROM reference), 'm', '', '', "
    with database.engine.begin() as conn:  # the same row with the fields well filled: taken
        conn.exec_driver_sql(insert + "value, n, ci_low, ci_high, ci_level, se, bounds, "
                             "value_low, value_high, effect" + values +
                             "2, 10, 1, 3, 90, 0.5, 'iqr', 1, 3, 'mean')")
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as conn:
        conn.exec_driver_sql(insert + tail.replace(") VALUES (", values))
    database.dispose()


def test_claim_bounds_checks_hold_in_the_database(db_url: str) -> None:
    import sqlalchemy as sa

    database = open_db(db_url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO review (code, title, authors, extra) VALUES "
                             "('r', 't', '', '{}')")
        conn.exec_driver_sql("INSERT INTO outcome (code, label, kind, description) VALUES "
                             "('o', 'o', 'ratio', '')")
    insert = ("INSERT INTO claim (claim_id, review_id, outcome_code, statement, statement_norm, "
              "derived, source, content_hash, value, value_low, value_high, bounds) VALUES "
              "('{}', (SELECT id FROM review), 'o', 's', 's', false, '', '', {})")
    with database.engine.begin() as conn:
        conn.exec_driver_sql(insert.format("ok", "0.79, 0.6, 0.9, 'ci'"))
        conn.exec_driver_sql(insert.format("range", "0.5, 0.6, 0.9, 'range'"))
    for i, bad in enumerate(["0.95, 0.6, 0.9, 'ci'", "0.79, 0.6, NULL, 'ci'",
                             "0.79, 0.6, 0.9, 'sd'"]):
        with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as conn:
            conn.exec_driver_sql(insert.format(f"bad{i}", bad))
    database.dispose()


def test_corrupt_file_folder_and_empty_db_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: CliRun
) -> None:
    """A non-SQLite file, a folder and an empty --db each give one line and exit 1 or 2."""
    monkeypatch.chdir(tmp_path)
    Path("junk.sqlite").write_text("garbage\n" * 200, encoding="utf-8")
    code, _, err = cli("query", "claims", "--db", "junk.sqlite")
    junk = tmp_path / "junk.sqlite"
    assert code == 1 and err.strip() == f"error: {junk} is not an SQLite database"
    code, _, err = cli("init", "--db", "junk.sqlite")
    assert code == 1 and "is not an SQLite database" in err
    code, _, err = cli("query", "claims", "--db", str(tmp_path))
    assert code == 1 and "is a folder" in err
    code, _, err = cli("query", "claims", "--db", "")
    assert code == 2 and "--db is empty" in err
    with pytest.raises(DatabaseError, match="is a folder"):
        open_db(tmp_path)


def test_no_schema_message_names_the_given_db(tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "plain file.sqlite"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE t (x)")
    code, _, err = cli("query", "claims", "--db", str(target))
    assert code == 1
    assert f"run `ivcdb init --db '{target}'` first" in err
