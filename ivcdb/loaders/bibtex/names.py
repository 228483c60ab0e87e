"""BibTeX name lists split into people and name parts (family, given, prefix, suffix).

bibtexparser 2's `SplitNameParts`/`SeparateCoAuthors` middlewares do this character by
character; the two common plain forms (`Family, Given`, `Given Family`) are split here by a
regular expression instead, and every other name goes to bibtexparser's own functions
(tests/test_load_bibtex_names.py checks the two against each other).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ivcdb.loaders.bibtex.latex import decode_latex
from ivcdb.loaders.bibtex.values import delimiters
from ivcdb.text import fold

_AND_WORD = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")  # bibtexparser's white space


@dataclass(slots=True)
class AuthorName:
    family: str
    given: str = ""
    prefix: str = ""
    suffix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"family": self.family, "given": self.given, "prefix": self.prefix,
                "suffix": self.suffix}



@lru_cache(maxsize=65536)
def name_norm(given: str, prefix: str, family: str) -> str:
    """Folded "given prefix family", once per distinct name (names repeat across a library)."""
    return fold(" ".join(p for p in (given, prefix, family) if p))



@lru_cache(maxsize=65536)
def split_name(name: str) -> AuthorName:
    """One BibTeX name into family/given/prefix/suffix, decoded to Unicode."""
    parts = _plain_name_parts(name)
    if parts is None:
        from bibtexparser.middlewares.names import parse_single_name_into_parts

        found = parse_single_name_into_parts(name, strict=False)
        parts = (found.first, found.von, found.last, found.jr)
    first, von, last, jr = parts
    return AuthorName(
        family=decode_latex(" ".join(last)),
        given=decode_latex(" ".join(first)),
        prefix=decode_latex(" ".join(von)),
        suffix=decode_latex(" ".join(jr)),
    )


_NAME_SPACE = re.compile(r"[ ~\r\n\t]+")  # what separates the words of a BibTeX name
NameParts = tuple[list[str], list[str], list[str], list[str]]  # first, von, last, jr


def _plain_name_parts(name: str) -> NameParts | None:
    """bibtexparser's parts of `Family, Given` or `Given Family`, or None for anything else.

    Most names of a library are one of those two forms with no braces, escapes or lowercase
    (`von`) words, and then BibTeX's rules reduce to a split; bibtexparser's character-by-
    character parser, which `split_name` uses for every other name, costs ten times as much.
    (tests/test_load_bibtex_names.py checks the two against each other.)
    """
    if "{" in name or "}" in name or "\\" in name:
        return None
    sections = name.split(",")
    if len(sections) > 2:
        return None
    words = [[w for w in _NAME_SPACE.split(section) if w] for section in sections]
    if not all(words):
        return None  # an empty part (`Smith,`, `, Anna`) has rules of its own
    if len(words) == 2:  # von Last, First
        family, given = words
        if len(family) > 1 and any(map(_lowercase_word, family)):
            return None
        return given, [], family, []
    words_ = words[0]  # First von Last
    if len(words_) > 2 and any(map(_lowercase_word, words_)):
        return None
    return words_[:-1], [], words_[-1:], []


def _lowercase_word(word: str) -> bool:
    """Whether BibTeX counts a word without braces as lowercase: its first letter is not
    an uppercase one (a word without letters is neither)."""
    for char in word:
        if char.isalpha():
            return not char.isupper()
    return False


def _split_names(value: str) -> list[str]:
    """The names of a name list, split at ` and ` outside braces (bibtexparser's rule)."""
    value = value.strip(" \r\n\t")
    if not value:
        return []
    if "{" in value or "}" in value or "\\" in value:
        names = _AND_WORD.split(value) if _plain_braces(value) else None
        if names is None or any(n.count("{") != n.count("}") for n in names):
            # An escape where it matters, or an `and` inside braces: bibtexparser's own
            # splitter. (With balanced pieces every split was outside braces.)
            from bibtexparser.middlewares.names import split_multiple_persons_names

            return list(split_multiple_persons_names(value))
        return names
    return _AND_WORD.split(value)  # nothing to skip over: one regex split is the same


_NAME_DELIMITERS = re.compile(r"[{}\\]")


def _plain_braces(value: str) -> bool:
    """Whether braces balance, never close unopened, and every backslash is inside braces
    escaping something other than a brace or backslash: then splitting at ` and ` is
    bibtexparser's split, apart from `and`s inside braces (see `_split_names`)."""
    depth = 0
    for i, char, depth, _ in delimiters(value, _NAME_DELIMITERS):
        if depth < 0 or (char == "\\" and (depth == 0 or value[i + 1:i + 2] in (
                "", "{", "}", "\\"))):
            return False
    return depth == 0


def split_authors(value: str) -> tuple[list[AuthorName], bool]:
    """Authors in order, and whether the list ends in `and others` (et al.)."""
    names = [n.strip() for n in _split_names(value) if n.strip()]
    et_al = bool(names) and names[-1].lower() == "others"
    if et_al:
        names = names[:-1]
    return [split_name(n) for n in names], et_al

