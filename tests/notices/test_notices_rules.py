"""The notice ladder's pure rules: steps, numbering, suggestions and late replies, with plain values."""

from datetime import date
from types import SimpleNamespace as NS

import pytest

from tracker import permissions
from tracker.notices import rules
from tracker.notices.rules import SuggestionRules

TODAY = date(2026, 6, 10)
DEFAULTS = SuggestionRules()


def test_number_in_the_offices_format():
    assert rules.format_number("督办", 2026, 12) == "督办〔2026〕第12号"
    assert rules.format_number("督查", 2027, 1) == "督查〔2027〕第1号"


@pytest.mark.parametrize(
    ("status", "action", "level", "after"),
    [
        ("issued", "acknowledge", "blue", "acknowledged"),
        ("acknowledged", "reply", "blue", "replied"),
        ("replied", "close", "orange", "closed"),
        ("issued", "close", "blue", "closed"),
        ("replied", "escalate", "orange", "escalated"),
    ],
)
def test_steps(status, action, level, after):
    assert rules.next_status(status, action, level) == after


@pytest.mark.parametrize(
    ("status", "action", "level"),
    [
        ("issued", "reply", "blue"),  # sign for it first
        ("closed", "acknowledge", "blue"),
        ("escalated", "close", "blue"),
        ("replied", "escalate", "red"),  # red is the top
        ("closed", "escalate", "blue"),
    ],
)
def test_impossible_steps(status, action, level):
    with pytest.raises(rules.StepError):
        rules.next_status(status, action, level)


def test_interview_only_once_on_a_red_notice():
    assert rules.can_interview("red", "replied", recorded=False)
    assert not rules.can_interview("red", "replied", recorded=True)
    assert not rules.can_interview("orange", "replied", recorded=False)
    assert not rules.can_interview("red", "escalated", recorded=False)


def suggest(deadline, progress=0, open_level=None, oranges=0, status="in_progress", limits=DEFAULTS):
    issued = date(2026, 5, 1)
    return rules.suggest_level(
        status, progress, issued, deadline, TODAY, limits, open_level=open_level, oranges=oranges
    )


def test_blue_when_due_soon_and_lagging():
    assert suggest(date(2026, 6, 12), progress=10) == "blue"
    assert suggest(date(2026, 6, 12), progress=95) is None  # on schedule
    assert suggest(date(2026, 6, 20), progress=0) is None  # not due within 3 days


def test_orange_when_overdue_three_days_red_at_ten():
    assert suggest(date(2026, 6, 8)) is None  # two days late
    assert suggest(date(2026, 6, 7)) == "orange"
    assert suggest(date(2026, 5, 31)) == "red"


def test_a_second_orange_is_red():
    assert suggest(date(2026, 6, 7), oranges=1) == "red"


def test_an_open_notice_at_that_level_or_above_covers_the_item():
    assert suggest(date(2026, 6, 7), open_level="orange") is None
    assert suggest(date(2026, 6, 7), open_level="red") is None
    assert suggest(date(2026, 6, 7), open_level="blue") == "orange"


def test_submitted_or_undated_items_are_not_suggested():
    assert suggest(date(2026, 5, 1), status="submitted") is None
    assert suggest(None) is None


def test_rules_are_configurable():
    strict = SuggestionRules(orange_overdue_days=1, red_overdue_days=5)
    assert suggest(date(2026, 6, 9), limits=strict) == "orange"
    assert suggest(date(2026, 6, 5), limits=strict) == "red"


def test_late_reply_reminds_leads_then_committee_each_on_its_day():
    reply_by = date(2026, 6, 5)
    at = lambda day: [(d.rule, d.occurrence) for d in rules.late_reply_reminders("issued", reply_by, day, DEFAULTS)]  # noqa: E731
    assert at(date(2026, 6, 5)) == []
    assert at(date(2026, 6, 6)) == [("notice-lead", reply_by)]
    assert at(date(2026, 6, 8)) == [("notice-lead", reply_by), ("notice-committee", reply_by)]
    assert rules.late_reply_reminders("replied", reply_by, date(2026, 6, 8), DEFAULTS) == []
    assert rules.late_reply_reminders("acknowledged", reply_by, date(2026, 6, 6), DEFAULTS)  # signed, not answered


# --- who may do what (tracker/permissions.py), with plain values --------------------------------


def _user(role, groups=(), uid=1):
    return NS(id=uid, role=role, group_ids=frozenset(groups))


def _notice(confidential=False, group=10, owner=None):
    item = NS(group_id=group, owner_id=owner, is_confidential=confidential, status="in_progress")
    return NS(item=item, group_id=group)


@pytest.mark.parametrize(
    ("user", "answer", "decide"),
    [
        (_user("admin"), False, True),
        (_user("committee"), False, True),
        (_user("lead", [10]), True, False),
        (_user("lead", [11]), False, False),
        (_user("member", [10], uid=7), True, False),  # the item's owner
        (_user("member", [10], uid=8), False, False),
        (_user("external", uid=7), True, False),  # an external owner answers for their item
    ],
)
def test_who_answers_and_who_decides(user, answer, decide):
    notice = _notice(owner=7)
    assert permissions.can_answer_notice(user, notice) is answer
    assert permissions.can_decide_notice(user, notice) is decide


def test_a_confidential_items_notice_is_hidden_like_the_item():
    notice = _notice(confidential=True)
    assert not permissions.can_view_notice(_user("lead", [11]), notice)
    assert not permissions.can_answer_notice(_user("lead", [11]), notice)
    assert permissions.can_view_notice(_user("member", [10]), notice)
    assert permissions.can_view_notice(_user("committee"), notice)
