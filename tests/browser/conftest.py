"""Browser tests: the real app on a loopback port, driven by Debian's Chromium through Playwright.

They run in the normal ``pytest`` run. Without Chromium they fail (not skip), naming the fix.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from babel import Locale
from babel.support import Translations
from werkzeug.serving import make_server

from tests import factories
from tracker import create_app
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.i18n import TRANSLATIONS

CHROMIUM = os.environ.get("WALLCHART_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
LOCALES = {"zh_CN": "zh-CN", "en": "en-US"}  # catalog locale -> browser locale (Accept-Language)
TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")
    config.addinivalue_line("markers", "slow: takes minutes on a busy machine (every page, role and language)")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install -y chromium` (or set WALLCHART_CHROMIUM to its path).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A fixed UI language for Chromium itself, so date fields always read month/day/year.
        chromium = launch(playwright.chromium, "en_US")
        yield chromium
        chromium.close()


def launch(browser_type, ui_language: str):
    """Chromium with its own buttons and date fields in ``ui_language`` (e.g. en_US, zh_CN)."""
    env = {**os.environ, "LANG": f"{ui_language}.UTF-8", "LANGUAGE": ui_language}
    args = [*CHROMIUM_ARGS, f"--lang={ui_language.replace('_', '-')}"]
    return browser_type.launch(executable_path=CHROMIUM, args=args, env=env)


class LiveServer:
    """The app served by Werkzeug in a thread, on a free loopback port."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=5)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def run(self, fn, *args, **kwargs):
        """Call ``fn`` inside an app context and commit (to arrange or inspect data)."""
        with self.app.app_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result


def browser_app(tmp_path: Path):
    """A production-like app: CSRF on, no scheduler, its own SQLite file and evidence folder."""
    app = create_app(
        {
            "SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.db'}",
            "SCHEDULER": "off",
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
    return app


@contextmanager
def live_server(tmp_path: Path, arrange=None) -> Iterator[LiveServer]:
    app = browser_app(tmp_path)
    with LiveServer(app) as server:
        if arrange is not None:
            server.world = server.run(arrange)
        yield server


@pytest.fixture
def server(tmp_path):
    """An install with only an admin account: the starting point of a new event."""
    with live_server(tmp_path, lambda: {"admin": factories.make_user("admin", "admin").username}) as live:
        yield live


def make_small_world() -> dict:
    """The event 112 days ahead, two groups, one person per role and items around today's date."""
    from tracker.event.services import local_today
    from tracker.items import services

    now = utcnow()
    event = factories.make_event(opening_at=now + timedelta(days=112), closing_at=now + timedelta(days=118))
    today = local_today(now)
    cg = factories.make_group("CG", "场馆建设与无障碍环境组", name_en="Venues & Accessible Environment")
    js = factories.make_group("JS", "竞赛组织组", name_en="Competition Organisation")
    admin = factories.make_user("admin", "admin", display_name="系统管理员")
    committee = factories.make_user("committee", "committee", display_name="组委会审核员")
    lead = factories.make_user("lead", "lead", [cg], display_name="陈组长")
    member = factories.make_user("member", "member", [cg], display_name="李责任人")
    other_lead = factories.make_user("otherlead", "lead", [js], display_name="王组长")
    factories.make_user("external", "external", display_name="第三方服务商")
    long_ago = now - timedelta(days=40)

    def item(title, **fields):
        data = {"found_on": today - timedelta(days=40), "measures": "按方案整改", "owner_id": member.id}
        data.update(fields)
        return factories.make_item(lead, cg, now=long_ago, title=title, **data)

    overdue = item("看台轮椅席位不足", deadline=today - timedelta(days=5), severity="high")
    services.transition(overdue, "start", actor=member, now=long_ago)
    submitted = []
    for title in ("无障碍卫生间扶手缺失", "盲道被临时设施占用"):
        record = item(title, deadline=today - timedelta(days=2))
        services.transition(record, "start", actor=member, now=long_ago)
        services.add_progress(record, actor=member, now=long_ago, note="已整改完毕", progress=100, uploads=[])
        services.transition(record, "submit", actor=member, now=now - timedelta(days=3))
        submitted.append(record)
    factories.make_item(other_lead, js, now=now, title="计时设备调试", deadline=today + timedelta(days=30))
    db.session.flush()
    return {
        "event": event.id,
        "overdue": overdue.id,
        "to_reject": submitted[0].id,
        "to_verify": submitted[1].id,
        "admin": admin.username,
        "committee": committee.username,
        "lead": lead.username,
        "member": member.username,
    }


@pytest.fixture
def world_server(tmp_path):
    with live_server(tmp_path, make_small_world) as live:
        yield live


DEMO_SIGN_INS = {
    "admin": ("admin", "demo-admin"),
    "committee": ("office-zh", "demo-committee"),
    "lead": ("lead-cg", "demo-lead"),
    "member": ("liaison-cg", "demo-member"),
    "external": ("vendor-kb", "demo-external"),
}


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The Para Games demo, as of today: a realistic amount of data on every page."""
    from tracker.demo.seed import load_demo

    with live_server(tmp_path_factory.mktemp("demo"), lambda: load_demo(now=utcnow())) as live:
        yield live


# --- Pages -----------------------------------------------------------------------------------


class T:
    """The catalog's words for one language, so tests find elements by what a person reads."""

    def __init__(self, locale: str):
        self.locale = locale
        self.browser_locale = LOCALES[locale]
        self._translations = Translations.load(str(TRANSLATIONS), [Locale.parse(locale)])

    def __call__(self, msgid: str, **variables) -> str:
        text = self._translations.gettext(msgid)
        return text % variables if variables else text


@pytest.fixture(params=["zh_CN"])
def t(request) -> T:
    return T(request.param)


def new_page(browser, server: LiveServer, t: T, **context_options):
    context = browser.new_context(base_url=server.url, locale=t.browser_locale, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    return page


def sign_in(page, t: T, username: str, password: str = factories.PASSWORD):
    page.goto("/login")
    page.get_by_label(t("Username")).fill(username)
    page.get_by_label(t("Password"), exact=True).fill(password)
    page.get_by_role("button", name=t("Sign in")).click()
    page.wait_for_load_state()
    return page


def flash_text(page) -> str:
    return page.get_by_role("status").inner_text()


def tiny_png() -> bytes:
    """A valid 2×2 PNG, made here so the test needs no fixture file."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
