"""onboarding: invitation, join_code, certificate, reminder_sent, attempt.deadline_at

Clinics bringing staff in (invitations, join codes), certificates of passed assignments,
the reminder mails already sent (each once), and the server-side deadline of a timed
attempt. attempt.deadline_at is added and dropped in place (ALTER TABLE on SQLite too,
never a copy of the table; see a7c3e9f2b410).

Revision ID: c5d8e2a4f601
Revises: a7c3e9f2b410
Create Date: 2026-12-07 22:03:28.059056

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d8e2a4f601'
down_revision = 'a7c3e9f2b410'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_user_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('manager', 'instructor', 'member')", name=op.f('ck_invitation_role')),
    sa.ForeignKeyConstraint(['accepted_user_id'], ['user.id'], name=op.f('fk_invitation_accepted_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_invitation_cohort_id_cohort'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_invitation_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_invitation_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_email', ['email'], unique=False)
        batch_op.create_index('ix_invitation_org', ['org_id', 'accepted_at', 'created_at'], unique=False)

    op.create_table('join_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), server_default='0', nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('max_uses IS NULL OR max_uses >= 1', name=op.f('ck_join_code_max_uses')),
    sa.CheckConstraint('uses >= 0', name=op.f('ck_join_code_uses')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_join_code_cohort_id_cohort'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_join_code_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_join_code_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_code')),
    sa.UniqueConstraint('code', name=op.f('uq_join_code_code'))
    )
    with op.batch_alter_table('join_code', schema=None) as batch_op:
        batch_op.create_index('ix_join_code_org', ['org_id', 'created_at'], unique=False)

    op.create_table('reminder_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('due_soon', 'overdue')", name=op.f('ck_reminder_sent_kind')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_reminder_sent_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_reminder_sent_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sent')),
    sa.UniqueConstraint('assignment_id', 'user_id', 'kind', 'due_at', name=op.f('uq_reminder_sent_assignment_id_user_id_kind_due_at'))
    )
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('learner_name', sa.String(length=100), nullable=False),
    sa.Column('set_title', sa.String(length=200), nullable=False),
    sa.Column('org_name', sa.String(length=120), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_certificate_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], name=op.f('fk_certificate_attempt_id_attempt'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_certificate_org_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_certificate_revoked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_certificate_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_certificate_attempt_id')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_org', ['org_id', 'assignment_id', 'user_id'], unique=False)
        batch_op.create_index('ix_certificate_user', ['user_id', 'issued_at'], unique=False)

    with op.batch_alter_table('attempt', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('attempt', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('deadline_at')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_user')
        batch_op.drop_index('ix_certificate_org')

    op.drop_table('certificate')
    op.drop_table('reminder_sent')
    with op.batch_alter_table('join_code', schema=None) as batch_op:
        batch_op.drop_index('ix_join_code_org')

    op.drop_table('join_code')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index('ix_invitation_org')
        batch_op.drop_index('ix_invitation_email')

    op.drop_table('invitation')
