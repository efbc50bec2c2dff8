"""Build the OpenAPI 3.1 document from the declared operations and their pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from wms.api.framework import MUTATING, OPERATIONS, Operation, api_base_path, openapi_path

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

ERROR_TEXT = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed (role, purpose or warehouse scope)",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Idempotency-Key header required",
    429: "Too many attempts",
}


REF_TEMPLATE = "#/components/schemas/{model}"


class _Schemas:
    """Every schema of the document generated in one pass, so no two different models share a component name.

    Models are named by their class name; two different models with one class name (``ReceiveIn`` of receipts and
    of returns) get module-qualified names instead of overwriting each other, which once documented the receipts'
    body with the returns' schema.
    """

    def __init__(self, operations: list[Operation]) -> None:
        inputs: dict[int, TypeAdapter[Any]] = {}
        for op in operations:
            for model in (op.body, op.query, op.response):
                if model is not None and id(model) not in inputs:
                    inputs[id(model)] = TypeAdapter(model)
        generated, definitions = TypeAdapter.json_schemas(
            [(key, "validation", adapter) for key, adapter in inputs.items()], ref_template=REF_TEMPLATE)
        self._schemas = {key: schema for (key, _mode), schema in generated.items()}
        self.components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, **definitions.get("$defs", {})}

    def ref(self, model: Any) -> dict[str, Any]:
        """The schema of `model`: a `$ref` into the components for a model class, inline for other types."""
        return self._schemas[id(model)]

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        """The properties and required names of a model class (for query parameters)."""
        name = self.ref(model)["$ref"].removeprefix(REF_TEMPLATE.format(model=""))
        schema = self.components[name]
        return schema.get("properties", {}), set(schema.get("required", []))


def _problem_responses(op: Operation) -> dict[str, Any]:
    codes = {400, 413, 415} if op.body else {400}
    if op.query or op.body:
        codes.add(422)
    if not op.public:
        codes |= {401, 403}
    # Path parameters and bodies name things (a SKU, a warehouse, a location) that may not exist.
    if "{" in openapi_path(op.rule)[0] or op.body:
        codes.add(404)
    # The commit boundary turns any database constraint refusal of a write into a 409.
    if op.method in MUTATING:
        codes.add(409)
    if op.idempotent:
        codes |= {409, 428}
    codes |= set(op.errors)
    return {
        str(c): {
            "description": ERROR_TEXT.get(c, "Error"),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for c in sorted(codes)
    }


def _query_parameters(model: type[BaseModel], schemas: _Schemas) -> list[dict[str, Any]]:
    properties, required = schemas.properties(model)
    params = []
    for name, prop in properties.items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("type") == "array":
            param["style"] = "form"
            param["explode"] = True
        params.append(param)
    return params


def build_document(server_url: str = "") -> dict[str, Any]:
    """The whole OpenAPI document, regenerated from the code (so it cannot drift from it)."""
    schemas = _Schemas(OPERATIONS)
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path, params = openapi_path(op.rule)
        item: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": op.tags,
            "parameters": list(params),
        }
        if op.description:
            item["description"] = op.description
        if op.query is not None:
            item["parameters"] += _query_parameters(op.query, schemas)
        if op.idempotent:
            item["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "Applied once per caller and key; a replay returns the stored response.",
            })
        if op.raw_body:
            item["x-raw-body"] = True  # the platform's own payload, read unparsed (see the description)
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas.ref(op.body)}}}
        ok: dict[str, Any] = {"description": "Success"}
        if op.status != 204 and op.response is not None:
            ok["content"] = {"application/json": {"schema": schemas.ref(op.response)}}
        item["responses"] = {str(op.status): ok, **{str(c): ok for c in op.also}, **_problem_responses(op)}
        if op.public:
            item["security"] = []
        else:
            access = []
            if op.roles:
                access.append("roles: " + ", ".join(sorted(op.roles)))
            if op.purposes:
                access.append("machine tokens: " + ", ".join(sorted(op.purposes)))
            item["x-access"] = "; ".join(access) or "any signed-in user"
        paths.setdefault(api_base_path() + path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rack-zone WMS API",
            "version": "1",
            "description": "Errors are RFC 9457 problem documents. Mutating calls from handhelds and channels "
            "carry an Idempotency-Key header.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "wms_<prefix>_<secret> API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "wms_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }
