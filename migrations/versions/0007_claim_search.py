"""claim search: the folded words of statement, outcome (code and label), population, indexed

- `claim.search_norm` (`ivcdb.text.search_text`), filled for the stored claims.
- SQLite: `claim_search`, an FTS5 table over it (external content: the words are stored once,
  in `claim`), kept current by triggers on every insert, update and delete of a claim, so no
  write path (load, prune, review removal, copy, a later command) can leave it stale.
- PostgreSQL: a GIN index of `to_tsvector('simple', search_norm)`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ivcdb.text import search_text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = [
    # unicode61 also folds what a web UI search types (the stored words are folded already)
    "CREATE VIRTUAL TABLE claim_search USING fts5(search_norm, content='claim', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER claim_search_insert AFTER INSERT ON claim BEGIN "
    "INSERT INTO claim_search (rowid, search_norm) VALUES (new.id, new.search_norm); END",
    "CREATE TRIGGER claim_search_delete AFTER DELETE ON claim BEGIN "
    "INSERT INTO claim_search (claim_search, rowid, search_norm) "
    "VALUES ('delete', old.id, old.search_norm); END",
    "CREATE TRIGGER claim_search_update AFTER UPDATE OF id, search_norm ON claim BEGIN "
    "INSERT INTO claim_search (claim_search, rowid, search_norm) "
    "VALUES ('delete', old.id, old.search_norm); "
    "INSERT INTO claim_search (rowid, search_norm) VALUES (new.id, new.search_norm); END",
]


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_norm", sa.String(), nullable=True))
    conn = op.get_bind()
    claim, outcome = sa.table("claim", sa.column("id"), sa.column("statement"),
                              sa.column("population"), sa.column("outcome_code"),
                              sa.column("search_norm")), \
        sa.table("outcome", sa.column("code"), sa.column("label"))
    rows = conn.execute(sa.select(claim.c.id, claim.c.statement, outcome.c.code,
                                  outcome.c.label, claim.c.population)
                        .join(outcome, outcome.c.code == claim.c.outcome_code)).all()
    if rows:
        conn.execute(sa.update(claim).where(claim.c.id == sa.bindparam("claim"))
                     .values(search_norm=sa.bindparam("words")),
                     [{"claim": id_, "words": search_text(statement, code, label, population)}
                      for id_, statement, code, label, population in rows])
    if conn.dialect.name == "sqlite":
        for statement in SQLITE:
            conn.exec_driver_sql(statement)
        # not the 'rebuild' command: SQLite 3.40 then fails the next SAVEPOINT after a
        # rollback to one taken before it (pytest-alembic's downgrade test does that)
        conn.exec_driver_sql("INSERT INTO claim_search (rowid, search_norm) "
                             "SELECT id, search_norm FROM claim")
    elif conn.dialect.name == "postgresql":
        op.create_index("ix_claim_search", "claim",
                        [sa.text("to_tsvector('simple', search_norm)")],
                        postgresql_using="gin")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS claim_search_{trigger}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS claim_search")
    elif conn.dialect.name == "postgresql":
        op.drop_index("ix_claim_search", table_name="claim")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("search_norm")
