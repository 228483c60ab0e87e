"""The write step of a load: parsed files and their resolution written in one transaction.

`ivcdb.loaders.parse` reads, `ivcdb.loaders.resolve` checks against the database (both
without changing what they are given); this module writes. It and `resolve` hold what needs
the database (and SQLAlchemy), so reading the files can begin before those are imported.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, SQLModel

from ivcdb import history, queries, store
from ivcdb.contract import CLAIM, FINDING
from ivcdb.db import Database
from ivcdb.errors import LoadRefused
from ivcdb.loaders.assessments import write_assessments
from ivcdb.loaders.bibtex import AUTHOR_COLUMNS, ParsedBibliography, RefRecord
from ivcdb.loaders.claims import PROVENANCE as CLAIM_PROVENANCE
from ivcdb.loaders.claims import ClaimRecord, ParsedClaims
from ivcdb.loaders.findings import PROVENANCE as FINDING_PROVENANCE
from ivcdb.loaders.findings import ParsedFindings
from ivcdb.loaders.parse import ParsedSources
from ivcdb.loaders.resolve import Entry, Resolution, claim, keyed, source_path
from ivcdb.loaders.resolve import resolve as resolve_sources
from ivcdb.loaders.review import ReviewRecord
from ivcdb.loaders.vocab import VocabFile
from ivcdb.models import Claim as ClaimModel
from ivcdb.models import Measure, Outcome, Review, SourceFinding, Unit
from ivcdb.models import Reference as ReferenceModel
from ivcdb.report import Code, LoadReport, Problem, Severity
from ivcdb.text import key_fold, search_text
from ivcdb.works import assign_works


def write(db: Database, parsed: ParsedSources, *, dry_run: bool, skip_invalid: bool,
          prune: bool, update_vocabulary: bool = False, by: str | None = None,
          resolve: bool = False) -> list[LoadReport]:
    """Check `parsed` against the database and write it in one transaction (see `load`).

    The claims are validated and written in one pass, in batches, inside the transaction;
    an error anywhere (without `skip_invalid`) raises `LoadRefused` with every problem of the
    load, which rolls the whole transaction back.
    """
    now = datetime.now(UTC)  # the load's time: its history records and load events
    with db.write() as session:
        before = history.state(session)
        parsed = keyed(session, parsed)
        resolution = resolve_sources(session, parsed, skip_invalid=skip_invalid,
                                     update_vocabulary=update_vocabulary)
        loader = _Loader(session, parsed, resolution, prune=prune, skip_invalid=skip_invalid,
                         by=by, resolve=resolve)
        before_claims = parsed.problems() + resolution.problems
        if any(p.is_error for p in before_claims) and not skip_invalid:
            loader.writing = False
            for claims in parsed.claims:  # only to report every problem at once
                loader.stream_claims(claims, None)
            raise LoadRefused(loader.all_problems())
        reports = loader.apply(sorted(before_claims, key=_problem_order))
        if not loader.writing:
            raise LoadRefused(loader.all_problems())
        verdicts, failed = write_assessments(session, parsed.assessments, user=loader.user,
                                             now=now, skip_invalid=skip_invalid)
        if failed and not skip_invalid:
            raise LoadRefused(sorted({p for r in verdicts for p in r.problems},
                                     key=_problem_order))
        reports += verdicts
        if loader.conflicts and not resolve:  # rolled back: every table as it was
            raise LoadRefused(sorted(loader.conflicts, key=_problem_order))
        if dry_run:
            session.rollback()
        else:
            history.record(session, before, who=loader.user, when=now, command="load")
            for report in reports:
                if report.path in parsed.digests:
                    store.record_load(session, report, parsed.digests[report.path],
                                      loaded_by=loader.user, resolved=report.resolved,
                                      loaded_at=now)
    for report in reports:
        report.written = not dry_run
    return reports


CLAIM_BATCH = 5000  # claims validated, then written together (memory stays flat)


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.key, p.code.value)


class _Loader:
    """Writes parsed files as their resolution says (one session)."""

    def __init__(self, session: Session, parsed: ParsedSources, resolution: Resolution, *,
                 prune: bool, skip_invalid: bool, by: str | None = None,
                 resolve: bool = False) -> None:
        self.session = session
        self.by = by  # fills `extracted_by` where a file leaves it empty
        self.user = by or os_user()  # who loads (the load history)
        self.resolve = resolve  # replace values others entered (else: conflicts refuse)
        self.conflicts: list[Problem] = []
        self.parsed = parsed
        self.res = resolution
        self.prune = prune
        self.skip_invalid = skip_invalid
        self.writing = True  # False once the load is known to be refused: only check then
        self.row_problems: list[Problem] = []  # of claims, found while streaming them
        # stored entries (scope, key) -> (id, hash, source file): kept current as each
        # bibliography of the load is written, so the next one sees its writes and prunes
        self.references = dict(resolution.references)
        self.review_ids = dict(resolution.review_ids)
        self.ref_ids: dict[Entry, int] = {}
        self.works: dict[str, int] | None = None  # work key -> work id, once read
        self.outcome_labels: dict[str, str] = {}  # for the claims' search text

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
        # One review per file: read 1; with any error it is skipped whole. Its row is written
        # before the references (its bibliography's entries name it), its citations after.
        written_reviews = []
        for review in self.parsed.reviews:
            review_report = report("review", review.path, 1)
            if review.code and review.path not in errors_by_file:
                written_reviews.append((review, review_report, self._write_review(review)))
            else:
                review_report.skipped = [review.code or review.path]
        for index, bib in enumerate(self.parsed.bibliographies):
            refs = report("references", bib.path, bib.blocks)
            refs.skipped = self._skipped_entries(bib, errors_by_file.get(bib.path, set()))
            self._apply_references(bib, refs)
            # Written: the write consumes the records (their problems stay for the report),
            # so that the claims load after them runs in the memory they held.
            self.parsed.bibliographies[index] = replace(bib, records=[])
        self.ref_ids = {entry: stored[0] for entry, stored in self.references.items()}
        for review, review_report, row_changed in written_reviews:
            self._apply_citations(review, review_report, row_changed)
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
        scope = self.res.owner(bib.path)
        entries = [key for _, key in bib.entries
                   if key and (scope, key_fold(key)) in self.res.bad_refs]
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
        if vocab.kind == "outcomes":  # a new label changes what its claims' search finds
            relabelled = [row["code"] for row in changed if row["code"] in existing
                          and existing[row["code"]].get("label") != row.get("label")]
            if relabelled:
                store.set_claim_search(self.session, {
                    id_: search_text(statement, code, label, population)
                    for id_, statement, code, label, population
                    in queries.claim_search_parts(self.session, outcomes=relabelled)})
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

    def _apply_references(self, bib: ParsedBibliography, report: LoadReport) -> None:
        """Write the entries of one bibliography (a review's, or the library's), and keep
        `self.references` as the database now holds them."""
        source = source_path(bib.path)
        scope = self.res.owner(bib.path)
        review_id = self.review_ids.get(scope) if scope else None
        if scope and review_id is None:  # its new review is skipped (errors): so are they
            report.skipped = sorted({r.citekey for r in bib.records} | set(report.skipped))
            report.problems.append(Problem(
                Code.UNKNOWN_REVIEW, f"review '{scope}' has errors and is skipped: its "
                "bibliography is not stored either", file=bib.path, severity=Severity.WARNING))
            return
        bad = self.res.bad_refs
        records = [r for r in bib.records if (scope, r.key_norm) not in bad]
        rows: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        todo: list[RefRecord] = []
        for record in records:
            row = record.row()
            row["source"] = source
            row["review_id"] = review_id
            old = self.references.get((scope, record.key_norm))
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
        ids = {(scope, r.key_norm): self.references[(scope, r.key_norm)][0] for r in todo
               if (scope, r.key_norm) in self.references}
        updated_ids = list(ids.values())
        for row, id_ in zip(added, store.new_ids(self.session, ReferenceModel, len(added)),
                            strict=True):
            row["id"] = id_
            ids[(scope, row["citekey_norm"])] = id_
        if todo:
            works = self._works(todo, scope, ids)
            for row in (*added, *rows):
                row["work_id"] = works[ids[(scope, row["citekey_norm"])]]
        store.insert_rows(self.session, ReferenceModel, added)
        store.upsert_references(self.session, rows, library=not scope)
        if todo:
            store.replace_authors(
                self.session, AUTHOR_COLUMNS,
                [(ids[(scope, r.key_norm)], *values) for r in todo
                 for values in r.author_values()], had_authors=updated_ids)
        for row in (*added, *rows):
            entry = (scope, row["citekey_norm"])
            self.references[entry] = (ids[entry], row["content_hash"], source)
        in_file = {r.key_norm for r in bib.records} | {n for s, n in bad if s == scope}
        missing = [norm for (sc, norm), (_, _, src) in self.references.items()
                   if sc == scope and src == source and norm not in in_file]
        citekeys = queries.reference_citekeys(self.session, scope) if missing else {}
        report.missing = sorted(citekeys.get(n, n) for n in missing)
        if self._may_prune(report):
            in_use = queries.referenced_ids(self.session)
            stored = {n: self.references[(scope, n)][0] for n in missing}
            removable = [stored[n] for n in missing if stored[n] not in in_use]
            kept = [n for n in missing if stored[n] in in_use]
            report.removed = store.prune_references(self.session, removable)
            for n in missing:
                if stored[n] not in in_use:
                    del self.references[(scope, n)]
            self._warn_in_use(report, [citekeys.get(n, n) for n in kept],
                              "cited by a review, claim or finding")
        report.problems += [Problem(Code.BAD_VALUE, "@set/@xdata block: not a reference, "
                                    "not stored", file=bib.path, line=line, key=k,
                                    severity=Severity.WARNING) for k, line in bib.not_references]

    def _works(self, records: list[RefRecord], scope: str, ids: dict[Entry, int]
               ) -> dict[int, int]:
        """The work of each entry about to be written (entry id -> work id): that of a
        stored or earlier entry with the same DOI, PMID or title, year and first author,
        else its own id."""
        if self.works is None:  # the stored entries' keys, read once per load
            self.works = queries.work_index(self.session) if self.references else {}
        return assign_works([(ids[(scope, r.key_norm)], r.work_keys()) for r in records],
                            self.works)

    def _write_review(self, review: ReviewRecord) -> bool:
        """Write the review's row if it is new or changed; whether it was."""
        existing = queries.review_rows(self.session).get(review.code)
        row = review.row()
        if existing is not None and all(existing.get(k) == v for k, v in row.items()):
            return False
        store.upsert(self.session, Review, [row], ["code"])
        self.review_ids = queries.review_index(self.session)
        return True

    def _apply_citations(self, review: ReviewRecord, report: LoadReport,
                         row_changed: bool) -> None:
        """Write the review's numbered reference list if it changed; count the review."""
        review_id = self.review_ids[review.code]
        old = queries.citation_ids(self.session).get(review.code, {})
        new = {n: self.ref_ids[self.res.locate(review.code, k)]
               for n, k in review.citations.items()}
        if old != new:
            store.replace_citations(self.session, review_id, [
                {"review_id": review_id, "reference_id": ref_id, "number": n}
                for n, ref_id in sorted(new.items())])
        if review.code not in self.res.review_ids:
            report.added += 1
        elif row_changed or old != new:
            report.updated += 1
        else:
            report.unchanged += 1

    def all_problems(self) -> list[Problem]:
        """Every problem of the load so far, in file and line order."""
        return sorted(self.parsed.problems() + self.res.problems + self.row_problems,
                      key=_problem_order)

    def stream_claims(self, claims: ParsedClaims, report: LoadReport | None) -> None:
        """Validate, resolve and write one claims file, a batch at a time (one pass). Without
        a report, or once the load is known to be refused, the claims are only checked."""
        source = source_path(claims.path)
        existing = queries.claim_index(self.session) if report is not None else {}
        self.review_ids = queries.review_index(self.session)
        self.outcome_labels = queries.outcome_labels(self.session)
        named = {r.code for r in self.parsed.reviews if r.code}  # reviews this load names
        problems: list[Problem] = []
        dropped: set[str] = set()
        batch: list[tuple[ClaimRecord, list[Entry]]] = []
        mark = len(self.res.problems)
        for record, row_problems, valid in claims.claims():
            problems += row_problems
            named.add(record.review)
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
        # Missing: a claim of a review this load names, last loaded from this very file (a
        # file with no rows names none: then every claim it gave).
        if not claims.ids() and not dropped:
            named = {review for review, _ in existing}
        in_file = claims.ids() | dropped | {p.key for p in claims.problems if p.key}
        gone = sorted((review, cid) for (review, cid), (_, _, src, _) in existing.items()
                      if review in named and src == source and cid not in in_file)
        one_review = len({review for review, _ in gone}) <= 1
        report.missing = [cid if one_review else f"{review}/{cid}" for review, cid in gone]
        if self.writing and self._may_prune(report):
            report.removed = store.prune_claims(self.session, [existing[g][0] for g in gone])

    def _write_claims(self, batch: list[tuple[ClaimRecord, list[Entry]]],
                      existing: dict[tuple[str, str], queries.Stored],
                      report: LoadReport | None, source: str) -> None:
        """Write a batch of valid claims and their links (counted in `report`)."""
        if not (batch and self.writing and report is not None):
            return
        rows: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        todo: list[tuple[ClaimRecord, list[Entry]]] = []
        for record, keys in batch:
            # the content hash sees the folded citekeys (as before bibliographies had scopes)
            link_keys = [(key[1], link.role)
                         for key, link in zip(keys, record.links, strict=True)]
            row = record.row(self.review_ids[record.review], link_keys)
            row["source"] = source
            row["search_norm"] = search_text(row["statement"], record.outcome,
                                             self.outcome_labels.get(record.outcome),
                                             row.get("population"))
            old = existing.get((record.review, record.claim_id))
            if old is not None and old[1] != row["content_hash"] and old[3][0]:
                self._claim_conflict(record, row, old, keys, report)
            if not (_count(report, old, row) | _attribute(row, CLAIM_PROVENANCE, old, self.by)):
                continue
            (rows if old is not None else added).append(row)
            todo.append((record, keys))
        ids = {(r.review, r.claim_id): existing[(r.review, r.claim_id)][0] for r, _ in todo
               if (r.review, r.claim_id) in existing}
        new = [(r.review, r.claim_id) for r, _ in todo if (r.review, r.claim_id) not in ids]
        for row, key, id_ in zip(added, new, store.new_ids(self.session, ClaimModel, len(added)),
                                 strict=True):
            row["id"] = ids[key] = id_
        store.insert_rows(self.session, ClaimModel, added)
        store.upsert(self.session, ClaimModel, rows, ["review_id", "claim_id"])
        if not todo:
            return
        links = []
        for record, keys in todo:
            claim_id = ids[(record.review, record.claim_id)]
            seen: set[int] = set()
            for position, (key, link) in enumerate(zip(keys, record.links, strict=True), 1):
                ref_id = self.ref_ids[key]
                if ref_id in seen:
                    continue
                seen.add(ref_id)
                links.append({"claim_id": claim_id, "reference_id": ref_id,
                              "role": link.role, "position": position})
        store.replace_claim_links(
            self.session, [ids[(r.review, r.claim_id)] for r, _ in todo
                           if (r.review, r.claim_id) in existing], links)

    def _claim_conflict(self, record: ClaimRecord, row: dict[str, Any], old: queries.Stored,
                        keys: list[Entry], report: LoadReport) -> None:
        """A changed claim whose stored values someone else entered: a conflict per field
        (or, with `resolve`, counted as resolved)."""
        stored_by, new_by = old[3][0], row["extracted_by"] or self.user
        if stored_by == new_by:
            return
        report.resolved += 1
        if self.resolve:
            return
        stored = queries.stored_row(self.session, ClaimModel, old[0], _CLAIM_COMPARED)
        fields = [(name, stored[column], row[column]) for name, column in _CLAIM_FIELDS
                  if stored[column] != row[column]]
        stored_keys = queries.claim_link_keys(self.session, old[0])
        if [key_fold(k) for k in stored_keys] != [key[1] for key in keys]:
            given = [link.key or str(link.number) for link in record.links]
            fields.append(("reference_keys", ";".join(stored_keys), ";".join(given)))
        for name, before, after in fields:
            self.conflicts.append(Problem(
                Code.CONFLICT, f"{name}: stored {_shown(before)} (entered by {stored_by}), "
                f"this file gives {_shown(after)} (by {new_by or 'unknown'}); load with "
                "--resolve to replace it", file=report.path, line=record.line,
                key=record.claim_id))

    def _finding_conflict(self, row: dict[str, Any], prev: int, index: queries.FindingIndex,
                          line: int, key: str, report: LoadReport) -> None:
        """As `_claim_conflict`, for a changed finding."""
        stored_by, new_by = index.provenance[prev][0], row["extracted_by"] or self.user
        if not stored_by or stored_by == new_by:
            return
        report.resolved += 1
        if self.resolve:
            return
        stored = queries.stored_row(self.session, SourceFinding, prev, _FINDING_COMPARED)
        for name, column in _FINDING_FIELDS:
            if stored[column] != row[column]:
                self.conflicts.append(Problem(
                    Code.CONFLICT, f"{name}: stored {_shown(stored[column])} (entered by "
                    f"{stored_by}), this file gives {_shown(row[column])} (by "
                    f"{new_by or 'unknown'}); load with --resolve to replace it",
                    file=report.path, line=line, key=key))

    def _apply_findings(self, findings: ParsedFindings, report: LoadReport) -> None:
        """Write one findings file. A finding is what a source reports, the same whichever
        review cites it: one identical to a stored finding (same work, measure, figures, unit,
        timepoint, population) is stored once, this file recorded as another source of it;
        a finding another file also gives is never edited through this one."""
        path = source_path(findings.path)
        owner = self.res.owner(findings.path)
        review_id = self.review_ids.get(owner) if owner else None
        index = queries.finding_index(self.session)
        mine = index.by_path.get(path, {})
        works = queries.reference_works(self.session)
        new_works: set[int] = set()
        shared = 0
        for record in findings.records:
            entry = self.res.finding_refs.get(record.finding_id)
            if entry is None:
                continue
            key = self.res.finding_ids.get(record.finding_id, record.finding_id)
            row = record.row(self.ref_ids[entry], key)
            row["source"] = path
            work = works[row["reference_id"]]
            same = index.by_identity.get((work, *(row[c] for c in queries.FINDING_IDENTITY)))
            prev = mine.get(key)
            if prev is None and same is not None and index.paths[same] == {path}:
                prev = same  # this file's own finding under a new id (its note edited, say)
                store.link_finding(self.session, same, path, review_id, key)
            if prev is not None and same in (None, prev):
                shared_with_others = index.paths[prev] != {path}
                stored = (prev, index.hashes[prev], path, index.provenance[prev])
                attributed = _attribute(row, FINDING_PROVENANCE, stored, self.by)
                if index.hashes[prev] == row["content_hash"] or same == prev and \
                        shared_with_others:  # the stored note and seen_at stay
                    report.unchanged += 1
                    if attributed and not shared_with_others:  # who checked it, say
                        store.update_finding(self.session, prev, row)
                        index.provenance[prev] = _provenance_of(row, FINDING_PROVENANCE)
                    continue
                report.updated += 1
                self._finding_conflict(row, prev, index, record.line, key, report)
                if not shared_with_others:
                    store.update_finding(self.session, prev, row)
                    index.hashes[prev] = row["content_hash"]
                    continue
            elif same is None:
                report.added += 1
            elif prev is None:  # what another file gives: stored once, this file noted
                report.unchanged += 1
                shared += 1
            else:
                report.updated += 1
            if prev is not None:
                store.unlink_findings(self.session, path, [(prev, key)])
            if same is None:
                _attribute(row, FINDING_PROVENANCE, None, self.by)
                same = store.insert_finding(self.session, row)
                index.by_identity[(work, *(row[c] for c in queries.FINDING_IDENTITY))] = same
                new_works.add(work)
            store.link_finding(self.session, same, path, review_id, key)
        in_file = {self.res.finding_ids.get(r.finding_id, r.finding_id)
                   for r in findings.records}
        report.missing = sorted(k for k in mine if k not in in_file)
        if self._may_prune(report):
            report.removed = store.unlink_findings(
                self.session, path, [(mine[k], k) for k in report.missing])
        if shared:
            report.notes.append(f"{shared} finding(s) identical to stored ones (same work, "
                                "measure, figures, unit, timepoint, population): stored once, "
                                "this file recorded as a further source")
        others = queries.reviews_citing_works(self.session, new_works) - {owner}
        if others:
            report.notes.append("the source checks of " + ", ".join(sorted(others)) +
                                " gain findings from this file (they cite the same works)")

