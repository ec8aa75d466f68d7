"""ledger entry names (the names behind ids in before/after) and notification data
(what a reminder was made from, to show it in the reader's language)

Revision ID: 3c7e5a91b2d4
Revises: b7c41e9a2d05
Create Date: 2026-12-02 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c7e5a91b2d4'
down_revision = 'b7c41e9a2d05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('names', sa.Text(), nullable=True))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('data')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('names')
