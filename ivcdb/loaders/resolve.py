"""Resolving parsed files against the database and each other, without changing them.

`resolve(session, parsed, skip_invalid=...)` returns a `Resolution`: the problems found (an
unknown code or reference, a citekey re-homed from another file), what the write must skip,
and each finding resolved to a citekey; `claim(resolution, record, path)` resolves one claim's
links (the claims are streamed: the writer resolves each as it reads it). The parsed records
are never edited: the write step reads them and the resolution side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlmodel import Session

from ivcdb import queries
from ivcdb.loaders.bibtex import ParsedBibliography
from ivcdb.loaders.citekeys import KeySource, assign_keys, shown_keys
from ivcdb.loaders.claims import ClaimRecord
from ivcdb.loaders.findings import FindingRecord
from ivcdb.loaders.parse import ParsedSources
from ivcdb.loaders.review import ReviewRecord
from ivcdb.loaders.vocab import (
    VocabFile,
    measure_link_problems,
    outcome_link_problems,
    vocabulary_changes,
)
from ivcdb.report import Code, Problem, Severity
from ivcdb.text import did_you_mean, key_fold

Entry = tuple[str, str]  # (scope: a review's id, or "" for the library; folded citekey)
LIBRARY = queries.LIBRARY


def source_path(path: str) -> str:
    """How a record's file is stored: its absolute path (what `--prune` compares)."""
    return str(Path(path).resolve())


@dataclass(slots=True)
class Resolution:
    """What resolving a load found; the database's state it was resolved against."""

    skip_invalid: bool
    units: set[str]
    measures: set[str]
    outcomes: set[str]
    # stored: (scope, citekey_norm) -> (id, hash, source); scope: a review's id, or ""
    # for the shared library
    references: dict[Entry, tuple[int, str, str]]
    review_ids: dict[str, int]
    citations: dict[str, dict[int, str]]  # review -> number -> folded citekey
    problems: list[Problem] = field(default_factory=list)
    known_refs: set[Entry] = field(default_factory=set)
    bad_refs: set[Entry] = field(default_factory=set)  # entries with an error
    skipped_refs: set[Entry] = field(default_factory=set)  # ... that this load skips
    skipped_outcomes: set[str] = field(default_factory=set)
    skipped_reviews: set[str] = field(default_factory=set)
    dropped_findings: set[str] = field(default_factory=set)
    finding_refs: dict[str, Entry] = field(default_factory=dict)  # finding -> its entry
    owners: dict[str, str] = field(default_factory=dict)  # file -> its review ("": library)
    # finding -> its id made from the citekey a reference number alone was resolved to
    finding_ids: dict[str, str] = field(default_factory=dict)
    # kind -> stored codes whose row the write leaves as it is (text differing, kept)
    kept_vocabulary: dict[str, set[str]] = field(default_factory=dict)

    def error(self, code: Code, message: str, path: str, line: int | None, key: str) -> None:
        self.problems.append(Problem(code, message, file=path, line=line, key=key))

    def owner(self, path: str) -> str:
        """The review whose bibliography or findings file `path` is ("": the library)."""
        return self.owners.get(path, LIBRARY)

    def locate(self, scope: str, key: str) -> Entry:
        """The entry a citekey names for `scope`: its own bibliography's, else the library's
        (the scope's own when neither has it, to be reported as unknown)."""
        norm = key_fold(key)
        if (scope, norm) not in self.known_refs and (LIBRARY, norm) in self.known_refs:
            return (LIBRARY, norm)
        return (scope, norm)

    def scope_of(self, key: str) -> str | None:
        """For a file of no review (the library's findings): the scope where a citekey is
        found, the library first, else the one bibliography that has it (None: several)."""
        norm = key_fold(key)
        if (LIBRARY, norm) in self.known_refs:
            return LIBRARY
        scopes = sorted(s for s, n in self.known_refs if n == norm)
        return scopes[0] if len(scopes) == 1 else None if scopes else LIBRARY

    def unknown_ref(self, key: str, scope: str) -> str:
        """Why a citekey cannot be linked from `scope`, or "" when it can."""
        entry = self.locate(scope, key)
        if entry in self.skipped_refs and entry not in self.references:
            return f"reference '{key}' has errors in this load and is skipped"
        if entry not in self.known_refs:
            visible = {n for s, n in self.known_refs if s in (scope, LIBRARY)}
            where = (f"the bibliography of review '{scope}' or the library" if scope
                     else "the library")
            return (f"reference '{key}' is in neither {where}, in the database or this load"
                    f"{did_you_mean(entry[1], visible)}")
        return ""


