"""Operation decorator: authentication, roles, body/query validation, idempotency, response shaping."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from wms.auth.principal import Principal, current_principal
from wms.errors import (
    AuthenticationRequired,
    Forbidden,
    MalformedRequest,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from wms.layout.models import Warehouse
from wms.layout.services import get_warehouse

api = Blueprint("api", __name__, url_prefix="/api/v1")

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_ID = 2**31 - 1  # PostgreSQL integer primary keys


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tags: list[str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    roles: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    public: bool = False
    idempotent: bool = False
    description: str = ""
    errors: tuple[int, ...] = ()
    also: tuple[int, ...] = ()  # other success statuses answered with the same schema (e.g. 200 on replay)
    extra: dict[str, Any] = field(default_factory=dict)
    # The view gets the body as sent (`raw: RawBody`), unparsed: a signed payload is verified on its exact bytes.
    raw_body: bool = False
    # Runs with the parsed arguments before the (idempotent) apply, e.g. a long-poll wait that must not hold
    # the transaction in which the idempotency key row is written.
    prepare: Callable[..., None] | None = None


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class RawBody:
    """A request body exactly as sent, with its headers (webhooks whose signature covers the raw bytes)."""

    data: bytes
    headers: dict[str, str]
    content_type: str | None


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic errors as [{field, message}] with dotted field paths."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        out.append({"field": prefix + loc, "message": err["msg"]})
    return out


def parse_json_body(model: type[BaseModel]) -> BaseModel:
    """Read and validate the JSON body strictly: unknown fields and wrong types are refused."""
    if not request.mimetype or not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        parsed = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedRequest("The body is nested too deeply to be read.") from None
    refuse_nul_characters(parsed)
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ValidationFailed("The request body is not valid.", errors=field_errors(exc)) from None


def _nul_fields(value: Any, path: str) -> Iterable[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "(body)"
    elif isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield sub
            else:
                yield from _nul_fields(item, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_fields(item, f"{path}.{i}" if path else str(i))


def refuse_nul_characters(value: Any, prefix: str = "") -> None:
    """NUL cannot be stored in a PostgreSQL text column: refuse it as bad input rather than fail on write."""
    fields = list(_nul_fields(value, prefix))
    if fields:
        raise ValidationFailed(
            "Text may not contain the NUL character (\\u0000).",
            errors=[{"field": f, "message": "contains a NUL character"} for f in fields],
        )


def caller() -> Principal:
    """The caller of an operation; ``operation`` has already refused an unauthenticated one."""
    principal = current_principal()
    assert principal is not None  # the operation decorator authenticated the call
    return principal


def warehouse_in_scope(code: str) -> Warehouse:
    """The warehouse `code`, refused (403) when it is outside the caller's scope and 404 when unknown."""
    warehouse = get_warehouse(code)
    caller().require_warehouse(warehouse.id, warehouse.code)
    return warehouse


def refuse_out_of_range_ids(path_args: dict[str, Any]) -> None:
    """An integer id beyond the database's integer range names no row: say so before the database overflows."""
    for name, value in path_args.items():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFound(f"No resource has {name} {value}.")


def refuse_oversize_body() -> None:
    """Refuse a body over MAX_CONTENT_LENGTH on every operation, also those that never read a body."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string; unknown parameters are refused like unknown body fields."""
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        info = model.model_fields.get(key)
        is_list = info is not None and getattr(info.annotation, "__origin__", None) is list
        data[key] = values if is_list or len(values) > 1 else values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The query parameters are not valid.", errors=field_errors(exc)) from None


def authorize(op: Operation, principal: Principal | None) -> None:
    if op.public:
        return
    if principal is None:
        raise AuthenticationRequired("Send a bearer token or sign in first.")
    if principal.is_machine:
        if principal.purpose not in op.purposes:
            raise Forbidden(f"A {principal.purpose} token cannot call this operation.")
        return
    if op.roles and not principal.has_any_role(op.roles):
        raise Forbidden("Your role does not allow this operation (needs one of: " + ", ".join(sorted(op.roles)) + ").")
    principal.require_second_factor_if_needed()


def _shape(op: Operation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    if status == 204:
        return Response(status=204)
    if op.response is not None and not isinstance(result, BaseModel):
        from pydantic import TypeAdapter

        result = TypeAdapter(op.response).validate_python(result, from_attributes=True)
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json")
    elif isinstance(result, list) and result and isinstance(result[0], BaseModel):
        payload = [r.model_dump(mode="json") for r in result]
    else:
        payload = result
    resp = jsonify(payload)
    resp.status_code = status
    return resp


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    tags: Iterable[str],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    roles: Iterable[str] = (),
    purposes: Iterable[str] = (),
    public: bool = False,
    idempotent: bool = False,
    errors: Iterable[int] = (),
    also: Iterable[int] = (),
    prepare: Callable[..., None] | None = None,
    raw_body: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API operation; the view receives path args plus `body`/`query` models when declared."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            rule=rule,
            method=method.upper(),
            endpoint=view.__name__,
            summary=summary,
            tags=list(tags),
            body=body,
            query=query,
            response=response,
            status=status,
            roles=frozenset(roles),
            purposes=frozenset(purposes),
            public=public,
            idempotent=idempotent,
            description=(view.__doc__ or "").strip(),
            errors=tuple(errors),
            also=tuple(also),
            prepare=prepare,
            raw_body=raw_body,
        )

        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Response:
            g.error_rendered_as_json = True
            refuse_oversize_body()
            refuse_nul_characters(path_args)
            refuse_out_of_range_ids(path_args)
            refuse_nul_characters({k: request.args.getlist(k) for k in request.args})
            principal = current_principal()
            authorize(op, principal)
            kwargs: dict[str, Any] = dict(path_args)
            if op.query is not None:
                kwargs["query"] = parse_query(op.query)
            elif request.args and op.method == "GET":
                unknown = ", ".join(sorted(request.args))
                raise ValidationFailed(
                    "This operation takes no query parameters.",
                    errors=[{"field": k, "message": "unknown parameter"} for k in request.args],
                    unknown=unknown,
                )
            if op.body is not None:
                kwargs["body"] = parse_json_body(op.body)
            elif op.raw_body:
                kwargs["raw"] = RawBody(request.get_data(cache=True), dict(request.headers.items()),
                                        request.content_type)
            if op.prepare is not None:
                op.prepare(**kwargs)
            if op.idempotent:
                from wms.idempotency import run_idempotent

                return run_idempotent(principal, lambda: _shape(op, view(**kwargs)))
            return _shape(op, view(**kwargs))

        OPERATIONS.append(op)
        api.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[op.method])
        return wrapper

    return decorator


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Flask rule -> OpenAPI path template and its path parameters."""
    params = []
    for conv, name in _CONVERTER.findall(rule):
        schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if conv == "int" else {"type": "string", "minLength": 1}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(r"{\2}", rule), params


def api_base_path() -> str:
    return api.url_prefix or ""


def config_value(name: str, default: Any = None) -> Any:
    return current_app.config.get(name, default)
