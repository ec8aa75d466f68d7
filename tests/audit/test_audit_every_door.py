"""Every change a page or the API can make leaves exactly one audit row, whichever door it came in by.

The doors are read from the app's URL map (every rule taking POST, PUT, PATCH or DELETE), so a
new route fails here until its service audits it or it is listed in ``EXEMPT`` with the reason.
Each door is walked with its row from the route table (tests/routes), as the first role that
row lets succeed; ``OWN_ROWS`` adds a successful request where that row is a refusal.
"""

import io
import re

import pyotp
import pytest
from sqlalchemy import func, select

from tests.app.test_route_matrix import TABLE, USERNAMES, _fill, _ids
from tests.factories import NOW, PASSWORD, login
from tests.routes import ANY_OK, Route
from tests.spreadsheets.test_import_uploads import upload
from tracker.api.services import create_token
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db
from tracker.milestones.models import Milestone
from tracker.outbox.models import Delivery

CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIGN_IN = "signing in and out writes its own rows (login, login_failed, logout), tested in test_auth*.py"
LEDGER = "an item's changes (and its notices' steps) are written to the item's ledger, not the audit log"
EXERCISE = "an exercise keeps who planned it and who recorded each check; findings become items with a ledger"
OWN = "one's own reading state and notification choices: no one else's data or access changes"
NO_CHANGE = "changes nothing by itself"
EXEMPT = {
    "auth.login": SIGN_IN,
    "auth.verify_code": SIGN_IN,
    "auth.reauth": SIGN_IN,
    "auth.logout": SIGN_IN,
    "items.new": LEDGER,
    "items.edit": LEDGER,
    "items.transition": LEDGER,
    "items.progress": LEDGER,
    "items.request_extension": LEDGER,
    "items.decide_extension": LEDGER,
    "admin.renumber": LEDGER,
    "api.create_item": LEDGER,
    "api.patch_item": LEDGER,
    "api.transition": LEDGER,
    "api.add_progress": LEDGER,
    "api.create_extension_request": LEDGER,
    "api.decide_extension_request": LEDGER,
    "notices.issue": LEDGER,
    "notices.suggestions": LEDGER,
    "notices.acknowledge": LEDGER,
    "notices.reply": LEDGER,
    "notices.close": LEDGER,
    "notices.escalate": LEDGER,
    "notices.interview": LEDGER,
    "notices_api.create_notice": LEDGER,
    "notices_api.acknowledge": LEDGER,
    "notices_api.reply": LEDGER,
    "notices_api.close": LEDGER,
    "notices_api.escalate": LEDGER,
    "exercises.new": EXERCISE,
    "exercises.record": EXERCISE,
    "exercises.findings": EXERCISE,
    "exercises.free_finding": EXERCISE,
    "exercises.checklists": EXERCISE,
    "api.create_exercise": EXERCISE,
    "api.record_check": EXERCISE,
    "api.create_findings": EXERCISE,
    "auth.language": OWN,
    "notify.watch": OWN,
    "notify.unwatch": OWN,
    "notify.save_preferences": OWN,
    "reminders.mark_read": OWN,
    "reminders.mark_all_read": OWN,
    "reminders.preferences": OWN,
    "api.read_notifications": OWN,
    "spreadsheets.upload": NO_CHANGE + " (a preview; confirming it is audited as items_imported)",
    "api.no_such_route": NO_CHANGE + " (answers 404 or 405 for unknown API paths)",
}
ROLE_ORDER = ("admin", "committee", "lead", "member", "other_lead", "other_member", "external")
SPRING_CSV = "日期,上班,名称\n2027-02-05,休息,春节\n2027-02-20,上班,春节 调休上班\n"


def _totp_code(client) -> dict:
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    return {"data": {"code": pyotp.TOTP(secret).now()}}


def _day_off(client) -> dict:
    """Make 2027-02-08 a day off first, so that resetting it changes something."""
    assert client.put("/api/v1/working-days/2027-02-08", json={"working": False, "name": "春节"}).status_code == 200
    return {}


def _spring_csv(client) -> dict:
    return {
        "data": {"year": "2027", "file": (io.BytesIO(SPRING_CSV.encode()), "2027.csv")},
        "content_type": "multipart/form-data",
    }


def _uploaded_sheet(client) -> dict:
    return {"data": {"token": upload(client, "门禁读卡器故障")}}


