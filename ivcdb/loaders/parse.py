"""The parse step of a load: every file read and checked on its own, without the database.

`start(sources)` begins reading (a large BibTeX file's second part on another core) before
the database libraries are even imported; `Reading.parse()` finishes and returns the
`ParsedSources` that `ivcdb.loaders.resolve` checks against the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ivcdb.loaders.bibtex import BibtexReading, ParsedBibliography
from ivcdb.loaders.files import sha256_file
from ivcdb.loaders.refformats import ReadReferences, start_references
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import key_problem

if TYPE_CHECKING:  # imported where they are read: a load's references file is begun first
    from ivcdb.loaders.assessments import ParsedAssessments
    from ivcdb.loaders.claims import ParsedClaims
    from ivcdb.loaders.findings import ParsedFindings
    from ivcdb.loaders.review import ReviewRecord
    from ivcdb.loaders.vocab import VocabFile

# The file a data folder holds for each kind of input, in load order: `build --data DIR` and
# `Sources.from_folder` read these names and nothing else (docs/format.md).
FOLDER_FILES = {
    "units": "units.csv",
    "measures": "measures.csv",
    "outcomes": "outcomes.csv",
    "references": "references.bib",
    "reviews": "review.toml",
    "claims": "claims.csv",
    "findings": "findings.csv",
}


@dataclass(slots=True)
class Sources:
    """The files of one load; any may be absent."""

    units: Path | None = None
    measures: Path | None = None
    outcomes: Path | None = None
    # references files (BibTeX, RIS, CSL-JSON, MEDLINE: `ivcdb.loaders.refformats`), read
    # in order, BibTeX files sharing their @string definitions (one path or several)
    references: Path | list[Path] | None = None
    reviews: list[Path] = field(default_factory=list)
    claims: list[Path] = field(default_factory=list)
    findings: list[Path] = field(default_factory=list)
    assessments: list[Path] = field(default_factory=list)  # verdicts by hand (`--assessments`)
    # references or findings file -> the review whose file it is (`--references ID=FILE`);
    # a file not named here belongs to the one review of the load, else to the library
    owners: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: Path) -> Sources:
        """The files of a data folder named as in `FOLDER_FILES`; any other file is ignored."""

        def one(kind: str) -> Path | None:
            path = folder / FOLDER_FILES[kind]
            return path if path.is_file() else None

        def listed(kind: str) -> list[Path]:
            path = one(kind)
            return [path] if path is not None else []

        return cls(
            units=one("units"),
            measures=one("measures"),
            outcomes=one("outcomes"),
            references=one("references"),
            reviews=listed("reviews"),
            claims=listed("claims"),
            findings=listed("findings"),
        )

    def bibtex_files(self) -> list[Path]:
        refs = self.references
        return [] if refs is None else [refs] if isinstance(refs, Path) else list(refs)

    def paths(self) -> list[Path]:
        singles = [self.units, self.measures, self.outcomes]
        return ([p for p in singles if p] + self.bibtex_files() + self.reviews + self.claims
                + self.findings + self.assessments)


def paired_path(text: str) -> tuple[Path, str | None]:
    """`ID=FILE` (a file of review ID) or a plain path: a name that is an existing file is
    always a path, whatever it holds."""
    path = Path(text)
    review, sep, rest = text.partition("=")
    if path.exists() or not sep or not review or "/" in review or key_problem(review):
        return path, None
    return Path(rest), review


@dataclass(slots=True)
class ParsedSources:
    """Every file of one load, parsed and checked on its own (not yet against the database)."""

    vocab: list[VocabFile] = field(default_factory=list)
    bibliographies: list[ParsedBibliography] = field(default_factory=list)
    reviews: list[ReviewRecord] = field(default_factory=list)
    claims: list[ParsedClaims] = field(default_factory=list)
    findings: list[ParsedFindings] = field(default_factory=list)
    assessments: list[ParsedAssessments] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # path -> SHA-256 of what was read
    # references or findings file -> the review the load pairs it with (see `_pair`)
    owners: dict[str, str] = field(default_factory=dict)
    pairing: list[Problem] = field(default_factory=list)  # files no review could be paired with

    def problems(self) -> list[Problem]:
        out: list[Problem] = list(self.pairing)
        for v in self.vocab:
            out += v.problems
        for bib in self.bibliographies:
            out += bib.problems
        for group in (self.reviews, self.claims, self.findings, self.assessments):
            for item in group:
                out += item.problems
        return out


@dataclass(slots=True)
class Reading:
    """The files of a load being read (see `start`); `parse()` finishes and returns them."""

    sources: Sources
    references: BibtexReading | ReadReferences | None

    def parse(self) -> ParsedSources:
        from ivcdb.loaders.assessments import parse_assessments
        from ivcdb.loaders.claims import parse_claims
        from ivcdb.loaders.findings import parse_findings
        from ivcdb.loaders.review import parse_review
        from ivcdb.loaders.vocab import parse_vocab

        with self:
            sources = self.sources
            parsed = ParsedSources()
            for kind in ("units", "measures", "outcomes"):
                path = getattr(sources, kind)
                if path is not None:
                    parsed.vocab.append(parse_vocab(kind, path))
            if self.references is not None:
                parsed.bibliographies.append(self.references.result())
            for path in sources.bibtex_files()[1:]:  # with the macros of the files before
                macros = parsed.bibliographies[-1].macros
                parsed.bibliographies.append(start_references(path, macros=macros).result())
            parsed.bibliographies = with_later_macros(parsed.bibliographies)
            parsed.reviews = [parse_review(p) for p in sources.reviews]
            parsed.claims = [parse_claims(p) for p in sources.claims]
            parsed.findings = [parse_findings(p) for p in sources.findings]
            parsed.assessments = [parse_assessments(p) for p in sources.assessments]
            _pair(sources, parsed)
            for path in sources.paths():
                try:
                    parsed.digests[str(path)] = sha256_file(path)
                except OSError:
                    pass  # unreadable: already a problem; nothing to record in the history
            return parsed

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *_: object) -> None:
        if self.references is not None:
            self.references.close()


def with_later_macros(bibliographies: list[ParsedBibliography]) -> list[ParsedBibliography]:
    """Each file that uses a macro only a later file of the load defines, read again with
    that definition (the first one after it), and a warning at its first use: the files
    are read in order, but `--references papers.bib --references abbrev.bib` still works."""
    out = list(bibliographies)
    for i, bib in enumerate(bibliographies):
        later: dict[str, tuple[str, str]] = {}  # name -> (value, file defining it)
        for name in bib.undefined:
            where = next((b for b in bibliographies[i + 1:] if name in b.macros), None)
            if where is not None:
                later[name] = (where.macros[name], where.path)
        if not later:
            continue
        before = bibliographies[i - 1].macros if i else {}
        macros = {**{name: value for name, (value, _) in later.items()}, **before}
        out[i] = start_references(bib.path, macros=macros).result()
        out[i].problems += [Problem(
            Code.UNDEFINED_MACRO, f"@string macro '{bib.undefined[name].name}' is used here "
            f"before {Path(path).name} defines it; resolved from that file (BibTeX would "
            "leave it empty: load that file first)", file=bib.path,
            line=bib.undefined[name].line, key=bib.undefined[name].key,
            severity=Severity.WARNING) for name, (_, path) in later.items()]
    return out


def _pair(sources: Sources, parsed: ParsedSources) -> None:
    """Give each references and findings file its review: the one named for it, else the one
    review of the load (with none, resolving against the database decides: the review whose
    file it was, else the library). With several reviews and no name, the file is refused:
    whose entries they are cannot be guessed."""
    codes = [r.code for r in parsed.reviews if r.code]
    paths = [Path(b.path) for b in parsed.bibliographies] + [Path(f.path) for f in
                                                               parsed.findings]
    for path in paths:
        named = sources.owners.get(path)
        if named is not None:
            parsed.owners[str(path)] = named
        elif len(parsed.reviews) == 1:
            parsed.owners[str(path)] = codes[0] if codes else ""
        elif parsed.reviews:
            parsed.pairing.append(Problem(
                Code.UNKNOWN_REVIEW, f"this load has {len(parsed.reviews)} reviews "
                f"({', '.join(codes)}): say whose file this is, e.g. "
                f"--references {codes[0] if codes else 'ID'}={path} (or --findings ID=FILE)",
                file=str(path)))


class EarlyReading:
    """A references file whose reading began before the CLI was imported (`ivcdb.launch`);
    `start` takes it when the load's first references file is that file."""

    current: EarlyReading | None = None

    def __init__(self, path: Path, reading: BibtexReading | ReadReferences) -> None:
        self.path = path
        self.reading: BibtexReading | ReadReferences | None = reading

    @classmethod
    def take(cls, path: Path) -> BibtexReading | ReadReferences | None:
        """The reading of `path` if one was begun for it (once); any other is dropped."""
        early, cls.current = cls.current, None
        if early is None or early.reading is None:
            return None
        reading, early.reading = early.reading, None
        if early.path == path:
            return reading
        reading.close()
        return None

    def close(self) -> None:
        if self.reading is not None:
            self.reading.close()
            self.reading = None


def start(sources: Sources) -> Reading:
    """Begin reading `sources`: a large BibTeX file's second part is read on another core
    from now on, while the caller goes on (opening the database, say) until `load`."""
    refs = sources.bibtex_files()
    if not refs:
        return Reading(sources, None)
    # begun by the console script before the CLI was imported, if it is this file
    return Reading(sources, EarlyReading.take(refs[0]) or start_references(refs[0]))


def parse(sources: Sources) -> ParsedSources:
    """Parse and check every file of `sources`, without the database."""
    return start(sources).parse()
