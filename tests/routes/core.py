"""Rows for the foundation's pages: home, lists, items, milestones, admin, auth."""

from tests.routes import ANY_OK, DENIED, LOGIN, NOT_FOUND, OK, Route, roles

VIEWERS = roles(OK)
ADMIN_ONLY = roles(DENIED, admin=OK)
ADMIN_POST = roles(DENIED, admin=ANY_OK)
CREATORS = roles(DENIED, admin=OK, committee=OK, lead=OK, other_lead=OK)
# Who may see the confidential CG item: its group, committee, admin.
CONFIDENTIAL = roles(DENIED, admin=OK, committee=OK, lead=OK, member=OK)
# Who may edit a CG item: admin, committee, the CG lead.
CG_EDITORS = roles(DENIED, admin=OK, committee=OK, lead=OK)

ROUTES = [
    Route("home.index", "GET", "/", VIEWERS),
    Route("home.accessibility", "GET", "/accessibility", roles(OK, anon=OK)),
    Route("auth.login", "GET", "/login", roles(ANY_OK, anon=OK)),
    Route("auth.login", "POST", "/login", roles(ANY_OK, anon=OK), data={"username": "x", "password": "y"}),
    Route("auth.logout", "POST", "/logout", roles(ANY_OK)),
    Route("auth.language", "POST", "/language", roles(ANY_OK, anon=ANY_OK), data={"language": "en"}),
    Route("items.problems", "GET", "/problems", VIEWERS),
    Route("items.responsibilities", "GET", "/responsibilities", VIEWERS),
    Route("items.ledger", "GET", "/ledger", VIEWERS),
    Route("items.new", "GET", "/items/new", CREATORS),
    Route(
        "items.new",
        "POST",
        "/items/new",
        roles(DENIED, admin=ANY_OK, committee=ANY_OK, lead=ANY_OK, other_lead=frozenset({422})),
        data={"title": "新问题", "group_id": "{cs}", "kind": "problem", "severity": "low"},
    ),
    Route("items.detail", "GET", "/items/{owned}", roles(OK, external=NOT_FOUND)),
    Route("items.detail", "GET", "/items/{confidential}", CONFIDENTIAL),
    Route("items.detail", "GET", "/items/{external_item}", roles(OK)),
    Route("items.closure_form", "GET", "/items/{owned}/closure-form", roles(OK, external=NOT_FOUND)),
    Route("items.closure_form", "GET", "/items/{confidential}/closure-form", CONFIDENTIAL),
    Route("items.closure_form", "GET", "/items/{external_item}/closure-form", roles(OK)),
    Route("items.edit", "GET", "/items/{owned}/edit", CG_EDITORS),
    Route(
        "items.edit",
        "POST",
        "/items/{unowned}/edit",
        roles(DENIED, admin=ANY_OK, committee=ANY_OK, lead=ANY_OK),
        data={
            "title": "改名",
            "group_id": "{cs}",
            "kind": "problem",
            "severity": "low",
            "version": "1",
            "deadline": "2026-06-30",
        },
    ),
    Route(
        "items.transition",
        "POST",
        "/items/{owned}/transition",
        roles(DENIED, admin=ANY_OK, lead=ANY_OK, member=ANY_OK),
        data={"action": "start"},
    ),
    Route(
        "items.transition",
        "POST",
        "/items/{external_item}/transition",
        roles(DENIED, admin=ANY_OK, lead=ANY_OK, external=ANY_OK),
        data={"action": "start"},
    ),
    Route(
        "items.progress",
        "POST",
        "/items/{owned}/progress",
        roles(DENIED, admin=ANY_OK, committee=ANY_OK, lead=ANY_OK, member=ANY_OK),
        data={"note": "进展"},
    ),
    Route("items.download_evidence", "GET", "/items/{owned}/evidence/nosuchfile", roles(NOT_FOUND, external=NOT_FOUND)),
    Route("admin.index", "GET", "/admin/", roles(DENIED, admin=ANY_OK)),
    Route("admin.event", "GET", "/admin/event", ADMIN_ONLY),
    Route("admin.groups", "GET", "/admin/groups", ADMIN_ONLY),
    Route("admin.group", "GET", "/admin/groups/new", ADMIN_ONLY),
    Route("admin.group", "GET", "/admin/groups/{cs}", ADMIN_ONLY),
    Route("admin.users", "GET", "/admin/users", ADMIN_ONLY),
    Route("admin.user", "GET", "/admin/users/new", ADMIN_ONLY),
    Route("admin.user", "GET", "/admin/users/{member}", ADMIN_ONLY),
    Route(
        "admin.event",
        "POST",
        "/admin/event",
        ADMIN_POST,
        data={
            "name": "残运会",
            "opening_at": "2026-09-18T20:00",
            "timezone": "Asia/Shanghai",
            "default_locale": "zh_CN",
        },
    ),
    Route("admin.group", "POST", "/admin/groups/new", ADMIN_POST, data={"code": "NEW", "name": "新组"}),
    Route(
        "admin.user",
        "POST",
        "/admin/users/new",
        ADMIN_POST,
        data={"username": "newbie", "role": "member", "password": "long-enough-1"},
    ),
]
assert LOGIN  # re-exported for area modules
ROUTES += [
    Route("audit.index", "GET", "/admin/audit", ADMIN_ONLY),
    Route("audit.index", "GET", "/admin/audit?action=login_failed&page=2", ADMIN_ONLY),
]
ROUTES += [
    Route("auth.change_password", "GET", "/account/password", roles(OK)),
    Route(
        "auth.change_password",
        "POST",
        "/account/password",
        roles(frozenset({422})),
        data={"current": "wrong-password", "new": "new-password-1", "confirm": "new-password-1"},
    ),
    Route("auth.reauth", "GET", "/reauth", roles(OK)),
    Route("auth.reauth", "POST", "/reauth", roles(ANY_OK), data={"password": "correct-horse-1", "next": "/"}),
]
ROUTES += [
    Route("auth.verify_code", "GET", "/login/verify", roles(ANY_OK, anon=ANY_OK)),
    Route("auth.verify_code", "POST", "/login/verify", roles(ANY_OK, anon=ANY_OK), data={"code": "123456"}),
    Route("auth.two_factor", "GET", "/account/2fa", roles(OK)),
    Route("auth.two_factor", "POST", "/account/2fa", roles(frozenset({422})), data={"code": "000000"}),
    Route("admin.security", "GET", "/admin/security", ADMIN_ONLY),
    Route("admin.security", "POST", "/admin/security", ADMIN_POST, data={"require_totp": ""}),
]
ROUTES += [
    Route("auth.account", "GET", "/account", roles(OK)),
    Route("auth.change_email", "POST", "/account/email", roles(ANY_OK), data={"email": "someone@office.local"}),
    Route("admin.group_webhook", "GET", "/admin/groups/{cs}/webhook", ADMIN_ONLY),
    Route(
        "admin.group_webhook",
        "POST",
        "/admin/groups/{js}/webhook",
        ADMIN_POST,
        data={"webhook_url": "", "webhook_format": "dingtalk"},
    ),
]
