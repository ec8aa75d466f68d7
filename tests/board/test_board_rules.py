"""The lights (红黄绿灯) and the chart geometry at their boundaries: pure rules, plain values, explicit today."""

from datetime import date, timedelta

import pytest

from tracker.board.charts import DATE_LABEL_WIDTH, burndown_chart
from tracker.board.services import BurndownDay
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


@pytest.mark.parametrize("today_index", [0, 2, 5, 40, 85, 89])
def test_burndown_date_labels_never_overlap_and_today_is_always_labelled(today_index):
    start = date(2026, 6, 20)
    days = [BurndownDay(start + timedelta(days=i), 10 if i <= today_index else None, 10 - i / 9) for i in range(90)]
    today, opening = days[today_index].day, days[-1].day
    chart = burndown_chart(days, today, opening)
    xs = [x for x, _, _ in chart.x_ticks]
    assert today in [d for _, d, _ in chart.x_ticks]
    assert all(b - a >= DATE_LABEL_WIDTH for a, b in zip(xs, xs[1:], strict=False))
    for x, _, anchor in chart.x_ticks:
        # what the anchor leaves of the label on each side of x stays inside the plot
        reach_left = {"start": 0, "middle": DATE_LABEL_WIDTH / 2, "end": DATE_LABEL_WIDTH}[anchor]
        assert x - reach_left >= chart.left - 1
        assert x + DATE_LABEL_WIDTH - reach_left <= chart.left + chart.plot_width + 1
