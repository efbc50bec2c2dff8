"""Domain exceptions and the one place they become problem documents (RFC 9457) or error pages."""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "/problems/"
# Every 503 says when to come back: the database was busy, a carrier or renderer away; one second is enough
# for the first (the server already ran a broken-off transaction again itself, wms.retry).
RETRY_AFTER_S = 1


class DomainError(Exception):
    """A business rule said no. Subclasses name the rule; `slug` becomes the problem type."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request breaks a rule"
    registry: ClassVar[dict[str, type[DomainError]]] = {}

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DomainError.registry[cls.slug] = cls

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    """The request body, query or file did not validate; `errors` names each field."""

    status = 422
    slug = "validation-failed"
    title = "The input is not valid"


class MalformedRequest(DomainError):
    """The body could not be parsed (not JSON, broken CSV, ...)."""

    status = 400
    slug = "malformed-request"
    title = "The request could not be read"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class AuthenticationRequired(DomainError):
    status = 401
    slug = "authentication-required"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class WarehouseForbidden(Forbidden):
    """The caller's token or account is scoped to other warehouses."""

    slug = "warehouse-forbidden"
    title = "This warehouse is outside your scope"


class SecondFactorRequired(Forbidden):
    slug = "second-factor-required"
    title = "A second factor is required"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class DuplicateBarcode(Conflict):
    slug = "duplicate-barcode"
    title = "This barcode already belongs to a product"


class InvalidBarcode(ValidationFailed):
    slug = "invalid-barcode"
    title = "This barcode is not valid"


class LaneOnWrongFace(Conflict):
    """Pickers work only from the pick aisle, receivers only from the replenish aisle."""

    slug = "lane-on-wrong-face"
    title = "This lane is not reached from that face by that role"


class SlotClash(Conflict):
    """A time slot would overlap another on the same resource (aisle, dock door, pack station, sas)."""

    slug = "slot-clash"
    title = "The resource is already booked for part of that time"


class NoPrinter(Conflict):
    """No printer is routed to, or stands at, the place a document must print."""

    slug = "no-printer"
    title = "No printer for this document at this place"


class TooManyAttempts(DomainError):
    status = 429
    slug = "too-many-attempts"
    title = "Too many attempts"


class IdempotencyKeyReused(Conflict):
    """The same idempotency key came back with a different request body."""

    slug = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"


class IdempotencyKeyRequired(DomainError):
    status = 428
    slug = "idempotency-key-required"
    title = "An Idempotency-Key header is required"


# Database constraint names -> the domain error that explains them. The database is the guarantee;
# this table turns its refusal into the same clear message the service would have given.
CONSTRAINT_ERRORS: dict[str, tuple[type[DomainError], str]] = {}


def explain_constraint(name: str, error: type[DomainError], detail: str) -> None:
    """Register the domain error reported when the database refuses a write through constraint `name`."""
    CONSTRAINT_ERRORS[name] = (error, detail)


explain_constraint(
    "uq_tasks_open_replenish", Conflict,
    "A replenishment task for this lane and product is already open; finish or cancel it first.",
)
explain_constraint(
    "ex_time_slots_no_overlap", SlotClash, "The resource is already booked for part of that time (the database refused it)."
)


# PostgreSQL names the constraint; SQLite says "CHECK/UNIQUE constraint failed: x", and our SQLite triggers
# RAISE(ABORT, '<constraint name>: <message>').
_CONSTRAINT_RE = re.compile(
    r'constraint "([^"]+)"|CHECK constraint failed: (\w+)|UNIQUE constraint failed: ([\w.]+)|^(\w+): '
)


