"""Read the cells of an uploaded workbook in a separate process with hard limits.

An uploaded workbook is hostile input: a sheet without a ``<dimension>`` and one
row numbered 2,000,000,000 makes openpyxl's row iterator invent two billion blank
rows, and a small zip can inflate to gigabytes. So the parsing runs here, in a
child process started by ``scan_isolated``, which caps its own memory and CPU
time before it opens the file and is killed by the parent when its wall-clock
budget runs out.

The work is bounded by the cells really present: the worksheet XML is walked
directly (gaps between row numbers cost nothing), a sheet is read only until
``max_blank_run`` consecutive blank rows, row numbers beyond Excel's last row
and columns beyond ``max_columns`` are ignored, and the number of filled rows
and sheets is capped.

This module imports only the standard library and openpyxl, and runs as a
script (``python cellscan.py``): the child never loads the application. Its
answer is JSON on stdout, so the parent never unpickles what the child wrote.
"""

import gc
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path

EXCEL_LAST_ROW = 1_048_576


@dataclass(frozen=True)
class Limits:
    max_rows: int  # filled rows over all sheets
    max_blank_run: int = 1000  # consecutive blank rows that end a sheet
    max_columns: int = 256
    max_sheets: int = 50


class ScanFailed(Exception):
    """The child could not read the file; ``code`` says why (``damaged``, ``too_many_rows``,
    ``too_slow``, ``too_big``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def scan(data: bytes, limits: Limits) -> list[dict]:
    """Every sheet as ``{"title", "rows": [(row number, values)]}``, blank rows left out."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise ScanFailed("damaged") from None
    sheets, filled = [], 0
    try:
        for worksheet in workbook.worksheets[: limits.max_sheets]:
            if not hasattr(worksheet, "_get_source"):  # a chartsheet has no cells
                continue
            rows = []
            last = 0
            with worksheet._get_source() as source:
                for number, values in _sheet_rows(source, workbook, worksheet._shared_strings, limits.max_columns):
                    if number > EXCEL_LAST_ROW or number - last > limits.max_blank_run:
                        break
                    if not values:
                        continue
                    filled += 1
                    if filled > limits.max_rows:
                        raise ScanFailed("too_many_rows")
                    rows.append((number, values))
                    last = number
            sheets.append({"title": worksheet.title, "rows": rows})
    except ScanFailed:
        raise
    except MemoryError:
        raise ScanFailed("too_big") from None
    except Exception:
        raise ScanFailed("damaged") from None
    finally:
        workbook.close()
    return sheets


def _sheet_rows(source, workbook, shared_strings, max_columns: int):
    """(row number, values by position) for each ``<row>`` of a worksheet's XML.

    The cells get the values openpyxl gives them in read-only, data-only mode
    (its ``WorkSheetParser``), read straight off the XML: openpyxl builds an
    object per cell and per inline string, which is most of the cost of a
    10,000-row sheet. Blank cells and columns past ``max_columns`` are left out;
    a row with no value is empty.
    """
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.worksheet._reader import _cast_number
    from openpyxl.xml.functions import iterparse  # openpyxl's own: defusedxml's when installed

    dates, durations, epoch = workbook._date_formats, workbook._timedelta_formats, workbook.epoch
    columns: dict[str, int] = {}
    number = 0
    for _event, element in iterparse(source):
        if element.tag != _ROW:
            continue
        given = element.get("r")
        number = number + 1 if given is None else _row_number(given)
        present, column = {}, 0
        for cell in element:
            if cell.tag != _CELL:
                continue
            reference = cell.get("r")
            if reference:
                letters = reference.rstrip("0123456789")
                column = columns.get(letters) or columns.setdefault(letters, _column_index(letters))
            else:
                column += 1
            if column > max_columns:
                continue
            kind = cell.get("t", "n")
            value = None
            if kind == "inlineStr":
                value = _inline_text(cell)
            else:
                for child in cell:
                    if child.tag == _VALUE:
                        value = child.text or None
                        break
                if value is None:
                    continue
                if kind == "n":
                    value = _cast_number(value)
                    style = cell.get("s")
                    if style and int(style) in dates:
                        try:
                            value = from_excel(value, epoch, timedelta=int(style) in durations)
                        except (OverflowError, ValueError):
                            value = "#VALUE!"
                elif kind == "s":
                    value = shared_strings[int(value)]
                elif kind == "b":
                    value = bool(int(value))
                elif kind == "d":
                    value = from_ISO8601(value)
            if value is not None and (not isinstance(value, str) or value.strip()):
                present[column] = value
        element.clear()
        if not present:
            yield number, ()
            continue
        values = [None] * max(present)
        for position, value in present.items():
            values[position - 1] = value
        yield number, tuple(values)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE, _TEXT, _RUN = (_MAIN + tag for tag in ("row", "c", "v", "is", "t", "r"))


