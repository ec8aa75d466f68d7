"""sign-in hardening: second-factor failures and last step, server-side remember-me

Revision ID: 5e7a1c0d9b42
Revises: 3c7e5a91b2d4
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5e7a1c0d9b42'
down_revision = '3c7e5a91b2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('remember_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('seen_at')
        batch_op.drop_column('remember_until')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_failures')
