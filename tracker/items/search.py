"""What the lists' search box and the ``owner`` and ``imported`` filters mean, as SQL conditions.

- ``q``: every word (split on spaces, ideographic ones too) must appear somewhere in the
  item: title, number, description, measures, venue, or the responsible person's
  display name or username. "无障碍 卫生间" finds items that mention both.
- ``owner``: a username, or else a display name (吴静): the username wins when both exist,
  so a name never pulls in someone else's items.
- ``imported``: the items an import (by the viewer) wrote at that moment.
"""


from sqlalchemy import and_, exists, or_, select

from tracker.auth.models import User
from tracker.items.models import Item

MAX_WORDS = 8


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def words(text: str) -> list[str]:
    return list(dict.fromkeys(text.replace("\u3000", " ").split()))[:MAX_WORDS]


def words_clauses(text: str) -> list:
    clauses = []
    for word in words(text):
        like = _like(word)
        clauses.append(
            or_(
                Item.title.ilike(like, escape="\\"),
                Item.code.ilike(like, escape="\\"),
                Item.description.ilike(like, escape="\\"),
                Item.measures.ilike(like, escape="\\"),
                Item.venue.ilike(like, escape="\\"),
                Item.owner.has(
                    or_(User.display_name.ilike(like, escape="\\"), User.username.ilike(like, escape="\\"))
                ),
            )
        )
    return clauses


def owner_clause(value: str):
    by_username = User.username == value
    return or_(
        Item.owner.has(by_username),
        and_(~exists(select(User.id).where(by_username)), Item.owner.has(User.display_name == value)),
    )
