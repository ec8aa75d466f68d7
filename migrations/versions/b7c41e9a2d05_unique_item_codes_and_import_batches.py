"""unique item codes (编号) and import batches

Existing duplicates of a code within an event are renamed visibly (the oldest
item keeps ``CG-003``, the others become ``CG-003-2``, ``CG-003-3`` …) and items
without a code get their group's next free number; each change is a ledger
entry chained like any other, so ``ledger verify`` still passes. Then the
database enforces one item per code and event.

Revision ID: b7c41e9a2d05
Revises: b7e4c2a91f3d
Create Date: 2026-12-02 06:40:00

"""
from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from tracker.clock import UTCDateTime
from tracker.items.codes import next_free
from tracker.items.ledger import GENESIS, KEYED, PLAIN, _head_mac, entry_hash, ledger_key

revision = 'b7c41e9a2d05'
down_revision = 'b7e4c2a91f3d'
branch_labels = None
depends_on = None

NOTE_DUPLICATE = "编号重复：{code} 由更早登记的事项保留，本事项改为 {new}。(Duplicate No.: the older item keeps {code}.)"
NOTE_MISSING = "补编号：事项原无编号。(The item had no No.; it gets its group's next free number.)"
MAX_CODE = 32


def upgrade():
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_import_batch_actor_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    # On SQLite, a plain ADD COLUMN with an inline reference: a batch rebuild of
    # ledger_entry would have to drop the table that evidence rows point at.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE ledger_entry ADD COLUMN import_batch_id INTEGER "
            "CONSTRAINT fk_ledger_entry_import_batch_id_import_batch REFERENCES import_batch (id)"
        )
    else:
        op.add_column('ledger_entry', sa.Column('import_batch_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_ledger_entry_import_batch_id_import_batch'), 'ledger_entry', 'import_batch', ['import_batch_id'], ['id']
        )
    op.add_column('ledger_entry', sa.Column('import_row', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_ledger_entry_import_batch_id'), 'ledger_entry', ['import_batch_id'], unique=False)

    _make_codes_unique(op.get_bind(), datetime.now(UTC))

    op.create_index('uq_item_event_code', 'item', ['event_id', 'code'], unique=True)


def _make_codes_unique(conn, now: datetime) -> None:
    items = conn.execute(sa.text(
        "SELECT item.id, item.event_id, item.code, item.version, work_group.code "
        "FROM item JOIN work_group ON work_group.id = item.group_id ORDER BY item.created_at, item.id"
    )).all()
    taken: dict[int, set[str]] = {}
    for _id, event_id, code, _version, _group in items:
        taken.setdefault(event_id, set())
    kept: dict[int, set[str]] = {event_id: set() for event_id in taken}
    for _id, event_id, code, _version, _group in items:
        if code:
            taken[event_id].add(code)
    changes = []  # (item id, version, old code, new code, note)
    for item_id, event_id, code, version, group_code in items:
        if code and code not in kept[event_id]:
            kept[event_id].add(code)  # the oldest holder keeps it
            continue
        if code:
            number = 2
            while (new := f"{code[:MAX_CODE - 1 - len(str(number))]}-{number}") in taken[event_id]:
                number += 1
            note = NOTE_DUPLICATE.format(code=code, new=new)
        else:
            new = next_free(taken[event_id], group_code)
            note = NOTE_MISSING
        taken[event_id].add(new)
        kept[event_id].add(new)
        changes.append((item_id, version, code, new, note))
    if not changes:
        return

    head = conn.execute(sa.text("SELECT last_hash, entries FROM ledger_head WHERE id = 1")).first()
    last_hash, count = (head[0], head[1]) if head else (GENESIS, 0)
    key = ledger_key()  # chained like any new entry: keyed when TRACKER_LEDGER_KEY is set
    ledger = sa.table(
        'ledger_entry',
        *(sa.column(name) for name in ('item_id', 'author_id', 'kind', 'item_version', 'field', 'before', 'after', 'note', 'prev_hash', 'hash', 'scheme')),
        sa.column('created_at', UTCDateTime()),
    )
    rows = []
    for item_id, version, old, new, note in changes:
        entry = SimpleNamespace(
            item_id=item_id, author_id=None, created_at=now, kind='field_changed', item_version=version,
            field='code', before=old, after=new, note=note, scheme=KEYED if key else PLAIN,
            snapshot=None, evidence=[], import_batch_id=None, import_row=None, names=None,
        )
        entry.prev_hash = last_hash
        entry.hash = last_hash = entry_hash(last_hash, entry, key)
        rows.append({k: v for k, v in vars(entry).items() if k not in ('snapshot', 'evidence', 'import_batch_id', 'import_row', 'names')})
        conn.execute(
            sa.text("UPDATE item SET code = :code, version = version + 1, updated_at = :now WHERE id = :id"),
            {"code": new, "id": item_id, "now": now if conn.dialect.name != 'sqlite' else now.replace(tzinfo=None)},
        )
    conn.execute(ledger.insert(), rows)
    count += len(rows)
    mac = _head_mac(key, SimpleNamespace(entries=count, last_hash=last_hash)) if key else None
    params = {"h": last_hash, "n": count, "m": mac}
    if head:
        conn.execute(sa.text("UPDATE ledger_head SET last_hash = :h, entries = :n, mac = :m WHERE id = 1"), params)
    else:
        conn.execute(sa.text("INSERT INTO ledger_head (id, last_hash, entries, mac) VALUES (1, :h, :n, :m)"), params)


def downgrade():
    op.drop_index('uq_item_event_code', table_name='item')
    op.drop_index(op.f('ix_ledger_entry_import_batch_id'), table_name='ledger_entry')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entry_import_batch_id_import_batch'), type_='foreignkey')
        batch_op.drop_column('import_row')
        batch_op.drop_column('import_batch_id')
    op.drop_table('import_batch')
