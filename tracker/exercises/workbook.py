"""Checklist templates as xlsx files an office can edit and bring back: export, and import all or nothing.

Layout (one sheet): key/value rows for the template (代码 code, 版本 version, 名称 name, 英文名称
name_en, 说明 note), then a header row starting with 分项 and one row per check point. A blank
section cell continues the section above. Errors are named by their Excel row.
"""

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker import permissions
from tracker.errors import PermissionDenied, ValidationFailed
from tracker.exercises import rules, services
from tracker.exercises.models import ChecklistTemplate
from tracker.extensions import db
from tracker.groups.models import WorkGroup
from tracker.spreadsheets import layout, writer
from tracker.spreadsheets.cellscan import Limits, ScanFailed, scan_isolated
from tracker.spreadsheets.reader import SheetError, check_container

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
_NOT_XLSX = _l("This is not an Excel workbook (.xlsx).")
META = (
    ("code", "代码 code"),
    ("version", "版本 version"),
    ("name", "名称 name"),
    ("name_en", "英文名称 name_en"),
    ("note", "说明 note"),
)
COLUMNS = (
    ("section", "分项 section"),
    ("section_en", "分项英文 section_en"),
    ("group", "责任组 group"),
    ("text", "检查点 check point"),
    ("text_en", "检查点英文 check point (English)"),
    ("unit", "单位 unit"),
    ("rule", "判定规则 pass rule"),
)


def export_template(template: ChecklistTemplate) -> bytes:
    book = writer.workbook()
    sheet = book.active
    sheet.title = "checklist"
    data = services.template_to_data(template)
    for key, label in META:
        writer.append(sheet, [label, data[key]])
    writer.append(sheet, [])
    writer.append(sheet, [label for _key, label in COLUMNS])
    for section in data["sections"]:
        for number, point in enumerate(section["points"]):
            first = number == 0
            writer.append(
                sheet,
                [
                    section["title"] if first else "",
                    section["title_en"] if first else "",
                    section["group"] if first else "",
                    point["text"],
                    point["text_en"],
                    point["unit"],
                    point["rule"],
                ],
            )
    return writer.to_bytes(book)


def _rows(data: bytes) -> list[tuple]:
    """The first sheet's rows by position (row 1 first), read in the bounded parsing process."""
    try:
        check_container(data, max_bytes=MAX_BYTES)
        sheets = scan_isolated(
            data,
            Limits(max_rows=MAX_ROWS + 1, max_columns=16, max_sheets=1),
            seconds=current_app.config["IMPORT_PARSE_SECONDS"],
            memory_mb=current_app.config["IMPORT_PARSE_MEMORY_MB"],
        )
    except SheetError as error:
        raise ValidationFailed(_l("The checklist was not imported."), {"file": str(error.message)}) from None
    except ScanFailed as failed:
        message = _l("At most %(n)s rows.", n=MAX_ROWS) if failed.code == "too_many_rows" else _NOT_XLSX
        raise ValidationFailed(_l("The checklist was not imported."), {"file": str(message)}) from None
    found = sheets[0]["rows"] if sheets else []
    rows: list[tuple] = [() for _ in range(min(found[-1][0], MAX_ROWS + 1))] if found else []
    for number, values in found:
        if number <= len(rows):
            rows[number - 1] = tuple(values)
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return layout.unneutralise(str(value)).strip()


def read_template(data: bytes) -> dict:
    """The template in the file as plain data, or ValidationFailed with every problem by row."""
    rows = _rows(data)
    errors: dict[str, str] = {}
    meta: dict = {}
    header = None
    for number, row in enumerate(rows, 1):
        first = _text(row[0] if row else "")
        if first.startswith("分项") or first.lower().startswith("section"):
            header = number
            break
        for key, label in META:
            if first and (first == label or first in label.split(" ")):
                meta[key] = _text(row[1] if len(row) > 1 else "")
    if header is None:
        raise ValidationFailed(
            _l("The checklist was not imported."), {"file": str(_l('No header row starting with "分项 section".'))}
        )
    try:
        version = int(meta.get("version") or "")
    except ValueError:
        version = None
        errors["version"] = str(_l("The version is a whole number from 1."))
    template = {
        "code": meta.get("code", ""),
        "version": version,
        "name": meta.get("name", ""),
        "name_en": meta.get("name_en", ""),
        "note": meta.get("note", ""),
        "sections": [],
    }
    known_groups = set(db.session.scalars(select(WorkGroup.code)))
    section = None
    for number, row in enumerate(rows[header:], header + 1):
        cells = [_text(v) for v in row] + [""] * len(COLUMNS)
        values = dict(zip([k for k, _label in COLUMNS], cells, strict=False))
        if not any(values.values()):
            continue
        where = str(_l("row %(n)s", n=number))
        if values["section"]:
            section = {
                "title": values["section"],
                "title_en": values["section_en"],
                "group": values["group"],
                "points": [],
            }
            template["sections"].append(section)
            if values["group"] and values["group"] not in known_groups:
                errors[where] = str(_l("Unknown work group %(code)s.", code=values["group"]))
        elif section is None:
            errors[where] = str(_l("The first check point needs a section."))
            continue
        if not values["text"]:
            errors[where] = str(_l("A check point needs its text."))
        elif len(values["text"]) > 500 or len(values["unit"]) > 16 or len(values["rule"]) > 40:
            errors[where] = str(_l("A cell is too long."))
        elif values["rule"] and rules.parse_rule(values["rule"]) is None:
            errors[where] = str(_l('Not a pass rule: write it like "≤ 1:12" or "≥ 0.80 m".'))
        section["points"].append({k: values[k] for k in ("text", "text_en", "unit", "rule")})
    if len(rows) > MAX_ROWS:
        errors["file"] = str(_l("At most %(n)s rows.", n=MAX_ROWS))
    if not errors and version is not None:
        errors.update(
            {k: v for k, v in services.check_template_data(template).items() if k in ("code", "name", "sections")}
        )
    if errors:
        raise ValidationFailed(_l("The checklist was not imported."), errors)
    return template


def import_template(data: bytes, *, actor, now: datetime) -> ChecklistTemplate:
    """Read and store a new template version; nothing is stored when any row is wrong."""
    if not permissions.can_manage_checklists(actor):
        raise PermissionDenied(_l("Only the committee and admins keep checklists."))
    return services.install_template(read_template(data), now=now)
