"""The handheld's JSON calls under /hh/api: session cookie of the signed-in person, CSRF token in the X-CSRFToken
header (Flask-WTF checks it on every POST of this blueprint), and an Idempotency-Key on every mutating call,
applied once per person and key (``wms.idempotency``), so a scan queued offline and sent twice lands once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Response, g, jsonify, request
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel
from sqlalchemy import select, text

from wms import idempotency as idem
from wms.api.framework import parse_json_body, refuse_nul_characters, refuse_oversize_body
from wms.auth.models import User
from wms.auth.principal import SESSION_PRINCIPAL_SQL, current_principal, session_principal, session_user_key
from wms.catalog.models import Barcode, Product
from wms.db import db, utcnow
from wms.enums import Role
from wms.errors import AuthenticationRequired, DomainError, Forbidden, NotFound, ValidationFailed
from wms.idempotency import run_idempotent
from wms.idempotency_models import IdempotencyRecord
from wms.layout.models import Location, Zone
from wms.picking import quick
from wms.picking import replenish as rs
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.picking.quick import QuickConfirm
from wms.tasks.models import Task
from wms.waves.models import PickOrder, TimeSlot

from . import schemas as s

DEVICE_HEADER = "X-Device-Id"
PICKERS = (Role.PICKER,)
RECEIVERS = (Role.RECEIVER,)


def _json(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status = 200
    if isinstance(result, tuple):
        result, status = result
    resp = jsonify(result)
    resp.status_code = status
    return resp


def _user(roles: Iterable[Role]) -> User:
    principal = current_principal()
    if principal is None or not principal.via_session:
        raise AuthenticationRequired("Sign in on the handheld (badge and PIN) first.")
    wanted = set(roles)
    if wanted and not principal.roles & wanted:
        raise Forbidden("Your role does not allow this (needs one of: " + ", ".join(sorted(wanted)) + ").")
    user = db.session.get(User, principal.user_id)
    assert user is not None
    return user


def _context(user: User, scanned_at: Any = None) -> ScanContext:
    device = request.headers.get(DEVICE_HEADER, "").strip()[:64] or None
    key = request.headers.get("Idempotency-Key", "").strip() or None
    return ScanContext(user=user, device_id=device, idempotency_key=key, scanned_at=scanned_at)


_CLAIM_KEY_SQL = ("INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body, created_at) "
                  "VALUES (%(scope)s, %(key)s, %(hash)s, 0, '', %(now)s) ON CONFLICT (scope, key) DO NOTHING "
                  "RETURNING id")
_CLAIM_KEY = text(_CLAIM_KEY_SQL.replace("%(", ":").replace(")s", ""))  # the same, in SQLAlchemy's notation
_STORE_ANSWER = text("UPDATE idempotency_keys SET status_code = :status, response_body = :body WHERE id = :id")


def _idempotent(apply: Callable[[], Response]) -> Response:
    """``wms.idempotency.run_idempotent`` in two statements on PostgreSQL (every scan pays for it): the key row is
    inserted first with ON CONFLICT DO NOTHING, so a twin in flight makes us wait for its commit, then we answer
    as it was answered (same replay, same refusal of a key reused for another request); elsewhere the shared
    helper. The answer is stored in the same transaction as what it applied."""
    principal = current_principal()
    if principal is None or db.session.get_bind().dialect.name != "postgresql":
        return run_idempotent(principal, apply)
    key = idem.request_key()
    scope = principal.scope_key
    digest = idem._request_hash()
    record_id = db.session.execute(_CLAIM_KEY, {"scope": scope, "key": key, "hash": digest, "now": utcnow()}).scalar()
    if record_id is None:
        existing = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                                     IdempotencyRecord.key == key))
        assert existing is not None  # the conflicting row is committed: ON CONFLICT waited for its transaction
        return idem._replay(existing, digest)
    response = apply()
    db.session.execute(_STORE_ANSWER, {"id": record_id, "status": response.status_code,
                                       "body": response.get_data(as_text=True)})
    return response


def hh_api(rule: str, method: str, *, roles: Iterable[Role] = (), body: type[BaseModel] | None = None,
           fast: Callable[..., Response | None] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a handheld call; the view gets the signed-in user, path args and the parsed body. `fast`, given the
    path args, answers the call's most frequent case by itself or returns None (having changed nothing) for the
    view to decide."""
    from handheld import bp

    mutating = method.upper() != "GET"

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**path_args: Any) -> Response:
            g.error_rendered_as_json = True
            refuse_oversize_body()
            refuse_nul_characters(path_args)
            if fast is not None:
                answered = fast(**path_args)
                if answered is not None:
                    return answered
            user = _user(roles)
            kwargs: dict[str, Any] = dict(path_args)
            if body is not None:
                kwargs["body"] = parse_json_body(body)
            if mutating:
                return _idempotent(lambda: _json(view(user, **kwargs)))
            return _json(view(user, **kwargs))

        bp.add_url_rule("/api" + rule, endpoint="api_" + view.__name__, view_func=wrapper, methods=[method.upper()])
        return wrapper

    return decorator


