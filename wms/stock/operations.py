"""Stock operations channels and supervisors call: till sales, adjustments and counts, transfers.

Each is built on `adjust_stock` (locked quant, one ledger row per change) and tells channels what changed;
stock that arrives in a pick lane first serves waiting backorders.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from wms.auth.models import ApiToken, User
from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason, ZoneKind
from wms.errors import NotFound, ValidationFailed
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.allocation import choose_lanes
from wms.stock.availability import lock_stock, locked_pick_lanes
from wms.stock.errors import InsufficientStock
from wms.stock.models import Quant
from wms.stock.services import adjust_stock, ensure_quant
from wms.webhooks import outbox


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    token: ApiToken | None = None
    idempotency_key: str | None = None


def product_by_sku(sku: str) -> Product:
    """The product with this SKU, or NotFound."""
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}.")
    return product


def location_in(warehouse: Warehouse, code: str) -> Location:
    """The location with this code in this warehouse, or NotFound."""
    loc = db.session.scalar(select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code))
    if loc is None:
        raise NotFound(f"No location {code!r} in warehouse {warehouse.code}.")
    return loc


def _is_pick_lane(location: Location) -> bool:
    zone = db.session.get(Zone, location.zone_id)
    return zone is not None and zone.kind == ZoneKind.RACK


def after_change(product: Product, location: Location, delta: int) -> None:
    """Serve backorders with new pick-lane stock, then tell channels the new availability."""
    from wms.orders.services import allocate_backorders

    if delta > 0 and _is_pick_lane(location):
        allocate_backorders(product.id, location.warehouse_id)
    outbox.stock_changed(product.id, location.warehouse_id)


def change(product: Product, location: Location, delta: int, reason: StockReason, actor: Actor,
           reference: str | None = None, note: str | None = None) -> Quant:
    """One stock change with its ledger row and its consequences (backorders, webhooks)."""
    adjust_stock(product, location, delta, reason=reason, actor_user=actor.user, actor_token=actor.token,
                 idempotency_key=actor.idempotency_key, reference=reference, note=note)
    after_change(product, location, delta)
    return db.session.scalar(select(Quant).where(Quant.product_id == product.id, Quant.location_id == location.id))


def adjust(warehouse: Warehouse, sku: str, location_code: str, *, delta: int | None, counted: int | None,
           actor: Actor, note: str | None = None) -> tuple[Quant, int]:
    """Adjust by a delta, or set to a counted quantity; returns the quant and the applied delta."""
    if (delta is None) == (counted is None):
        raise ValidationFailed("Give either `delta` or `counted`, not both and not neither.",
                               errors=[{"field": "delta", "message": "exclusive with counted"}])
    product = product_by_sku(sku)
    location = location_in(warehouse, location_code)
    if counted is not None:
        locked = lock_stock([product.id], [warehouse.id], location_ids=[location.id])
        current = next((q for q in locked.values() if q.location_id == location.id), None)
        if current is None:  # created by upsert: a twin count creating it too lands on the same row
            current = ensure_quant(product.id, location.id)
        delta = counted - current.on_hand
        reason = StockReason.COUNT
        if delta == 0:
            return current, 0
    else:
        reason = StockReason.ADJUSTMENT
        if delta == 0:
            raise ValidationFailed("A zero adjustment changes nothing.", errors=[{"field": "delta", "message": "0"}])
    assert delta is not None
    return change(product, location, delta, reason, actor, note=note), delta


def sell(warehouse: Warehouse, reference: str, lines: list[tuple[str, int]], actor: Actor) -> list[Product]:
    """A till sale: take the units from available pick-lane stock now, all lines or none."""
    products = [product_by_sku(sku) for sku, _ in lines]
    wanted: dict[int, int] = {}
    for product, (_, qty) in zip(products, lines, strict=True):
        wanted[product.id] = wanted.get(product.id, 0) + qty
    plan: list[tuple[Product, Quant, int]] = []
    short = []
    by_id = {p.id: p for p in products}
    for product_id in sorted(wanted):
        quant_by_id, lanes = locked_pick_lanes(product_id, warehouse.id)
        chosen = choose_lanes(lanes, wanted[product_id])
        got = sum(units for _, units in chosen)
        if got < wanted[product_id]:
            short.append({"field": by_id[product_id].sku,
                          "message": f"{got} available, {wanted[product_id]} sold"})
        plan += [(by_id[product_id], quant_by_id[qid], units) for qid, units in chosen]
    if short:
        raise InsufficientStock(f"Sale {reference}: not enough available stock; nothing was sold.", errors=short)
    for product, quant, units in plan:
        location = db.session.get(Location, quant.location_id)
        change(product, location, -units, StockReason.SALE, actor, reference=f"sale:{reference}")
    return list({p.id: p for p in products}.values())


def transfer(sku: str, quantity: int, source: tuple[Warehouse, str], destination: tuple[Warehouse, str],
             actor: Actor, note: str | None = None) -> tuple[Quant, Quant]:
    """Move units between two locations (of one or two warehouses) in one transaction."""
    product = product_by_sku(sku)
    src = location_in(source[0], source[1])
    dst = location_in(destination[0], destination[1])
    if src.id == dst.id:
        raise ValidationFailed("A transfer needs two different locations.",
                               errors=[{"field": "to.location", "message": "same as from"}])
    reference = f"transfer:{source[0].code}/{src.code}->{destination[0].code}/{dst.code}"
    # Every quant the transfer may touch, in quant order, before either change (docs/stock.md "Lock order"):
    # locking the two lanes in location order deadlocked against intake and sales, which lock in quant order.
    lock_stock([product.id], {src.warehouse_id, dst.warehouse_id}, location_ids=[src.id, dst.id])
    out = change(product, src, -quantity, StockReason.TRANSFER, actor, reference=reference, note=note)
    into = change(product, dst, quantity, StockReason.TRANSFER, actor, reference=reference, note=note)
    return out, into
