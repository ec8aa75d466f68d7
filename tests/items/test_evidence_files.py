"""Evidence is stored and served under the extension of its detected type, with clean names, never macros."""

import io
import zipfile

import pytest
from sqlalchemy import func, select

from tests.factories import login
from tracker.extensions import db
from tracker.files.store import store
from tracker.items.evidence import safe_filename
from tracker.items.models import Evidence, LedgerEntry

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64


def ooxml(*extra: str, content_types: str = "<Types/>") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", "<w:document/>")
        for name in extra:
            archive.writestr(name, b"\x00" * 16)
    return out.getvalue()


MACRO_TYPES = '<Types><Override ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def post(client, world, data: bytes, name: str):
    return client.post(
        f"/items/{world.items['owned'].id}/progress",
        data={"note": "证明材料", "files": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )


def stored(app) -> Evidence:
    with app.app_context():
        return db.session.scalar(select(Evidence).order_by(Evidence.id.desc()))


@pytest.mark.parametrize(
    ("data", "name", "shown"),
    [
        (PDF, "report.html", "report.pdf"),
        (PNG, "setup.exe", "setup.png"),
        (PNG, "photo", "photo.png"),
        (ooxml(), "minutes.bin", "minutes.docx"),
        (OLE + "WordDocument".encode("utf-16-le"), "old.exe", "old.doc"),
    ],
)
def test_stored_and_served_under_the_detected_type(app, client, world, data, name, shown):
    login(client, "member")
    assert post(client, world, data, name).status_code == 302
    record = stored(app)
    assert record.filename == shown
    ext = "." + shown.rsplit(".", 1)[1]
    assert record.storage_name.endswith(ext)
    with app.app_context():
        assert store().read("evidence", record.storage_name) == data
    download = client.get(f"/items/{world.items['owned'].id}/evidence/{record.storage_name}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith(f"filename={shown}")


def test_bidi_controls_are_stripped_from_names_and_the_ledger(app, client, world):
    login(client, "member")
    assert post(client, world, PNG, "invoice\u202egnp.exe").status_code == 302
    record = stored(app)
    assert record.filename == "invoicegnp.png"
    with app.app_context():
        entry = db.session.get(LedgerEntry, record.entry_id)
        assert "\u202e" not in entry.after


@pytest.mark.parametrize(
    "control",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_every_bidi_control_is_removed(control):
    assert safe_filename(f"a{control}b.pdf") == "ab.pdf"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (ooxml("word/vbaProject.bin"), "plan.docx"),
        (ooxml("xl/vbaProject.bin"), "sheet.xlsx"),
        (
            ooxml(content_types=MACRO_TYPES),
            "a.docx",
        ),
        (ooxml(), "plan.docm"),
        (ooxml(), "sheet.xlsm"),
        (ooxml(), "deck.pptm"),
        (OLE + "_VBA_PROJECT".encode("utf-16-le"), "old.doc"),
    ],
)
def test_macro_enabled_office_files_are_refused(app, client, world, data, name):
    login(client, "member")
    with app.app_context():
        before = db.session.scalar(select(func.count(LedgerEntry.id)))
    response = post(client, world, data, name)
    assert response.status_code == 422
    assert "contains macros" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(LedgerEntry.id))) == before
        assert db.session.scalar(select(func.count(Evidence.id))) == 0
