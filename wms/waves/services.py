"""Waves: choose orders, plan, release (pick tasks and one print job per OP), cancel. Add/flush, never commit.

The state machine: draft → planned → released → picking → done, or cancelled (from draft, planned, or released
while nothing is picked yet). Any other transition is refused with 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from wms.db import db, utcnow
from wms.enums import Face, TaskKind, TaskStatus
from wms.errors import Conflict, LaneOnWrongFace, NotFound, ValidationFailed
from wms.layout.models import LocationFace, Warehouse, Zone
from wms.orders.models import Channel, Order, OrderLine, OrderStatus
from wms.tasks.models import Task
from wms.waves import plan_io
from wms.waves.models import (
    PickOrder,
    PickOrderLine,
    PickOrderStatus,
    TimeSlot,
    Tote,
    Wave,
    WaveOrder,
    WaveStatus,
)
from wms.waves.params import WaveParams
from wms.waves.slots import require_aware

MAX_ORDERS_PER_WAVE = 10_000

TRANSITIONS: dict[WaveStatus, frozenset[WaveStatus]] = {
    WaveStatus.DRAFT: frozenset({WaveStatus.PLANNED, WaveStatus.CANCELLED}),
    WaveStatus.PLANNED: frozenset({WaveStatus.PLANNED, WaveStatus.RELEASED, WaveStatus.CANCELLED}),
    WaveStatus.RELEASED: frozenset({WaveStatus.PICKING, WaveStatus.CANCELLED}),
    WaveStatus.PICKING: frozenset({WaveStatus.DONE}),
    WaveStatus.DONE: frozenset(),
    WaveStatus.CANCELLED: frozenset(),
}


class WaveStateConflict(Conflict):
    """The wave is not in a state that allows this step."""

    slug = "wave-state"
    title = "The wave's state does not allow this"


class OrderInAnotherWave(Conflict):
    slug = "order-in-another-wave"
    title = "The order is already in an active wave"


def move_to(wave: Wave, target: WaveStatus) -> None:
    """Change the wave's state, or 409 naming both states."""
    if target not in TRANSITIONS[wave.status]:
        raise WaveStateConflict(f"Wave {wave.code} is {wave.status.value}; it cannot become {target.value}.",
                                state=wave.status.value)
    wave.status = target


@dataclass(frozen=True)
class OrderFilters:
    """Which orders a wave takes: cutoff before, carrier, channel, priority at least."""

    cutoff_before: dt.datetime | None = None
    carrier: str | None = None
    channel: str | None = None
    priority_min: int | None = None
    limit: int = MAX_ORDERS_PER_WAVE


def _has_allocated_line() -> Any:
    return exists(select(OrderLine.id).where(OrderLine.order_id == Order.id, OrderLine.allocated > 0))


def eligible_orders_query(warehouse: Warehouse) -> Select[Any]:
    """Orders of the warehouse a wave may take: allocated, or backordered with allocated lines; not held for a
    person (wms.orders.holds); not in an active wave."""
    in_active_wave = select(WaveOrder.order_id).where(WaveOrder.active.is_(True))
    return select(Order).where(
        Order.warehouse_id == warehouse.id, Order.hold_kind.is_(None),
        or_(Order.status == OrderStatus.ALLOCATED, and_(Order.status == OrderStatus.BACKORDERED, _has_allocated_line())),
        Order.id.not_in(in_active_wave),
    )


def eligible_orders(warehouse: Warehouse, filters: OrderFilters) -> list[Order]:
    """Eligible orders matching the filters, most urgent first (priority, then cutoff)."""
    stmt = eligible_orders_query(warehouse)
    if filters.cutoff_before is not None:
        stmt = stmt.where(Order.cutoff_at < require_aware(filters.cutoff_before, "cutoff_before"))
    if filters.carrier:
        # the carrier chosen to ship it, or the one the channel asked for (a name not configured here)
        stmt = stmt.where(or_(Order.carrier_used == filters.carrier, Order.carrier_code == filters.carrier))
    if filters.channel:
        stmt = stmt.where(Order.channel_id.in_(select(Channel.id).where(Channel.code == filters.channel)))
    if filters.priority_min is not None:
        stmt = stmt.where(Order.priority >= filters.priority_min)
    stmt = stmt.order_by(Order.priority.desc(), Order.cutoff_at.is_(None), Order.cutoff_at, Order.id)
    return list(db.session.scalars(stmt.limit(filters.limit)))


