"""Between the database and the pure planner: build a PlanRequest from a wave, store the WavePlan it returns."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, ResourceKind, ZoneKind
from wms.errors import ValidationFailed
from wms.layout.models import Aisle, Location, LocationFace, Resource, Zone
from wms.orders.models import Order, OrderLine, Reservation
from wms.planning import wave as planner
from wms.planning.routing import RackZoneLayout, RoutingInputInvalid
from wms.stock.models import Quant
from wms.waves.models import PickOrder, PickOrderLine, SlotKind, TimeSlot, Tote, Wave, WaveOrder
from wms.waves.params import WaveParams
from wms.waves.slots import book_many

TOTE_CODE_MAX = 32  # pick_order_lines.tote, shipments.tote, totes.code


def zone_layout(zone: Zone, aisle_spacing_m: float = WaveParams.pick_aisle_spacing_m) -> RackZoneLayout:
    """The zone as the router sees it: its pick aisles side by side, their length and middle cross aisles."""
    if zone.kind != ZoneKind.RACK or not zone.aisle_length_m:
        raise ValidationFailed(f"Zone {zone.code} is not a rack zone with an aisle length.")
    pick_aisles = [a for a in zone.aisles if a.face == Face.PICK]
    if not pick_aisles:
        raise ValidationFailed(f"Rack zone {zone.code} has no pick aisle.")
    length = float(zone.aisle_length_m)
    middles = tuple(sorted(float(m) for m in zone.cross_aisles_m or [] if 0 < float(m) < length))
    try:
        return RackZoneLayout(aisle_count=len(pick_aisles), aisle_length_m=length, aisle_width_m=aisle_spacing_m,
                              depot_aisle=0, middle_cross_aisles_m=middles)
    except RoutingInputInvalid as exc:
        raise ValidationFailed(f"Zone {zone.code} cannot be routed: {exc}.") from None


def pick_aisle_index(zone: Zone) -> dict[int, int]:
    """Aisle id → index of that pick aisle in the zone's layout (pick aisles by lateral order)."""
    pick_aisles = sorted((a for a in zone.aisles if a.face == Face.PICK), key=lambda a: a.seq)
    return {a.id: i for i, a in enumerate(pick_aisles)}


@dataclass
class ZoneResources:
    """A zone's aisle resources: all of them by face, and per pick aisle (in layout order) its own resource and
    the replenish aisles behind its racks. `pick`/`replenish` are the first of each face (the zone head's)."""

    zone: Zone
    pick: Resource
    replenish: Resource | None
    by_face: dict[Face, list[Resource]] = field(default_factory=dict)
    pick_aisles: list[Resource] = field(default_factory=list)  # index = layout aisle index
    behind: list[list[Resource]] = field(default_factory=list)  # replenish aisles behind each pick aisle

    def aisle_infos(self) -> tuple[planner.PickAisle, ...]:
        return tuple(planner.PickAisle(res.code, tuple(r.code for r in behind))
                     for res, behind in zip(self.pick_aisles, self.behind, strict=True))


