"""The error contract, proven on every declared operation (endpoints added later are covered automatically).

Each refusal is a problem document (type/title/status/detail, application/problem+json) and writes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import g, has_app_context
from sqlalchemy import func, select

import wms.api.routes  # noqa: F401  (declares every operation, so OPERATIONS is complete at collection)
from wms.api.framework import OPERATIONS, Operation
from wms.db import Base, db

PREFIX = "/api/v1"
BODY_OPS = [op for op in OPERATIONS if op.body is not None]
QUERY_OPS = [op for op in OPERATIONS if op.query is not None]
PRIVATE_OPS = [op for op in OPERATIONS if not op.public]
ALL_ROLES = ("admin", "supervisor", "picker", "receiver", "packer")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def op_id(op: Operation) -> str:
    return f"{op.method} {op.rule}"


def url_of(op: Operation) -> str:
    """A concrete URL for the rule; refusals here happen before any lookup, so the values need not exist."""
    return PREFIX + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", op.rule)


@pytest.fixture
def headers(session, make_warehouse, make_user, make_token, commit) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A personal token of a user holding every role everywhere: it passes any operation's role check."""
    make_warehouse("WH-A")
    user = make_user(roles=ALL_ROLES, all_warehouses=True, totp=True)
    raw = make_token("user", user=user)
    commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def send(client, app):  # type: ignore[no-untyped-def]
    """Send a request and prove that the database holds exactly the rows it held before."""

    tables = Base.metadata.sorted_tables
    # Every table's row count in one round trip (one SELECT of scalar subqueries).
    counts = select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables])

    def row_counts() -> dict[str, int]:
        with db.engine(app).connect() as conn:
            return dict(conn.execute(counts).one()._mapping)

    def do(method: str, url: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        if has_app_context():
            g.pop("principal", None)  # the session fixture's app context is shared with requests
        before = row_counts()
        resp = client.open(url, method=method, **kwargs)
        assert row_counts() == before, f"{method} {url} answered {resp.status_code} but wrote rows"
        return resp

    return do


def assert_problem(resp, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    return body


def _json_types(prop: dict[str, Any]) -> set[str] | None:
    """The JSON types a property schema accepts, or None when it accepts anything."""
    if "$ref" in prop or "properties" in prop:
        return {"object"}
    if "enum" in prop or "const" in prop:
        values = prop.get("enum", [prop.get("const")])
        return {"string" if isinstance(v, str) else "integer" if isinstance(v, int) else "other" for v in values}
    if "type" in prop:
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        types = set(kinds)
        if "number" in types:
            types.add("integer")
        return types
    for key in ("anyOf", "oneOf", "allOf"):
        if key in prop:
            out: set[str] = set()
            for sub in prop[key]:
                sub_types = _json_types(sub)
                if sub_types is None:
                    return None
                out |= sub_types
            return out
    return None


WRONG_VALUES: list[tuple[str, Any]] = [
    ("object", {"unexpected": "object"}), ("array", ["unexpected"]), ("integer", 12345),
    ("string", "unexpected text"), ("boolean", True),
]


def wrongly_typed_body(op: Operation) -> tuple[str, dict[str, Any]]:
    """A body whose first typed property gets a value of a JSON type the schema does not accept."""
    assert op.body is not None
    schema = op.body.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        accepted = _json_types(prop)
        if accepted is None:
            continue
        for json_type, value in WRONG_VALUES:
            if json_type not in accepted:
                return name, {name: value}
    raise AssertionError(f"{op_id(op)}: its body has no typed property to get wrong")


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) >= 12
    assert {op_id(op) for op in OPERATIONS} >= {
        "GET /products", "POST /products", "GET /barcodes/<path:code>", "GET /warehouses/<code>/locations"}


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_malformed_json_is_a_400(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers=headers, data=b'{"name": ', content_type="application/json")
    assert_problem(resp, 400)


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_a_body_that_is_not_json_is_a_415(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers=headers, data="name=x", content_type="application/x-www-form-urlencoded")
    assert_problem(resp, 415)
    resp = send(op.method, url_of(op), headers=headers, data=b"{}", content_type="text/plain")
    assert_problem(resp, 415)


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_an_unknown_field_is_a_422(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers=headers, json={"no_such_field": 1})
    body = assert_problem(resp, 422)
    assert "no_such_field" in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_a_wrongly_typed_field_is_a_422_naming_the_field(op, send, headers):  # type: ignore[no-untyped-def]
    field, payload = wrongly_typed_body(op)
    resp = send(op.method, url_of(op), headers=headers, json=payload)
    body = assert_problem(resp, 422)
    assert field in [e["field"].split(".")[0] for e in body["errors"]]
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_a_body_that_is_not_an_object_is_a_422(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers=headers, json=["not", "an", "object"])
    assert_problem(resp, 422)


@pytest.mark.parametrize("op", BODY_OPS, ids=op_id)
def test_a_nul_character_in_a_text_field_is_a_422(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers=headers, data=json.dumps({"no_such_field": "a\u0000b"}),
                content_type="application/json")
    assert_problem(resp, 422)


@pytest.mark.parametrize("op", OPERATIONS, ids=op_id)
def test_a_body_over_the_size_limit_is_a_413(op, send, headers, app):  # type: ignore[no-untyped-def]
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = b'{"name": "' + b"x" * limit + b'"}'
    resp = send(op.method, url_of(op), headers=headers, data=payload, content_type="application/json")
    body = assert_problem(resp, 413)
    assert str(limit) in body["detail"]


@pytest.mark.parametrize("op", QUERY_OPS, ids=op_id)
def test_an_unknown_query_parameter_is_a_422(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op) + "?no_such_parameter=1", headers=headers)
    body = assert_problem(resp, 422)
    assert "no_such_parameter" in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("op", [op for op in QUERY_OPS if "limit" in op.query.model_fields], ids=op_id)