def _explain_ineligible(warehouse: Warehouse, order: Order) -> str:
    other = db.session.scalar(select(Wave).join(WaveOrder, WaveOrder.wave_id == Wave.id)
                              .where(WaveOrder.order_id == order.id, WaveOrder.active.is_(True)))
    if other is not None:
        return f"order {order.external_id} is already in wave {other.code} ({other.status.value})"
    if order.warehouse_id != warehouse.id:
        return f"order {order.external_id} is for another warehouse"
    return f"order {order.external_id} is {order.status.value}, with nothing allocated to pick"


def orders_by_ids(warehouse: Warehouse, order_ids: list[int]) -> list[Order]:
    """The chosen orders, each checked: 404 for an unknown id, 409 naming any that is not eligible."""
    wanted = list(dict.fromkeys(order_ids))
    found = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(wanted),
                                                                     Order.warehouse_id == warehouse.id))}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"No order with id {', '.join(map(str, missing[:20]))} in warehouse {warehouse.code}.",
                       errors=[{"field": "orders", "message": f"unknown order {i}"} for i in missing[:20]])
    eligible = set(db.session.scalars(eligible_orders_query(warehouse).with_only_columns(Order.id)
                                      .where(Order.id.in_(wanted))))
    refused = [_explain_ineligible(warehouse, found[i]) for i in wanted if i not in eligible]
    if refused:
        cls = OrderInAnotherWave if any("already in wave" in r for r in refused) else Conflict
        raise cls("A wave cannot take " + "; ".join(refused[:10]) + ".")
    return [found[i] for i in wanted]


def _next_code(wave: Wave) -> str:
    return f"W-{wave.id:05d}"


def create_wave(warehouse: Warehouse, orders: list[Order], *, params: WaveParams | None = None,
                starts_at: dt.datetime | None = None, created_by_id: int | None = None) -> Wave:
    """A draft wave taking these orders; an order already in an active wave is refused (409)."""
    if not orders:
        raise ValidationFailed("A wave needs at least one order; none matched.",
                               errors=[{"field": "orders", "message": "no order"}])
    if len(orders) > MAX_ORDERS_PER_WAVE:
        raise ValidationFailed(f"A wave takes at most {MAX_ORDERS_PER_WAVE} orders.")
    wave = Wave(warehouse_id=warehouse.id, code=f"new-{uuid.uuid4().hex[:20]}", status=WaveStatus.DRAFT,
                starts_at=require_aware(starts_at, "starts_at") if starts_at is not None else None,
                params=(params or WaveParams()).to_dict(), summary={}, created_by_id=created_by_id)
    db.session.add(wave)
    db.session.flush()
    wave.code = _next_code(wave)
    try:
        with db.session.begin_nested():
            wave.orders = [WaveOrder(order_id=o.id, order=o, active=True) for o in orders]
            db.session.flush()
    except IntegrityError:
        # Another wave took one of these orders after we checked: the partial unique index said no.
        taken = db.session.scalars(select(Order.external_id).join(WaveOrder, WaveOrder.order_id == Order.id)
                                   .where(WaveOrder.active.is_(True), Order.id.in_([o.id for o in orders]))).all()
        raise OrderInAnotherWave("Another wave took order " + ", ".join(taken[:10]) + " in the meantime.") from None
    return wave


def get_wave(wave_id: int, warehouse_ids: frozenset[int] | None = None, *, lock: bool = False) -> Wave:
    """The wave with this id (404 also when outside the caller's warehouses); `lock` takes its row lock."""
    stmt = select(Wave).where(Wave.id == wave_id)
    if lock:
        stmt = stmt.with_for_update()
    wave = db.session.scalar(stmt)
    if wave is None or (warehouse_ids is not None and wave.warehouse_id not in warehouse_ids):
        raise NotFound(f"No wave {wave_id}.")
    return wave


def plan_wave(wave: Wave, params: WaveParams | None = None, *, starts_at: dt.datetime | None = None,
              created_by_id: int | None = None, now: dt.datetime | None = None) -> Wave:
    """Plan (or replan) a draft or planned wave: pick orders per zone in route order, pick slots, summary."""
    move_to(wave, WaveStatus.PLANNED)
    if params is not None:
        wave.params = params.to_dict()
    effective = WaveParams.from_dict(wave.params)
    if starts_at is not None:
        wave.starts_at = require_aware(starts_at, "starts_at")
    now = now or utcnow()
    start = max(wave.starts_at or now, now)
    plan_io.clear_plan(wave)
    built = plan_io.build_plan_request(wave, effective, start)
    from wms.planning import wave as planner

    try:
        plan = planner.plan_wave(built.request)
    except (planner.PlanInputInvalid, ValueError) as exc:
        raise ValidationFailed(f"The wave cannot be planned: {exc}") from None
    plan_io.store_plan(wave, built, plan, created_by_id=created_by_id)
    wave.planned_at = utcnow()
    db.session.flush()
    return wave


