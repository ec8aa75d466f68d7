"""Reading what clients send: a strict JSON body, typed fields, query parameters.

Flask's ``get_json`` accepts NaN, duplicate keys and any top-level value, and a
deeply nested body ends in a ``RecursionError``; here each of those is a 400.
Fields are described once (``Field``) and used both to check input and to
write the OpenAPI document, so the two cannot drift apart.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import request
from flask_babel import gettext as _

from tracker.api.errors import ApiError

MAX_DEPTH = 20
MAX_BYTES = 1024 * 1024
MAX_ID = 2**31 - 1
# Dates far outside the preparation period are typing mistakes, and year 9999 overflows day arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 2999
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
JSON_TYPES = re.compile(r"application/(?:[\w.+-]+\+)?json")


@dataclass(frozen=True)
class Field:
    """One input field: a JSON type (plus ``date`` / ``date-time`` strings) and its limits."""

    type: str
    description: str = ""
    nullable: bool = False
    min_length: int = 0
    max_length: int | None = None
    enum: tuple | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: "Field | None" = None
    max_items: int | None = None


class FieldError(ValueError):
    pass


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name):
    raise FieldError(name)


def _too_deep(value, depth: int = 1) -> bool:
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, dict):
        return any(_too_deep(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_too_deep(v, depth + 1) for v in value)
    return False


def read_json() -> dict:
    """The request body as a JSON object, or an ApiError (415, 413 or 400)."""
    if not JSON_TYPES.fullmatch(request.mimetype or ""):
        raise ApiError(415, "unsupported_media_type", _("Send the body as application/json."))
    if (request.content_length or 0) > MAX_BYTES:
        raise ApiError(413, "too_large", _("The body is larger than %(n)s bytes.", n=MAX_BYTES))
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BYTES:
        raise ApiError(413, "too_large", _("The body is larger than %(n)s bytes.", n=MAX_BYTES))
    try:
        data = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except _DuplicateKey as error:
        raise ApiError(400, "bad_request", _("The key %(key)s appears twice.", key=json.dumps(str(error)))) from None
    except FieldError:
        raise ApiError(400, "bad_request", _("NaN and Infinity are not JSON numbers.")) from None
    except (ValueError, RecursionError):
        raise ApiError(400, "bad_request", _("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", _("The body must be a JSON object."))
    if _too_deep(data):
        raise ApiError(400, "bad_request", _("The body is nested more than %(n)s levels deep.", n=MAX_DEPTH))
    return data


def _text(value, field: Field) -> str:
    if not isinstance(value, str):
        raise FieldError(_("Must be a string."))
    if "\x00" in value:
        raise FieldError(_("Must not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(_("Must be valid Unicode text.")) from None
    if len(value) < field.min_length:
        raise FieldError(_("Must not be empty."))
    if field.max_length is not None and len(value) > field.max_length:
        raise FieldError(_("At most %(n)s characters.", n=field.max_length))
    if field.enum is not None and value not in field.enum:
        raise FieldError(_("One of: %(values)s.", values=", ".join(field.enum)))
    return value


def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value) if DATE_PATTERN.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise FieldError(_("A date as YYYY-MM-DD."))
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise FieldError(_("The year must be between %(a)s and %(b)s.", a=MIN_YEAR, b=MAX_YEAR))
    return day


def _datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FieldError(_("A date and time such as 2026-09-18T20:00:00+08:00.")) from None
    if moment.tzinfo is None:
        raise FieldError(_("Include the UTC offset, e.g. 2026-09-18T20:00:00+08:00."))
    if not MIN_YEAR < moment.year < MAX_YEAR:
        raise FieldError(_("The year must be between %(a)s and %(b)s.", a=MIN_YEAR, b=MAX_YEAR))
    return moment


def _integer(value, field: Field) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(_("Must be a whole number."))
    low = field.minimum if field.minimum is not None else 1
    high = field.maximum if field.maximum is not None else MAX_ID
    if not low <= value <= high:
        raise FieldError(_("Between %(a)s and %(b)s.", a=low, b=high))
    return value


def convert(value, field: Field):
    """A JSON value checked against ``field`` and turned into its Python form."""
    if value is None:
        if field.nullable:
            return None
        raise FieldError(_("Must not be null."))
    if field.type == "string":
        return _text(value, field)
    if field.type == "date":
        return _date(_text(value, field))
    if field.type == "date-time":
        return _datetime(_text(value, field))
    if field.type == "integer":
        return _integer(value, field)
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise FieldError(_("Must be true or false."))
        return value
    if field.type == "array":
        if not isinstance(value, list):
            raise FieldError(_("Must be a list."))
        if field.max_items is not None and len(value) > field.max_items:
            raise FieldError(_("At most %(n)s entries.", n=field.max_items))
        return [convert(v, field.items) for v in value]
    raise AssertionError(field.type)


def parse_body(body: dict, spec: dict, *, required=(), read_only: dict | None = None) -> dict:
    """Check every field of ``body`` against ``spec``; one 422 naming every bad field."""
    errors = {}
    read_only = read_only or {}
    values = {}
    for name, value in body.items():
        if name in read_only:
            errors[name] = read_only[name]
        elif name not in spec:
            errors[name] = _("Unknown field.")
        else:
            try:
                values[name] = convert(value, spec[name])
            except FieldError as error:
                errors[name] = str(error)
    for name in required:
        if name not in body:
            errors[name] = _("Required.")
    if errors:
        raise ApiError(422, "validation_failed", _("Please correct the marked fields."), errors)
    return values


def parse_query(spec: dict) -> dict:
    """Query parameters named in ``spec``, converted from their text; others are ignored."""
    errors = {}
    values = {}
    for name, field in spec.items():
        raw = request.args.get(name)
        if raw is None or (raw == "" and field.type != "string"):
            continue
        try:
            values[name] = convert(_from_text(raw, field), field)
        except FieldError as error:
            errors[name] = str(error)
    if errors:
        raise ApiError(422, "validation_failed", _("Please correct the marked parameters."), errors)
    return values


def _from_text(raw: str, field: Field):
    if field.type == "integer":
        if not re.fullmatch(r"-?\d{1,12}", raw):
            raise FieldError(_("Must be a whole number."))
        return int(raw)
    if field.type == "boolean":
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise FieldError(_("Must be true or false."))
    return raw


def if_match_version() -> int | None:
    """The item version an ``If-Match`` header names (``"3"`` or ``W/"3"``), if any."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not re.fullmatch(r"\d{1,9}", tag):
        raise ApiError(
            422, "validation_failed", _("Please correct the marked fields."), {"If-Match": _("An item version.")}
        )
    return int(tag)
