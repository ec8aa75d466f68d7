"""Working days as Chinese offices count them: the pure rules, with the 2026 arrangement from the
library and a 2027 Spring Festival entered by hand, as an admin would."""

from datetime import date, timedelta

import pytest

from tracker.reminders import rules
from tracker.reminders.rules import Policy
from tracker.workdays.rules import WorkCalendar, named_spans
from tracker.workdays.services import library_arrangement

# 2027, entered by hand: 除夕 Friday 5 February to Saturday 13 February off; Sunday 31 January
# and Saturday 20 February worked (调休).
SPRING_2027 = {
    **{date(2027, 2, 5) + timedelta(days=n): (False, "春节") for n in range(9)},
    date(2027, 1, 31): (True, "春节 调休上班"),
    date(2027, 2, 20): (True, "春节 调休上班"),
}
CAL = WorkCalendar({**library_arrangement(2026), **SPRING_2027})


def test_the_library_knows_2026_with_its_make_up_days():
    days = library_arrangement(2026)
    assert days[date(2026, 2, 17)] == (False, "春节")  # 初一, a Tuesday
    assert days[date(2026, 2, 14)] == (True, "春节 调休上班")  # a Saturday worked
    assert days[date(2026, 10, 1)] == (False, "国庆节")
    assert library_arrangement(2100) == {}


def test_weekends_holidays_and_make_up_days():
    assert CAL.is_working(date(2027, 2, 4))  # Thursday before
    assert not CAL.is_working(date(2027, 2, 8))  # Monday in the holiday
    assert CAL.is_working(date(2027, 1, 31))  # Sunday worked
    assert not CAL.is_working(date(2027, 1, 30))  # a plain Saturday
    assert CAL.name(date(2027, 2, 8)) == "春节" and CAL.name(date(2027, 2, 3)) == ""


def test_working_days_across_the_spring_festival():
    before = date(2027, 2, 4)  # Thursday
    after = date(2027, 2, 15)  # Monday after the holiday
    assert (after - before).days == 11
    assert CAL.working_days_left(before, after) == 1  # only the Monday itself
    assert CAL.working_days_left(after, before) == -1
    assert CAL.working_days_left(before, before) == 0
    # 30 January (Sat) to 1 February (Mon): the Sunday is worked.
    assert CAL.working_days_left(date(2027, 1, 30), date(2027, 2, 1)) == 2


def test_three_working_days_from_before_the_holiday():
    assert CAL.add_working_days(date(2027, 2, 3), 3) == date(2027, 2, 16)  # Thu 4, Mon 15, Tue 16
    assert CAL.add_working_days(date(2027, 2, 3), 0) == date(2027, 2, 3)
    assert CAL.add_working_days(date(2027, 2, 16), -2) == date(2027, 2, 4)


@pytest.mark.parametrize(
    ("today", "shift", "expected"),
    [
        (date(2027, 2, 4), "before", date(2027, 2, 14)),  # Thursday covers the holiday up to Sunday 14
        (date(2027, 2, 3), "before", date(2027, 2, 3)),
        (date(2027, 2, 8), "before", date(2027, 2, 8)),  # a day off: already sent
        (date(2027, 2, 8), "after", None),
        (date(2027, 2, 15), "after", date(2027, 2, 15)),
        (date(2027, 2, 8), "on", date(2027, 2, 8)),
    ],
)
def test_the_day_whose_reminders_go_out(today, shift, expected):
    assert CAL.reminder_day(today, shift) == expected


def test_named_spans_group_a_holiday_and_its_make_up_days():
    spans = named_spans(CAL, date(2027, 1, 1), date(2027, 3, 1))
    assert [(s.start, s.end, s.working, s.days) for s in spans] == [
        (date(2027, 1, 31), date(2027, 1, 31), True, 1),
        (date(2027, 2, 5), date(2027, 2, 13), False, 9),
        (date(2027, 2, 20), date(2027, 2, 20), True, 1),
    ]


WORKING = Policy(owner_days=(3, 1, 0), working_days=True, day_off_shift="before", calendar=CAL)