def test_a_wrongly_typed_query_parameter_is_a_422_naming_it(op, send, headers):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op) + "?limit=many", headers=headers)
    body = assert_problem(resp, 422)
    assert [e["field"] for e in body["errors"]] == ["limit"]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.method == "GET" and op.query is None], ids=op_id)
def test_query_parameters_on_an_operation_without_any_are_a_422(op, send, headers):  # type: ignore[no-untyped-def]
    assert_problem(send("GET", url_of(op) + "?unexpected=1", headers=headers), 422)


@pytest.mark.parametrize("op", PRIVATE_OPS, ids=op_id)
def test_anonymous_callers_get_a_401(op, send):  # type: ignore[no-untyped-def]
    kwargs = {"json": {}} if op.body is not None else {}
    assert_problem(send(op.method, url_of(op), **kwargs), 401)


@pytest.mark.parametrize("op", PRIVATE_OPS, ids=op_id)
def test_an_unknown_bearer_token_gets_a_401(op, send):  # type: ignore[no-untyped-def]
    resp = send(op.method, url_of(op), headers={"Authorization": "Bearer wms_nope_notasecret"})
    assert_problem(resp, 401)


MACHINE_REFUSALS = [(op, p) for op in PRIVATE_OPS for p in ("channel", "print_site") if p not in op.purposes]


@pytest.mark.parametrize(("op", "purpose"), MACHINE_REFUSALS, ids=[f"{op_id(o)} {p}" for o, p in MACHINE_REFUSALS])
def test_machine_tokens_are_refused_outside_their_purpose(op, purpose, send, make_token, commit, session):  # type: ignore[no-untyped-def]
    from wms.layout.services import create_warehouse

    raw = make_token(purpose, warehouse=create_warehouse("WH-M", "Machine site"))
    commit()
    kwargs = {"json": {}} if op.body is not None else {}
    body = assert_problem(send(op.method, url_of(op), headers={"Authorization": f"Bearer {raw}"}, **kwargs), 403)
    assert body["type"] == "/problems/forbidden"


@pytest.mark.parametrize("op", [op for op in PRIVATE_OPS if op.roles], ids=op_id)
def test_people_without_the_role_are_refused(op, send, make_user, make_token, commit, session):  # type: ignore[no-untyped-def]
    allowed = set(op.roles) | ({"admin"} if "supervisor" in op.roles else set())
    others = tuple(r for r in ALL_ROLES if r not in allowed)
    user = make_user(roles=others, all_warehouses=True, totp=True)
    raw = make_token("user", user=user)
    commit()
    kwargs = {"json": {}} if op.body is not None else {}
    assert_problem(send(op.method, url_of(op), headers={"Authorization": f"Bearer {raw}"}, **kwargs), 403)


@pytest.mark.parametrize("op", OPERATIONS, ids=op_id)
def test_an_unknown_route_is_a_404_problem(op, send, headers):  # type: ignore[no-untyped-def]
    static = PREFIX + op.rule.split("<", 1)[0].rstrip("/")
    assert_problem(send("GET", static + "-no-such-route", headers=headers), 404)
    assert_problem(send("GET", static + "-no-such-route/deeper", headers=headers), 404)


def _rules() -> list[tuple[str, frozenset[str]]]:
    methods: dict[str, set[str]] = {}
    for op in OPERATIONS:
        methods.setdefault(op.rule, set()).add(op.method)
    return [(rule, frozenset(m)) for rule, m in methods.items()]


@pytest.mark.parametrize(("rule", "allowed"), _rules(), ids=[r for r, _ in _rules()])
def test_a_method_the_route_does_not_take_is_a_405_problem(rule, allowed, send, headers):  # type: ignore[no-untyped-def]
    url = url_of(Operation(rule=rule, method="GET", endpoint="", summary="", tags=[]))
    for method in (m for m in METHODS if m not in allowed):
        resp = send(method, url, headers=headers, json={})
        assert_problem(resp, 405)
        assert set(allowed) <= {m.strip() for m in resp.headers["Allow"].split(",")}


def test_the_problem_contract_holds_for_the_api_root(send) -> None:  # type: ignore[no-untyped-def]
    assert_problem(send("GET", PREFIX + "/"), 404)
    assert_problem(send("GET", "/api/v2/products"), 404)
