"""deadline extensions: extension requests, original deadline and extension count

Revision ID: e7a1c9d2b4f6
Revises: 2b19e9d3005f
Create Date: 2026-12-02 06:40:00.000000

Existing items get their ``original_deadline`` from the ledger: the first deadline ever
recorded (the ``before`` of the first deadline change, or its ``after`` when the item had
none yet), else the current deadline; ``extensions`` counts the later moves on record.
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c9d2b4f6'
down_revision = '2b19e9d3005f'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    op.create_table('extension_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_deadline', sa.Date(), nullable=True),
    sa.Column('to_deadline', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_direct', sa.Boolean(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_extension_request_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_extension_request_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_extension_request_requested_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension_request'))
    )
    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_request_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_extension_request_status', ['status', 'created_at'], unique=False)
        batch_op.create_index('uq_extension_request_pending', ['item_id'], unique=True, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('extensions', sa.Integer(), server_default='0', nullable=False))

    _backfill()


def _day(value):
    if value in (None, '', 'None'):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _backfill():
    conn = op.get_bind()
    item = sa.table('item', sa.column('id', sa.Integer), sa.column('deadline', sa.Date),
                    sa.column('original_deadline', sa.Date), sa.column('extensions', sa.Integer))
    entry = sa.table('ledger_entry', sa.column('id', sa.Integer), sa.column('item_id', sa.Integer),
                     sa.column('kind', sa.String), sa.column('before', sa.Text), sa.column('after', sa.Text))
    history = {}
    rows = conn.execute(
        sa.select(entry.c.item_id, entry.c.before, entry.c.after)
        .where(entry.c.kind == 'deadline_changed')
        .order_by(entry.c.id)
    )
    for item_id, before, after in rows:
        history.setdefault(item_id, []).append((_day(before), _day(after)))
    updates = []
    for item_id, deadline in conn.execute(sa.select(item.c.id, item.c.deadline)).all():
        moves = history.get(item_id, [])
        original = next((d for move in moves for d in move if d is not None), None)
        if original is None:
            original = _day(deadline)
        extended = sum(1 for before, after in moves if before is not None and after is not None and after > before)
        if original is not None or extended:
            updates.append({'item_id': item_id, 'original': original, 'extended': extended})
    statement = (
        sa.update(item)
        .where(item.c.id == sa.bindparam('item_id'))
        .values(original_deadline=sa.bindparam('original'), extensions=sa.bindparam('extended'))
    )
    for start in range(0, len(updates), BATCH):
        conn.execute(statement, updates[start:start + BATCH])


def downgrade():
    # In place (SQLite 3.35+ drops columns itself): rebuilding the item table would
    # trip the ledger's foreign keys, which SQLite checks when the old table is dropped.
    with op.batch_alter_table('item', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('extensions')
        batch_op.drop_column('original_deadline')

    with op.batch_alter_table('extension_request', schema=None) as batch_op:
        batch_op.drop_index('uq_extension_request_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.drop_index('ix_extension_request_status')
        batch_op.drop_index(batch_op.f('ix_extension_request_item_id'))

    op.drop_table('extension_request')
