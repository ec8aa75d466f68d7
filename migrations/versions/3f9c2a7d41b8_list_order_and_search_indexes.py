"""list order and search indexes: the lists read a page off an index; search uses trigrams

SQLite gets an FTS5 table with the trigram tokenizer kept in step by triggers,
PostgreSQL a pg_trgm GIN index on the item's text; both are filled here.

Revision ID: 3f9c2a7d41b8
Revises: c3f9a7d41e20
Create Date: 2026-12-02 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tracker.items import search_index


# revision identifiers, used by Alembic.
revision = '3f9c2a7d41b8'
down_revision = 'c3f9a7d41e20'
branch_labels = None
depends_on = None

FINISHED_LAST = sa.text("(CASE WHEN status IN ('closed', 'cancelled') THEN 1 ELSE 0 END)")
NO_DEADLINE_LAST = sa.text("(deadline IS NULL)")
INDEXES = {
    'ix_item_list_order': [FINISHED_LAST, NO_DEADLINE_LAST, 'deadline', 'id'],
    'ix_item_group_list_order': ['group_id', FINISHED_LAST, NO_DEADLINE_LAST, 'deadline', 'id'],
    'ix_item_deadline_order': [NO_DEADLINE_LAST, 'deadline', 'id'],
    'ix_item_updated': ['updated_at', 'id'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'item', columns, unique=False)
    for statement in search_index.statements(op.get_bind().dialect.name, create=True):
        op.execute(statement)


def downgrade():
    for statement in search_index.statements(op.get_bind().dialect.name, create=False):
        op.execute(statement)
    for name in INDEXES:
        op.drop_index(name, table_name='item')
