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


_NOT_NULL = "source_id VARCHAR(64) NOT NULL,"
_NULLABLE = "source_id VARCHAR(64),"


def _alter(nullable: bool) -> None:
    """PostgreSQL alters the column in place. SQLite cannot change NOT NULL, and copying the
    table (Alembic's batch mode) would rewrite every constraint of it, which the older
    migrations' SQLite downgrades (plain DROP COLUMN) cannot then undo, and question,
    attempt_question and revision_key_point refer to it. So on SQLite the table's stored
    definition is edited instead, the way SQLite documents for changes that leave the
    stored rows as they are (removing or adding NOT NULL, with no NULL present): one
    `UPDATE sqlite_master` under `PRAGMA writable_schema`, the schema version bumped, then
    `PRAGMA integrity_check`."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        with op.batch_alter_table("question_revision") as batch:
            batch.alter_column("source_id", existing_type=sa.String(length=64), nullable=nullable)
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'question_revision'").scalar()
    old, new = (_NOT_NULL, _NULLABLE) if nullable else (_NULLABLE, _NOT_NULL)
    if table_sql.count(old) != 1:
        raise RuntimeError(f"question_revision's definition does not hold {old!r} once: "
                           "alter the column by hand")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'question_revision'",
        (table_sql.replace(old, new),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    check = bind.exec_driver_sql("PRAGMA integrity_check").scalar()
    if check != "ok":
        raise RuntimeError(f"integrity check after the change: {check}")


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
