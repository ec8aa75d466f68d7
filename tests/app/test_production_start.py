"""The README's "Running it for real" lines, run from a copy of the checkout, speak Chinese.

The copy holds only what git tracks (and new files it would track): no catalog compiled
by an earlier test run or by run.py, exactly what a fresh clone gives.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.request
from contextlib import nullcontext
from pathlib import Path

from tests.conftest import PG_URL, pg_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _fresh_copy(target: Path) -> Path:
    listed = (
        subprocess.run(  # noqa: S603 - git on our own checkout
            [shutil.which("git"), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, server: subprocess.Popen) -> str:
    """The page once gunicorn answers; fails if gunicorn exits first."""
    for _ in range(600):
        try:
            request = urllib.request.Request(url, headers={"Accept-Language": "zh-CN,zh;q=0.9"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - http on loopback
                return response.read().decode()
        except OSError:
            try:  # waits a tenth of a second, and notices a server that died
                server.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}") from None
    raise AssertionError("gunicorn did not answer within a minute")


def test_readme_production_start_serves_chinese(tmp_path):
    copy = _fresh_copy(tmp_path / "wallchart")
    with pg_database("production_start", with_schema=False) if PG_URL else nullcontext(None) as pg:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
            "TRACKER_DATABASE_URL": pg or f"sqlite:///{copy / 'instance' / 'tracker.db'}",
            "TRACKER_SECRET_KEY": secrets.token_hex(32),
            "TRACKER_PRODUCTION": "true",
            "TRACKER_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        }
        subprocess.run(  # noqa: S603 - our own executables
            [str(BIN / "flask"), "--app", "tracker", "init-db"], cwd=copy, env=env, check=True, capture_output=True
        )
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603 - our own executables
            [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "tracker:create_app()"],
            cwd=copy,
            env={**env, "TRACKER_SCHEDULER": "off"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            page = _get(f"http://127.0.0.1:{port}/login", server)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "登录 · 挂图作战" in page
