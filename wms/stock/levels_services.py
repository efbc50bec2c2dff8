"""Minimum / maximum stock levels: set and remove them, and say which are under their minimum and what to do.

A level's *position* is what it can still promise: on hand minus reserved (a lane level counts the units in its
lane; a warehouse level counts every unit of the warehouse, reserve included, quarantine excluded, and also
subtracts the units open orders are waiting for). A level is under its minimum when its position is below min_qty;
the remedy brings it back up to max_qty: from reserve stock for a lane, by buying for the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, TaskKind, TaskStatus, ZoneKind
from wms.errors import Conflict, NotFound, ValidationFailed, explain_constraint
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import OPEN_ORDER_STATUSES, Order, OrderLine
from wms.stock.levels import StockLevel
from wms.stock.models import Quant
from wms.tasks.models import Task

MAX_UNITS = 1_000_000
OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.ASSIGNED)

explain_constraint("uq_stock_levels_warehouse", Conflict,
                   "This product already has a warehouse-wide level (set at the same moment by someone else).")
explain_constraint("uq_stock_levels_lane", Conflict,
                   "This product already has a level in this lane (set at the same moment by someone else).")
explain_constraint("ck_stock_levels_min_max_sane", ValidationFailed,
                   "A level needs 0 ≤ minimum ≤ maximum and a maximum above zero.")


@dataclass(frozen=True)
class ReserveSource:
    """Units of a product in one reserve location that no open replenishment task has claimed yet."""

    location_id: int
    location_code: str
    free: int


@dataclass(frozen=True)
class Action:
    """What brings a level back up: `replenish` from reserve, `buy`, wait for the replenishment `underway`, or
    nothing fits (`full`: the lane has no free space left)."""

    kind: str
    quantity: int
    source: str | None = None
    short: int = 0  # units the reserve cannot give for a lane (to be bought)


@dataclass(frozen=True)
class Alert:
    level_id: int
    product_id: int
    sku: str
    product_name: str
    lane_id: int | None
    lane: str | None
    zone: str | None
    on_hand: int
    reserved: int
    backordered: int
    underway: int
    min_qty: int
    max_qty: int
    capacity: int | None
    need: int
    action: Action

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def scope(self) -> str:
        return "lane" if self.lane_id is not None else "warehouse"


# --- rules that need no database -------------------------------------------------------------------------------

def level_errors(min_qty: object, max_qty: object) -> list[dict[str, str]]:
    """Field errors of a (min, max) pair: whole numbers, 0 ≤ min ≤ max, max > 0, within MAX_UNITS."""
    errors = []
    for name, value in (("min_qty", min_qty), ("max_qty", max_qty)):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append({"field": name, "message": "a whole number of units"})
        elif not 0 <= value <= MAX_UNITS:
            errors.append({"field": name, "message": f"between 0 and {MAX_UNITS}"})
    if errors:
        return errors
    assert isinstance(min_qty, int) and isinstance(max_qty, int)
    if max_qty <= 0:
        errors.append({"field": "max_qty", "message": "must be above zero"})
    if min_qty > max_qty:
        errors.append({"field": "min_qty", "message": f"minimum {min_qty} is above maximum {max_qty}"})
    return errors


def lane_need(*, available: int, lane_on_hand: int, underway: int, max_qty: int, capacity: int | None) -> int:
    """Units to bring to a lane so it is back at its maximum, never more than its free space (all products)."""
    need = max_qty - available - underway
    if capacity is not None:
        need = min(need, capacity - lane_on_hand - underway)
    return max(need, 0)


def choose_source(sources: Iterable[ReserveSource]) -> ReserveSource | None:
    """The reserve location to take from: most free units first, then location code (no FEFO/FIFO data)."""
    usable = [s for s in sources if s.free > 0]
    return min(usable, key=lambda s: (-s.free, s.location_code)) if usable else None


# --- levels -----------------------------------------------------------------------------------------------------

def _product(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}.", errors=[{"field": "sku", "message": "unknown SKU"}])
    return product


def pick_lane(warehouse: Warehouse, code: str) -> Location:
    """The pick lane with this code in this warehouse: a rack lane reached from a pick face."""
    location = db.session.scalar(select(Location).where(Location.warehouse_id == warehouse.id,
                                                        Location.code == code))
    if location is None:
        raise NotFound(f"No location {code!r} in warehouse {warehouse.code}.",
                       errors=[{"field": "lane", "message": "unknown location"}])
    zone = db.session.get(Zone, location.zone_id)
    if zone is None or zone.kind != ZoneKind.RACK or location.face(Face.PICK) is None:
        kind = zone.kind.value if zone else "unknown"
        raise ValidationFailed(f"Location {code} is in {kind} zone {zone.code if zone else '?'}, not a pick lane; "
                               "lane levels are set on flow-rack lanes.",
                               errors=[{"field": "lane", "message": "not a pick lane"}])
    return location


def _level_query(warehouse: Warehouse, product: Product, lane: Location | None):  # type: ignore[no-untyped-def]
    stmt = select(StockLevel).where(StockLevel.warehouse_id == warehouse.id, StockLevel.product_id == product.id)
    if lane is None:
        return stmt.where(StockLevel.location_id.is_(None))
    return stmt.where(StockLevel.location_id == lane.id)


def set_level(warehouse: Warehouse, sku: str, *, min_qty: int, max_qty: int,
              lane_code: str | None = None) -> tuple[StockLevel, bool]:
    """Create or change the level of a product, warehouse-wide or in one pick lane; True when created."""
    errors = level_errors(min_qty, max_qty)
    if errors:
        raise ValidationFailed("The minimum and maximum are not valid: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors) + ".", errors=errors)
    product = _product(sku)
    lane = pick_lane(warehouse, lane_code) if lane_code else None
    level = db.session.scalar(_level_query(warehouse, product, lane).with_for_update())
    created = level is None
    if level is None:
        level = StockLevel(product_id=product.id, warehouse_id=warehouse.id, location_id=lane.id if lane else None,
                           min_qty=min_qty, max_qty=max_qty)
        db.session.add(level)
    else:
        level.min_qty, level.max_qty = min_qty, max_qty
    db.session.flush()
    return level, created


def remove_level(warehouse: Warehouse, sku: str, lane_code: str | None = None) -> None:
    """Remove the warehouse-wide level of a product, or its level in one lane."""
    product = _product(sku)
    lane = pick_lane(warehouse, lane_code) if lane_code else None
    level = db.session.scalar(_level_query(warehouse, product, lane))
    if level is None:
        where = f"lane {lane_code}" if lane_code else f"warehouse {warehouse.code}"
        raise NotFound(f"{sku} has no level in {where}.")
    db.session.delete(level)
    db.session.flush()


def list_levels(warehouse: Warehouse, *, sku: str | None = None,
                lane_code: str | None = None) -> list[tuple[StockLevel, Product, Location | None]]:
    """Levels of a warehouse with their product and lane, by SKU then lane (warehouse-wide first)."""
    stmt = (select(StockLevel, Product, Location).join(Product, Product.id == StockLevel.product_id)
            .outerjoin(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.warehouse_id == warehouse.id))
    if sku is not None:
        stmt = stmt.where(Product.sku == sku)
    if lane_code is not None:
        stmt = stmt.where(Location.code == lane_code)
    stmt = stmt.order_by(Product.sku, StockLevel.location_id.is_not(None), Location.code)
    return [(level, product, lane) for level, product, lane in db.session.execute(stmt).all()]


# --- quantities ---------------------------------------------------------------------------------------------------

def warehouse_stock(warehouse: Warehouse, product_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(on hand, reserved) per product over every location of the warehouse except quarantine zones."""
    ids = list(set(product_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Quant.product_id, func.sum(Quant.on_hand), func.sum(Quant.reserved))
        .join(Location, Location.id == Quant.location_id).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse.id, Quant.product_id.in_(ids), Zone.kind != ZoneKind.QUARANTINE)
        .group_by(Quant.product_id))
    return {pid: (int(on_hand or 0), int(reserved or 0)) for pid, on_hand, reserved in rows}


