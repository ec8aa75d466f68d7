"""Rows for the JSON API (anon: 401) and its HTML pages (tokens, reference)."""

from tests.routes import ANY_OK, NOT_FOUND, OK, Route, roles

UNAUTHORIZED = frozenset({401})
CREATED = frozenset({201})
FORBIDDEN = frozenset({403})
INVALID = frozenset({422})


def api(default, **overrides) -> dict:
    return roles(default, anon=UNAUTHORIZED, **overrides)


READERS = api(OK)
ADMIN_WRITE = api(FORBIDDEN, admin=OK)

ROUTES = [
    Route("api.openapi", "GET", "/api/v1/openapi.json", roles(OK, anon=OK)),
    Route("api.get_event", "GET", "/api/v1/event", READERS),
    Route(
        "api.put_event",
        "PUT",
        "/api/v1/event",
        ADMIN_WRITE,
        json={
            "name": "广东省第十届残疾人运动会",
            "opening_at": "2026-09-18T20:00:00+08:00",
            "timezone": "Asia/Shanghai",
        },
    ),
    Route("api.list_groups", "GET", "/api/v1/groups", READERS),
    Route(
        "api.create_group",
        "POST",
        "/api/v1/groups",
        api(FORBIDDEN, admin=CREATED),
        json={"code": "APIX", "name": "接口测试组"},
    ),
    Route("api.list_milestones", "GET", "/api/v1/milestones", READERS),
    Route(
        "api.create_milestone",
        "POST",
        "/api/v1/milestones",
        api(FORBIDDEN, admin=CREATED, committee=CREATED),
        json={"title": "T-7 测试赛", "offset_days": -7, "kind": "test_event"},
    ),
    Route("api.me", "GET", "/api/v1/users/me", READERS),
    Route("api.list_items", "GET", "/api/v1/items?status=open&per_page=5", READERS),
    Route(
        "api.create_item",
        "POST",
        "/api/v1/items",
        api(FORBIDDEN, admin=CREATED, committee=CREATED, lead=CREATED, other_lead=INVALID),
        json={"title": "接口新建", "group": "CG"},
    ),
    Route("api.get_item", "GET", "/api/v1/items/{owned}", api(OK, external=NOT_FOUND)),
    Route(
        "api.get_item",
        "GET",
        "/api/v1/items/{other_confidential}",
        api(NOT_FOUND, admin=OK, committee=OK, other_lead=OK, other_member=OK),
    ),
    Route("api.get_item", "GET", "/api/v1/items/{external_item}", READERS),
    Route(
        "api.patch_item",
        "PATCH",
        "/api/v1/items/{confidential}",
        api(NOT_FOUND, admin=OK, committee=OK, lead=OK, member=FORBIDDEN),
        json={"version": 1, "measures": "接口修改"},
    ),
    Route(
        "api.transition",
        "POST",
        "/api/v1/items/{other_group}/transitions",
        api(FORBIDDEN, admin=OK, other_lead=OK, other_member=OK, external=NOT_FOUND),
        json={"action": "start"},
    ),
    Route("api.item_ledger", "GET", "/api/v1/items/{owned}/ledger", api(OK, external=NOT_FOUND)),
    Route(
        "api.add_progress",
        "POST",
        "/api/v1/items/{other_confidential}/ledger",
        api(NOT_FOUND, admin=CREATED, committee=CREATED, other_lead=CREATED, other_member=FORBIDDEN),
        json={"note": "接口进展"},
    ),
    Route("api.board", "GET", "/api/v1/board", READERS),
    Route("api.notifications", "GET", "/api/v1/notifications", READERS),
    Route("api.no_such_route", "GET", "/api/v1/nothing-here", api(NOT_FOUND)),
    Route("api.no_such_route", "POST", "/api/v1/nothing-here", api(NOT_FOUND), json={}),
    Route("api.no_such_route", "PUT", "/api/v1/items", api(frozenset({405})), json={}),
    Route("api.no_such_route", "PATCH", "/api/v1/groups", api(frozenset({405})), json={}),
    Route("api.no_such_route", "DELETE", "/api/v1/items/{owned}", api(frozenset({405}))),
    Route("api_pages.tokens", "GET", "/account/tokens", roles(OK)),
    Route("api_pages.create_token", "POST", "/account/tokens", roles(ANY_OK), data={"name": "表格同步"}),
    Route("api_pages.revoke_token", "POST", "/account/tokens/999/revoke", roles(NOT_FOUND)),
    Route("api_pages.docs", "GET", "/api/docs", roles(OK, anon=OK)),
]
