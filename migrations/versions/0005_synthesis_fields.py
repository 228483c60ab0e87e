"""findings fit for synthesis: n, CI, SE, what the bounds are, the effect measure

- `source_finding`: `n` (the analysed number; NULL: not stated), `ci_low`/`ci_high` with
  `ci_level` (percent; NULL with a CI: 95), `se`, `bounds` (what value_low/value_high are:
  `range` or `iqr`) and `effect` (the effect measure).
- `claim`: `bounds` (`range`, `ci` or `iqr`).

Every column is new and nullable, so existing rows keep their meaning (NULL bounds: a range);
the CHECKs hold for them trivially. The CHECK texts are written out here, not imported, so
this revision stays what it was when the models change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUNDS_CHECKS = {  # name -> condition, on both tables (the allowed bounds differ)
    "bounds_ends": "bounds IS NULL OR (value_low IS NOT NULL AND value_high IS NOT NULL)",
    "bounds_value": "bounds IS NULL OR bounds = 'range' OR value IS NULL OR "
                    "(value_low <= value AND value <= value_high)",
}
CLAIM_CHECKS = {
    "bounds": "bounds IS NULL OR bounds IN ('range', 'ci', 'iqr')",
    **BOUNDS_CHECKS,
}
FINDING_CHECKS = {
    "bounds": "bounds IS NULL OR bounds IN ('range', 'iqr')",
    **BOUNDS_CHECKS,
    "n": "n IS NULL OR n >= 1",
    "numerator_n": "numerator IS NULL OR n IS NULL OR numerator <= n",
    "ci": "(ci_low IS NULL AND ci_high IS NULL) OR (ci_low IS NOT NULL AND ci_high IS NOT "
          "NULL AND ci_low <= ci_high)",
    "ci_value": "value IS NULL OR ci_low IS NULL OR (ci_low <= value AND value <= ci_high)",
    "ci_level": "ci_level IS NULL OR (ci_level > 0 AND ci_level < 100)",
    "se": "se IS NULL OR se >= 0",
    "effect": "effect IS NULL OR effect IN ('proportion', 'percent', 'hazard_ratio', "
              "'odds_ratio', 'risk_ratio', 'mean', 'median')",
}
FINDING_COLUMNS = {  # name -> type
    "n": sa.Integer,
    "ci_low": sa.Float,
    "ci_high": sa.Float,
    "ci_level": sa.Float,
    "se": sa.Float,
    "bounds": lambda: sqlmodel.sql.sqltypes.AutoString(length=10),
    "effect": lambda: sqlmodel.sql.sqltypes.AutoString(length=20),
}


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounds", sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=True))
        for name, condition in CLAIM_CHECKS.items():
            batch_op.create_check_constraint(op.f(f"ck_claim_{name}"), condition)
    with op.batch_alter_table("source_finding", schema=None) as batch_op:
        for name, type_ in FINDING_COLUMNS.items():
            batch_op.add_column(sa.Column(name, type_(), nullable=True))
        for name, condition in FINDING_CHECKS.items():
            batch_op.create_check_constraint(op.f(f"ck_source_finding_{name}"), condition)


def downgrade() -> None:
    with op.batch_alter_table("source_finding", schema=None) as batch_op:
        for name in reversed(FINDING_CHECKS):
            batch_op.drop_constraint(op.f(f"ck_source_finding_{name}"), type_="check")
        for name in reversed(FINDING_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("claim", schema=None) as batch_op:
        for name in reversed(CLAIM_CHECKS):
            batch_op.drop_constraint(op.f(f"ck_claim_{name}"), type_="check")
        batch_op.drop_column("bounds")
