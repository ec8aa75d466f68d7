"""Evidence files: type checked by content, kept in the file store under random names.

A file is stored and served under the extension of the type its bytes show
(``report.html`` that is really a PDF is ``report.pdf``), never the uploader's;
names lose bidirectional control characters (a right-to-left override can make
``evil\u202egpj.exe`` look like ``evilexe.jpg``); macro-enabled Office files are
refused. Each file's SHA-256 is part of its ledger entry's hash.
"""

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
from tracker.files.store import Stored, store
from tracker.items import ledger
from tracker.items.models import Evidence, Item

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
# Old binary Office files by the name of their main stream (names are UTF-16 inside).
OLE_STREAMS = (
    ("WordDocument", "application/msword"),
    ("Workbook", "application/vnd.ms-excel"),
    ("Book", "application/vnd.ms-excel"),
    ("PowerPoint Document", "application/vnd.ms-powerpoint"),
)
MACRO_EXTENSIONS = {".xlsm", ".xltm", ".xlam", ".docm", ".dotm", ".pptm", ".potm", ".ppsm", ".ppam", ".sldm"}
# Bidirectional controls: embeddings, overrides, isolates and the invisible marks.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


class MacroFile(Exception):
    """The file carries macros (VBA)."""


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
        if "_VBA_PROJECT".encode("utf-16-le") in data or "Macros".encode("utf-16-le") in data:
            raise MacroFile
        for stream, kind in OLE_STREAMS:
            if stream.encode("utf-16-le") in data:
                return kind
        return "application/vnd.ms-office"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                names = archive.namelist()
                types = _head(archive, "[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
            return None
        if "[Content_Types].xml" in names:
            lowered = [n.lower() for n in names]
            if any(n.endswith(("vbaproject.bin", "vbadata.xml")) for n in lowered) or b"macroEnabled" in types:
                raise MacroFile
            for prefix, kind in OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
    return None


def _head(archive: zipfile.ZipFile, name: str, limit: int = 1 << 20) -> bytes:
    """At most ``limit`` inflated bytes of one member: enough to read, never a zip bomb."""
    with archive.open(name) as member:
        return member.read(limit)


def extension_for(content_type: str) -> str:
    return EXTENSIONS.get(content_type, ".bin")


def download_name(record: Evidence) -> str:
    """The name to serve a file under: its stored name with the extension of its detected type."""
    return _with_extension(record.filename, record.content_type)


def _with_extension(name: str, content_type: str) -> str:
    stem = Path(safe_filename(name)).stem.strip() or "file"
    return stem[:190] + extension_for(content_type)


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    checked, errors = [], []
    for upload in uploads:
        if len(upload.data) > limit:
            errors.append(_l("%(name)s is larger than %(mb)s MB.", name=upload.filename, mb=limit // 2**20))
            continue
        if Path(upload.filename or "").suffix.lower() in MACRO_EXTENSIONS:
            errors.append(_macro_error(upload.filename))
            continue
        try:
            kind = sniff_type(upload.data)
        except MacroFile:
            errors.append(_macro_error(upload.filename))
            continue
        if kind is None:
            errors.append(_l("%(name)s is not a photo, PDF or Office document.", name=upload.filename))
            continue
        checked.append((upload, kind))
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), {"files": errors})
    return checked


def _macro_error(name: str):
    return _l(
        "%(name)s contains macros. Save it without macros (.docx, .xlsx or .pptx) and attach it again.",
        name=safe_filename(name),
    )


def attach(item: Item, uploads: list[Upload], *, actor, now: datetime, note: str = ""):
    """Store files and record them in one ledger entry (permission checked by the caller).

    The files' names, sizes, types and SHA-256 digests are part of the entry's hash."""
    checked = check_uploads(uploads)
    if not checked:
        return None
    if item.id is None:
        db.session.flush()
    records = []
    for upload, kind in checked:
        name, stored = keep(upload, kind, now=now)
        records.append(
            Evidence(
                item_id=item.id,
                filename=_with_extension(upload.filename, kind),
                content_type=kind,
                size=stored.size,
                sha256=stored.sha256,
                storage_name=name,
                uploaded_at=now,
            )
        )
    entry = ledger.append(
        item,
        "evidence",
        actor=actor,
        now=now,
        note=note,
        after=", ".join(r.filename for r in records),
        evidence=records,
    )
    db.session.flush()
    return entry


def safe_filename(name: str) -> str:
    name = Path((name or "").translate(BIDI_CONTROLS).replace("\\", "/")).name.strip() or "file"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')[:200]


def keep(upload: Upload, kind: str, *, now: datetime) -> tuple[str, Stored]:
    """Store one checked upload under a new random name: (name, its size and SHA-256)."""
    name = secrets.token_hex(24) + extension_for(kind)
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    return name, store().put("evidence", name, BytesIO(upload.data), limit=limit, now=now)
