"""References files in RIS, CSL-JSON and PubMed MEDLINE load as BibTeX does.

The samples in tests/data/import/ are written the way EndNote (CRLF, a BOM, the PMID as a
digits-only `AN`), Zotero (RIS and CSL-JSON, item URIs as ids) and PubMed (`.nbib`) write
them; their facts are made up (10.5555 DOIs) or taken from data/references.bib.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, shared_path
from loadkit import refuse, rows, write

from ivcdb.db import Database, open_db, upgrade
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.loaders.citekeys import assign_keys, stem
from ivcdb.report import Code

SAMPLES = Path(__file__).parent / "data" / "import"


def _keys(db: Database) -> dict[str, tuple[str | None, str | None]]:
    """citekey -> (DOI, PMID) of every stored entry."""
    return {r["citekey"]: (r["doi"], r["pmid"]) for r in rows(db, "reference")}


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("endnote.ris", {
        "ghose2018": ("10.1007/s13193-018-0796-9", "30538385"),
        "kobayashi2020": ("10.1002/cncr.32661", "31825533"),
        "wachtel2015": ("10.5555/test.endnote.book", None)}, id="endnote-ris"),
    pytest.param("zotero.ris", {
        "wachtel2015": ("10.5555/test.zotero.1", None),
        "wachtel2015a": ("10.5555/test.zotero.2", None),
        "vanderberg2019": (None, None)}, id="zotero-ris"),
    pytest.param("zotero.json", {
        "wachtel2015": ("10.5555/test.zotero.1", None),
        "kobayashi2020": ("10.1002/cncr.32661", "31825533"),
        "vanderberg2019": (None, None)}, id="zotero-csl-json"),
    pytest.param("pubmed.nbib", {
        "ghose2018": ("10.1007/s13193-018-0796-9", "30538385"),
        "kobayashi2020": ("10.1002/cncr.32661", "31825533")}, id="pubmed-medline"),
])
def test_each_format_loads_with_keys_dois_and_pmids(db: Database, tmp_path: Path, name: str,
                                                     expected: dict[str, tuple[str | None,
                                                                               str | None]]
                                                     ) -> None:
    path = Path(shutil.copy(SAMPLES / name, tmp_path / name))
    (report,) = load(db, Sources(references=path))
    assert report.added == len(expected)
    assert _keys(db) == expected
    generated = [p for p in report.problems if p.code is Code.MISSING_FIELD and not p.key]
    made = {k for k in expected if k != "vanderberg2019" or name != "zotero.json"}
    assert len(generated) == 1 and all(k in generated[0].message for k in made)
    (again,) = load(db, Sources(references=path))  # idempotent
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(expected))


def test_endnote_and_pubmed_give_the_same_authors_and_locators(db: Database,
                                                               tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "endnote.ris", tmp_path / "a.ris")
    load(db, Sources(references=tmp_path / "a.ris"))
    ris = {r["citekey"]: r for r in rows(db, "reference")}
    assert (ris["ghose2018"]["journal"], ris["ghose2018"]["volume"], ris["ghose2018"]["issue"],
            ris["ghose2018"]["pages"]) == ("Indian Journal of Surgical Oncology", "9", "4",
                                           "538--546")
    authors = [(a["family"], a["given"]) for a in rows(
        db, "author", "reference_id = :id ORDER BY position", id=ris["ghose2018"]["id"])]
    assert authors == [("Ghose", "J."), ("Bhamre", "R."), ("Mehta", "N.")]
    assert ris["wachtel2015"]["entry_type"] == "book"


def test_medline_continued_lines_join(db: Database, tmp_path: Path) -> None:
    path = Path(shutil.copy(SAMPLES / "pubmed.nbib", tmp_path / "p.nbib"))
    load(db, Sources(references=path))
    title = next(r["title"] for r in rows(db, "reference") if r["citekey"] == "ghose2018")
    assert title.endswith("Six Cases and a Review of Literature.")


def test_csl_sample_is_valid_csl_json() -> None:
    schema = json.loads(shared_path("schemas", "csl-data.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads((SAMPLES / "zotero.json").read_text(encoding="utf-8")),
                        schema)


@pytest.mark.parametrize("fmt", ["ris", "csljson"])
def test_export_load_export_is_byte_identical(db: Database, tmp_path: Path, fmt: str) -> None:
    load(db, Sources(references=Path(shutil.copy(DATA / "references.bib", tmp_path / "r.bib"))))
    first = export(db, "references", fmt=fmt)
    path = write(tmp_path / ("refs.ris" if fmt == "ris" else "refs.json"), first)
    url = f"sqlite:///{tmp_path / 'second.sqlite'}"
    upgrade(url)
    second = open_db(url)
    try:
        load(second, Sources(references=path))
        assert export(second, "references", fmt=fmt) == first
    finally:
        second.dispose()


def test_ris_export_writes_the_pmid_for_endnote_and_zotero(db: Database, tmp_path: Path) -> None:
    load(db, Sources(references=Path(shutil.copy(DATA / "references.bib", tmp_path / "r.bib"))))
    text = export(db, "references", fmt="ris").decode("utf-8")
    assert "AN  - 30538385\r\n" in text and "M2  - PMID: 30538385\r\n" in text
    assert "AN  - PMID:" not in text


@pytest.mark.parametrize("name", ["endnote.ris", "zotero.ris", "zotero.json", "pubmed.nbib"])
def test_reloading_a_sample_changes_nothing(db: Database, tmp_path: Path, name: str) -> None:
    path = Path(shutil.copy(SAMPLES / name, tmp_path / name))
    (first,) = load(db, Sources(references=path))
    stored = rows(db, "reference")
    (again,) = load(db, Sources(references=path))
    assert (again.added, again.updated, again.unchanged) == (0, 0, first.added)
    assert rows(db, "reference") == stored


def test_a_pmid_keeps_the_key_when_author_and_doi_are_gone(db: Database,
                                                            tmp_path: Path) -> None:
    """PubMed corrected the first author's name and the file has no DOI lines: the PMID is
    the record's identity, so its key stays."""
    text = (SAMPLES / "pubmed.nbib").read_text(encoding="utf-8")
    path = write(tmp_path / "p.nbib", text)
    load(db, Sources(references=path))
    edited = "".join(line for line in text.splitlines(keepends=True) if "[doi]" not in line)
    write(path, edited.replace("FAU - Ghose, J", "FAU - Ghosh, J"))
    (report,) = load(db, Sources(references=path))
    assert _keys(db) == {"ghose2018": (None, "30538385"), "kobayashi2020": (None, "31825533")}
    assert (report.added, report.updated) == (0, 2)


