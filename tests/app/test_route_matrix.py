"""Walk every route × role from the declared table (tests/routes); a new route needs a row."""

import importlib
import pkgutil
import re

import pytest

import tests.routes as routes_pkg
from tests.factories import login
from tests.routes import ROLES, Route

MODULES = [importlib.import_module(f"tests.routes.{m.name}") for m in pkgutil.iter_modules(routes_pkg.__path__)]
TABLE: list[Route] = [row for module in MODULES for row in module.ROUTES]
USERNAMES = {
    "admin": "admin",
    "committee": "committee",
    "lead": "lead",
    "member": "member",
    "other_lead": "otherlead",
    "other_member": "othermember",
    "external": "external",
}


def test_every_route_has_a_row(app):
    declared = {(row.endpoint, row.method) for row in TABLE}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in declared:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in tests/routes: " + ", ".join(sorted(missing))


def _ids(world) -> dict:
    ids = {name: item.id for name, item in world.items.items()}
    ids.update(cs=world.cs.id, js=world.js.id, member=world.member.id, event=world.event.id)
    ids.update({k: v for k, v in getattr(world, "extra_ids", {}).items()})
    return ids


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize("role", ROLES)
def test_route_matrix(app, world, role):
    failures = []
    ids = _ids(world)
    for row in TABLE:
        client = app.test_client()
        if role != "anon":
            login(client, USERNAMES[role])
        path = _fill(row.path, ids)
        kwargs = {}
        if row.json is not None:
            kwargs["json"] = _fill(row.json, ids)
        elif row.data:
            kwargs["data"] = _fill(row.data, ids)
        response = client.open(path, method=row.method, **kwargs)
        expected = row.expect[role]
        if response.status_code not in expected:
            failures.append(f"{row.method} {path} as {role}: {response.status_code}, expected {sorted(expected)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("number", [2**31, 10**20])
def test_ids_beyond_any_row_are_simply_not_found(app, world, number):
    """Every route with an id, with an id past the INTEGER column: 404, and JSON under the API."""
    client = app.test_client()
    login(client, "admin")
    failures, checked = [], []
    for rule in app.url_map.iter_rules():
        ids = re.findall(r"<int:(\w+)>", rule.rule)
        if not ids or set(rule.arguments) != set(ids):
            continue
        path = re.sub(r"<int:\w+>", str(number), rule.rule)
        checked.append(path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            api = path.startswith("/api/v1/")
            if response.status_code != 404 or (api and response.json["error"]["code"] != "not_found"):
                failures.append(f"{method} {path}: {response.status_code} {response.content_type}")
    assert len(checked) >= 15
    assert not failures, "\n".join(failures)
