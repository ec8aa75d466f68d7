"""Benchmark the lists and search under load, beside the board: gunicorn on loopback, wrk.

    python bench/lists.py --items 5000 --db sqlite
    python bench/lists.py --items 50000 --db postgresql --reuse

Uses bench/board.py's data set, gunicorn start, sign-in and load tools. For each user
(a committee reviewer sees everything; a member's visibility filter is the expensive
one) it loads the trivial signed-in endpoint, the first page of the three lists and of
``GET /api/v1/items``, unfiltered and for one group, a deep page (page 500, or the
last one when there are fewer), and searches in Chinese and Latin, one word and two.
Prints one table: req/s, p50, p95 and the ratios to the trivial endpoint (loaded for two
seconds before and after each endpoint, averaged: a shared machine's speed drifts within a
run) and to a
static page in the same layout (what the page around every list costs), same user, same
run; then each gunicorn worker's resident memory after the load.
"""

import argparse
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.board import PG_URL, ROOT, _free_port, _sign_in, _start_gunicorn, _stop, _threaded, _wrk  # noqa: E402
from bench.generate import generate  # noqa: E402

PER_PAGE = 50
SEARCHES = ("卫生间", "无障碍 卫生间", "ramp", "narrow door")
TRIVIAL = "/bench/trivial"
SHELL = "/accessibility"  # a page of fixed text in the layout every list shares: what the lists cannot go below


def endpoints(items: int) -> list[tuple[str, str]]:
    deep = max(1, min(500, items // PER_PAGE - 5))
    paths = [(TRIVIAL, "trivial, signed in"), (SHELL, "static page, the same layout")]
    for name in ("problems", "responsibilities", "ledger"):
        paths += [(f"/{name}", "page 1"), (f"/{name}?group=G01", "one group, page 1")]
    paths += [
        (f"/api/v1/items?per_page={PER_PAGE}", "API page 1"),
        (f"/api/v1/items?group=G01&per_page={PER_PAGE}", "API one group"),
        (f"/problems?page={deep}", f"page {deep}"),
        (f"/api/v1/items?per_page={PER_PAGE}&page={deep}", f"API page {deep}"),
    ]
    for words in SEARCHES:
        paths.append((f"/problems?q={quote(words)}", f"search “{words}”"))
    paths.append((f"/api/v1/items?per_page={PER_PAGE}&q={quote(SEARCHES[1])}", f"API search “{SEARCHES[1]}”"))
    return paths


def worker_rss_mb(master_pid: int) -> list[float]:
    output = subprocess.run(  # noqa: S603 - ps with our own arguments
        ["ps", "-o", "rss=", "--ppid", str(master_pid)],  # noqa: S607 - ps from PATH
        capture_output=True,
        text=True,
        check=False,  # noqa: S607
    ).stdout
    return [int(line) / 1024 for line in output.split()]


def load(base: str, path: str, cookie: str, args, duration: int) -> dict:
    url = base + path
    check = requests.get(url, headers={"Cookie": cookie}, timeout=60, allow_redirects=False)
    if check.status_code != 200:
        raise RuntimeError(f"{path} answered {check.status_code}")
    for _ in range(20):  # warm the workers' caches and connections
        requests.get(url, headers={"Cookie": cookie}, timeout=60)
    if shutil.which("wrk") and not args.python_client:
        return _wrk(url, cookie, duration, args.connections, args.threads)
    return _threaded(url, cookie, duration, args.connections)


def run(args) -> tuple[list[dict], list[float]]:
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
        for user in args.users.split(","):
            cookie = _sign_in(base, user)
            for path, label in endpoints(args.items):
                # The floor right before each endpoint (and once more after the last): a shared
                # machine's speed drifts by half within a run, so each ratio is taken to the
                # floor loaded just before and just after it.
                floor = load(base, TRIVIAL, cookie, args, args.floor_duration)["rps"] if path != TRIVIAL else None
                numbers = load(base, path, cookie, args, args.duration)
                results.append({"user": user, "path": path, "label": label, "floor_rps": floor, **numbers})
                print(f"{user:<16} {path:<60} {numbers['rps']:8.1f} req/s", file=sys.stderr)
            results[-1]["after_rps"] = load(base, TRIVIAL, cookie, args, args.floor_duration)["rps"]
        memory = worker_rss_mb(process.pid)
    finally:
        _stop(process)
    return results, memory


def table(results: list[dict], memory: list[float], args) -> str:
    lines = [
        f"{args.db}, {args.items} items, {args.workers} gunicorn workers, {args.connections} connections, "
        f"{args.duration} s per endpoint, the trivial endpoint {args.floor_duration} s before and after each",
        "",
        "| user | endpoint | req/s | p50 ms | p95 ms | trivial req/s around it | trivial ÷ this "
        "| static page ÷ this | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def floor(i: int) -> float | None:
        """The floor loaded just before and just after endpoint ``i``, averaged."""
        r = results[i]
        if not r["floor_rps"]:
            return None
        later = results[i + 1] if i + 1 < len(results) and results[i + 1]["user"] == r["user"] else {}
        around = [r["floor_rps"], later.get("floor_rps") or r.get("after_rps")]
        return sum(x for x in around if x) / len([x for x in around if x])

    def ratio(i: int) -> float:
        return floor(i) / results[i]["rps"] if floor(i) else 1.0

    for i, r in enumerate(results):
        shell = next(j for j, x in enumerate(results) if x["user"] == r["user"] and x["path"] == SHELL)
        around = f"{floor(i):.0f}" if floor(i) else "–"
        lines.append(
            f"| {r['user']} | `{r['path']}` ({r['label']}) | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {around} | {ratio(i):.2f} | {ratio(i) / ratio(shell):.2f} | {int(r['errors'])} |"
        )
    lines += ["", "Worker memory after the load (RSS): " + ", ".join(f"{mb:.0f} MB" for mb in memory)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help=f"PostgreSQL URL (default {PG_URL}); the database is recreated")
    parser.add_argument("--duration", type=int, default=5, help="seconds per endpoint")
    parser.add_argument("--floor-duration", type=int, default=2, help="seconds of the trivial endpoint before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--users", default="bench-committee,bench-member", help="comma-separated usernames")
    parser.add_argument("--reuse", action="store_true", help="keep the database generated by an earlier run")
    parser.add_argument("--python-client", action="store_true", help="use the threaded client even if wrk exists")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results, memory = run(args)
    print(table(results, memory, args))
    if args.json:
        payload = {"args": vars(args) | {"json": str(args.json)}, "results": results, "worker_rss_mb": memory}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
