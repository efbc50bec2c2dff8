"""Plan replenishment tasks for lanes under their minimum, complete them with the ledger, suggest purchases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import Role, StockReason, TaskKind, TaskStatus
from wms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from wms.layout.models import Location, Warehouse
from wms.stock import levels_services as levels
from wms.stock import operations as ops
from wms.stock.availability import lock_stock
from wms.stock.errors import InsufficientStock
from wms.stock.models import Quant
from wms.tasks.models import Task
from wms.tasks.services import assign_task, create_task


class TaskNotOpen(Conflict):
    """A replenishment task is completed once; a done or cancelled task cannot be done again."""

    slug = "task-not-open"
    title = "The task is no longer open"


@dataclass(frozen=True)
class Skipped:
    sku: str
    lane: str
    reason: str


@dataclass(frozen=True)
class PlanResult:
    created: list[Task]
    skipped: list[Skipped]


@dataclass(frozen=True)
class PurchaseSuggestion:
    product_id: int
    sku: str
    product_name: str
    on_hand: int
    reserved: int
    backordered: int
    min_qty: int
    max_qty: int
    quantity: int
    reason: str

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _lock_warehouse(warehouse: Warehouse) -> None:
    # FOR NO KEY UPDATE: two planners of one warehouse wait for each other (no task is created twice), while
    # inserts that merely reference the warehouse (orders, tasks) are not blocked.
    db.session.execute(select(Warehouse.id).where(Warehouse.id == warehouse.id).with_for_update(key_share=True))


def plan_replenishment(warehouse: Warehouse) -> PlanResult:
    """Open one replenish task per lane under its minimum, from the reserve location with the most free units."""
    _lock_warehouse(warehouse)
    alerts = [a for a in levels.below_minimum(warehouse) if a.lane_id is not None]
    sources = levels.reserve_sources(warehouse, {a.product_id for a in alerts})
    taken: dict[tuple[int, int], int] = {}
    created, skipped = [], []
    for alert in sorted(alerts, key=lambda a: (a.sku, a.lane or "")):
        assert alert.lane_id is not None and alert.lane is not None
        if alert.underway:
            skipped.append(Skipped(alert.sku, alert.lane, "a replenishment task is already open for this lane"))
            continue
        if alert.need <= 0:
            skipped.append(Skipped(alert.sku, alert.lane, "the lane has no free space left"))
            continue
        left = [levels.ReserveSource(s.location_id, s.location_code, s.free - taken.get((alert.product_id,
                                                                                            s.location_id), 0))
                for s in sources.get(alert.product_id, [])]
        source = levels.choose_source(left)
        if source is None:
            skipped.append(Skipped(alert.sku, alert.lane, f"no reserve stock; buy {alert.need}"))
            continue
        quantity = min(alert.need, source.free)
        lane = db.session.get(Location, alert.lane_id)
        assert lane is not None
        task = create_task(lane, TaskKind.REPLENISH, product_id=alert.product_id, quantity=quantity)
        task.source_location_id = source.location_id
        key = (alert.product_id, source.location_id)
        taken[key] = taken.get(key, 0) + quantity
        created.append(task)
    db.session.flush()
    return PlanResult(created, skipped)


def list_tasks(warehouse: Warehouse, *, status: str = "open", limit: int = 200) -> list[Task]:
    """Replenishment tasks of a warehouse: open (open or assigned), done, or all; newest first."""
    stmt = select(Task).where(Task.warehouse_id == warehouse.id, Task.kind == TaskKind.REPLENISH)
    if status == "open":
        stmt = stmt.where(Task.status.in_(levels.OPEN_TASK_STATUSES))
    elif status == "done":
        stmt = stmt.where(Task.status == TaskStatus.DONE)
    return list(db.session.scalars(stmt.order_by(Task.id.desc()).limit(limit)))


def get_task(task_id: int) -> Task:
    """A replenishment task by id, or NotFound."""
    task = db.session.get(Task, task_id)
    if task is None or task.kind != TaskKind.REPLENISH:
        raise NotFound(f"No replenishment task {task_id}.")
    return task


def _check_quantity(task: Task, quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationFailed("The quantity moved is a whole number of units.",
                               errors=[{"field": "quantity", "message": "a whole number"}])
    if not 0 <= quantity <= (task.quantity or 0):
        raise ValidationFailed(f"Task {task.id} asks for {task.quantity} units; report between 0 and "
                               f"{task.quantity} moved.", errors=[{"field": "quantity",
                                                                    "message": f"between 0 and {task.quantity}"}])
    return quantity


def _lock_quants(product_id: int, locations: list[Location]) -> dict[int, Quant]:
    # The product's stock lock first (all its pick-lane quants, then these, in quant order: docs/stock.md
    # "Lock order"); the move into the lane serves backorders, which lock those quants anyway.
    quants = lock_stock([product_id], {loc.warehouse_id for loc in locations},
                        location_ids=[loc.id for loc in locations])
    wanted = {loc.id for loc in locations}
    return {q.location_id: q for q in quants.values() if q.location_id in wanted}


def complete_replenishment(task: Task, user: User, quantity: int, *, note: str | None = None,
                           idempotency_key: str | None = None) -> Task:
    """Move the units a receiver brought from reserve to the lane (two ledger rows) and close the task."""
    task = db.session.scalar(select(Task).where(Task.id == task.id).with_for_update()
                             .execution_options(populate_existing=True))
    if task is None or task.kind != TaskKind.REPLENISH:
        raise NotFound("No such replenishment task.")
    if Role.RECEIVER not in user.roles:
        raise Forbidden(f"{user.display_name} is not a receiver: replenishment is done from the replenish face "
                        "by a receiver.")
    if task.status not in levels.OPEN_TASK_STATUSES:
        raise TaskNotOpen(f"Task {task.id} is {task.status.value}; it cannot be completed again.")
    if task.assignee_id is not None and task.assignee_id != user.id:
        assignee = db.session.get(User, task.assignee_id)
        raise Conflict(f"Task {task.id} is assigned to {assignee.display_name if assignee else task.assignee_id}.")
    moved = _check_quantity(task, quantity)
    if task.source_location_id is None or task.product_id is None:
        raise Conflict(f"Task {task.id} names no reserve location or product to take from.")
    product = db.session.get(Product, task.product_id)
    source = db.session.get(Location, task.source_location_id)
    lane = db.session.get(Location, task.location_id)
    assert product is not None and source is not None and lane is not None
    if task.assignee_id is None:
        assign_task(task, user)
    # the lane row before the quants, the order put-away takes them in (docs/stock.md "Lock order")
    db.session.execute(select(Location.id).where(Location.id == lane.id).with_for_update(key_share=True))
    quants = _lock_quants(product.id, [source, lane])
    if moved:
        reserve = quants.get(source.id)
        free = reserve.available if reserve else 0
        if moved > free:
            raise InsufficientStock(f"Only {free} units of {product.sku} are free in {source.code}; "
                                    f"cannot take {moved}. Nothing was moved.",
                                    sku=product.sku, location=source.code, available=free, requested=moved)
        _check_lane_space(lane, moved)
        actor = ops.Actor(user=user, idempotency_key=idempotency_key)
        reference = f"replenish task {task.id}"
        ops.change(product, source, -moved, StockReason.TRANSFER, actor, reference=reference, note=note)
        ops.change(product, lane, moved, StockReason.TRANSFER, actor, reference=reference, note=note)
    task.done_quantity = moved
    task.status = TaskStatus.DONE
    task.finished_at = utcnow()
    if note:
        task.note = note
    elif moved < (task.quantity or 0):
        task.note = f"short: {moved} of {task.quantity} moved"
    db.session.flush()
    return task


def _check_lane_space(lane: Location, units: int) -> None:
    if lane.capacity_units is None:
        return
    # The lane row is the lock every move into a lane takes (put-away, returns, replenishment): two products
    # filling one lane at once are counted one after the other, never both against the same free space.
    db.session.execute(select(Location.id).where(Location.id == lane.id).with_for_update(key_share=True))
    held = sum(db.session.scalars(select(Quant.on_hand).where(Quant.location_id == lane.id)))
    if held + units > lane.capacity_units:
        raise Conflict(f"Lane {lane.code} holds {held} of {lane.capacity_units} units; {units} more do not fit. "
                       "Nothing was moved.", lane=lane.code, on_hand=held, capacity=lane.capacity_units)


def purchase_suggestions(warehouse: Warehouse) -> list[PurchaseSuggestion]:
    """Products whose warehouse-wide level is under its minimum, with the units to buy to reach the maximum."""
    out = []
    for alert in levels.below_minimum(warehouse):
        if alert.lane_id is not None:
            continue
        position = alert.available - alert.backordered
        reason = (f"{alert.available} available ({alert.on_hand} on hand, {alert.reserved} reserved)"
                  + (f" minus {alert.backordered} backordered" if alert.backordered else "")
                  + f" is under the minimum {alert.min_qty}; buy {alert.need} to reach the maximum {alert.max_qty}.")
        assert alert.need == alert.max_qty - position
        out.append(PurchaseSuggestion(
            product_id=alert.product_id, sku=alert.sku, product_name=alert.product_name, on_hand=alert.on_hand,
            reserved=alert.reserved, backordered=alert.backordered, min_qty=alert.min_qty, max_qty=alert.max_qty,
            quantity=alert.need, reason=reason))
    return out
