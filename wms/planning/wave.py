"""Wave planning (contract A): batching, zone split, routing and scheduling on plain dataclasses."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from wms.planning.batching import (
    DEFAULT_WINDOW,
    BatchOrder,
    Capacity,
    batch_distance,
    batch_fcfs,
    batch_savings,
    fits_alone,
)
from wms.planning.distance import ZoneLengths, snap_place
from wms.planning.routing import RackZoneLayout
from wms.planning.scheduling import Booking, Job, Slot, duration_seconds, schedule
from wms.planning.validation import PlanInputInvalid, validate_request
from wms.planning.zone_split import SplitPickOrder, ZoneLine, split_batch

__all__ = [
    "Busy",
    "CartCapacity",
    "PlanInputInvalid",
    "PlanIssue",
    "PlanLine",
    "PlanOrder",
    "PickAisle",
    "PlanRequest",
    "PlannedLine",
    "PlannedPickOrder",
    "Timing",
    "WavePlan",
    "ZoneInfo",
    "plan_wave",
]


@dataclass(frozen=True)
class PlanLine:
    """One reserved quantity in one pick lane."""

    id: str
    order_id: str
    order_line_id: str
    zone: str
    location: str
    aisle: int
    y: float
    sku: str
    quantity: int
    volume_cm3: float = 0.0
    weight_g: float = 0.0


@dataclass(frozen=True)
class PlanOrder:
    """An order to pick; higher priority first, the pick slot must end before the cutoff."""

    id: str
    lines: tuple[PlanLine, ...]
    priority: int = 0
    cutoff: datetime | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class CartCapacity:
    """What one pick cart carries: items, volume, weight and totes (one order per tote)."""

    items: int = 45
    volume_cm3: float | None = None
    weight_g: float | None = None
    orders: int = 12


@dataclass(frozen=True)
class Timing:
    """How long picking takes: walking, per line, per unit, and once per pick order."""

    walk_speed_m_s: float = 1.0
    seconds_per_line: float = 8.0
    seconds_per_unit: float = 2.0
    setup_seconds: float = 60.0


@dataclass(frozen=True)
class PickAisle:
    """One pick aisle of a zone as the scheduler sees it: the resource that books it and the replenish aisles
    behind its racks (those a receiver works while the lanes of this aisle are picked)."""

    resource: str
    replenish: tuple[str, ...] = ()


@dataclass(frozen=True)
class ZoneInfo:
    """A rack zone: its layout and the resources of its pick and replenish aisles.

    With `aisles` (one per layout aisle, by index), a pick order books every pick aisle it walks for its whole
    time and avoids the replenish aisles behind them; without, the zone is one resource: every pick order books
    `pick_resource` and avoids `replenish_resource`."""

    code: str
    layout: RackZoneLayout
    pick_resource: str
    replenish_resource: str | None = None
    aisles: tuple[PickAisle, ...] = ()

    def booking(
        self, walked: Sequence[int], separate_replenishment: bool
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The resources a pick order walking these aisles books, and those whose bookings it must avoid."""
        if not self.aisles:
            books = (self.pick_resource,)
            behind = (self.replenish_resource,) if self.replenish_resource else ()
        else:
            picked = [self.aisles[i] for i in sorted(set(walked))] or [self.aisles[self.layout.depot_aisle]]
            books = tuple(dict.fromkeys(a.resource for a in picked))
            behind = tuple(dict.fromkeys(r for a in picked for r in a.replenish))
        avoid = books + tuple(r for r in behind if r not in books) if separate_replenishment else books
        return books, avoid

    def replenish_resources(self) -> frozenset[str]:
        """Every replenish aisle resource the zone knows."""
        found = {r for a in self.aisles for r in a.replenish}
        if self.replenish_resource:
            found.add(self.replenish_resource)
        return frozenset(found)


