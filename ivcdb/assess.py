"""`ivcdb assess`: a reviewer's verdict on a claim against one source it cites, by hand.

A verdict is stored in `assessment` (one per claim and reference: a new one replaces it),
recorded in the history, and shown by `ivcdb verify` beside the automatic status, which it
overrides (`ivcdb.verify.decide`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from ivcdb import queries, store
from ivcdb.errors import NotFound, UsageError
from ivcdb.terms import MANUAL_STATUSES
from ivcdb.text import did_you_mean, key_fold
from ivcdb.verify import ManualVerdict, ManualVerdicts, Status

__all__ = ["Verdict", "assess", "cited", "verdicts"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `assess` stored."""

    review: str
    claim_id: str
    reference_key: str
    status: str
    replaced: bool  # an earlier verdict on the same claim and reference was replaced


def assess(db: str | os.PathLike[str] | None, claim_id: str, *, reference: str, status: str,
           locator: str | None = None, quote: str | None = None, by: str | None = None,
           review: str | None = None) -> Verdict:
    """Store a verdict by hand on `claim_id` against the cited `reference` (citekey or
    number), in one transaction with its history record."""
    from ivcdb import history
    from ivcdb.db import open_db
    from ivcdb.loaders.writer import os_user

    if status not in MANUAL_STATUSES:
        raise UsageError(f"unknown status {status!r}{did_you_mean(status, MANUAL_STATUSES)}; "
                         f"choose one of {', '.join(MANUAL_STATUSES)}")
    who = by or os_user()
    now = datetime.now(UTC)
    with open_db(db) as database, database.write() as session:
        scope = queries.review_scope(session, code=review, one=True)
        if scope.id is None or scope.code is None:
            raise NotFound("no review is loaded; load a review file first")
        claim = queries.claim_ids(session, scope.id, [claim_id]).get(claim_id)
        if claim is None:
            raise NotFound(f"no claim {claim_id!r} in review {scope.code}")
        key, ref_id = cited(queries.cited_references(session, claim), reference, claim_id)
        before = history.state(session)
        replaced = store.upsert_assessment(session, {
            "claim_id": claim, "reference_id": ref_id, "status": status,
            "locator": locator or None, "quote": quote or None, "assessed_by": who,
            "assessed_at": now.isoformat(timespec="seconds")})
        history.record(session, before, who=who, when=now, command="assess")
    return Verdict(scope.code, claim_id, key, status, replaced)


def cited(references: Sequence[tuple[str, int, int | None]], reference: str,
          claim_id: str) -> tuple[str, int]:
    """(citekey, reference id) of the cited reference named by citekey or number; else
    `NotFound` listing what the claim cites."""
    for key, ref_id, number in references:
        if key_fold(key) == key_fold(reference) or (number is not None
                                                    and reference == str(number)):
            return key, ref_id
    keys = [key for key, _, _ in references]
    listed = ", ".join(keys) if keys else "none"
    raise NotFound(f"claim {claim_id!r} does not cite {reference!r}"
                   f"{did_you_mean(reference, keys)}; it cites: {listed}")


def verdicts(session: Session, review_id: int | None) -> ManualVerdicts:
    """The stored verdicts by hand per (review, claim id), for `verify(manual=...)`."""
    out: dict[tuple[str, str], list[ManualVerdict]] = {}
    for row in queries.assessments(session, review_id=review_id):
        out.setdefault((row.review, row.claim_id), []).append(ManualVerdict(
            row.reference_key, Status(row.status), row.locator, row.quote,
            row.assessed_by or None, row.assessed_at or None))
    return out