def backordered(warehouse: Warehouse, product_ids: Iterable[int]) -> dict[int, int]:
    """Units open orders of the warehouse wait for (ordered but not allocated), per product."""
    ids = list(set(product_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity - OrderLine.allocated))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.warehouse_id == warehouse.id, Order.status.in_(OPEN_ORDER_STATUSES),
               OrderLine.product_id.in_(ids))
        .group_by(OrderLine.product_id))
    return {pid: int(units or 0) for pid, units in rows}


def open_replenishment(warehouse: Warehouse) -> list[Task]:
    """Replenishment tasks of the warehouse not yet done or cancelled."""
    return list(db.session.scalars(select(Task).where(Task.warehouse_id == warehouse.id,
                                                      Task.kind == TaskKind.REPLENISH,
                                                      Task.status.in_(OPEN_TASK_STATUSES)).order_by(Task.id)))


def reserve_sources(warehouse: Warehouse, product_ids: Iterable[int],
                    open_tasks: Iterable[Task] | None = None) -> dict[int, list[ReserveSource]]:
    """Per product, its reserve locations with units not yet claimed by an open replenishment task."""
    ids = list(set(product_ids))
    if not ids:
        return {}
    claimed: dict[tuple[int, int], int] = defaultdict(int)
    for task in open_replenishment(warehouse) if open_tasks is None else open_tasks:
        if task.product_id is not None and task.source_location_id is not None:
            claimed[(task.product_id, task.source_location_id)] += task.quantity or 0
    rows = db.session.execute(
        select(Quant.product_id, Location.id, Location.code, Quant.on_hand - Quant.reserved)
        .join(Location, Location.id == Quant.location_id).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse.id, Quant.product_id.in_(ids), Zone.kind == ZoneKind.RESERVE,
               Location.active.is_(True), Quant.on_hand > Quant.reserved)
        .order_by(Quant.product_id, Location.code))
    out: dict[int, list[ReserveSource]] = defaultdict(list)
    for pid, loc_id, code, available in rows:
        out[pid].append(ReserveSource(loc_id, code, int(available) - claimed[(pid, loc_id)]))
    return out