# --- serialisation -------------------------------------------------------------------------------------------------


def _barcodes(product_ids: set[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if product_ids:
        for product_id, normalized in db.session.execute(select(Barcode.product_id, Barcode.normalized)
                                                         .where(Barcode.product_id.in_(product_ids))):
            out.setdefault(product_id, []).append(normalized)
    return out


def state_out(state: ps.PickState) -> dict[str, Any]:
    return {"step": state.step, "line_id": state.line.id if state.line else None,
            "done_lines": state.done_lines, "total_lines": state.total_lines}


def sheet(op: PickOrder) -> dict[str, Any]:
    """The whole OP as the device needs it to keep scanning offline."""
    closed = ps.closed_tasks(op)
    lines = list(op.lines)
    codes = _barcodes({ln.product_id for ln in lines})
    zone = db.session.get(Zone, op.zone_id)
    return {
        "op": {"id": op.id, "code": op.code, "zone": zone.code if zone else None, "status": op.status.value,
               "totes": list(op.totes or []), "slots": [slot_out(slot) for slot in ps.slot_times(op)],
               "drop_points": ps.drop_points(op.warehouse_id)},
        "lines": [{"id": ln.id, "seq": ln.seq, "location": ln.location.code, "sku": ln.product.sku,
                   "name": ln.product.name, "barcodes": codes.get(ln.product_id, []), "quantity": ln.quantity,
                   "picked": ln.picked_quantity, "tote": ln.tote, "closed": ps.line_closed(ln, closed)}
                  for ln in lines],
        "state": state_out(ps.pick_state(op)),
    }


def slot_out(slot: TimeSlot) -> dict[str, Any]:
    return {"label": slot.label, "starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat()}


def result_out(result: ps.ScanResult) -> dict[str, Any]:
    line = result.line
    return {"outcome": result.outcome.value, "message": result.message, "event_id": result.event.id,
            "state": state_out(result.state) if result.state else None,
            "line": {"id": line.id, "picked": line.picked_quantity} if line is not None else None}


def quick_out(quick: QuickConfirm) -> dict[str, Any]:
    """A confirm applied by the hot path, in the shape of ``result_out``."""
    return {"outcome": ps.ScanOutcome.APPLIED.value, "message": quick.message, "event_id": quick.event_id,
            "state": {"step": quick.step, "line_id": quick.current_line_id, "done_lines": quick.done_lines,
                      "total_lines": quick.total_lines},
            "line": {"id": quick.line_id, "picked": quick.picked}}


def task_out(task: Task) -> dict[str, Any]:
    lane = db.session.get(Location, task.location_id)
    source = db.session.get(Location, task.source_location_id) if task.source_location_id else None
    product = db.session.get(Product, task.product_id) if task.product_id else None
    return {"id": task.id, "kind": task.kind.value, "status": task.status.value, "quantity": task.quantity,
            "lane": lane.code if lane else None, "source": source.code if source else None,
            "sku": product.sku if product else None, "name": product.name if product else None,
            "step": rs.task_step(task), "mine": task.assignee_id is not None}


# --- calls ------------------------------------------------------------------------------------------------------------


@hh_api("/session", "GET")
def session_info(user: User) -> dict[str, Any]:
    """Who is signed in and a fresh CSRF token (a page loaded from the offline cache holds a stale one)."""
    return {"user": {"id": user.id, "name": user.display_name, "roles": sorted(r.value for r in user.roles)},
            "csrf_token": generate_csrf()}


@hh_api("/pick/zones", "GET", roles=PICKERS)
def pick_zones(user: User) -> dict[str, Any]:
    """Zones with OPs waiting, and my OP in progress."""
    current = ps.current_pick_order(user)
    return {"current": {"id": current.id, "code": current.code} if current else None,
            "zones": [{"id": z.id, "code": z.code, "name": z.name, "waiting": n} for z, n in ps.zones_with_work(user)]}


@hh_api("/pick/current", "GET", roles=PICKERS)
def pick_current(user: User) -> dict[str, Any]:
    """My OP in progress with every line, or null."""
    op = ps.current_pick_order(user)
    return {"sheet": sheet(op) if op else None}


@hh_api("/pick/take", "POST", roles=PICKERS, body=s.TakeIn)
def pick_take(user: User, body: s.TakeIn) -> Any:
    """Take the next OP of a zone (or get back the one I am on)."""
    zone = db.session.get(Zone, body.zone_id)
    if zone is None:
        raise NotFound(f"No zone {body.zone_id}.")
    op, event = ps.take_next_pick_order(user, zone, _context(user))
    return {"outcome": event.outcome.value, "message": event.message, "sheet": sheet(op) if op else None}


def _confirm_fast(op_id: int) -> Response | None:
    """A picker's confirm of units on the current line of their OP, on PostgreSQL, in four round trips: the
    BEGIN, then the person, the idempotency key, the OP's lines and the locks pipelined in one
    (``wms.picking.quick``), the writes with the stored answer in a third, the commit. The same checks as the full path, which takes every other case
    (another step, a replay, a refusal, no such OP, not signed in, ...) after this one rolled back what it did."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    who = session_user_key()
    key = request.headers.get(idem.HEADER, "").strip()
    if who is None or not key or len(key) > 200:
        return None
    try:
        body = cast(s.PickScanIn, parse_json_body(s.PickScanIn))
    except DomainError:
        return None  # the full path refuses it, after checking who is asking
    if body.step != "quantity" or body.quantity is None or body.quantity < 1:
        return None
    user_id, version, session_hash = who
    digest = idem._request_hash()
    conn = db.driver_connection()
    with conn.pipeline():
        person = conn.execute(SESSION_PRINCIPAL_SQL, {"user": user_id, "session": session_hash, "now": utcnow()})
        claim = conn.execute(_CLAIM_KEY_SQL, {"scope": f"user:{user_id}", "key": key, "hash": digest,
                                              "now": utcnow()})
        queued = quick.queue(conn, op_id)
    principal = session_principal(user_id, version, person.fetchone())
    claimed = claim.fetchone()
    plan = None
    if principal is not None and principal.roles & set(PICKERS) and claimed is not None:
        plan = quick.plan(queued, op_id, user_id, principal.warehouse_ids, body.quantity, line_id=body.line_id)
    if plan is None:
        db.session.rollback()  # the key row and the locks: the full path starts afresh
        return None
    response = _json(quick_out(plan.result))
    quick.apply(conn, plan, user_id=user_id, device_id=request.headers.get(DEVICE_HEADER, "").strip()[:64] or None,
                idempotency_key=key, scanned_at=body.scanned_at,
                answer=(claimed[0], response.status_code, response.get_data(as_text=True)))
    return response


@hh_api("/pick/<int:op_id>/scan", "POST", roles=PICKERS, body=s.PickScanIn, fast=_confirm_fast)
def pick_scan(user: User, op_id: int, body: s.PickScanIn) -> Any:
    """One scan of the pick flow: location, item, tote, quantity, or the sas drop point."""
    ctx = _context(user, body.scanned_at)
    if body.step == "quantity":
        if body.quantity is None:
            raise ValidationFailed("A quantity step carries `quantity`.",
                                   errors=[{"field": "quantity", "message": "required"}])
        return result_out(ps.confirm_quantity(ps.lock_pick_order(op_id, user), body.quantity, ctx,
                                              line_id=body.line_id))
    op = ps.lock_pick_order(op_id, user)
    if body.code is None:
        raise ValidationFailed("A scan carries the scanned `code`.", errors=[{"field": "code", "message": "required"}])
    if body.step == "drop":
        return result_out(ps.drop_at_sas(op, body.code, ctx))
    return result_out(ps.STEP_FUNCTIONS[body.step](op, body.code, ctx, line_id=body.line_id))


@hh_api("/pick/<int:op_id>/exception", "POST", roles=PICKERS, body=s.PickExceptionIn)
def pick_exception(user: User, op_id: int, body: s.PickExceptionIn) -> Any:
    """Short pick, empty lane, damaged, wrong item in the lane."""
    op = ps.lock_pick_order(op_id, user)
    result = ps.report_exception(op, body.kind, _context(user, body.scanned_at), quantity=body.quantity,
                                 code=body.code, note=body.note, line_id=body.line_id)
    return result_out(result)


@hh_api("/tasks", "GET", roles=RECEIVERS)
def replenish_tasks(user: User) -> dict[str, Any]:
    """My replenishment tasks, then open ones."""
    return {"tasks": [task_out(t) for t in rs.my_tasks(user)]}


@hh_api("/tasks/<int:task_id>/scan", "POST", roles=RECEIVERS, body=s.TaskScanIn)
def replenish_scan(user: User, task_id: int, body: s.TaskScanIn) -> Any:
    """One scan of the replenishment flow: reserve location, lane (replenish face), quantity."""
    task = rs.lock_task(task_id, user)
    if body.step == "quantity" and body.quantity is None:
        raise ValidationFailed("A quantity step carries `quantity`.", errors=[{"field": "quantity", "message": "required"}])
    if body.step != "quantity" and body.code is None:
        raise ValidationFailed("A scan carries the scanned `code`.", errors=[{"field": "code", "message": "required"}])
    result = rs.scan_task(task, body.step, _context(user, body.scanned_at), code=body.code, quantity=body.quantity)
    return {"outcome": result.outcome.value, "message": result.message, "event_id": result.event.id,
            "step": result.step, "task": task_out(task)}
