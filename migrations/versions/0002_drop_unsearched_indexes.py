"""drop indexes no query searches

`ix_author_reference_id` repeats the leading column of the unique (reference_id, position)
index; `title_norm` and the `source` columns are only ever read whole. Each index cost every
bulk load a B-tree insert per row (about 0.1 s of a 20,000-reference load).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (  # (index, table, column)
    ("ix_author_reference_id", "author", "reference_id"),
    ("ix_reference_title_norm", "reference", "title_norm"),
    ("ix_reference_source", "reference", "source"),
    ("ix_claim_source", "claim", "source"),
    ("ix_source_finding_source", "source_finding", "source"),
)


def upgrade() -> None:
    for index, table, _ in DROPPED:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for index, table, column in DROPPED:
        op.create_index(index, table, [column], unique=False)
