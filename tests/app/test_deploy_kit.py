"""The deployment kit fits the app: every setting is in the environment template, the units
start what the README says, nginx serves static files under versioned addresses."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.config import DefaultConfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Framework settings with fixed values that operators do not change.
FIXED = {
    "SQLALCHEMY_ENGINE_OPTIONS",
    "LANGUAGES",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "REMEMBER_COOKIE_HTTPONLY",
    "REMEMBER_COOKIE_SAMESITE",
    "RATELIMIT_HEADERS_ENABLED",
    "WTF_CSRF_TIME_LIMIT",
    "WTF_CSRF_ENABLED",
    # Derived at start: from DATABASE_URL and from SESSION_MAX_HOURS.
    "SQLALCHEMY_DATABASE_URI",
    "REMEMBER_COOKIE_DURATION",
}


def env_names() -> set[str]:
    text = (DEPLOY / "wallchart.env").read_text()
    return set(re.findall(r"^#?\s*TRACKER_([A-Z_]+)=", text, re.MULTILINE))


def test_every_setting_is_explained_in_the_environment_template():
    settings = {name for name in vars(DefaultConfig) if name.isupper()} - FIXED
    missing = settings - env_names()
    assert not missing, f"add these to deploy/wallchart.env: {sorted(missing)}"


def test_the_template_names_only_settings_the_app_reads():
    read = {name for name in vars(DefaultConfig) if name.isupper()}
    code = "\n".join(p.read_text() for p in (ROOT / "tracker").rglob("*.py"))
    read |= set(re.findall(r'config(?:\.get\(|\[)"([A-Z_]+)"', code))
    unknown = env_names() - read
    assert not unknown, f"deploy/wallchart.env names settings nothing reads: {sorted(unknown)}"


def test_units_run_the_readme_commands():
    web = (DEPLOY / "wallchart-web.service").read_text()
    scheduler = (DEPLOY / "wallchart-scheduler.service").read_text()
    assert (
        "gunicorn" in web and "'tracker:create_app()'" in web and "EnvironmentFile=/etc/wallchart/wallchart.env" in web
    )
    assert "flask --app tracker scheduler" in scheduler
    env = (DEPLOY / "wallchart.env").read_text()
    assert re.search(r"^TRACKER_SCHEDULER=off$", env, re.MULTILINE)  # never in the gunicorn workers
    assert re.search(r"^TRACKER_PROXY_COUNT=1$", env, re.MULTILINE)  # one nginx in front


def test_nginx_allows_the_apps_largest_upload():
    conf = (DEPLOY / "nginx" / "wallchart.conf").read_text()
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert megabytes * 1024 * 1024 >= DefaultConfig.MAX_CONTENT_LENGTH
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in conf


def test_nginx_accepts_the_site(tmp_path):
    """`nginx -t` on the site inside a minimal main configuration (certificates made here)."""
    nginx, openssl = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin"), shutil.which("openssl")
    if not nginx or not openssl:
        pytest.fail("nginx and openssl are needed: apt-get install -y nginx openssl", pytrace=False)
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=wallchart.test",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx" / "wallchart.conf").read_text().replace("/etc/ssl/wallchart", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_pages_link_static_files_by_content_version(client, world):
    from tests.factories import login

    login(client, "member")
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]{12}))"', page)
    assert css, "the stylesheet is linked without its version"
    import hashlib

    assert css.group(2) == hashlib.sha256((ROOT / "static/css/app.css").read_bytes()).hexdigest()[:12]
    versioned = client.get(css.group(1))
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/static/css/app.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
