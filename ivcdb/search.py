"""`query claims --text`: a word search over a claim's statement, outcome label and population.

The query is words (`age`), prefixes (`recur*`) and quoted phrases (`"recurs frequently"`),
all of which must occur; accents and case are ignored (both sides are folded in Python,
`ivcdb.text.search_words`), and nothing is stemmed, since SQLite and PostgreSQL stem
differently. `parse` checks the syntax and gives each engine its own form: an FTS5 query
(SQLite) or a tsquery (PostgreSQL), made only of folded letters and digits, so neither engine
can fail to read it. The order does not come from either engine's ranking (bm25 and ts_rank
disagree): `hits` counts the claim's words that match, in Python, the same on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivcdb.errors import UsageError
from ivcdb.text import clip, search_words

# a quoted phrase (its closing quote optional, to name it in the error), or a bare chunk
_CHUNK = re.compile(r'"(?P<phrase>[^"]*)(?P<close>"?)(?P<star>\*?)|(?P<bare>[^\s"]+)')


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must occur one after the other; the last may be a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts5(self) -> str:
        return '"' + " ".join(self.words) + '"' + (" *" if self.prefix else "")

    def tsquery(self) -> str:
        return " <-> ".join(self.words) + (":*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class Search:
    """A parsed `--text`: every term must match."""

    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """The FTS5 query (SQLite): quoted phrases side by side (AND)."""
        return " ".join(t.fts5() for t in self.terms)

    def tsquery(self) -> str:
        """The tsquery text (PostgreSQL, `to_tsquery('simple', ...)`): terms joined by &."""
        return " & ".join(t.tsquery() for t in self.terms)

    def hits(self, search_norm: str | None) -> int:
        """How many words of a claim's search text match a word or prefix of the query."""
        exact = {w for t in self.terms for w in (t.words[:-1] if t.prefix else t.words)}
        prefixes = tuple(t.words[-1] for t in self.terms if t.prefix)
        return sum(1 for w in (search_norm or "").split()
                   if w in exact or w.startswith(prefixes))


def parse(text: str) -> Search:
    """The search `text` asks for; `UsageError` naming the problem when it is not one."""
    terms: list[Term] = []
    for match in _CHUNK.finditer(text):  # the chunks cover every character but spaces
        if match["bare"] is not None:
            chunk = match["bare"]
            prefix = chunk.endswith("*")
            body = chunk[:-1] if prefix else chunk
            if "*" in body or (prefix and not search_words(body)):
                raise UsageError(f"--text: {clip(chunk)!r}: a * ends a word to match every "
                                 "word it begins (recur*); it stands nowhere else")
        else:
            if not match["close"]:
                raise UsageError(f"--text: unbalanced quote in {clip(text)!r}; close the "
                                 "phrase with a second \"")
            body, prefix = match["phrase"], bool(match["star"])
            if "*" in body:
                raise UsageError(f"--text: {clip(match.group(0))!r}: put a * after the "
                                 "closing quote to match a phrase's last word as a prefix")
        words = search_words(body)
        if words:
            terms.append(Term(tuple(words), prefix))
    if not terms:
        raise UsageError(f"--text: {clip(text)!r} has no word to search for (letters or "
                         "digits)")
    return Search(tuple(terms))
