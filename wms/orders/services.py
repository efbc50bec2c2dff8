"""Order intake with reservation in one transaction, cancellation, and backorders filled when stock arrives."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason
from wms.errors import Conflict, NotFound, ValidationFailed, explain_constraint
from wms.orders.allocation import choose_lanes
from wms.orders.models import OPEN_ORDER_STATUSES, Channel, Order, OrderLine, OrderStatus, Reservation
from wms.outbound import carrier_choice
from wms.stock.availability import lock_stock, locked_pick_lanes, locked_pick_lanes_many
from wms.stock.models import LedgerEntry, Quant
from wms.webhooks import outbox


class OrderConflict(Conflict):
    """The channel already sent an order with this id, with different content."""

    slug = "order-id-reused"
    title = "This channel order id was already used for a different order"


class OrderNotCancellable(Conflict):
    slug = "order-not-cancellable"
    title = "The order can no longer be cancelled"


explain_constraint("ck_order_lines_reservations_within_need", Conflict,
                   "An order line cannot hold more reserved units than it still needs; nothing was changed.")


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    channel_line_ref: str | None = None
    unit_price: Decimal | None = None     # one unit as the channel sold it, in the order's currency


CENT = Decimal("0.01")


def to_cents(value: Decimal | None) -> Decimal | None:
    """A unit price as order_lines keeps it (2 decimals, half up: a platform's 4-decimal price, a division)."""
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class OrderRequest:
    external_id: str
    lines: list[LineRequest]
    priority: int = 0
    cutoff_at: Any = None
    carrier_code: str | None = None
    ship_to: dict[str, Any] = field(default_factory=dict)
    customer_email: str | None = None
    customer_language: str | None = None
    shipping_method: str | None = None
    relay_point_id: str | None = None
    placed_at: Any = None
    channel_updated_at: Any = None
    platform_ref: str | None = None
    source_document_id: int | None = None
    currency: str | None = None           # ISO 4217 code of the line prices

    def content_hash(self) -> str:
        """What tells a replay from another order. Prices and currency count only when sent, so an order sent
        without them hashes as it always did (orders taken in before prices were kept still replay)."""
        data: dict[str, Any] = {
            "lines": [(ln.sku, ln.quantity) for ln in self.lines], "priority": self.priority,
            "cutoff_at": self.cutoff_at.isoformat() if self.cutoff_at else None,
            "carrier": self.carrier_code, "ship_to": self.ship_to,
        }
        if any(ln.unit_price is not None for ln in self.lines):
            data["prices"] = [str(to_cents(ln.unit_price)) if ln.unit_price is not None else None
                              for ln in self.lines]
        if self.currency:
            data["currency"] = self.currency
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class IntakeResult:
    order: Order
    created: bool


def _products_by_sku(lines: list[LineRequest]) -> dict[str, Product]:
    skus = {ln.sku for ln in lines}
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
    errors = []
    for i, ln in enumerate(lines):
        product = products.get(ln.sku)
        if product is None:
            errors.append({"field": f"lines.{i}.sku", "message": f"unknown SKU {ln.sku!r}"})
        elif not product.active:
            errors.append({"field": f"lines.{i}.sku", "message": f"SKU {ln.sku!r} is no longer sold"})
    if errors:
        raise ValidationFailed("Some order lines name products the catalog does not have.", errors=errors)
    return products


def _existing(channel: Channel, external_id: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.channel_id == channel.id, Order.external_id == external_id))


def _replay(order: Order, request: OrderRequest) -> IntakeResult:
    if order.content_hash != request.content_hash():
        raise OrderConflict(f"Order {request.external_id!r} of this channel exists with different lines or "
                            "details; send a new order id for a new order.")
    return IntakeResult(order, created=False)


