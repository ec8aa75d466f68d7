"""stored files: evidence and import uploads in the database, in chunks, for several app hosts

Revision ID: c3f9a7d41e20
Revises: 550dc62610ed
Create Date: 2026-12-02 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f9a7d41e20'
down_revision = '550dc62610ed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('bucket', 'name', name='uq_stored_file_bucket_name')
    )
    op.create_table('stored_chunk',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_stored_chunk_file_id_stored_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'seq', name=op.f('pk_stored_chunk'))
    )


def downgrade():
    op.drop_table('stored_chunk')
    op.drop_table('stored_file')
