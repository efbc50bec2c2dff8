"""Seed the demo warehouse: layout, people, products, stock, inbound POs, boxes, dock pick-ups; then the demo shop
SHOP with its till TILL (wms/demo/shop.py). Running it again changes nothing: each step acts only on rows the seed
itself creates, and only once. It seeds no orders, so it makes no returns either (a return would have to be on an
order someone else shipped)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from wms.auth.models import User
from wms.auth.services import create_user
from wms.catalog import barcodes
from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.demo.dock import seed_dock
from wms.demo.inbound import seed_inbound
from wms.demo.levels import seed_levels, seed_reserve
from wms.demo.outbound import seed_outbound
from wms.demo.printing import seed_print_routes
from wms.demo.products import DEMO_PRODUCTS, DemoProduct
from wms.demo.shop import seed_shop
from wms.demo.users import DEMO_USERS
from wms.enums import StockReason, ZoneKind
from wms.layout.importer import import_layout_file
from wms.layout.models import Location, Warehouse, Zone
from wms.layout.services import get_warehouse
from wms.stock.models import LedgerEntry
from wms.stock.services import adjust_stock

LAYOUT_FILE = Path(__file__).with_name("warehouse.yaml")
SEED_REFERENCE = "demo-seed"

Echo = Callable[[str], None]


def seed_demo(echo: Echo = print, till_token_file: Path | None = None) -> Warehouse:
    """Create whatever part of the demo warehouse and shop is missing; existing rows are left as they are.

    A till token made by this run is written to `till_token_file` (None: not kept; `wms demo seed` passes one)."""
    echo(f"layout: importing {LAYOUT_FILE.name}")
    report = import_layout_file(LAYOUT_FILE, progress=lambda zone: echo(f"  zone {zone}"))
    for line in report.summary_lines():
        echo(f"  {line}")
    warehouse = get_warehouse(report.warehouse)
    seed_print_routes(warehouse, echo)
    seed_users(warehouse, echo)
    products = seed_products(echo)
    seed_stock(warehouse, products, echo)
    seed_reserve(warehouse, products, echo)
    seed_levels(warehouse, products, echo)
    seed_inbound(warehouse, echo)
    seed_outbound(warehouse, echo)
    seed_dock(warehouse, echo)
    seed_shop(products, till_token_file, echo)
    return warehouse


def seed_users(warehouse: Warehouse, echo: Echo = print) -> None:
    """One demo person per role; an existing username keeps its password, badge and second factor."""
    created = 0
    for demo in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == demo.username)) is not None:
            continue
        admin = demo.role.value == "admin"
        create_user(demo.username, roles=[demo.role], password=demo.password, display_name=demo.display_name,
                    warehouses=() if admin else (warehouse,), all_warehouses=admin, badge=demo.badge, pin=demo.pin)
        created += 1
    echo(f"users: {created} created, {len(DEMO_USERS) - created} already there")


def seed_products(echo: Echo = print) -> dict[str, Product]:
    """The demo catalog, each product with its EAN-13 barcode (stored as GTIN-14 in `normalized`)."""
    existing = {p.sku: p for p in db.session.scalars(
        select(Product).where(Product.sku.in_([d.sku for d in DEMO_PRODUCTS])))}
    for demo in DEMO_PRODUCTS:
        if demo.sku not in existing:
            existing[demo.sku] = _add_product(demo)
        elif existing[demo.sku].hs_code is None:  # seeded before products had customs data
            product = existing[demo.sku]
            product.hs_code, product.origin_country = demo.hs_code, demo.origin_country
            product.customs_value = product.customs_value if product.customs_value is not None else demo.customs_value
    db.session.flush()
    echo(f"products: {len(DEMO_PRODUCTS)} in the demo catalog")
    return existing


def _add_product(demo: DemoProduct) -> Product:
    length, width, height = demo.dims_mm
    product = Product(sku=demo.sku, name=demo.name, weight_g=demo.weight_g, length_mm=length, width_mm=width,
                      height_mm=height, hs_code=demo.hs_code, origin_country=demo.origin_country,
                      customs_value=demo.customs_value)
    scanned = barcodes.parse(demo.barcode)
    product.barcodes = [Barcode(code=scanned.code, normalized=scanned.normalized, symbology=scanned.symbology)]
    db.session.add(product)
    return product


def pick_lanes(warehouse: Warehouse, zone_code: str) -> list[Location]:
    """Lanes of a rack zone at picking height (levels 1 and 2), in code order."""
    return list(db.session.scalars(
        select(Location).join(Zone, Zone.id == Location.zone_id)
        .where(Location.warehouse_id == warehouse.id, Zone.code == zone_code, Zone.kind == ZoneKind.RACK,
               Location.rack_id.is_not(None), Location.level <= 2, Location.active.is_(True))
        .order_by(Location.code)
    ))


def seed_stock(warehouse: Warehouse, products: dict[str, Product], echo: Echo = print) -> None:
    """Put each demo product in its own pick lane, once (the idempotency key marks what was already done)."""
    lanes = {zone: iter(pick_lanes(warehouse, zone)) for zone in sorted({d.zone for d in DEMO_PRODUCTS})}
    done = set(db.session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.reference == SEED_REFERENCE)))
    added = 0
    for demo in DEMO_PRODUCTS:
        lane = next(lanes[demo.zone], None)
        if lane is None:
            raise RuntimeError(f"zone {demo.zone} of {warehouse.code} has no free pick lane left for {demo.sku}")
        key = f"{SEED_REFERENCE}:{warehouse.code}:{demo.sku}"
        if key in done:
            continue
        adjust_stock(products[demo.sku], lane, demo.units, reason=StockReason.RECEIPT, idempotency_key=key,
                     reference=SEED_REFERENCE, note="initial demo stock")
        added += 1
    echo(f"stock: {added} pick lanes filled, {len(DEMO_PRODUCTS) - added} already stocked")