def create_and_plan(warehouse: Warehouse, orders: list[Order], *, params: WaveParams | None = None,
                    starts_at: dt.datetime | None = None, created_by_id: int | None = None) -> Wave:
    """A new wave on these orders, planned at once."""
    wave = create_wave(warehouse, orders, params=params, starts_at=starts_at, created_by_id=created_by_id)
    return plan_wave(wave, created_by_id=created_by_id)


def op_slot(op: PickOrder) -> TimeSlot | None:
    """The pick slot of an OP."""
    return db.session.scalar(select(TimeSlot).where(TimeSlot.pick_order_id == op.id).order_by(TimeSlot.starts_at)
                             .limit(1))


def release_wave(wave: Wave, user_id: int | None) -> Wave:
    """In one transaction: planned → released, a pick task per OP line, one print job per OP at its zone head.

    Printers are resolved for every OP first: if any zone has none, nothing is written (409 naming the zones)."""
    from wms.labels.pdf import render_for
    from wms.printing.jobs import enqueue_job, resolve_printer
    from wms.printing.models import DocumentKind

    if wave.status != WaveStatus.PLANNED:
        raise WaveStateConflict(f"Wave {wave.code} is {wave.status.value}; only a planned wave can be released.",
                                state=wave.status.value)
    ops = list(db.session.scalars(
        select(PickOrder).where(PickOrder.wave_id == wave.id).order_by(PickOrder.seq)
        .options(selectinload(PickOrder.lines).selectinload(PickOrderLine.location),
                 selectinload(PickOrder.lines).selectinload(PickOrderLine.product),
                 selectinload(PickOrder.lines).selectinload(PickOrderLine.order_line).selectinload(OrderLine.order))))
    if not ops:
        raise WaveStateConflict(f"Wave {wave.code} has no pick order to release; replan it.")
    printers, missing = {}, []
    from wms.errors import NoPrinter

    for op in ops:
        if op.zone_id in printers:
            continue
        try:
            printers[op.zone_id] = resolve_printer(wave.warehouse_id, DocumentKind.PICK_ORDER, zone_id=op.zone_id)
        except NoPrinter as exc:
            missing.append(exc.detail)
    if missing:
        raise NoPrinter("The wave is not released: " + " ".join(dict.fromkeys(missing)))
    move_to(wave, WaveStatus.RELEASED)
    wave.released_at = utcnow()
    wave.released_by_id = user_id
    _create_pick_tasks(wave, ops)
    slot_of = {sl.pick_order_id: sl for sl in db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == wave.id))}
    zone_code = dict(db.session.execute(select(Zone.id, Zone.code).where(Zone.warehouse_id == wave.warehouse_id)).all())
    for op in ops:
        op.status = PickOrderStatus.RELEASED
        document = pick_order_document(wave, op, slot_of.get(op.id), zone_code.get(op.zone_id, str(op.zone_id)))
        # ZPL for a label printer, the same labels as PDF for a document printer (CUPS) at the zone head
        payload, content_type = render_for(document, printers[op.zone_id].language.value)
        enqueue_job(warehouse_id=wave.warehouse_id, kind=DocumentKind.PICK_ORDER, reference=op.code,
                    payload=payload, content_type=content_type,
                    idempotency_key=f"wave-{wave.id}-op-{op.id}", printer=printers[op.zone_id],
                    zone_id=op.zone_id, wave_id=wave.id, pick_order_id=op.id, created_by_id=user_id)
    db.session.flush()
    return wave


def _create_pick_tasks(wave: Wave, ops: list[PickOrder]) -> None:
    """One open, unassigned pick task per OP line, on the lane's pick face through its pick aisle (one flush)."""
    lines = [line for op in ops for line in op.lines]
    pick_aisle = dict(db.session.execute(select(LocationFace.location_id, LocationFace.aisle_id).where(
        LocationFace.location_id.in_({line.location_id for line in lines}), LocationFace.face == Face.PICK)).all())
    made = []
    for line in lines:
        aisle_id = pick_aisle.get(line.location_id)
        if aisle_id is None:
            raise LaneOnWrongFace(f"Location {line.location.code} has no pick face; it cannot be picked.")
        task = Task(warehouse_id=wave.warehouse_id, kind=TaskKind.PICK, location_id=line.location_id,
                    face=Face.PICK, aisle_id=aisle_id, product_id=line.product_id, quantity=line.quantity)
        made.append((line, task))
    db.session.add_all(task for _line, task in made)
    db.session.flush()
    for line, task in made:
        line.task_id = task.id


