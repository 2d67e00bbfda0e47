"""learner_question_latest: each learner's latest submitted answer per question

A summary the progress page reads instead of ranking all of a learner's answers with a
window query on every request. Submitting an attempt keeps it up to date (one upsert in
the submit's transaction); this migration fills it for the attempts submitted so far.

The data step calls quiz.progress.rebuild_latest_answers(), the one definition of the
summary (also behind `flask --app wsgi progress rebuild`). It names only the columns it
reads and writes, so later changes to other columns do not affect this step; if those
columns are ever renamed, freeze a copy of its SQL here.

Revision ID: b8d4e2f61a07
Revises: 3e8d41c7a6b2
Create Date: 2026-11-25 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b8d4e2f61a07"
down_revision = "3e8d41c7a6b2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "learner_question_latest",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("attempt_question_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 1",
                           name=op.f("ck_learner_question_latest_score")),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempt.id"],
                                name=op.f("fk_learner_question_latest_attempt_id_attempt")),
        sa.ForeignKeyConstraint(
            ["attempt_question_id"], ["attempt_question.id"],
            name=op.f("fk_learner_question_latest_attempt_question_id_attempt_question")),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"],
                                name=op.f("fk_learner_question_latest_question_id_question")),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["question_revision.id"],
            name=op.f("fk_learner_question_latest_revision_id_question_revision")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_learner_question_latest_user_id_user")),
        sa.PrimaryKeyConstraint("user_id", "question_id", name=op.f("pk_learner_question_latest")),
    )
    from quiz.progress import rebuild_latest_answers

    rebuild_latest_answers(op.get_bind())


def downgrade():
    op.drop_table("learner_question_latest")