def _row_number(given: str) -> int:
    try:
        return int(given)
    except ValueError:
        number = float(given)
        if not number.is_integer():
            raise
        return int(number)


def _column_index(letters: str) -> int:
    """1 for A, 27 for AA; openpyxl refuses anything but 1–3 capital letters, and so do we."""
    if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()):
        raise ValueError(letters)
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index


def _inline_text(cell) -> str | None:
    """An inline string's text without its formatting or phonetic guide, as openpyxl reads it."""
    for child in cell:
        if child.tag != _INLINE:
            continue
        if len(child) == 1 and child[0].tag == _TEXT:  # plain text, the usual case
            return child[0].text or ""
        parts = [child.findtext(_TEXT) or ""]
        parts += [run.findtext(_TEXT) or "" for run in child.iterfind(_RUN)]
        return "".join(parts)
    return None


# --- the child process and its protocol ----------------------------------------------------


def _encode(value):
    if value.__class__ is str or value.__class__ is int:
        return value
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time):
        return {"t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"td": value.total_seconds()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _decode(value):
    if value.__class__ is not dict:
        return value
    if "dt" in value:
        return datetime.fromisoformat(value["dt"])
    if "d" in value:
        return date.fromisoformat(value["d"])
    if "t" in value:
        return time.fromisoformat(value["t"])
    if "td" in value:
        return timedelta(seconds=value["td"])
    return None


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))


def _child(argv: list[str]) -> int:
    settings = json.loads(argv[0])
    _limit_self(settings["memory"], settings["cpu"])
    # A short-lived reader that makes no reference cycles: the collector's passes over the
    # growing rows cost about a third of its time, and its memory is capped above anyway.
    gc.disable()
    data = sys.stdin.buffer.read()
    try:
        sheets = scan(data, Limits(**settings["limits"]))
    except ScanFailed as failed:
        answer = {"error": failed.code}
    except MemoryError:
        answer = {"error": "too_big"}
    else:
        answer = {
            "sheets": [
                {"title": s["title"], "rows": [[n, list(map(_encode, values))] for n, values in s["rows"]]}
                for s in sheets
            ]
        }
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))
    return 0


def scan_isolated(data: bytes, limits: Limits, *, seconds: float, memory_mb: int) -> list[dict]:
    """``scan`` in a child process limited to ``memory_mb`` and killed after ``seconds``."""
    settings = {
        "limits": limits.__dict__,
        "memory": int(memory_mb) * 2**20,
        "cpu": max(1, int(seconds) + 1),
    }
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and script, no shell
            [sys.executable, "-I", str(Path(__file__).resolve()), json.dumps(settings)],
            input=data,
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScanFailed("too_slow") from None
    if done.returncode != 0:
        # Killed by its CPU limit (SIGXCPU) or out of memory while loading.
        raise ScanFailed("too_slow" if done.returncode in (-24, 152) else "too_big")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise ScanFailed("damaged") from None
    if "error" in answer:
        raise ScanFailed(str(answer["error"]))
    return [
        {"title": str(s["title"]), "rows": [(int(n), tuple(map(_decode, values))) for n, values in s["rows"]]}
        for s in answer["sheets"]
    ]


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
