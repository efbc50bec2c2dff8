"""Put-away: where received units go (rack lanes reached from the replenish face, capacity-aware), the tasks that
carry them there, and their completion — lane scanned from its replenish face, item scanned, units moved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import Face, Role, StockReason, TaskKind, TaskStatus, ZoneKind
from wms.errors import Conflict, Forbidden, LaneOnWrongFace, NotFound, ValidationFailed
from wms.inbound import errors as e
from wms.inbound.models import ReceiptLine
from wms.inbound.receiving import OPEN_TASK, get_line, planned_units, product_for_code
from wms.layout.models import Location, LocationFace, Warehouse, Zone
from wms.picking.faces import parse_location_scan
from wms.picking.text import _
from wms.stock import operations as ops
from wms.stock.availability import lock_stock
from wms.stock.models import Quant
from wms.tasks.models import Task
from wms.tasks.services import assign_task, create_task


@dataclass(frozen=True)
class LaneSpace:
    """A rack lane as put-away sees it: what it holds and how many more units fit (None: no capacity set)."""

    location_id: int
    code: str
    zone_code: str
    holds_product: bool
    empty: bool
    free: int | None


@dataclass(frozen=True)
class Suggestion:
    location_id: int
    lane: str
    zone: str
    quantity: int
    holds_product: bool
    free: int | None


def plan_lanes(lanes: list[LaneSpace], units: int) -> tuple[list[Suggestion], int]:
    """Lanes already holding the product first, then empty lanes, each filled to its free space; the units left over.

    Lanes holding other products are never mixed into; a lane with no room is skipped."""
    ordered = sorted((ln for ln in lanes if ln.holds_product or ln.empty),
                     key=lambda ln: (not ln.holds_product, ln.free is None, ln.zone_code, ln.code))
    out, left = [], units
    for lane in ordered:
        if left <= 0:
            break
        room = left if lane.free is None else min(left, lane.free)
        if room <= 0:
            continue
        out.append(Suggestion(lane.location_id, lane.code, lane.zone_code, room, lane.holds_product, lane.free))
        left -= room
    return out, left


def _lane_spaces(warehouse_id: int, product_id: int) -> list[LaneSpace]:
    """Active rack lanes with a replenish face, in the zones that already hold the product (else every rack zone)."""
    rows = db.session.execute(
        select(Location.id, Location.code, Location.capacity_units, Zone.code, Zone.id)
        .join(Zone, Zone.id == Location.zone_id)
        .join(LocationFace, (LocationFace.location_id == Location.id) & (LocationFace.face == Face.REPLENISH))
        .where(Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.RACK, Location.active.is_(True))).all()
    ids = [r[0] for r in rows]
    held: dict[int, int] = {}
    mine: set[int] = set()
    for location_id, pid, on_hand in db.session.execute(
            select(Quant.location_id, Quant.product_id, Quant.on_hand).where(Quant.location_id.in_(ids))):
        held[location_id] = held.get(location_id, 0) + on_hand
        if pid == product_id and on_hand > 0:
            mine.add(location_id)
    # Units already promised to lanes by open put-away and replenishment tasks take room too.
    promised: dict[int, int] = {}
    other_product: set[int] = set()
    for location_id, pid, qty in db.session.execute(
            select(Task.location_id, Task.product_id, func.coalesce(Task.quantity, 0))
            .where(Task.location_id.in_(ids), Task.kind.in_((TaskKind.PUTAWAY, TaskKind.REPLENISH)),
                   Task.status.in_(OPEN_TASK))):
        promised[location_id] = promised.get(location_id, 0) + qty
        if pid == product_id:
            mine.add(location_id)
        else:
            other_product.add(location_id)
    zones_with_product = {r[4] for r in rows if r[0] in mine}
    out = []
    for location_id, code, capacity, zone_code, zone_id in rows:
        if zones_with_product and zone_id not in zones_with_product:
            continue
        used = held.get(location_id, 0) + promised.get(location_id, 0)
        free = None if capacity is None else max(0, capacity - used)
        holds = location_id in mine
        empty = not holds and used == 0 and location_id not in other_product
        out.append(LaneSpace(location_id, code, zone_code, holds, empty, free))
    return out


def _putaway_units(line: ReceiptLine) -> int:
    return line.remaining - planned_units(line)


def suggest(line: ReceiptLine) -> tuple[list[Suggestion], int]:
    """Where the units of a receipt line not yet planned would go, and how many find no room."""
    if line.on_hold:
        return [], 0
    warehouse_id = db.session.scalar(select(Location.warehouse_id).where(Location.id == line.location_id))
    assert warehouse_id is not None
    return plan_lanes(_lane_spaces(warehouse_id, line.product_id), _putaway_units(line))


def create_putaway_tasks(line: ReceiptLine) -> tuple[list[Task], int]:
    """Open put-away tasks for the units of a receipt line not yet planned, on the suggested lanes.

    Returns the tasks and the units left without room; 409 when the line is held or nothing is left to plan."""
    line = get_line(line.id, lock=True)
    location = db.session.get(Location, line.location_id)
    assert location is not None
    # Two planners of one warehouse wait for each other, so no lane space is promised twice.
    db.session.execute(select(Warehouse.id).where(Warehouse.id == location.warehouse_id)
                       .with_for_update(key_share=True))
    if line.on_hold:
        raise e.InboundStateConflict(f"Receipt line {line.id} is on quality hold ({line.hold_reason}); release it "
                                     "before putting it away.", on_hold=True)
    units = _putaway_units(line)
    if units <= 0:
        raise e.InboundStateConflict(f"Every unit of receipt line {line.id} is already put away or planned.",
                                     remaining=line.remaining)
    suggestions, short = plan_lanes(_lane_spaces(location.warehouse_id, line.product_id), units)
    if not suggestions:
        raise e.LaneFull(f"No lane of the right zone has room for {units} units; nothing was planned.",
                         units=units)
    tasks = []
    for s in suggestions:
        lane = db.session.get(Location, s.location_id)
        assert lane is not None
        task = create_task(lane, TaskKind.PUTAWAY, product_id=line.product_id, quantity=s.quantity)
        task.source_location_id = line.location_id
        task.receipt_line_id = line.id
        tasks.append(task)
    db.session.flush()
    return tasks, short


def list_tasks(warehouse_id: int, *, status: str = "open", receipt_id: int | None = None,
               user: User | None = None, limit: int = 200) -> list[Task]:
    """Put-away tasks: open (open or assigned), done, or all; of one receipt or one person (theirs, then free)."""
    stmt = select(Task).where(Task.warehouse_id == warehouse_id, Task.kind == TaskKind.PUTAWAY)
    if status == "open":
        stmt = stmt.where(Task.status.in_(OPEN_TASK))
    elif status == "done":
        stmt = stmt.where(Task.status == TaskStatus.DONE)
    if receipt_id is not None:
        stmt = stmt.join(ReceiptLine, ReceiptLine.id == Task.receipt_line_id).where(
            ReceiptLine.receipt_id == receipt_id)
    if user is not None:
        stmt = stmt.where((Task.assignee_id == user.id) | Task.assignee_id.is_(None)).order_by(
            Task.assignee_id.is_(None), Task.id)
    else:
        stmt = stmt.order_by(Task.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def lock_task(task_id: int) -> Task:
    """A put-away task row locked, or 404."""
    task = db.session.scalar(select(Task).where(Task.id == task_id).with_for_update()
                             .execution_options(populate_existing=True))
    if task is None or task.kind != TaskKind.PUTAWAY:
        raise NotFound(f"No put-away task {task_id}.")
    return task


def check_lane_scan(task: Task, scan: str) -> Location:
    """The task's lane when `scan` is its replenish-face label; its pick-face label is refused (409)."""
    lane = db.session.get(Location, task.location_id)
    assert lane is not None
    scanned = parse_location_scan(scan or "")
    if scanned.face == Face.PICK and scanned.code == lane.code:
        raise LaneOnWrongFace(_("This is the pick-face label of %(loc)s. Lanes are filled from the replenish "
                                "aisle: scan the orange REPLENISH FACE label.", loc=lane.code),
                              lane=lane.code, face="pick")
    if scanned.code != lane.code:
        raise Conflict(_("Wrong lane %(code)s; this task fills %(want)s.", code=scanned.code, want=lane.code),
                       lane=lane.code, scanned=scanned.code)
    return lane


