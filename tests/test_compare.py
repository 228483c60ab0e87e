"""`ivcdb compare`: two extractions with planted differences; exactly those are found, with
the agreement a hand computation gives. No database is opened."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

import pytest
from conftest import CliRun

from ivcdb.compare import cohens_kappa, compare_files
from ivcdb.errors import LoadRefused

HEADER = ("claim_id,review,outcome,statement,value,value_low,value_high,unit,numerator,"
          "denominator,qualifier,timepoint,population,derived,reported,section,paragraph,"
          "reference_keys,reference_numbers")
CALIO = "Cali\u00f2"  # composed; B gives it decomposed


def _row(cid: str, statement: str, value: str, qualifier: str, keys: str = "k1",
         numbers: str = "1", outcome: str = "os_5y", derived: str = "false") -> str:
    return (f"{cid},r1,{outcome},{statement},{value},,,percent,,,{qualifier},5 years,all,"
            f"{derived},,Results,1,{keys},{numbers}")


A_ROWS = [_row("c1", "Survival was 55%.", "55", "approximately"),
          _row("c2", "Survival was 50%.", "50", "approximately"),
          _row("c3", f"{CALIO} reports 40%.", "40", ""),
          _row("c4", "Survival was 55%.", "55", ""),
          _row("c5", "At most 60%.", "60", "up to"),
          _row("c6", "About 70%.", "70", "approximately"),
          _row("c7", "Only the first extractor saw this.", "10", "")]
B_ROWS = [_row("c1", "Survival was 55%.", "55.0", "approximately", derived="no"),  # same
          _row("c2", "Survival was 50%.", "50", ""),  # qualifier left out
          _row("c3", "  " + unicodedata.normalize("NFD", CALIO) + "  reports   40%.", "40", "",
               outcome="OS_5Y"),  # same after normalisation
          _row("c4", "Survival was 55%.", "56", ""),  # value
          _row("c5", "At most 60%.", "60", "up to", keys="k1;k2", numbers="1;2"),  # links
          _row("c6", "About 70%.", "70", "at least"),  # qualifier
          _row("c8", "Only the second extractor saw this.", "20", "")]
PLANTED = [("c2", "qualifier", "approximately", None), ("c4", "value", 55.0, 56.0),
           ("c5", "reference_keys", ["k1"], ["k1", "k2"]),
           ("c5", "reference_numbers", [1], [1, 2]),
           ("c6", "qualifier", "approximately", "at least")]
# Qualifier, by hand: A = approx, approx, -, -, up to, approx; B = approx, -, -, -, up to,
# at least. p_o = 4/6; p_e = (3*1 [approx] + 2*3 [-] + 1*1 [up to]) / 36 = 10/36;
# kappa = (24/36 - 10/36) / (26/36) = 14/26 = 7/13.
QUALIFIER_KAPPA = 7 / 13


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "a.csv", A_ROWS), _write(tmp_path / "b.csv", B_ROWS)


def test_finds_exactly_the_planted_differences(files: tuple[Path, Path]) -> None:
    result = compare_files(*files)
    assert result.only_in_a == ["c7"]
    assert result.only_in_b == ["c8"]
    assert [(d.claim_id, d.field, d.a, d.b) for d in result.differences] == PLANTED
    assert (result.shared, result.agreeing) == (6, 2)
    assert result.problems == []


def test_agreement_by_hand(files: tuple[Path, Path]) -> None:
    agreement = compare_files(*files).agreement
    assert agreement["qualifier"].percent == pytest.approx(100 * 4 / 6)
    assert agreement["qualifier"].kappa == pytest.approx(QUALIFIER_KAPPA)
    assert agreement["value"].percent == pytest.approx(100 * 5 / 6)
    assert agreement["value"].kappa is None  # a number: not categorical
    for name in ("outcome", "unit", "review", "derived"):  # one category throughout
        assert agreement[name].percent == 100
        assert agreement[name].kappa is None
    assert agreement["statement"].percent == 100


def test_kappa_matches_statsmodels() -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    a = ["x", "x", None, None, "y", "x", "z", "z"]
    b = ["x", None, None, None, "y", "w", "z", "x"]
    categories = sorted({str(v) for v in a + b})
    table = [[sum(1 for p, q in zip(a, b, strict=True) if str(p) == r and str(q) == c)
              for c in categories] for r in categories]
    expected = inter_rater.cohens_kappa(table).kappa
    assert cohens_kappa(list(zip(a, b, strict=True))) == pytest.approx(expected)


def test_kappa_edge_cases() -> None:
    assert cohens_kappa([]) is None
    assert cohens_kappa([("a", "a"), ("a", "a")]) is None  # no variation
    assert cohens_kappa([("a", "a"), ("b", "b")]) == 1
    assert cohens_kappa([("a", "b"), ("b", "a")]) == -1


def test_json_has_exactly_the_documented_shape(cli: CliRun, files: tuple[Path, Path]) -> None:
    code, out, err = cli("compare", str(files[0]), str(files[1]), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"only_in_a", "only_in_b", "differences", "agreement"}
    assert doc["differences"][0] == {"claim_id": "c2", "field": "qualifier",
                                     "a": "approximately", "b": None}
    assert doc["differences"][1] == {"claim_id": "c4", "field": "value", "a": 55, "b": 56}
    assert doc["agreement"]["qualifier"]["kappa"] == pytest.approx(QUALIFIER_KAPPA)
    assert doc["agreement"]["outcome"] == {"percent": 100, "kappa": None}
    assert "6 claim(s) in both files, 2 agree, 4 differ; 1 only in A, 1 only in B" in err


def test_csv_table_and_markdown(cli: CliRun, files: tuple[Path, Path],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = cli("compare", str(files[0]), str(files[1]), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["what"], r["claim_id"]) for r in rows[:2]] == [("only_in_a", "c7"),
                                                             ("only_in_b", "c8")]
    assert [(r["claim_id"], r["field"], r["a"], r["b"]) for r in rows if r["what"] == "differs"
            ][2] == ("c5", "reference_keys", "k1", "k1;k2")
    qualifier = next(r for r in rows if r["what"] == "agreement" and r["field"] == "qualifier")
    assert (qualifier["percent"], qualifier["kappa"]) == ("66.7", "0.538")
    code, out, _ = cli("compare", str(files[0]), str(files[1]), "--format", "markdown")
    assert code == 0
    assert "| c6 | qualifier | approximately | at least |" in out
    assert "| qualifier | 66.7 | 0.538 |" in out
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = cli("compare", str(files[0]), str(files[1]), "--format", "table")
    assert code == 0 and "c7" in out and "0.538" in out


def test_workbook_compares_like_csv(tmp_path: Path, files: tuple[Path, Path]) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for line in csv.reader(io.StringIO(files[1].read_text(encoding="utf-8"))):
        sheet.append(line)
    book.save(tmp_path / "b.xlsx")
    result = compare_files(files[0], tmp_path / "b.xlsx")
    assert [(d.claim_id, d.field) for d in result.differences] == [p[:2] for p in PLANTED]


def test_unreadable_file_is_refused(cli: CliRun, tmp_path: Path,
                                    files: tuple[Path, Path]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("claim_id,statement\nc1,x\n", encoding="utf-8")
    with pytest.raises(LoadRefused):
        compare_files(files[0], bad)
    code, _, err = cli("compare", str(files[0]), str(bad))
    assert code == 1
    assert "bad.csv" in err and "missing column(s)" in err
    assert "error: 1 error(s); nothing compared" in err  # compare writes nothing anyway
    assert "written" not in err


def test_bad_cell_is_a_warning_and_compared(tmp_path: Path, files: tuple[Path, Path]) -> None:
    odd = _write(tmp_path / "odd.csv", [_row("c1", "Survival was 55%.", "55", "roughly")])
    result = compare_files(files[0], odd)
    assert [(d.claim_id, d.field, d.b) for d in result.differences] == [
        ("c1", "qualifier", "roughly")]
    assert [p.line for p in result.problems] == [2]
    assert not any(p.is_error for p in result.problems)
