"""Stock levels, below-minimum alerts, replenishment tasks and purchase suggestions over the JSON API."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Role
from wms.errors import Forbidden, NotFound, ValidationFailed
from wms.layout.models import Location, Warehouse
from wms.replenishment import schemas as s
from wms.replenishment import services
from wms.stock import levels_services as levels
from wms.tasks.models import Task

READERS = ("supervisor", "receiver")


def level_out(warehouse: Warehouse, level, product: Product, lane: Location | None) -> s.LevelOut:  # type: ignore[no-untyped-def]
    return s.LevelOut(sku=product.sku, product_name=product.name, warehouse=warehouse.code,
                      lane=lane.code if lane else None, min_qty=level.min_qty, max_qty=level.max_qty)


def alert_out(alert: levels.Alert) -> s.AlertOut:
    a = alert.action
    return s.AlertOut(sku=alert.sku, product_name=alert.product_name, scope=alert.scope,  # type: ignore[arg-type]
                      lane=alert.lane, zone=alert.zone, on_hand=alert.on_hand, reserved=alert.reserved,
                      available=alert.available, backordered=alert.backordered, underway=alert.underway,
                      min_qty=alert.min_qty, max_qty=alert.max_qty, capacity=alert.capacity,
                      action=s.ActionOut(kind=a.kind, quantity=a.quantity, source=a.source, short=a.short))  # type: ignore[arg-type]


def task_out(task: Task) -> s.TaskOut:
    product = db.session.get(Product, task.product_id) if task.product_id else None
    lane = db.session.get(Location, task.location_id)
    source = db.session.get(Location, task.source_location_id) if task.source_location_id else None
    assignee = db.session.get(User, task.assignee_id) if task.assignee_id else None
    return s.TaskOut(id=task.id, status=task.status.value, sku=product.sku if product else None,
                     lane=lane.code if lane else str(task.location_id), source=source.code if source else None,
                     quantity=task.quantity, done_quantity=task.done_quantity,
                     assignee=assignee.username if assignee else None, note=task.note,
                     created_at=task.created_at, finished_at=task.finished_at)


@operation("/warehouses/<code>/stock-levels", "GET", summary="Minimum / maximum stock levels of a warehouse",
           tags=["stock levels"], query=s.LevelQuery, response=list[s.LevelOut], roles=READERS)
def list_stock_levels(code: str, query: s.LevelQuery) -> list[s.LevelOut]:
    """Warehouse-wide levels (`lane` null) and pick-lane levels, by SKU; filter by `sku` and `lane`."""
    warehouse = _warehouse(code)
    return [level_out(warehouse, level, product, lane)
            for level, product, lane in levels.list_levels(warehouse, sku=query.sku, lane_code=query.lane)]


@operation("/warehouses/<code>/stock-levels", "PUT", summary="Set the minimum / maximum of a product",
           tags=["stock levels"], body=s.LevelIn, response=s.LevelOut, roles=("supervisor",), also=(201,))
def put_stock_level(code: str, body: s.LevelIn):  # type: ignore[no-untyped-def]
    """Warehouse-wide without `lane`, or for one pick lane. Creates (201) or replaces (200) the level.
    Refused (422) unless 0 ≤ min_qty ≤ max_qty and max_qty > 0, or when `lane` is not a pick lane."""
    warehouse = _warehouse(code)
    level, created = levels.set_level(warehouse, body.sku, min_qty=body.min_qty, max_qty=body.max_qty,
                                      lane_code=body.lane)
    lane = db.session.get(Location, level.location_id) if level.location_id else None
    return level_out(warehouse, level, db.session.get(Product, level.product_id), lane), 201 if created else 200


@operation("/warehouses/<code>/stock-levels", "DELETE", summary="Remove the level of a product",
           tags=["stock levels"], query=s.LevelKey, status=204, roles=("supervisor",))
def delete_stock_level(code: str, query: s.LevelKey):  # type: ignore[no-untyped-def]
    """`sku` and, for a lane level, `lane`; 404 when there is no such level."""
    levels.remove_level(_warehouse(code), query.sku, query.lane)
    return None, 204


@operation("/warehouses/<code>/alerts/below-minimum", "GET", summary="Levels under their minimum",
           tags=["stock levels"], response=list[s.AlertOut], roles=READERS)
def below_minimum_alerts(code: str) -> list[s.AlertOut]:
    """Each level under its minimum with on hand, reserved, available, replenishment underway and what to do:
    `replenish` from a reserve location, `buy`, wait (`underway`) or `full` (no space left in the lane)."""
    return [alert_out(a) for a in levels.below_minimum(_warehouse(code))]


@operation("/warehouses/<code>/replenishment/plan", "POST", summary="Create replenishment tasks",
           tags=["replenishment"], response=s.PlanOut, roles=("supervisor",), idempotent=True)
def plan_replenishment(code: str) -> s.PlanOut:
    """One task per pick lane under its minimum, up to its maximum (within lane capacity), from the reserve
    location with the most free units. Lanes with an open replenishment task are skipped, so a second plan
    adds nothing."""
    warehouse = _warehouse(code)
    result = services.plan_replenishment(warehouse)
    return s.PlanOut(warehouse=warehouse.code, created=[task_out(t) for t in result.created],
                     skipped=[s.SkippedOut(sku=k.sku, lane=k.lane, reason=k.reason) for k in result.skipped])


@operation("/warehouses/<code>/replenishment/tasks", "GET", summary="Replenishment tasks of a warehouse",
           tags=["replenishment"], query=s.TasksQuery, response=list[s.TaskOut], roles=READERS)
def list_replenishment_tasks(code: str, query: s.TasksQuery) -> list[s.TaskOut]:
    """`status`: open (default: open or assigned), done, or all; newest first."""
    warehouse = _warehouse(code)
    return [task_out(t) for t in services.list_tasks(warehouse, status=query.status, limit=query.limit)]


def _doer(body: s.CompleteIn) -> User:
    p = _principal()
    caller = db.session.get(User, p.user_id) if p.user_id else None
    if caller is None:
        raise Forbidden("Only people complete replenishment tasks.")
    if body.done_by is None or body.done_by == caller.username:
        return caller
    if not p.has_any_role(("supervisor",)):
        raise Forbidden("Only a supervisor records a task done by someone else.")
    doer = db.session.scalar(select(User).where(User.username == body.done_by))
    if doer is None or not doer.active:
        raise ValidationFailed(f"No active person {body.done_by!r}.",
                               errors=[{"field": "done_by", "message": "unknown username"}])
    return doer


@operation("/replenishment/tasks/<int:task_id>/complete", "POST", summary="Complete a replenishment task",
           tags=["replenishment"], body=s.CompleteIn, response=s.TaskOut, roles=("receiver", "supervisor"),
           idempotent=True)
def complete_replenishment_task(task_id: int, body: s.CompleteIn) -> s.TaskOut:
    """Moves `quantity` units from the reserve location to the lane (two transfer rows in the ledger) and closes
    the task; fewer units than asked is a short, recorded on the task. The person who did it must be a receiver:
    a receiver calls for themself, a supervisor names them in `done_by`. 409 when the task is already done or
    the reserve has fewer free units."""
    task = db.session.get(Task, task_id)
    if task is None or task.kind.value != "replenish":
        raise NotFound(f"No replenishment task {task_id}.")
    _principal().require_warehouse(task.warehouse_id)
    doer = _doer(body)
    if Role.RECEIVER not in doer.roles and body.done_by is None:
        raise Forbidden(f"{doer.display_name} is not a receiver; name the receiver who did it in `done_by`.")
    if doer.warehouse_ids is not None and task.warehouse_id not in doer.warehouse_ids:
        raise Forbidden(f"{doer.display_name} does not work in this warehouse.")
    done = services.complete_replenishment(task, doer, body.quantity, note=body.note,
                                           idempotency_key=request.headers.get("Idempotency-Key"))
    return task_out(done)


@operation("/warehouses/<code>/purchase-suggestions", "GET", summary="What to buy",
           tags=["replenishment"], response=list[s.SuggestionOut], roles=("supervisor",))
def purchase_suggestions(code: str) -> list[s.SuggestionOut]:
    """Products whose warehouse-wide level is under its minimum, counting every unit of the warehouse except
    quarantine, minus reserved, minus what open orders wait for; quantity = max − (on_hand − reserved) +
    backordered."""
    return [s.SuggestionOut(sku=x.sku, product_name=x.product_name, on_hand=x.on_hand, reserved=x.reserved,
                            available=x.available, backordered=x.backordered, min_qty=x.min_qty,
                            max_qty=x.max_qty, quantity=x.quantity, reason=x.reason)
            for x in services.purchase_suggestions(_warehouse(code))]
