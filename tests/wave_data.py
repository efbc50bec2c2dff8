"""A small site for wave tests: two rack zones with head printers, stocked lanes, a channel and allocated orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from wms.catalog import services as catalog
from wms.db import db
from wms.enums import Face, PrinterPlace, ResourceKind, StockReason, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import Channel, ChannelKind, Order
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.stock.services import adjust_stock

# The planner never starts in the past: tests plan from the next full hour.
# At least an hour ahead of the whole test session (the planner never plans in the past).
NOW = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)


@dataclass
class WaveSite:
    warehouse: Warehouse
    zones: dict[str, Zone]
    channel: Channel
    orders: list[Order] = field(default_factory=list)


def _rack_zone(wh: Warehouse, code: str) -> Zone:
    """R0 | rack 01 | P1 | rack 02 | R2 | rack 03 | P3 | rack 04 | R4: two pick aisles, 10 m long."""
    zone = layout.add_zone(wh, code, ZoneKind.RACK, aisle_length_m=10.0)
    aisles = [layout.add_aisle(zone, f"{'P' if i % 2 else 'R'}{i}", Face.PICK if i % 2 else Face.REPLENISH, i)
              for i in range(5)]
    for r in range(4):
        left, right = aisles[r], aisles[r + 1]
        pick, rep = (right, left) if right.face == Face.PICK else (left, right)
        layout.add_rack(zone, f"{code}{r + 1:02d}", pick, rep, bays=5, levels=2, bay_width_m=2.0)
    return zone


def build_site(*, printers: tuple[str, ...] = ("A", "B"), orders: int = 6, code: str = "WH") -> WaveSite:
    """Zones A and B, a pack zone with a station, a dock; a product in every level-1 lane; `orders` orders
    that each take two units in zone A and one in zone B (so every order gives lines in two OPs), all with the
    same cutoff six hours after NOW."""
    wh = layout.create_warehouse(code, "Wave test warehouse")
    zones = {z: _rack_zone(wh, z) for z in ("A", "B")}
    pack = layout.add_zone(wh, "PK", ZoneKind.PACK)
    layout.add_resource(pack, "PACK-1", ResourceKind.PACK_STATION, "Pack station 1")
    dock = layout.add_zone(wh, "DK", ZoneKind.SHIP_DOCK)
    layout.add_resource(dock, "DOOR-1", ResourceKind.DOCK_DOOR, "Dock door 1")
    for z in printers:
        layout.add_printer(wh, f"PRN-{z}", place=PrinterPlace.RACK_HEAD, connection=f"virtual://{z}", zone=zones[z])
    lanes = {z: list(db.session.scalars(select(Location).where(Location.zone_id == zone.id, Location.level == 1)
                                        .order_by(Location.code))) for z, zone in zones.items()}
    skus: dict[str, list[str]] = {"A": [], "B": []}
    for z, zone_lanes in lanes.items():
        for i, lane in enumerate(zone_lanes):
            sku = f"{code}-{z}-{i:02d}"
            product = catalog.create_product(sku, f"Article {z}{i:02d}", weight_g=200, length_mm=100, width_mm=100,
                                             height_mm=50)
            adjust_stock(product, lane, 50, reason=StockReason.RECEIPT)
            skus[z].append(sku)
    channel = Channel(code=f"{code}-SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
    db.session.add(channel)
    db.session.flush()
    site = WaveSite(wh, zones, channel)
    for i in range(orders):
        a = skus["A"][(i * 7) % len(skus["A"])]
        b = skus["B"][(i * 3) % len(skus["B"])]
        # One cutoff and priority for all: the planner batches only orders of equal urgency together.
        site.orders.append(add_order(site, f"web-{i}", [(a, 2), (b, 1)], priority=0,
                                     cutoff=NOW + dt.timedelta(hours=6), carrier="DHL" if i % 2 else "UPS"))
    return site


def add_order(site: WaveSite, external_id: str, lines: list[tuple[str, int]], *, priority: int = 0,
              cutoff: dt.datetime | None = None, carrier: str | None = None) -> Order:
    result = create_order(site.channel, OrderRequest(external_id=external_id,
                                                     lines=[LineRequest(s, q) for s, q in lines],
                                                     priority=priority, cutoff_at=cutoff, carrier_code=carrier))
    return result.order
