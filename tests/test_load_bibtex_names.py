"""The fast paths for author lists and names give exactly bibtexparser's results.

`_split_names` splits most author lists with one regular expression and `split_name` parses
the common name forms itself; both must agree with bibtexparser's character-by-character
parsers on every input, including the odd ones (braces, escapes, `von` words, stray commas,
non-ASCII letters and spaces), which the strategies below draw from.
"""

from __future__ import annotations

import os

import pytest
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ivcdb.loaders import bibtex
from ivcdb.loaders.bibtex import names

EXAMPLES = int(os.environ.get("IVCDB_HYPOTHESIS_EXAMPLES", "25")) * 40
WORDS = ["Anna", "M{\\\"u}ller", "van", "der", "Berg", "Jr", "and", "AND", "others", "{Simon",
         "Schuster}", "{IEEE}", "\\'Eva", "{\\'E}va", "Garc{\\'\\i}a", "\\{", "\\}", "\\\\",
         "é", "Éva", "ßtraße", "1st", "d'Ors", "De", "la", "{and}", "X.", "Ø", "李", "ǅ"]
SEPARATORS = [" ", "  ", " and ", " AND ", ", ", ",", "~", "\t", "\n", " and\n", "\u00a0", "{",
              "}", "\\", " and{", "} and "]


def _bibtexparser_parts(name: str) -> bibtex.NameParts:
    parts = parse_single_name_into_parts(name, strict=False)
    return (parts.first, parts.von, parts.last, parts.jr)


texts = st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(SEPARATORS),
                           st.text(alphabet="aAnNdD ,{}\\~é", max_size=6)),
                 max_size=12).map("".join)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(texts)
def test_author_lists_split_as_bibtexparser_splits_them(value: str) -> None:
    assert names._split_names(value) == split_multiple_persons_names(value)


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(texts)
def test_names_parse_as_bibtexparser_parses_them(name: str) -> None:
    plain = names._plain_name_parts(name)
    if plain is not None:
        assert plain == _bibtexparser_parts(name)


@pytest.mark.parametrize(("name", "taken"), [
    ("Müller, Anna Maria", True),
    ("Anna Maria Müller", True),
    ("Brinch Hansen, Per", True),
    ("van Beethoven, Ludwig", False),  # a von part: bibtexparser's rules
    ("Ludwig van Beethoven", False),
    ("van Beethoven", True),  # two words are always first and last
    ("M{\\\"u}ller, Anna", False),
    ("Beeblebrox, IV, Zaphod", False),
    ("Smith,", False),
    ("", False),
])
def test_the_fast_path_takes_the_common_forms(name: str, taken: bool) -> None:
    plain = names._plain_name_parts(name)
    assert (plain is not None) is taken
    assert bibtex.split_name(name) == bibtex.AuthorName(
        *(bibtex.decode_latex(" ".join(part)) for part in (
            _bibtexparser_parts(name)[2], _bibtexparser_parts(name)[0],
            _bibtexparser_parts(name)[1], _bibtexparser_parts(name)[3])))


@pytest.mark.parametrize("value", [
    "M{\\\"u}ller, Anna and {Simon and Schuster} and Garc{\\'i}a, Eva",
    "A and \\'Eva Smith",  # an escape at the start of a name: bibtexparser drops it
    "{Unbalanced and B",
    "A} and B",
    "A and {\\}} and B",
])
def test_author_lists_with_braces_and_escapes(value: str) -> None:
    assert names._split_names(value) == split_multiple_persons_names(value)
