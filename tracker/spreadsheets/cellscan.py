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
    from openpyxl.worksheet._reader import WorkSheetParser

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
                parser = WorkSheetParser(
                    source,
                    worksheet._shared_strings,
                    data_only=True,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                for number, cells in parser.parse():
                    if number > EXCEL_LAST_ROW or number - last > limits.max_blank_run:
                        break
                    values = _values(cells, limits.max_columns)
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


def _values(cells, max_columns: int) -> tuple:
    """The row's values by position; empty when no cell holds anything."""
    present = {}
    for cell in cells:
        column, value = cell["column"], cell["value"]
        if 1 <= column <= max_columns and value is not None and (not isinstance(value, str) or value.strip()):
            present[column] = value
    if not present:
        return ()
    out = [None] * max(present)
    for column, value in present.items():
        out[column - 1] = value
    return tuple(out)


# --- the child process and its protocol ----------------------------------------------------


def _encode(value):
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
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "t" in value:
            return time.fromisoformat(value["t"])
        if "td" in value:
            return timedelta(seconds=value["td"])
        return None
    return value


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))


def _child(argv: list[str]) -> int:
    settings = json.loads(argv[0])
    _limit_self(settings["memory"], settings["cpu"])
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
                {"title": s["title"], "rows": [[n, [_encode(v) for v in values]] for n, values in s["rows"]]}
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
        {"title": str(s["title"]), "rows": [(int(n), tuple(_decode(v) for v in values)) for n, values in s["rows"]]}
        for s in answer["sheets"]
    ]


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
