"""What the lists' search box and the ``owner`` and ``imported`` filters mean, as SQL conditions.

- ``q``: every word (split on spaces, ideographic ones too) must appear somewhere in the
  item: title, number, description, measures, venue, or the responsible person's
  display name or username. "无障碍 卫生间" finds items that mention both. Words of
  three characters or more are looked up in the trigram index (``search_index``); a
  shorter word cannot be, so it is matched with LIKE on the rows the rest already narrowed.
- ``owner``: a username, or else a display name (吴静): the username wins when both exist,
  so a name never pulls in someone else's items.
- ``imported``: the items an import (by the viewer) wrote at that moment.
"""

from sqlalchemy import and_, column, exists, literal_column, or_, select, table, union

from tracker.auth.models import User
from tracker.extensions import db
from tracker.items import search_index
from tracker.items.models import Item

MAX_WORDS = 8


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def words(text: str) -> list[str]:
    return list(dict.fromkeys(text.replace("\u3000", " ").split()))[:MAX_WORDS]


def words_clauses(text: str) -> list:
    dialect = db.session.get_bind().dialect.name
    # Three characters or more: the trigram index finds them.
    clauses = []
    for word in words(text):
        like = _like(word)
        if len(word) >= 3:
            clauses.append(Item.id.in_(union(_text_matches(word, like, dialect), _owner_matches(like))))
            continue
        clauses.append(
            or_(
                Item.title.ilike(like, escape="\\"),
                Item.code.ilike(like, escape="\\"),
                Item.description.ilike(like, escape="\\"),
                Item.measures.ilike(like, escape="\\"),
                Item.venue.ilike(like, escape="\\"),
                Item.owner.has(or_(User.display_name.ilike(like, escape="\\"), User.username.ilike(like, escape="\\"))),
            )
        )
    return clauses


def _text_matches(word: str, like: str, dialect: str):
    if dialect == "sqlite":  # a quoted FTS5 string: with the trigram tokenizer, any substring
        phrase = '"{}"'.format(word.replace('"', '""'))
        index = table(search_index.TABLE, column("rowid"))
        return select(index.c.rowid).where(literal_column(search_index.TABLE).op("MATCH")(phrase))
    return select(Item.id).where(search_index.pg_text().ilike(like, escape="\\"))


def _owner_matches(like: str):
    people = select(User.id).where(
        or_(User.display_name.ilike(like, escape="\\"), User.username.ilike(like, escape="\\"))
    )
    return select(Item.id).where(Item.owner_id.in_(people))


def owner_clause(value: str):
    by_username = User.username == value
    return or_(
        Item.owner.has(by_username),
        and_(~exists(select(User.id).where(by_username)), Item.owner.has(User.display_name == value)),
    )
