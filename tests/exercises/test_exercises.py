"""Exercises (演练/测试赛/检查/使用者验收): pass rules, shipped checklists, planning, recording, findings, report."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import NOW, login
from tracker import permissions
from tracker.auth.models import User
from tracker.errors import NotFound, PermissionDenied, ValidationFailed
from tracker.exercises import rules, services
from tracker.exercises.models import ChecklistTemplate, Exercise, ExerciseCheck
from tracker.extensions import db
from tracker.items import services as items
from tracker.items.models import Item, LedgerEntry
from tracker.milestones.models import Milestone

pytestmark = pytest.mark.usefixtures("frozen_now")

# --- pure rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "verdict"),
    [
        ("≤ 1:12", "1:15", "pass"),
        ("≤ 1:12", "1:12", "pass"),
        ("≤ 1:12", "1:10", "fail"),
        ("≥ 0.80 m", "0.80", "pass"),
        ("≥ 0.80 m", "0.75 m", "fail"),
        (">= 1.2 m", "1.25m", "pass"),
        ("< 13 mm", "13", "fail"),
        ("≤ 1:12", "", None),
        ("", "0.8", None),
        ("≥ 0.80 m", "about a metre", None),
        ("≤ 1:0", "1:2", None),
    ],
)
def test_pass_rule_judges_measured_values(rule, value, verdict):
    assert rules.judge(rule, value) == verdict


def test_closed_share_rounds_down_so_almost_ninety_is_not_ninety():
    assert rules.closed_share(899, 1000) == 89
    assert rules.closed_share(9, 10) == 90
    assert rules.closed_share(0, 0) is None


def test_results_are_counted_with_unanswered_ones():
    assert rules.count_results(["pass", "fail", None, "na", "pass"]) == {"pass": 2, "fail": 1, "na": 1, "open": 1}


def test_shipped_checklists_are_valid_and_mark_the_unverified_figures():
    shipped = {t["code"]: t for t in services.shipped_templates()}
    assert set(shipped) == {"accessible_venue", "test_event"}
    for data in shipped.values():
        assert services.check_template_data(data) == {}
    venue = shipped["accessible_venue"]
    titles = [s["title_en"] for s in venue["sections"]]
    for area in ("Entrances", "Ramps", "Doors", "Accessible toilets", "Lifts", "Tactile paving", "Signage"):
        assert area in titles
    assert "以现行有效条文为准" in venue["note"]
    ramp = venue["sections"][1]["points"][0]
    assert ramp["rule"] == "≤ 1:12" and "以现行有效条文为准" in ramp["text"]
    areas = {s["title_en"] for s in shipped["test_event"]["sections"]}
    assert areas == {"Competition", "Reception", "Security", "Medical", "Volunteers", "Doping control"}


def test_template_with_a_bad_rule_is_refused_by_point():
    section = {"title": "门", "points": [{"text": "宽", "rule": "wide"}]}
    data = {"code": "x", "version": 1, "name": "x", "sections": [section]}
    assert set(services.check_template_data(data)) == {"section 1 point 1"}


# --- permissions (plain values) -----------------------------------------------------


class P:
    def __init__(self, user_id):
        self.user_id = user_id


class U:
    def __init__(self, id, role, group_ids=()):
        self.id, self.role, self.group_ids = id, role, list(group_ids)


class E:
    def __init__(self, group_id, invited=()):
        self.group_id = group_id
        self.participants = [P(i) for i in invited]


def test_who_records_results():
    exercise = E(group_id=1, invited=[9])
    assert permissions.can_record_exercise(U(1, "committee"), exercise)
    assert permissions.can_record_exercise(U(2, "member", [1]), exercise)
    assert not permissions.can_record_exercise(U(3, "member", [2]), exercise)
    assert permissions.can_record_exercise(U(9, "external"), exercise)
    assert not permissions.can_record_exercise(U(8, "external"), exercise)
    assert not permissions.can_view_exercise(U(8, "external"), exercise)
    assert permissions.can_plan_exercise(U(4, "lead", [1]), 1)
    assert not permissions.can_plan_exercise(U(4, "lead", [1]), 2)
    assert not permissions.can_plan_exercise(U(2, "member", [1]), 1)


# --- services -------------------------------------------------------------------------


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _plan(world, actor, **overrides):
    templates = services.install_shipped(now=NOW)
    data = {
        "kind": "user_acceptance",
        "title": "体育馆使用者验收",
        "held_on": date(2026, 6, 20),
        "venue": "茂名市体育馆",
        "group_id": world.cs.id,
        "milestone_id": None,
        "template_id": templates[0].id,
        "participants": services.parse_participants("张三, 轮椅使用者\n@external, 体验督导官"),
    }
    data.update(overrides)
    return services.plan_exercise(data, actor=actor, now=NOW)


def test_planning_copies_the_checklist_and_keeps_testers_without_accounts(ctx, world):
    exercise = _plan(world, _user("lead"))
    assert len(exercise.checks) == sum(len(s["points"]) for s in services.shipped_templates()[0]["sections"])
    assert [(p.name, p.role, p.user_id) for p in exercise.participants] == [
        ("张三", "轮椅使用者", None),
        ("external", "体验督导官", world.external.id),
    ]
    assert services.install_shipped(now=NOW) == []  # shipped once, by code and version


def test_a_lead_plans_only_for_their_group(ctx, world):
    with pytest.raises(PermissionDenied):
        _plan(world, _user("otherlead"))


def test_planning_reports_every_bad_field(ctx, world):
    with pytest.raises(ValidationFailed) as failure:
        _plan(world, _user("lead"), title=" ", kind="party", held_on=None, participants=[{"name": "@nobody"}])
    assert set(failure.value.fields) == {"title", "kind", "held_on", "participants"}
    assert db.session.scalar(select(func.count(Exercise.id))) == 0


def test_an_answer_is_idempotent_and_the_rule_decides_when_no_result_is_given(ctx, world):
    exercise = _plan(world, _user("lead"))
    ramp = exercise.checks[0]
    member = _user("member")
    check, changed = services.record_check(exercise, ramp.id, actor=member, now=NOW, result=None, value="1:10")
    assert (check.result, changed) == ("fail", True)
    check, changed = services.record_check(exercise, ramp.id, actor=member, now=NOW, result=None, value="1:10")
    assert (check.result, changed) == ("fail", False)
    with pytest.raises(ValidationFailed):
        services.record_check(exercise, ramp.id, actor=member, now=NOW, result="maybe")
    with pytest.raises(PermissionDenied):
        services.record_check(exercise, ramp.id, actor=_user("othermember"), now=NOW, result="pass")
    with pytest.raises(NotFound):
        services.record_check(exercise, 10**6, actor=member, now=NOW, result="pass")


def test_an_uninvited_external_account_cannot_see_the_exercise(ctx, world):
    exercise = _plan(world, _user("lead"), participants=[])
    with pytest.raises(NotFound):
        services.get_exercise(exercise.id, actor=_user("external"))


def test_failed_checks_become_items_with_group_evidence_and_ledger(ctx, world):
    committee = _user("committee")
    exercise = _plan(world, _user("lead"))
    ramp, door = exercise.checks[0], exercise.checks[7]
    services.record_check(exercise, ramp.id, actor=committee, now=NOW, result="fail", value="1:10", note="坡度过陡")
    services.record_check(exercise, door.id, actor=committee, now=NOW, result=None, value="0.75")
    proposed = services.proposed_findings(exercise)
    assert [(p["check"].id, p["group_id"]) for p in proposed] == [(ramp.id, world.cs.id), (door.id, world.cs.id)]
    ledger_before = db.session.scalar(select(func.count(LedgerEntry.id)))
    created = services.raise_findings(
        exercise,
        [{"check_id": c.id, "owner_id": world.member.id, "deadline": date(2026, 7, 10)} for c in (ramp, door)],
        actor=committee,
        now=NOW,
    )
    assert [i.source for i in created] == ["exercise_debrief", "exercise_debrief"]
    assert {i.group_id for i in created} == {world.cs.id}
    for evidence in ("1:10", "≤ 1:12", "坡度过陡"):
        assert evidence in created[0].description
    assert created[0].found_on == date(2026, 6, 20) and created[0].key_area == "accessibility"
    assert (ramp.item_id, door.item_id) == (created[0].id, created[1].id)
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == ledger_before + 2
    assert services.proposed_findings(exercise) == []


def test_findings_are_all_or_nothing(ctx, world):
    committee = _user("committee")
    exercise = _plan(world, _user("lead"))
    a, b = exercise.checks[0], exercise.checks[1]
    for check in (a, b):
        services.record_check(exercise, check.id, actor=committee, now=NOW, result="fail")
    items_before = db.session.scalar(select(func.count(Item.id)))
    rows = [
        {"check_id": a.id, "owner_id": world.member.id, "deadline": date(2026, 7, 10)},
        {"check_id": b.id, "owner_id": world.other_member.id, "deadline": date(2026, 7, 10)},  # not in CG
    ]
    with pytest.raises(ValidationFailed) as failure:
        services.raise_findings(exercise, rows, actor=committee, now=NOW)
    db.session.rollback()
    assert list(failure.value.fields) == [f"check {b.id}"]
    assert db.session.scalar(select(func.count(Item.id))) == items_before
    assert db.session.scalar(select(func.count(ExerciseCheck.id)).where(ExerciseCheck.item_id.is_not(None))) == 0


def test_a_passed_check_never_becomes_an_item(ctx, world):
    committee = _user("committee")
    exercise = _plan(world, _user("lead"))
    services.record_check(exercise, exercise.checks[0].id, actor=committee, now=NOW, result="pass")
    with pytest.raises(ValidationFailed):
        services.raise_findings(exercise, [{"check_id": exercise.checks[0].id}], actor=committee, now=NOW)


def _close(item, world):
    items.transition(item, "start", actor=_user("member"), now=NOW)
    items.update_item(item, {}, actor=_user("committee"), now=NOW, version=item.version)
    item.progress = 100
    items.transition(item, "submit", actor=_user("member"), now=NOW, note="已整改")
    items.transition(item, "verify", actor=_user("committee"), now=NOW, note="现场核查通过")


def test_closure_counts_per_exercise_and_per_milestone(ctx, world):
    committee = _user("committee")
    milestone = Milestone(event_id=world.event.id, title="测试赛问题整改", kind="test_event", offset_days=-45)
    db.session.add(milestone)
    db.session.flush()
    exercise = _plan(world, _user("lead"), milestone_id=milestone.id)
    checks = exercise.checks[:3]
    for check in checks:
        services.record_check(exercise, check.id, actor=committee, now=NOW, result="fail")
    created = services.raise_findings(
        exercise,
        [{"check_id": c.id, "owner_id": world.member.id, "deadline": date(2026, 7, 10)} for c in checks],
        actor=committee,
        now=NOW,
    )
    _close(created[0], world)
    assert services.closure(committee, exercise_ids=[exercise.id]) == {exercise.id: (1, 3)}
    assert services.closure(committee, milestone_ids=[milestone.id]) == {milestone.id: (1, 3)}
    assert len(db.session.scalars(services.finding_items(committee, exercise=exercise, closed=True)).all()) == 1
    assert len(db.session.scalars(services.finding_items(committee, exercise=exercise, closed=False)).all()) == 2


def test_template_stored_twice_with_the_same_version_is_refused(ctx, world):
    data = services.shipped_templates()[1]
    services.install_template(data, now=NOW)
    with pytest.raises(ValidationFailed):
        services.install_template(data, now=NOW)
    assert db.session.scalar(select(func.count(ChecklistTemplate.id))) == 1


# --- pages ---------------------------------------------------------------------------


def _page_plan(client, world, **overrides):
    client.get("/exercises/new")  # stores the shipped checklists
    data = {
        "kind": "user_acceptance",
        "title": "体育馆使用者验收",
        "held_on": "2026-06-20",
        "venue": "茂名市体育馆",
        "group_id": str(world.cs.id),
        "template_id": "1",
        "participants": "张三, 轮椅使用者\n@external, 体验督导官",
    }
    data.update(overrides)
    return client.post("/exercises/new", data=data)


def test_user_acceptance_from_plan_to_closed_findings_through_pages(app, world):
    with app.app_context():
        milestone = Milestone(event_id=world.event.id, title="使用者验收", kind="test_event", offset_days=-80)
        db.session.add(milestone)
        db.session.commit()
        milestone_id = milestone.id
    lead = app.test_client()
    login(lead, "lead")
    response = _page_plan(lead, world, milestone_id=str(milestone_id))
    assert response.status_code == 302
    exercise_url = response.headers["Location"]
    assert exercise_url.endswith("/exercises/1")

    # The invited external tester records on site; the plain form works without script.
    tester = app.test_client()
    login(tester, "external")
    assert tester.get("/exercises/1/checklist").status_code == 200
    assert (
        tester.post("/exercises/1/checks/1", data={"result": "", "value": "1:10", "note": "坡度过陡"}).status_code
        == 302
    )
    # The page's script sends PUT; the same answer twice changes nothing.
    for _ in range(2):
        answer = tester.put("/exercises/1/checks/8", json={"result": "", "value": "0.75", "note": ""})
        assert answer.status_code == 200 and answer.json["result"] == "fail"
    assert tester.put("/exercises/1/checks/2", json={"result": "pass"}).json["result"] == "pass"
    assert tester.put("/exercises/1/checks/3", json={"result": "maybe"}).status_code == 422
    assert tester.get("/exercises/1/findings").status_code == 403  # testers record, leads decide

    # A member of another group may not record.
    other = app.test_client()
    login(other, "othermember")
    assert other.put("/exercises/1/checks/4", json={"result": "pass"}).status_code == 403

    # Review table: one row with an owner outside the group refuses everything.
    review = lead.get("/exercises/1/findings")
    assert review.status_code == 200 and "坡度" in review.get_data(as_text=True)
    bad = {
        "pick-1": "1",
        "owner-1": str(world.member.id),
        "deadline-1": "2026-07-10",
        "pick-8": "1",
        "owner-8": str(world.other_member.id),
        "deadline-8": "2026-07-10",
    }
    refused = lead.post("/exercises/1/findings", data=bad)
    assert refused.status_code == 422 and 'href="#row-8"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Item.id)).where(Item.source == "exercise_debrief")) == 0
    bad["owner-8"] = str(world.member.id)
    assert lead.post("/exercises/1/findings", data=bad).status_code == 302

    with app.app_context():
        found = db.session.scalars(select(Item).where(Item.source == "exercise_debrief").order_by(Item.id)).all()
        finding_ids = [i.id for i in found]
        assert [(i.group_id, i.owner_id, i.milestone_id) for i in found] == [
            (world.cs.id, world.member.id, milestone_id)
        ] * 2
        kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.item_id.in_([i.id for i in found])))
        assert list(kinds) == ["created", "created"]
        committee, member = _user("committee"), _user("member")
        item = found[0]
        items.transition(item, "start", actor=member, now=NOW)
        item.progress = 100
        items.transition(item, "submit", actor=member, now=NOW, note="已重新浇筑")
        items.transition(item, "verify", actor=committee, now=NOW, note="残疾人试用通过")
        db.session.commit()

    page = lead.get(exercise_url).get_data(as_text=True)
    assert '/exercises/1/findings/list?closed=1">1</a>' in page
    assert '/exercises/1/findings/list">2</a>' in page and "(50 %)" in page
    closed_list = lead.get("/exercises/1/findings/list?closed=1").get_data(as_text=True)
    assert 'class="finding-count">1<' in closed_list
    all_list = lead.get("/exercises/1/findings/list").get_data(as_text=True)
    assert 'class="finding-count">2<' in all_list
    origin = lead.get(f"/items/{finding_ids[0]}").get_data(as_text=True)
    assert 'href="/exercises/1"' in origin and "1:10" in origin
    report = lead.get("/exercises/1/report").get_data(as_text=True)
    assert "(50 %)" in report
    for path in ("/milestones", "/board"):
        text = lead.get(path).get_data(as_text=True)
        assert f'/milestones/{milestone_id}/findings?closed=1">1</a>' in text, path
    assert 'class="finding-count">1<' in lead.get(f"/milestones/{milestone_id}/findings?closed=1").get_data(
        as_text=True
    )


def test_an_external_account_not_invited_sees_nothing(app, world):
    lead = app.test_client()
    login(lead, "lead")
    _page_plan(lead, world, participants="张三, 轮椅使用者")
    tester = app.test_client()
    login(tester, "external")
    assert tester.get("/exercises/1").status_code == 404
    assert tester.put("/exercises/1/checks/1", json={"result": "pass"}).status_code == 404
    assert "体育馆使用者验收" not in tester.get("/exercises").get_data(as_text=True)


def test_planning_form_shows_errors_and_keeps_what_was_typed(app, world):
    lead = app.test_client()
    login(lead, "lead")
    response = _page_plan(lead, world, title="", participants="@nobody, 体验")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "@nobody, 体验" in text and "茂名市体育馆" in text


# --- API -------------------------------------------------------------------------------


def test_user_acceptance_through_the_api(app, world):
    from tests.api.test_api import Api, make_tokens

    secrets = make_tokens(app)
    client = app.test_client()
    lead, tester, committee = (Api(client, secrets[r]) for r in ("lead", "external", "committee"))
    body = {
        "kind": "user_acceptance",
        "title": "体育馆使用者验收",
        "date": "2026-06-20",
        "venue": "茂名市体育馆",
        "group": "CG",
        "template": "accessible_venue",
        "participants": ["张三, 轮椅使用者", "@external, 体验督导官"],
    }
    created = lead("POST", "/exercises", json=body)
    assert created.status_code == 201, created.json
    exercise = created.json
    assert exercise["participants"][1]["username"] == "external" and len(exercise["checks"]) > 20
    ramp, door = exercise["checks"][0], exercise["checks"][7]
    url = f"/exercises/{exercise['id']}"

    for _ in range(2):  # idempotent
        answer = tester("PUT", f"{url}/checks/{ramp['id']}", json={"result": None, "value": "1:10", "note": "坡度过陡"})
        assert answer.status_code == 200 and answer.json["result"] == "fail"
    assert tester("PUT", f"{url}/checks/{door['id']}", json={"result": "fail", "value": "0.75"}).status_code == 200
    refused = tester("PUT", f"{url}/checks/{door['id']}", json={"result": "bad", "extra": 1})
    assert refused.status_code == 422 and set(refused.json["error"]["fields"]) == {"result", "extra"}
    assert tester("POST", f"{url}/findings", json={"checks": [ramp["id"]]}).status_code == 403

    bad = lead("POST", f"{url}/findings", json={"checks": [ramp["id"], door["id"]], "owner": "othermember"})
    assert bad.status_code == 422 and "check" in next(iter(bad.json["error"]["fields"]))
    rows = [
        {"check": ramp["id"], "owner": "member", "deadline": "2026-07-10", "severity": "high"},
        {"check": door["id"], "owner": "member", "deadline": "2026-07-15"},
    ]
    made = lead("POST", f"{url}/findings", json={"findings": rows})
    assert made.status_code == 201, made.json
    assert [(i["group"], i["owner"], i["source"], i["severity"]) for i in made.json["items"]] == [
        ("CG", "member", "exercise_debrief", "high"),
        ("CG", "member", "exercise_debrief", "medium"),
    ]
    again = lead("POST", f"{url}/findings", json={"findings": rows})
    assert again.status_code == 422  # already items: nothing twice

    detail = committee("GET", url).json
    assert (detail["findings_closed"], detail["findings_total"]) == (0, 2)
    assert [c["item"] for c in detail["checks"] if c["item"]] == [i["id"] for i in made.json["items"]]
    assert detail["results"]["fail"] == 2
    listed = tester("GET", "/exercises").json
    assert [e["id"] for e in listed["items"]] == [exercise["id"]]
    other = Api(client, secrets["other_member"])
    assert other("PUT", f"{url}/checks/{ramp['id']}", json={"result": "pass"}).status_code == 403


def test_weekly_briefing_lists_the_weeks_exercises_and_open_findings(app, world):
    lead = app.test_client()
    login(lead, "lead")
    _page_plan(lead, world, held_on="2026-05-27")  # the week of NOW (2026-W22)
    _page_plan(lead, world, held_on="2026-06-20", title="下月验收")
    lead.post("/exercises/1/checks/1", data={"result": "fail", "value": "1:10"})
    lead.post(
        "/exercises/1/findings", data={"pick-1": "1", "owner-1": str(world.member.id), "deadline-1": "2026-07-10"}
    )
    committee = app.test_client()
    login(committee, "committee")
    page = committee.get("/reports/weekly?week=2026-W22").get_data(as_text=True)
    section = page[page.index('id="exercises-week-h"') :]
    assert "体育馆使用者验收" in section and "下月验收" not in section
    assert "无障碍出入口坡道坡度" in section  # the open finding


# --- checklist workbooks ------------------------------------------------------------------


def _xlsx(rows) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def test_a_checklist_goes_out_as_xlsx_and_comes_back_as_a_new_version(app, world):
    import io

    from openpyxl import load_workbook

    admin = app.test_client()
    login(admin, "admin")
    assert admin.get("/exercises/checklists").status_code == 200
    exported = admin.get("/exercises/checklists/1.xlsx")
    assert exported.status_code == 200
    book = load_workbook(io.BytesIO(exported.data))
    book.active["B2"] = 2  # version
    book.active.append(["新增分项", "Added", "CG", "新增检查点", "", "m", "≥ 0.90 m"])
    stream = io.BytesIO()
    book.save(stream)
    answer = admin.post("/exercises/checklists", data={"file": (io.BytesIO(stream.getvalue()), "mine.xlsx")})
    assert answer.status_code == 302
    with app.app_context():
        versions = db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "accessible_venue"))
        newest = max(versions, key=lambda t: t.version)
        assert newest.version == 2 and newest.sections[-1].points[0].rule == "≥ 0.90 m"


def test_a_malformed_checklist_is_refused_whole_with_errors_by_row(app, world):
    import io

    admin = app.test_client()
    login(admin, "admin")
    admin.get("/exercises/checklists")
    with app.app_context():
        before = db.session.scalar(select(func.count(ChecklistTemplate.id)))
    rows = [
        ["代码 code", "mine"],
        ["版本 version", 1],
        ["名称 name", "本单位清单"],
        [],
        [
            "分项 section",
            "分项英文 section_en",
            "责任组 group",
            "检查点 check point",
            "",
            "单位 unit",
            "判定规则 pass rule",
        ],
        ["出入口", "", "CG", "坡道坡度", "", "", "≤ 1:12"],
        ["", "", "", "门宽", "", "m", "wide enough"],
        ["卫生间", "", "XX", "抓杆", "", "", ""],
        ["", "", "", "", "", "mm", "< 13 mm"],
    ]
    answer = admin.post("/exercises/checklists", data={"file": (io.BytesIO(_xlsx(rows)), "mine.xlsx")})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    for row in (7, 8, 9):
        assert f"第 {row} 行" in text or f"row {row}" in text
    assert "第 6 行" not in text and "row 6:" not in text
    not_xlsx = admin.post("/exercises/checklists", data={"file": (io.BytesIO(b"hello"), "mine.xlsx")})
    assert not_xlsx.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(ChecklistTemplate.id))) == before


def test_a_free_finding_joins_the_review_table_and_becomes_an_item(app, world):
    lead = app.test_client()
    login(lead, "lead")
    _page_plan(lead, world)
    tester = app.test_client()
    login(tester, "external")
    empty = tester.post("/exercises/1/free-findings", data={"text": " ", "note": "看台东侧"})
    assert empty.status_code == 422 and "看台东侧" in empty.get_data(as_text=True)  # what was typed stays
    assert tester.post("/exercises/1/free-findings", data={"text": "轮椅席位被杂物占用"}).status_code == 302
    review = lead.get("/exercises/1/findings").get_data(as_text=True)
    assert "轮椅席位被杂物占用" in review
    with app.app_context():
        check_id = db.session.scalar(select(ExerciseCheck.id).where(ExerciseCheck.text == "轮椅席位被杂物占用"))
    form = {f"pick-{check_id}": "1", f"owner-{check_id}": str(world.member.id), f"deadline-{check_id}": "2026-07-10"}
    assert lead.post("/exercises/1/findings", data=form).status_code == 302
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.source == "exercise_debrief"))
        assert item.title.startswith("轮椅席位被杂物占用") and item.group_id == world.cs.id


def test_checklist_text_never_becomes_a_formula_and_comes_back_unchanged(ctx, world):
    import io

    from openpyxl import load_workbook

    from tracker.exercises import workbook

    section = {"title": "门", "group": "CG", "points": [{"text": '=HYPERLINK("http://x")', "rule": "= 0"}]}
    template = services.install_template({"code": "f", "version": 1, "name": "n", "sections": [section]}, now=NOW)
    data = workbook.export_template(template)
    cells = [c.value for row in load_workbook(io.BytesIO(data)).active.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    back = workbook.read_template(data)
    assert back["sections"][0]["points"][0] == {
        "text": '=HYPERLINK("http://x")',
        "text_en": "",
        "unit": "",
        "rule": "= 0",
    }


def test_photos_taken_at_a_check_point_become_the_findings_evidence(app, world):
    import hashlib
    import io

    from tests.browser.conftest import tiny_png
    from tracker.items.models import Evidence

    lead = app.test_client()
    login(lead, "lead")
    _page_plan(lead, world)
    png = tiny_png()
    sent = lead.post(
        "/exercises/1/checks/1",
        data={"result": "fail", "value": "1:10", "photos": (io.BytesIO(png), "ramp.png")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    refused = lead.post(
        "/exercises/1/checks/2",
        data={"result": "fail", "photos": (io.BytesIO(b"MZ not a photo"), "door.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(ExerciseCheck, 2).result is None  # the answer and the bad file are refused together
    form = {"pick-1": "1", "owner-1": str(world.member.id), "deadline-1": "2026-07-10"}
    assert lead.post("/exercises/1/findings", data=form).status_code == 302
    with app.app_context():
        item_id = db.session.get(ExerciseCheck, 1).item_id
        files = db.session.scalars(select(Evidence).where(Evidence.item_id == item_id)).all()
        assert [(f.content_type, f.sha256) for f in files] == [("image/png", hashlib.sha256(png).hexdigest())]
        kinds = db.session.scalars(
            select(LedgerEntry.kind).where(LedgerEntry.item_id == item_id).order_by(LedgerEntry.id)
        )
        assert list(kinds) == ["created", "evidence"]
