"""the studio's question list: question_revision.search_text and lint_warnings

- search_text: the prompt and every text of the answer data (choices, options, pairs, steps),
  lower-cased, one per line (a frozen copy of quiz.bank.revisions.search_text is below);
  computed here for every existing revision.
- lint_warnings: the number of item-writing warnings (quiz.bank.lint) of the revision when it
  was made. Left NULL here ("not computed": the lint rules are app code, not frozen in a
  migration); `flask --app wsgi bank lint-refresh` computes it for every question's latest
  revision. New revisions get it when they are created.

Downgrade drops both columns.

Revision ID: 9c5e2a7f1b38
Revises: 8a3f61c2d9e7
Create Date: 2026-11-26 02:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "9c5e2a7f1b38"
down_revision = "8a3f61c2d9e7"
branch_labels = None
depends_on = None


def search_text(prompt, data):
    """Frozen copy of quiz.bank.revisions.search_text as of this revision."""
    if isinstance(data, str):
        data = json.loads(data)
    texts = [prompt or ""]
    for rows in (data or {}).values():
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("text"), str):
                texts.append(row["text"])
    return "\n".join(texts).lower()


def upgrade():
    # Plain ALTER TABLE on SQLite too: attempts refer to revisions, no table copy.
    with op.batch_alter_table("question_revision", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lint_warnings", sa.Integer(), nullable=True))
    rev = sa.table("question_revision", sa.column("id", sa.Integer),
                   sa.column("prompt", sa.Text), sa.column("data", sa.JSON),
                   sa.column("search_text", sa.Text))
    conn = op.get_bind()
    rows = conn.execute(sa.select(rev.c.id, rev.c.prompt, rev.c.data)).all()
    for rid, prompt, data in rows:
        conn.execute(rev.update().where(rev.c.id == rid)
                     .values(search_text=search_text(prompt, data)))


def downgrade():
    with op.batch_alter_table("question_revision", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("lint_warnings")
        batch_op.drop_column("search_text")
