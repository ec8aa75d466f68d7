"""Benchmark the wall chart under concurrent load: gunicorn on loopback, wrk (or a threaded client).

    python bench/board.py --items 5000 --db sqlite
    python bench/board.py --items 50000 --db postgresql --duration 15

Generates the data set (bench/generate.py), starts gunicorn with the app on
127.0.0.1, signs in, and for each endpoint reports requests/s and p50/p95
latency, with the ratio to the trivial signed-in endpoint of the same app.
Prints a Markdown table; ``--json FILE`` also writes the numbers.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import PASSWORD, generate  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wallchart_bench"
ENDPOINTS = [
    ("/bench/ping", "trivial, no session"),
    ("/bench/trivial", "trivial, signed in"),
    ("/api/v1/board", "board JSON"),
    ("/board", "board HTML"),
    ("/problems", "problem list, page 1"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_gunicorn(database_url: str, workers: int, port: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        TRACKER_DATABASE_URL=database_url,
        TRACKER_SECRET_KEY="bench-secret-key-0123456789abcdef",  # noqa: S106
        TRACKER_SCHEDULER="off",
        PYTHONPATH=str(ROOT),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench.wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/bench/ping", timeout=1)
            return process
        except requests.RequestException:
            time.sleep(0.5)
    _stop(process)
    raise RuntimeError("gunicorn did not start")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _sign_in(base: str, username: str, password: str = PASSWORD) -> str:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"Referer": f"{base}/login"},
        timeout=10,
        allow_redirects=False,
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _wrk(url: str, cookie: str, duration: int, connections: int, threads: int) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: {cookie}",
        "-s",
        str(ROOT / "bench" / "report.lua"),
        url,
    ]
    output = subprocess.run(  # noqa: S603 - wrk with our own arguments
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    numbers = dict(pair.split("=") for pair in line.split()[1:])
    return {key: float(value) for key, value in numbers.items()}


def _threaded(url: str, cookie: str, duration: int, connections: int) -> dict:
    """A small closed-loop client for machines without wrk."""
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + duration
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        local, failed = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url, headers={"Cookie": cookie}, timeout=10, allow_redirects=False)
            local.append(time.perf_counter() - started)
            failed += response.status_code != 200
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
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def run(args) -> list[dict]:
    if args.db == "sqlite":
        database_url = f"sqlite:///{ROOT / 'instance' / f'bench-{args.items}.db'}"
    else:
        database_url = args.database_url or PG_URL
    if not args.reuse:
        generate(database_url, args.items, datetime.now(UTC))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start_gunicorn(database_url, args.workers, port)
    results = []
    try:
        cookie = _sign_in(base, args.user)
        for path, label in ENDPOINTS:
            check = requests.get(base + path, headers={"Cookie": cookie}, timeout=30, allow_redirects=False)
            if check.status_code != 200 and path == "/api/v1/board":
                path, label = "/bench/board.json", "board JSON (bench/wsgi.py)"
                check = requests.get(base + path, headers={"Cookie": cookie}, timeout=30, allow_redirects=False)
            if check.status_code != 200:
                raise RuntimeError(f"{path} answered {check.status_code}")
            for _ in range(20):  # warm the workers' caches and connections
                requests.get(base + path, headers={"Cookie": cookie}, timeout=30)
            if shutil.which("wrk") and not args.python_client:
                numbers = _wrk(base + path, cookie, args.duration, args.connections, args.threads)
            else:
                numbers = _threaded(base + path, cookie, args.duration, args.connections)
            results.append({"path": path, "label": label, **numbers})
            print(f"{path:<20} {numbers['rps']:8.1f} req/s  p50 {numbers['p50_ms']:.1f} ms", file=sys.stderr)
    finally:
        _stop(process)
    return results


def table(results: list[dict], args) -> str:
    floor = next(r["rps"] for r in results if r["path"] == "/bench/trivial")
    lines = [
        f"{args.db}, {args.items} items, {args.workers} gunicorn workers, {args.connections} connections, "
        f"{args.duration} s per endpoint, signed in as {args.user}",
        "",
        "| endpoint | req/s | p50 ms | p95 ms | trivial ÷ this | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r['path']}` ({r['label']}) | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {floor / r['rps']:.2f} | {int(r['errors'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help=f"PostgreSQL URL (default {PG_URL}); the database is recreated")
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--user", default="bench-committee", help="bench-committee sees all; bench-member is a member")
    parser.add_argument("--reuse", action="store_true", help="keep the database generated by an earlier run")
    parser.add_argument("--python-client", action="store_true", help="use the threaded client even if wrk exists")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run(args)
    print(table(results, args))
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
