"""The text index behind the lists' search box, kept in step with the items by the database itself.

Chinese has no spaces between words, so a word index would miss "卫生间" inside
"无障碍卫生间". Both databases index character trigrams instead, which find any
substring of three characters or more:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over the item's text columns
  (external content: it stores only the index), filled by triggers on ``item``, so an
  insert, edit or delete is searchable in the same transaction.
- PostgreSQL: a ``pg_trgm`` GIN index on the item's text (an expression index: it is
  part of the row's own write).

The same statements create the index for a new database (``create_all``) and in the
migration that adds it to an existing one.
"""

from sqlalchemy import DDL, event, literal_column

COLUMNS = ("title", "code", "description", "measures", "venue")
TABLE = "item_search"

# The text PostgreSQL indexes and the search compares with: one expression, spelled the same in both.
PG_TEXT = (
    "(coalesce(title, '') || ' ' || coalesce(code, '') || ' ' || coalesce(description, '') || ' ' "
    "|| coalesce(measures, '') || ' ' || coalesce(venue, ''))"
)

_cols = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)
# Fixed names only, no input: these are DDL texts.
_forget = f"INSERT INTO {TABLE}({TABLE}, rowid, {_cols}) VALUES ('delete', old.id, {_old});"  # noqa: S608
_learn = f"INSERT INTO {TABLE}(rowid, {_cols}) VALUES (new.id, {_new});"  # noqa: S608

SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5({_cols}, content='item', content_rowid='id', "
    "tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON item BEGIN {_learn} END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON item BEGIN {_forget} END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF {_cols} ON item BEGIN {_forget} {_learn} END",
)
SQLITE_BACKFILL = f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')"  # noqa: S608
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_update",
    f"DROP TABLE IF EXISTS {TABLE}",
)
PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS ix_item_search_trgm ON item USING gin ({PG_TEXT} gin_trgm_ops)",
)
PG_DROP = ("DROP INDEX IF EXISTS ix_item_search_trgm",)


def statements(dialect: str, *, create: bool) -> tuple[str, ...]:
    if dialect == "sqlite":
        return (*SQLITE_CREATE, SQLITE_BACKFILL) if create else SQLITE_DROP
    if dialect == "postgresql":
        return PG_CREATE if create else PG_DROP
    return ()


def pg_text():
    return literal_column(PG_TEXT)


def install(item_table) -> None:
    """Create the index with the item table (and drop it before), on each database its own way."""
    for dialect in ("sqlite", "postgresql"):
        for sql in statements(dialect, create=True):
            event.listen(item_table, "after_create", DDL(sql).execute_if(dialect=dialect))
        for sql in statements(dialect, create=False):
            event.listen(item_table, "before_drop", DDL(sql).execute_if(dialect=dialect))
