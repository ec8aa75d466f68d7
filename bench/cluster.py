"""Wallchart installed on several hosts, on one machine: nginx in front of app hosts and schedulers.

    with Cluster(database_url, work_dir) as cluster:
        requests.get(cluster.base + "/healthz")

Debian's nginx runs unprivileged with a prefix, configuration, pid file and temporary
folders of its own under ``work_dir``, serving ``deploy/nginx/wallchart.conf`` adapted for
loopback: plain HTTP on a free port instead of TLS, the upstream listing the app hosts,
static files from this checkout. Each app host is a gunicorn started as
``deploy/wallchart-web.service`` starts it, with an instance folder of its own (evidence
and import folders inside it: no disk is shared); each scheduler is
``flask --app tracker scheduler``. All share one PostgreSQL database and Redis, with the
settings of ``deploy/wallchart.env``. Everything started runs in its own process group
and is stopped on leaving the ``with`` block, also after an error.
"""

import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import BIN, Processes, free_port, wait_healthy  # noqa: E402

SECRET_KEY = "cluster-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway install
LEDGER_KEY = "cluster-ledger-key-0123456789abcdef"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not found:
        raise RuntimeError("nginx is needed: apt-get install -y nginx")
    return found


def _replace(pattern: str, replacement: str, text: str, flags: int = 0) -> str:
    """re.sub that insists on a match: a changed site must fail here, not be served half-adapted."""
    changed, count = re.subn(pattern, replacement, text, flags=flags)
    if not count:
        raise RuntimeError(f"deploy/nginx/wallchart.conf no longer has {pattern!r}")
    return changed


def loopback_site(port: int, upstreams: list[int]) -> str:
    """The deployment kit's HTTPS server block, on plain HTTP at 127.0.0.1:port in front of the hosts."""
    site = (ROOT / "deploy" / "nginx" / "wallchart.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;\n" for p in upstreams)
    site = _replace(r"(upstream wallchart_app \{\n)(?:\s*#?\s*server [^\n]*\n)+", rf"\g<1>{servers}", site)
    site = _replace(r"server \{\n    listen 80;.*?\n\}\n\n", "", site, re.DOTALL)  # the redirect to HTTPS
    tls = r"    listen 443 ssl http2;\n    listen \[::\]:443 ssl http2;\n"
    site = _replace(tls, f"    listen 127.0.0.1:{port};\n", site)
    site = _replace(r"\n    ssl_[^\n]*", "", site)
    site = _replace(r"\n    add_header Strict-Transport-Security[^\n]*", "", site)
    return _replace(r"alias /opt/wallchart/static/;", f"alias {ROOT}/static/;", site)


