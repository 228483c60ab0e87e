"""Many reviews in one database: loading, reloading, pruning or removing one review never
changes an output of another (issue 12's isolation promise), on SQLite and PostgreSQL.

The second and third reviews here are made up for the test; the second cites li2025's
`wachtel2015` under the same citekey with its full author list (another entry of one work),
relabels a shared outcome, and gives one finding identical to one of li2025's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, CliRun, CliRunBytes
from loadkit import rows, write

from ivcdb.db import open_db

B_REVIEW = """[review]
id = "b2026"
title = "A made-up second review"
authors = ["Doe, Jane"]
year = 2026
license = "CC-BY-4.0"

[[citations]]
number = 1
key = "smith2020"

[[citations]]
number = 2
key = "wachtel2015"
"""
# the same work as li2025's wachtel2015 (title, year, first author), its author list longer
B_REFERENCES = """@article{wachtel2015,
  author = {Wachtel, Heather and Gupta, Mohit and Bartlett, Edmund K. and Jackson, Benjamin M.
            and Kelz, Rachel R. and Karakousis, Giorgos C. and Fraker, Douglas L. and
            Roses, Robert E.},
  title = {Outcomes after Resection of Leiomyosarcomas of the Inferior Vena Cava: A Pooled
           Data Analysis of 377 Cases},
  journal = {Surgical Oncology},
  year = {2015}
}

