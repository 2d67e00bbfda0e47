"""organisations: organisation, cohort, membership, assignment, assignment_person, attempt.assignment_id

Clinics and school classes (quiz.orgs). attempt.assignment_id is added with a plain
ALTER TABLE on SQLite too (an inline REFERENCES clause, then moved into a named table
constraint as the models have it: _sqlite_edit_attempt), never a copy of the table:
attempt_question and learner_question_latest refer to attempt, and the older migrations'
SQLite downgrades rely on its definition staying as it is.

Revision ID: a7c3e9f2b410
Revises: f1a9c3e5b7d2
Create Date: 2026-12-04 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f2b410'
down_revision = 'f1a9c3e5b7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('cohort',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_cohort_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_cohort_org_id_name'))
    )
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pass_mark', sa.Integer(), nullable=True),
    sa.Column('max_attempts', sa.Integer(), nullable=True),
    sa.Column('time_limit_minutes', sa.Integer(), nullable=True),
    sa.Column('recert_months', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('max_attempts IS NULL OR max_attempts >= 1', name=op.f('ck_assignment_max_attempts')),
    sa.CheckConstraint('opens_at IS NULL OR due_at IS NULL OR opens_at < due_at', name=op.f('ck_assignment_dates')),
    sa.CheckConstraint('pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= 100)', name=op.f('ck_assignment_pass_mark')),
    sa.CheckConstraint('recert_months IS NULL OR recert_months >= 1', name=op.f('ck_assignment_recert_months')),
    sa.CheckConstraint('time_limit_minutes IS NULL OR time_limit_minutes >= 1', name=op.f('ck_assignment_time_limit')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_assignment_cohort_id_cohort'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_assignment_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_assignment_org_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['question_set.id'], name=op.f('fk_assignment_set_id_question_set')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_cohort', ['cohort_id'], unique=False)
        batch_op.create_index('ix_assignment_org', ['org_id', 'archived_at', 'due_at'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('manager', 'instructor', 'member')", name=op.f('ck_membership_role')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_membership_cohort_id_cohort'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_membership_org_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('org_id', 'user_id', name=op.f('uq_membership_org_id_user_id'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index('ix_membership_org_cohort', ['org_id', 'cohort_id', 'user_id'], unique=False)
        batch_op.create_index('ix_membership_user', ['user_id', 'org_id'], unique=False)

    op.create_table('assignment_person',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_assignment_person_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_assignment_person_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', 'user_id', name=op.f('pk_assignment_person'))
    )
    with op.batch_alter_table('assignment_person', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_person_user', ['user_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE attempt ADD COLUMN assignment_id INTEGER " + _SQLITE_INLINE_FK)
        _sqlite_edit_attempt(_SQLITE_INLINE_FK, _SQLITE_TABLE_FK)
    else:
        with op.batch_alter_table('attempt', schema=None) as batch_op:
            batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_attempt_assignment_id_assignment'), 'assignment',
                                        ['assignment_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('attempt', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_attempt_assignment_user', ['assignment_id', 'user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attempt', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_attempt_assignment_user')
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(batch_op.f('fk_attempt_assignment_id_assignment'), type_='foreignkey')
        else:
            # Back to the inline REFERENCES, which ALTER TABLE .. DROP COLUMN (3.35+) drops
            # with the column (it refuses a column named in a table constraint).
            _sqlite_edit_attempt(_SQLITE_TABLE_FK, _SQLITE_INLINE_FK)
        batch_op.drop_column('assignment_id')
    with op.batch_alter_table('assignment_person', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_person_user')

    op.drop_table('assignment_person')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_user')
        batch_op.drop_index('ix_membership_org_cohort')

    op.drop_table('membership')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_org')
        batch_op.drop_index('ix_assignment_cohort')

    op.drop_table('assignment')
    op.drop_table('cohort')
    op.drop_table('organisation')


# SQLite adds a column with ALTER TABLE only with its constraint written inline, and
# SQLAlchemy reads no constraint name from an inline REFERENCES; the models (and so
# `db check`, and a database made by create_all) name it as a table constraint. So the
# stored definition is then edited into that form, the way migration e4b7c91d2a60 edits
# question_revision's: the stored rows are the same either way.
_SQLITE_INLINE_FK = ("CONSTRAINT fk_attempt_assignment_id_assignment "
                     "REFERENCES assignment (id) ON DELETE SET NULL")
_SQLITE_TABLE_FK = ("CONSTRAINT fk_attempt_assignment_id_assignment "
                    "FOREIGN KEY(assignment_id) REFERENCES assignment (id) ON DELETE SET NULL")
_COLUMN = "assignment_id INTEGER"


def _sqlite_edit_attempt(old: str, new: str) -> None:
    """Move attempt.assignment_id's foreign key between the inline form (old or new is
    _SQLITE_INLINE_FK) and a table constraint at the end of the definition."""
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'attempt'").scalar()
    if old == _SQLITE_INLINE_FK:
        inline = f"{_COLUMN} {old}"
        head, close = table_sql.rstrip(), ")"
        if table_sql.count(inline) != 1 or not head.endswith(close):
            raise RuntimeError("attempt's definition is not as this migration left it: "
                               "change it by hand")
        edited = head[:-1].replace(inline, _COLUMN).rstrip() + f", {new})"
    else:
        ending = f", {old})"
        if table_sql.count(old) != 1 or not table_sql.rstrip().endswith(ending) \
                or table_sql.count(_COLUMN) != 1:
            raise RuntimeError("attempt's definition is not as this migration left it: "
                               "change it by hand")
        edited = table_sql.rstrip()[:-len(ending)] + ")"
        edited = edited.replace(_COLUMN, f"{_COLUMN} {new}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'attempt'", (edited,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    check = bind.exec_driver_sql("PRAGMA integrity_check").scalar()
    if check != "ok":
        raise RuntimeError(f"integrity check after the change: {check}")
