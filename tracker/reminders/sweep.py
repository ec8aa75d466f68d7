"""The sweep: what is due becomes outbox rows, one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per rule.

Nothing here loops over items. Each statement selects the due (recipient, item, rule,
occurrence, channel) tuples and trusts the UNIQUE dedupe key to drop the ones already
queued, so running it again — or from a second process — inserts nothing. The windows
come from ``rules.threshold_windows`` so SQL and the pure rules agree.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from tracker import permissions
from tracker.auth.models import User
from tracker.clock import UTCDateTime
from tracker.extensions import db
from tracker.groups.models import WorkGroup, group_membership
from tracker.items.models import Item
from tracker.milestones.models import Milestone
from tracker.outbox.models import Delivery
from tracker.reminders import notices, rules
from tracker.reminders.models import NotificationPreference

COLUMNS = (
    "dedupe_key",
    "channel",
    "rule",
    "user_id",
    "group_id",
    "item_id",
    "milestone_id",
    "local_date",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
)
Pref = NotificationPreference
OPEN = Item.status.in_(rules.OPEN_STATUSES)


@dataclass
class Sweep:
    now: datetime
    today: date
    policy: rules.Policy
    email: bool  # SMTP configured: queue email rows too
    catch_up: int = 0  # days since the previous sweep (capped): how far back escalations are looked for

    def channels(self):
        names = ["inapp", "email"] if self.email else ["inapp"]
        selects = [select(literal_column(f"'{name}'").label("name")) for name in names]
        return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("ch")

    # Rules kept with their own area (notices.late_replies) queue rows through these: the sweep calls
    # them, so they cannot import this module.
    def key(self, *parts):
        return _key(*parts)

    def row(self, key, channel, rule, user_id, group_id, target, occurrence) -> tuple:
        return _row(self, key, channel, rule, user_id, group_id, target, occurrence)

    def unqueued(self, key, occurs: tuple):
        return _unqueued(key, occurs)

    def insert(self, query) -> int:
        return _insert(query)


def _text(value):
    if isinstance(value, str):
        return literal_column("'" + value.replace("'", "''") + "'", String)
    if isinstance(value, date):
        return literal_column(f"'{value.isoformat()}'", String)
    return cast(value, String)


def _key(*parts):
    """The dedupe key as one SQL string expression: 'u7|i42|before-3|2026-06-30|email'."""
    expr = _text(parts[0])
    for part in parts[1:]:
        expr = expr.op("||")(_text(part))
    return expr


def _occurrence(value):
    """(text for the key, value for the row) of an occurrence: a date, a column or a CASE pair."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, date):
        return _text(value), literal(value, Date)
    return _text(value), value


