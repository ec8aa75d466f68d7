"""Uploaded sheets kept between the preview and the confirmation, in the file store.

Each file is named by its uploader's id and a random token, so only the person
who uploaded it can confirm it, and the name can neither be guessed nor point
outside its bucket. Files older than a day are swept away on the next upload,
and each user keeps at most ``IMPORT_KEEP_PER_USER`` files and
``IMPORT_KEEP_BYTES_PER_USER`` bytes: a new upload removes that user's oldest.

Confirming claims the file first by renaming it (atomic in either store: one file
system rename, or one UPDATE), so two concurrent confirmations of one upload
import it once. With the database store the caller commits (``keep`` and
``discard``) like any other write; a rolled-back claim gives the upload back.
"""

import re
import secrets
from datetime import datetime, timedelta
from io import BytesIO

from flask import current_app

from tracker.files.store import store

BUCKET = "imports"
KEEP_FOR = timedelta(days=1)
KEEP_PER_USER = 5
KEEP_BYTES_PER_USER = 30 * 1024 * 1024
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _name(user_id: int, token: str) -> str | None:
    if not _TOKEN.match(token or ""):
        return None
    return f"{int(user_id)}-{token}.xlsx"


def _claimed(name: str) -> str:
    # Tokens hold no dot, so a claimed name never equals an unclaimed one.
    return name.removesuffix(".xlsx") + ".claimed.xlsx"


def keep(user_id: int, data: bytes, *, now: datetime) -> str:
    sweep(now)
    _make_room(user_id, len(data))
    token = secrets.token_urlsafe(24)
    store().put(BUCKET, _name(user_id, token), BytesIO(data), now=now)
    return token


def _make_room(user_id: int, incoming: int) -> None:
    """Remove the user's oldest kept uploads until one more of ``incoming`` bytes fits the quota."""
    config = current_app.config
    max_files = max(1, config.get("IMPORT_KEEP_PER_USER", KEEP_PER_USER))
    max_bytes = config.get("IMPORT_KEEP_BYTES_PER_USER", KEEP_BYTES_PER_USER)
    files = store()
    kept = sorted(files.listing(BUCKET, f"{int(user_id)}-"), key=lambda f: (f.created_at, f.name))
    total = sum(f.size for f in kept)
    while kept and (len(kept) >= max_files or total + incoming > max_bytes):
        oldest = kept.pop(0)
        files.delete(BUCKET, oldest.name)
        total -= oldest.size


def claim(user_id: int, token: str) -> bytes | None:
    """The upload's bytes, for exactly one caller: a second claim of the same upload gets None."""
    name = _name(user_id, token)
    files = store()
    if name is None or not files.rename(BUCKET, name, _claimed(name)):
        return None
    return files.read(BUCKET, _claimed(name))


def release(user_id: int, token: str) -> None:
    """Give a claimed upload back (its import was not applied and it waits for another confirm)."""
    name = _name(user_id, token)
    if name is not None:
        store().rename(BUCKET, _claimed(name), name)


def discard(user_id: int, token: str) -> None:
    name = _name(user_id, token)
    if name is not None:
        files = store()
        files.delete(BUCKET, name)
        files.delete(BUCKET, _claimed(name))


def sweep(now: datetime) -> None:
    files = store()
    for kept in files.listing(BUCKET):
        if kept.created_at < now - KEEP_FOR:
            files.delete(BUCKET, kept.name)