def resolve(session: Session, parsed: ParsedSources, *, skip_invalid: bool,
            update_vocabulary: bool = False) -> Resolution:
    """Check `parsed` against the database and the other files of the load (a stored code's
    meaning changes only with `update_vocabulary`)."""
    codes = queries.vocabulary_codes(session)
    references = queries.reference_index(session)
    res = Resolution(skip_invalid, set(codes["units"]), set(codes["measures"]),
                     set(codes["outcomes"]), references, queries.review_index(session),
                     queries.citation_numbers(session), known_refs=set(references))
    stored_outcomes = set(res.outcomes)
    for vocab in parsed.vocab:
        {"units": res.units, "measures": res.measures, "outcomes": res.outcomes}[
            vocab.kind].update(vocab.rows)
    for vocab in parsed.vocab:
        _governed(res, session, vocab, update=update_vocabulary)
        if vocab.kind == "outcomes":
            _outcomes(res, vocab, stored_outcomes)
        if vocab.kind == "measures":
            res.problems += measure_link_problems(vocab, res.measures)
    _pair(res, session, parsed)
    first_file: dict[Entry, tuple[str, int]] = {}  # entry -> (file, line) in this load
    for bib in parsed.bibliographies:
        _bibliography(res, session, bib, res.owner(bib.path), first_file)
    for review in parsed.reviews:
        _review(res, review)
    for skipped in res.skipped_reviews - set(res.review_ids):
        # a new review that is skipped stores no bibliography: nothing resolves to its entries
        entries = {e for e in res.known_refs if e[0] == skipped}
        res.known_refs -= entries
        res.skipped_refs |= entries
    for findings in parsed.findings:
        for finding in findings.records:
            _finding(res, finding, findings.path, res.owner(findings.path))
    return res


def keyed(session: Session, parsed: ParsedSources) -> ParsedSources:
    """`parsed` with the generated citekeys of each file (RIS, CSL-JSON, MEDLINE records
    without one) matched to its bibliography's stored entries: a record whose DOI or PMID a
    stored entry has keeps that entry's key, so a reloaded file whose order changed moves
    no key to another reference. Returns new values; `parsed` is left as it was."""
    if not any(b.generated for b in parsed.bibliographies):
        return parsed
    owners = queries.file_owners(session)
    bibliographies = []
    for bib in parsed.bibliographies:
        scope = parsed.owners.get(bib.path, owners.get(source_path(bib.path), LIBRARY))
        stored = queries.reference_keys_by_identity(session, scope) if bib.generated else {}
        bibliographies.append(_rekeyed(bib, stored) if stored else bib)
    return replace(parsed, bibliographies=bibliographies)


def _rekeyed(bib: ParsedBibliography, stored: dict[str, str]) -> ParsedBibliography:
    made = set(bib.generated)
    sources: list[KeySource] = [
        (None if r.citekey in made else r.citekey, r.authors[0].family if r.authors else "",
         r.year, r.doi, r.pmid) for r in bib.records]
    renamed = {r.citekey: key for r, key in zip(bib.records, assign_keys(sources, stored),
                                                  strict=True) if key != r.citekey}
    if not renamed:
        return bib
    records = [replace(r, citekey=renamed[r.citekey], key_norm=key_fold(renamed[r.citekey]))
               if r.citekey in renamed else r for r in bib.records]
    generated = [renamed.get(k, k) for k in bib.generated]
    listed = shown_keys(bib.generated)  # the parser's warning lists the keys it made
    problems = [replace(p, key=renamed[p.key]) if p.key in renamed
                else replace(p, message=p.message.replace(listed, shown_keys(generated)))
                if not p.key and p.code is Code.MISSING_FIELD and listed in p.message
                else p for p in bib.problems]
    entries = [(line, renamed.get(key, key)) for line, key in bib.entries]
    return replace(bib, records=records, problems=problems, entries=entries,
                   generated=generated)


def _governed(res: Resolution, session: Session, vocab: VocabFile, *, update: bool) -> None:
    """Codes are shared by every review: a file may add codes; a stored code's meaning
    changes only with `update` (else an error naming both definitions), and its differing
    label or description is kept as stored (a warning) unless `update`."""
    stored = queries.vocabulary_rows(session, queries.VOCABULARY_MODELS[vocab.kind])
    problems, kept = vocabulary_changes(vocab, stored, update=update)
    res.problems += problems
    res.kept_vocabulary[vocab.kind] = kept