def test_a_doi_keeps_the_key_when_author_and_year_change(db: Database,
                                                         tmp_path: Path) -> None:
    text = (SAMPLES / "zotero.ris").read_text(encoding="utf-8")
    path = write(tmp_path / "z.ris", text)
    load(db, Sources(references=path))
    write(path, text.replace("AU  - Wachtel, Hanna\nAU  - Müller", "AU  - Vogel, Hanna\nAU  - "
                             "Müller", 1).replace("PY  - 2015\nVL", "PY  - 2016\nVL", 1))
    (report,) = load(db, Sources(references=path))
    assert _keys(db)["wachtel2015"] == ("10.5555/test.zotero.1", None)
    assert "vogel2016" not in _keys(db) and (report.added, report.updated) == (0, 1)
    (made,) = [p.message for p in report.problems if "have no citekey" in p.message]
    assert made.endswith(": wachtel2015, wachtel2015a, vanderberg2019")  # the keys stored


def test_a_reordered_reload_keeps_each_entrys_key(db: Database, tmp_path: Path) -> None:
    text = (SAMPLES / "zotero.ris").read_text(encoding="utf-8")
    records = [r + "ER  - \n" for r in text.split("ER  - \n") if r.strip()]
    path = write(tmp_path / "z.ris", "\n".join(records))
    load(db, Sources(references=path))
    before = _keys(db)
    write(path, "\n".join([records[1], records[0], records[2]]))
    (report,) = load(db, Sources(references=path))
    assert _keys(db) == before
    assert (report.added, report.updated) == (0, 0)


def test_a_new_record_takes_the_next_free_suffix(db: Database, tmp_path: Path) -> None:
    text = (SAMPLES / "zotero.ris").read_text(encoding="utf-8")
    path = write(tmp_path / "z.ris", text)
    load(db, Sources(references=path))
    extra = ("TY  - JOUR\nTI  - A third made-up study\nAU  - Wachtel, Hanna\nPY  - 2015\n"
             "T2  - J\nDO  - 10.5555/test.zotero.3\nER  - \n\n")
    write(path, extra + text)  # first in the file, yet the stored keys stay
    load(db, Sources(references=path))
    keys = _keys(db)
    assert keys["wachtel2015"][0] == "10.5555/test.zotero.1"
    assert keys["wachtel2015a"][0] == "10.5555/test.zotero.2"
    assert keys["wachtel2015b"][0] == "10.5555/test.zotero.3"


@pytest.mark.parametrize(("name", "content", "says"), [
    pytest.param("refs.xyz", "just some text\n", "cannot tell the references format",
                 id="unknown"),
    pytest.param("refs.ris", "@article{k, title={T}}\n", "named as RIS but holds BibTeX",
                 id="bibtex-named-ris"),
    pytest.param("refs.json", "[{\"type\": \"book\"", "not valid JSON", id="broken-json"),
])
def test_unreadable_files_are_refused_naming_the_file(db: Database, tmp_path: Path, name: str,
                                                      content: str, says: str) -> None:
    path = write(tmp_path / name, content)
    problems = refuse(db, Sources(references=path))
    assert [p.file for p in problems] == [str(path)] and says in problems[0].message


