"""The workflow and the lights, as pure functions: no app, no database."""

from datetime import date, timedelta

import pytest

from tracker.items import rules
from tracker.items.rules import LightThresholds, light

ISSUED = date(2026, 5, 1)
DEADLINE = date(2026, 5, 31)  # 30 days after issue


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("open", "start", "in_progress"),
        ("in_progress", "submit", "submitted"),
        ("submitted", "verify", "closed"),
        ("submitted", "reject", "in_progress"),
        ("closed", "reopen", "in_progress"),
        ("open", "cancel", "cancelled"),
        ("submitted", "cancel", "cancelled"),
    ],
)
def test_allowed_transitions(status, action, after):
    assert rules.next_status(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [("open", "submit"), ("open", "verify"), ("in_progress", "verify"), ("closed", "cancel"), ("cancelled", "reopen")],
)
def test_forbidden_transitions_raise(status, action):
    with pytest.raises(rules.TransitionError):
        rules.next_status(status, action)


def test_reason_required_for_reject_reopen_cancel():
    assert rules.REASON_REQUIRED == {"reject", "reopen", "cancel"}


def test_overdue_starts_the_day_after_the_deadline():
    assert not rules.is_overdue("in_progress", DEADLINE, DEADLINE)
    assert rules.is_overdue("in_progress", DEADLINE, date(2026, 6, 1))


@pytest.mark.parametrize("status", ["submitted", "closed", "cancelled"])
def test_handed_in_items_are_never_overdue(status):
    assert not rules.is_overdue(status, DEADLINE, date(2026, 7, 1))


def test_expected_progress_is_the_elapsed_share():
    assert rules.expected_progress(ISSUED, DEADLINE, date(2026, 5, 16)) == 50
    assert rules.expected_progress(ISSUED, DEADLINE, date(2026, 4, 1)) == 0
    assert rules.expected_progress(ISSUED, DEADLINE, date(2026, 7, 1)) == 100


def test_overdue_is_red():
    assert light("in_progress", 99, ISSUED, DEADLINE, date(2026, 6, 1)) == "red"


def test_lag_over_thirty_points_is_red():
    # Day 15 of 30: expected 50 %.
    today = date(2026, 5, 16)
    assert light("in_progress", 19, ISSUED, DEADLINE, today) == "red"  # lag 31
    assert light("in_progress", 20, ISSUED, DEADLINE, today) == "amber"  # lag 30


def test_lag_ten_to_thirty_points_is_amber():
    today = date(2026, 5, 16)
    assert light("in_progress", 40, ISSUED, DEADLINE, today) == "amber"  # lag 10
    assert light("in_progress", 41, ISSUED, DEADLINE, today) == "green"  # lag 9


def test_due_within_three_days_is_amber():
    assert light("in_progress", 100, ISSUED, DEADLINE, date(2026, 5, 28)) == "amber"
    assert light("in_progress", 100, ISSUED, date(2026, 6, 30), date(2026, 5, 26)) == "green"


@pytest.mark.parametrize("status", ["submitted", "closed", "cancelled"])
def test_handed_in_items_are_green(status):
    assert light(status, 0, ISSUED, DEADLINE, date(2026, 7, 1)) == "green"


def test_thresholds_are_configurable():
    today = date(2026, 5, 16)
    strict = LightThresholds(red_lag=5, amber_lag=1, amber_days=0)
    assert light("in_progress", 40, ISSUED, DEADLINE, today, strict) == "red"


def test_group_takes_the_worst_light():
    assert rules.worst_light(["green", "amber", "green"]) == "amber"
    assert rules.worst_light(["green", "red", "amber"]) == "red"
    assert rules.worst_light([]) == "green"


def test_a_lag_of_exactly_thirty_points_is_amber_for_any_span():
    for total in range(10, 400, 10):
        issued = date(2026, 1, 1)
        deadline = issued + timedelta(days=total)
        today = issued + timedelta(days=total * 3 // 10)  # 30 % of the time gone
        assert light("in_progress", 0, issued, deadline, today, LightThresholds(amber_days=0)) == "amber", total
