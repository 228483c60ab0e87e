"""Loading BibTeX: every error class refused with its location, nothing written; decoding,
macros, inheritance and name parts; skip-invalid, dry-run, idempotency and updates."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, snapshot
from loadkit import count, find, refuse, rows, write

from ivcdb.db import Database
from ivcdb.exports import export
from ivcdb.loaders import Sources, load
from ivcdb.report import Code, Severity

GOOD = """@article{good2000,
  author = {Good, A and Better, B},
  title = {A Good Title},
  journal = {Journal of Tests},
  year = {2000}
}
"""  # six lines: an entry placed after GOOD starts on line 8 (after a blank line)


def after_good(entry: str) -> str:
    return GOOD + "\n" + entry


# (file content, code, line, key); lines are 1-based, None for the whole file.
ERROR_CASES = [
    pytest.param(after_good("@article{bad1,\n  title = {Oops,\n  year = {2000}\n}\n")
                 + "\n@article{next3, title = {Next}}\n",
                 Code.PARSE, 8, "bad1", id="unbalanced-braces"),
    pytest.param(after_good("@article{bad1,\n  title = {T}\n  year = {2000}\n}\n"),
                 Code.PARSE, 9, "bad1", id="missing-comma"),
    pytest.param(after_good('@article{bad1,\n  title = "T"\n  year = 2000\n}\n'),
                 Code.PARSE, 9, "bad1", id="missing-comma-after-quoted"),
    pytest.param(after_good("@article{bad1,\n  title = {T},\n  year = {20"),
                 Code.PARSE, 8, "bad1", id="truncated-file"),
    pytest.param(after_good(GOOD), Code.DUPLICATE_KEY, 8, "good2000", id="duplicate-citekey"),
    pytest.param(after_good(GOOD.replace("good2000", "GOOD2000")), Code.DUPLICATE_KEY, 8,
                 "GOOD2000", id="duplicate-citekey-case"),
    pytest.param(GOOD.replace("good2000", unicodedata.normalize("NFD", "güt2000")) + "\n"
                 + GOOD.replace("good2000", "güt2000"),
                 Code.DUPLICATE_KEY, 8, "güt2000", id="duplicate-citekey-nfd-nfc"),
    pytest.param(after_good("@article{bad1,\n  title = {M\xfcller \xff},\n}\n").encode()
                 .replace(b"\xc3\xbf", b"\xff"), Code.ENCODING, 9, "", id="broken-utf8"),
    pytest.param("", Code.EMPTY, None, "", id="empty-file"),
    pytest.param(" \n\t\n", Code.EMPTY, None, "", id="white-space-only"),
    pytest.param(after_good("@article{bad1,\n  title = {A\x00B}\n}\n"),
                 Code.CONTROL_CHAR, 9, "bad1", id="nul-character"),
    pytest.param(after_good("@article{bad1,\n  title = {A\x07B}\n}\n"),
                 Code.CONTROL_CHAR, 9, "bad1", id="control-character"),
    pytest.param(after_good("@article{bad1,\n  title = {T},\n  samplesize = {about 40}\n}\n"),
                 Code.COUNT, 8, "bad1", id="bad-samplesize"),
]


@pytest.mark.parametrize(("content", "code", "line", "key"), ERROR_CASES)
def test_error_is_refused_with_location(built: Database, tmp_path: Path,
                                        content: str | bytes, code: Code, line: int | None,
                                        key: str) -> None:
    path = write(tmp_path / "refs.bib", content)
    problems = refuse(built, Sources(references=path))
    problem = find(problems, code, file=path, line=line, key=key)
    assert problem.is_error
    assert "\n" not in problem.format()


WARNING_CASES = [
    pytest.param(after_good("@article{bad1,\n  author = {A, B},\n  year = {2000}\n}\n"),
                 Code.MISSING_FIELD, 8, "bad1", id="no-title"),
    pytest.param(after_good("@article{bad1,\n  title = {  },\n  year = {2000}\n}\n"),
                 Code.MISSING_FIELD, 8, "bad1", id="empty-title"),
    pytest.param(after_good("@article{bad1,\n  title = {T},\n  journal = jsurg\n}\n"),
                 Code.UNDEFINED_MACRO, 10, "bad1", id="undefined-string-macro"),
    pytest.param('@string{jnl = "J " # other}\n\n' + GOOD, Code.UNDEFINED_MACRO, 1, "jnl",
                 id="string-uses-undefined-macro"),
    pytest.param(after_good("@article{bad1,\n  title = {T},\n  year = {2000},\n"
                            "  title = {U}\n}\n"),
                 Code.DUPLICATE_FIELD, 11, "bad1", id="duplicate-field"),
]


@pytest.mark.parametrize(("content", "code", "line", "key"), WARNING_CASES)
def test_what_bibtex_only_warns_about_loads_with_a_warning(
        db: Database, tmp_path: Path, content: str, code: Code, line: int, key: str) -> None:
    """A missing title or an undefined @string macro: BibTeX warns and goes on; so does a
    load (the entry is stored), saying where."""
    path = write(tmp_path / "refs.bib", content)
    (report,) = load(db, Sources(references=path))
    warning = find(report.problems, code, file=path, line=line, key=key)
    assert warning.severity is Severity.WARNING and not report.errors
    assert report.added == count(db, "reference") == 2 - ("jnl" in content)


def test_an_undefined_macro_keeps_its_name_and_is_reported_once(db: Database,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", after_good(
        "@inproceedings{f1,\n  title = {T},\n  booktitle = {Proc. } # focs89,\n}\n\n"
        "@inproceedings{f2,\n  title = {U},\n  booktitle = FOCS89\n}\n"))
    (report,) = load(db, Sources(references=path))
    (warning,) = [p for p in report.problems if p.code is Code.UNDEFINED_MACRO]
    assert (warning.line, warning.key) == (10, "f1")
    assert "'focs89'" in warning.message and "2 uses" in warning.message
    assert _reference(db, "f1")["journal"] == "Proc. focs89"
    assert _reference(db, "f2")["journal"] == "FOCS89"


@pytest.mark.parametrize(("fields", "pmid"), [
    pytest.param("pmid = {123456}", "123456", id="pmid-field"),
    pytest.param("eprint = {234567}, eprinttype = {pubmed}", "234567", id="eprint-pubmed"),
    pytest.param("eprint = {345678}, eprinttype = {PMID}", "345678", id="eprint-pmid"),
    pytest.param("note = {Epub 2019.\nPMID: 456789}", "456789", id="note-line"),
    pytest.param("extra = {PMCID: PMC11\nPMID: 567890}", "567890", id="zotero-extra"),
    pytest.param("pmid = {123456}, note = {PMID: 999}", "123456", id="field-first"),
    pytest.param("eprint = {2101.00001}, eprinttype = {arxiv}", None, id="arxiv-eprint"),
    pytest.param("note = {PMCID: PMC12345}", None, id="pmcid-is-not-a-pmid"),
])
def test_pmid_wherever_reference_managers_put_it(db: Database, tmp_path: Path, fields: str,
                                                 pmid: str | None) -> None:
    path = write(tmp_path / "refs.bib", GOOD.replace("year = {2000}",
                                                     f"year = {{2000}}, {fields}"))
    load(db, Sources(references=path))
    assert _reference(db, "good2000")["pmid"] == pmid


@pytest.mark.parametrize("name", [pytest.param("missing.bib", id="missing-file"),
                                  pytest.param("", id="folder-not-file")])
def test_unreadable_path_is_refused(built: Database, tmp_path: Path, name: str) -> None:
    path = tmp_path / name if name else tmp_path
    problems = refuse(built, Sources(references=path))
    find(problems, Code.PARSE, file=path, line=None, key="")


def test_broken_or_unknown_encoding_says_how_to_convert(built: Database, tmp_path: Path) -> None:
    """UTF-8 characters and a byte that is not: a damaged file, not another encoding."""
    path = write(tmp_path / "refs.bib", "@article{a, title = {M\xfcller}}\n".encode()
                 + b"% \xfc\n")
    (problem,) = refuse(built, Sources(references=path))
    assert "not UTF-8" in problem.message and "iconv" in problem.message
    # a byte Windows-1252 leaves undefined: no Windows text either
    write(path, "@article{a, title = {Caf\xe9}}\n".encode("cp1252") + b"% \x81\n")
    (problem,) = refuse(built, Sources(references=path))
    assert problem.line == 1 and "iconv" in problem.message


TITLE = "Caf\xe9 \u2013 \u201cquoted\u201d"


@pytest.mark.parametrize(("name", "text", "encoding", "title", "said"), [
    pytest.param("refs.bib", "@article{a, author = {M\xfcller, J\xfcrgen}, year = {2019},\n"
                 f"  title = {{{TITLE}}}}}\n", "cp1252", TITLE, "Windows-1252 (cp1252",
                 id="windows-bibtex"),
    pytest.param("refs.bib", "@article{a, author = {M\xfcller, J\xfcrgen}, year = {2019},\n"
                 "  title = {Caf\xe9 \xbd}}\n", "latin-1", "Caf\xe9 \xbd",
                 "Windows-1252 (cp1252", id="latin1-bibtex"),
    pytest.param("refs.bib", "% -*- coding: latin-9-unix -*-\n@article{a, year = {2019},\n"
                 "  author = {M\xfcller, J\xfcrgen}, title = {\u0160ome \u20ac}}\n",
                 "iso8859-15", "\u0160ome \u20ac", "iso8859-15, as the file declares",
                 id="declared-latin9"),
    pytest.param("refs.ris", "TY  - JOUR\r\nID  - a\r\nAU  - M\xfcller, J\xfcrgen\r\n"
                 f"PY  - 2019\r\nTI  - {TITLE}\r\nER  - \r\n", "cp1252", TITLE,
                 "Windows-1252 (cp1252", id="endnote-ris"),
])
def test_a_windows_file_loads_with_a_warning_naming_the_encoding(
        db: Database, tmp_path: Path, name: str, text: str, encoding: str, title: str,
        said: str) -> None:
    path = write(tmp_path / name, text.encode(encoding))
    (report,) = load(db, Sources(references=path))
    assert report.added == 1
    line = next(n for n, row in enumerate(text.splitlines(), 1) if not row.isascii())
    warning = find(report.problems, Code.ENCODING, file=path, line=line, key="")
    assert warning.severity is Severity.WARNING and said in warning.message
    (ref,) = rows(db, "reference")
    assert ref["title"] == title
    assert [a["family"] for a in rows(db, "author")] == ["M\xfcller"]


def test_utf8_bom_is_fine(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", b"\xef\xbb\xbf" + GOOD.encode())
    (report,) = load(db, Sources(references=path))
    assert report.added == 1 and not report.problems


def test_every_error_of_a_file_is_reported_at_once(built: Database, tmp_path: Path) -> None:
    text = after_good(
        "@article{range1,\n  title = {T},\n  samplesize = {x}\n}\n\n"  # line 8
        "@article{ctrl2,\n  title = {A\x01}\n}\n\n"          # line 13, field line 14
        "@article{junk3,\n  title = {T}\n  journal = {J}\n}\n\n"  # 17, field 18
    ) + GOOD  # duplicate good2000 at line 22
    path = write(tmp_path / "refs.bib", text)
    problems = refuse(built, Sources(references=path))
    find(problems, Code.COUNT, file=path, line=8, key="range1")
    find(problems, Code.CONTROL_CHAR, file=path, line=14, key="ctrl2")
    find(problems, Code.PARSE, file=path, line=18, key="junk3")
    find(problems, Code.DUPLICATE_KEY, file=path, line=22, key="good2000")
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


# --- what a good file becomes ------------------------------------------------------------------


def _reference(db: Database, citekey: str) -> dict[str, object]:
    (row,) = rows(db, "reference", "citekey = :k", k=citekey)
    return row


def _authors(db: Database, citekey: str) -> list[dict[str, object]]:
    ref = _reference(db, citekey)
    found = rows(db, "author", "reference_id = :r", r=ref["id"])
    return sorted(found, key=lambda a: a["position"])


def test_latex_is_decoded_and_raw_text_kept(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", r"""@article{m1,
  author = {M{\"u}ller, J{\"o}rg and {\AA}str{\"o}m, Bj{\o}rn},
  title = {The {DNA} of {\"U}ber--Cells},
  journal = {J},
  year = {2001}
}
""")
    load(db, Sources(references=path))
    ref = _reference(db, "m1")
    assert ref["title"] == "The DNA of Über–Cells"
    assert json.loads(str(ref["raw_fields"]))["title"] == r"The {DNA} of {\"U}ber--Cells"
    assert [(a["family"], a["given"]) for a in _authors(db, "m1")] == [
        ("Müller", "Jörg"), ("Åström", "Bjørn")]


def test_macros_concatenation_and_months(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", """@string{jn = "Journal of"}
@String{SURG = jn # " Surgery"}
@article{s1,
  title = {T},
  journal = surg,
  year = 1999,
  note = "Seen in " # jan
}
""")
    load(db, Sources(references=path))
    ref = _reference(db, "s1")
    assert (ref["journal"], ref["year"], ref["note"]) == ("Journal of Surgery", 1999, "Seen in 1")


def test_crossref_is_inherited_before_validating(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", """@inproceedings{child1,
  author = {Kid, A},
  title = {A Paper},
  crossref = {proc1}
}

@proceedings{proc1,
  title = {Proceedings of Tests},
  year = {2003},
  editor = {Ed, E}
}
""")
    (report,) = load(db, Sources(references=path))
    child = _reference(db, "child1")
    assert (child["journal"], child["year"]) == ("Proceedings of Tests", 2003)
    assert not [p for p in report.problems if p.key == "child1"]


def test_missing_crossref_target_is_a_warning(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", GOOD.replace("year = {2000}", "crossref = {nobody}"))
    (report,) = load(db, Sources(references=path))
    find(report.problems, Code.CROSSREF, file=path, line=1, key="good2000")
    assert report.added == 1


def test_author_name_parts_in_order_and_et_al(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", """@article{n1,
  author = {van der Berg, Jr., Jan and Ludwig van Beethoven and Du Toit, D and others},
  title = {T}, journal = {J}, year = {2010}
}
""")
    load(db, Sources(references=path))
    parts = [(a["position"], a["prefix"], a["family"], a["suffix"], a["given"])
             for a in _authors(db, "n1")]
    assert parts == [(1, "van der", "Berg", "Jr.", "Jan"), (2, "van", "Beethoven", "", "Ludwig"),
                     (3, "", "Du Toit", "", "D")]
    assert _reference(db, "n1")["et_al"]


@pytest.mark.parametrize(("text", "year", "warned"), [
    pytest.param("2004", 2004, False, id="plain"),
    pytest.param("circa 2001", 2001, False, id="text-around-year"),
    pytest.param("in press", None, True, id="no-year"),
])
def test_raw_year_text_and_parsed_year(db: Database, tmp_path: Path, text: str,
                                       year: int | None, warned: bool) -> None:
    path = write(tmp_path / "refs.bib", GOOD.replace("{2000}", "{" + text + "}"))
    (report,) = load(db, Sources(references=path))
    ref = _reference(db, "good2000")
    assert (ref["year_text"], ref["year"]) == (text, year)
    assert bool(report.warnings) is warned


def test_set_and_xdata_blocks_are_not_references(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", GOOD + "\n@set{s1, entryset = {good2000}}\n"
                 "\n@xdata{x1, publisher = {P}}\n")
    (report,) = load(db, Sources(references=path))
    assert count(db, "reference") == 1
    assert report.read == 1
    assert {p.key for p in report.warnings} == {"s1", "x1"}


def test_missing_author_year_journal_warn_and_load(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{bare1,\n  title = {Only a Title}\n}\n")
    (report,) = load(db, Sources(references=path))
    (warning,) = report.problems
    assert warning.severity is Severity.WARNING and warning.code is Code.MISSING_FIELD
    assert all(word in warning.message for word in ("author", "year", "journal"))
    assert report.added == 1 and _reference(db, "bare1")["title"] == "Only a Title"


def test_nfd_and_nfc_are_stored_once_as_nfc(db: Database, tmp_path: Path) -> None:
    nfc_text = GOOD.replace("good2000", "müller2000").replace("Good, A", "Müller, Zoë")
    nfd = write(tmp_path / "refs.bib", unicodedata.normalize("NFD", nfc_text))
    load(db, Sources(references=nfd))
    (ref,) = rows(db, "reference")
    assert ref["citekey"] == "müller2000" == unicodedata.normalize("NFC", str(ref["citekey"]))
    assert _authors(db, "müller2000")[0]["family"] == "Müller"
    nfc = write(tmp_path / "refs.bib", nfc_text)  # same file name: same source
    (again,) = load(db, Sources(references=nfc))
    assert (again.unchanged, again.added, again.updated) == (1, 0, 0)
    assert count(db, "reference") == 1


def li2025_bibliography(path: Path) -> Sources:
    """`path` loaded as entries of li2025's bibliography (`--references li2025=PATH`): alone,
    a references file from elsewhere would go to the shared library."""
    return Sources(references=path, owners={path: "li2025"})


def test_key_differing_only_in_case_is_one_reference(built: Database, data_copy: Path) -> None:
    before = count(built, "reference")
    text = (DATA / "references.bib").read_text(encoding="utf-8")
    path = write(data_copy / "references.bib", text.replace("{nayyar2010,", "{Nayyar2010,"))
    load(built, Sources(references=path))  # the file it came from: li2025's bibliography
    assert count(built, "reference") == before
    assert rows(built, "reference", "citekey_norm = 'nayyar2010'")[0]["citekey"] == "Nayyar2010"


# --- skip-invalid, dry-run, idempotency, updates, history ---------------------------------------


def test_skip_invalid_stores_the_valid_and_lists_the_skipped(db: Database,
                                                            tmp_path: Path) -> None:
    text = after_good("@article{bad1,\n  title = {T}, samplesize = {x}\n}\n\n@article{bad2,"
                      "\n  title = {A\x02}\n}\n\n@article{ok3,\n  title = {Fine}, year = 2001, "
                      "author = {O, K}, "
                      "journal = {J}\n}\n\n@article{bad4,\n  title = {T}\n  year = 1\n}\n")
    path = write(tmp_path / "refs.bib", text)
    (report,) = load(db, Sources(references=path), skip_invalid=True)
    stored = {r["citekey"] for r in rows(db, "reference")}
    assert stored == {"good2000", "ok3"}
    assert report.skipped == ["bad1", "bad2", "bad4"]
    assert report.added + report.updated + report.unchanged + len(report.skipped) == report.read
    assert report.read == 5


def test_dry_run_reports_and_writes_nothing(built: Database, tmp_path: Path) -> None:
    text = (DATA / "references.bib").read_text(encoding="utf-8")
    path = write(tmp_path / "references.bib", text + "\n" + GOOD)
    before = snapshot(built)
    (report,) = load(built, li2025_bibliography(path), dry_run=True)
    assert (report.added, report.unchanged, report.written) == (1, 18, False)
    assert "dry run" in report.summary()
    assert snapshot(built) == before


def test_reload_changes_nothing_and_says_so(built: Database, data_copy: Path) -> None:
    before = snapshot(built)
    reports = load(built, Sources.from_folder(data_copy))
    after = snapshot(built)
    assert {k: v for k, v in after.items() if k != "load_event"} == {
        k: v for k, v in before.items() if k != "load_event"}
    for report in reports:
        assert (report.added, report.updated, report.removed) == (0, 0, 0), report.summary()
        assert report.summary().endswith("nothing changed")


def test_edited_title_updates_exactly_one(built: Database, data_copy: Path) -> None:
    bib = data_copy / "references.bib"
    text = bib.read_text(encoding="utf-8")
    write(bib, text.replace("Role of Surgery in the Multimodal", "Role of Surgery in Multimodal"))
    (report,) = load(built, Sources(references=bib))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 17)
    assert _reference(built, "cananzi2016")["title"].startswith("Role of Surgery in Multimodal")


def test_edited_authors_are_replaced_in_order(built: Database, data_copy: Path) -> None:
    bib = data_copy / "references.bib"
    text = bib.read_text(encoding="utf-8")
    write(bib, text.replace("Nayyar, R and Panda, S and Saini, A and others",
                            "Panda, S and Nayyar, R"))
    (report,) = load(built, Sources(references=bib))
    assert report.updated == 1
    assert [a["family"] for a in _authors(built, "nayyar2010")] == ["Panda", "Nayyar"]
    assert not _reference(built, "nayyar2010")["et_al"]


def test_added_then_removed_reference_is_reported_then_pruned(built: Database,
                                                              data_copy: Path) -> None:
    bib = data_copy / "references.bib"
    original = bib.read_text(encoding="utf-8")
    write(bib, original + "\n" + GOOD)
    (added,) = load(built, Sources(references=bib))
    assert (added.added, added.unchanged) == (1, 18)
    write(bib, original)
    (kept,) = load(built, Sources(references=bib))
    assert kept.missing == ["good2000"] and kept.removed == 0
    assert count(built, "reference") == 19
    (pruned,) = load(built, Sources(references=bib), prune=True)
    assert pruned.removed == 1 and count(built, "reference") == 18


def test_prune_keeps_a_cited_reference_with_a_warning(built: Database, data_copy: Path) -> None:
    bib = data_copy / "references.bib"
    text = bib.read_text(encoding="utf-8")
    start = text.index("@article{kobayashi2020")
    write(bib, text[:start])
    (report,) = load(built, Sources(references=bib), prune=True)
    assert report.missing == ["kobayashi2020"] and report.removed == 0
    warning = find(report.problems, Code.IN_USE, file=bib, line=None, key="kobayashi2020")
    assert warning.severity is Severity.WARNING
    assert rows(built, "reference", "citekey = 'kobayashi2020'")


def test_each_load_is_recorded_with_sha256_and_counts(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", GOOD + "\n@article{bare1, title = {T}}\n")
    load(db, Sources(references=path))
    load(db, Sources(references=path))
    events = sorted(rows(db, "load_event"), key=lambda e: e["id"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(e["kind"], e["path"], e["sha256"]) for e in events] == [
        ("references", str(path), digest)] * 2
    assert [(e["added"], e["unchanged"], e["warnings"]) for e in events] == [(2, 0, 1), (0, 2, 1)]


def test_refused_and_dry_loads_are_not_recorded(built: Database, tmp_path: Path) -> None:
    before = count(built, "load_event")
    load(built, Sources(references=write(tmp_path / "a.bib", GOOD)), dry_run=True)
    refuse(built, Sources(references=write(tmp_path / "b.bib", "")))
    assert count(built, "load_event") == before


# --- a citekey stored from another file; implausible values -----------------------------------


def _one_entry(key: str, **fields: str) -> str:
    body = "".join(f", {k}={{{v}}}" for k, v in fields.items())
    return f"@article{{{key},\n author={{X, Y}}, title={{T}}, journal={{J}}, year=2015{body}}}\n"


def test_case_only_difference_from_another_file_is_refused(built: Database,
                                                           tmp_path: Path) -> None:
    path = write(tmp_path / "case.bib", _one_entry("WACHTEL2015"))
    problems = refuse(built, li2025_bibliography(path))
    problem = find(problems, Code.DUPLICATE_KEY, file=path, line=1, key="WACHTEL2015")
    assert problem.is_error
    assert ("citekey 'WACHTEL2015' differs only in case from stored 'wachtel2015' (loaded "
            "from ") in problem.message and "references.bib)" in problem.message
    (report,) = load(built, li2025_bibliography(path), skip_invalid=True)
    assert report.skipped == ["WACHTEL2015"] and report.updated == 0
    assert rows(built, "reference", "citekey_norm = 'wachtel2015'")[0]["title"] != "T"


def test_same_citekey_from_another_file_updates_with_a_warning(built: Database,
                                                               tmp_path: Path) -> None:
    path = write(tmp_path / "other.bib", _one_entry("wachtel2015"))
    (report,) = load(built, li2025_bibliography(path))
    assert report.updated == 1
    (warning,) = [p for p in report.warnings if p.code is Code.DUPLICATE_KEY]
    assert warning.key == "wachtel2015" and "last loaded from " in warning.message
    assert "references.bib" in warning.message
    (ref,) = rows(built, "reference", "citekey_norm = 'wachtel2015'")
    assert (ref["title"], ref["source"]) == ("T", str(path.resolve()))
    (again,) = load(built, Sources(references=path))  # now its own file (li2025's): no warning
    assert again.unchanged == 1 and not again.warnings
    copy = write(tmp_path / "copy.bib", path.read_text(encoding="utf-8"))
    (moved,) = load(built, li2025_bibliography(copy))  # same content, new file: no fight
    assert moved.unchanged == 1 and not moved.warnings


def test_case_change_in_its_own_file_is_an_update_without_warning(built: Database,
                                                                  data_copy: Path) -> None:
    path = data_copy / "references.bib"
    path.write_text(path.read_text(encoding="utf-8").replace("{wachtel2015,", "{Wachtel2015,"),
                    encoding="utf-8")
    (report,) = load(built, Sources(references=path))
    assert report.updated == 1
    assert not [p for p in report.problems if p.code is Code.DUPLICATE_KEY]
    assert rows(built, "reference", "citekey_norm = 'wachtel2015'")[0]["citekey"] == "Wachtel2015"


@pytest.mark.parametrize(("fields", "code", "words"), [
    ({"pmid": "12ab"}, Code.MALFORMED_ID, "PMID '12ab'"),
    ({"doi": "11.1000/x"}, Code.MALFORMED_ID, "DOI '11.1000/x'"),
    ({"pages": "200-150"}, Code.BAD_VALUE, "page range '200-150'"),
    ({"pages": "1234-12"}, Code.BAD_VALUE, "page range '1234-12'"),
    ({"year": "2999"}, Code.BAD_VALUE, "year 2999"),
])
def test_implausible_values_load_with_a_warning(db: Database, tmp_path: Path,
                                               fields: dict[str, str], code: Code,
                                               words: str) -> None:
    text = _one_entry("odd2015", **fields)
    if "year" in fields:
        text = text.replace("year=2015, ", "")
    path = write(tmp_path / "odd.bib", text)
    (report,) = load(db, Sources(references=path))
    assert report.added == 1 and not report.errors
    problem = find(report.problems, code, file=path, line=1, key="odd2015")
    assert words in problem.message and not problem.is_error


@pytest.mark.parametrize("pages", ["100-150", "1234-45", "e123", "7", "S1-S9"])
def test_plausible_pages_do_not_warn(db: Database, tmp_path: Path, pages: str) -> None:
    path = write(tmp_path / "ok.bib", _one_entry("ok2015", pages=pages))
    (report,) = load(db, Sources(references=path))
    assert report.added == 1 and not report.warnings


def test_a_repeated_field_keeps_its_first_value(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "refs.bib", "@article{k, title = {First}, year = {2000},\n"
                 "  title = {Second}}\n")
    load(db, Sources(references=path))
    (ref,) = rows(db, "reference")
    assert ref["title"] == "First" and json.loads(ref["raw_fields"])["title"] == "First"


@pytest.mark.parametrize(("content", "key", "value"), [
    pytest.param("@misc{toc, title = {T}, year = {1990},\n  contents = \"One \\\\\n  Two \\\\\n"
                 "  Three\"}\n", "toc", "One \\\\\n  Two \\\\\n  Three",
                 id="tex-line-breaks-at-line-ends"),
    pytest.param("@misc{path, title = {T}, year = {1990}, file = {C:\\\\}}\n", "path",
                 "C:\\\\", id="backslash-before-a-brace"),
    pytest.param('@misc{de, title = {T}, year = {1991},\n  subtitle = "{f{\\"u}r '
                 'zeitgem{"a}{\\ss}}"}\n', "de", '{f{\\"u}r zeitgem{"a}{\\ss}}',
                 id="quote-inside-braces-of-a-quoted-value"),
])
def test_values_bibtexparser_splits_wrongly(db: Database, tmp_path: Path, content: str,
                                            key: str, value: str) -> None:
    """Values bibtexparser's splitter misreads (a `\\` before a line break or a brace, a `"`
    in braces inside quotes): read as BibTeX reads them, and the entry after keeps its line."""
    after = "@article{next, title = {Next}, year = {2001}}\n"
    path = write(tmp_path / "refs.bib", content + after)
    (report,) = load(db, Sources(references=path))
    assert report.added == 2 and not report.errors
    stored = {r["citekey"]: json.loads(r["raw_fields"]) for r in rows(db, "reference")}
    name = next(n for n in stored[key] if n not in ("title", "year"))
    assert stored[key][name] == value
    assert {p.line for p in report.problems if p.key == "next"} == {content.count("\n") + 1}


@pytest.mark.parametrize(("content", "entry_type"), [
    pytest.param("@FAKE-ENTRY\n  {fake, title = {T}, year = {1990}}\n", "fake-entry",
                 id="hyphen-in-type"),
    pytest.param("@COMMENTED{erm, title = {T}, year = {1993}}\n", "commented",
                 id="type-starting-comment"),
])
def test_entry_types_bibtexparser_misreads(db: Database, tmp_path: Path, content: str,
                                           entry_type: str) -> None:
    path = write(tmp_path / "refs.bib", content)
    (report,) = load(db, Sources(references=path))
    assert report.added == 1 and not report.errors
    (ref,) = rows(db, "reference")
    assert ref["entry_type"] == entry_type
    assert export(db, "references", fmt="bibtex").decode().startswith(f"@{entry_type}{{")


def _entry(key: str, doi: str, title: str) -> str:
    return (f"@article{{{key},\n  author = {{Roe, R}},\n  title = {{{title}}},\n"
            f"  year = {{2001}},\n  doi = {{{doi}}}\n}}\n")


def test_new_entries_get_the_ids_and_work_ids_the_database_would_give(db: Database,
                                                                      tmp_path: Path) -> None:
    """New entries' ids are worked out before the insert (their work ids go in with them):
    they follow the largest id in file order (SQLite's rowids, PostgreSQL's sequence), an
    entry sharing a DOI with a stored or an earlier one gets its work, and a row the database
    numbers itself later comes after them."""
    first = write(tmp_path / "a.bib", _entry("a1", "10.1/x", "X") + _entry("a2", "10.1/y", "Y"))
    load(db, Sources(references=[first]))
    second = write(tmp_path / "b.bib", _entry("b1", "10.1/z", "Z") + _entry("b2", "10.1/X", "X2")
                   + _entry("b3", "10.1/z", "Z again"))
    load(db, Sources(references=[second]))
    stored = {r["citekey"]: r for r in rows(db, "reference")}
    assert [stored[k]["id"] for k in ("a1", "a2", "b1", "b2", "b3")] == [1, 2, 3, 4, 5]
    assert {k: stored[k]["work_id"] for k in stored} == {"a1": 1, "a2": 2, "b1": 3, "b2": 1,
                                                          "b3": 3}
    # an edited entry keeps its id; its work follows its new DOI
    load(db, Sources(references=[write(second, second.read_text().replace("10.1/X", "10.1/y"))]))
    stored = {r["citekey"]: r for r in rows(db, "reference")}
    assert (stored["b2"]["id"], stored["b2"]["work_id"]) == (4, 2)
    with db.engine.begin() as conn:  # a row the database numbers itself comes after them
        conn.execute(sa.text("INSERT INTO reference (citekey, citekey_norm, entry_type, title, "
                             "title_norm, et_al, source, raw_fields, content_hash) VALUES "
                             "('c1', 'c1', 'article', 'C', 'c', false, '', '{}', '')"))
    third = write(tmp_path / "c.bib", _entry("d1", "10.1/d", "D"))
    load(db, Sources(references=[third]))
    ids = {r["citekey"]: r["id"] for r in rows(db, "reference")}
    # (PostgreSQL's upsert draws an id for the edited entry too, as it always did: a gap)
    assert 5 < ids["c1"] < ids["d1"] and stored["b3"]["work_id"] == 3


@pytest.mark.parametrize("order", ["pruned-file-first", "pruned-file-last"])
def test_an_entry_moved_between_two_files_of_one_load_is_kept(db: Database, tmp_path: Path,
                                                               order: str) -> None:
    """`--prune` with an entry moved from one file of the load to another: whichever file is
    read first, the entry ends up stored once, with its authors, its new source and a work
    of its own id (the second file sees what the first wrote or pruned)."""
    a, b = tmp_path / "a.bib", tmp_path / "b.bib"
    write(a, _entry("k1", "10.1/a", "A") + _entry("k2", "10.1/b", "B"))
    write(b, _entry("k3", "10.1/c", "C"))
    load(db, Sources(references=[a, b]))
    write(a, _entry("k1", "10.1/a", "A"))
    write(b, _entry("k3", "10.1/c", "C") + _entry("k2", "10.1/b", "B, edited"))
    files = [a, b] if order == "pruned-file-first" else [b, a]
    load(db, Sources(references=files), prune=True)
    stored = {r["citekey"]: r for r in rows(db, "reference")}
    assert set(stored) == {"k1", "k2", "k3"}
    k2 = stored["k2"]
    assert (k2["title"], Path(k2["source"]).name, k2["work_id"]) == ("B, edited", "b.bib",
                                                                    k2["id"])
    assert [r["family"] for r in rows(db, "author", "reference_id = :i", i=k2["id"])] == ["Roe"]
    assert count(db, "author") == 3