def test_a_record_without_title_is_an_error_with_its_line(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "r.ris", "TY  - JOUR\nTI  - Fine\nER  - \n\nTY  - JOUR\n"
                 "AU  - Doe, Jane\nER  - \n")
    problems = refuse(db, Sources(references=path))
    assert [(p.code, p.line, p.key) for p in problems if p.is_error] == [
        (Code.MISSING_FIELD, 5, "doend")]
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    assert report.added == 1


def _untitled(name: str) -> str:
    """The sample with its second record's title removed."""
    text = (SAMPLES / name).read_text(encoding="utf-8-sig")
    if name.endswith(".json"):
        items = json.loads(text)
        del items[1]["title"]
        return json.dumps(items, indent=2)
    return text.replace("TI  - Efficacy", "XX  - Efficacy")


@pytest.mark.parametrize(("name", "line", "key"), [
    pytest.param("zotero.json", 31, "kobayashi2020", id="csl-json"),
    pytest.param("pubmed.nbib", 22, "kobayashi2020", id="medline"),
])
def test_an_untitled_record_names_file_line_and_key_and_can_be_skipped(
        db: Database, tmp_path: Path, name: str, line: int, key: str) -> None:
    path = write(tmp_path / name, _untitled(name))
    problems = [p for p in refuse(db, Sources(references=path)) if p.is_error]
    assert [(p.file, p.code, p.line, p.key) for p in problems] == [
        (str(path), Code.MISSING_FIELD, line, key)]
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    assert report.skipped == [key] and key not in _keys(db) and len(_keys(db)) == report.added


def test_key_stems_and_suffixes() -> None:
    assert stem("Wächtel", 2015) == "wachtel2015" and stem("", None) == "anonnd"
    items = [(None, "Doe", 2020, None, None)] * 28 + [("doe2020", "X", 1, None, None)]
    keys = assign_keys(items)
    assert keys[:3] == ["doe2020a", "doe2020b", "doe2020c"] and keys[25] == "doe2020z"
    assert keys[26:28] == ["doe2020aa", "doe2020ab"] and keys[28] == "doe2020"


@pytest.mark.parametrize(("head", "fmt"), [
    pytest.param("TY  - JOUR\r\n", "ris", id="ris"),
    pytest.param("PMID- 1\n", "medline", id="medline"),
    pytest.param("@article{x,\n", "bibtex", id="bibtex"),
])
def test_format_is_seen_after_thousands_of_blank_lines(head: str, fmt: str) -> None:
    """Blank lines before the first record cost a linear scan, not an exponential one."""
    from ivcdb.loaders.refformats import sniff

    assert sniff(" \r\n" * 10_000 + head) == fmt


def _raw(db: Database, key: str) -> dict[str, str]:
    row = next(r for r in rows(db, "reference") if r["citekey"] == key)
    return {**json.loads(row["raw_fields"]), "entry_type": row["entry_type"]}


def _people(db: Database, key: str) -> list[str]:
    ref = next(r for r in rows(db, "reference") if r["citekey"] == key)
    return [a["family"] for a in rows(db, "author", "reference_id = :id ORDER BY position",
                                      id=ref["id"])]


