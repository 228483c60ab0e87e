#!/usr/bin/env bash
# Development only, before the first release: rebuild migration 0001 from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial_schema.py
IVCDB_DATABASE_URL="$tmp/gen.sqlite" .venv/bin/alembic revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
sed -i 's/^Create Date.*$/Create Date: 2026-11-27/; s/^Revises: $/Revises:/; /# ### commands auto generated/d; /# ### end Alembic commands/d' migrations/versions/0001_initial_schema.py
.venv/bin/ruff format -q migrations && .venv/bin/ruff check -q --fix migrations
rm -rf "$tmp"
