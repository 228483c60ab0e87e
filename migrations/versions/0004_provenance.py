"""provenance: who extracted and checked each claim and finding, and who loaded each file

- `claim`, `source_finding`: `extracted_by`, `extracted_at`, `checked_by`, `checked_at`
  (nullable text; in no content hash, so filling them changes no row's content).
- `load_event`: `loaded_by` (`load --by`, else the OS user) and `resolved` (conflicts with
  values others entered that `load --resolve` overrode); NULL for earlier loads.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
PROVENANCE = ("extracted_by", "extracted_at", "checked_by", "checked_at")


def upgrade() -> None:
    for table in ("claim", "source_finding"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in PROVENANCE:
                batch_op.add_column(sa.Column(column, TEXT(), nullable=True))
    with op.batch_alter_table("load_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loaded_by", TEXT(length=200), nullable=True))
        batch_op.add_column(sa.Column("resolved", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("load_event", schema=None) as batch_op:
        batch_op.drop_column("resolved")
        batch_op.drop_column("loaded_by")
    for table in ("source_finding", "claim"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(PROVENANCE):
                batch_op.drop_column(column)
