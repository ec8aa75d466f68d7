"""board reference version: a counter bumped with every change to the event, groups, milestones or working days

Revision ID: 9b8cc7d17469
Revises: 550dc62610ed
Create Date: 2026-12-02 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b8cc7d17469'
down_revision = '550dc62610ed'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('reference_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('reference_version')
