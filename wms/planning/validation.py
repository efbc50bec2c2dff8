"""Checks on a plan request: everything plan_wave refuses, with the reason."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from wms.planning.routing import RackZoneLayout
from wms.planning.routing.layout import EPS

if TYPE_CHECKING:
    from wms.planning.wave import PlanLine, PlanOrder, PlanRequest, ZoneInfo


class PlanInputInvalid(ValueError):
    """A plan request no plan can be made for (bad quantity, unknown zone, naive datetime...)."""


def _aware(moment: datetime) -> bool:
    return (
        isinstance(moment, datetime)
        and moment.tzinfo is not None
        and moment.tzinfo.utcoffset(moment) is not None
    )


def _finite_non_negative(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value >= 0


def validate_request(request: PlanRequest) -> None:
    """Refuse a request no plan can be made for, with a sentence saying what is wrong."""
    if request.method not in ("savings", "fcfs"):
        raise PlanInputInvalid(f"unknown batching method {request.method!r} (savings or fcfs)")
    if not _aware(request.start):
        raise PlanInputInvalid("the wave start must be a time zone aware datetime")
    cap, timing = request.capacity, request.timing
    if cap.items < 1 or cap.orders < 1:
        raise PlanInputInvalid("a cart must take at least one item and one order")
    for name, limit in (("volume", cap.volume_cm3), ("weight", cap.weight_g)):
        if limit is not None and not (_finite_non_negative(limit) and limit > 0):
            raise PlanInputInvalid(f"the cart {name} limit must be a positive number")
    if not (math.isfinite(timing.walk_speed_m_s) and timing.walk_speed_m_s > 0):
        raise PlanInputInvalid("the walking speed must be a positive number")
    for value in (timing.seconds_per_line, timing.seconds_per_unit, timing.setup_seconds):
        if not _finite_non_negative(value):
            raise PlanInputInvalid("handling times must be non-negative numbers of seconds")
    for code, zone in request.zones.items():
        if getattr(zone, "code", None) != code:
            raise PlanInputInvalid(f"zone {code!r} is not described under its own code")
        if not isinstance(zone.layout, RackZoneLayout):
            raise PlanInputInvalid(f"zone {code} has no rack layout")
        if not zone.pick_resource:
            raise PlanInputInvalid(f"zone {code} has no pick aisle resource")
        aisles = getattr(zone, "aisles", ())
        if aisles and len(aisles) != zone.layout.aisle_count:
            raise PlanInputInvalid(
                f"zone {code} names {len(aisles)} pick aisle resources for {zone.layout.aisle_count} pick aisles"
            )
        if any(not a.resource for a in aisles) or len({a.resource for a in aisles}) != len(aisles):
            raise PlanInputInvalid(f"zone {code} needs one distinct resource per pick aisle")
    for b in request.busy:
        if not (_aware(b.start) and _aware(b.end)):
            raise PlanInputInvalid(f"booking {b.label or b.resource} must have time zone aware start and end")
        if b.end < b.start:
            raise PlanInputInvalid(f"booking {b.label or b.resource} ends before it starts")
    order_ids: set[str] = set()
    line_ids: set[str] = set()
    for order in request.orders:
        if order.id in order_ids:
            raise PlanInputInvalid(f"order {order.id} appears twice")
        order_ids.add(order.id)
        if order.cutoff is not None and not _aware(order.cutoff):
            raise PlanInputInvalid(f"order {order.id} has a cutoff without a time zone")
        for line in order.lines:
            _validate_line(order, line, request.zones)
            if line.id in line_ids:
                raise PlanInputInvalid(f"line {line.id} appears twice")
            line_ids.add(line.id)


def _validate_line(order: PlanOrder, line: PlanLine, zones: Mapping[str, ZoneInfo]) -> None:
    where = f"line {line.id} of order {order.id}"
    if line.order_id != order.id:
        raise PlanInputInvalid(f"{where} says it belongs to order {line.order_id}")
    if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
        raise PlanInputInvalid(f"{where} has quantity {line.quantity!r}; it must be a positive whole number")
    if not (_finite_non_negative(line.volume_cm3) and _finite_non_negative(line.weight_g)):
        raise PlanInputInvalid(f"{where} has a negative or unknown volume or weight")
    zone = zones.get(line.zone)
    if zone is None:
        raise PlanInputInvalid(f"{where} is in zone {line.zone!r}, which the plan does not know")
    layout = zone.layout
    if not (isinstance(line.aisle, int) and 0 <= line.aisle < layout.aisle_count):
        raise PlanInputInvalid(
            f"{where} is in aisle {line.aisle}, outside zone {line.zone}'s 0..{layout.aisle_count - 1}"
        )
    if not (
        isinstance(line.y, int | float)
        and math.isfinite(line.y)
        and -EPS <= line.y <= layout.aisle_length_m + EPS
    ):
        raise PlanInputInvalid(
            f"{where} is at {line.y} m, outside zone {line.zone}'s {layout.aisle_length_m} m aisles"
        )