def pick_order_document(wave: Wave, op: PickOrder, slot: TimeSlot | None = None, zone: str | None = None) -> Any:
    """The OP as the label document printed at the zone head."""
    from wms.labels.documents import PickLine, PickOrderDocument

    slot = slot or op_slot(op)
    start = slot.starts_at if slot else (wave.starts_at or utcnow())
    end = slot.ends_at if slot else start + dt.timedelta(seconds=op.estimated_seconds)
    if zone is None:
        zone_row = db.session.get(Zone, op.zone_id)
        zone = zone_row.code if zone_row else str(op.zone_id)
    lines = tuple(PickLine(seq=line.seq + 1, location=line.location.code, sku=line.product.sku,
                           description=line.product.name, quantity=line.quantity, tote=line.tote or "",
                           order=line.order_line.order.external_id if line.order_line else "")
                  for line in op.lines)
    totes = list(op.totes or [])
    # One tote: the header names it. Several: the document lists them (marks in the header, a list at the end).
    return PickOrderDocument(op_number=op.code, zone=zone, wave=wave.code, slot_start=start, slot_end=end,
                             lines=lines, tote=totes[0] if len(totes) == 1 else "")


def _started(wave: Wave) -> bool:
    for op in wave.pick_orders:
        if op.status not in (PickOrderStatus.PLANNED, PickOrderStatus.RELEASED) or op.started_at is not None:
            return True
        if any(line.picked_quantity > 0 for line in op.lines):
            return True
    task_ids = [line.task_id for op in wave.pick_orders for line in op.lines if line.task_id is not None]
    return bool(task_ids) and db.session.scalar(
        select(exists().where(Task.id.in_(task_ids), Task.status == TaskStatus.DONE))) is True


def cancel_wave(wave: Wave, user_id: int | None = None) -> Wave:
    """Cancel a draft, planned, or released-but-not-started wave: free its slots and orders, cancel its open pick
    tasks and the print jobs still queued."""
    if wave.status == WaveStatus.RELEASED and _started(wave):
        raise WaveStateConflict(f"Wave {wave.code} is being picked; it can no longer be cancelled.")
    move_to(wave, WaveStatus.CANCELLED)
    wave.cancelled_at = utcnow()
    for slot in db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == wave.id)):
        db.session.delete(slot)
    for wo in wave.orders:
        wo.active = False
    task_ids = [line.task_id for op in wave.pick_orders for line in op.lines if line.task_id is not None]
    if task_ids:
        for task in db.session.scalars(select(Task).where(Task.id.in_(task_ids),
                                                          Task.status.in_((TaskStatus.OPEN, TaskStatus.ASSIGNED)))):
            task.status = TaskStatus.CANCELLED
            task.finished_at = utcnow()
    for op in wave.pick_orders:
        op.status = PickOrderStatus.CANCELLED
    if wave.pick_orders:
        db.session.execute(update(Tote).where(Tote.pick_order_id.in_([op.id for op in wave.pick_orders]),
                                              Tote.live.is_(True)).values(live=False)
                           .execution_options(synchronize_session="fetch"))
    _cancel_queued_jobs(wave, user_id)
    db.session.flush()
    return wave


def _cancel_queued_jobs(wave: Wave, user_id: int | None) -> None:
    from wms.auth.models import User
    from wms.printing.jobs import cancel
    from wms.printing.models import JobState, PrintJob

    user = db.session.get(User, user_id) if user_id is not None else None
    for job in db.session.scalars(select(PrintJob).where(PrintJob.wave_id == wave.id,
                                                         PrintJob.state == JobState.QUEUED)):
        cancel(job, user)


def mark_picking(wave: Wave) -> Wave:
    """A released wave whose first pick started (called by the picking side)."""
    if wave.status != WaveStatus.PICKING:
        move_to(wave, WaveStatus.PICKING)
    return wave


def mark_done(wave: Wave) -> Wave:
    """Every OP picked: the wave is done and its orders may join another wave again."""
    move_to(wave, WaveStatus.DONE)
    for wo in wave.orders:
        wo.active = False
    db.session.flush()
    return wave


def waves_of(warehouse: Warehouse, status: WaveStatus | None = None, limit: int = 100) -> list[Wave]:
    """Newest first."""
    stmt = select(Wave).where(Wave.warehouse_id == warehouse.id)
    if status is not None:
        stmt = stmt.where(Wave.status == status)
    return list(db.session.scalars(stmt.order_by(Wave.id.desc()).limit(limit)))