def zone_resources(zone: Zone) -> ZoneResources:
    """The resources of the zone's aisles: each pick aisle is booked by its own resource (a pick order books
    every pick aisle it walks), with the replenish aisles of the racks it serves kept apart from it."""
    rows = db.session.execute(
        select(Resource, Aisle).join(Aisle, Aisle.id == Resource.aisle_id)
        .where(Aisle.zone_id == zone.id, Resource.kind == ResourceKind.AISLE).order_by(Aisle.seq)
    ).all()
    by_face: dict[Face, list[Resource]] = {Face.PICK: [], Face.REPLENISH: []}
    by_aisle: dict[int, Resource] = {}
    for res, aisle in rows:
        by_face[aisle.face].append(res)
        by_aisle[aisle.id] = res
    if not by_face[Face.PICK]:
        raise ValidationFailed(f"Rack zone {zone.code} has no bookable pick aisle.")
    index = pick_aisle_index(zone)
    pick_aisles: list[Resource | None] = [None] * len(index)
    behind: list[list[Resource]] = [[] for _ in index]
    codes = {a.id: a.code for a in zone.aisles}
    for aisle_id, i in index.items():
        pick_aisles[i] = by_aisle.get(aisle_id)
        if pick_aisles[i] is None:
            raise ValidationFailed(f"Pick aisle {codes[aisle_id]} of zone {zone.code} has no resource to book.")
    for rack in zone.racks:
        i = index.get(rack.pick_aisle_id)
        rep = by_aisle.get(rack.replenish_aisle_id)
        if i is not None and rep is not None and rep not in behind[i]:
            behind[i].append(rep)
    return ZoneResources(zone, by_face[Face.PICK][0], (by_face[Face.REPLENISH] or [None])[0], by_face,
                         [r for r in pick_aisles if r is not None], behind)


@dataclass
class BuiltRequest:
    request: planner.PlanRequest
    reservations: dict[str, tuple[int, int, int, int]]  # line id → (reservation, order line, location, product)
    zones: dict[str, ZoneResources]
    orders: dict[str, Order]
    left_out: list[dict[str, Any]]


def _plan_rows(order_ids: list[int]) -> list[Any]:
    return list(db.session.execute(
        select(Reservation, OrderLine, Location, LocationFace.aisle_id, Zone, Product)
        .join(OrderLine, OrderLine.id == Reservation.order_line_id)
        .join(Quant, Quant.id == Reservation.quant_id)
        .join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(LocationFace, (LocationFace.location_id == Location.id) & (LocationFace.face == Face.PICK))
        .where(OrderLine.order_id.in_(order_ids))
        .order_by(OrderLine.order_id, OrderLine.line_no, Reservation.id)
    ).all())


def build_plan_request(wave: Wave, params: WaveParams, start: dt.datetime) -> BuiltRequest:
    """Read the wave's reservations in pick lanes, the zones they are in and the bookings to avoid."""
    links = [wo for wo in wave.orders if wo.active]
    orders = {str(wo.order_id): wo.order for wo in links}
    rows = _plan_rows([wo.order_id for wo in links])
    zones: dict[str, ZoneResources] = {}
    aisle_index: dict[int, dict[int, int]] = {}
    lines: dict[str, list[planner.PlanLine]] = defaultdict(list)
    refs: dict[str, tuple[int, int, int, int]] = {}
    left_out: list[dict[str, Any]] = []
    for res, line, loc, pick_aisle_id, zone, product in rows:
        order_ref = orders[str(line.order_id)].external_id
        if zone.kind != ZoneKind.RACK or pick_aisle_id is None or loc.position_m is None:
            left_out.append({"kind": "layout", "order_id": str(line.order_id), "message":
                             f"Order {order_ref}: {res.quantity} × {product.sku} is reserved in {loc.code}, which "
                             "is not a pick lane of a rack zone; it is left out of the wave."})
            continue
        if zone.code not in zones:
            zones[zone.code] = zone_resources(zone)
            aisle_index[zone.id] = pick_aisle_index(zone)
        volume = float(product.volume_cm3 or 0.0)  # per unit: the planner multiplies by the quantity
        weight = float(product.weight_g or 0)
        key = str(res.id)
        lines[str(line.order_id)].append(planner.PlanLine(
            id=key, order_id=str(line.order_id), order_line_id=str(line.id), zone=zone.code, location=loc.code,
            aisle=aisle_index[zone.id][pick_aisle_id], y=float(loc.position_m), sku=product.sku,
            quantity=res.quantity, volume_cm3=volume, weight_g=weight))
        refs[key] = (res.id, line.id, loc.id, product.id)
    plan_orders = []
    for oid, order in orders.items():
        if not lines.get(oid):
            left_out.append({"kind": "allocation", "order_id": oid, "message":
                             f"Order {order.external_id} has nothing reserved in a pick lane; it is left out."})
            continue
        plan_orders.append(planner.PlanOrder(id=oid, lines=tuple(lines[oid]), priority=order.priority,
                                             cutoff=order.cutoff_at, carrier=order.carrier_code))
    zone_infos = {
        code: planner.ZoneInfo(code=code, layout=zone_layout(zr.zone, params.pick_aisle_spacing_m),
                               pick_resource=zr.pick.code,
                               replenish_resource=zr.replenish.code if zr.replenish else None,
                               aisles=zr.aisle_infos())
        for code, zr in zones.items()
    }
    request = planner.PlanRequest(
        orders=tuple(plan_orders), zones=zone_infos, start=start,
        capacity=planner.CartCapacity(items=params.cart_items, volume_cm3=params.cart_volume_cm3,
                                      weight_g=params.cart_weight_g, orders=params.cart_orders),
        timing=planner.Timing(walk_speed_m_s=params.walk_speed_m_s, seconds_per_line=params.seconds_per_line,
                              seconds_per_unit=params.seconds_per_unit, setup_seconds=params.setup_seconds),
        busy=busy_bookings(wave, zones.values(), start), separate_replenishment=params.separate_replenishment,
        method=params.method, tote_prefix=tote_prefix(wave),
    )
    return BuiltRequest(request, refs, zones, orders, left_out)


