"""audit_event: who changed what in the bank and the accounts, and when

Revision ID: 5f2c8a1e9d34
Revises: b8d4e2f61a07
Create Date: 2026-11-26 00:47:31.078844

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5f2c8a1e9d34'
down_revision = 'b8d4e2f61a07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_audit_event_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity_type', 'entity_id', 'at'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index('ix_audit_event_at')
        batch_op.drop_index('ix_audit_event_actor')

    op.drop_table('audit_event')
