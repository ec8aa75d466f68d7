"""The working-day calendar through the admin page, the API, the CLI, the lists, the pages and the sweep."""

import io
from datetime import UTC, date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from tests import factories
from tests.factories import login
from tracker.event.models import Event
from tracker.extensions import db
from tracker.items.models import Item
from tracker.jobs.run import run_reminders
from tracker.outbox.models import Delivery
from tracker.reminders.models import ReminderSettings
from tracker.workdays.models import WorkingDay

SPRING_CSV = (
    "日期,上班,名称\n"
    + "".join(f"2027-02-{d:02d},休息,春节\n" for d in range(5, 14))
    + "2027-01-31,上班,春节 调休上班\n2027-02-20,上班,春节 调休上班\n"
)


def local(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def enter_2027(client) -> None:
    login(client, "admin")
    response = client.post(
        "/admin/working-days/import",
        data={"year": "2027", "file": (io.BytesIO(SPRING_CSV.encode()), "2027.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def stored(app) -> dict:
    with app.app_context():
        return {r.day: (r.working, r.name) for r in db.session.scalars(select(WorkingDay))}


def test_admin_imports_a_year_by_hand(app, client, world):
    enter_2027(client)
    days = stored(app)
    assert days[date(2027, 2, 8)] == (False, "春节") and days[date(2027, 2, 20)] == (True, "春节 调休上班")
    page = client.get("/admin/working-days/?year=2027").get_data(as_text=True)
    assert "春节 调休上班" in page and "2027" in page


def test_a_malformed_file_is_refused_by_row_and_stores_nothing(app, client, world):
    login(client, "admin")
    bad = "日期,上班,名称\n2027-02-05,休息,春节\n2027-02-30,休息,春节\n2027-02-06,也许,春节\n2027-02-05,休息,春节\n"
    response = client.post(
        "/admin/working-days/import",
        data={"year": "2027", "file": (io.BytesIO(bad.encode()), "2027.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "2027-02-30" in text and ("Row 4" in text or "第 4 行" in text) and ("Row 5" in text or "第 5 行" in text)
    assert stored(app) == {}


def test_an_xlsx_arrangement_imports_too(app, client, world):
    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "上班", "名称"])
    sheet.append([date(2027, 10, 1), "休息", "国庆节"])
    sheet.append(["2027-09-26", "上班", "国庆节 调休上班"])
    data = io.BytesIO()
    book.save(data)
    login(client, "admin")
    response = client.post(
        "/admin/working-days/import",
        data={"year": "2027", "file": (io.BytesIO(data.getvalue()), "2027.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert stored(app) == {date(2027, 10, 1): (False, "国庆节"), date(2027, 9, 26): (True, "国庆节 调休上班")}


def test_admin_corrects_and_resets_one_day_and_seeds_from_the_library(app, client, world):
    login(client, "admin")
    assert (
        client.post("/admin/working-days/day", data={"day": "2027-02-22", "working": "0", "name": "补假"}).status_code
        == 302
    )
    assert stored(app)[date(2027, 2, 22)] == (False, "补假")
    assert client.post("/admin/working-days/day/2027-02-22/reset").status_code == 302
    assert date(2027, 2, 22) not in stored(app)
    assert client.post("/admin/working-days/seed", data={"year": "2026"}).status_code == 302
    assert stored(app)[date(2026, 2, 17)] == (False, "春节")
    missing = client.post("/admin/working-days/seed", data={"year": "2099"})
    assert missing.status_code == 422 and "2099" in missing.get_data(as_text=True)


@pytest.mark.parametrize("role", ["committee", "lead", "member", "external"])
def test_only_admins_change_the_calendar(client, world, role):
    login(client, role)
    assert client.post("/admin/working-days/day", data={"day": "2027-02-22", "working": "0"}).status_code in (403, 404)
    response = client.put("/api/v1/working-days/2027-02-22", json={"working": False})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_the_api_lists_sets_and_resets_days(app, client, world):
    login(client, "admin")
    put = client.put("/api/v1/working-days/2027-02-20", json={"working": True, "name": "春节 调休上班"})
    assert put.status_code == 200 and put.get_json() == {"date": "2027-02-20", "working": True, "name": "春节 调休上班"}
    listed = client.get("/api/v1/working-days?from=2027-01-01&to=2027-12-31").get_json()
    assert listed == {"items": [{"date": "2027-02-20", "working": True, "name": "春节 调休上班"}]}
    deleted = client.delete("/api/v1/working-days/2027-02-20")
    assert deleted.get_json() == {"date": "2027-02-20", "working": False, "name": ""}  # a Saturday again
    assert client.get("/api/v1/working-days?from=2027-01-01&to=2027-12-31").get_json() == {"items": []}
    assert client.put("/api/v1/working-days/2027-02-30", json={"working": True}).status_code == 422
    assert client.get("/api/v1/working-days?from=2027-01-01&to=2020-01-01").status_code == 422
    assert client.put("/api/v1/working-days/2027-02-20", json={"working": "maybe"}).status_code == 422


def test_event_and_items_carry_working_days_and_warnings(app, client, world, time_machine):
    time_machine.move_to(local(date(2027, 2, 1)), tick=False)
    enter_2027(client)
    with app.app_context():
        event = db.session.get(Event, world.event.id)
        event.opening_at = local(date(2027, 2, 17), 20)
        item = db.session.get(Item, world.items["owned"].id)
        item.deadline = date(2027, 2, 9)
        db.session.commit()
    body = client.get("/api/v1/event").get_json()
    assert body["days_to_opening"] == 16
    # Mon 1 Feb to Wed 17 Feb: 2, 3, 4, 15, 16, 17.
    assert body["working_days_to_opening"] == 6
    item = client.get(f"/api/v1/items/{world.items['owned'].id}").get_json()
    assert [w["code"] for w in item["warnings"]] == ["deadline_not_working_day"] and "春节" in item["warnings"][0][
        "message"
    ]
    day_off = client.get("/api/v1/items?day_off=true").get_json()
    assert [i["id"] for i in day_off["items"]] == [world.items["owned"].id]
    page = client.get("/problems?day_off=1").get_data(as_text=True)
    assert "坡道整改" in page and "盲道修复" not in page


def test_pages_show_working_days_and_days_off(app, client, world, time_machine):
    time_machine.move_to(local(date(2027, 2, 1)), tick=False)
    enter_2027(client)
    with app.app_context():
        event = db.session.get(Event, world.event.id)
        event.opening_at = local(date(2027, 2, 17), 20)
        db.session.commit()
    client.post("/language", data={"language": "zh_CN"})
    home = client.get("/").get_data(as_text=True)
    assert "距开幕 6 个工作日" in home
    milestones = client.get("/milestones").get_data(as_text=True)
    assert "春节" in milestones and "放假 9 天" in milestones
    response = client.post(
        f"/items/{world.items['unowned'].id}/edit",
        data={
            "title": "盲道修复",
            "group_id": str(world.cs.id),
            "kind": "problem",
            "severity": "low",
            "version": "1",
            "deadline": "2027-02-09",
            "deadline_reason": "春节前后施工",
            "reason": "春节前后施工",
        },
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "2027-02-09 不是工作日（春节）" in text
    assert "非工作日" in text


def test_a_reminder_in_working_days_is_sent_once_on_the_right_day(app, client, world, time_machine):
    enter_2027(client)
    with app.app_context():
        settings = ReminderSettings(id=1, owner_days="3", count_working_days=True, day_off_shift="before")
        db.session.merge(settings)
        for item in db.session.scalars(select(Item)):
            item.deadline = None
        db.session.get(Item, world.items["owned"].id).deadline = date(2027, 2, 17)
        db.session.commit()
    sent_on = {}
    for day in [date(2027, 2, d) for d in range(1, 18)]:
        time_machine.move_to(local(day), tick=False)
        with app.app_context():
            run_reminders(local(day))
            rows = db.session.scalars(
                select(Delivery).where(Delivery.rule == "before-3", Delivery.channel == "inapp")
            ).all()
            for row in rows:
                sent_on.setdefault(row.id, day)
    # Three working days before Wednesday 17 February is Thursday 4 February (holiday 5–13).
    assert list(sent_on.values()) == [date(2027, 2, 4)]


def test_cli_seeds_imports_and_lists(app, runner, world, tmp_path):
    result = runner.invoke(args=["working-days", "seed", "2026"])
    assert result.exit_code == 0 and "2026:" in result.output
    path = tmp_path / "2027.csv"
    path.write_text(SPRING_CSV, encoding="utf-8")
    assert runner.invoke(args=["working-days", "import", str(path), "--year", "2027"]).exit_code == 0
    listed = runner.invoke(args=["working-days", "list", "2027"]).output
    assert "2027-02-08\t休息\t春节" in listed and "2027-01-31\t上班\t春节 调休上班" in listed
    wrong = runner.invoke(args=["working-days", "import", str(path), "--year", "2026"])
    assert wrong.exit_code != 0 and "2027-01-31" in wrong.output


def test_a_new_event_starts_with_the_library_holidays(app, client):
    with app.app_context():
        factories.make_user("admin", "admin")
        db.session.commit()
    login(client, "admin")
    response = client.put(
        "/api/v1/event",
        json={"name": "测试赛事", "opening_at": "2026-11-20T20:00:00+08:00", "timezone": "Asia/Shanghai"},
    )
    assert response.status_code == 200
    assert stored(app)[date(2026, 10, 1)] == (False, "国庆节")
    assert stored(app)[date(2025, 1, 28)] == (False, "春节")


def test_calendar_feeds_carry_holidays_on_request(app, client, world, time_machine):
    from icalendar import Calendar

    time_machine.move_to(local(date(2027, 2, 1)), tick=False)
    enter_2027(client)
    with app.app_context():
        event = db.session.get(Event, world.event.id)
        event.opening_at = local(date(2027, 3, 1), 20)
        db.session.commit()
    login(client, "member")
    page = client.get("/calendar").get_data(as_text=True)
    url = page.split('id="cal-personal" class="api-secret-value" type="text" readonly value="')[1].split('"')[0]
    path = urlsplit(url).path
    plain = Calendar.from_ical(client.get(path).get_data())
    assert not [c for c in plain.walk("VEVENT") if "春节" in str(c.get("summary"))]
    with_holidays = Calendar.from_ical(client.get(path + "?holidays=1").get_data())
    spring = [c for c in with_holidays.walk("VEVENT") if "春节" in str(c.get("summary"))]
    assert [
        (c.decoded("dtstart"), c.decoded("dtend"))
        for c in spring
        if "休息" in str(c.get("summary")) or "day off" in str(c.get("summary"))
    ] == [(date(2027, 2, 5), date(2027, 2, 14))]