def create_order(channel: Channel, request: OrderRequest, *, actor_token_id: int | None = None,
                 known: str = "compare") -> IntakeResult:
    """Accept a channel order once per channel order id, reserving stock in the same transaction.

    `known="compare"` (the API) refuses a known id with other content (409); `known="return"` (channel sync,
    which updates known orders itself) returns the known order whatever its content.
    """
    if not request.lines:
        raise ValidationFailed("An order needs at least one line.", errors=[{"field": "lines", "message": "empty"}])
    replay = _replay if known == "compare" else (lambda order, _request: IntakeResult(order, created=False))
    existing = _existing(channel, request.external_id)
    if existing is not None:
        return replay(existing, request)
    products = _products_by_sku(request.lines)
    order = Order(
        channel_id=channel.id, external_id=request.external_id, content_hash=request.content_hash(),
        warehouse_id=channel.warehouse_id, status=OrderStatus.ACCEPTED, priority=request.priority,
        cutoff_at=request.cutoff_at, carrier_code=request.carrier_code, ship_to=request.ship_to,
        customer_email=request.customer_email, customer_language=request.customer_language,
        shipping_method=request.shipping_method, relay_point_id=request.relay_point_id, placed_at=request.placed_at,
        channel_updated_at=request.channel_updated_at, platform_ref=request.platform_ref,
        source_document_id=request.source_document_id, currency=request.currency,
    )
    # reservations=[]: a new line has none, and saying so spares a lazy load per line after the flush
    order.lines = [OrderLine(line_no=i + 1, product_id=products[ln.sku].id, quantity=ln.quantity, reservations=[],
                             channel_line_ref=ln.channel_line_ref, unit_price=to_cents(ln.unit_price))
                   for i, ln in enumerate(request.lines)]
    try:
        with db.session.begin_nested():
            db.session.add(order)
            db.session.flush()
    except IntegrityError:
        # A twin request committed the same channel order id while we waited on its row.
        twin = _existing(channel, request.external_id)
        if twin is None:
            raise
        return replay(twin, request)
    outbox.order_status_changed(order)  # accepted: the channel's lifecycle starts here
    allocate_order(order, actor_token_id=actor_token_id)
    outbox.order_status_changed(order)  # then allocated or backordered
    carrier_choice.apply(order)  # carrier, service and why; a relay delivery without a point is held
    from wms.outbound.relay_points import after_intake

    after_intake(order)  # the relay point chosen at checkout is checked with the carrier (a job after commit)
    return IntakeResult(order, created=True)


def _reserve(line: OrderLine, order: Order, *, actor_token_id: int | None, actor_user_id: int | None,
             locked: tuple[dict[int, Quant], list] | None = None) -> int:  # type: ignore[type-arg]
    """Reserve what the pick lanes can give for one line (rows locked); returns units reserved.

    `locked` is the line's product lanes when the caller already locked them (one query for a whole order);
    the LaneStock figures are kept current, so several lines of one product share them correctly.
    """
    wanted = line.quantity - line.allocated
    if wanted <= 0:
        return 0
    by_id, lanes = locked if locked is not None else locked_pick_lanes(line.product_id, order.warehouse_id)
    if not lanes:
        return 0
    existing = {r.quant_id: r for r in line.reservations}
    total = 0
    for quant_id, units in choose_lanes(lanes, wanted):
        quant = by_id[quant_id]
        quant.reserved += units
        if quant_id in existing:
            existing[quant_id].quantity += units
        else:
            line.reservations.append(Reservation(quant_id=quant_id, quantity=units))
        db.session.add(LedgerEntry(
            product_id=quant.product_id, location_id=quant.location_id, delta_reserved=units,
            reason=StockReason.RESERVATION, reference=f"order:{order.id}", actor_token_id=actor_token_id,
            actor_user_id=actor_user_id,
        ))
        total += units
    lanes[:] = [replace(lane, available=by_id[lane.quant_id].available) for lane in lanes]
    line.allocated += total
    return total


def _refresh_status(order: Order) -> None:
    if order.status not in OPEN_ORDER_STATUSES:
        return
    short = any(ln.allocated < ln.quantity for ln in order.lines)
    order.status = OrderStatus.BACKORDERED if short else OrderStatus.ALLOCATED


def allocate_order(order: Order, *, actor_token_id: int | None = None, actor_user_id: int | None = None) -> int:
    """Reserve stock for every unallocated unit of the order.

    One query locks the pick lanes of all the order's products (in product order, so concurrent orders never
    deadlock); the reservations, ledger rows and quant updates then go to the database in one flush.
    """
    reserved = 0
    touched: set[int] = set()
    with db.session.no_autoflush:
        wanted = [ln for ln in order.lines if ln.allocated < ln.quantity]
        locked = locked_pick_lanes_many([ln.product_id for ln in wanted], order.warehouse_id)
        for line in sorted(wanted, key=lambda ln: (ln.product_id, ln.line_no)):
            units = _reserve(line, order, actor_token_id=actor_token_id, actor_user_id=actor_user_id,
                             locked=locked.get(line.product_id, ({}, [])))
            if units:
                touched.add(line.product_id)
            reserved += units
        _refresh_status(order)
    db.session.flush()
    outbox.stock_changed_many(sorted(touched), order.warehouse_id)
    return reserved


def _waiting_orders(product_ids: list[int], warehouse_id: int):  # type: ignore[no-untyped-def]
    return (select(OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.product_id.in_(product_ids), Order.warehouse_id == warehouse_id,
                   Order.status == OrderStatus.BACKORDERED, OrderLine.allocated < OrderLine.quantity))


