"""Supervisors' API for waves (create and plan, read the plan, replan, release, cancel) and time slots."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, tuple_

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.db import db, utcnow
from wms.errors import NotFound, ValidationFailed
from wms.layout.models import Resource, Warehouse, Zone
from wms.orders.models import Channel, Order
from wms.waves import schemas as s
from wms.waves import services, slots
from wms.waves.models import PickOrder, SlotKind, TimeSlot, Wave, WaveStatus
from wms.waves.params import WaveParams

ROLES = ("supervisor",)
MAX_WINDOW = dt.timedelta(days=31)


def _wave(wave_id: int, *, lock: bool = False) -> Wave:
    return services.get_wave(wave_id, _principal().warehouse_ids, lock=lock)


def slot_out(slot: TimeSlot) -> s.SlotOut:
    resource = db.session.get(Resource, slot.resource_id)
    zone = db.session.get(Zone, resource.zone_id) if resource and resource.zone_id else None
    wave = db.session.get(Wave, slot.wave_id) if slot.wave_id else None
    op = db.session.get(PickOrder, slot.pick_order_id) if slot.pick_order_id else None
    return s.SlotOut(id=slot.id, resource=resource.code if resource else "", zone=zone.code if zone else None,
                     resource_kind=resource.kind.value if resource else "", kind=slot.kind.value,
                     starts_at=slot.starts_at, ends_at=slot.ends_at, label=slot.label, wave_id=slot.wave_id,
                     wave=wave.code if wave else None, pick_order=op.code if op else None)


def _figures(wave: Wave) -> dict[str, object]:
    return {k: v for k, v in (wave.summary or {}).items() if k != "issues"}


def wave_summary_out(wave: Wave, warehouse_code: str) -> s.WaveSummaryOut:
    return s.WaveSummaryOut(
        id=wave.id, code=wave.code, warehouse=warehouse_code, status=wave.status.value, starts_at=wave.starts_at,
        created_at=wave.created_at, planned_at=wave.planned_at, released_at=wave.released_at,
        cancelled_at=wave.cancelled_at, orders=len(wave.orders),
        pick_orders=len(wave.pick_orders), figures=_figures(wave))


def wave_out(wave: Wave) -> s.WaveOut:
    warehouse = db.session.get(Warehouse, wave.warehouse_id)
    head = wave_summary_out(wave, warehouse.code if warehouse else "")
    zones = {z.id: z.code for z in db.session.scalars(select(Zone).where(Zone.warehouse_id == wave.warehouse_id))}
    slots_of: dict[int | None, list[s.SlotOut]] = {}
    for sl in db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == wave.id)
                                 .order_by(TimeSlot.starts_at, TimeSlot.id)):
        slots_of.setdefault(sl.pick_order_id, []).append(slot_out(sl))
    ops = []
    for op in wave.pick_orders:
        own = sorted(slots_of.get(op.id, []), key=lambda x: (x.starts_at, x.id))  # its aisles by lateral order
        ops.append(s.PickOrderOut(
            id=op.id, code=op.code, zone=zones.get(op.zone_id, ""), seq=op.seq, batch_no=op.batch_no,
            status=op.status.value, route_length_m=op.route_length_m, estimated_seconds=op.estimated_seconds,
            totes=list(op.totes or []), slot=own[0] if own else None, slots=own,
            aisles=list(dict.fromkeys(x.resource for x in own if x.kind == SlotKind.PICK.value)),
            lines=[s.PickLineOut(seq=ln.seq, location=ln.location.code, sku=ln.product.sku, quantity=ln.quantity,
                                 picked_quantity=ln.picked_quantity, tote=ln.tote,
                                 order=ln.order_line.order.external_id, task_id=ln.task_id) for ln in op.lines]))
    orders = [s.WaveOrderOut(channel=wo.order.channel.code, external_id=wo.order.external_id,
                             priority=wo.order.priority, cutoff_at=wo.order.cutoff_at, carrier=wo.order.carrier_code,
                             batch_no=wo.batch_no) for wo in wave.orders]
    issues = [s.IssueOut(kind=str(i.get("kind", "")), message=str(i.get("message", "")), order=i.get("order"))
              for i in (wave.summary or {}).get("issues", [])]
    return s.WaveOut(**head.model_dump(), params=dict(wave.params or {}), issues=issues, order_list=orders,
                     pick_order_list=ops)


def _params(body: s.PlanParamsIn | None, base: dict[str, object] | None = None) -> WaveParams:
    merged = {**(base or {}), **(body.overrides() if body else {})}
    return WaveParams.from_dict(merged)


def _orders_by_ref(warehouse: Warehouse, refs: list[s.OrderRef]) -> list[Order]:
    keys = list(dict.fromkeys((r.channel, r.external_id) for r in refs))
    found = {(c, e): oid for c, e, oid in db.session.execute(
        select(Channel.code, Order.external_id, Order.id).join(Channel, Channel.id == Order.channel_id)
        .where(Order.warehouse_id == warehouse.id, tuple_(Channel.code, Order.external_id).in_(keys)))}
    missing = [k for k in keys if k not in found]
    if missing:
        raise NotFound("No order " + ", ".join(f"{c}/{e}" for c, e in missing[:20]) + f" in {warehouse.code}.",
                       errors=[{"field": "orders", "message": f"unknown order {c}/{e}"} for c, e in missing[:20]])
    return services.orders_by_ids(warehouse, [found[k] for k in keys])


@operation("/warehouses/<code>/waves", "POST", summary="Create a wave from chosen orders and plan it",
           tags=["waves"], body=s.WaveIn, response=s.WaveOut, status=201, roles=ROLES, idempotent=True,
           errors=(409,))
def create_wave(code: str, body: s.WaveIn) -> s.WaveOut:
    """Give `orders` (channel and order id) or `filters` (cutoff before, carrier, channel, priority at least);
    with neither, every eligible order is taken. Eligible: allocated, or backordered with allocated lines, and not
    in another active wave (409 naming it). The plan books pick slots that overlap nothing on the zone's aisles."""
    warehouse = _warehouse(code)
    if body.orders is not None and body.filters is not None:
        raise ValidationFailed("Give either orders or filters, not both.",
                               errors=[{"field": "filters", "message": "exclusive with orders"}])
    params = _params(body.params)
    if body.orders is not None:
        orders = _orders_by_ref(warehouse, body.orders)
    else:
        f = body.filters or s.WaveFilters()
        orders = services.eligible_orders(warehouse, services.OrderFilters(
            cutoff_before=f.cutoff_before, carrier=f.carrier, channel=f.channel, priority_min=f.priority_min,
            limit=f.limit))
    p = _principal()
    wave = services.create_wave(warehouse, orders, params=params, starts_at=body.starts_at,
                                created_by_id=p.user_id)
    if body.plan:
        services.plan_wave(wave, created_by_id=p.user_id)
    return wave_out(wave)


