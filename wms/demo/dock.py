"""The demo's shipping dock: today's carrier pick-ups at the shipping door (own fleet at 17:00, GS1 at 16:00)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from wms.errors import DomainError
from wms.layout.models import Warehouse
from wms.outbound import dock
from wms.outbound.models import PickupStatus
from wms.waves import slots

DEMO_PICKUPS = (("gs1", "DOOR-2", dt.time(16, 0)), ("own-fleet", "DOOR-2", dt.time(17, 0)))
LENGTH = dt.timedelta(minutes=30)


def seed_dock(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Book today's demo pick-ups once; a carrier already booked today, or a door taken then, is left alone."""
    day = dock.local_day(warehouse)
    tz = slots.warehouse_zone(warehouse)
    booked_today = {p.carrier_code for p in dock.pickups_of_day(warehouse, day)
                    if p.status != PickupStatus.CANCELLED}
    created = 0
    for carrier, door, at in DEMO_PICKUPS:
        if carrier in booked_today:
            continue
        start = dt.datetime.combine(day, at, tzinfo=tz)
        try:
            dock.book_pickup(warehouse, carrier, door, start, start + LENGTH)
        except DomainError as exc:
            echo(f"pick-up {carrier} at {door}: {exc.detail}")
            continue
        created += 1
    echo(f"dock pick-ups: {created} booked for {day:%Y-%m-%d}, {len(DEMO_PICKUPS) - created} already there")