def _pair(res: Resolution, session: Session, parsed: ParsedSources) -> None:
    """Each references and findings file's review: as the load pairs it, else the review
    whose file it was when last loaded (a reload), else the library."""
    res.owners = dict(parsed.owners)
    in_load = {r.code for r in parsed.reviews if r.code}
    for path, owner in parsed.owners.items():
        if owner not in in_load and owner not in res.review_ids:
            res.error(Code.UNKNOWN_REVIEW, f"review '{owner}' (named for this file) is neither "
                      f"loaded nor in this load{did_you_mean(owner, set(res.review_ids))}",
                      path, None, owner)
    unpaired = [b.path for b in parsed.bibliographies if b.path not in res.owners] + [
        f.path for f in parsed.findings if f.path not in res.owners]
    if unpaired:
        stored = queries.file_owners(session)
        for path in unpaired:
            res.owners[path] = stored.get(source_path(path), LIBRARY)


def _outcomes(res: Resolution, vocab: VocabFile, stored: set[str]) -> None:
    problems = outcome_link_problems(vocab, res.units, res.measures)
    res.problems += problems
    if res.skip_invalid:
        res.skipped_outcomes |= {p.key for p in problems}
        res.outcomes -= {p.key for p in problems} - stored


def _bibliography(res: Resolution, session: Session, bib: ParsedBibliography, scope: str,
                  first_file: dict[Entry, tuple[str, int]]) -> None:
    found = _rehomed(res, session, bib, scope) + _in_two_files(bib, scope, first_file)
    res.problems += found
    bad = {(scope, key_fold(p.key)) for p in bib.problems + found if p.is_error and p.key}
    res.bad_refs |= bad
    parsed = {(scope, r.key_norm) for r in bib.records}
    if res.skip_invalid:
        res.skipped_refs |= bad
        res.known_refs |= parsed - bad
    else:
        res.known_refs |= parsed | bad


def _in_two_files(bib: ParsedBibliography, scope: str,
                  first_file: dict[Entry, tuple[str, int]]) -> list[Problem]:
    """A citekey in two BibTeX files of one bibliography in one load: each would replace
    the other."""
    problems = []
    for record in bib.records:
        where = first_file.setdefault((scope, record.key_norm), (bib.path, record.line))
        if where[0] != bib.path:
            problems.append(Problem(
                Code.DUPLICATE_KEY, f"citekey '{record.citekey}' is also in {where[0]} (line "
                f"{where[1]}); keep one", file=bib.path, line=record.line, key=record.citekey))
    return problems


def _rehomed(res: Resolution, session: Session, bib: ParsedBibliography, scope: str
             ) -> list[Problem]:
    """Refuse a citekey that differs only in case from one of the same bibliography stored
    from another file: two spellings in two files would silently overwrite each other's
    entry. (The same spelling is an update, warned about when written; a case change within
    the file the entry came from is a plain update.)"""
    source = source_path(bib.path)
    others = {norm for (sc, norm), (_, _, src) in res.references.items()
              if sc == scope and src != source}
    clashes = [r for r in bib.records if r.key_norm in others]
    stored = queries.reference_citekeys(session, scope) if clashes else {}
    return [Problem(
        Code.DUPLICATE_KEY, f"citekey '{r.citekey}' differs only in case from stored "
        f"'{stored[r.key_norm]}' (loaded from {res.references[(scope, r.key_norm)][2]}); use "
        "the stored spelling", file=bib.path, line=r.line, key=r.citekey)
        for r in clashes if stored[r.key_norm] != r.citekey]


def _review(res: Resolution, review: ReviewRecord) -> None:
    if not review.code:
        return
    errors = any(p.is_error for p in review.problems)
    for number, key in review.citations.items():
        why = res.unknown_ref(key, review.code)
        if why:
            errors = True
            res.error(Code.UNKNOWN_REFERENCE, f"citation {number}: {why}", review.path,
                      review.lines.get(number), key)
    if errors and res.skip_invalid:
        res.skipped_reviews.add(review.code)  # its claims resolve against the database
        return
    res.citations[review.code] = {n: key_fold(k) for n, k in review.citations.items()}