@pytest.mark.parametrize(("name", "content", "key", "expected", "people"), [
    pytest.param("endnote.ris", "TY  - CHAP\r\nAU  - Osei, Kwame\r\nA2  - Sato, Kenji\r\n"
                 "TI  - Reconstruction of the Cava\r\nT2  - Handbook of Surgery\r\n"
                 "PY  - 2017\r\nDA  - 2017/04/02\r\nSP  - 211\r\nEP  - 234\r\n"
                 "PB  - Harbour Academic\r\nCY  - Lisbon\r\nSN  - 978-0-00-000002-4\r\n"
                 "ET  - 2\r\nT3  - Surgery Series\r\nUR  - https://example.org/c?a=1&b=2\r\n"
                 "Y2  - 2024/05/01\r\nER  - \r\n", "osei2017",
                 {"entry_type": "incollection", "editor": "Sato, Kenji",
                  "booktitle": "Handbook of Surgery", "publisher": "Harbour Academic",
                  "address": "Lisbon", "isbn": "978-0-00-000002-4", "edition": "2",
                  "series": "Surgery Series", "url": "https://example.org/c?a=1&b=2",
                  "urldate": "2024-05-01", "date": "2017-04-02"}, ["Osei"],
                 id="endnote-chapter-a2-editors"),
    pytest.param("pubmed.nbib", "PMID- 20301456\nBTI - Handbook of Rare Tumours\n"
                 "TI  - Caval Sarcoma\nFAU - Osei, Kwame\nFED - Sato, Kenji\n"
                 "DP  - 2017 Apr\nPB  - Harbour Academic\nPL  - Lisbon\n"
                 "ISBN- 978-0-00-000002-4\nEN  - 2nd\nPT  - Review\nPT  - Book Chapter\n",
                 "osei2017", {"entry_type": "incollection", "editor": "Sato, Kenji",
                              "booktitle": "Handbook of Rare Tumours",
                              "publisher": "Harbour Academic", "address": "Lisbon",
                              "isbn": "978-0-00-000002-4", "edition": "2nd",
                              "date": "2017-04"}, ["Osei"], id="pubmed-bookshelf-chapter"),
    pytest.param("zotero.json", json.dumps([{
        "id": "http://zotero.org/users/1/items/ABC", "type": "book",
        "title": "Handbook of Surgery", "editor": [{"family": "Sato", "given": "Kenji"}],
        "publisher": "Harbour Academic", "publisher-place": "Lisbon", "edition": 2,
        "ISBN": "978-0-00-000002-4", "collection-title": "Surgery Series",
        "issued": {"date-parts": [["2017", "4"]]},
        "accessed": {"date-parts": [[2024, 5, 1]]}, "URL": "https://example.org/b"}]),
                 "sato2017", {"entry_type": "book", "editor": "Sato, Kenji",
                              "publisher": "Harbour Academic", "address": "Lisbon",
                              "edition": "2", "isbn": "978-0-00-000002-4",
                              "series": "Surgery Series", "date": "2017-04",
                              "urldate": "2024-05-01", "url": "https://example.org/b"},
                 ["Sato"], id="zotero-edited-book"),
])
def test_book_details_and_editors_are_read(db: Database, tmp_path: Path, name: str,
                                           content: str, key: str, expected: dict[str, str],
                                           people: list[str]) -> None:
    path = write(tmp_path / name, content)
    (report,) = load(db, Sources(references=path))
    assert report.added == 1
    raw = _raw(db, key)
    assert {k: raw.get(k) for k in expected} == expected
    assert _people(db, key) == people  # an edited book is found by its editors
    if "author" not in content.lower() and "AU  -" not in content and "FAU" not in content:
        assert "author" not in raw
        items = json.loads(export(db, "references", fmt="csljson"))
        assert "author" not in items[0] and items[0]["editor"][0]["family"] == "Sato"


@pytest.mark.parametrize(("name", "content"), [
    pytest.param("a.bib", "@article{k2020, title={T}, year={2020}, pmcid={PMC0000002}}",
                 id="bibtex-field"),
    pytest.param("a.bib", "@article{k2020, title={T}, year={2020}, eprint={0000002},"
                 " eprinttype={pmc}}", id="bibtex-eprint"),
    pytest.param("a.bib", "@article{k2020, title={T}, year={2020},"
                 " note={PMID: 1\nPMCID: PMC0000002}}", id="bibtex-note"),
    pytest.param("a.bib", "@article{k2020, title={T}, year={2020},"
                 " extra={PMCID: PMC0000002}}", id="zotero-extra"),
    pytest.param("a.ris", "TY  - JOUR\nID  - k2020\nTI  - T\nPY  - 2020\nC2  - PMC0000002\n"
                 "ER  - \n", id="ris-endnote-c2"),
    pytest.param("a.ris", "TY  - JOUR\nID  - k2020\nTI  - T\nPY  - 2020\n"
                 "M2  - PMCID: PMC0000002\nER  - \n", id="ris-zotero-m2"),
    pytest.param("a.json", '[{"id": "k2020", "type": "article-journal", "title": "T", '
                 '"PMCID": "PMC0000002", "issued": {"date-parts": [[2020]]}}]', id="csl"),
    pytest.param("a.nbib", "PMID- 1\nTI  - T\nDP  - 2020\nPMC - PMC0000002\n", id="medline"),
])
def test_pmcid_is_read_and_exported_everywhere(db: Database, tmp_path: Path, name: str,
                                               content: str) -> None:
    load(db, Sources(references=write(tmp_path / name, content)))
    ris = export(db, "references", fmt="ris").decode("utf-8")
    assert "C2  - PMC0000002\r\n" in ris
    assert json.loads(export(db, "references", fmt="csljson"))[0]["PMCID"] == "PMC0000002"
    table = json.loads(export(db, "references", fmt="json"))
    assert table[0]["pmcid"] == "PMC0000002"
    bib = export(db, "references", fmt="bibtex").decode("utf-8")
    assert "PMC0000002" in bib or "{0000002}" in bib