def tote_prefix(wave: Wave) -> str:
    """What starts the code of every tote of the wave: its number, so that no two waves label a tote alike."""
    return f"W{wave.id}-"


def busy_bookings(wave: Wave, zones: Any, start: dt.datetime) -> tuple[planner.Busy, ...]:
    """Bookings of other waves and tasks on the zones' aisles, each on its own aisle: the planner keeps every
    pick order off the pick aisles it walks while they are booked (and off the replenish aisles behind them)."""
    code_of = {res.id: res.code for zr in zones for face in (Face.PICK, Face.REPLENISH) for res in zr.by_face[face]}
    if not code_of:
        return ()
    stmt = select(TimeSlot).where(TimeSlot.resource_id.in_(list(code_of)), TimeSlot.ends_at > start)
    if wave.id is not None:
        stmt = stmt.where((TimeSlot.wave_id.is_(None)) | (TimeSlot.wave_id != wave.id))
    return tuple(planner.Busy(resource=code_of[s.resource_id], start=s.starts_at, end=s.ends_at, label=s.label)
                 for s in db.session.scalars(stmt.order_by(TimeSlot.starts_at)))


def clear_plan(wave: Wave) -> None:
    """Remove the wave's pick orders (with their lines) and slots, so a new plan can take their place."""
    for slot in db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == wave.id)):
        db.session.delete(slot)
    db.session.flush()
    for op in list(wave.pick_orders):
        db.session.delete(op)
    db.session.flush()
    db.session.expire(wave, ["pick_orders"])


