from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.clock import UTCDateTime, utcnow
from tracker.extensions import db
from tracker.items import search_index
from tracker.items.rules import FINISHED_STATUSES, OPEN_STATUSES, Status, is_overdue

KINDS = ("problem", "task")
STATUSES = tuple(Status)
SEVERITIES = ("high", "medium", "low")
KEY_AREAS = (
    "competition",
    "accessibility",
    "reception",
    "safety",
    "transition",
    "venue",
    "ceremony",
    "volunteer",
    "medical",
    "antidoping",
    "logistics",
    "publicity",
    "discipline",
    "third_party",
)
SOURCES = (
    "meeting_decision",
    "leader_inspection",
    "superior_guidance",
    "self_check",
    "safety_inspection",
    "accessibility_audit",
    "exercise_debrief",
    "discipline_finding",
    "public_feedback",
)

# The lists' default order (work still to do first, soonest deadline first, no deadline
# last) as plain SQL: the same text in the index and in ORDER BY, so both databases
# read a page straight off the index instead of sorting every row.
FINISHED_LAST = text(
    "(CASE WHEN status IN ({}) THEN 1 ELSE 0 END)".format(", ".join(f"'{s}'" for s in FINISHED_STATUSES))
)
NO_DEADLINE_LAST = text("(deadline IS NULL)")

item_supporting_group = Table(
    "item_supporting_group",
    db.metadata,
    Column("item_id", Integer, ForeignKey("item.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("work_group.id", ondelete="CASCADE"), primary_key=True),
)


class Item(db.Model):
    """One row of the lists: the problem, who owns it by when, and its rectification state."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="problem")
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    key_area: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8), default="medium")
    group_id: Mapped[int] = mapped_column(ForeignKey("work_group.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    measures: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    # The first deadline ever set, and how many times it was extended since (延期次数).
    original_deadline: Mapped[date | None] = mapped_column(Date)
    extensions: Mapped[int] = mapped_column(default=0, server_default="0")
    acceptance_criteria: Mapped[str] = mapped_column(Text, default="")
    found_on: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"))
    is_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=Status.OPEN)
    progress: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the committee rejects (退回), cleared when the item is submitted again.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group = relationship("WorkGroup", lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    milestone = relationship("Milestone")
    supporting_groups = relationship("WorkGroup", secondary=item_supporting_group)
    ledger = relationship("LedgerEntry", back_populates="item", order_by="LedgerEntry.id", viewonly=True)

    @property
    def is_open(self) -> bool:
        """Not started or in progress: the work is still to do (reminded, lit, overdue-able)."""
        return self.status in OPEN_STATUSES

    @property
    def is_finished(self) -> bool:
        """Closed or cancelled."""
        return self.status in FINISHED_STATUSES

    def is_overdue(self, today: date) -> bool:
        return is_overdue(self.status, self.deadline, today)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Covers the board's GROUP BY and the list filters.
        Index("ix_item_board", "event_id", "group_id", "status", "deadline"),
        Index("ix_item_owner_status", "owner_id", "status"),
        # The reminder sweep selects open items by deadline window; this covering index keeps its
        # work proportional to the items due, not to all items, and off the item rows themselves.
        # The lists' overdue and due-soon filters use it too.
        Index("ix_item_reminder_due", "status", "deadline", "owner_id", "group_id", "is_confidential", "milestone_id"),
        # The earliest and latest deadline.
        Index("ix_item_deadline", "deadline", "id"),
        # The lists' default order, for everyone and within one group; sorting by last update.
        Index("ix_item_list_order", FINISHED_LAST, NO_DEADLINE_LAST, "deadline", "id"),
        Index("ix_item_group_list_order", "group_id", FINISHED_LAST, NO_DEADLINE_LAST, "deadline", "id"),
        Index("ix_item_deadline_order", NO_DEADLINE_LAST, "deadline", "id"),
        Index("ix_item_updated", "updated_at", "id"),
        # 编号 is the key a 台账 sheet updates by: one item per reference in an event.
        # A unique index rather than a constraint: SQLite adds it without rebuilding the table.
        Index("uq_item_event_code", "event_id", "code", unique=True),
    )


search_index.install(Item.__table__)
# Expression indexes: SQLite cannot reflect them and PostgreSQL gives back its own spelling.
EXPRESSION_INDEXES = frozenset({"ix_item_list_order", "ix_item_group_list_order", "ix_item_deadline_order"})


def compared_with_migrations(object_, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic's ``include_object``: leave out what schema comparison cannot judge.

    The search index is made by its own statements (``search_index``), not by the models.
    """
    if type_ == "table":
        return not (name or "").startswith(search_index.TABLE)
    if type_ == "index":
        return name not in EXPRESSION_INDEXES and name != "ix_item_search_trgm"
    return True


class LedgerEntry(db.Model):
    """The rectification ledger: append-only, hash-chained across the whole ledger."""

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    # The item version this change was made against (0 for creation): a stale
    # editor at version N is shown the entries with item_version >= N.
    item_version: Mapped[int] = mapped_column(default=0)
    field: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    # JSON: the names behind before/after when they are ids or codes (see items/history.py).
    names: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Set when the change came from an imported sheet: which upload and which row.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    import_row: Mapped[int | None]
    # How ``hash`` is computed (see ledger.py): None for entries from before schemes.
    scheme: Mapped[str | None] = mapped_column(String(8))
    # A "created" entry's item fields as JSON, so the ledger can be replayed.
    snapshot: Mapped[str | None] = mapped_column(Text)

    item = relationship("Item", back_populates="ledger")
    import_batch = relationship("ImportBatch")
    author = relationship("User")
    evidence = relationship("Evidence", back_populates="entry", order_by="Evidence.id")


class LedgerHead(db.Model):
    """One row: the newest hash. Locking it serialises appends so the chain never forks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(default=0)
    # HMAC of (entries, last_hash) under TRACKER_LEDGER_KEY, when the key is set.
    mac: Mapped[str | None] = mapped_column(String(64))


class Evidence(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Random name on disk: the path cannot be guessed from the item or file name.
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry = relationship("LedgerEntry", back_populates="evidence")


class ImportBatch(db.Model):
    """One imported 台账 sheet: its ledger entries point here for the file name and the row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)


EXTENSION_STATUSES = ("pending", "approved", "refused")


class ExtensionRequest(db.Model):
    """A deadline extension (延期): requested by the owner or a lead, decided by the committee.

    A direct change by the committee is recorded here too, already approved
    (``is_direct``), so every extension is one row. At most one request per item
    is pending: the partial unique index holds that even for two requests at once.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_deadline: Mapped[date | None] = mapped_column(Date)
    to_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    item = relationship("Item")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (
        Index(
            "uq_extension_request_pending",
            "item_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_extension_request_status", "status", "created_at"),
    )