@dataclass(frozen=True)
class Busy:
    """An existing booking the plan must avoid."""

    resource: str
    start: datetime
    end: datetime
    label: str = ""


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner needs: orders, zones, start time, cart, timing and existing bookings."""

    orders: tuple[PlanOrder, ...]
    zones: Mapping[str, ZoneInfo]
    start: datetime
    capacity: CartCapacity = CartCapacity()
    timing: Timing = Timing()
    busy: tuple[Busy, ...] = ()
    separate_replenishment: bool = True
    method: str = "savings"
    tote_prefix: str = ""  # starts every tote code: the WMS names the wave there, so two waves never share a code


@dataclass(frozen=True)
class PlannedLine:
    """One line of a planned pick order, in walking sequence, with the tote it goes into."""

    line_id: str
    order_id: str
    order_line_id: str
    seq: int
    location: str
    sku: str
    quantity: int
    tote: str


@dataclass(frozen=True)
class PlannedPickOrder:
    """One pick order (OP): a batch's lines in one zone, routed and booked on every pick aisle it walks
    (`resources`, each for the whole [start, end); `resource` is the first of them)."""

    batch_no: int
    zone: str
    resource: str
    start: datetime
    end: datetime
    route_length_m: float
    estimated_seconds: float
    lines: tuple[PlannedLine, ...]
    totes: tuple[str, ...]
    order_ids: tuple[str, ...]
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanIssue:
    """Something the supervisor must know about the plan, as a sentence."""

    kind: str
    message: str
    order_id: str | None = None


@dataclass(frozen=True)
class WavePlan:
    """The planned wave: pick orders, batches (order ids per batch_no), issues and distances."""

    pick_orders: tuple[PlannedPickOrder, ...]
    batches: tuple[tuple[str, ...], ...]
    issues: tuple[PlanIssue, ...]
    distance_m: float
    baseline_distance_m: float


def plan_wave(request: PlanRequest) -> WavePlan:
    """Batch, split per zone, route and schedule the request's orders."""
    validate_request(request)
    issues: list[PlanIssue] = []
    cap = request.capacity
    capacity = Capacity(cap.items, cap.orders, cap.volume_cm3, cap.weight_g)
    lengths = ZoneLengths({code: zone.layout for code, zone in request.zones.items()})
    plannable: list[PlanOrder] = []
    batch_orders: list[BatchOrder] = []
    zone_lines: dict[str, list[ZoneLine]] = {}
    for order in request.orders:
        if not order.lines:
            issues.append(PlanIssue("empty", f"Order {order.id} has nothing to pick.", order.id))
            continue
        bo, lines = prepare_order(order, request.zones)
        if not fits_alone(bo, capacity):
            issues.append(PlanIssue("capacity", _too_big(order, bo, cap), order.id))
            continue
        plannable.append(order)
        batch_orders.append(bo)
        zone_lines[order.id] = lines

    batches, baseline = _batch(request, batch_orders, capacity, lengths)
    batch_ids = tuple(tuple(plannable[i].id for i in batch) for batch in batches)

    split: list[SplitPickOrder] = []
    for batch_no, ids in enumerate(batch_ids):
        split.extend(split_batch(batch_no, ids, zone_lines.__getitem__, lengths, request.tote_prefix))

    orders_by_id = {o.id: o for o in plannable}
    pick_orders, late = _schedule(request, split, orders_by_id)
    issues.extend(late)
    return WavePlan(
        pick_orders=tuple(pick_orders),
        batches=batch_ids,
        issues=tuple(issues),
        distance_m=sum(op.route_length_m for op in pick_orders),
        baseline_distance_m=baseline,
    )


def _batch(
    request: PlanRequest, orders: list[BatchOrder], capacity: Capacity, lengths: ZoneLengths
) -> tuple[list[list[int]], float]:
    """Batches by the request's method, and the FCFS baseline distance on the same orders."""
    fcfs = batch_fcfs(orders, capacity, DEFAULT_WINDOW)
    baseline = sum(batch_distance(orders, b, lengths) for b in fcfs)
    if request.method == "fcfs":
        return fcfs, baseline
    used = {zone for bo in orders for zone in bo.places}
    single_blocks = all(not request.zones[zone].layout.middle_cross_aisles_m for zone in used)
    small = len(orders) <= EXACT_MAX_ORDERS and single_blocks
    batches = batch_savings(
        orders, capacity, lengths, DEFAULT_WINDOW, max_passes=10 if small else 0, exact_savings=small
    )
    return batches, baseline


# Up to this many orders, savings come from exact route lengths and a local search follows (together about
# 3 points better than the return-route estimate alone, 0.2-0.8 s CPU for 100-200 orders); beyond it the
# estimate alone keeps a 10,000-order wave within seconds. Zones with middle cross aisles route with the
# general programme at a few ms per pick list, so a wave touching one always takes the estimate.
EXACT_MAX_ORDERS = 200


def prepare_order(order: PlanOrder, zones: Mapping[str, ZoneInfo]) -> tuple[BatchOrder, list[ZoneLine]]:
    """The order as batching sees it (places per zone, cart load, urgency) and its lines for the zone split."""
    places: dict[str, set] = {}
    lines = []
    items, volume, weight = 0, 0.0, 0.0
    for line in order.lines:
        place = snap_place(zones[line.zone].layout, line.aisle, line.y)
        places.setdefault(line.zone, set()).add(place)
        items += line.quantity
        volume += line.volume_cm3 * line.quantity
        weight += line.weight_g * line.quantity
        lines.append(
            ZoneLine(
                line.id,
                line.order_id,
                line.order_line_id,
                line.zone,
                line.location,
                place,
                line.sku,
                line.quantity,
            )
        )
    cutoff = order.cutoff.timestamp() if order.cutoff is not None else math.inf
    batch_order = BatchOrder(
        id=order.id,
        places={zone: frozenset(p) for zone, p in places.items()},
        items=items,
        volume_cm3=volume,
        weight_g=weight,
        urgency=(-order.priority, cutoff),
    )
    return batch_order, lines


