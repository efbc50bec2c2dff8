"""Stock changes and stock queries. Every change locks its quant and writes one ledger row; nothing commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wms.auth.models import ApiToken, User
from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason
from wms.errors import ValidationFailed
from wms.layout.models import Location, Warehouse
from wms.stock.errors import InsufficientStock
from wms.stock.models import LedgerEntry, Quant


@dataclass(frozen=True)
class LocationStock:
    """Units of one product in one location."""

    location_id: int
    location_code: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class ProductStock:
    """Units of one product in one warehouse, in total and per location (ordered by location code)."""

    product_id: int
    warehouse_id: int
    locations: tuple[LocationStock, ...]

    @property
    def on_hand(self) -> int:
        return sum(loc.on_hand for loc in self.locations)

    @property
    def reserved(self) -> int:
        return sum(loc.reserved for loc in self.locations)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def _locked_quant(product: Product, location: Location) -> Quant | None:
    # Stock of one product changes under the lock of all its pick-lane quants (lock_stock, docs/stock.md
    # "Lock order"): a change into a pick lane serves backorders, which lock those quants anyway, and taking them
    # all first, in quant order, is what keeps two changes from deadlocking. SQLite serialises writers anyway.
    from wms.stock.availability import lock_stock

    quants = lock_stock([product.id], [location.warehouse_id], location_ids=[location.id])
    return next((q for q in quants.values() if q.location_id == location.id), None)


def ensure_quant(product_id: int, location_id: int) -> Quant:
    """The quant of a product in a location, locked; created empty when missing, even by a concurrent twin.

    INSERT ... ON CONFLICT DO NOTHING waits for a twin's uncommitted insert and then does nothing, so two first
    units arriving at once both land on the one row instead of one of them failing the unique constraint.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(Quant).values(product_id=product_id, location_id=location_id, on_hand=0, reserved=0)
                       .on_conflict_do_nothing(index_elements=[Quant.product_id, Quant.location_id]))
    quant = db.session.scalar(select(Quant).where(Quant.product_id == product_id, Quant.location_id == location_id)
                              .with_for_update().execution_options(populate_existing=True))
    assert quant is not None
    return quant


def adjust_stock(
    product: Product, location: Location, delta: int, *, reason: StockReason,
    actor_user: User | None = None, actor_token: ApiToken | None = None,
    idempotency_key: str | None = None, reference: str | None = None, note: str | None = None,
) -> LedgerEntry:
    """Add `delta` units (negative to remove) of a product in a location and record it in the ledger."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ValidationFailed("A stock change needs a whole, non-zero number of units.",
                               errors=[{"field": "delta", "message": "a non-zero integer"}])
    reason = StockReason(reason)
    quant = _locked_quant(product, location)
    if quant is None and delta > 0:
        quant = ensure_quant(product.id, location.id)
    on_hand = quant.on_hand if quant else 0
    reserved = quant.reserved if quant else 0
    if on_hand + delta < 0:
        raise InsufficientStock(
            f"Only {on_hand} units of {product.sku} are in {location.code}; cannot remove {-delta}.",
            sku=product.sku, location=location.code, on_hand=on_hand, requested=delta,
        )
    if on_hand + delta < reserved:
        raise InsufficientStock(
            f"{reserved} of the {on_hand} units of {product.sku} in {location.code} are reserved; "
            f"cannot remove {-delta}.",
            sku=product.sku, location=location.code, on_hand=on_hand, reserved=reserved, requested=delta,
        )
    assert quant is not None
    quant.on_hand = on_hand + delta
    entry = LedgerEntry(
        product_id=product.id, location_id=location.id, delta_on_hand=delta, delta_reserved=0, reason=reason,
        actor_user_id=actor_user.id if actor_user else None, actor_token_id=actor_token.id if actor_token else None,
        idempotency_key=idempotency_key, reference=reference, note=note,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def stock_of(product: Product, warehouse: Warehouse) -> ProductStock:
    """On hand, reserved and available units of a product in a warehouse, per location."""
    rows = db.session.execute(
        select(Location.id, Location.code, Quant.on_hand, Quant.reserved)
        .join(Quant, Quant.location_id == Location.id)
        .where(Quant.product_id == product.id, Location.warehouse_id == warehouse.id)
        .where((Quant.on_hand != 0) | (Quant.reserved != 0))
        .order_by(Location.code)
    ).all()
    return ProductStock(
        product_id=product.id, warehouse_id=warehouse.id,
        locations=tuple(LocationStock(r.id, r.code, r.on_hand, r.reserved) for r in rows),
    )


def ledger_balance(product: Product, location: Location) -> tuple[int, int]:
    """(on hand, reserved) of a product in a location as the sum of its ledger rows."""
    on_hand, reserved = db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.delta_on_hand), 0),
               func.coalesce(func.sum(LedgerEntry.delta_reserved), 0))
        .where(LedgerEntry.product_id == product.id, LedgerEntry.location_id == location.id)
    ).one()
    return int(on_hand), int(reserved)
