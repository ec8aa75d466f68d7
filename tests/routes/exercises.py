"""Rows for exercises (演练/测试赛/检查): plan, record, findings, report.

Rows run in order on one world per role: the admin, the committee and the CG lead plan
exercise 1 (a user acceptance of CG with the shipped accessible-venue checklist, whose
first check is 1), then reach its pages; for every other role exercise 1 does not exist.
The invited external tester and the group member are walked in tests/exercises/test_exercises.py.
"""

from tests.routes import ANY_OK, DENIED, OK, Route, roles

PLANNERS = roles(DENIED, admin=OK, committee=OK, lead=OK)
PLANNED = roles(DENIED, admin=ANY_OK, committee=ANY_OK, lead=ANY_OK)
PLAN = {
    "kind": "user_acceptance",
    "title": "体育馆使用者验收",
    "held_on": "2026-06-20",
    "venue": "茂名市体育馆",
    "group_id": "{cs}",
    "template_id": "1",
    "participants": "张三, 轮椅使用者\n@external, 体验督导官",
}

ROUTES = [
    Route("exercises.index", "GET", "/exercises", roles(OK)),
    Route("exercises.new", "GET", "/exercises/new", roles(DENIED, admin=OK, committee=OK, lead=OK, other_lead=OK)),
    Route("exercises.new", "POST", "/exercises/new", PLANNED, data=PLAN),
    Route("exercises.show", "GET", "/exercises/1", PLANNERS),
    Route("exercises.checklist", "GET", "/exercises/1/checklist", PLANNERS),
    Route("exercises.record", "POST", "/exercises/1/checks/1", PLANNED, data={"result": "fail", "value": "1:10"}),
    Route("exercises.record", "PUT", "/exercises/1/checks/1", PLANNED, json={"result": "fail", "value": "1:10"}),
    Route("exercises.free_finding", "POST", "/exercises/1/free-findings", PLANNED, data={"text": "轮椅席位被占用"}),
    Route("exercises.findings", "GET", "/exercises/1/findings", PLANNERS),
    Route(
        "exercises.findings",
        "POST",
        "/exercises/1/findings",
        PLANNED,
        data={"pick-1": "1", "owner-1": "{member}", "deadline-1": "2030-06-30"},
    ),
    Route("exercises.report", "GET", "/exercises/1/report", PLANNERS),
    Route("exercises.finding_list", "GET", "/exercises/1/findings/list?closed=0", PLANNERS),
]
ROUTES.append(Route("exercises.milestone_findings", "GET", "/milestones/999999/findings", roles(frozenset({404}))))

# The API: exercise 1 exists for the admin, the committee and the CG lead (planned by the rows above).
UNAUTHORIZED = frozenset({401})
CREATED = frozenset({201})


def api(default, **overrides) -> dict:
    return roles(default, anon=UNAUTHORIZED, **overrides)


ROUTES += [
    Route("api.list_exercises", "GET", "/api/v1/exercises", api(OK)),
    Route(
        "api.create_exercise",
        "POST",
        "/api/v1/exercises",
        api(DENIED, admin=CREATED, committee=CREATED, lead=CREATED),
        json={"kind": "inspection", "title": "安全检查", "date": "2026-06-21", "group": "CG", "template": "test_event"},
    ),
    Route("api.get_exercise", "GET", "/api/v1/exercises/1", api(DENIED, admin=OK, committee=OK, lead=OK)),
    Route(
        "api.record_check",
        "PUT",
        "/api/v1/exercises/1/checks/2",
        api(DENIED, admin=OK, committee=OK, lead=OK),
        json={"result": "fail", "value": "1.0", "note": "门宽不足"},
    ),
    Route(
        "api.create_findings",
        "POST",
        "/api/v1/exercises/1/findings",
        api(DENIED, admin=CREATED, committee=CREATED, lead=CREATED),
        json={"checks": [2], "owner": "member", "deadline": "2030-06-30"},
    ),
]

KEEPERS = roles(DENIED, admin=OK, committee=OK)
ROUTES += [
    Route("exercises.checklists", "GET", "/exercises/checklists", KEEPERS),
    # No file: the keepers get the form back with the error (422), nothing stored.
    Route("exercises.checklists", "POST", "/exercises/checklists", roles(DENIED, admin={422}, committee={422})),
    Route("exercises.checklist_xlsx", "GET", "/exercises/checklists/1.xlsx", KEEPERS),
]