def store_plan(wave: Wave, built: BuiltRequest, plan: planner.WavePlan, *, created_by_id: int | None) -> None:
    """Write the plan's pick orders, their lines in route order and their pick slots; figures into the summary."""
    ordered = sorted(plan.pick_orders, key=lambda p: (p.start, p.zone, p.batch_no))
    too_long = sorted({(p.zone, t) for p in ordered for t in p.totes if len(t) > TOTE_CODE_MAX})
    if too_long:
        zone, code = too_long[0]
        raise ValidationFailed(f"Tote code {code} is longer than {TOTE_CODE_MAX} characters: shorten the code of "
                               f"zone {zone}.")
    ops = []
    for n, planned in enumerate(ordered, start=1):
        zr = built.zones[planned.zone]
        op = PickOrder(warehouse_id=wave.warehouse_id, wave_id=wave.id, zone_id=zr.zone.id,
                       code=f"OP-{wave.id}-{n:03d}", seq=n, batch_no=planned.batch_no,
                       route_length_m=max(planned.route_length_m, 0.0),
                       estimated_seconds=max(planned.estimated_seconds, 0.0), totes=list(planned.totes))
        for seq, pl in enumerate(sorted(planned.lines, key=lambda x: x.seq)):
            reservation_id, order_line_id, location_id, product_id = built.reservations[pl.line_id]
            op.lines.append(PickOrderLine(seq=seq, order_line_id=order_line_id, reservation_id=reservation_id,
                                          location_id=location_id, product_id=product_id, quantity=pl.quantity,
                                          tote=pl.tote))
        tote_orders = {pl.tote: int(pl.order_id) for pl in planned.lines}
        op.tote_rows = [Tote(code=code, warehouse_id=wave.warehouse_id, order_id=tote_orders[code])
                        for code in planned.totes]
        wave.pick_orders.append(op)
        ops.append(op)
    db.session.flush()
    resources: dict[int, Resource] = {}
    new_slots = []
    for op, planned in zip(ops, ordered, strict=True):
        zr = built.zones[planned.zone]
        known = {r.code: r for r in zr.pick_aisles}
        # one slot on every pick aisle the OP walks, each for the OP's whole time
        for code in planned.resources or (planned.resource,):
            resource = known.get(code) or _resource_by_code(wave, code)
            resources[resource.id] = resource
            new_slots.append(TimeSlot(warehouse_id=wave.warehouse_id, resource_id=resource.id, kind=SlotKind.PICK,
                                      starts_at=planned.start, ends_at=planned.end, label=op.code,
                                      wave_id=wave.id, pick_order_id=op.id, created_by_id=created_by_id))
    book_many(new_slots, resources)
    batch_of = {oid: no for no, batch in enumerate(plan.batches) for oid in batch}
    for wo in wave.orders:
        if wo.active:
            wo.batch_no = batch_of.get(str(wo.order_id))
    refs = {oid: o.external_id for oid, o in built.orders.items()}
    issues = [*built.left_out, *({"kind": i.kind, "message": _with_order_ref(i.message, i.order_id, refs),
                                   "order_id": i.order_id} for i in plan.issues)]
    for issue in issues:
        issue["order"] = refs.get(issue.get("order_id") or "")
    saved = plan.baseline_distance_m - plan.distance_m
    wave.summary = {
        "orders": len(built.request.orders), "lines": sum(len(o.lines) for o in built.request.orders),
        "pick_orders": len(ordered), "batches": len(plan.batches),
        "distance_m": round(plan.distance_m, 2), "baseline_distance_m": round(plan.baseline_distance_m, 2),
        "saved_pct": round(100 * saved / plan.baseline_distance_m, 1) if plan.baseline_distance_m > 0 else 0.0,
        "estimated_seconds": round(sum(p.estimated_seconds for p in ordered), 1),
        "starts_at": min((p.start for p in ordered), default=built.request.start).isoformat(),
        "ends_at": max((p.end for p in ordered), default=built.request.start).isoformat(),
        "issues": issues,
    }
    db.session.flush()


def _with_order_ref(message: str, order_id: str | None, refs: dict[str, str]) -> str:
    """The planner names orders by our row id; a supervisor knows them by the channel's order id."""
    if order_id is None or order_id not in refs:
        return message
    return message.replace(f"Order {order_id} ", f"Order {refs[order_id]} ").replace(
        f"order {order_id} ", f"order {refs[order_id]} ")


def _resource_by_code(wave: Wave, code: str) -> Resource:
    res = db.session.scalar(select(Resource).where(Resource.warehouse_id == wave.warehouse_id, Resource.code == code))
    if res is None:
        raise ValidationFailed(f"The planner booked unknown resource {code!r}.")
    return res


def wave_order_rows(wave: Wave) -> list[WaveOrder]:
    return [wo for wo in wave.orders if wo.active]