def check_item_scan(task: Task, scan: str) -> Product:
    """The task's product when `scan` is one of its barcodes or its SKU (409 otherwise)."""
    product = db.session.get(Product, task.product_id) if task.product_id else None
    assert product is not None
    scanned = product_for_code((scan or "").strip()) if (scan or "").strip() else None
    if scanned is None or scanned.id != product.id:
        raise Conflict(_("Wrong item: this task puts away %(sku)s (%(name)s).", sku=product.sku, name=product.name),
                       sku=product.sku, scanned=scan)
    return product


def _check_space(lane: Location, units: int) -> None:
    if lane.capacity_units is None:
        return
    held = sum(db.session.scalars(select(Quant.on_hand).where(Quant.location_id == lane.id)))
    if held + units > lane.capacity_units:
        raise e.LaneFull(_("Lane %(loc)s holds %(held)s of %(cap)s units; %(n)s more do not fit. Nothing was moved.",
                           loc=lane.code, held=held, cap=lane.capacity_units, n=units),
                         lane=lane.code, on_hand=held, capacity=lane.capacity_units, requested=units)


def complete_putaway(task: Task, user: User, *, lane_scan: str, item_scan: str, quantity: int,
                     note: str | None = None, idempotency_key: str | None = None) -> Task:
    """Move the units from the dock to the lane (two putaway ledger rows), count them on the receipt line, close."""
    task = lock_task(task.id)
    if Role.RECEIVER not in user.roles:
        raise Forbidden(_("Only receivers put away: lanes are filled from the replenish face by a receiver."))
    if task.status not in OPEN_TASK:
        raise e.InboundStateConflict(_("Task %(id)s is %(status)s; nothing more can be scanned on it.",
                                       id=task.id, status=task.status.value), state=task.status.value)
    if task.assignee_id is not None and task.assignee_id != user.id:
        raise Conflict(_("Task %(id)s is someone else's.", id=task.id))
    lane = check_lane_scan(task, lane_scan)
    product = check_item_scan(task, item_scan)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= (task.quantity or 0):
        raise ValidationFailed(f"Task {task.id} carries {task.quantity} units; report between 0 and "
                               f"{task.quantity} put away.",
                               errors=[{"field": "quantity", "message": f"between 0 and {task.quantity}"}])
    line = get_line(task.receipt_line_id, lock=True) if task.receipt_line_id else None
    if line is None or task.source_location_id is None:
        raise Conflict(f"Task {task.id} names no received units to put away.")
    if line.on_hold:
        raise e.InboundStateConflict(f"Receipt line {line.id} is on quality hold; it cannot be put away.")
    source = db.session.get(Location, task.source_location_id)
    assert source is not None
    if task.assignee_id is None:
        assign_task(task, user)
    # The lane row serialises every put-away into it (whatever the product), so two cannot both see the room.
    db.session.execute(select(Location.id).where(Location.id == lane.id).with_for_update(key_share=True))
    # the product's stock lock (its pick-lane quants, then the source's, in quant order: docs/stock.md "Lock
    # order"), so a put-away racing intake or another move cannot deadlock
    lock_stock([product.id], {source.warehouse_id, lane.warehouse_id}, location_ids=[source.id, lane.id])
    if quantity:
        _check_space(lane, quantity)
        actor = ops.Actor(user=user, idempotency_key=idempotency_key)
        reference = f"putaway task {task.id}"
        ops.change(product, source, -quantity, StockReason.PUTAWAY, actor, reference=reference, note=note)
        ops.change(product, lane, quantity, StockReason.PUTAWAY, actor, reference=reference, note=note)
        line.put_away += quantity
    task.done_quantity = quantity
    task.status = TaskStatus.DONE
    task.finished_at = utcnow()
    if note:
        task.note = note
    elif quantity < (task.quantity or 0):
        task.note = f"short: {quantity} of {task.quantity} put away"
    db.session.flush()
    return task