class Cluster:
    """nginx, ``hosts`` app hosts of ``workers`` gunicorn workers each, ``schedulers`` schedulers."""

    def __init__(
        self,
        database_url: str,
        work_dir: Path,
        *,
        hosts: int = 2,
        workers: int = 2,
        schedulers: int = 2,
        settings: dict | None = None,
    ):
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.host_ports = [free_port() for _ in range(hosts)]
        self.workers, self.scheduler_count = workers, schedulers
        self.processes = Processes(self.work_dir)
        self.hosts: list[subprocess.Popen] = []
        self.schedulers: list[subprocess.Popen] = []
        self.nginx: subprocess.Popen | None = None
        self.nginx_temp: Path | None = None
        self.ratelimit_prefix = f"wallchart-cluster-{uuid.uuid4().hex[:12]}"  # this install's counters only
        self.env = dict(
            os.environ,
            TRACKER_PRODUCTION="true",
            TRACKER_SECRET_KEY=SECRET_KEY,
            TRACKER_DATABASE_URL=database_url,
            TRACKER_LEDGER_KEY=LEDGER_KEY,
            TRACKER_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
            TRACKER_RATELIMIT_KEY_PREFIX=self.ratelimit_prefix,
            TRACKER_BASE_URL=self.base,
            TRACKER_PROXY_COUNT="1",
            TRACKER_SCHEDULER="off",
            PYTHONPATH=str(ROOT),
        )
        self.env.pop("TRACKER_SMTP_HOST", None)
        self.env.update(settings or {})

    # --- starting and stopping ------------------------------------------------------------

    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        for n, port in enumerate(self.host_ports):
            self.hosts.append(self.start_host(n, port))
        for port in self.host_ports:
            wait_healthy(f"http://127.0.0.1:{port}")
        self.nginx = self.start_nginx()
        wait_healthy(self.base)
        for _ in range(self.scheduler_count):
            self.start_scheduler()

    def host_env(self, n: int) -> dict:
        instance = self.work_dir / f"host-{'AB'[n] if n < 2 else n}"
        return dict(
            self.env,
            TRACKER_EVIDENCE_DIR=str(instance / "evidence"),
            TRACKER_IMPORT_DIR=str(instance / "imports"),
        )

    def start_host(self, n: int, port: int) -> subprocess.Popen:
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{port}"]
        command += ["--forwarded-allow-ips", "127.0.0.1", "--access-logfile", "-", "--timeout", "60"]
        command += ["--graceful-timeout", "5", "--no-control-socket", "tracker:create_app()"]
        return self.processes.start(f"host-{n}", command, self.host_env(n))

    def start_nginx(self) -> subprocess.Popen:
        prefix = self.work_dir / "nginx"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        # Request bodies and buffered answers are written by nginx's workers, which run as
        # nobody when started by root: give them a folder of their own they can reach.
        self.nginx_temp = Path(tempfile.mkdtemp(prefix="wallchart-nginx-"))
        self.nginx_temp.chmod(0o755)
        user = ""
        if os.geteuid() == 0:
            user = "user nobody nogroup;\n"
            os.chown(self.nginx_temp, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        (prefix / "wallchart.conf").write_text(loopback_site(self.port, self.host_ports))
        temp = self.nginx_temp
        (prefix / "nginx.conf").write_text(
            f"daemon off;\n{user}worker_processes 2;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            f"    access_log {prefix}/logs/access.log;\n"
            f"    client_body_temp_path {temp}/body;\n    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n    uwsgi_temp_path {temp}/uwsgi;\n"
            f"    scgi_temp_path {temp}/scgi;\n"
            f"    include {prefix}/wallchart.conf;\n}}\n"
        )
        command = [nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)  # noqa: S603
        if checked.returncode:
            raise RuntimeError(f"nginx refused the adapted site:\n{checked.stderr}")
        return self.processes.start("nginx", command, self.env)

    def start_scheduler(self) -> subprocess.Popen:
        name = f"scheduler-{len(self.schedulers)}"
        process = self.processes.start(name, [str(BIN / "flask"), "--app", "tracker", "scheduler"], self.env)
        self.schedulers.append(process)
        return process

    def stop_process(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        """Signal a process's whole group and wait for it."""
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        self._reap(process)

    def _reap(self, process: subprocess.Popen) -> None:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to every group at once (nginx first), then wait; SIGKILL what outlives 20 s."""
        running = [process for _name, process in reversed(self.processes.started) if process.poll() is None]
        for process in running:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in running:
            self._reap(process)
        if self.nginx_temp:
            shutil.rmtree(self.nginx_temp, ignore_errors=True)
        self.forget_counters()

    def forget_counters(self) -> None:
        """Remove this install's sign-in counters from Redis (others running beside it keep theirs)."""
        import redis

        connection = redis.Redis(host="127.0.0.1", port=6379)
        for key in connection.scan_iter(f"*{self.ratelimit_prefix}*"):
            connection.delete(key)

    def leftovers(self) -> list[int]:
        """Processes still alive in any group this cluster started (none after ``stop``)."""
        groups = {p.pid for p in self.hosts + self.schedulers + ([self.nginx] if self.nginx else [])}
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in groups and fields[0] != "Z":
                alive.append(int(stat.parent.name))
        return alive

    # --- using it -------------------------------------------------------------------------

    def host_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.host_ports[n]}"

    def log(self, name: str) -> str:
        return self.processes.log(name)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own executable
            [str(BIN / "flask"), "--app", "tracker", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def app(self, **config):
        """The app in this process, configured as the hosts are (for seeding and checking)."""
        from tracker import create_app

        settings = {"SQLALCHEMY_DATABASE_URI": self.database_url, "SECRET_KEY": SECRET_KEY, "LEDGER_KEY": LEDGER_KEY}
        return create_app(settings | config)


def wait_until(check, seconds: float, step: float = 0.1):
    """Poll ``check`` until it returns something true; that value, or None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    return None