def _too_big(order: PlanOrder, bo: BatchOrder, cap: CartCapacity) -> str:
    limits = []
    if bo.items > cap.items:
        limits.append(f"{bo.items} items (a cart takes {cap.items})")
    if cap.volume_cm3 is not None and bo.volume_cm3 > cap.volume_cm3:
        limits.append(f"{bo.volume_cm3 / 1000:.1f} litres (a cart takes {cap.volume_cm3 / 1000:.1f})")
    if cap.weight_g is not None and bo.weight_g > cap.weight_g:
        limits.append(f"{bo.weight_g / 1000:.1f} kg (a cart takes {cap.weight_g / 1000:.1f})")
    if cap.orders < 1:
        limits.append("a tote (the cart has none)")
    return f"Order {order.id} needs {' and '.join(limits)}: it does not fit one cart and was left out of the wave."


def _schedule(
    request: PlanRequest, split: Sequence[SplitPickOrder], orders: Mapping[str, PlanOrder]
) -> tuple[list[PlannedPickOrder], list[PlanIssue]]:
    timing = request.timing
    jobs = []
    for op in split:
        zone = request.zones[op.zone]
        books, avoid = zone.booking(op.aisles, request.separate_replenishment)
        seconds = duration_seconds(
            op.route_length_m,
            len(op.lines),
            op.units,
            speed_m_s=timing.walk_speed_m_s,
            per_line=timing.seconds_per_line,
            per_unit=timing.seconds_per_unit,
            setup=timing.setup_seconds,
        )
        cutoffs = [orders[o].cutoff for o in op.order_ids if orders[o].cutoff is not None]
        jobs.append(Job(books[0], avoid, seconds, min(cutoffs) if cutoffs else None, books))
    bookings = [Booking(b.resource, b.start, b.end, b.label) for b in request.busy]
    slots = schedule(jobs, bookings, request.start)
    planned, issues, reported = [], [], set()
    for op, job, slot in zip(split, jobs, slots, strict=True):
        planned.append(
            PlannedPickOrder(
                batch_no=op.batch_no,
                zone=op.zone,
                resource=job.resource,
                start=slot.start,
                end=slot.end,
                route_length_m=op.route_length_m,
                estimated_seconds=job.seconds,
                lines=tuple(
                    PlannedLine(
                        line_id=s.line.line_id,
                        order_id=s.line.order_id,
                        order_line_id=s.line.order_line_id,
                        seq=s.seq,
                        location=s.line.location,
                        sku=s.line.sku,
                        quantity=s.line.quantity,
                        tote=s.tote,
                    )
                    for s in op.lines
                ),
                totes=op.totes,
                order_ids=op.order_ids,
                resources=job.booked,
            )
        )
        for order_id in op.order_ids:
            cutoff = orders[order_id].cutoff
            if order_id not in reported and slot.late(cutoff):
                reported.add(order_id)
                issues.append(
                    PlanIssue("cutoff", _late_reason(order_id, cutoff, op, slot, request), order_id)
                )
    return planned, issues


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")


def _late_reason(
    order_id: str, cutoff: datetime, op: SplitPickOrder, slot: Slot, request: PlanRequest
) -> str:
    head = f"Order {order_id} cannot meet its {_hhmm(cutoff)} cutoff (UTC): "
    if cutoff <= request.start:
        return f"{head}the wave starts at {_hhmm(request.start)}, after the cutoff."
    ends = f"its pick order in zone {op.zone} would end at {_hhmm(slot.end)}"
    if slot.pushed_by is not None:
        b = slot.pushed_by
        what = f" ({b.label})" if b.label else ""
        zone = request.zones[op.zone]
        replenish = b.resource in zone.replenish_resources() and b.resource != zone.pick_resource
        aisle = "replenish aisle" if replenish else "pick aisle"
        return f"{head}zone {op.zone}'s {aisle} {b.resource} is booked until {_hhmm(b.end)}{what}; {ends}."
    if slot.queued_behind:
        aisle = f"pick aisle {slot.waited_on}" if slot.waited_on else "pick aisle"
        return (
            f"{head}zone {op.zone}'s {aisle} is taken until {_hhmm(slot.start)} by {slot.queued_behind} "
            f"pick orders of this wave that go first (higher priority, earlier cutoff or earlier arrival); {ends}."
        )
    minutes = (slot.end - slot.start).total_seconds() / 60
    return f"{head}picking it in zone {op.zone} takes {minutes:.0f} min from {_hhmm(slot.start)}; {ends}."
