"""Notifications as their reader reads them: in today's language, every item a link.

A notification keeps what its message was made from (``Notification.data``); it is
made again here in the reader's current language. Notifications stored before that
was kept show their stored text, with their paths turned into links.
"""

import json
import re

from sqlalchemy import select

from tracker.extensions import db
from tracker.outbox.models import Notification
from tracker.reminders import messages

_LINK = re.compile(r"^\s*((?:https?://\S+)?/\S*)\s*$")


def readable(rows: list[dict]) -> list[dict]:
    """The page's rows, each with ``message`` (a Message in the current language) or ``body_lines``."""
    ids = [row["id"] for row in rows]
    stored = dict(db.session.execute(select(Notification.id, Notification.data).where(Notification.id.in_(ids))).all())
    for row in rows:
        data = stored.get(row["id"])
        message = messages.rebuild(json.loads(data)) if data else None
        row["message"] = message
        if message is not None:
            row["subject"] = messages.clean(message.subject)
        # A bare address the heading already links to says nothing more.
        row["body_lines"] = [
            line for line in _lines(row.get("body") or "") if not (line["text"] == line["href"] == row.get("url"))
        ]
    return rows


def _lines(body: str) -> list[dict]:
    """A stored body's lines; a bare path or address becomes the link of the line before it."""
    lines: list[dict] = []
    for text in body.split("\n"):
        if not text.strip():
            continue
        found = _LINK.match(text)
        if found and lines and lines[-1]["href"] is None:
            lines[-1]["href"] = found.group(1)
        else:
            lines.append({"text": text.strip().removeprefix("- "), "href": found.group(1) if found else None})
    return lines
