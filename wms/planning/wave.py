"""Wave planning (contract A): batching, zone split, routing and scheduling on plain dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from wms.planning.routing import RackZoneLayout


class PlanInputInvalid(ValueError):
    """A plan request no plan can be made for (bad quantity, unknown zone, naive datetime...)."""


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
class ZoneInfo:
    """A rack zone: its layout and the resources of its pick and replenish aisles."""

    code: str
    layout: RackZoneLayout
    pick_resource: str
    replenish_resource: str | None = None


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
    """One pick order (OP): a batch's lines in one zone, routed and booked on the zone's pick aisle."""

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
    raise NotImplementedError("plan_wave is being implemented")
