"""many reviews: per-review bibliographies, claims keyed by review, works, finding sources

- `reference.review_id` (NULL: the shared library): a citekey is unique within one
  bibliography; `reference.work_id` links entries of one work across bibliographies.
- `claim`: a claim id is unique within its review (two reviews may use the same id).
- `finding_source`: every file (and its review) that gives a finding; a finding identical to
  a stored one is stored once.

Existing data: with one review, every reference becomes that review's bibliography; with
several, a reference cited by one review only becomes its, the rest the library. Each finding
gets one source: its file, of the only review (or the library).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivcdb.works import assign_works, work_keys

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIBRARY_ENTRY = sa.text("review_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("reference", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("work_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_reference_citekey", type_="unique")
        batch_op.drop_constraint("uq_reference_citekey_norm", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_reference_citekey_norm_review_id"), ["citekey_norm", "review_id"])
        batch_op.create_foreign_key(batch_op.f("fk_reference_review_id_review"), "review",
                                    ["review_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_index(batch_op.f("ix_reference_work_id"), ["work_id"], unique=False)
    op.create_index("uq_reference_library_citekey_norm", "reference", ["citekey_norm"],
                    unique=True, sqlite_where=LIBRARY_ENTRY, postgresql_where=LIBRARY_ENTRY)
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint("uq_claim_claim_id", type_="unique")
        batch_op.drop_index("ix_claim_review_id")
        batch_op.create_unique_constraint(batch_op.f("uq_claim_review_id_claim_id"),
                                          ["review_id", "claim_id"])
    with op.batch_alter_table("source_finding", schema=None) as batch_op:
        batch_op.drop_constraint("uq_source_finding_finding_id", type_="unique")
    op.create_table(
        "finding_source",
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("finding_key", sa.String(length=200), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["finding_id"], ["source_finding.id"],
                                name=op.f("fk_finding_source_finding_id_source_finding"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"],
                                name=op.f("fk_finding_source_review_id_review"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("path", "finding_key", name=op.f("pk_finding_source")),
    )
    with op.batch_alter_table("finding_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_source_finding_id"), ["finding_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_finding_source_review_id"), ["review_id"],
                              unique=False)
    _carry_data_forward()


def _carry_data_forward() -> None:
    conn = op.get_bind()
    reviews = [r for (r,) in conn.execute(sa.text("SELECT id FROM review"))]
    if len(reviews) == 1:
        conn.execute(sa.text("UPDATE reference SET review_id = :r"), {"r": reviews[0]})
    elif reviews:
        cited = conn.execute(sa.text(
            "SELECT reference_id, MIN(review_id) FROM ("
            " SELECT reference_id, review_id FROM citation UNION"
            " SELECT cr.reference_id, c.review_id FROM claim_reference cr"
            " JOIN claim c ON c.id = cr.claim_id) AS uses"
            " GROUP BY reference_id HAVING COUNT(DISTINCT review_id) = 1")).all()
        for ref_id, review_id in cited:
            conn.execute(sa.text("UPDATE reference SET review_id = :r WHERE id = :i"),
                         {"r": review_id, "i": ref_id})
    rows = conn.execute(sa.text(
        "SELECT r.id, r.doi, r.pmid, r.title_norm, r.year, a.family FROM reference r"
        " LEFT JOIN author a ON a.reference_id = r.id AND a.position = 1 ORDER BY r.id")).all()
    works = assign_works(((i, work_keys(doi, pmid, title, year, family))
                          for i, doi, pmid, title, year, family in rows), {})
    if works:
        conn.execute(sa.text("UPDATE reference SET work_id = :w WHERE id = :i"),
                     [{"w": w, "i": i} for i, w in works.items()])
    conn.execute(sa.text(
        "INSERT INTO finding_source (path, finding_key, finding_id, review_id)"
        " SELECT source, finding_id, id, :r FROM source_finding"),
        {"r": reviews[0] if len(reviews) == 1 else None})


def downgrade() -> None:
    with op.batch_alter_table("finding_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_source_review_id"))
        batch_op.drop_index(batch_op.f("ix_finding_source_finding_id"))
    op.drop_table("finding_source")
    with op.batch_alter_table("source_finding", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_source_finding_finding_id", ["finding_id"])
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_claim_review_id_claim_id"), type_="unique")
        batch_op.create_index("ix_claim_review_id", ["review_id"], unique=False)
        batch_op.create_unique_constraint("uq_claim_claim_id", ["claim_id"])
    op.drop_index("uq_reference_library_citekey_norm", table_name="reference")
    with op.batch_alter_table("reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_work_id"))
        batch_op.drop_constraint(batch_op.f("fk_reference_review_id_review"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_reference_citekey_norm_review_id"),
                                 type_="unique")
        batch_op.create_unique_constraint("uq_reference_citekey", ["citekey"])
        batch_op.create_unique_constraint("uq_reference_citekey_norm", ["citekey_norm"])
        batch_op.drop_column("work_id")
        batch_op.drop_column("review_id")
