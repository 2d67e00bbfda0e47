"""indexes for item analysis (quiz/stats)

attempt_question (attempt_id) INCLUDE (revision_id, question_id, position, score) on
PostgreSQL: a set's statistics read the items of its selected attempts from the index alone
(an index-only nested loop instead of hashing the whole table; benchmarks/bench_stats.py).
On SQLite it is a plain index on attempt_id. attempt_question (revision_id): the responses
of one question's, key point's or section's revisions without a full scan.

Revision ID: e4b7c2d9a1f6
Revises: e4b7c91d2a60
Create Date: 2026-12-04 03:45:00
"""
from alembic import op

revision = "e4b7c2d9a1f6"
down_revision = "e4b7c91d2a60"
branch_labels = None
depends_on = None

SCORE_COLUMNS = ["revision_id", "question_id", "position", "score"]


def upgrade():
    # Plain CREATE INDEX works in place on SQLite and PostgreSQL: no batch table copy.
    op.create_index("ix_attempt_question_attempt_scores", "attempt_question", ["attempt_id"],
                    unique=False, postgresql_include=SCORE_COLUMNS)
    op.create_index("ix_attempt_question_revision", "attempt_question", ["revision_id"], unique=False)


def downgrade():
    op.drop_index("ix_attempt_question_revision", table_name="attempt_question")
    op.drop_index("ix_attempt_question_attempt_scores", table_name="attempt_question")
