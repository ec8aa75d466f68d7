"""delivery occurrence index: on PostgreSQL the sweep reads a rule's queued rows by day before inserting

Revision ID: 5b1e8c3a9d07
Revises: 3f9c2a7d41b8
Create Date: 2026-12-02 14:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e8c3a9d07'
down_revision = '3f9c2a7d41b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_delivery_occurrence', 'delivery', ['local_date', 'rule'], unique=False)


def downgrade():
    op.drop_index('ix_delivery_occurrence', table_name='delivery')
