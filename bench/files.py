"""Evidence download throughput: the same photo served from the database store and from disk.

    python bench/files.py                       # PostgreSQL, a 5 MB photo, 10 s per store
    python bench/files.py --db sqlite --mb 20

Generates a small data set (bench/generate.py), attaches one photo of ``--mb`` MB to an
item once per store, starts gunicorn (bench/board.py's helpers) with
``TRACKER_FILE_STORE`` set to each store in turn, signs in and downloads the photo
for ``--duration`` seconds over ``--connections`` connections, checking each body's
SHA-256. Prints a Markdown table; the ratio column is disk ÷ this.
"""

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.board import _free_port, _sign_in, _start_gunicorn, _stop  # noqa: E402
from bench.generate import bench_app, generate  # noqa: E402
from tracker.auth.models import User  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.items import evidence  # noqa: E402
from tracker.items.models import Item  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wallchart_bench_files"
STORES = ("disk", "database")


def photo(size: int) -> bytes:
    body = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size // 32 + 1))
    return (b"\xff\xd8\xff\xe0" + body)[:size]


def attach(database_url: str, store: str, folder: Path, data: bytes) -> str:
    """The download path of ``data`` attached to the first item, kept in ``store``."""
    app = bench_app(database_url)
    app.config.update(FILE_STORE=store, EVIDENCE_DIR=str(folder), EVIDENCE_MAX_BYTES=len(data))
    with app.test_request_context("/", method="POST"):
        item = db.session.scalar(db.select(Item).order_by(Item.id))
        actor = db.session.scalar(db.select(User).where(User.username == "bench-committee"))
        upload = evidence.Upload("venue.jpg", data)
        entry = evidence.attach(item, [upload], actor=actor, now=datetime.now(UTC), note=f"bench {store}")
        name = entry.evidence[0].storage_name
        path = f"/items/{item.id}/evidence/{name}"
        db.session.commit()
    return path


def download(url: str, cookie: str, duration: int, connections: int, expected: str) -> dict:
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + duration
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        local, failed = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url, headers={"Cookie": cookie}, timeout=60, stream=True)
            digest = hashlib.sha256()
            for block in response.iter_content(1 << 20):
                digest.update(block)
            local.append(time.perf_counter() - started)
            failed += response.status_code != 200 or digest.hexdigest() != expected
        with lock:
            latencies.extend(local)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {
        "downloads": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / seconds,
        "p50_ms": cuts[9] * 1000,
        "p95_ms": cuts[18] * 1000,
    }


def run(args) -> list[dict]:
    database_url = (
        f"sqlite:///{ROOT / 'instance' / 'bench-files.db'}" if args.db == "sqlite" else args.database_url or PG_URL
    )
    generate(database_url, args.items, datetime.now(UTC))
    data = photo(args.mb << 20)
    expected = hashlib.sha256(data).hexdigest()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for store in STORES:
            path = attach(database_url, store, Path(folder), data)
            os.environ.update(TRACKER_FILE_STORE=store, TRACKER_EVIDENCE_DIR=folder)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            process = _start_gunicorn(database_url, args.workers, port)
            try:
                cookie = _sign_in(base, "bench-committee")
                for _ in range(3):  # warm the workers and their connections
                    body = requests.get(base + path, headers={"Cookie": cookie}, timeout=60).content
                    if hashlib.sha256(body).hexdigest() != expected:
                        raise RuntimeError(f"{store}: the download differs from the photo")
                numbers = download(base + path, cookie, args.duration, args.connections, expected)
            finally:
                _stop(process)
            numbers["mb_s"] = numbers["rps"] * args.mb
            results.append({"store": store, **numbers})
            print(f"{store:<9} {numbers['rps']:6.1f} downloads/s {numbers['mb_s']:7.1f} MB/s", file=sys.stderr)
    return results


def table(results: list[dict], args) -> str:
    disk = next(r["rps"] for r in results if r["store"] == "disk")
    lines = [
        f"{args.db}, one {args.mb} MB photo, {args.workers} gunicorn workers, {args.connections} connections, "
        f"{args.duration} s per store",
        "",
        "| store | downloads/s | MB/s | p50 ms | p95 ms | disk ÷ this | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['rps']:.1f} | {r['mb_s']:.0f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {disk / r['rps']:.2f} | {int(r['errors'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--database-url", help=f"PostgreSQL URL (default {PG_URL}); the database is recreated")
    parser.add_argument("--mb", type=int, default=5, help="the photo's size in MB")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10, help="seconds per store")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    print(table(run(args), args))


if __name__ == "__main__":
    main()
