"""The write step of a load: parsed files and their resolution written in one transaction.

`ivcdb.loaders.parse` reads, `ivcdb.loaders.resolve` checks against the database (both
without changing what they are given); this module writes. It and `resolve` hold what needs
the database (and SQLAlchemy), so reading the files can begin before those are imported.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from ivcdb import queries, store
from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders.bibtex import AUTHOR_COLUMNS, ParsedBibliography, RefRecord
from ivcdb.loaders.claims import ClaimRecord, ParsedClaims
from ivcdb.loaders.findings import ParsedFindings
from ivcdb.loaders.parse import ParsedSources
from ivcdb.loaders.resolve import Resolution, claim, resolve
from ivcdb.loaders.review import ReviewRecord
from ivcdb.loaders.vocab import VocabFile
from ivcdb.models import Claim as ClaimModel
from ivcdb.models import Measure, Outcome, Review, SourceFinding, Unit
from ivcdb.models import Reference as ReferenceModel
from ivcdb.report import Code, LoadReport, Problem, Severity
from ivcdb.text import key_fold


def write(db: Database, parsed: ParsedSources, *, dry_run: bool, skip_invalid: bool,
          prune: bool, update_vocabulary: bool = False) -> list[LoadReport]:
    """Check `parsed` against the database and write it in one transaction (see `load`).

    The claims are validated and written in one pass, in batches, inside the transaction;
    an error anywhere (without `skip_invalid`) raises `LoadRefused` with every problem of the
    load, which rolls the whole transaction back.
    """
    with db.write() as session:
        resolution = resolve(session, parsed, skip_invalid=skip_invalid,
                             update_vocabulary=update_vocabulary)
        loader = _Loader(session, parsed, resolution, prune=prune, skip_invalid=skip_invalid)
        before_claims = parsed.problems() + resolution.problems
        if any(p.is_error for p in before_claims) and not skip_invalid:
            loader.writing = False
            for claims in parsed.claims:  # only to report every problem at once
                loader.stream_claims(claims, None)
            raise LoadRefused(loader.all_problems())
        reports = loader.apply(sorted(before_claims, key=_problem_order))
        if not loader.writing:
            raise LoadRefused(loader.all_problems())
        if dry_run:
            session.rollback()
        else:
            for report in reports:
                if report.path in parsed.digests:
                    store.record_load(session, report, parsed.digests[report.path])
    for report in reports:
        report.written = not dry_run
    return reports


CLAIM_BATCH = 5000  # claims validated, then written together (memory stays flat)


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.key, p.code.value)


class _Loader:
    """Writes parsed files as their resolution says (one session)."""

    def __init__(self, session: Session, parsed: ParsedSources, resolution: Resolution, *,
                 prune: bool, skip_invalid: bool) -> None:
        self.session = session
        self.parsed = parsed
        self.res = resolution
        self.prune = prune
        self.skip_invalid = skip_invalid
        self.writing = True  # False once the load is known to be refused: only check then
        self.row_problems: list[Problem] = []  # of claims, found while streaming them
        self.references = resolution.references
        self.review_ids = dict(resolution.review_ids)
        self.ref_ids: dict[str, int] = {}

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
        ids = None
        for index, bib in enumerate(self.parsed.bibliographies):
            refs = report("references", bib.path, bib.blocks)
            refs.skipped = self._skipped_entries(bib, errors_by_file.get(bib.path, set()))
            written = self._apply_references(bib, refs)
            ids = written if len(self.parsed.bibliographies) == 1 else None
            # Written: the write consumes the records (their problems stay for the report),
            # so that the claims load after them runs in the memory they held.
            self.parsed.bibliographies[index] = replace(bib, records=[])
        self.ref_ids = ids if ids is not None else queries.reference_ids(self.session)
        for review in self.parsed.reviews:
            # One review per file: read 1; with any error it is skipped whole.
            if review.code and review.path not in errors_by_file:
                self._apply_review(review, report("review", review.path, 1))
            else:
                skipped = report("review", review.path, 1)
                skipped.skipped = [review.code or review.path]
        for claims in self.parsed.claims:
            self.stream_claims(claims, report("claims", claims.path, claims.count))
        for findings in self.parsed.findings:
            if self.writing:
                self._apply_findings(findings, report("findings", findings.path,
                                                      findings.count))
        for r in reports:
            r.problems.sort(key=_problem_order)
        return reports

    def _skipped_entries(self, bib: ParsedBibliography, keys: set[str]) -> list[str]:
        """Each entry with an error, by its citekey (a citekey used twice is listed twice:
        both entries are skipped), and what else the problems name."""
        entries = [key for _, key in bib.entries if key and key_fold(key) in self.res.bad_refs]
        named = {key_fold(k) for k in entries}
        return sorted(entries + [k for k in keys if key_fold(k) not in named])

    def _apply_vocab(self, vocab: VocabFile, report: LoadReport) -> None:
        models: dict[str, type[SQLModel]] = {"units": Unit, "measures": Measure,
                                              "outcomes": Outcome}
        model = models[vocab.kind]
        existing = queries.vocabulary_rows(self.session, model)
        changed = []
        # rows with an error (a refused change of meaning, an unknown unit) are skipped
        skipped = set(report.skipped) | (self.res.skipped_outcomes if vocab.kind == "outcomes"
                                         else set())
        kept = self.res.kept_vocabulary.get(vocab.kind, set())  # stored text stays
        for code, row in vocab.rows.items():
            if code in skipped:
                continue
            old = existing.get(code)
            if old is None:
                report.added += 1
            elif code not in kept and any(old.get(k) != v for k, v in row.items()):
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            changed.append(row)
        store.upsert(self.session, model, changed, ["code"])
        in_file = set(vocab.rows) | {p.key for p in vocab.problems if p.key} | skipped
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
        bad = self.res.bad_refs
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

    def all_problems(self) -> list[Problem]:
        """Every problem of the load so far, in file and line order."""
        return sorted(self.parsed.problems() + self.res.problems + self.row_problems,
                      key=_problem_order)

    def stream_claims(self, claims: ParsedClaims, report: LoadReport | None) -> None:
        """Validate, resolve and write one claims file, a batch at a time (one pass). Without
        a report, or once the load is known to be refused, the claims are only checked."""
        source = Path(claims.path).name
        existing = queries.claim_index(self.session) if report is not None else {}
        self.review_ids = queries.review_index(self.session)
        problems: list[Problem] = []
        dropped: set[str] = set()
        batch: list[tuple[ClaimRecord, list[str]]] = []
        mark = len(self.res.problems)
        for record, row_problems, valid in claims.claims():
            problems += row_problems
            keys = claim(self.res, record, claims.path)
            if not valid or keys is None:
                dropped.add(record.claim_id)
                if not self.skip_invalid and any(p.is_error for p in row_problems + self.res
                                                 .problems[mark:]):
                    self.writing = False
                continue
            batch.append((record, keys))
            if len(batch) >= CLAIM_BATCH:
                self._write_claims(batch, existing, report, source)
                batch = []
        self._write_claims(batch, existing, report, source)
        self.row_problems += problems
        if report is None:
            return
        problems += [p for p in self.res.problems[mark:] if p.file == claims.path]
        report.problems += problems
        report.skipped = sorted(set(report.skipped) | {
            p.key or f"line {p.line}" for p in problems if p.is_error})
        in_file = claims.ids() | dropped | {p.key for p in claims.problems if p.key}
        report.missing = sorted(cid for cid, (_, _, src) in existing.items()
                                if src == source and cid not in in_file)
        if self.writing and self._may_prune(report):
            report.removed = store.prune_claims(self.session,
                                                [existing[c][0] for c in report.missing])

    def _write_claims(self, batch: list[tuple[ClaimRecord, list[str]]],
                      existing: dict[str, tuple[int, str, str]], report: LoadReport | None,
                      source: str) -> None:
        """Write a batch of valid claims and their links (counted in `report`)."""
        if not (batch and self.writing and report is not None):
            return
        rows: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        todo: list[tuple[ClaimRecord, list[str]]] = []
        for record, keys in batch:
            link_keys = [(key, link.role) for key, link in zip(keys, record.links, strict=True)]
            row = record.row(self.review_ids[record.review], link_keys)
            row["source"] = source
            old = existing.get(record.claim_id)
            if not _count(report, old, row):
                continue
            (rows if old is not None else added).append(row)
            todo.append((record, keys))
        store.insert_rows(self.session, ClaimModel, added)
        store.upsert(self.session, ClaimModel, rows, ["claim_id"])
        if not todo:
            return
        ids = queries.claim_ids(self.session, [r.claim_id for r, _ in todo])
        links = []
        for record, keys in todo:
            seen: set[int] = set()
            for position, (key, link) in enumerate(zip(keys, record.links, strict=True), 1):
                ref_id = self.ref_ids[key]
                if ref_id in seen:
                    continue
                seen.add(ref_id)
                links.append({"claim_id": ids[record.claim_id], "reference_id": ref_id,
                              "role": link.role, "position": position})
        store.replace_claim_links(
            self.session, [ids[r.claim_id] for r, _ in todo if r.claim_id in existing], links)

    def _apply_findings(self, findings: ParsedFindings, report: LoadReport) -> None:
        source = Path(findings.path).name
        existing = queries.finding_index(self.session)
        rows = []
        for record in findings.records:
            key = self.res.finding_refs.get(record.finding_id)
            if key is None:
                continue
            fid = self.res.finding_ids.get(record.finding_id, record.finding_id)
            row = record.row(self.ref_ids[key_fold(key)], fid)
            row["source"] = source
            if not _count(report, existing.get(fid), row):
                continue
            rows.append(row)
        store.upsert(self.session, SourceFinding, rows, ["finding_id"])
        in_file = {self.res.finding_ids.get(r.finding_id, r.finding_id)
                   for r in findings.records}
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
