"""The OpenAPI document matches the routes exactly, renders for people, and survives fuzzing."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_api import make_tokens
from tracker.api.openapi import PREFIX, document

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _routes(app) -> set:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint == "api.no_such_route":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods & METHODS}
    return found


def _documented() -> set:
    return {(method.upper(), path) for path, ops in document()["paths"].items() for method in ops}


def test_every_route_is_documented_and_nothing_else(app):
    routes, documented = _routes(app), _documented()
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes that do not exist"


def test_document_is_served_without_sign_in(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["openapi"].startswith("3.1")
    assert body == document()


def test_every_write_documents_its_body_and_errors():
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            assert "200" in op["responses"] or "201" in op["responses"], (method, path)
            if method in ("post", "put", "patch"):
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                assert schema["additionalProperties"] is False
                assert {"400", "415", "422"} <= set(op["responses"]), (method, path)


def test_reference_page_lists_every_operation(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for method, path in _documented():
        assert f"{method} {path}" in html
    assert "<script" not in html.split("</main>")[0].split("<main", 1)[1]


# --- fuzzing: schemathesis over the document, against the WSGI app --------------------------

FUZZ = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz(operation, headers: dict, **strategy_args) -> None:
    @FUZZ
    @given(case=operation.as_strategy(**strategy_args))
    def run(case):
        # PROPAGATE_EXCEPTIONS is on in tests: a crash raises here instead of hiding as a 500.
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin", "lead", "external"])
def test_fuzzing_finds_no_server_error_or_broken_shape(app, world, role):
    """A few generated requests per operation, valid and invalid, on random and on real item ids."""
    headers = {"Authorization": f"Bearer {make_tokens(app)[role]}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Schemathesis leaves out the operation that serves the document itself.
    assert {(op.method.upper(), op.path) for op in operations} == _documented() - {("GET", f"{PREFIX}/openapi.json")}
    real_item = {"item_id": world.items["external_item"].id}
    for operation in operations:
        _fuzz(operation, headers)
        _fuzz(operation, headers, generation_mode=GenerationMode.NEGATIVE)
        if "{item_id}" in operation.path:
            _fuzz(operation, headers, path_parameters=real_item)