def test_a_reminder_three_working_days_before_a_deadline_after_the_holiday():
    deadline = date(2027, 2, 17)  # Wednesday after the holiday
    due = {day: rules.item_reminders("open", deadline, day, WORKING) for day in _days(date(2027, 2, 1), deadline)}
    # Three working days before Wednesday 17 is Thursday 4 (Thu 4, Mon 15, Tue 16 lie between).
    assert due[date(2027, 2, 3)] == []
    assert due[date(2027, 2, 4)] == [rules.Due("before-3", "owner", deadline)]
    assert due[date(2027, 2, 16)] == [rules.Due("before-1", "owner", deadline)]
    assert due[date(2027, 2, 17)] == [rules.Due("before-0", "owner", deadline)]
    # In calendar days it would have been Sunday 14, in the middle of the holiday.
    calendar_days = Policy(owner_days=(3, 1, 0), day_off_shift="on", calendar=CAL)
    assert rules.item_reminders("open", deadline, date(2027, 2, 14), calendar_days)[0].rule == "before-3"


def test_a_deadline_on_a_holiday_is_reminded_on_the_last_working_day_before_it():
    policy = Policy(owner_days=(1, 0), day_off_shift="before", calendar=CAL)
    deadline = date(2027, 2, 9)  # in the holiday
    assert rules.item_reminders("open", deadline, date(2027, 2, 4), policy) == [
        rules.Due("before-0", "owner", deadline)
    ]
    after = Policy(owner_days=(1, 0), day_off_shift="after", calendar=CAL)
    assert rules.item_reminders("open", deadline, date(2027, 2, 8), after) == []


def test_daily_overdue_reminders_wait_for_a_working_day():
    deadline = date(2027, 2, 1)
    assert rules.item_reminders("open", deadline, date(2027, 2, 8), WORKING) == []
    assert rules.item_reminders("open", deadline, date(2027, 2, 15), WORKING)[0].rule == "overdue"


def test_escalation_counts_working_days_late():
    policy = Policy(
        lead_overdue_days=2, committee_overdue_days=3, working_days=True, day_off_shift="before", calendar=CAL
    )
    deadline = date(2027, 2, 3)  # Wednesday before the holiday
    assert "lead" not in _rules(deadline, date(2027, 2, 4), policy)  # 1 working day late
    assert "lead" in _rules(deadline, date(2027, 2, 15), policy)  # 2 working days late: Thu 4, Mon 15
    assert "committee" in _rules(deadline, date(2027, 2, 16), policy)


@pytest.mark.parametrize(
    "policy",
    [
        Policy(owner_days=(7, 3, 1, 0), calendar=CAL),
        Policy(owner_days=(7, 3, 1, 0), day_off_shift="before", calendar=CAL),
        Policy(owner_days=(7, 3, 1, 0), day_off_shift="after", calendar=CAL),
        Policy(owner_days=(5, 2, 0), working_days=True, day_off_shift="before", calendar=CAL),
        Policy(owner_days=(5, 2, 0), working_days=True, day_off_shift="after", calendar=CAL),
    ],
)
def test_the_sweeps_day_lists_agree_with_the_rules(policy):
    """What the sweep turns into SQL (deadline days per rule) is exactly what the pure rules say."""
    for today in _days(date(2027, 1, 20), date(2027, 2, 25)):
        expected = {}
        for deadline in _days(today, today + timedelta(days=40)):
            due = [d for d in rules.item_reminders("open", deadline, today, policy) if d.rule.startswith("before")]
            if due:
                expected[deadline] = due[0].rule
        assert rules.before_rules(today, policy.owner_days, policy) == expected, today
        for n in (1, 3):
            late = rules.escalation_deadlines(today, n, 0, policy)
            for deadline in _days(today - timedelta(days=30), today - timedelta(days=1)):
                wanted = policy.days_between(deadline, today) == n and not rules._quiet_day(today, policy)
                if policy.day_off_shift == "on":
                    assert (deadline in late) == wanted, (today, deadline, n)
                elif wanted:
                    assert deadline in late, (today, deadline, n)


def _rules(deadline, today, policy):
    return {d.rule for d in rules.item_reminders("open", deadline, today, policy)}


def _days(start, end):
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
