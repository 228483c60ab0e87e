"""change_record: every insert, update and delete of a tracked row, append-only

Claims and their links, findings and their sources, references, citations, reviews and the
vocabularies (`ivcdb.history.TRACKED`): the row's key, its old and new values as JSON, who,
when and by which command. A new table only; existing rows have no history before it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "change_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", TEXT(length=200), nullable=False),
        sa.Column("command", TEXT(length=40), nullable=False),
        sa.Column("table_name", TEXT(length=40), nullable=False),
        sa.Column("row_key", TEXT(), nullable=False),
        sa.Column("action", TEXT(length=6), nullable=False),
        sa.Column("old_values", TEXT(), nullable=True),
        sa.Column("new_values", TEXT(), nullable=True),
        sa.CheckConstraint("action IN ('insert', 'update', 'delete')",
                           name=op.f("ck_change_record_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_record")),
    )
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_record_changed_at"), ["changed_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_record_changed_at"))
    op.drop_table("change_record")
