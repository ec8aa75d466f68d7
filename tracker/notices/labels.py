"""Translated names of the notice levels and states (never colour alone: each level has an icon too)."""

from flask_babel import lazy_gettext as _l

LEVEL = {
    "blue": _l("Blue: reminder (提醒督办)"),
    "orange": _l("Orange: warning (警示督办)"),
    "red": _l("Red: listed (挂牌督办)"),
}
LEVEL_SHORT = {"blue": _l("Blue level"), "orange": _l("Orange level"), "red": _l("Red level")}
# Shapes that differ without colour: a circle, a triangle, a square.
LEVEL_ICON = {"blue": "●", "orange": "▲", "red": "■"}
STATUS = {
    "issued": _l("Awaiting receipt"),
    "acknowledged": _l("Awaiting reply"),
    "replied": _l("Replied"),
    "closed": _l("Closed (办结)"),
    "escalated": _l("Escalated"),
}
STEP = {
    "acknowledge": _l("Sign for it (签收)"),
    "reply": _l("Reply (回复)"),
    "close": _l("Close (办结)"),
    "escalate": _l("Escalate to the next level"),
    "interview": _l("Record the interview (约谈)"),
}


def register(app) -> None:
    app.jinja_env.globals.update(
        NOTICE_LEVEL=LEVEL,
        NOTICE_LEVEL_SHORT=LEVEL_SHORT,
        NOTICE_ICON=LEVEL_ICON,
        NOTICE_STATUS=STATUS,
        NOTICE_STEP=STEP,
    )
