"""Names, terms and codes: no stored code where a person reads, one word per concept, readable
dates, and a burndown whose ideal line starts somewhere meaningful."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook

from tests.factories import NOW, login
from tracker.audit import services as audit
from tracker.board import services as board
from tracker.extensions import db
from tracker.items import labels
from tracker.items.models import Item
from tracker.spreadsheets import layout

pytestmark = pytest.mark.usefixtures("frozen_now")


def page(client, url: str, lang: str) -> str:
    client.post("/language", data={"language": lang, "next": "/"})
    return client.get(url).get_data(as_text=True)


def test_item_form_names_the_source_instead_of_showing_its_code(app, client, world):
    item_id = world.items["unowned"].id
    with app.app_context():
        db.session.get(Item, item_id).source = "public_feedback"
        db.session.commit()
    login(client, "lead")
    zh = page(client, f"/items/{item_id}/edit", "zh_CN")
    assert '<option selected value="public_feedback">群众反馈</option>' in zh
    assert 'value="public_feedback">' in zh and ">public_feedback<" not in zh
    en = page(client, f"/items/{item_id}/edit", "en")
    assert '<option selected value="public_feedback">Public feedback</option>' in en


def test_item_form_keeps_a_free_text_source(app, client, world):
    item_id = world.items["unowned"].id
    with app.app_context():
        db.session.get(Item, item_id).source = "市领导暗访"
        db.session.commit()
    login(client, "lead")
    assert '<option selected value="市领导暗访">市领导暗访</option>' in page(client, f"/items/{item_id}/edit", "zh_CN")


def test_audit_log_names_actions(app, client, world):
    with app.app_context():
        audit.record("permission_denied", username="member", target="GET /admin", now=NOW)
        db.session.commit()
    login(client, "admin")
    zh = page(client, "/admin/audit", "zh_CN")
    body = zh[zh.index("<tbody") :]
    assert "permission_denied" not in body and ">login<" not in body
    assert ">permission_denied<" not in zh  # the filter's options too
    en = page(client, "/admin/audit", "en")
    assert "<td>Access refused</td>" in en and "<td>Signed in</td>" in en


def test_deliveries_name_channels_and_rules(app, client, runner, world):
    from tracker.reminders.labels import channel_label, rule_label

    with app.test_request_context("/"), force_locale("en"):
        assert channel_label("inapp") == "In-app notification"
        assert rule_label("before-7") == "7 days before the deadline"
        assert rule_label("before-0") == "On the deadline day"
        assert rule_label("digest") == "Daily digest"
        assert rule_label("milestone-1") == "1 day before a milestone"
    with app.test_request_context("/"), force_locale("zh_CN"):
        assert rule_label("before-7") != "before-7" and channel_label("webhook") != "webhook"
    result = runner.invoke(args=["reminders", "run", "--now", "2026-06-30T08:35"])
    assert result.exit_code == 0, result.output
    login(client, "admin")
    html = page(client, "/admin/deliveries", "en")
    assert "<td>In-app notification</td>" in html
    assert ">inapp<" not in html and "<td>digest" not in html and "<td>overdue" not in html


def test_export_header_describes_filters_in_words(app, client, world):
    login(client, "committee")
    client.post("/language", data={"language": "zh_CN", "next": "/"})
    response = client.get("/export.xlsx?group=CG&status=active&overdue=1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    note = sheet["A2"].value
    assert "group=CG" not in note and "=" not in note
    assert "CG · 场馆建设与无障碍环境组" in note and "逾期" in note


@pytest.mark.parametrize("lang, locale", [("zh", "zh_CN"), ("en", "en")])
def test_one_word_per_concept_on_screen_and_in_sheets(app, lang, locale):
    """What the screen calls a kind, severity, key area or source is what the sheet writes."""
    tables = {
        "kind": labels.KIND,
        "severity": labels.SEVERITY,
        "key_area": labels.KEY_AREA,
        "source": labels.SOURCE,
    }
    with app.test_request_context("/"), force_locale(locale):
        different = [
            (kind, key, str(label), layout.value_name(kind, key, lang))
            for kind, table in tables.items()
            for key, label in table.items()
            if str(label) != layout.value_name(kind, key, lang)
        ]
        assert not different
        # the sheet's 问题描述 column is the title: the screen must not call the description that
        assert str(labels.FIELD["description"]) != layout.header("title", lang)


def test_opening_day_reads_as_a_date_label_and_today_as_opening_today(app, client, world):
    login(client, "lead")
    zh = page(client, "/milestones", "zh_CN")
    assert "开幕日: <strong>2026年9月18日</strong>" in zh
    assert "今日开幕:" not in zh


def test_english_dates_and_times_read_one_way(app, client, world):
    login(client, "lead")
    en = page(client, f"/items/{world.items['unowned'].id}", "en")
    assert "29 May 2026, 10:00" in en  # the item's creation in the history, in Maoming time
    assert "5/29/26" not in en
    zh = page(client, f"/items/{world.items['unowned'].id}", "zh_CN")
    assert "2026年5月29日 10:00" in zh


# -- the burndown -------------------------------------------------------------------


def test_burndown_ideal_line_starts_at_the_peak_not_at_the_first_day_of_history():
    first = date(2026, 5, 1)
    deltas = [(first, 1), (first + timedelta(days=10), 50), (first + timedelta(days=20), -5)]
    today, opening = first + timedelta(days=30), first + timedelta(days=60)
    days = board.burndown(deltas, today, opening)
    by_day = {d.day: d for d in days}
    peak = board.ideal_start(days)
    assert (peak.day, peak.open_items) == (first + timedelta(days=10), 51)
    assert by_day[first].ideal is None
    assert by_day[peak.day].ideal == 51
    assert by_day[opening].ideal == 0
    # not a line flat along zero that leaves everything "behind"
    assert by_day[today].ideal == pytest.approx(51 * (1 - 20 / 50))


def test_board_says_where_the_ideal_line_starts(app, client, world):
    login(client, "committee")
    en = page(client, "/board", "en")
    assert "The ideal line starts from the peak:" in en
    zh = page(client, "/board", "zh_CN")
    assert "理想线从峰值起算" in zh


def test_day_filter_formats(app):
    from tracker.i18n import readable_date, readable_moment

    with app.test_request_context("/"):
        with force_locale("en"):
            assert readable_date(date(2026, 12, 2)) == "2 Dec 2026"
            assert readable_moment(datetime(2026, 12, 2, 4, 14, tzinfo=UTC)) == "2 Dec 2026, 12:14"
        with force_locale("zh_CN"):
            assert readable_date(date(2026, 12, 2)) == "2026年12月2日"
