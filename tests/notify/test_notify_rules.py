"""The workflow-notification rules as plain values: who hears what, preferences, mentions, bundling."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker import permissions
from tracker.outbox import rules

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def test_the_table_of_events_and_recipients():
    assert rules.audience(rules.SUBMITTED) == {"committee", "leads"}
    assert rules.audience(rules.VERIFIED) == {"owner", "leads", "watchers"}
    assert rules.audience(rules.REJECTED) == {"owner", "leads"}
    assert rules.audience(rules.REOPENED) == rules.audience(rules.CANCELLED) == {"owner", "leads", "watchers"}
    assert rules.audience(rules.DEADLINE) == rules.audience(rules.PROGRESS) == {"owner", "watchers"}
    for kind in (rules.ASSIGNED, rules.UNASSIGNED, rules.MENTIONED):
        assert rules.audience(kind) == {"target"}
    assert set(rules.AUDIENCES) == set(rules.KINDS)
    assert set(rules.ACTION_KINDS) == permissions.COMMITTEE_ACTIONS | {"submit"}


@pytest.mark.parametrize(
    ("kind", "mode", "inapp", "email"),
    [
        (rules.PROGRESS, None, True, True),  # the default: in the app and by email
        (rules.PROGRESS, "email", True, True),
        (rules.PROGRESS, "inapp", True, False),
        (rules.PROGRESS, "off", False, False),
        (rules.ASSIGNED, "off", True, False),  # "assigned to me" always shows in the app
        (rules.REJECTED, "off", True, False),  # so does "returned to me"
    ],
)
def test_preferences(kind, mode, inapp, email):
    assert rules.mode_allows(kind, mode, "inapp") is inapp
    assert rules.mode_allows(kind, mode, "email") is email


def test_mentions_are_usernames_once_each_in_order():
    text = "请 @lead 和 @member.2 复核，@lead 再看；邮件 a@b.org 不算。@"
    assert rules.mentions(text) == ["lead", "member.2"]
    assert rules.mentions("") == [] and rules.mentions(None) == []


def test_bundling_window():
    assert rules.send_after(NOW) == NOW + rules.BUNDLE_WAIT
    # The first row of a steady stream is pushed back at most until BUNDLE_MAX after it was queued.
    assert rules.bundle_since(NOW) + rules.BUNDLE_MAX == rules.send_after(NOW)
    assert rules.BUNDLE_WAIT < rules.BUNDLE_MAX <= timedelta(minutes=15)
