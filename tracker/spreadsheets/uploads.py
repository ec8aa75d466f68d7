"""Uploaded sheets kept between the preview and the confirmation, under instance/.

Each file is named by its uploader's id and a random token, so only the person
who uploaded it can confirm it, and the name can neither be guessed nor point
outside the folder. Files older than a day are swept away on the next upload.
"""

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

KEEP_FOR = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def upload_dir() -> Path:
    return Path(current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports")


def _path(user_id: int, token: str) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    return upload_dir() / f"{int(user_id)}-{token}.xlsx"


def keep(user_id: int, data: bytes, *, now: datetime) -> str:
    upload_dir().mkdir(parents=True, exist_ok=True)
    sweep(now)
    token = secrets.token_urlsafe(24)
    _path(user_id, token).write_bytes(data)
    return token


def load(user_id: int, token: str) -> bytes | None:
    path = _path(user_id, token)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def discard(user_id: int, token: str) -> None:
    path = _path(user_id, token)
    if path is not None:
        path.unlink(missing_ok=True)


def sweep(now: datetime) -> None:
    cutoff = (now - KEEP_FOR).timestamp()
    for path in upload_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
