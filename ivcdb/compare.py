"""`ivcdb compare`: two independent extractions of one review's claims, side by side.

Reads only the two claims files (CSV or `.xlsx`, wide or long form, by the loader's own
reader; no database). Lists the claims only one file has and every field that differs,
numbers compared as numbers and text after normalisation (NFC, white space; codes also
case-folded), and the agreement per field: percent agreement and, for categorical fields,
Cohen's kappa. Claims that agree are counted, not listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ivcdb.contract import CLAIM, Kind
from ivcdb.errors import LoadRefused
from ivcdb.loaders.claims import ClaimRecord, parse_claims
from ivcdb.report import Problem, Severity
from ivcdb.text import key_fold, nfc, squash

__all__ = ["Agreement", "Comparison", "Difference", "cohens_kappa", "compare_files"]

# Who entered or checked a claim differs between two extractions by design: not compared.
_FIELDS = tuple(f for f in CLAIM.stored if f.name != "claim_id" and not f.provenance)
LINK_FIELDS = ("reference_keys", "reference_numbers", "reference_roles")
FIELDS = (*(f.name for f in _FIELDS), *LINK_FIELDS)
# Codes: compared case-folded; with the flags, the categorical fields kappa is given for.
_CODES = frozenset(f.name for f in _FIELDS if f.choices or f.db_column.endswith("_code")
                   or f.name == "review")
CATEGORICAL = frozenset(_CODES | {f.name for f in _FIELDS if f.kind is Kind.FLAG}
                        | {"reference_roles"})


@dataclass(frozen=True, slots=True)
class Difference:
    """One field of one claim that the two files give differently (as each file gives it)."""

    claim_id: str
    field: str
    a: Any
    b: Any


@dataclass(frozen=True, slots=True)
class Agreement:
    """A field's agreement over the claims both files have; kappa only for categorical
    fields, and None when neither file varies (or no claim is shared)."""

    percent: float | None
    kappa: float | None


@dataclass(slots=True)
class Comparison:
    """What `compare_files` found."""

    path_a: str
    path_b: str
    only_in_a: list[str]
    only_in_b: list[str]
    differences: list[Difference]
    agreement: dict[str, Agreement]
    shared: int  # claims in both files
    agreeing: int  # of those, claims with no difference
    problems: list[Problem] = field(default_factory=list)  # row warnings of either file

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: `only_in_a`, `only_in_b`, `differences`, `agreement`."""
        return {"only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
                "differences": [{"claim_id": d.claim_id, "field": d.field, "a": d.a, "b": d.b}
                                for d in self.differences],
                "agreement": {name: {"percent": a.percent, "kappa": a.kappa}
                              for name, a in self.agreement.items()}}


def compare_files(a: str | Path, b: str | Path) -> Comparison:
    """Compare two claims files. A file that cannot be read as a claims file (header,
    syntax) raises `LoadRefused` naming the problems; a bad cell is a warning, and the claim
    is compared as the file gives it."""
    claims_a, problems_a = _read(a)
    claims_b, problems_b = _read(b)
    shared = [cid for cid in claims_a if cid in claims_b]
    differences: list[Difference] = []
    pairs: dict[str, list[tuple[Any, Any]]] = {name: [] for name in FIELDS}
    differing: set[str] = set()
    for cid in shared:
        row_a, row_b = claims_a[cid], claims_b[cid]
        for name in FIELDS:
            norm_a, norm_b = _norm(name, row_a[name]), _norm(name, row_b[name])
            pairs[name].append((norm_a, norm_b))
            if norm_a != norm_b:
                differences.append(Difference(cid, name, row_a[name], row_b[name]))
                differing.add(cid)
    agreement = {name: Agreement(_percent(pairs[name]),
                                 cohens_kappa(pairs[name]) if name in CATEGORICAL else None)
                 for name in FIELDS}
    return Comparison(str(a), str(b), [c for c in claims_a if c not in claims_b],
                      [c for c in claims_b if c not in claims_a], differences, agreement,
                      len(shared), len(shared) - len(differing), problems_a + problems_b)


def cohens_kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa of two raters' categories (None is a category: "left empty").

    (p_o - p_e) / (1 - p_e), p_e from each rater's marginal shares; None when there is no
    pair or no variation (p_e = 1: both gave one and the same category throughout).
    """
    n = len(pairs)
    if not n:
        return None
    observed = sum(x == y for x, y in pairs) / n
    first, second = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    if expected >= 1:
        return None
    return float((observed - expected) / (1 - expected))


def _percent(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    return 100 * sum(x == y for x, y in pairs) / len(pairs) if pairs else None


def _read(path: str | Path) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """The file's claims by id (the first of a repeated id), as field -> value; the problems
    of its rows as warnings."""
    parsed = parse_claims(path)
    fatal = [p for p in parsed.problems if p.is_error and not (p.line and p.line > 1)]
    if fatal:
        raise LoadRefused(fatal, outcome="nothing compared")
    claims: dict[str, dict[str, Any]] = {}
    problems = [p for p in parsed.problems if p not in fatal]
    for record, row_problems, _ in parsed.claims():
        problems += row_problems
        if record.claim_id and record.claim_id not in claims:
            claims[record.claim_id] = _fields(record)
    return claims, [_warning(p) for p in problems]


def _warning(problem: Problem) -> Problem:
    return replace(problem, severity=Severity.WARNING)


def _fields(record: ClaimRecord) -> dict[str, Any]:
    values: dict[str, Any] = {"review": record.review, "outcome": record.outcome}
    for f in _FIELDS:
        if f.table == CLAIM.table and f.name not in values:
            values[f.name] = record.values.get(f.db_column)
    links = record.links
    values["reference_keys"] = [link.key for link in links if link.key] or None
    values["reference_numbers"] = [link.number for link in links
                                   if link.number is not None] or None
    roles = [link.role for link in links]
    values["reference_roles"] = roles if any(r != "supports" for r in roles) else None
    return values


def _norm(name: str, value: Any) -> Any:
    """The form two values are compared in: numbers as numbers, text NFC with white space
    squashed (codes case-folded too), lists as such lists."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return tuple(_norm(name, v) for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    text = squash(nfc(str(value)))
    return key_fold(text) if name in _CODES or name in LINK_FIELDS else text