@article{smith2020,
  author = {Smith, Alex},
  title = {A Made-up Cohort for Testing},
  journal = {Journal of Tests},
  year = {2020}
}
"""
B_OUTCOMES = ("code,label,kind,unit,measure,timepoint,description\n"
              "overall_survival_5y,Five-year overall survival (b2026 wording),proportion,"
              "percent,overall_survival,5 years,Alive five years after surgery.\n")
CLAIM_HEADER = ("claim_id,review,outcome,statement,value,value_low,value_high,unit,numerator,"
                "denominator,qualifier,timepoint,population,derived,reported,section,paragraph,"
                "reference_keys,reference_numbers\n")
B_CLAIMS = (CLAIM_HEADER
            + "b2026-os5,b2026,overall_survival_5y,Five-year survival was about half.,50,,,"
              "percent,,,approximately,,,false,about 50%,Results,1,smith2020;wachtel2015,1;2\n"
            + "b2026-gone,b2026,overall_survival_5y,A claim the reload drops.,40,,,percent,,,"
              ",,,false,40%,Results,2,smith2020,1\n")
FINDING_HEADER = ("reference_key,reference_number,measure,value,value_low,value_high,numerator,"
                  "denominator,unit,timepoint,population,note,seen_at\n")


def _li_finding() -> str:
    """li2025's finding of the pooled analysis's patient count, as its file gives it."""
    lines = (DATA / "findings.csv").read_text(encoding="utf-8").splitlines()
    return next(line for line in lines if line.startswith("wachtel2015,3,patients,"))


def b_findings(*, with_identical: bool = True) -> str:
    own = "smith2020,1,patients,120,,,,,count,,all patients,,made up for the test\n"
    identical = _li_finding().replace("wachtel2015,3,", "wachtel2015,2,", 1) + "\n"
    return FINDING_HEADER + own + (identical if with_identical else "")


def b_folder(root: Path) -> Path:
    folder = root / "b2026"
    folder.mkdir()
    write(folder / "review.toml", B_REVIEW)
    write(folder / "references.bib", B_REFERENCES)
    write(folder / "outcomes.csv", B_OUTCOMES)
    write(folder / "claims.csv", B_CLAIMS)
    write(folder / "findings.csv", b_findings())
    return folder


def load_folder(cli: CliRun, url: str, folder: Path, *extra: str) -> tuple[int, str]:
    args = ["load", "--db", url, "--review", str(folder / "review.toml")]
    for option, name in (("--references", "references.bib"), ("--outcomes", "outcomes.csv"),
                         ("--claims", "claims.csv"), ("--findings", "findings.csv")):
        if (folder / name).exists():
            args += [option, str(folder / name)]
    code, _, err = cli(*args, *extra)
    return code, err


def li2025_outputs(cli_bytes: CliRunBytes, url: str) -> dict[str, bytes]:
    """What li2025 prints: its reference list, a table, its exports, its source check."""
    out: dict[str, bytes] = {}
    for name, argv in {
        "refs": ["refs"],
        "table": ["table", "overall_survival_5y"],
        "claims": ["export", "claims"],
        "claims-long": ["export", "claims", "--long"],
        "references": ["export", "references"],
        "citations": ["export", "citations"],
        "findings": ["export", "findings"],
        "verify": ["verify", "--format", "json"],
        "show": ["show", "wachtel2015"],
    }.items():
        code, data, err = cli_bytes(*argv, "--db", url, "--review", "li2025")
        assert code == 0, (name, err)
        out[name] = data
    return out


def as_text(cli_bytes: CliRunBytes) -> CliRun:
    """The byte-output runner with stdout decoded (one test cannot have both runners)."""
    def run(*argv: str) -> tuple[int, str, str]:
        code, out, err = cli_bytes(*argv)
        return code, out.decode("utf-8"), err

    return run


@pytest.fixture
def li2025(tmp_path: Path, db_url: str, cli_bytes: CliRunBytes) -> str:
    data = tmp_path / "li2025"
    shutil.copytree(DATA, data)
    code, _, err = cli_bytes("build", "--db", db_url, "--data", str(data), "--quiet")
    assert code == 0, err
    return db_url


def test_one_review_never_changes_another(li2025: str, tmp_path: Path,
                                          cli_bytes: CliRunBytes) -> None:
    url = li2025
    cli = as_text(cli_bytes)
    before = li2025_outputs(cli_bytes, url)
    verify_before = json.loads(before["verify"])

    # a second review: a citekey of li2025 with other authors, a relabelled shared outcome,
    # its own claims and findings (one identical to one of li2025's)
    folder = b_folder(tmp_path)
    code, err = load_folder(cli, url, folder)
    assert code == 0, err
    assert "stored once" in err  # the identical finding: one row, a further source
    assert li2025_outputs(cli_bytes, url) == before
    with open_db(url) as database:
        wachtel = rows(database, "reference", "citekey = 'wachtel2015'")
        assert len(wachtel) == 2 and len({r["work_id"] for r in wachtel}) == 1
        assert len(rows(database, "source_finding", "finding_id LIKE 'wachtel2015-patients%'")
                   ) == 1
    code, out, _ = cli("show", "wachtel2015", "--db", url)
    assert code == 0 and "b2026" in out and "li2025" in out  # every review citing the work

    # the second review reloaded with --prune, a claim and its identical finding dropped
    write(folder / "claims.csv", B_CLAIMS.splitlines(keepends=True)[0]
          + B_CLAIMS.splitlines(keepends=True)[1])
    write(folder / "findings.csv", b_findings(with_identical=False))
    code, err = load_folder(cli, url, folder, "--prune")
    assert code == 0, err
    assert li2025_outputs(cli_bytes, url) == before
    with open_db(url) as database:
        assert not rows(database, "claim", "claim_id = 'b2026-gone'")
        assert len(rows(database, "claim", "1 = 1")) == 78 + 1

    # a third review using one of li2025's claim ids
    third = tmp_path / "c2027"
    third.mkdir()
    write(third / "review.toml", '[review]\nid = "c2027"\ntitle = "A third"\n')
    write(third / "claims.csv", CLAIM_HEADER + "li2025-os-5y,c2027,overall_survival_5y,"
          "Same id in another review.,10,,,percent,,,,,,false,10%,Results,1,,\n")
    code, err = load_folder(cli, url, third)
    assert code == 0, err
    assert li2025_outputs(cli_bytes, url) == before

    # removing the second review: refused without --force (listing what would go), then done
    code, _, err = cli("review", "remove", "b2026", "--db", url)
    assert code == 1 and "1 claims" in err and "--force" in err
    code, _, err = cli("review", "remove", "b2026", "--db", url, "--force")
    assert code == 0, err
    assert li2025_outputs(cli_bytes, url) == before
    assert json.loads(before["verify"]) == verify_before
    with open_db(url) as database:
        assert [r["code"] for r in rows(database, "review", "1 = 1")] == ["li2025", "c2027"]
        assert len(rows(database, "reference", "citekey = 'wachtel2015'")) == 1
        assert not rows(database, "reference", "citekey = 'smith2020'")


def test_commands_of_one_review_refuse_several(li2025: str, tmp_path: Path,
                                               cli_bytes: CliRunBytes) -> None:
    cli = as_text(cli_bytes)
    code, err = load_folder(cli, li2025, b_folder(tmp_path))
    assert code == 0, err
    for argv in (["refs"], ["table", "overall_survival_5y"],
                 ["plot", "outcome", "overall_survival_5y", "--output",
                  str(tmp_path / "x.png")]):
        code, _, err = cli(*argv, "--db", li2025)
        assert code == 2 and "li2025" in err and "b2026" in err, argv


def test_a_finding_on_a_shared_work_serves_every_review_citing_it(
        li2025: str, tmp_path: Path, cli_bytes: CliRunBytes) -> None:
    cli = as_text(cli_bytes)
    """A new finding the second review gives about wachtel2015's work: li2025's source check
    gains it (once), its findings export does not (not its file), and the load says so."""
    folder = b_folder(tmp_path)
    write(folder / "findings.csv", b_findings() + "wachtel2015,2,median_age,56,,,,,years,,"
          "made-up subgroup,,made up for the test\n")
    code, err = load_folder(cli, li2025, folder)
    assert code == 0 and "li2025" in err and "gain findings" in err
    code, out, _ = cli("verify", "--db", li2025, "--review", "li2025", "--format", "json")
    checks = json.loads(out)
    gained = [c["claim_id"] for c in checks for f in c["findings"]
              if f["population"] == "made-up subgroup"]
    assert gained and len(gained) == len(set(gained))  # gained, never twice in one check
    for check in checks:
        ids = [f["finding_id"] for f in check["findings"]]
        assert len(ids) == len(set(ids))
    code, out, _ = cli("export", "findings", "--db", li2025, "--review", "li2025")
    assert "made-up subgroup" not in out


def test_a_file_of_several_reviews_must_be_paired(li2025: str, tmp_path: Path,
                                                  cli_bytes: CliRunBytes) -> None:
    cli = as_text(cli_bytes)
    folder = b_folder(tmp_path)
    third = tmp_path / "c2027"
    third.mkdir()
    write(third / "review.toml", '[review]\nid = "c2027"\ntitle = "A third"\n')
    argv = ["load", "--db", li2025, "--review", str(folder / "review.toml"),
            "--review", str(third / "review.toml")]
    code, _, err = cli(*argv, "--references", str(folder / "references.bib"))
    assert code == 1 and "--references" in err and "c2027" in err
    code, _, err = cli(*argv, "--references", f"b2026={folder / 'references.bib'}")
    assert code == 0, err
    with open_db(li2025) as database:
        assert len(rows(database, "reference", "citekey = 'smith2020'")) == 1


def test_a_library_serves_every_review(db_url: str, tmp_path: Path, cli: CliRun) -> None:
    """References loaded with no review form the library; a review resolves its own
    bibliography first, then the library."""
    library = write(tmp_path / "library.bib", B_REFERENCES)
    code, _, err = cli("load", "--db", db_url, "--references", str(library))
    assert code == 0, err
    review = write(tmp_path / "review.toml", '[review]\nid = "lab1"\ntitle = "Lab"\n'
                   '[[citations]]\nnumber = 1\nkey = "smith2020"\n')
    code, _, err = cli("load", "--db", db_url, "--review", str(review))
    assert code == 0, err
    code, out, _ = cli("refs", "--db", db_url, "--format", "text")
    assert code == 0 and "[1] Smith A, 2020" in out
    with open_db(db_url) as database:
        (entry,) = rows(database, "reference", "citekey = 'smith2020'")
        assert entry["review_id"] is None


def test_one_work_in_two_bibliographies_is_a_link_not_a_duplicate(
        db_url: str, tmp_path: Path, cli_bytes: CliRunBytes) -> None:
    cli = as_text(cli_bytes)
    entry = ("@article{smith2020, author = {Smith, Alex}, title = {A Made-up Cohort for "
             "Testing}, year = {2020}, doi = {10.5555/ivcdb-test-1}}\n")  # a test-prefix DOI
    library = write(tmp_path / "library.bib", entry)
    assert cli("load", "--db", db_url, "--references", str(library))[0] == 0
    review = write(tmp_path / "review.toml", '[review]\nid = "lab1"\ntitle = "Lab"\n'
                   '[[citations]]\nnumber = 1\nkey = "smith2020"\n')
    own = write(tmp_path / "own.bib", entry.replace("smith2020", "smith2020a"))
    review.write_text(review.read_text(encoding="utf-8").replace('"smith2020"', '"smith2020a"'),
                      encoding="utf-8")
    code, _, err = cli("load", "--db", db_url, "--review", str(review), "--references",
                       f"lab1={own}")
    assert code == 0, err
    code, out, _ = cli("check", "--db", db_url)
    assert "10.5555/ivcdb-test-1" not in out  # two bibliographies: linked, not an error
    with open_db(db_url) as database:
        works = {r["work_id"] for r in rows(database, "reference", "1 = 1")}
        assert len(works) == 1
    code, _, err = cli("load", "--db", db_url, "--references", f"nosuch={own}")
    assert code == 1 and "nosuch" in err
