"""Demo min/max levels and reserve stock, chosen so the stock dashboard shows every kind of alert.

Lane levels sit on the pick lane the seed filled for the product; warehouse levels count the whole warehouse.
With the demo stock, the dashboard shows: lanes to replenish from reserve (one only partly, the reserve being
short), a lane with nothing in reserve (buy), a product to buy for the warehouse, and levels that are fine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason, ZoneKind
from wms.layout.models import Location, Warehouse, Zone
from wms.stock.levels import StockLevel
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock

Echo = Callable[[str], None]
RESERVE_REFERENCE = "demo-seed-reserve"


@dataclass(frozen=True)
class DemoLevel:
    sku: str
    in_lane: bool  # True: on the product's pick lane; False: warehouse-wide
    min_qty: int
    max_qty: int


# (sku, reserve location, units)
DEMO_RESERVE: tuple[tuple[str, str, int], ...] = (
    ("DEMO-001", "RES-01", 96),   # water bottle: lane 48 < min 60 → replenish 72 from RES-01
    ("DEMO-007", "RES-02", 36),   # sparkling water: lane 18 < min 24 → replenish 30 from RES-02
    ("DEMO-017", "RES-01", 10),   # wireless mouse: lane 25 < min 30, needs 35: RES-03 gives 20, short 15
    ("DEMO-017", "RES-03", 20),
    ("DEMO-002", "RES-04", 48),   # coffee mug: reserve that keeps the warehouse level fine
)

DEMO_LEVELS: tuple[DemoLevel, ...] = (
    DemoLevel("DEMO-001", True, 60, 120),
    DemoLevel("DEMO-007", True, 24, 48),
    DemoLevel("DEMO-017", True, 30, 60),
    DemoLevel("DEMO-026", True, 10, 16),     # frying pan: lane 8 < min 10, no reserve → buy
    DemoLevel("DEMO-003", True, 50, 150),    # green tea: lane 120, fine
    DemoLevel("DEMO-031", False, 12, 30),    # yoga mat: 6 in the warehouse < min 12 → buy 24
    DemoLevel("DEMO-002", False, 40, 200),   # coffee mug: 60 + 48 in the warehouse, fine
)


def seed_reserve(warehouse: Warehouse, products: dict[str, Product], echo: Echo = print) -> None:
    """Put demo pallets in the reserve zone once (the idempotency key marks what was already done)."""
    done = set(db.session.scalars(select(LedgerEntry.idempotency_key)
                                  .where(LedgerEntry.reference == RESERVE_REFERENCE)))
    added = 0
    for sku, code, units in DEMO_RESERVE:
        key = f"{RESERVE_REFERENCE}:{warehouse.code}:{sku}:{code}"
        if key in done:
            continue
        location = db.session.scalar(
            select(Location).join(Zone, Zone.id == Location.zone_id)
            .where(Location.warehouse_id == warehouse.id, Location.code == code, Zone.kind == ZoneKind.RESERVE))
        if location is None:
            raise RuntimeError(f"reserve location {code} is missing from {warehouse.code}")
        adjust_stock(products[sku], location, units, reason=StockReason.RECEIPT, idempotency_key=key,
                     reference=RESERVE_REFERENCE, note="demo reserve pallet")
        added += 1
    echo(f"reserve: {added} pallets stored, {len(DEMO_RESERVE) - added} already there")


def _seeded_lane(warehouse: Warehouse, product: Product) -> Location:
    lane = db.session.scalar(
        select(Location).join(Quant, Quant.location_id == Location.id).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse.id, Quant.product_id == product.id, Zone.kind == ZoneKind.RACK)
        .order_by(Location.code).limit(1))
    if lane is None:
        raise RuntimeError(f"{product.sku} has no pick lane in {warehouse.code}; seed the stock first")
    return lane


def seed_levels(warehouse: Warehouse, products: dict[str, Product], echo: Echo = print) -> None:
    """Set the demo levels that do not exist yet; a level someone changed is left as it is."""
    created = 0
    for demo in DEMO_LEVELS:
        product = products[demo.sku]
        lane = _seeded_lane(warehouse, product) if demo.in_lane else None
        stmt = select(StockLevel.id).where(StockLevel.warehouse_id == warehouse.id,
                                           StockLevel.product_id == product.id)
        stmt = stmt.where(StockLevel.location_id == lane.id) if lane else stmt.where(StockLevel.location_id.is_(None))
        if db.session.scalar(stmt) is not None:
            continue
        db.session.add(StockLevel(product_id=product.id, warehouse_id=warehouse.id,
                                  location_id=lane.id if lane else None, min_qty=demo.min_qty,
                                  max_qty=demo.max_qty))
        created += 1
    db.session.flush()
    echo(f"levels: {created} set, {len(DEMO_LEVELS) - created} already there")
