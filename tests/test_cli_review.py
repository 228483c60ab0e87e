"""`ivcdb review new` (a folder that loads as it is), `ivcdb reviews` (the loaded reviews,
counted) and the file names `build --data` reads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import CliRun
from loadkit import count, rows, write

from ivcdb.contract import CLAIM_COLUMNS, FINDING_COLUMNS
from ivcdb.db import open_db
from ivcdb.loaders import FOLDER_FILES, Sources, parse
from ivcdb.loaders.review import REVIEW_FIELDS
from ivcdb.loaders.vocab import COLUMNS as VOCAB_COLUMNS

HEADERS = {"units.csv": VOCAB_COLUMNS["units"], "measures.csv": VOCAB_COLUMNS["measures"],
           "outcomes.csv": VOCAB_COLUMNS["outcomes"], "claims.csv": CLAIM_COLUMNS,
           "findings.csv": FINDING_COLUMNS}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_review_new_writes_every_file_with_the_loaders_columns(tmp_path: Path,
                                                               cli: CliRun) -> None:
    folder = tmp_path / "reviews" / "smith2026"  # parents are created
    code, out, err = cli("review", "new", "smith2026", str(folder))
    assert code == 0, err
    assert out == "" and "started review smith2026" in err
    assert sorted(p.name for p in folder.iterdir()) == sorted(FOLDER_FILES.values())
    for name, columns in HEADERS.items():
        assert (folder / name).read_text(encoding="utf-8") == ",".join(columns) + "\n"
    review = (folder / "review.toml").read_text(encoding="utf-8")
    assert 'id = "smith2026"' in review.splitlines()
    for key in REVIEW_FIELDS[1:]:  # every other field the loader reads, as a placeholder
        assert f"# {key} = " in review
    parsed = parse(Sources.from_folder(folder))
    assert [r.code for r in parsed.reviews] == ["smith2026"]
    assert not [p for p in parsed.problems() if p.is_error]


def test_a_new_review_builds_and_loads_into_an_empty_database(tmp_path: Path, empty_url: str,
                                                             cli: CliRun) -> None:
    folder = tmp_path / "new"
    assert cli("review", "new", "new2026", str(folder))[0] == 0
    code, out, err = cli("build", "--db", empty_url, "--data", str(folder))
    assert code == 0, err
    assert "error" not in err and "claims: 0 read, 0 added" in err
    assert cli("load", "--db", empty_url, *(
        f"--{'review' if kind == 'reviews' else kind}={folder / name}"
        for kind, name in FOLDER_FILES.items()))[0] == 0
    database = open_db(empty_url)
    try:
        assert [r["code"] for r in rows(database, "review")] == ["new2026"]
        assert count(database, "claim") == 0
    finally:
        database.dispose()
    code, out, _ = cli("reviews", "--db", empty_url, "--format", "csv")
    assert _csv(out) == [{"id": "new2026", "title": "", "year": "", "claims": "0",
                          "references": "0", "findings": "0"}]


def test_review_new_refuses_a_folder_with_anything_in_it(tmp_path: Path, cli: CliRun) -> None:
    folder = tmp_path / "taken"
    folder.mkdir()
    write(folder / "review.toml", "mine\n")
    code, _, err = cli("review", "new", "x2026", str(folder))
    assert code == 1 and "--force" in err
    assert [p.name for p in folder.iterdir()] == ["review.toml"]
    write(folder / "notes.txt", "kept\n")
    code, _, err = cli("review", "new", "x2026", str(folder), "--force")
    assert code == 0, err
    assert 'id = "x2026"' in (folder / "review.toml").read_text(encoding="utf-8")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "kept\n"
    file = write(tmp_path / "file", "")
    assert cli("review", "new", "x2026", str(file))[0] == 2


def test_review_new_into_an_empty_existing_folder(tmp_path: Path, cli: CliRun) -> None:
    assert cli("review", "new", "x2026", str(tmp_path))[0] == 0
    assert len(list(tmp_path.iterdir())) == len(FOLDER_FILES)


@pytest.mark.parametrize("review_id", [
    pytest.param("", id="empty"),
    pytest.param(" x2026", id="white-space-around"),
    pytest.param("x\x002026", id="nul"),
    pytest.param("x\x1b[31m", id="escape"),
    pytest.param("x\u202e2026", id="bidi-override"),
    pytest.param("x\u200b2026", id="zero-width-space"),
    pytest.param("x" * 101, id="too-long"),
])
def test_review_new_refuses_an_id_that_is_not_a_key(tmp_path: Path, cli: CliRun,
                                                    review_id: str) -> None:
    code, out, err = cli("review", "new", review_id, str(tmp_path / "r"))
    assert code == 2 and out == ""
    assert err.startswith("error: review id") and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_an_id_needing_toml_escapes_round_trips(tmp_path: Path, cli: CliRun) -> None:
    review_id = 'o"brien\\2026'
    assert cli("review", "new", review_id, str(tmp_path / "r"))[0] == 0
    (review,) = parse(Sources.from_folder(tmp_path / "r")).reviews
    assert review.code == review_id


def test_reviews_counts_claims_cited_references_and_their_findings(
        built_url: str, tmp_path: Path, cli: CliRun) -> None:
    second = write(tmp_path / "review.toml", '[review]\nid = "b2026"\ntitle = "B"\nyear = 2026\n'
                   '[[citations]]\nnumber = 1\nkey = "wachtel2015"\n')
    # its own bibliography: the curated entry of the work it cites
    bib = (Path(__file__).parent.parent / "data" / "references.bib").read_text(encoding="utf-8")
    entry = bib[bib.index("@article{wachtel2015"):]
    own = write(tmp_path / "references.bib", entry[:entry.index("\n}\n") + 3])
    assert cli("load", "--db", built_url, "--review", str(second), "--references",
               str(own))[0] == 0
    code, out, err = cli("reviews", "--db", built_url, "--format", "json")
    assert code == 0, err
    wachtel = sum(1 for r in _csv((Path(__file__).parent.parent / "data" / "findings.csv")
                                   .read_text(encoding="utf-8"))
                  if r["reference_key"] == "wachtel2015")
    assert json.loads(out) == [
        {"id": "b2026", "title": "B", "year": 2026, "claims": 0, "references": 1,
         "findings": wachtel},
        {"id": "li2025", "title": "Primary Leiomyosarcoma of the Inferior Vena Cava: A Case "
         "Report and Literature Review", "year": 2025, "claims": 78, "references": 18,
         "findings": 38},
    ]


@pytest.fixture
def built_url(db_url: str, cli: CliRun) -> str:
    assert cli("build", "--db", db_url, "-q")[0] == 0
    return db_url


STRAYS = {
    "claims-old.csv": "not,a,claims,file\n1,2\n",
    "claims.csv.bak": "garbage\n",
    "findings_draft.csv": "x\n",
    "review-2.toml": "[review\n",
    "references-extra.bib": "@article{broken,\n",
    "notes.txt": "anything\n",
    "Claims.CSV": "x\n",
}


def test_build_reads_only_the_documented_names(tmp_path: Path, data_copy: Path,
                                               cli: CliRun) -> None:
    expected = Sources.from_folder(data_copy).paths()
    for name, text in STRAYS.items():
        write(data_copy / name, text)
    (data_copy / "units").mkdir()
    assert Sources.from_folder(data_copy).paths() == expected
    assert sorted(p.name for p in expected) == sorted(FOLDER_FILES.values())
    code, _, err = cli("build", "--db", str(tmp_path / "s.sqlite"), "--data", str(data_copy),
                       "-q")
    assert (code, err) == (0, "")


def test_build_names_the_files_it_reads_when_it_finds_none(tmp_path: Path,
                                                          cli: CliRun) -> None:
    write(tmp_path / "claims-2026.csv", "x\n")
    code, _, err = cli("build", "--db", str(tmp_path / "e.sqlite"), "--data", str(tmp_path))
    assert code == 2
    assert all(name in err for name in FOLDER_FILES.values())
