"""Evidence files: type checked by content, stored under instance/ with random names."""

import hashlib
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.items import ledger
from tracker.items.models import Evidence, Item

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


@dataclass
class Upload:
    filename: str
    data: bytes


def sniff_type(data: bytes) -> str | None:
    """The content type by the file's own bytes, or None if it is not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(OLE_MAGIC):
        return "application/vnd.ms-office"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            for prefix, kind in OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
    return None


def evidence_dir() -> Path:
    path = Path(current_app.config.get("EVIDENCE_DIR") or Path(current_app.instance_path) / "evidence")
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    checked, errors = [], []
    for upload in uploads:
        if len(upload.data) > limit:
            errors.append(_l("%(name)s is larger than %(mb)s MB.", name=upload.filename, mb=limit // 2**20))
            continue
        kind = sniff_type(upload.data)
        if kind is None:
            errors.append(_l("%(name)s is not a photo, PDF or Office document.", name=upload.filename))
            continue
        checked.append((upload, kind))
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), {"files": errors})
    return checked


def attach(item: Item, uploads: list[Upload], *, actor, now: datetime, note: str = ""):
    """Store files and record them in one ledger entry (permission checked by the caller)."""
    checked = check_uploads(uploads)
    if not checked:
        return None
    entry = ledger.append(
        item,
        "evidence",
        actor=actor,
        now=now,
        note=note,
        after=", ".join(u.filename for u, _ in checked),
    )
    folder = evidence_dir()
    for upload, kind in checked:
        name = secrets.token_hex(24)
        (folder / name).write_bytes(upload.data)
        entry.evidence.append(
            Evidence(
                item_id=item.id,
                filename=safe_filename(upload.filename),
                content_type=kind,
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                storage_name=name,
                uploaded_at=now,
            )
        )
    db.session.flush()
    return entry


def safe_filename(name: str) -> str:
    name = Path(name.replace("\\", "/")).name.strip() or "file"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')[:200]


def evidence_path(evidence: Evidence) -> Path:
    return evidence_dir() / evidence.storage_name