def _unqueued(key, occurs: tuple):
    """On PostgreSQL: ``key`` is not among the outbox rows of the rules and local dates in ``occurs``.

    On a re-run nearly every candidate is already queued, and on PostgreSQL each one that
    reaches the unique key costs a sequence value, an index probe and a heap visit: that
    was most of the re-run's time. The rows a statement can collide with are read once
    by ``ix_delivery_occurrence`` and hashed, and what is queued is dropped before the
    insert. ``NOT IN`` over an uncorrelated subquery is planned as a hashed subplan (while
    the keys fit in ``work_mem``, see ``run_sweep``) whatever the statistics say; a
    ``NOT EXISTS`` against the outbox is planned as an anti-join, which with stale
    statistics walked every row (50x slower). Only a filter: the unique key still decides,
    so a row queued meanwhile by another process is still dropped there. SQLite probes
    its unique key in-process for less than reading these rows would cost.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return true()
    rule_names, days = occurs
    queued = select(Delivery.dedupe_key).where(
        Delivery.rule.in_(sorted(rule_names)), Delivery.local_date.in_(sorted(days))
    )
    return key.not_in(queued)


def _insert(query) -> int:
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(Delivery).from_select(COLUMNS, query).on_conflict_do_nothing(index_elements=["dedupe_key"])
    # Without preserve_rowcount an INSERT's count is lost once the cursor closes (psycopg).
    return max(db.session.connection().execute(stmt.execution_options(preserve_rowcount=True)).rowcount, 0)


def _row(sw: Sweep, key, channel, rule, user_id, group_id, target, occurrence):
    prefix, target_col = target
    now = literal(sw.now, UTCDateTime())
    none = cast(null(), Integer)  # typed: PostgreSQL reads an untyped NULL under DISTINCT as text
    return (
        key,
        channel,
        _text(rule) if isinstance(rule, str) else rule,
        none if user_id is None else user_id,
        none if group_id is None else group_id,
        target_col if prefix == "|i" else none,
        target_col if prefix == "|m" else none,
        occurrence,
        literal_column("'pending'"),
        literal_column("0"),
        now,
        now,
    )


def _to_users(sw: Sweep, source, where, *, target, rule, occurrence, occurs: tuple, single: bool) -> int:
    """Rows for users (in-app, and email where wanted) from ``source``, which joins User.

    When ``source`` pairs users with items, only pairs where the user may read the item
    make a row: nobody is told about an item they could not open. ``occurs``: the (rule
    names, local dates) the rows can have (see ``_unqueued``).
    """
    if target[0] in ("|i", "|m"):
        where = [*where, permissions.item_readable_by(Item, User, group_membership)]
    ch = sw.channels()
    prefix, target_col = target
    day_text, day = _occurrence(occurrence)
    key = _key("u", User.id, prefix, *([target_col] if target_col is not None else []), "|", rule, "|", day_text)
    key = key.op("||")(literal_column("'|'")).op("||")(ch.c.name)
    mode_ok = func.coalesce(Pref.digest_mode, "both") != ("digest" if single else "singles")
    wants_email = and_(User.email.is_not(None), User.email != "", func.coalesce(Pref.email_enabled, true()))
    query = (
        select(*_row(sw, key, ch.c.name, rule, User.id, None, target, day))
        .select_from(source)
        .join(ch, true())
        .outerjoin(Pref, Pref.user_id == User.id)
        .where(
            *where,
            User.is_active_account.is_(True),
            mode_ok,
            or_(ch.c.name == "inapp", wants_email),
            _unqueued(key, occurs),
        )
    )
    # A user may reach the same milestone through several items: one row each.
    return _insert(query.distinct() if prefix == "|m" else query)


def _to_groups(sw: Sweep, source, where, *, target, rule, occurrence, occurs: tuple) -> int:
    """Rows for work-group chat robots: only groups with a webhook, only what any member may read."""
    prefix, target_col = target
    day_text, day = _occurrence(occurrence)
    key = _key("g", WorkGroup.id, prefix, target_col, "|", rule, "|", day_text, "|webhook")
    query = (
        select(*_row(sw, key, literal_column("'webhook'"), rule, None, WorkGroup.id, target, day))
        .select_from(source)
        .where(
            *where,
            WorkGroup.webhook_url.is_not(None),
            WorkGroup.webhook_url != "",
            permissions.item_visibility(permissions.chat_robot_reader(), Item),
            _unqueued(key, occurs),
        )
    )
    return _insert(query.distinct() if prefix == "|m" else query)


def _owners():
    return Item.__table__.join(User, User.id == Item.owner_id)


def _members():
    return Item.__table__.join(group_membership, group_membership.c.group_id == Item.group_id).join(
        User, User.id == group_membership.c.user_id
    )


def _robots():
    return Item.__table__.join(WorkGroup, WorkGroup.id == Item.group_id)


ITEM = ("|i", Item.id)


def owner_before(sw: Sweep) -> int:
    """The owner at N days before the deadline (the latest threshold passed, so a gap is caught up once).

    ``rules.before_rules`` lists the deadline days due today with their rule (a handful of
    days: working days, holidays and the day-off shift are all settled there).
    """
    due = rules.before_rules(sw.today, sw.policy.owner_days, sw.policy)
    if not due:
        return 0
    by_rule: dict[str, list[date]] = {}
    for day, rule_name in due.items():
        by_rule.setdefault(rule_name, []).append(day)
    rule = case(*[(Item.deadline.in_(days), _text(name)) for name, days in by_rule.items()])
    where = [OPEN, Item.deadline.in_(list(due))]
    occurs = (by_rule, due)
    count = _to_users(
        sw, _owners(), where, target=ITEM, rule=rule, occurrence=Item.deadline, occurs=occurs, single=True
    )
    return count + _to_groups(sw, _robots(), where, target=ITEM, rule=rule, occurrence=Item.deadline, occurs=occurs)


def owner_overdue(sw: Sweep) -> int:
    if not rules.item_reminders("open", sw.today - timedelta(days=1), sw.today, sw.policy):
        return 0  # a day off on which daily reminders wait
    where = [OPEN, Item.deadline < sw.today]
    occurs = (["overdue"], [sw.today])
    count = _to_users(
        sw, _owners(), where, target=ITEM, rule="overdue", occurrence=sw.today, occurs=occurs, single=True
    )
    return count + _to_groups(sw, _robots(), where, target=ITEM, rule="overdue", occurrence=sw.today, occurs=occurs)


def _late_between(sw: Sweep, days: int) -> list[date]:
    """Deadlines of items that became ``days`` overdue since the previous sweep: escalation is an event.

    Looking back only over the days since the last sweep (at most ``catch_up_days``, the
    window rules.item_reminders accepts) keeps the re-run from re-checking every
    escalation of the past week.
    """
    return rules.escalation_deadlines(sw.today, days, sw.catch_up, sw.policy)


def _leads():
    """Items joined with the leads of their group, reached from the leads (a few per group).

    Joined from all memberships instead, PostgreSQL walks every member of every group
    with a late item and only then drops those who are not leads (80,000 rows for 500).
    """
    leads = (
        select(group_membership.c.user_id, group_membership.c.group_id)
        .join(User, User.id == group_membership.c.user_id)
        .where(User.role == "lead")
    )
    if db.session.get_bind().dialect.name == "postgresql":
        leads = leads.cte("leads").prefix_with("MATERIALIZED")
    else:  # a statement opening with WITH gets no row count from sqlite3: the rule would report 0
        leads = leads.subquery("leads")
    return Item.__table__.join(leads, leads.c.group_id == Item.group_id).join(User, User.id == leads.c.user_id)


def escalate_to_leads(sw: Sweep) -> int:
    deadlines = _late_between(sw, sw.policy.lead_overdue_days)
    where = [OPEN, Item.deadline.in_(deadlines)]
    occurs = (["lead"], deadlines)
    return _to_users(
        sw, _leads(), where, target=ITEM, rule="lead", occurrence=Item.deadline, occurs=occurs, single=True
    )


def escalate_to_committee(sw: Sweep) -> int:
    deadlines = _late_between(sw, sw.policy.committee_overdue_days)
    where = [OPEN, Item.deadline.in_(deadlines)]
    committee = Item.__table__.join(User, User.role == "committee")
    occurs = (["committee"], deadlines)
    return _to_users(
        sw, committee, where, target=ITEM, rule="committee", occurrence=Item.deadline, occurs=occurs, single=True
    )


def milestones(sw: Sweep) -> int:
    """Members of groups with open items tied to a milestone, at its T-7 and T-1 (configurable).

    A member is reminded only through tied items they may read (an external account
    only through the items assigned to them).
    """
    due = {}
    for milestone in db.session.scalars(select(Milestone)):
        reminder = rules.milestone_reminder(milestone.date, sw.today, sw.policy) if milestone.date else None
        if reminder:
            due[milestone.id] = reminder
    if not due:
        return 0
    rule = case(*[(Item.milestone_id == mid, _text(d.rule)) for mid, d in due.items()])
    day_text = case(*[(Item.milestone_id == mid, _text(d.occurrence)) for mid, d in due.items()])
    day = case(*[(Item.milestone_id == mid, literal(d.occurrence, Date)) for mid, d in due.items()])
    where = [OPEN, Item.milestone_id.in_(list(due))]
    target = ("|m", Item.milestone_id)
    occurrence = (day_text, day)
    occurs = ({d.rule for d in due.values()}, {d.occurrence for d in due.values()})
    count = _to_users(
        sw, _members(), where, target=target, rule=rule, occurrence=occurrence, occurs=occurs, single=True
    )
    return count + _to_groups(sw, _robots(), where, target=target, rule=rule, occurrence=occurrence, occurs=occurs)


def digest(sw: Sweep) -> int:
    """Today's digest for every user with something in it: owned items due soon or overdue, escalations."""
    window_end = sw.today + timedelta(days=sw.policy.digest_window_days)
    owners = select(Item.owner_id.label("uid")).where(OPEN, Item.owner_id.is_not(None), Item.deadline <= window_end)
    leads = (
        select(User.id.label("uid"))
        .select_from(_members())
        .where(OPEN, User.role == "lead", Item.deadline <= sw.today - timedelta(days=sw.policy.lead_overdue_days))
    )
    late = select(Item.id).where(OPEN, Item.deadline <= sw.today - timedelta(days=sw.policy.committee_overdue_days))
    committee = select(User.id.label("uid")).where(User.role == "committee", late.exists())
    uids = union(owners, leads, committee).subquery("uids")
    source = User.__table__.join(uids, uids.c.uid == User.id)
    occurs = (["digest"], [sw.today])
    return _to_users(
        sw, source, [true()], target=("|-", None), rule="digest", occurrence=sw.today, occurs=occurs, single=False
    )


