"""initial schema

Revision ID: d62943bb080f
Revises: 
Create Date: 2026-11-25 12:01:21.498287

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd62943bb080f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('section',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_section'))
    )
    op.create_table('topic',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('learner', 'instructor', 'admin')", name=op.f('ck_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_user_session_token'))
    )
    op.create_table('key_point',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('section_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('safety_critical', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_key_point_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_point'))
    )
    op.create_table('question',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('topic_id', sa.String(length=64), nullable=False),
    sa.Column('current_revision_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_question_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question'))
    )
    op.create_table('question_set',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('topic_id', sa.String(length=64), nullable=True),
    sa.Column('draw_count', sa.Integer(), nullable=True),
    sa.Column('draw_topics', sa.JSON(), nullable=True),
    sa.Column('pass_mark', sa.Integer(), nullable=True),
    sa.Column('include_safety_critical', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('topic', 'random')", name=op.f('ck_question_set_kind')),
    sa.CheckConstraint('pass_mark IS NULL OR (pass_mark BETWEEN 0 AND 100)', name=op.f('ck_question_set_pass_mark')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_question_set_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_set'))
    )
    op.create_table('attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('pass_mark', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'submitted') = (submitted_at IS NOT NULL)", name=op.f('ck_attempt_submitted_at')),
    sa.CheckConstraint("status IN ('in_progress', 'submitted')", name=op.f('ck_attempt_status')),
    sa.ForeignKeyConstraint(['set_id'], ['question_set.id'], name=op.f('fk_attempt_set_id_question_set')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attempt_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt'))
    )
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_user_set', ['user_id', 'set_id'], unique=False)
        batch_op.create_index('uq_attempt_one_open', ['user_id', 'set_id'], unique=True, sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))

    op.create_table('question_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('qtype', sa.String(length=16), nullable=False),
    sa.Column('difficulty', sa.String(length=8), nullable=False),
    sa.Column('scenario', sa.Boolean(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("difficulty IN ('easy', 'medium', 'hard')", name=op.f('ck_question_revision_difficulty')),
    sa.CheckConstraint("qtype IN ('single', 'multiple', 'true_false', 'matching', 'ordering')", name=op.f('ck_question_revision_qtype')),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_question_revision_question_id_question')),
    sa.ForeignKeyConstraint(['source_id'], ['section.id'], name=op.f('fk_question_revision_source_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_revision')),
    sa.UniqueConstraint('question_id', 'number', name=op.f('uq_question_revision_question_id_number'))
    )
    # question <-> question_revision refer to each other: add this key once both exist.
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f('fk_question_current_revision_id_question_revision'),
            'question_revision', ['current_revision_id'], ['id'])
    op.create_table('attempt_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('layout', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 1)', name=op.f('ck_attempt_question_score')),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_attempt_question_attempt_id_attempt')),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_attempt_question_question_id_question')),
    sa.ForeignKeyConstraint(['revision_id'], ['question_revision.id'], name=op.f('fk_attempt_question_revision_id_question_revision')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_question')),
    sa.UniqueConstraint('attempt_id', 'position', name=op.f('uq_attempt_question_attempt_id_position')),
    sa.UniqueConstraint('attempt_id', 'question_id', name=op.f('uq_attempt_question_attempt_id_question_id'))
    )
    op.create_table('revision_key_point',
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('key_point_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['key_point_id'], ['key_point.id'], name=op.f('fk_revision_key_point_key_point_id_key_point')),
    sa.ForeignKeyConstraint(['revision_id'], ['question_revision.id'], name=op.f('fk_revision_key_point_revision_id_question_revision')),
    sa.PrimaryKeyConstraint('revision_id', 'key_point_id', name=op.f('pk_revision_key_point'))
    )


def downgrade():
    op.drop_table('revision_key_point')
    op.drop_table('attempt_question')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('fk_question_current_revision_id_question_revision'), type_='foreignkey')
    op.drop_table('question_revision')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('uq_attempt_one_open', sqlite_where=sa.text("status = 'in_progress'"), postgresql_where=sa.text("status = 'in_progress'"))
        batch_op.drop_index('ix_attempt_user_set')

    op.drop_table('attempt')
    op.drop_table('question_set')
    op.drop_table('question')
    op.drop_table('key_point')
    op.drop_table('user')
    op.drop_table('topic')
    op.drop_table('section')
