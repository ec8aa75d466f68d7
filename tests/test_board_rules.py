"""The lights (红黄绿灯) at their boundaries: pure rules, plain values, explicit today."""

from datetime import date, timedelta

import pytest

from tracker.items.rules import LightThresholds, expected_progress, light, worst_light

ISSUED = date(2026, 6, 1)
DEADLINE = ISSUED + timedelta(days=100)  # 25 days in = exactly 25 % expected
QUARTER = ISSUED + timedelta(days=25)
HALF = ISSUED + timedelta(days=50)


def test_expected_progress_is_the_elapsed_share():
    assert expected_progress(ISSUED, DEADLINE, HALF) == 50.0
    assert expected_progress(ISSUED, DEADLINE, ISSUED - timedelta(days=3)) == 0.0
    assert expected_progress(ISSUED, DEADLINE, DEADLINE + timedelta(days=3)) == 100.0


def test_issued_on_the_deadline_day_expects_everything_that_day():
    assert expected_progress(DEADLINE, DEADLINE, DEADLINE) == 100.0
    assert expected_progress(DEADLINE, DEADLINE, DEADLINE - timedelta(days=1)) == 0.0


@pytest.mark.parametrize(
    ("progress", "expected_light"),
    [
        (19, "red"),  # lag 31 > 30
        (20, "amber"),  # lag exactly 30 is not yet red
        (40, "amber"),  # lag exactly 10 is amber
        (41, "green"),  # lag 9
    ],
)
def test_lag_boundaries_halfway(progress, expected_light):
    assert light("in_progress", progress, ISSUED, DEADLINE, HALF) == expected_light


def test_lag_boundaries_use_the_configured_thresholds():
    strict = LightThresholds(red_lag=20, amber_lag=5, amber_days=3)
    assert light("open", 0, ISSUED, DEADLINE, QUARTER, strict) == "red"  # lag 25
    assert light("open", 5, ISSUED, DEADLINE, QUARTER, strict) == "amber"  # lag 20
    assert light("open", 20, ISSUED, DEADLINE, QUARTER, strict) == "amber"  # lag 5
    assert light("open", 21, ISSUED, DEADLINE, QUARTER, strict) == "green"  # lag 4


@pytest.mark.parametrize(
    ("days_left", "expected_light"),
    [(-1, "red"), (0, "amber"), (3, "amber"), (4, "green")],
)
def test_deadline_window(days_left, expected_light):
    today = DEADLINE - timedelta(days=days_left)
    assert light("in_progress", 100, ISSUED, DEADLINE, today) == expected_light


def test_the_deadline_day_itself_is_not_overdue_but_the_next_day_is():
    assert light("open", 100, ISSUED, DEADLINE, DEADLINE) == "amber"
    assert light("open", 100, ISSUED, DEADLINE, DEADLINE + timedelta(days=1)) == "red"


@pytest.mark.parametrize("status", ["submitted", "closed", "cancelled"])
def test_handed_in_items_are_green_even_when_late(status):
    assert light(status, 0, ISSUED, DEADLINE, DEADLINE + timedelta(days=30)) == "green"


def test_no_deadline_is_green():
    assert light("open", 0, ISSUED, None, HALF) == "green"


def test_a_group_takes_its_worst_light():
    assert worst_light(["green", "amber", "green"]) == "amber"
    assert worst_light(["amber", "red"]) == "red"
    assert worst_light([]) == "green"