def run_sweep(
    now: datetime,
    today: date,
    policy: rules.Policy,
    *,
    email: bool,
    with_digest: bool,
    last_swept_on: date | None = None,
) -> dict[str, int]:
    """Queue everything due at ``now``; the caller commits. Returns rows added per rule.

    ``last_swept_on`` is the local day of the previous sweep (None: unknown, look back the
    full ``catch_up_days``).
    """
    gap = (today - last_swept_on).days if last_swept_on else policy.catch_up_days
    sw = Sweep(now=now, today=today, policy=policy, email=email, catch_up=max(0, min(gap, policy.catch_up_days)))
    if db.session.get_bind().dialect.name == "sqlite":
        # The outbox's unique index outgrows SQLite's default 2 MB page cache within weeks;
        # with it on disk every insert and conflict check pays for page reads.
        db.session.execute(text("PRAGMA cache_size=-65536"))
    else:
        # Each statement hashes the queued keys it may collide with (_unqueued). PostgreSQL
        # hashes them only if it estimates they fit in work_mem x hash_mem_multiplier (8 MB,
        # ~130,000 keys), and otherwise scans the whole list again for every candidate.
        # Room for about a million, for this transaction only.
        db.session.execute(text("SET LOCAL hash_mem_multiplier = 16"))
    counts = {
        "before": owner_before(sw),
        "overdue": owner_overdue(sw),
        "lead": escalate_to_leads(sw),
        "committee": escalate_to_committee(sw),
        "milestone": milestones(sw),
    }
    counts.update(notices.late_replies(sw))
    if with_digest:
        counts["digest"] = digest(sw)
    return counts
