"""Random waves for the planning tests: a few single- and two-block zones, orders with skewed picks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from wms.planning.routing import RackZoneLayout
from wms.planning.wave import Busy, CartCapacity, PlanLine, PlanOrder, PlanRequest, ZoneInfo

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(hh: int, mm: int = 0) -> datetime:
    """A time of the test day, UTC."""
    return START.replace(hour=hh, minute=mm)


def zones(rng: random.Random, count: int = 3, two_block: bool = False) -> dict[str, ZoneInfo]:
    """Zones A, B, C... each with its pick and replenish aisles; the last one two-block if asked."""
    out = {}
    for z in range(count):
        code = chr(ord("A") + z)
        aisles = rng.randint(2, 7)
        middles = (7.5,) if two_block and z == count - 1 else ()
        layout = RackZoneLayout(aisles, 15.0, rng.choice([2.5, 3.0]), rng.randrange(aisles), middles)
        out[code] = ZoneInfo(code, layout, f"{code}-pick", f"{code}-repl")
    return out


def orders(
    rng: random.Random,
    zone_map: dict[str, ZoneInfo],
    count: int,
    *,
    max_lines: int = 5,
    urgent: bool = False,
    heavy: bool = False,
) -> tuple[PlanOrder, ...]:
    """Orders whose lines favour the front lanes of the first zones (skewed popularity)."""
    codes = list(zone_map)
    out = []
    n = 0
    for o in range(count):
        order_id = f"O{o:03d}"
        lines = []
        for _ in range(rng.randint(1, max_lines)):
            zone = codes[min(int(rng.expovariate(1.0)), len(codes) - 1)]
            layout = zone_map[zone].layout
            aisle = rng.randrange(layout.aisle_count)
            y = round(min(layout.aisle_length_m, rng.expovariate(1 / 4)), 1)
            n += 1
            lines.append(
                PlanLine(
                    id=f"R{n}",
                    order_id=order_id,
                    order_line_id=f"L{n}",
                    zone=zone,
                    location=f"{zone}-{aisle}-{y}",
                    aisle=aisle,
                    y=y,
                    sku=f"S{rng.randrange(50)}",
                    quantity=rng.choice([1, 1, 1, 2, 3]),
                    volume_cm3=rng.uniform(100, 3000) if heavy else 0.0,
                    weight_g=rng.uniform(100, 4000) if heavy else 0.0,
                )
            )
        priority, cutoff = 0, None
        if urgent:
            priority = rng.choice([0, 0, 0, 1, 2])
            cutoff = rng.choice([None, at(12), at(14), at(16)])
        out.append(PlanOrder(order_id, tuple(lines), priority, cutoff, None))
    return tuple(out)


def request(
    seed: int,
    count: int = 30,
    *,
    urgent: bool = False,
    heavy: bool = False,
    two_block: bool = False,
    busy: tuple[Busy, ...] = (),
    capacity: CartCapacity | None = None,
    method: str = "savings",
) -> PlanRequest:
    """A random but reproducible plan request."""
    rng = random.Random(seed)
    zone_map = zones(rng, rng.randint(1, 4), two_block)
    cap = capacity or CartCapacity(
        items=rng.choice([8, 15, 30]),
        orders=rng.choice([2, 4, 12]),
        volume_cm3=rng.choice([None, 40000.0]) if heavy else None,
        weight_g=rng.choice([None, 60000.0]) if heavy else None,
    )
    return PlanRequest(
        orders=orders(rng, zone_map, count, urgent=urgent, heavy=heavy),
        zones=zone_map,
        start=START,
        capacity=cap,
        busy=busy,
        method=method,
    )


def later(moment: datetime, minutes: float) -> datetime:
    return moment + timedelta(minutes=minutes)
