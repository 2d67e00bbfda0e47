"""accounts in the browser: user.active, user.last_login_at, password_reset

Revision ID: 8a3f61c2d9e7
Revises: 6b1d94e7c2a8
Create Date: 2026-11-26 01:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '8a3f61c2d9e7'
down_revision = '6b1d94e7c2a8'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on SQLite too, never a copy of the table: other tables' foreign
    # keys point at "user", and SQLite would refuse to drop the original.
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        # Existing accounts stay active.
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('password_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                            name=op.f('fk_password_reset_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                            name=op.f('fk_password_reset_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_token_hash'))
    )
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.create_index('ix_password_reset_user', ['user_id', 'used_at'], unique=False)


def downgrade():
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.drop_index('ix_password_reset_user')
    op.drop_table('password_reset')

    # ALTER TABLE .. DROP COLUMN (SQLite 3.35+), for the same reason.
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('active')
