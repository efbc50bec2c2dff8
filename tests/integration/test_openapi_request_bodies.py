"""The served document's request schemas are the models the handlers validate, operation by operation.

The schema of each documented body is compared, with every `$ref` followed, with the JSON schema of the model the
handler is declared to take; then the app is asked: a body the documented schema accepts passes validation, and the
same body without any one required field is refused with 422 naming that field.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from hypothesis import find, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

import wms.api.routes  # noqa: F401
from wms.api.framework import OPERATIONS, openapi_path

BODY_INVALID = "The request body is not valid."
NOT_OPERATIONS = {"/api/v1/openapi.json"}


def resolve(schema: Any, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`schema` with every `$ref` replaced by what it names, so two documents compare regardless of names."""
    if isinstance(schema, list):
        return [resolve(item, components, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return {"$recursive": name}
        return resolve(components[name], components, (*seen, name))
    return {key: resolve(value, components, seen) for key, value in schema.items()}


def model_schema(model: Any) -> Any:
    """The JSON schema of one model generated alone, its `$defs` followed."""
    schema = TypeAdapter(model).json_schema()
    return resolve(schema, schema.pop("$defs", {}))


def handler_body_model(view: Any) -> Any:
    """The model the handler function itself takes as `body` (its annotation), or None."""
    return typing.get_type_hints(view.__wrapped__).get("body")


def api_routes(app) -> list[tuple[str, str, Any]]:  # type: ignore[no-untyped-def]
    """(method, OpenAPI path, view) for every rule of the url_map under /api/v1 that is an operation."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in NOT_OPERATIONS:
            continue
        path = "/api/v1" + openapi_path(rule.rule.removeprefix("/api/v1"))[0]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method.lower(), path, app.view_functions[rule.endpoint]))
    return routes


def test_every_route_documents_the_body_its_handler_takes(app, client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    routes = api_routes(app)
    assert len(routes) == len(OPERATIONS)
    for method, path, view in routes:
        documented = document["paths"][path][method]
        model = handler_body_model(view)
        assert ("requestBody" in documented) == (model is not None), f"{method} {path}"
        if model is not None:
            schema = documented["requestBody"]["content"]["application/json"]["schema"]
            assert resolve(schema, components) == model_schema(model), f"{method} {path} documents another body"


def test_every_documented_response_is_the_model_the_operation_answers_with(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    for op in OPERATIONS:
        if op.response is None or op.status == 204:
            continue
        documented = document["paths"]["/api/v1" + openapi_path(op.rule)[0]][op.method.lower()]
        schema = documented["responses"][str(op.status)]["content"]["application/json"]["schema"]
        assert resolve(schema, components) == model_schema(op.response), f"{op.method} {op.rule}"


def test_no_two_different_models_share_a_component_name(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    named: dict[str, set[type]] = {}
    for op in OPERATIONS:
        path = document["paths"]["/api/v1" + openapi_path(op.rule)[0]][op.method.lower()]
        if op.body is not None:
            ref = path["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            named.setdefault(ref, set()).add(op.body)
        if isinstance(op.response, type) and issubclass(op.response, BaseModel) and op.status != 204:
            ref = path["responses"][str(op.status)]["content"]["application/json"]["schema"]["$ref"]
            named.setdefault(ref, set()).add(op.response)
    shared = {ref: sorted(f"{m.__module__}.{m.__qualname__}" for m in models)
              for ref, models in named.items() if len(models) > 1}
    assert shared == {}
    assert {"wms__inbound__schemas__ReceiveIn", "wms__returns__schemas__ReceiveIn"} <= set(
        document["components"]["schemas"])


# -- asking the app ---------------------------------------------------------------------------------------------


def minimal_string(schema: dict[str, Any]) -> str:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    if schema.get("format") == "date-time":
        return "2026-12-01T10:00:00+00:00"
    if schema.get("format") == "date":
        return "2026-12-01"
    if "pattern" not in schema:
        return "x" * max(low, 1) if high >= 1 else ""
    return find(st.from_regex(schema["pattern"]),
                lambda s: low <= len(s) <= high and "\x00" not in s and s.isprintable(),
                settings=settings(database=None, max_examples=2000))


def minimal_number(schema: dict[str, Any]) -> int | float:
    value = schema.get("minimum", 0)
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + 1)
    return min(value, schema.get("maximum", value))


def minimal_instance(schema: dict[str, Any]) -> Any:
    """The smallest value the (resolved) schema accepts: required properties only, first non-null branch."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"] or schema["anyOf"]
        return minimal_instance(branches[0])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal_instance(properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return minimal_string(schema)
    if kind in ("integer", "number"):
        return minimal_number(schema)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    raise AssertionError(f"no minimal instance for {schema}")


def headers_for(op, warehouse, make_user, make_token, commit) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A fresh caller the operation lets through (an earlier body may have revoked or changed the last one)."""
    if op.roles or not op.purposes:
        user = make_user(roles=("admin", "supervisor", "receiver", "packer"), password=None, all_warehouses=True,
                         totp=True)
        raw = make_token("user", user=user)
    else:
        raw = make_token(sorted(op.purposes)[0], warehouse=warehouse)
    commit()
    return {"Authorization": f"Bearer {raw}", "Idempotency-Key": f"body-check-{id(raw)}"}


def call(client, op, body: Any, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    path = re.sub(r"<int:\w+>", "1", op.rule)
    path = re.sub(r"<(?:\w+:)?\w+>", "NO-SUCH", path)
    return client.open("/api/v1" + path, method=op.method, json=body, headers=headers)


def test_a_documented_body_passes_validation_and_each_required_field_is_required(  # type: ignore[no-untyped-def]
        app, client, session, make_warehouse, make_user, make_token, commit):
    warehouse = make_warehouse("WH-B")
    commit()
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    checked = 0
    for op in OPERATIONS:
        documented = document["paths"]["/api/v1" + openapi_path(op.rule)[0]][op.method.lower()]
        if "requestBody" not in documented:
            continue
        schema = resolve(documented["requestBody"]["content"]["application/json"]["schema"], components)
        body = minimal_instance(schema)
        resp = call(client, op, body, headers_for(op, warehouse, make_user, make_token, commit))
        problem = resp.get_json(silent=True) or {}
        assert resp.status_code not in (400, 415), (op.rule, resp.status_code, problem)
        assert problem.get("detail") != BODY_INVALID, (op.method, op.rule, body, problem.get("errors"))
        for name in schema.get("required", []):
            partial = {k: v for k, v in body.items() if k != name}
            resp = call(client, op, partial, headers_for(op, warehouse, make_user, make_token, commit))
            problem = resp.get_json()
            assert resp.status_code == 422 and problem["detail"] == BODY_INVALID, (op.rule, name, problem)
            assert name in {e["field"] for e in problem["errors"]}, (op.rule, name, problem["errors"])
        checked += 1
    assert checked == len([op for op in OPERATIONS if op.body is not None])


def test_no_handler_reads_a_body_the_operation_does_not_declare(app) -> None:  # type: ignore[no-untyped-def]
    """A body read past the decorator (request.get_json, .form, .files ...) would be validated by nothing documented."""
    import inspect

    reads = re.compile(r"\brequest\.(get_json|json|get_data|data|form|files|stream|values)\b")
    modules = {inspect.getmodule(view.__wrapped__) for _method, _path, view in api_routes(app)}
    assert len(modules) >= 10
    offenders = [m.__name__ for m in modules if m is not None and reads.search(inspect.getsource(m))]
    assert offenders == []