# A conflict names the contract fields whose stored value would change (not who or when).
_CLAIM_FIELDS = tuple((f.name, f.db_column) for f in CLAIM.own
                      if not f.provenance and f.name != "claim_id")
_CLAIM_COMPARED = tuple(column for _, column in _CLAIM_FIELDS)
_FINDING_FIELDS = tuple((f.name, f.db_column) for f in FINDING.own
                        if not f.provenance and f.name != "finding_id")
_FINDING_COMPARED = tuple(column for _, column in _FINDING_FIELDS)


def _shown(value: Any) -> str:
    """A stored or new value as a conflict prints it."""
    from ivcdb.csvformat import format_number
    from ivcdb.text import clip

    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool | int | float):
        return format_number(value)
    return repr(clip(str(value)))


def os_user() -> str:
    """Who runs the load, when no `--by` says: the OS user (empty if none is known)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name, no passwd entry (a bare container)
        return ""


def _provenance_of(row: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[c] for c in columns)


def _attribute(row: dict[str, Any], columns: tuple[str, ...], old: queries.Stored | None,
               by: str | None) -> bool:
    """Fill `row`'s provenance (columns `columns`, `extracted_by` first) where its file left
    it empty, and say whether it differs from the stored one (a row to write, though
    provenance alone is never a change).

    What the file gives wins; else, for a new or changed row, `by` (its `extracted_by`);
    else what is stored. A row whose content is unchanged keeps its stored extractor (a
    reload by someone else does not make them its extractor).
    """
    stored = old[3] if old is not None else (None,) * len(columns)
    unchanged = old is not None and old[1] == row["content_hash"]
    for position, column in enumerate(columns):
        if not row[column]:
            given = by if position == 0 and not unchanged else None
            row[column] = given or stored[position]
    return old is not None and _provenance_of(row, columns) != tuple(stored)


def _count(report: LoadReport, old: tuple[int, str, str, *tuple[Any, ...]] | None,
           row: dict[str, Any]) -> bool:
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
