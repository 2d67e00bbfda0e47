"""revision_item_sums: the item analysis sums of the default selection, kept per revision

The studio question list's flags read one row per question from this table instead of
aggregating every response of each learner's first attempt at each set. Submitting a
learner's first attempt at a set adds its items (one upsert in the submit's transaction);
this migration fills it for the attempts submitted so far.

The data step calls quiz.stats.summary.rebuild_item_sums(), the one definition of the sums
(also behind `flask --app wsgi stats rebuild`), which builds its SQL from the live engine's
(quiz.stats.analysis). If that SQL ever reads columns that do not exist at this revision,
freeze a copy of it here.

Revision ID: f1a9c3e5b7d2
Revises: e4b7c2d9a1f6
Create Date: 2026-12-04 04:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "f1a9c3e5b7d2"
down_revision = "e4b7c2d9a1f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revision_item_sums",
        sa.Column("revision_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sx", sa.Float(), nullable=False),
        sa.Column("sxx", sa.Float(), nullable=False),
        sa.Column("nr", sa.Integer(), nullable=False),
        sa.Column("rx", sa.Float(), nullable=False),
        sa.Column("rxx", sa.Float(), nullable=False),
        sa.Column("rxmax", sa.Float(), nullable=True),
        sa.Column("sr", sa.Float(), nullable=False),
        sa.Column("srr", sa.Float(), nullable=False),
        sa.Column("sxr", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["revision_id"], ["question_revision.id"],
                                name=op.f("fk_revision_item_sums_revision_id_question_revision")),
        sa.PrimaryKeyConstraint("revision_id", name=op.f("pk_revision_item_sums")),
    )
    from quiz.stats.summary import rebuild_item_sums

    rebuild_item_sums(op.get_bind())


def downgrade():
    op.drop_table("revision_item_sums")
