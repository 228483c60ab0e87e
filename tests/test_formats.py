"""Output-format registries: every renderer exists, the CLI offers exactly the registry's
names, and an unknown name is a usage error naming the choices."""

from __future__ import annotations

import pytest

from ivcdb import formats
from ivcdb.errors import UsageError
from ivcdb.exports import reflist, tables, tabular
from ivcdb.exports.tables import EvidenceTable
from ivcdb.plots import FORMATS as CHART_FORMATS

FAMILIES = {"rows": formats.ROWS, "source check": formats.SOURCE_CHECK,
            "comparison": formats.COMPARISON, "pool": formats.POOL,
            "reference list": formats.REFERENCE_LIST, "csl style": formats.CSL_STYLE,
            "evidence table": formats.EVIDENCE_TABLE, "export": formats.EXPORT,
            "export kind": formats.EXPORT_KIND, "chart": formats.CHART,
            "citation": formats.CITATION}


@pytest.mark.parametrize("family", FAMILIES.values(), ids=list(FAMILIES))
def test_every_renderer_is_a_function(family: dict[str, formats.Renderer]) -> None:
    for name, entry in family.items():
        assert entry.name == name
        assert callable(entry.load())


def test_modules_read_their_registry() -> None:
    assert tables.FORMATS == tuple(formats.EVIDENCE_TABLE)
    assert tuple(tables.CITE_FORMATS) == tuple(formats.CITATION)
    assert reflist.FORMATS == tuple(formats.REFERENCE_LIST)
    assert tabular.FORMATS == tuple(formats.TABULAR)
    assert tabular.KINDS == tuple(formats.EXPORT_KIND)
    assert CHART_FORMATS == tuple(formats.CHART)
    assert set(formats.EXPORT) == set(formats.TABULAR) | set(formats.REFERENCE_FILES)
    assert [f for f, r in formats.EXPORT.items() if r.binary] == ["parquet", "xlsx"]
    assert [f for f, r in formats.EVIDENCE_TABLE.items() if r.binary] == ["docx"]
    assert [f for f, r in formats.REFERENCE_LIST.items() if r.binary] == ["docx"]


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown table format 'rtf'; choose one of "
                       "markdown, html, latex, csv, docx"):
        tables.render(EvidenceTable("x", "X", []), "rtf")
    with pytest.raises(UsageError, match="choose one of markdown, text, html, latex, docx"):
        reflist.render([], "rtf")


def test_dispatch_is_the_registrys_renderer() -> None:
    table = EvidenceTable("x", "X", [])
    for name in formats.EVIDENCE_TABLE:
        assert tables.render(table, name) == formats.EVIDENCE_TABLE[name].load()(table)
