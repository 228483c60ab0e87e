"""Every entry type printed and exported in full: books, chapters, proceedings, theses,
reports, web pages and data sets keep their editors (as editors), publisher, place, edition,
ISBN, series, container, URL, access date and full issue date in `refs`, RIS and CSL-JSON,
and an export loaded into an empty database exports the same bytes again.

tests/data/entry_types.bib holds one made-up entry of each type; the golden files hold
its exact reference lists.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import rispy
from conftest import TESTDATA, shared_path
from loadkit import rows, write

from ivcdb import queries
from ivcdb.db import Database, open_db, upgrade
from ivcdb.exports import csl, export, reflist
from ivcdb.loaders import Sources, load

TYPES_BIB = TESTDATA / "entry_types.bib"


@pytest.fixture
def typed(db: Database, tmp_path: Path) -> Database:
    (report,) = load(db, Sources(references=Path(shutil.copy(TYPES_BIB,
                                                             tmp_path / "types.bib"))))
    assert report.added == 15 and not report.problems
    return db


def _refs(db: Database) -> list[queries.ExportReference]:
    with db.session() as session:
        return list(queries.export_references(session, review_id=None))


@pytest.mark.parametrize(("fmt", "golden"), [
    pytest.param("markdown", "reflist_types.md", id="article-style"),
    pytest.param("vancouver", "reflist_types_vancouver.txt", id="csl-vancouver"),
    pytest.param("apa", "reflist_types_apa.txt", id="csl-apa"),
])
def test_reference_lists_print_every_detail(typed: Database, fmt: str, golden: str) -> None:
    refs = _refs(typed)
    text = (reflist.to_markdown(refs) if fmt == "markdown" else csl.to_text(refs, style=fmt))
    assert text == (TESTDATA / golden).read_text(encoding="utf-8")


def test_article_style_editors_are_editors_and_articles_print_as_before(
        typed: Database) -> None:
    lines = {r.key: reflist.entry(r, escape=str, italic=str) for r in _refs(typed)}
    assert lines["sato2017"].startswith("Sato K, Ferreira A (eds.), 2017, Handbook")
    assert "In: Sato K, Ferreira A (eds.), Handbook of Retroperitoneal Surgery." in (
        lines["osei2017"])
    # an article prints its year only and no URL, as the review's own list does
    assert lines["halvorsen2019"] == ("Halvorsen I, Okafor C, 2019, Venous Leiomyosarcoma in "
                                      "a Regional Registry. Journal of Test Oncology, 12(3): "
                                      "101\u2013109.")


@pytest.mark.parametrize(("key", "tags"), [
    pytest.param("marchetti2018", {"TY": ["BOOK"], "AU": ["Marchetti, Lucia", "Brandt, Oskar"],
                                   "T3": ["Clinical Oncology Monographs"], "ET": ["2"],
                                   "PB": ["Northfield Medical Press"], "CY": ["Edinburgh"],
                                   "SN": ["978-0-00-000001-7"], "VL": ["7"]}, id="book"),
    pytest.param("sato2017", {"TY": ["BOOK"], "ED": ["Sato, Kenji", "Ferreira, Ana"],
                              "PB": ["Harbour Academic"], "CY": ["Lisbon"]}, id="edited-book"),
    pytest.param("osei2017", {"TY": ["CHAP"], "AU": ["Osei, Kwame"],
                              "ED": ["Sato, Kenji", "Ferreira, Ana"],
                              "T2": ["Handbook of Retroperitoneal Surgery"], "SP": ["211"],
                              "EP": ["234"], "SN": ["978-0-00-000002-4"]}, id="incollection"),
    pytest.param("lindqvist2016", {"TY": ["CHAP"], "T2": ["Atlas of Abdominal Imaging"],
                                   "ET": ["3"], "CY": ["Uppsala"]}, id="inbook"),
    pytest.param("nakamura2020", {"TY": ["CONF"], "ED": ["Nakamura, Aiko"],
                                  "DA": ["2020/10/"], "T3": ["Rare Tumour Symposia"]},
                 id="proceedings"),
    pytest.param("dubois2020", {"TY": ["CPAPER"], "ED": ["Nakamura, Aiko"],
                                "T2": ["Proceedings of the Fifth Symposium on Rare Tumours"]},
                 id="inproceedings"),
    pytest.param("abara2021", {"TY": ["THES"], "M3": ["PhD thesis"],
                               "PB": ["University of Northfield"],
                               "UR": ["https://example.org/theses/abara2021"]}, id="phdthesis"),
    pytest.param("keller2019", {"TY": ["THES"], "M3": ["Master's thesis"],
                                "PB": ["Technical University of Rheinfeld"]},
                 id="mastersthesis"),
    pytest.param("moreau2022", {"TY": ["THES"], "M3": ["Doctoral dissertation"],
                                "PB": ["Université de Valmont"]}, id="thesis"),
    pytest.param("agency2021", {"TY": ["RPRT"], "IS": ["NCR-2021-04"], "DA": ["2021/06/"],
                                "PB": ["Northfield Cancer Registry"]}, id="techreport"),
    pytest.param("health2023", {"TY": ["RPRT"], "M3": ["Guideline"], "DA": ["2023/02/14"]},
                 id="report"),
    pytest.param("sarcomanet2023", {"TY": ["ELEC"], "Y2": ["2024/05/01"], "DA": ["2023/03/14"],
                                    "UR": ["https://example.org/sarcoma/lms?lang=en&page=2"]},
                 id="online"),
    pytest.param("registrysite2022", {"TY": ["ELEC"], "Y2": ["2024/04/30"]}, id="misc-url"),
    pytest.param("ivcregistry2022", {"TY": ["DATA"], "PB": ["Example Data Repository"],
                                     "DA": ["2022/11/05"], "Y2": ["2024/03/02"]},
                 id="dataset"),
])
def test_ris_tags_of_each_type(typed: Database, key: str, tags: dict[str, list[str]]) -> None:
    text = export(typed, "references", fmt="ris").decode("utf-8")
    record = next(r for r in text.split("ER  - \r\n") if f"ID  - {key}\r\n" in r)
    found: dict[str, list[str]] = {}
    for line in record.strip().split("\r\n"):
        tag, _, value = line.partition("  - ")
        found.setdefault(tag, []).append(value)
    assert {tag: found.get(tag) for tag in tags} == tags
    if "ED" in tags and key != "osei2017" and key != "dubois2020":
        assert "AU" not in found  # editors are never written as authors
    assert len(rispy.loads(text)) == 15


def test_csljson_has_every_field_and_validates(typed: Database) -> None:
    schema = json.loads(shared_path("schemas", "csl-data.json").read_text(encoding="utf-8"))
    items = json.loads(export(typed, "references", fmt="csljson"))
    jsonschema.validate(items, schema, cls=jsonschema.Draft7Validator)
    by_id = {i["id"]: i for i in items}
    assert "author" not in by_id["sato2017"]
    assert by_id["sato2017"]["editor"] == [{"family": "Sato", "given": "Kenji"},
                                           {"family": "Ferreira", "given": "Ana"}]
    book = by_id["marchetti2018"]
    assert (book["publisher"], book["publisher-place"], book["edition"], book["ISBN"],
            book["collection-title"]) == ("Northfield Medical Press", "Edinburgh", "2",
                                          "978-0-00-000001-7", "Clinical Oncology Monographs")
    chapter = by_id["osei2017"]
    assert (chapter["type"], chapter["container-title"], chapter["editor"][0]["family"]) == (
        "chapter", "Handbook of Retroperitoneal Surgery", "Sato")
    assert by_id["ivcregistry2022"]["issued"] == {"date-parts": [[2022, 11, 5]]}
    assert by_id["ivcregistry2022"]["version"] == "2.1"
    web = by_id["sarcomanet2023"]
    assert (web["type"], web["URL"], web["accessed"], web["issued"]) == (
        "webpage", "https://example.org/sarcoma/lms?lang=en&page=2",
        {"date-parts": [[2024, 5, 1]]}, {"date-parts": [[2023, 3, 14]]})
    assert by_id["registrysite2022"]["type"] == "webpage"
    assert (by_id["abara2021"]["genre"], by_id["abara2021"]["publisher"]) == (
        "PhD thesis", "University of Northfield")
    assert by_id["agency2021"]["number"] == "NCR-2021-04"


@pytest.mark.parametrize("fmt", ["ris", "csljson"])
def test_every_type_round_trips_byte_for_byte(typed: Database, tmp_path: Path,
                                              fmt: str) -> None:
    first = export(typed, "references", fmt=fmt)
    path = write(tmp_path / ("types.ris" if fmt == "ris" else "types.json"), first)
    url = f"sqlite:///{tmp_path / 'second.sqlite'}"
    upgrade(url)
    second = open_db(url)
    try:
        (report,) = load(second, Sources(references=path))
        assert report.added == 15
        assert export(second, "references", fmt=fmt) == first
        # the BibTeX written from the imported records loads back as the same references
        bib = write(tmp_path / "again.bib", export(second, "references", fmt="bibtex"))
        third_url = f"sqlite:///{tmp_path / 'third.sqlite'}"
        upgrade(third_url)
        third = open_db(third_url)
        try:
            load(third, Sources(references=bib))
            assert export(third, "references", fmt=fmt) == first
        finally:
            third.dispose()
        stored = {r["citekey"]: r for r in rows(second, "reference")}
        assert stored["osei2017"]["entry_type"] == "incollection"
    finally:
        second.dispose()
