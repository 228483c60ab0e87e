"""Writing parsed files: resolve them against the database, then write in one transaction.

`ivcdb.loaders.load` parses; this module holds what needs the database (and SQLAlchemy), so
reading the files can begin before those libraries are imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from ivcdb import queries, store
from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders import ParsedSources
from ivcdb.loaders.bibtex import AUTHOR_COLUMNS, ParsedBibliography, RefRecord
from ivcdb.loaders.claims import ClaimRecord, ParsedClaims
from ivcdb.loaders.findings import FindingRecord, ParsedFindings
from ivcdb.loaders.review import ReviewRecord
from ivcdb.loaders.vocab import VocabFile, check_outcome_links
from ivcdb.models import Claim as ClaimModel
from ivcdb.models import Measure, Outcome, Review, SourceFinding, Unit
from ivcdb.models import Reference as ReferenceModel
from ivcdb.progress import track
from ivcdb.report import Code, LoadReport, Problem, Severity
from ivcdb.text import did_you_mean, key_fold


def write(db: Database, parsed: ParsedSources, *, dry_run: bool, skip_invalid: bool,
          prune: bool) -> list[LoadReport]:
    """Check `parsed` against the database and write it in one transaction (see `load`)."""
    with db.write() as session:
        loader = _Loader(session, parsed, prune=prune, skip_invalid=skip_invalid)
        loader.resolve()
        problems = sorted(parsed.problems() + loader.problems, key=_problem_order)
        if any(p.is_error for p in problems) and not skip_invalid:
            raise LoadRefused(problems)
        reports = loader.apply(problems)
        if dry_run:
            session.rollback()
        else:
            for report in reports:
                if report.path in parsed.digests:
                    store.record_load(session, report, parsed.digests[report.path])
    for report in reports:
        report.written = not dry_run
    return reports


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.key, p.code.value)


class _Loader:
    """Resolves parsed files against the database, then writes them (one session)."""

    def __init__(self, session: Session, parsed: ParsedSources, *, prune: bool,
                 skip_invalid: bool = False) -> None:
        self.session = session
        self.parsed = parsed
        self.prune = prune
        # With skip_invalid, what is skipped must not be relied on by what is stored; without
        # it nothing is written, so dependants of a broken record are not reported again.
        self.skip_invalid = skip_invalid
        self.problems: list[Problem] = []
        codes = queries.vocabulary_codes(session)
        self.units, self.measures, self.outcomes = (
            codes["units"], codes["measures"], codes["outcomes"])
        self.db_outcomes = set(self.outcomes)
        self.references = queries.reference_index(session)
        self.review_ids = queries.review_index(session)
        self.citations = queries.citation_numbers(session)
        self.ref_ids: dict[str, int] = {}
        self.known_refs: set[str] = set(self.references)
        self.skipped_refs: set[str] = set()  # citekey_norms of references this load skips
        self.skipped_reviews: set[str] = set()
        self.dropped_claims: set[str] = set()
        self.dropped_findings: set[str] = set()

    # -- resolve ---------------------------------------------------------------------------

    def resolve(self) -> None:
        for vocab in self.parsed.vocab:
            target = {"units": self.units, "measures": self.measures,
                      "outcomes": self.outcomes}[vocab.kind]
            target.update(vocab.rows)
        for vocab in self.parsed.vocab:
            if vocab.kind == "outcomes":
                self._resolve_outcomes(vocab)
        if self.parsed.bibliography is not None:
            self._resolve_bibliography(self.parsed.bibliography)
        for review in self.parsed.reviews:
            self._resolve_review(review)
        for claims in self.parsed.claims:
            for record in claims.records:
                self._resolve_claim(record, claims.path)
            for record in claims.invalid:  # reported, never written
                self._resolve_claim(record, claims.path)
                self.dropped_claims.add(record.claim_id)
        for findings in self.parsed.findings:
            for finding in findings.records:
                self._resolve_finding(finding, findings.path)

    def _error(self, code: Code, message: str, path: str, line: int | None, key: str) -> None:
        self.problems.append(Problem(code, message, file=path, line=line, key=key))

    def _resolve_outcomes(self, vocab: VocabFile) -> None:
        before = len(vocab.problems)
        check_outcome_links(vocab, self.units, self.measures)
        if self.skip_invalid:
            for problem in vocab.problems[before:]:
                vocab.rows.pop(problem.key, None)
                if problem.key not in self.db_outcomes:
                    self.outcomes.discard(problem.key)

    def _resolve_bibliography(self, bib: ParsedBibliography) -> None:
        self._check_rehomed(bib)
        bad = {key_fold(p.key) for p in bib.problems if p.is_error and p.key}
        parsed = {r.key_norm for r in bib.records}
        if self.skip_invalid:
            self.skipped_refs = bad
            self.known_refs |= parsed - bad
        else:
            self.known_refs |= parsed | bad

    def _check_rehomed(self, bib: ParsedBibliography) -> None:
        """Refuse a citekey that differs only in case from one stored from another file: two
        spellings in two files would silently overwrite each other's reference. (The same
        spelling is an update, warned about when written; a case change within the file the
        reference came from is a plain update.)"""
        source = Path(bib.path).name
        others = {norm for norm, (_, _, src) in self.references.items() if src != source}
        clashes = [r for r in bib.records if r.key_norm in others]
        stored = queries.reference_citekeys(self.session) if clashes else {}
        for record in clashes:
            old = stored[record.key_norm]
            if old != record.citekey:
                bib.problems.append(Problem(
                    Code.DUPLICATE_KEY, f"citekey '{record.citekey}' differs only in case from "
                    f"stored '{old}' (loaded from {self.references[record.key_norm][2]}); use "
                    "the stored spelling", file=bib.path, line=record.line, key=record.citekey))

    def _unknown_ref(self, key: str) -> str:
        """Why a citekey cannot be linked, or "" when it can."""
        norm = key_fold(key)
        if norm in self.skipped_refs and norm not in self.references:
            return f"reference '{key}' has errors in this load and is skipped"
        if norm not in self.known_refs:
            return (f"reference '{key}' is neither in the database nor in this load"
                    f"{did_you_mean(norm, self.known_refs)}")
        return ""

    def _resolve_review(self, review: ReviewRecord) -> None:
        if not review.code:
            return
        errors = any(p.is_error for p in review.problems)
        for number, key in review.citations.items():
            why = self._unknown_ref(key)
            if why:
                errors = True
                self._error(Code.UNKNOWN_REFERENCE, f"citation {number}: {why}", review.path,
                            review.lines.get(number), key)
        if errors and self.skip_invalid:
            self.skipped_reviews.add(review.code)  # its claims resolve against the database
            return
        self.citations[review.code] = {n: key_fold(k) for n, k in review.citations.items()}

    def _resolve_claim(self, record: ClaimRecord, path: str) -> None:
        before = len(self.problems)

        def fail(code: Code, message: str) -> None:
            self._error(code, message, path, record.line, record.claim_id)

        if not record.review:
            return  # already an error of the file; nothing to resolve against
        if record.review not in self.citations and record.review not in self.review_ids:
            skipped = record.review in self.skipped_reviews
            fail(Code.UNKNOWN_REVIEW, f"review '{record.review}' has errors in this load and "
                 "is skipped" if skipped else f"review '{record.review}' is not loaded; load "
                 "its review file first (or in the same load)")
            self.dropped_claims.add(record.claim_id)
            return  # its citation numbers cannot be checked either
        if record.outcome and record.outcome not in self.outcomes:
            fail(Code.UNKNOWN_OUTCOME, f"outcome '{record.outcome}' is not in the outcome "
                 f"vocabulary{did_you_mean(record.outcome, self.outcomes)}")
        unit = record.values["unit_code"]
        if unit is not None and unit not in self.units:
            fail(Code.UNKNOWN_UNIT, f"unit '{unit}' is not in the unit vocabulary"
                 f"{did_you_mean(unit, self.units)}")
        numbers = self.citations.get(record.review, {})
        for link in record.links:
            by_number = numbers.get(link.number) if link.number is not None else None
            if link.number is not None and by_number is None:
                fail(Code.UNKNOWN_REFERENCE, f"review '{record.review}' has no reference "
                     f"number {link.number}")
            if link.key is not None:
                why = self._unknown_ref(link.key)
                if why:
                    fail(Code.UNKNOWN_REFERENCE, why)
                elif by_number is None and key_fold(link.key) not in numbers.values():
                    self.problems.append(Problem(
                        Code.NOT_IN_REVIEW, f"cites '{link.key}', which review "
                        f"'{record.review}' does not list: the claim will show no citation "
                        "number for it", file=path, line=record.line, key=record.claim_id,
                        severity=Severity.WARNING))
                elif by_number is not None and by_number != key_fold(link.key):
                    fail(Code.UNKNOWN_REFERENCE, f"reference number {link.number} of review "
                         f"'{record.review}' is not '{link.key}'")
            elif by_number is not None:
                why = self._unknown_ref(by_number)
                if why:
                    fail(Code.UNKNOWN_REFERENCE, f"reference number {link.number}: {why}")
                link.key = by_number
        if any(p.is_error for p in self.problems[before:]):
            self.dropped_claims.add(record.claim_id)

    def _resolve_finding(self, finding: FindingRecord, path: str) -> None:
        before = len(self.problems)
        self._check_finding(finding, path)
        if len(self.problems) > before:
            self.dropped_findings.add(finding.finding_id)

    def _check_finding(self, finding: FindingRecord, path: str) -> None:
        def fail(code: Code, message: str) -> None:
            self._error(code, message, path, finding.line, finding.reference_key or "")

        key = finding.reference_key
        if key is None:
            reviews = list(self.citations.values())
            if len(reviews) == 1 and finding.reference_number in reviews[0]:
                key = reviews[0][finding.reference_number]
                finding.named_by_number(key)
            else:
                fail(Code.UNKNOWN_REFERENCE, "give reference_key: the reference number alone "
                     "is ambiguous or unknown")
                return
        why = self._unknown_ref(key)
        if why:
            fail(Code.UNKNOWN_REFERENCE, why)
        if finding.measure not in self.measures:
            fail(Code.UNKNOWN_MEASURE, f"measure '{finding.measure}' is not in the measure "
                 f"vocabulary{did_you_mean(finding.measure, self.measures)}")
        unit = finding.values["unit_code"]
        if unit is not None and unit not in self.units:
            fail(Code.UNKNOWN_UNIT, f"unit '{unit}' is not in the unit vocabulary")

    # -- apply -----------------------------------------------------------------------------

    def apply(self, problems: list[Problem]) -> list[LoadReport]:
        errors_by_file: dict[str, set[str]] = {}
        for p in problems:
            if p.is_error:
                errors_by_file.setdefault(p.file, set()).add(p.key or f"line {p.line}")
        reports: list[LoadReport] = []

        def report(kind: str, path: str, read: int) -> LoadReport:
            r = LoadReport(kind, path, read=read,
                           problems=[p for p in problems if p.file == path],
                           skipped=sorted(errors_by_file.get(path, set())))
            reports.append(r)
            return r

        order = {"units": 0, "measures": 1, "outcomes": 2}
        for vocab in sorted(self.parsed.vocab, key=lambda v: order[v.kind]):
            self._apply_vocab(vocab, report(vocab.kind, vocab.path, vocab.count))
        bib = self.parsed.bibliography
        ids = None
        if bib is not None:
            ids = self._apply_references(bib, report("references", bib.path, bib.blocks))
        self.ref_ids = ids if ids is not None else queries.reference_ids(self.session)
        for review in self.parsed.reviews:
            # One review per file: read 1; with any error it is skipped whole.
            if review.code and review.path not in errors_by_file:
                self._apply_review(review, report("review", review.path, 1))
            else:
                skipped = report("review", review.path, 1)
                skipped.skipped = [review.code or review.path]
        for claims in self.parsed.claims:
            self._apply_claims(claims, report("claims", claims.path, claims.count))
        for findings in self.parsed.findings:
            self._apply_findings(findings, report("findings", findings.path, findings.count))
        for r in reports:
            r.problems.sort(key=_problem_order)
        return reports

    def _apply_vocab(self, vocab: VocabFile, report: LoadReport) -> None:
        models: dict[str, type[SQLModel]] = {"units": Unit, "measures": Measure,
                                              "outcomes": Outcome}
        model = models[vocab.kind]
        existing = queries.vocabulary_rows(self.session, model)
        changed = []
        for code, row in vocab.rows.items():
            old = existing.get(code)
            if old is None:
                report.added += 1
            elif any(old.get(k) != v for k, v in row.items()):
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            changed.append(row)
        store.upsert(self.session, model, changed, ["code"])
        in_file = set(vocab.rows) | {p.key for p in vocab.problems if p.key}
        report.missing = sorted(set(existing) - in_file)
        if self._may_prune(report):
            in_use = queries.vocabulary_in_use(self.session, vocab.kind)
            removable = [c for c in report.missing if c not in in_use]
            report.removed = store.delete_where_in(self.session, model, "code", removable)
            self._warn_in_use(report, [c for c in report.missing if c in in_use],
                              "used by an outcome, claim or finding")

    def _may_prune(self, report: LoadReport) -> bool:
        """Prune only from a file whose every record was read (a skipped one is not missing)
        and that has any: a file with none would remove everything it ever loaded."""
        if not (self.prune and report.missing):
            return False
        if report.skipped:
            report.problems.append(Problem(
                Code.IN_USE, "--prune ignored for this file: it has skipped (invalid) records; "
                "fix them and load again", file=report.path, severity=Severity.WARNING))
            return False
        if any(p.code is Code.EMPTY for p in report.problems):  # emptied by mistake?
            report.problems.append(Problem(
                Code.IN_USE, "--prune ignored for this file: it has no records",
                file=report.path, severity=Severity.WARNING))
            return False
        return True

    @staticmethod
    def _warn_in_use(report: LoadReport, keys: list[str], why: str) -> None:
        report.problems += [Problem(Code.IN_USE, f"not in the file but {why}; kept",
                                    file=report.path, key=k, severity=Severity.WARNING)
                            for k in keys]

    def _apply_references(self, bib: ParsedBibliography, report: LoadReport
                          ) -> dict[str, int] | None:
        """Write the references; the reference ids afterwards, when it had to read them."""
        source = Path(bib.path).name
        bad = {key_fold(p.key) for p in bib.problems if p.is_error and p.key}
        records = [r for r in bib.records if r.key_norm not in bad]
        rows: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        todo: list[RefRecord] = []
        for record in records:
            row = record.row()
            row["source"] = source
            old = self.references.get(record.key_norm)
            if not _count(report, old, row):
                continue
            todo.append(record)
            if old is None:
                added.append(row)
                continue
            if old[2] != source and old[1] != row["content_hash"]:
                report.problems.append(Problem(
                    Code.DUPLICATE_KEY, f"reference was last loaded from {old[2]}; this load "
                    f"replaces it with the entry of {source} (two files with one citekey?)",
                    file=bib.path, line=record.line, key=record.citekey,
                    severity=Severity.WARNING))
            rows.append(row)
        store.insert_rows(self.session, ReferenceModel, added)
        store.upsert(self.session, ReferenceModel, rows, ["citekey_norm"])
        ids = None
        if todo:
            ids = queries.reference_ids(self.session)
            updated_ids = [ids[r.key_norm] for r in todo if r.key_norm in self.references]
            store.replace_authors(
                self.session, AUTHOR_COLUMNS,
                [(ids[r.key_norm], *values) for r in todo for values in r.author_values()],
                had_authors=updated_ids)
        in_file = {r.key_norm for r in bib.records} | bad
        missing = [norm for norm, (_, _, src) in self.references.items()
                   if src == source and norm not in in_file]
        citekeys = queries.reference_citekeys(self.session) if missing else {}
        report.missing = sorted(citekeys.get(n, n) for n in missing)
        if self._may_prune(report):
            in_use = queries.referenced_ids(self.session)
            removable = [self.references[n][0] for n in missing
                         if self.references[n][0] not in in_use]
            kept = [n for n in missing if self.references[n][0] in in_use]
            report.removed = store.prune_references(self.session, removable)
            self._warn_in_use(report, [citekeys.get(n, n) for n in kept],
                              "cited by a review, claim or finding")
        report.problems += [Problem(Code.BAD_VALUE, "@set/@xdata block: not a reference, "
                                    "not stored", file=bib.path, line=line, key=k,
                                    severity=Severity.WARNING) for k, line in bib.not_references]
        return None if report.removed else ids

    def _apply_review(self, review: ReviewRecord, report: LoadReport) -> None:
        existing = queries.review_rows(self.session).get(review.code)
        row = review.row()
        old_numbers = queries.citation_numbers(self.session).get(review.code, {})
        new_numbers = {n: key_fold(k) for n, k in review.citations.items()}
        same_review = existing is not None and all(existing.get(k) == v for k, v in row.items())
        if same_review and old_numbers == new_numbers:
            report.unchanged += 1
            return
        if existing is None:
            report.added += 1
        else:
            report.updated += 1
        store.upsert(self.session, Review, [row], ["code"])
        review_id = queries.review_index(self.session)[review.code]
        self.review_ids[review.code] = review_id
        if old_numbers != new_numbers:
            store.replace_citations(self.session, review_id, [
                {"review_id": review_id, "reference_id": self.ref_ids[norm], "number": n}
                for n, norm in sorted(new_numbers.items())])

    def _apply_claims(self, claims: ParsedClaims, report: LoadReport) -> None:
        source = Path(claims.path).name
        existing = queries.claim_index(self.session)
        self.review_ids = queries.review_index(self.session)
        rows: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        links, todo = [], []
        valid = [r for r in claims.records if r.claim_id not in self.dropped_claims]
        for record in track(valid, f"comparing {source}"):
            link_keys = [(key_fold(link.key or ""), link.role) for link in record.links]
            row = record.row(self.review_ids[record.review], link_keys)
            row["source"] = source
            old = existing.get(record.claim_id)
            if not _count(report, old, row):
                continue
            (rows if old is not None else added).append(row)
            todo.append(record)
        store.insert_rows(self.session, ClaimModel, added)
        store.upsert(self.session, ClaimModel, rows, ["claim_id"])
        if todo:
            ids = queries.claim_ids(self.session)
            for record in todo:
                seen: set[int] = set()
                for position, link in enumerate(record.links, 1):
                    ref_id = self.ref_ids[key_fold(link.key or "")]
                    if ref_id in seen:
                        continue
                    seen.add(ref_id)
                    links.append({"claim_id": ids[record.claim_id], "reference_id": ref_id,
                                  "role": link.role, "position": position})
            store.replace_claim_links(
                self.session, [ids[r.claim_id] for r in todo if r.claim_id in existing], links)
        in_file = ({r.claim_id for r in claims.records} | self.dropped_claims
                   | {p.key for p in claims.problems if p.key})
        missing = sorted(cid for cid, (_, _, src) in existing.items()
                         if src == source and cid not in in_file)
        report.missing = missing
        if self._may_prune(report):
            report.removed = store.prune_claims(self.session, [existing[c][0] for c in missing])

    def _apply_findings(self, findings: ParsedFindings, report: LoadReport) -> None:
        source = Path(findings.path).name
        existing = queries.finding_index(self.session)
        rows = []
        for record in findings.records:
            if record.finding_id in self.dropped_findings or record.reference_key is None:
                continue
            row = record.row(self.ref_ids[key_fold(record.reference_key)])
            row["source"] = source
            if not _count(report, existing.get(record.finding_id), row):
                continue
            rows.append(row)
        store.upsert(self.session, SourceFinding, rows, ["finding_id"])
        in_file = {r.finding_id for r in findings.records}
        missing = sorted(fid for fid, (_, _, src) in existing.items()
                         if src == source and fid not in in_file)
        report.missing = missing
        if self._may_prune(report):
            report.removed = store.prune_findings(self.session,
                                                  [existing[f][0] for f in missing])


def _count(report: LoadReport, old: tuple[int, str, str] | None, row: dict[str, Any]) -> bool:
    """Count `row` as added, updated or unchanged; True when it must be written.

    `old` is the stored (id, content hash, source file). A row whose content is unchanged but
    that now comes from another file (an export saved under a new name) is still unchanged;
    it is written only to record its new source, so later "missing" reports follow the file.
    """
    if old is None:
        report.added += 1
        return True
    if old[1] == row["content_hash"]:
        report.unchanged += 1
        return bool(old[2] != row["source"])
    report.updated += 1
    return True