def constraint_name(exc: Exception) -> str | None:
    """Best-effort name of the constraint behind an IntegrityError, on PostgreSQL and SQLite."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    m = _CONSTRAINT_RE.search(str(orig or exc))
    if not m:
        return None
    return m.group(1) or m.group(2) or m.group(3) or m.group(4)


def from_integrity_error(exc: IntegrityError) -> DomainError:
    """Translate a database refusal into a domain error (409 unless registered otherwise)."""
    name = constraint_name(exc) or ""
    for key, (cls, detail) in CONSTRAINT_ERRORS.items():
        if key == name or key in name:
            return cls(detail, constraint=key)
    trigger_msg = str(getattr(exc, "orig", exc)).splitlines()[0]
    return Conflict(f"The database refused the change ({name or trigger_msg}).", constraint=name or None)


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.blueprint in {"api", "handheld_api"}:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in {"application/json", "application/problem+json"}


def problem_response(body: dict[str, Any]) -> Response:
    resp = jsonify(body)
    resp.status_code = body["status"]
    resp.mimetype = "application/problem+json"
    return resp


def render_error(err: DomainError) -> Response | tuple[str, int]:
    if getattr(g, "error_rendered_as_json", False) or wants_json():
        return problem_response(err.to_problem())
    return render_template("errors/error.html", error=err), err.status


def _http_to_domain(e: HTTPException) -> DomainError:
    code = e.code or 500
    slug = {
        400: "malformed-request",
        401: "authentication-required",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
        429: "too-many-attempts",
    }.get(code, f"http-{code}")
    detail = e.description or e.name
    if code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = f"The request body is larger than the limit of {limit} bytes."
    err = DomainError(detail)
    err.status = code  # type: ignore[misc]
    err.slug = slug  # type: ignore[misc]
    err.title = e.name  # type: ignore[misc]
    return err


def register_error_handlers(app: Flask) -> None:
    from wms import retry

    retry.install(app)  # a deadlock or serialization failure runs the request again before it becomes a 503

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 503:
            response.headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        return response

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):  # type: ignore[no-untyped-def]
        return render_error(err)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):  # type: ignore[no-untyped-def]
        return render_error(from_integrity_error(exc))

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError):  # type: ignore[no-untyped-def]
        err = Forbidden(f"The form's security token is missing or expired ({e.description}). Reload the page.")
        err.slug = "csrf-failed"  # type: ignore[misc]
        return render_error(err)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):  # type: ignore[no-untyped-def]
        if e.code and e.code < 400:
            return e
        resp = render_error(_http_to_domain(e))
        if e.code == 405 and isinstance(resp, Response) and e.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(e.valid_methods)  # type: ignore[attr-defined]
        return resp

    @app.errorhandler(OperationalError)
    def _operational(exc: OperationalError):  # type: ignore[no-untyped-def]
        log.exception("database unavailable or busy")
        err = DomainError("The database is busy or unavailable; nothing was changed. Try again.")
        err.status = 503  # type: ignore[misc]
        err.slug = "service-unavailable"  # type: ignore[misc]
        err.title = "Service unavailable"  # type: ignore[misc]
        return render_error(err)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = DomainError("An unexpected error occurred; nothing was changed. It has been logged.")
        err.status = 500  # type: ignore[misc]
        err.slug = "internal-error"  # type: ignore[misc]
        err.title = "Internal error"  # type: ignore[misc]
        return render_error(err)


explain_constraint("ck_tasks_role_matches_face", LaneOnWrongFace,
                   "Pickers work only from the pick face and receivers only from the replenish face.")
explain_constraint("fk_tasks_location_id_face_aisle_id_location_faces", LaneOnWrongFace,
                   "The lane is not reached from that face through that aisle.")
explain_constraint("fk_tasks_assignee_id_assignee_role_user_roles", LaneOnWrongFace,
                   "The assignee does not hold the role this face requires.")
explain_constraint("ck_tasks_face_matches_kind", LaneOnWrongFace,
                   "Pick work is done from the pick face; put-away and replenishment from the replenish face.")
explain_constraint("uq_barcodes_normalized", DuplicateBarcode, "This barcode already belongs to a product.")
explain_constraint("barcodes.normalized", DuplicateBarcode, "This barcode already belongs to a product.")