# --- alerts -------------------------------------------------------------------------------------------------------

def _lane_action(need: int, underway: int, sources: list[ReserveSource]) -> Action:
    # One open task per lane at a time (the planner's rule): while one is underway, waiting is the action.
    if underway:
        return Action("underway", underway)
    if need <= 0:
        return Action("full", 0)  # under its minimum yet no space left: other products fill the lane
    best = choose_source(sources)
    if best is None:
        return Action("buy", need, short=need)
    quantity = min(need, best.free)
    return Action("replenish", quantity, source=best.location_code, short=need - quantity)


def below_minimum(warehouse: Warehouse) -> list[Alert]:
    """Every level of the warehouse under its minimum, with its figures and what to do about it."""
    levels = list_levels(warehouse)
    product_ids = [product.id for _level, product, _lane in levels]
    lane_ids = [lane.id for _level, _product, lane in levels if lane is not None]
    in_lane = {(q.product_id, q.location_id): q for q in db.session.scalars(
        select(Quant).where(Quant.location_id.in_(lane_ids)))} if lane_ids else {}
    lane_total = {loc_id: int(total) for loc_id, total in db.session.execute(
        select(Quant.location_id, func.sum(Quant.on_hand)).where(Quant.location_id.in_(lane_ids))
        .group_by(Quant.location_id))} if lane_ids else {}
    totals = warehouse_stock(warehouse, product_ids)
    waiting = backordered(warehouse, product_ids)
    tasks = open_replenishment(warehouse)
    underway_lane: dict[tuple[int | None, int], int] = defaultdict(int)
    underway_product: dict[int | None, int] = defaultdict(int)
    for task in tasks:
        underway_lane[(task.product_id, task.location_id)] += task.quantity or 0
        underway_product[task.product_id] += task.quantity or 0
    sources = reserve_sources(warehouse, product_ids, tasks)
    zone_codes = dict(db.session.execute(select(Zone.id, Zone.code).where(Zone.warehouse_id == warehouse.id)).all())
    alerts = []
    for level, product, lane in levels:
        if not product.active:  # no longer sold: nothing to refill or buy
            continue
        if lane is not None:
            quant = in_lane.get((product.id, lane.id))
            on_hand, reserved = (quant.on_hand, quant.reserved) if quant else (0, 0)
            if on_hand - reserved >= level.min_qty:
                continue
            underway = underway_lane[(product.id, lane.id)]
            need = lane_need(available=on_hand - reserved, lane_on_hand=lane_total.get(lane.id, 0),
                             underway=underway, max_qty=level.max_qty, capacity=lane.capacity_units)
            action = _lane_action(need, underway, sources.get(product.id, []))
            waiting_units = 0
        else:
            on_hand, reserved = totals.get(product.id, (0, 0))
            waiting_units = waiting.get(product.id, 0)
            position = on_hand - reserved - waiting_units
            if position >= level.min_qty:
                continue
            underway = underway_product[product.id]
            need = level.max_qty - position
            action = Action("buy", need, short=need)
        alerts.append(Alert(
            level_id=level.id, product_id=product.id, sku=product.sku, product_name=product.name,
            lane_id=lane.id if lane else None, lane=lane.code if lane else None,
            zone=zone_codes.get(lane.zone_id) if lane else None, on_hand=on_hand, reserved=reserved,
            backordered=waiting_units, underway=underway, min_qty=level.min_qty, max_qty=level.max_qty,
            capacity=lane.capacity_units if lane else None, need=need, action=action))
    return alerts
