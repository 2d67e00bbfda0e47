"""indexes for the paged staff roster

user (role, name, id): learners in name order a page at a time, and their count, from the
index alone. attempt (user_id, submitted_at): a learner's submitted attempts by time (the
roster's last activity and onboarding result for the learners of a page).

Revision ID: 3e8d41c7a6b2
Revises: 7c1e5a9b2f40
Create Date: 2026-11-25 23:00:00
"""
from alembic import op

revision = "3e8d41c7a6b2"
down_revision = "7c1e5a9b2f40"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX works in place on SQLite and PostgreSQL: no batch table copy.
    op.create_index("ix_user_role_name", "user", ["role", "name", "id"], unique=False)
    op.create_index("ix_attempt_user_submitted", "attempt", ["user_id", "submitted_at"],
                    unique=False)


def downgrade():
    op.drop_index("ix_attempt_user_submitted", table_name="attempt")
    op.drop_index("ix_user_role_name", table_name="user")
