"""A warehouse for stock races: eight pick lanes and a reserve location of one SKU, a channel, a supervisor,
concurrent clients, and the invariants every race must leave intact."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from wms.auth.models import Role, User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location, Zone
from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus, Reservation
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock


@dataclass(frozen=True)
class RaceWorld:
    channel_token: str
    supervisor_token: str
    lanes: tuple[str, ...]   # pick lane codes, in location id order
    reserve: str             # a reserve location holding plenty


def seed(app: Flask, *, reserve_units: int = 1000) -> RaceWorld:
    """WH: rack zone A (8 lanes, all empty), reserve RES-01 holding MUG, channel SHOP, supervisor sam."""
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
        rep, pick = layout.add_aisle(zone, "R0", Face.REPLENISH, 0), layout.add_aisle(zone, "P1", Face.PICK, 1)
        layout.add_rack(zone, "A01", pick, rep, bays=4, levels=2, bay_width_m=2.0)
        reserve = layout.add_floor_location(layout.add_zone(wh, "RES", ZoneKind.RESERVE), "RES-01")
        product = Product(sku="MUG", name="Mug")
        db.session.add(product)
        db.session.flush()
        adjust_stock(product, reserve, reserve_units, reason=StockReason.RECEIPT)
        channel = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
        db.session.add(channel)
        db.session.flush()
        token, channel_raw = issue_token(name="shop", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        sam = User(username="sam", display_name="Sam", password_hash=hash_secret("not-used-here-1"))
        sam.role_rows = [UserRole(role=Role("supervisor"))]
        sam.warehouse_rows = [UserWarehouse(warehouse_id=wh.id)]
        db.session.add(sam)
        db.session.flush()
        _token, supervisor_raw = issue_token(name="sam", purpose=TokenPurpose.USER, user=sam)
        lanes = tuple(db.session.scalars(select(Location.code).where(Location.zone_id == zone.id)
                                         .order_by(Location.id)))
        db.session.commit()
        return RaceWorld(channel_raw, supervisor_raw, lanes, reserve.code)


def place_orders(app: Flask, prefix: str, count: int, units: int) -> None:
    """`count` orders of `units` MUG each, committed (allocated or backordered by what the lanes hold)."""
    with app.app_context():
        channel = db.session.scalar(select(Channel).where(Channel.code == "SHOP"))
        for i in range(count):
            create_order(channel, OrderRequest(f"{prefix}-{i}", [LineRequest("MUG", units)]))
        db.session.commit()


def hammer(app: Flask, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run every call at once, each with its own client (its own connection and transaction)."""
    barrier = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


def adjustment(world: RaceWorld, lane: str, *, delta: int | None = None, counted: int | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"sku": "MUG", "location": lane}
    body.update({"delta": delta} if delta is not None else {"counted": counted})
    return lambda client: client.post("/api/v1/warehouses/WH/adjustments", json=body,
                                      headers=_headers(world.supervisor_token))


def transfer(world: RaceWorld, source: str, destination: str, quantity: int):  # type: ignore[no-untyped-def]
    body = {"sku": "MUG", "quantity": quantity, "from": {"warehouse": "WH", "location": source},
            "to": {"warehouse": "WH", "location": destination}}
    return lambda client: client.post("/api/v1/transfers", json=body, headers=_headers(world.supervisor_token))


def intake(world: RaceWorld, external_id: str, units: int):  # type: ignore[no-untyped-def]
    body = {"external_id": external_id, "lines": [{"sku": "MUG", "quantity": units}]}
    return lambda client: client.post("/api/v1/channels/SHOP/orders", json=body,
                                      headers=_headers(world.channel_token))


def cancel(world: RaceWorld, external_id: str):  # type: ignore[no-untyped-def]
    return lambda client: client.post(f"/api/v1/channels/SHOP/orders/{external_id}/cancel",
                                      headers=_headers(world.channel_token))


def sale(world: RaceWorld, reference: str, units: int):  # type: ignore[no-untyped-def]
    body = {"reference": reference, "lines": [{"sku": "MUG", "quantity": units}]}
    return lambda client: client.post("/api/v1/warehouses/WH/sales", json=body,
                                      headers=_headers(world.channel_token))


def lane_on_hand(app: Flask) -> dict[str, int]:
    """Units on hand per pick lane code (lanes without a quant are absent)."""
    with app.app_context():
        rows = db.session.execute(select(Location.code, Quant.on_hand).join(Quant, Quant.location_id == Location.id)
                                  .join(Zone, Zone.id == Location.zone_id).where(Zone.kind == ZoneKind.RACK))
        return {code: on_hand for code, on_hand in rows}


def over_reserved_lines(app: Flask) -> list[tuple[str, int, int, int]]:
    """(order, quantity, allocated, reserved units) of every line whose reservations are not what it was
    allocated and has not picked yet, or that is allocated more than it asks for."""
    with app.app_context():
        held = (select(Reservation.order_line_id, func.sum(Reservation.quantity).label("held"))
                .group_by(Reservation.order_line_id).subquery())
        rows = db.session.execute(
            select(Order.external_id, OrderLine.quantity, OrderLine.allocated, OrderLine.picked,
                   func.coalesce(held.c.held, 0))
            .join(Order, Order.id == OrderLine.order_id).outerjoin(held, held.c.order_line_id == OrderLine.id)
        ).all()
        return [(ext, qty, alloc, int(h)) for ext, qty, alloc, picked, h in rows
                if int(h) != max(alloc - picked, 0) or alloc > qty]


def assert_stock_consistent(app: Flask) -> None:
    """Quants hold what their reservations and ledger say, orders say what their lines hold, no units idle."""
    assert over_reserved_lines(app) == []
    with app.app_context():
        s = db.session
        held = dict(s.execute(select(Reservation.quant_id, func.sum(Reservation.quantity))
                              .group_by(Reservation.quant_id)).all())
        for quant in s.scalars(select(Quant)):
            assert quant.reserved == held.get(quant.id, 0), (quant.location_id, quant.reserved, held.get(quant.id))
            ledger = s.execute(select(func.coalesce(func.sum(LedgerEntry.delta_on_hand), 0),
                                      func.coalesce(func.sum(LedgerEntry.delta_reserved), 0))
                               .where(LedgerEntry.product_id == quant.product_id,
                                      LedgerEntry.location_id == quant.location_id)).one()
            assert tuple(ledger) == (quant.on_hand, quant.reserved), quant.location_id
        for order in s.scalars(select(Order).where(Order.status.in_((OrderStatus.ALLOCATED,
                                                                      OrderStatus.BACKORDERED)))):
            short = any(ln.allocated < ln.quantity for ln in order.lines)
            assert order.status == (OrderStatus.BACKORDERED if short else OrderStatus.ALLOCATED), order.external_id
        waiting = dict(s.execute(select(OrderLine.product_id, func.count()).join(Order)
                                 .where(Order.status == OrderStatus.BACKORDERED,
                                        OrderLine.allocated < OrderLine.quantity)
                                 .group_by(OrderLine.product_id)).all())
        idle = dict(s.execute(select(Quant.product_id, func.sum(Quant.on_hand - Quant.reserved))
                              .join(Location, Location.id == Quant.location_id)
                              .join(Zone, Zone.id == Location.zone_id)
                              .where(Zone.kind == ZoneKind.RACK, Location.active.is_(True))
                              .group_by(Quant.product_id)).all())
        for product_id, lines in waiting.items():
            assert not idle.get(product_id), f"{idle[product_id]} units sit in pick lanes while {lines} lines wait"
