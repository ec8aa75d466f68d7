"""Uploaded sheets kept between the preview and the confirmation, under instance/.

Each file is named by its uploader's id and a random token, so only the person
who uploaded it can confirm it, and the name can neither be guessed nor point
outside the folder. Files older than a day are swept away on the next upload,
and each user keeps at most ``IMPORT_KEEP_PER_USER`` files and
``IMPORT_KEEP_BYTES_PER_USER`` bytes: a new upload removes that user's oldest.

Confirming claims the file first by renaming it (atomic on one file system), so
two concurrent confirmations of one upload import it once.
"""

import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

KEEP_FOR = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def upload_dir() -> Path:
    return Path(current_app.config["IMPORT_DIR"] or Path(current_app.instance_path) / "imports")


def _path(user_id: int, token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return upload_dir() / f"{int(user_id)}-{token}.xlsx"


def _claimed(path: Path) -> Path:
    # Tokens hold no dot, so a claimed name never equals an unclaimed one.
    return path.with_name(path.stem + ".claimed.xlsx")


def keep(user_id: int, data: bytes, *, now: datetime) -> str:
    upload_dir().mkdir(parents=True, exist_ok=True)
    sweep(now)
    _make_room(user_id, len(data))
    token = secrets.token_urlsafe(24)
    _path(user_id, token).write_bytes(data)
    return token


def _make_room(user_id: int, incoming: int) -> None:
    """Remove the user's oldest kept uploads until one more of ``incoming`` bytes fits the quota."""
    config = current_app.config
    max_files = max(1, config["IMPORT_KEEP_PER_USER"])
    max_bytes = config["IMPORT_KEEP_BYTES_PER_USER"]
    kept = []
    for path in upload_dir().glob(f"{int(user_id)}-*.xlsx"):
        try:
            stat = path.stat()
        except OSError:
            continue
        kept.append((stat.st_mtime_ns, path.name, stat.st_size, path))
    kept.sort()
    total = sum(size for _, _, size, _ in kept)
    while kept and (len(kept) >= max_files or total + incoming > max_bytes):
        _, _, size, path = kept.pop(0)
        path.unlink(missing_ok=True)
        total -= size


def claim(user_id: int, token: str) -> bytes | None:
    """The upload's bytes, for exactly one caller: a second claim of the same upload gets None."""
    path = _path(user_id, token)
    if path is None:
        return None
    claimed = _claimed(path)
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    return claimed.read_bytes()


def release(user_id: int, token: str) -> None:
    """Give a claimed upload back (its import was not applied and it waits for another confirm)."""
    path = _path(user_id, token)
    if path is not None:
        try:
            os.rename(_claimed(path), path)
        except OSError:
            pass


def discard(user_id: int, token: str) -> None:
    path = _path(user_id, token)
    if path is not None:
        path.unlink(missing_ok=True)
        _claimed(path).unlink(missing_ok=True)


def sweep(now: datetime) -> None:
    cutoff = (now - KEEP_FOR).timestamp()
    for path in upload_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