@operation("/warehouses/<code>/waves", "GET", summary="Waves of a warehouse, newest first", tags=["waves"],
           query=s.WavesQuery, response=list[s.WaveSummaryOut], roles=ROLES)
def list_waves(code: str, query: s.WavesQuery) -> list[s.WaveSummaryOut]:
    """Filter by `status`."""
    warehouse = _warehouse(code)
    status = WaveStatus(query.status) if query.status else None
    return [wave_summary_out(w, warehouse.code) for w in services.waves_of(warehouse, status, query.limit)]


@operation("/waves/<int:wave_id>", "GET", summary="A wave's plan: pick orders, lines in route order, slots, issues",
           tags=["waves"], response=s.WaveOut, roles=ROLES)
def read_wave(wave_id: int) -> s.WaveOut:
    """Issues say, in sentences, what the plan could not do (cutoffs it cannot meet, orders left out)."""
    return wave_out(_wave(wave_id))


@operation("/waves/<int:wave_id>/plan", "POST", summary="Replan a draft or planned wave", tags=["waves"],
           body=s.PlanIn, response=s.WaveOut, roles=ROLES, idempotent=True, errors=(409,))
def replan_wave(wave_id: int, body: s.PlanIn) -> s.WaveOut:
    """Replaces the wave's pick orders and slots. Parameters given override those stored with the wave."""
    wave = _wave(wave_id, lock=True)
    params = _params(body.params, wave.params)
    services.plan_wave(wave, params, starts_at=body.starts_at, created_by_id=_principal().user_id)
    return wave_out(wave)


