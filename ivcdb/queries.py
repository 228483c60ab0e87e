"""Every read statement. Keyword-only functions that take a `Session` and return plain rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from ivcdb.models import (
    Citation,
    Claim,
    ClaimReference,
    Measure,
    Outcome,
    Reference,
    Review,
    SourceFinding,
    Unit,
)

T_co = TypeVar("T_co")


def _t(model: type[SQLModel]) -> sa.Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


# --- indexes the loaders resolve against ------------------------------------------------------


def vocabulary_codes(session: Session) -> dict[str, set[str]]:
    """Codes of every unit, measure and outcome in the database."""
    return {
        name: set(session.execute(sa.select(_t(model).c.code)).scalars())
        for name, model in (("units", Unit), ("measures", Measure), ("outcomes", Outcome))
    }


def vocabulary_rows(session: Session, model: type[SQLModel]) -> dict[str, dict[str, Any]]:
    table = _t(model)
    return {row["code"]: dict(row) for row in session.execute(sa.select(table)).mappings()}


def reference_index(session: Session) -> dict[str, tuple[int, str, str]]:
    """citekey_norm -> (id, content_hash, source)."""
    t = _t(Reference)
    rows = session.execute(sa.select(t.c.citekey_norm, t.c.id, t.c.content_hash, t.c.source))
    return {norm: (id_, digest, source) for norm, id_, digest, source in rows}


def review_index(session: Session) -> dict[str, int]:
    t = _t(Review)
    return dict(session.execute(sa.select(t.c.code, t.c.id)).tuples().all())


def review_rows(session: Session) -> dict[str, dict[str, Any]]:
    t = _t(Review)
    return {row["code"]: dict(row) for row in session.execute(sa.select(t)).mappings()}


def citation_numbers(session: Session) -> dict[str, dict[int, str]]:
    """review code -> {citation number -> citekey_norm}."""
    c, r, ref = _t(Citation), _t(Review), _t(Reference)
    query = (sa.select(r.c.code, c.c.number, ref.c.citekey_norm)
             .join(c, c.c.review_id == r.c.id).join(ref, ref.c.id == c.c.reference_id))
    out: dict[str, dict[int, str]] = {}
    for code, number, norm in session.execute(query):
        out.setdefault(code, {})[number] = norm
    return out


def claim_index(session: Session) -> dict[str, tuple[int, str, str]]:
    """claim_id -> (id, content_hash, source)."""
    t = _t(Claim)
    rows = session.execute(sa.select(t.c.claim_id, t.c.id, t.c.content_hash, t.c.source))
    return {claim_id: (id_, digest, source) for claim_id, id_, digest, source in rows}


def finding_index(session: Session) -> dict[str, tuple[int, str, str]]:
    """finding_id -> (id, content_hash, source)."""
    t = _t(SourceFinding)
    rows = session.execute(sa.select(t.c.finding_id, t.c.id, t.c.content_hash, t.c.source))
    return {fid: (id_, digest, source) for fid, id_, digest, source in rows}


def referenced_ids(session: Session) -> set[int]:
    """Reference ids that citations, claims or findings depend on (not prunable)."""
    ids: set[int] = set()
    for model in (Citation, ClaimReference, SourceFinding):
        ids.update(session.execute(sa.select(_t(model).c.reference_id).distinct()).scalars())
    return ids


# --- results ----------------------------------------------------------------------------------


class Results(list[T_co]):  # type: ignore[type-var,misc]
    """A list of typed rows; `to_frame()` turns it into a pandas DataFrame."""

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(row) for row in self])


def bytewise(column: Any, session: Session) -> Any:
    """Order by code points on every engine (PostgreSQL would otherwise use the locale)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column


@dataclass(frozen=True, slots=True)
class OutcomeSummary:
    outcome: str
    label: str
    kind: str
    unit: str | None
    claims: int
    references: int
    lowest: float | None
    highest: float | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def outcome_summary(session: Session) -> Results[OutcomeSummary]:
    """Per outcome and unit: claims, distinct supporting references, lowest and highest value."""
    c, o, cr = _t(Claim), _t(Outcome), _t(ClaimReference)
    query = (
        sa.select(
            o.c.code, o.c.label, o.c.kind, c.c.unit_code,
            sa.func.count(sa.distinct(c.c.id)),
            sa.func.count(sa.distinct(cr.c.reference_id)),
            sa.func.min(sa.func.coalesce(c.c.value_low, c.c.value)),
            sa.func.max(sa.func.coalesce(c.c.value_high, c.c.value)),
        )
        .join(c, c.c.outcome_code == o.c.code)
        .outerjoin(cr, cr.c.claim_id == c.c.id)
        .group_by(o.c.code, o.c.label, o.c.kind, c.c.unit_code)
        .order_by(bytewise(o.c.code, session), bytewise(c.c.unit_code, session))
    )
    return Results(OutcomeSummary(*row) for row in session.execute(query))