def _lock_orders(order_ids: Any) -> list[Order]:
    """Lock orders by id and read them and all their lines fresh: after a wait, what another transaction
    committed is what we compute from (the stale lines of a waiting order over-reserved it)."""
    db.session.flush()  # reading them fresh must not drop a change of ours
    orders = list(db.session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)
                                     .with_for_update().execution_options(populate_existing=True)))
    if orders:
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_([o.id for o in orders]))
                                   .execution_options(populate_existing=True)).all()
        for line in lines:
            db.session.expire(line, ["reservations"])
    return orders


def allocate_backorders(product_id: int, warehouse_id: int) -> int:
    """Give newly arrived stock to waiting order lines: highest priority, then oldest, first.

    Locks in the global order (docs/stock.md): the product's quants, then the waiting orders by id; what each
    line still wants is read after those locks, so a line never gets more than it asks for.
    """
    db.session.flush()
    lock_stock([product_id], [warehouse_id])
    orders = _lock_orders(_waiting_orders([product_id], warehouse_id))
    waiting = [o for o in orders if o.status == OrderStatus.BACKORDERED]
    lines = [ln for order in sorted(waiting, key=lambda o: (-o.priority, o.created_at, o.id))
             for ln in order.lines if ln.product_id == product_id and ln.allocated < ln.quantity]
    total = 0
    for line in lines:
        order = line.order
        before = order.status
        units = _reserve(line, order, actor_token_id=None, actor_user_id=None)
        if units == 0:
            break
        total += units
        _refresh_status(order)
        if order.status != before:
            outbox.order_status_changed(order)
    db.session.flush()
    if total:
        outbox.stock_changed(product_id, warehouse_id)
    return total


def release_reservations(order: Order) -> None:
    """Give back every unit the order holds (cancellation)."""
    for line in order.lines:
        for res in list(line.reservations):
            quant = db.session.get(Quant, res.quant_id, with_for_update=True)
            quant.reserved -= res.quantity
            db.session.add(LedgerEntry(
                product_id=quant.product_id, location_id=quant.location_id, delta_reserved=-res.quantity,
                reason=StockReason.RESERVATION, reference=f"order:{order.id}", note="released",
            ))
            line.reservations.remove(res)
        line.allocated = 0
    db.session.flush()


def cancel_order(order: Order) -> Order:
    """Cancel an order not yet in picking; its reservations return to available stock."""
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status not in OPEN_ORDER_STATUSES:
        raise OrderNotCancellable(f"Order {order.external_id} is {order.status.value}; it can no longer be cancelled.")
    from wms.waves.models import Wave, WaveOrder

    wave_code = db.session.scalar(select(Wave.code).join(WaveOrder, WaveOrder.wave_id == Wave.id)
                                  .where(WaveOrder.order_id == order.id, WaveOrder.active.is_(True)))
    if wave_code is not None:
        # Its lines are in pick orders (maybe printed, maybe being picked): the wave must let go of it first.
        raise OrderNotCancellable(f"Order {order.external_id} is planned in wave {wave_code}; cancel that wave "
                                  "(or re-plan it without this order) before cancelling the order.", wave=wave_code)
    # The global lock order (docs/stock.md): the products' quants, then the orders by id (this one and those
    # waiting for its products, which the freed units go to); the status is read again under the lock.
    products = sorted({ln.product_id for ln in order.lines})
    held = [r.quant_id for ln in order.lines for r in ln.reservations]
    lock_stock(products, [order.warehouse_id], quant_ids=held)
    waiting = _waiting_orders(products, order.warehouse_id)
    _lock_orders(select(Order.id).where((Order.id == order.id) | Order.id.in_(waiting)))
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status not in OPEN_ORDER_STATUSES:
        raise OrderNotCancellable(f"Order {order.external_id} is {order.status.value}; it can no longer be cancelled.")
    freed = sorted({ln.product_id for ln in order.lines if ln.allocated})
    release_reservations(order)
    order.status = OrderStatus.CANCELLED
    db.session.flush()
    outbox.order_status_changed(order)
    for product_id in freed:
        outbox.stock_changed(product_id, order.warehouse_id)
        allocate_backorders(product_id, order.warehouse_id)
    return order


def get_order(channel: Channel, external_id: str) -> Order:
    """The channel's order with this id, or NotFound."""
    order = _existing(channel, external_id)
    if order is None:
        raise NotFound(f"Channel {channel.code} has no order {external_id!r}.")
    return order
