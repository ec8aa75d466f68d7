"""Rows for supervision notices: pages, steps, suggestions, rules, and /api/v1/notices.

Within one role the rows run in order on one world: notice ``{notice}`` is signed for and
answered by its addressees, escalated by the committee; ``{notice_api}`` goes through the
API; ``{notice_red}`` takes an interview. An external user cannot see the member's item,
so its notices answer 404.
"""

from tests.routes import ANY_OK, DENIED, OK, Route, roles

FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
INVALID = frozenset({422})
CREATED = frozenset({201})
UNAUTHORIZED = frozenset({401})
LATER = "2099-01-15"
# JSON needs the id as a number (the table fills strings only): the world creates `confidential` third.
CONFIDENTIAL_ITEM_ID = 3

READ_OWNED = roles(OK, external=NOT_FOUND)
# The addressees (CG's lead and the item's owner) answer; everyone else who can see the item is refused.
ANSWER = roles(FORBIDDEN, lead=ANY_OK, member=ANY_OK, external=NOT_FOUND)
DECIDE = roles(FORBIDDEN, admin=ANY_OK, committee=ANY_OK, external=NOT_FOUND)
COMMITTEE_PAGE = roles(FORBIDDEN, admin=OK, committee=OK)


def api(default, **overrides) -> dict:
    return roles(default, anon=UNAUTHORIZED, **overrides)


ROUTES = [
    Route("notices.index", "GET", "/notices?status=open&level=blue", roles(OK)),
    Route("notices.detail", "GET", "/notices/{notice}", READ_OWNED),
    Route("notices.print_view", "GET", "/notices/{notice}/print", READ_OWNED),
    Route("notices.acknowledge", "POST", "/notices/{notice}/acknowledge", ANSWER),
    Route("notices.reply", "POST", "/notices/{notice}/reply", ANSWER, data={"reply-text": "已完成坡道重新浇筑"}),
    Route(
        "notices.escalate",
        "POST",
        "/notices/{notice}/escalate",
        DECIDE,
        data={"escalate-text": "逾期未改，提级警示", "escalate-reply_by": LATER},
    ),
    Route(
        "notices.close",
        "POST",
        "/notices/{notice}/close",
        roles(FORBIDDEN, admin=INVALID, committee=INVALID, external=NOT_FOUND),
        data={"close-note": "已办结"},
    ),
    Route(
        "notices.interview",
        "POST",
        "/notices/{notice_red}/interview",
        roles(FORBIDDEN, admin=ANY_OK, committee=ANY_OK, external=NOT_FOUND),
        data={
            "interview-on": "2026-06-01",
            "interview-participants": "组委会、场馆组",
            "interview-conclusion": "限期整改",
        },
    ),
    Route("notices.issue", "GET", "/items/{external_item}/notices/new", COMMITTEE_PAGE),
    Route(
        "notices.issue",
        "POST",
        "/items/{external_item}/notices/new",
        roles(FORBIDDEN, admin=ANY_OK, committee=ANY_OK),
        data={"level": "orange", "text": "请尽快完成舞美搭建", "reply_by": LATER},
    ),
    Route("notices.suggestions", "GET", "/notices/suggestions", COMMITTEE_PAGE),
    Route(
        "notices.suggestions",
        "POST",
        "/notices/suggestions",
        roles(FORBIDDEN, admin=ANY_OK, committee=ANY_OK),
        data={"item_ids": "{other_confidential}"},
    ),
    Route("notices.rules_settings", "GET", "/admin/notices", roles(DENIED, admin=OK)),
    Route(
        "notices.rules_settings",
        "POST",
        "/admin/notices",
        roles(DENIED, admin=ANY_OK),
        data={
            "blue_due_days": "3",
            "blue_lag": "10",
            "orange_overdue_days": "3",
            "red_overdue_days": "10",
            "red_after_oranges": "2",
            "reply_days": "3",
            "lead_after_days": "1",
            "committee_after_days": "3",
        },
    ),
    # The API: the same rules, JSON answers.
    Route("notices_api.list_notices", "GET", "/api/v1/notices?level=blue&status=open", api(OK)),
    Route("notices_api.get_notice", "GET", "/api/v1/notices/{notice_api}", api(OK, external=NOT_FOUND)),
    Route(
        "notices_api.create_notice",
        "POST",
        "/api/v1/notices",
        api(
            FORBIDDEN,
            admin=CREATED,
            committee=CREATED,
            other_lead=NOT_FOUND,
            other_member=NOT_FOUND,
            external=NOT_FOUND,
        ),
        json={"item": CONFIDENTIAL_ITEM_ID, "level": "blue", "text": "请按期完成", "reply_by": LATER},
    ),
    Route(
        "notices_api.acknowledge",
        "POST",
        "/api/v1/notices/{notice_api}/acknowledge",
        api(FORBIDDEN, lead=OK, member=OK, external=NOT_FOUND),
    ),
    Route(
        "notices_api.reply",
        "POST",
        "/api/v1/notices/{notice_api}/reply",
        api(FORBIDDEN, lead=OK, member=OK, external=NOT_FOUND),
        json={"text": "已整改"},
    ),
    Route(
        "notices_api.close",
        "POST",
        "/api/v1/notices/{notice_api}/close",
        api(FORBIDDEN, admin=OK, committee=OK, external=NOT_FOUND),
        json={"note": "办结"},
    ),
    Route(
        "notices_api.escalate",
        "POST",
        "/api/v1/notices/{notice_other}/escalate",
        api(FORBIDDEN, admin=CREATED, committee=CREATED, external=NOT_FOUND),
        json={"text": "提级督办", "reply_by": LATER},
    ),
]
