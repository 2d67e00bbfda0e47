"""question_revision.source_id nullable: drafts imported from Moodle XML or GIFT arrive
without an article section until an instructor maps them (quiz/exchange/bank.py); publishing
refuses a revision without one (quiz.bank.revisions.publish).

Downgrade makes the column NOT NULL again; it refuses (with a message) while any revision
has no source, rather than invent one.

Revision ID: e4b7c91d2a60
Revises: 9c5e2a7f1b38
Create Date: 2026-12-04 03:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "e4b7c91d2a60"
down_revision = "9c5e2a7f1b38"
branch_labels = None
depends_on = None


def _alter(nullable: bool) -> None:
    """SQLite changes NOT NULL by copying the table, and question, attempt_question and
    revision_key_point refer to it: its foreign keys are switched off for the copy (the copy
    keeps every id; `PRAGMA foreign_key_check` must then find nothing) and on again.
    PostgreSQL alters the column in place."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA foreign_keys = OFF")
    with op.batch_alter_table("question_revision") as batch:
        batch.alter_column("source_id", existing_type=sa.String(length=64), nullable=nullable)
    if sqlite:
        broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the table copy: {broken[:5]}")
        op.execute("PRAGMA foreign_keys = ON")


def upgrade():
    _alter(nullable=True)


def downgrade():
    missing = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM question_revision WHERE source_id IS NULL"))
    if missing:
        raise RuntimeError(
            f"{missing} revision(s) have no source section (imported drafts): map or delete "
            "them before downgrading.")
    _alter(nullable=False)
