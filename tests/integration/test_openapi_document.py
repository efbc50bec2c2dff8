"""The served OpenAPI document is valid OpenAPI 3.1 and lists every declared operation."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import wms.api.routes  # noqa: F401
from wms.api.framework import OPERATIONS


def test_served_document_is_valid_openapi(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    document = resp.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_served_document_lists_every_operation(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    declared = {(op.method, "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.rule)) for op in OPERATIONS}
    assert served == declared
    ids = [item["operationId"] for path in document["paths"].values() for item in path.values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)


def test_every_operation_documents_its_problems(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, op in item.items():
            problems = {code: r for code, r in op["responses"].items() if int(code) >= 400}
            assert "400" in problems, f"{method} {path}"
            for response in problems.values():
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}
            if "security" not in op:
                assert {"401", "403"} <= set(problems), f"{method} {path}"
            if "requestBody" in op:
                assert {"413", "415", "422"} <= set(problems), f"{method} {path}"


def test_validator_rejects_a_broken_document(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    first_path = next(iter(document["paths"].values()))
    next(iter(first_path.values()))["responses"] = "not a mapping"
    with pytest.raises(OpenAPIValidationError):
        validate(document)
