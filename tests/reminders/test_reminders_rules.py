"""The reminder rules as pure functions: every boundary, with an explicit today."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tracker.reminders import rules
from tracker.reminders.rules import Due, Policy

POLICY = Policy()
DEADLINE = date(2026, 6, 30)


def reminders_on(today: date, status: str = "open", deadline: date | None = DEADLINE, policy: Policy = POLICY):
    return [(d.rule, d.audience, d.occurrence) for d in rules.item_reminders(status, deadline, today, policy)]


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (8, None),
        (7, 7),
        (6, 7),
        (4, 7),
        (3, 3),
        (2, 3),
        (1, 1),
        (0, 0),
        (-1, None),
    ],
)
def test_the_latest_threshold_passed_is_the_one_due(days_left, expected):
    assert rules.threshold_for(days_left, (7, 3, 1, 0)) == expected


def test_threshold_windows_cover_each_day_once():
    assert rules.threshold_windows((7, 3, 1, 0)) == [(0, 0, 0), (1, 1, 1), (3, 2, 3), (7, 4, 7)]
    assert rules.threshold_windows((7, 1)) == [(1, 0, 1), (7, 2, 7)]


def test_nothing_eight_days_before_the_deadline():
    assert reminders_on(DEADLINE - timedelta(days=8)) == []


@pytest.mark.parametrize("days", [7, 3, 1, 0])
def test_owner_reminded_on_each_configured_day(days):
    assert reminders_on(DEADLINE - timedelta(days=days)) == [(f"before-{days}", "owner", DEADLINE)]


def test_a_missed_threshold_is_caught_up_with_the_same_key():
    """Down on T-3, up on T-2: the T-3 reminder goes out, keyed by the deadline, so only once."""
    assert reminders_on(DEADLINE - timedelta(days=2)) == [("before-3", "owner", DEADLINE)]


def test_deadline_day_is_not_overdue():
    assert [r for r, *_ in reminders_on(DEADLINE)] == ["before-0"]


def test_first_overdue_day_reminds_owner_and_escalates_to_leads():
    today = DEADLINE + timedelta(days=1)
    assert reminders_on(today) == [("overdue", "owner", today), ("lead", "lead", DEADLINE)]


def test_committee_from_three_days_overdue():
    assert "committee" not in [r for r, *_ in reminders_on(DEADLINE + timedelta(days=2))]
    today = DEADLINE + timedelta(days=3)
    assert reminders_on(today) == [
        ("overdue", "owner", today),
        ("lead", "lead", DEADLINE),
        ("committee", "committee", DEADLINE),
    ]


def test_owner_overdue_reminder_is_daily():
    first, second = (rules.item_reminders("open", DEADLINE, DEADLINE + timedelta(days=n), POLICY)[0] for n in (4, 5))
    assert first.rule == second.rule == "overdue"
    assert first.occurrence != second.occurrence


@pytest.mark.parametrize("status", ["submitted", "closed", "cancelled"])
def test_handed_in_closed_and_cancelled_items_are_never_reminded(status):
    for offset in range(-10, 10):
        assert reminders_on(DEADLINE + timedelta(days=offset), status=status) == []


def test_in_progress_items_are_reminded():
    assert reminders_on(DEADLINE, status="in_progress") == [("before-0", "owner", DEADLINE)]


def test_no_deadline_no_reminder():
    assert reminders_on(DEADLINE, deadline=None) == []


def test_configured_days_and_escalation():
    policy = Policy(owner_days=(5,), lead_overdue_days=2, committee_overdue_days=4)
    assert reminders_on(DEADLINE - timedelta(days=5), policy=policy) == [("before-5", "owner", DEADLINE)]
    assert reminders_on(DEADLINE - timedelta(days=0), policy=policy) == [("before-5", "owner", DEADLINE)]
    assert [r for r, *_ in reminders_on(DEADLINE + timedelta(days=1), policy=policy)] == ["overdue"]
    assert [r for r, *_ in reminders_on(DEADLINE + timedelta(days=2), policy=policy)] == ["overdue", "lead"]
    assert [r for r, *_ in reminders_on(DEADLINE + timedelta(days=4), policy=policy)] == [
        "overdue",
        "lead",
        "committee",
    ]


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(8, None), (7, "milestone-7"), (2, "milestone-7"), (1, "milestone-1"), (0, "milestone-1"), (-1, None)],
)
def test_milestone_reminders_at_t7_and_t1(days_left, expected):
    day = date(2026, 9, 18)
    due = rules.milestone_reminder(day, day - timedelta(days=days_left), POLICY)
    assert (due.rule if due else None) == expected
    if due:
        assert due.occurrence == day


def test_digest_from_its_local_time_on():
    before = datetime(2026, 6, 1, 8, 29, 59)
    at = datetime(2026, 6, 1, 8, 30)
    assert rules.digest_due(before, POLICY) is None
    assert rules.digest_due(at, POLICY) == Due("digest", "everyone", date(2026, 6, 1))
    assert rules.digest_due(datetime(2026, 6, 1, 23, 59), POLICY).occurrence == date(2026, 6, 1)
    assert rules.digest_due(at, Policy(digest_at=time(9, 0))) is None


def test_digest_lists_owned_items_due_within_the_window_and_overdue():
    today = date(2026, 6, 1)
    args = dict(as_owner=True, as_lead=False, as_committee=False)
    assert rules.in_digest("open", today + timedelta(days=7), today, POLICY, **args)
    assert not rules.in_digest("open", today + timedelta(days=8), today, POLICY, **args)
    assert rules.in_digest("open", today - timedelta(days=30), today, POLICY, **args)
    assert not rules.in_digest("submitted", today, today, POLICY, **args)


def test_digest_for_leads_and_committee_follows_escalation_days():
    today = date(2026, 6, 10)
    lead = dict(as_owner=False, as_lead=True, as_committee=False)
    committee = dict(as_owner=False, as_lead=False, as_committee=True)
    assert not rules.in_digest("open", today, today, POLICY, **lead)
    assert rules.in_digest("open", today - timedelta(days=1), today, POLICY, **lead)
    assert not rules.in_digest("open", today - timedelta(days=2), today, POLICY, **committee)
    assert rules.in_digest("open", today - timedelta(days=3), today, POLICY, **committee)


def test_retry_backs_off_exponentially_then_gives_up():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    policy = Policy(max_attempts=4, retry_base_seconds=60)
    delays = [rules.retry_at(now, n, policy) - now for n in (1, 2, 3)]
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert rules.retry_at(now, 4, policy) is None


def test_retry_delay_is_capped():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert rules.retry_at(now, 19, Policy(max_attempts=20)) - now == timedelta(hours=6)


def test_a_row_is_current_only_for_its_rule_and_occurrence():
    due = rules.item_reminders("open", DEADLINE, DEADLINE - timedelta(days=2), POLICY)
    assert rules.is_current("before-3", DEADLINE, due)
    assert not rules.is_current("before-7", DEADLINE, due)  # superseded by the later threshold
    assert not rules.is_current("before-3", DEADLINE + timedelta(days=5), due)  # the deadline moved


def test_parse_days():
    assert rules.parse_days("0, 3,7，1") == (7, 3, 1, 0)
    with pytest.raises(ValueError):
        rules.parse_days("3,-1")
    with pytest.raises(ValueError):
        rules.parse_days("x")


def test_escalations_are_caught_up_for_a_week_then_left_to_the_digest():
    assert "lead" in [r for r, *_ in reminders_on(DEADLINE + timedelta(days=8))]
    assert "lead" not in [r for r, *_ in reminders_on(DEADLINE + timedelta(days=9))]
    assert "committee" in [r for r, *_ in reminders_on(DEADLINE + timedelta(days=10))]
    assert [r for r, *_ in reminders_on(DEADLINE + timedelta(days=11))] == ["overdue"]  # the owner, every day
