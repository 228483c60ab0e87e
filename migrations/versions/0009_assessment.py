"""assessment: verdicts by hand on a claim against one source it cites (`ivcdb assess`)

A new table only: one verdict per claim and reference (a new one replaces it), its status,
where in the source and the words read there, who and when.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
STATUSES = ("consistent", "partly_consistent", "inconsistent", "different_measure",
            "unverified")


def upgrade() -> None:
    quoted = ", ".join(f"'{s}'" for s in STATUSES)
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("status", TEXT(length=40), nullable=False),
        sa.Column("locator", TEXT(), nullable=True),
        sa.Column("quote", TEXT(), nullable=True),
        sa.Column("assessed_by", TEXT(length=200), nullable=False),
        sa.Column("assessed_at", TEXT(length=40), nullable=False),
        sa.CheckConstraint(f"status IN ({quoted})", name=op.f("ck_assessment_status")),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"],
                                name=op.f("fk_assessment_claim_id_claim"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reference_id"], ["reference.id"],
                                name=op.f("fk_assessment_reference_id_reference"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("claim_id", "reference_id",
                            name=op.f("uq_assessment_claim_id_reference_id")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessment_reference_id"), ["reference_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_reference_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_claim_id"))
    op.drop_table("assessment")
