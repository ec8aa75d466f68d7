"""ledger keyed chain: entry hash scheme, creation snapshot, head MAC

Revision ID: b7e4c2a91f3d
Revises: e7a1c9d2b4f6
Create Date: 2026-12-02 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4c2a91f3d'
down_revision = 'e7a1c9d2b4f6'
branch_labels = None
depends_on = None


def upgrade():
    # Existing entries keep scheme NULL: they verify with the hash they were written with.
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheme', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.Text(), nullable=True))

    with op.batch_alter_table('ledger_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('ledger_head', schema=None) as batch_op:
        batch_op.drop_column('mac')

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('snapshot')
        batch_op.drop_column('scheme')
