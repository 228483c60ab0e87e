"""drop the author name index: no query can use it

`query --author` matches a folded name exactly *or* by its last word
(`name_norm = ? OR name_norm LIKE '% ?'`); a LIKE with a leading wildcard cannot use an
index, so both engines scan `author` for the whole condition (SQLite's plan: SCAN author)
and `ix_author_name_norm` was never read. Keeping it cost every load a B-tree insert per
author (about 0.1 s of a 20,000-reference load's 90,000 authors).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_author_name_norm", table_name="author")


def downgrade() -> None:
    op.create_index("ix_author_name_norm", "author", ["name_norm"], unique=False)
