"""The demo's shipping dock: the first seed's day has carrier pick-ups at the shipping door (own fleet at 17:00,
GS1 at 16:00)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from wms.db import db
from wms.errors import DomainError
from wms.layout.models import Warehouse
from wms.outbound import dock
from wms.outbound.models import CarrierPickup
from wms.waves import slots

DEMO_PICKUPS = (("gs1", "DOOR-2", dt.time(16, 0)), ("own-fleet", "DOOR-2", dt.time(17, 0)))
LENGTH = dt.timedelta(minutes=30)


def seed_dock(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Book the demo pick-ups for the day of the first seed, once: with any pick-up ever booked here, nothing."""
    day = dock.local_day(warehouse)
    booked = select(CarrierPickup.id).where(CarrierPickup.warehouse_id == warehouse.id).limit(1)
    if db.session.scalar(booked) is not None:
        echo("dock pick-ups: 0 booked (pick-ups were booked here before: by an earlier seed or by someone)")
        return
    tz = slots.warehouse_zone(warehouse)
    created = 0
    for carrier, door, at in DEMO_PICKUPS:
        start = dt.datetime.combine(day, at, tzinfo=tz)
        try:
            dock.book_pickup(warehouse, carrier, door, start, start + LENGTH)
        except DomainError as exc:
            echo(f"pick-up {carrier} at {door}: {exc.detail}")
            continue
        created += 1
    echo(f"dock pick-ups: {created} booked for {day:%Y-%m-%d}")