@operation("/waves/<int:wave_id>/release", "POST", summary="Release a planned wave: pick tasks and OP print jobs",
           tags=["waves"], response=s.WaveOut, roles=ROLES, idempotent=True, errors=(409, 422))
def release_wave(wave_id: int) -> s.WaveOut:
    """One transaction: a pick task per OP line and one print job per OP, sent to the printer at the head of its
    zone. If a zone has no printer, nothing is released (409 naming the zone)."""
    wave = _wave(wave_id, lock=True)
    services.release_wave(wave, _principal().user_id)
    return wave_out(wave)


@operation("/waves/<int:wave_id>/cancel", "POST", summary="Cancel a wave that is not being picked",
           tags=["waves"], response=s.WaveOut, roles=ROLES, idempotent=True, errors=(409,))
def cancel_wave(wave_id: int) -> s.WaveOut:
    """Frees its slots and orders, cancels its open pick tasks and its print jobs still queued."""
    wave = _wave(wave_id, lock=True)
    services.cancel_wave(wave, _principal().user_id)
    return wave_out(wave)


@operation("/warehouses/<code>/slots", "GET", summary="Time slots on the warehouse's resources in a window",
           tags=["slots"], query=s.SlotsQuery, response=list[s.SlotOut], roles=ROLES)
def list_slots(code: str, query: s.SlotsQuery) -> list[s.SlotOut]:
    """Slots overlapping [from, to): at most 31 days; `resource` narrows to one resource code."""
    warehouse = _warehouse(code)
    start = query.start or utcnow() - dt.timedelta(hours=2)
    end = query.end or start + dt.timedelta(hours=24)
    if end <= start or end - start > MAX_WINDOW:
        raise ValidationFailed("The window must end after it starts and span at most 31 days.",
                               errors=[{"field": "to", "message": "bad window"}])
    ids = [slots.get_resource(warehouse, query.resource).id] if query.resource else None
    return [slot_out(sl) for sl in slots.slots_between(warehouse, start, end, ids)]


@operation("/warehouses/<code>/slots", "POST", summary="Book a resource (receiving, replenishment, dock...)",
           tags=["slots"], body=s.SlotIn, response=s.SlotOut, status=201, roles=ROLES, idempotent=True,
           errors=(409,))
def book_slot(code: str, body: s.SlotIn) -> s.SlotOut:
    """Refused with 409 naming the slot that already holds part of the time; back-to-back slots are fine."""
    warehouse = _warehouse(code)
    resource = slots.get_resource(warehouse, body.resource)
    slot = slots.book_slot(resource, body.starts_at, body.ends_at, SlotKind(body.kind), body.label,
                           created_by_id=_principal().user_id)
    return slot_out(slot)


@operation("/slots/<int:slot_id>", "PATCH", summary="Move or resize a slot", tags=["slots"], body=s.SlotMoveIn,
           response=s.SlotOut, roles=ROLES, idempotent=True, errors=(409,))
def move_slot(slot_id: int, body: s.SlotMoveIn) -> s.SlotOut:
    """Refused with 409 naming the slot in the way; the slot then stays where it was."""
    slot = slots.get_slot(slot_id, _principal().warehouse_ids)
    return slot_out(slots.move_slot(slot, body.starts_at, body.ends_at))


@operation("/slots/<int:slot_id>", "DELETE", summary="Free a slot", tags=["slots"], status=204, roles=ROLES,
           idempotent=True, errors=(409,))
def free_slot(slot_id: int):  # type: ignore[no-untyped-def]
    """A pick order's slot is freed by replanning or cancelling its wave (409)."""
    slot = slots.get_slot(slot_id, _principal().warehouse_ids)
    slots.free_slot(slot)
    return None, 204
