"""The 台账 round trip at size: export N items, edit every row as a group would, import it back.

    python bench/import_roundtrip.py --items 10000 --db sqlite        # instance/bench-import.db
    python bench/import_roundtrip.py --items 10000 --db postgresql    # database wallchart_import_bench

Builds the install with ``bench/generate.py`` (all items made active, so every row
may be edited), exports the ledger as the first admin, then measures:

- the check of the unedited file (the preview / ``--dry-run``): every row unchanged;
- the check of the edited file: every row changes its measures and its progress;
- applying the edited file (two service calls and two ledger entries per row) and
  the commit, then ``ledger verify``.

For reference, the same run first checks and creates N new items from the usual
9-column sheet: the import the README's budget (10,000 rows checked in about 2 s,
imported in about 6 s on SQLite) was set for.
"""

import argparse
import resource
import sys
import time
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook, load_workbook  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.generate import bench_app, generate  # noqa: E402
from tracker.auth.models import User  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.items.ledger import verify_chain  # noqa: E402
from tracker.items.models import LedgerEntry  # noqa: E402
from tracker.lists.queries import ItemFilters  # noqa: E402
from tracker.spreadsheets import exporter, importer, layout  # noqa: E402

NOW = datetime(2026, 5, 29, 2, 0, tzinfo=UTC)
URLS = {
    "sqlite": "sqlite:///{root}/instance/bench-import.db",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/wallchart_import_bench",
}


def edit(data: bytes) -> bytes:
    """Every row: new measures and 5 points more progress, as a weekly update would."""
    book = load_workbook(BytesIO(data))
    sheet = book.active
    headers = [c.value for c in sheet[3]]
    measures = headers.index(layout.header("measures", "zh")) + 1
    progress = headers.index(layout.header("progress", "zh")) + 1
    for number in range(4, sheet.max_row + 1):
        sheet.cell(number, measures).value = f"第{number}行：复核后调整整改措施"
        sheet.cell(number, progress).value = min((sheet.cell(number, progress).value or 0) + 5, 95)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def new_rows_sheet(items: int) -> bytes:
    """The import the README's budget was set for: N new items in the usual 9-column 台账 layout."""
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "问题描述", "问题来源", "整改措施", "责任单位", "配合单位", "责任人", "整改时限", "备注"])
    for number in range(1, items + 1):
        group = f"G{number % 30 + 1:02d}"
        sheet.append(
            [number, f"新发现问题 {number}", "自查", "限期整改", group, "", "", date(2026, 7, 1 + number % 28), ""]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def cpu_seconds() -> float:
    """This process's and its children's CPU time (the sheet is read in a child process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, results: dict, call):
    """Wall time, and CPU time beside it: on a busy machine the CPU column still compares."""
    started, cpu = time.perf_counter(), cpu_seconds()
    value = call()
    results[label] = time.perf_counter() - started
    results[f"{label} cpu"] = cpu_seconds() - cpu
    print(f"{label}: {results[label]:.2f} s (cpu {results[label + ' cpu']:.2f} s)", file=sys.stderr)
    return value


def run(database_url: str, items: int) -> dict:
    generate(database_url, items, NOW)
    app = bench_app(database_url)
    results: dict = {"items": items}
    with app.app_context(), app.test_request_context("/", method="POST"):
        db.session.execute(text("UPDATE item SET status = 'in_progress', progress = 50 WHERE status <> 'in_progress'"))
        db.session.commit()
        admin = db.session.scalars(select(User).where(User.role == "admin").order_by(User.id)).first()
        fresh = new_rows_sheet(items)
        plan = timed("check new rows", results, lambda: importer.plan_import(fresh, actor=admin, now=NOW))
        assert plan.ok and plan.summary() == f"created {items}, updated 0, unchanged 0", plan.summary()
        timed(
            "create new rows", results, lambda: (importer.apply_import(plan, actor=admin, now=NOW), db.session.flush())
        )
        db.session.rollback()
        data = timed(
            "export",
            results,
            lambda: exporter.export_ledger(admin, ItemFilters(), fmt="xlsx", lang="zh", now=NOW)[0],
        )
        plan = timed("check unedited", results, lambda: importer.plan_import(data, actor=admin, now=NOW))
        assert plan.ok and plan.summary() == f"created 0, updated 0, unchanged {items}", plan.summary()
        db.session.rollback()
        edited = edit(data)
        plan = timed("check edited", results, lambda: importer.plan_import(edited, actor=admin, now=NOW))
        assert plan.ok, plan.problems[:5]
        assert plan.summary() == f"created 0, updated {items}, unchanged 0", plan.summary()
        before = db.session.scalar(select(func.count(LedgerEntry.id)))

        def apply():
            importer.apply_import(plan, actor=admin, now=NOW)
            db.session.commit()

        timed("apply edited", results, apply)
        results["ledger entries"] = db.session.scalar(select(func.count(LedgerEntry.id))) - before
        results["ledger verify"] = "ok" if verify_chain().ok else "BROKEN"
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print("Each step: wall time (CPU seconds of this process and the sheet-reading child).")
    print(
        "| database | rows | new rows: check | new rows: create | export | unedited: check "
        "| edited: check | edited: apply | ledger entries | verify |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        r = run(URLS[name].format(root=root), args.items)
        steps = ("check new rows", "create new rows", "export", "check unedited", "check edited", "apply edited")
        cells = " | ".join(f"{r[step]:.1f} s ({r[step + ' cpu']:.1f})" for step in steps)
        print(f"| {name} | {r['items']:,} | {cells} | {r['ledger entries']:,} | {r['ledger verify']} |")


if __name__ == "__main__":
    main()