def claim(res: Resolution, record: ClaimRecord, path: str) -> list[Entry] | None:
    """The entry each link of `record` cites, or None when it has an error (reported)."""
    before = len(res.problems)

    def fail(code: Code, message: str) -> None:
        res.error(code, message, path, record.line, record.claim_id)

    if not record.review:
        return None  # already an error of the file; nothing to resolve against
    if record.review not in res.citations and record.review not in res.review_ids:
        skipped = record.review in res.skipped_reviews
        fail(Code.UNKNOWN_REVIEW, f"review '{record.review}' has errors in this load and "
             "is skipped" if skipped else f"review '{record.review}' is not loaded; load "
             "its review file first (or in the same load)")
        return None  # its citation numbers cannot be checked either
    if record.outcome and record.outcome not in res.outcomes:
        fail(Code.UNKNOWN_OUTCOME, f"outcome '{record.outcome}' is not in the outcome "
             f"vocabulary{did_you_mean(record.outcome, res.outcomes)}")
    unit = record.values["unit_code"]
    if unit is not None and unit not in res.units:
        fail(Code.UNKNOWN_UNIT, f"unit '{unit}' is not in the unit vocabulary"
             f"{did_you_mean(unit, res.units)}")
    numbers = res.citations.get(record.review, {})
    keys: list[Entry] = []
    for link in record.links:
        by_number = numbers.get(link.number) if link.number is not None else None
        if link.number is not None and by_number is None:
            fail(Code.UNKNOWN_REFERENCE, f"review '{record.review}' has no reference "
                 f"number {link.number}")
        if link.key is not None:
            keys.append(res.locate(record.review, link.key))
            why = res.unknown_ref(link.key, record.review)
            if why:
                fail(Code.UNKNOWN_REFERENCE, why)
            elif by_number is None and key_fold(link.key) not in numbers.values():
                res.problems.append(Problem(
                    Code.NOT_IN_REVIEW, f"cites '{link.key}', which review "
                    f"'{record.review}' does not list: the claim will show no citation "
                    "number for it", file=path, line=record.line, key=record.claim_id,
                    severity=Severity.WARNING))
            elif by_number is not None and by_number != key_fold(link.key):
                fail(Code.UNKNOWN_REFERENCE, f"reference number {link.number} of review "
                     f"'{record.review}' is not '{link.key}'")
        elif by_number is not None:
            keys.append(res.locate(record.review, by_number))
            why = res.unknown_ref(by_number, record.review)
            if why:
                fail(Code.UNKNOWN_REFERENCE, f"reference number {link.number}: {why}")
        else:
            keys.append((LIBRARY, ""))
    if any(p.is_error for p in res.problems[before:]):
        return None
    return keys


def _finding(res: Resolution, finding: FindingRecord, path: str, scope: str) -> None:
    before = len(res.problems)
    if not scope and finding.reference_key is not None:
        found = res.scope_of(finding.reference_key)
        if found is None:
            res.error(Code.UNKNOWN_REFERENCE, f"citekey '{finding.reference_key}' is in "
                      "several reviews' bibliographies: name the review whose file this is "
                      "(--findings ID=FILE)", path, finding.line, finding.reference_key)
            res.dropped_findings.add(finding.finding_id)
            return
        scope = found
    elif not scope and len(res.citations) == 1:
        scope = next(iter(res.citations))
    key = _finding_reference(res, finding, path, scope)
    if len(res.problems) > before or key is None:
        res.dropped_findings.add(finding.finding_id)
    else:
        res.finding_refs[finding.finding_id] = res.locate(scope, key)
        if finding.reference_key is None:
            res.finding_ids[finding.finding_id] = finding.id_by_key(key)


def _finding_reference(res: Resolution, finding: FindingRecord, path: str, scope: str
                       ) -> str | None:
    """The citekey of the finding's source (given, or looked up by number in the numbered
    list of the file's review), if known."""
    key = finding.reference_key

    def fail(code: Code, message: str) -> None:
        res.error(code, message, path, finding.line, key or "")

    if key is None:
        numbers = res.citations.get(scope, {})
        if finding.reference_number in numbers:
            key = numbers[finding.reference_number]
        else:
            fail(Code.UNKNOWN_REFERENCE, "give reference_key: the reference number alone "
                 "is ambiguous or unknown" if not scope else
                 f"review '{scope}' has no reference number {finding.reference_number}")
            return None
    why = res.unknown_ref(key, scope)
    if why:
        fail(Code.UNKNOWN_REFERENCE, why)
    if finding.measure not in res.measures:
        fail(Code.UNKNOWN_MEASURE, f"measure '{finding.measure}' is not in the measure "
             f"vocabulary{did_you_mean(finding.measure, res.measures)}")
    unit = finding.values["unit_code"]
    if unit is not None and unit not in res.units:
        fail(Code.UNKNOWN_UNIT, f"unit '{unit}' is not in the unit vocabulary")
    return key