# Doors whose route-table row is a refusal or a miss: who sends a request that succeeds, the
# request, and (optionally) what prepares it with the signed-in client, giving the request's body.
OWN_ROWS = {
    "reminders.resend": ("admin", Route("reminders.resend", "POST", "/admin/deliveries/{delivery}/resend", {}), None),
    "milestones.edit": (
        "committee",
        Route(
            "milestones.edit",
            "POST",
            "/milestones/{milestone}/edit",
            {},
            data={"title": "T-20 演练", "kind": "rehearsal", "date_mode": "relative", "offset_days": "-20"},
        ),
        None,
    ),
    "api_pages.revoke_token": (
        "member",
        Route("api_pages.revoke_token", "POST", "/account/tokens/{token}/revoke", {}),
        None,
    ),
    "auth.change_password": (
        "other_member",  # no one signs in as them afterwards
        Route(
            "auth.change_password",
            "POST",
            "/account/password",
            {},
            data={"current": PASSWORD, "new": "new-password-1", "confirm": "new-password-1"},
        ),
        None,
    ),
    "auth.two_factor": ("member", Route("auth.two_factor", "POST", "/account/2fa", {}), _totp_code),
    "workdays.import_year": (
        "admin",
        Route("workdays.import_year", "POST", "/admin/working-days/import", {}),
        _spring_csv,
    ),
    "workdays.reset_day": (
        "admin",
        Route("workdays.reset_day", "POST", "/admin/working-days/day/2027-02-08/reset", {}),
        _day_off,
    ),
    "api.delete_working_day": (
        "admin",
        Route("api.delete_working_day", "DELETE", "/api/v1/working-days/2027-02-08", {}),
        _day_off,
    ),
    "spreadsheets.confirm": ("lead", Route("spreadsheets.confirm", "POST", "/import/confirm", {}), _uploaded_sheet),
}


@pytest.fixture
def config(config, tmp_path):
    config["IMPORT_DIR"] = str(tmp_path / "imports")
    return config


def _doors(app) -> list[tuple[str, str]]:
    return sorted(
        {
            (rule.endpoint, method)
            for rule in app.url_map.iter_rules()
            for method in rule.methods & CHANGING
            if rule.endpoint not in EXEMPT
        }
    )


def _successful_row(endpoint: str, method: str) -> tuple | None:
    if endpoint in OWN_ROWS:
        return OWN_ROWS[endpoint]
    for row in TABLE:
        if (row.endpoint, row.method) != (endpoint, method):
            continue
        for role in ROLE_ORDER:
            if row.expect.get(role) and row.expect[role] <= ANY_OK:
                return role, row, None
    return None


def test_every_changing_door_is_walked_or_exempt(app):
    unwalked = [f"{method} {endpoint}" for endpoint, method in _doors(app) if _successful_row(endpoint, method) is None]
    assert not unwalked, "no successful request to walk (add a row to OWN_ROWS, or an exemption): " + ", ".join(
        unwalked
    )
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not set(EXEMPT) - endpoints, "exemptions for routes that no longer exist"


def _more_ids(world) -> dict:
    """What the own rows act on: a delivery that failed, a milestone, an API token of the member's."""
    delivery = Delivery(
        dedupe_key="door-test",
        channel="email",
        rule="owner_due",
        user_id=world.member.id,
        local_date=NOW.date(),
        status="dead",
    )
    milestone = Milestone(event_id=world.event.id, title="T-30 演练", kind="rehearsal", offset_days=-30)
    db.session.add_all([delivery, milestone])
    token, _secret = create_token(db.session.get(User, world.member.id), "door test", now=NOW)
    db.session.commit()
    return {"delivery": delivery.id, "milestone": milestone.id, "token": token.id}


def _audit_rows() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def test_each_change_leaves_exactly_one_audit_row(app, world):
    failures = []
    with app.app_context():
        ids = _ids(world) | _more_ids(world)
    for endpoint, method in _doors(app):
        role, row, prepare = _successful_row(endpoint, method)
        client = app.test_client()
        login(client, USERNAMES[role])
        if prepare is not None:
            kwargs = prepare(client)
        elif row.json is not None:
            kwargs = {"json": _fill(row.json, ids)}
        else:
            kwargs = {"data": _fill(row.data, ids)}
        with app.app_context():
            before = _audit_rows()
        response = client.open(_fill(row.path, ids), method=method, **kwargs)
        with app.app_context():
            written = _audit_rows() - before
        if response.status_code not in ANY_OK:
            failures.append(f"{method} {endpoint} as {role}: status {response.status_code}")
        elif written != 1:
            failures.append(f"{method} {endpoint} as {role}: {written} audit rows")
    assert not failures, "\n".join(failures)
