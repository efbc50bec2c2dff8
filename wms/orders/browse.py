"""Reading orders for people: search with filters and paging, everything known about one order, the backorders,
and the warehouse's phone channel (orders a person types in). Plain functions over ``db.session``; never commit.

The status history is not a table of its own: it is put together from what is recorded with a time, namely the
order's creation and hold, the webhook events the order's channel was sent (each `order.status_changed` carries
the new status, `order.held`/`order.released` the hold), the waves that took the order, and its shipments'
labelled/shipped/delivered times. A channel without a webhook URL has no events, so its history is coarser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from wms.catalog.models import Product
from wms.db import db
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus, Reservation
from wms.stock.models import Quant

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PHONE_CHANNEL_NAME = "Phone orders"


@dataclass(frozen=True)
class OrderSearch:
    """What the order list is asked for; empty fields do not filter."""

    q: str = ""                           # channel order id, customer name or e-mail, or SKU (contains)
    status: str = ""
    carrier: str = ""                     # the carrier chosen to ship it, or the one the channel asked for
    channel: str = ""                     # channel code
    cutoff_from: dt.datetime | None = None
    cutoff_to: dt.datetime | None = None
    held: bool = False


@dataclass
class OrderPage:
    orders: list[Order]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(wh: Warehouse, search: OrderSearch) -> sa.Select[Any]:
    stmt = select(Order).where(Order.warehouse_id == wh.id)
    if search.q:
        term = _like(search.q)
        by_sku = (select(OrderLine.order_id).join(Product, Product.id == OrderLine.product_id)
                  .where(Product.sku.ilike(term, escape="\\")))
        stmt = stmt.where(or_(Order.external_id.ilike(term, escape="\\"),
                              Order.customer_email.ilike(term, escape="\\"),
                              sa.cast(Order.ship_to, sa.String).ilike(term, escape="\\"),
                              Order.id.in_(by_sku)))
    if search.status:
        stmt = stmt.where(Order.status == OrderStatus(search.status))
    if search.carrier:
        stmt = stmt.where(or_(Order.carrier_used == search.carrier, Order.carrier_code == search.carrier))
    if search.channel:
        stmt = stmt.where(Order.channel_id.in_(select(Channel.id).where(Channel.code == search.channel)))
    if search.cutoff_from is not None:
        stmt = stmt.where(Order.cutoff_at >= search.cutoff_from)
    if search.cutoff_to is not None:
        stmt = stmt.where(Order.cutoff_at < search.cutoff_to)
    if search.held:
        stmt = stmt.where(Order.hold_kind.is_not(None))
    return stmt


def search_orders(wh: Warehouse, search: OrderSearch, page: int = 1, page_size: int = PAGE_SIZE) -> OrderPage:
    """One page of the warehouse's orders matching `search`, newest first, with the total count."""
    stmt = _filtered(wh, search)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max((total + page_size - 1) // page_size, 1)
    page = min(max(page, 1), pages)
    orders = list(db.session.scalars(stmt.order_by(Order.created_at.desc(), Order.id.desc())
                                     .options(selectinload(Order.lines), selectinload(Order.channel))
                                     .limit(page_size).offset((page - 1) * page_size)))
    return OrderPage(orders=orders, total=total, page=page, pages=pages, page_size=page_size)


def carriers_of(wh: Warehouse) -> list[str]:
    """The carriers the warehouse's orders name (chosen or asked for), for the filter."""
    return sorted({c for column in (Order.carrier_used, Order.carrier_code)
                   for c in db.session.scalars(select(column).distinct().where(Order.warehouse_id == wh.id)) if c})


def channels_of(wh: Warehouse) -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(Channel.warehouse_id == wh.id).order_by(Channel.code)))


# --- one order ---------------------------------------------------------------------------------------------------

@dataclass
class HistoryEntry:
    at: dt.datetime
    what: str            # a short key the page translates: received, status, held, released, wave, labelled, ...
    detail: str = ""


@dataclass
class OrderDetail:
    order: Order
    lanes: dict[int, list[tuple[Reservation, str]]]        # line id → (reservation, lane code)
    waves: list[Any]                                       # (Wave, WaveOrder)
    pick_orders: list[Any]                                 # (PickOrder, zone code, lines of this order)
    shipments: list[dict[str, Any]]
    webhooks: list[Any]
    documents: list[Any]
    fulfilments: list[Any]
    history: list[HistoryEntry] = field(default_factory=list)


def _lanes(order: Order) -> dict[int, list[tuple[Reservation, str]]]:
    line_ids = [ln.id for ln in order.lines]
    if not line_ids:
        return {}
    rows = db.session.execute(select(Reservation, Location.code).join(Quant, Quant.id == Reservation.quant_id)
                              .join(Location, Location.id == Quant.location_id)
                              .where(Reservation.order_line_id.in_(line_ids)).order_by(Location.code)).all()
    out: dict[int, list[tuple[Reservation, str]]] = {}
    for res, code in rows:
        out.setdefault(res.order_line_id, []).append((res, code))
    return out


def _shipments(order: Order) -> list[dict[str, Any]]:
    from wms.outbound import carriers_registry as carriers
    from wms.outbound.models import Shipment, TrackingEventRecord

    shipments = list(db.session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)))
    events: dict[int, list[TrackingEventRecord]] = {}
    if shipments:
        for ev in db.session.scalars(select(TrackingEventRecord).where(
                TrackingEventRecord.shipment_id.in_([s.id for s in shipments])).order_by(TrackingEventRecord.at)):
            events.setdefault(ev.shipment_id or 0, []).append(ev)
    return [{"shipment": sh, "url": carriers.tracking_url(sh.carrier_code, sh.tracking_number),
             "parcels": [{"parcel": p, "url": carriers.tracking_url(p.carrier_code, p.tracking_number)
                          if p.tracking_number and p.tracking_number != sh.tracking_number else None}
                         for p in sh.parcels],
             "events": events.get(sh.id, [])} for sh in shipments]


def _history(order: Order, waves: list[Any], shipments: list[dict[str, Any]], webhooks: list[Any]) -> list[
        HistoryEntry]:
    entries = [HistoryEntry(order.created_at, "received", order.channel.code if order.channel else "")]
    for event in webhooks:
        data = (event.payload or {}).get("data", {})
        if event.topic == "order.status_changed":
            entries.append(HistoryEntry(event.created_at, "status", str(data.get("status", ""))))
        elif event.topic == "order.held":
            entries.append(HistoryEntry(event.created_at, "held", str(data.get("reason") or "")))
        elif event.topic == "order.released":
            entries.append(HistoryEntry(event.created_at, "released"))
    if order.held_at is not None and not any(e.what == "held" for e in entries):
        entries.append(HistoryEntry(order.held_at, "held", order.hold_reason or ""))
    for wave, _link in waves:
        entries.append(HistoryEntry(wave.created_at, "wave", wave.code))
        if wave.released_at:
            entries.append(HistoryEntry(wave.released_at, "wave_released", wave.code))
    for row in shipments:
        sh = row["shipment"]
        for moment, what in ((sh.labelled_at, "labelled"), (sh.shipped_at, "shipped"),
                             (sh.delivered_at, "delivered")):
            if moment is not None:
                entries.append(HistoryEntry(moment, what, f"{sh.carrier_code} {sh.tracking_number or ''}".strip()))
    return sorted(entries, key=lambda e: e.at)


def order_detail(order: Order) -> OrderDetail:
    """Everything the order page shows, read in a handful of queries."""
    from wms.channels.models import ChannelDocument, ChannelFulfilment
    from wms.waves.models import PickOrder, PickOrderLine, Wave, WaveOrder
    from wms.webhooks.models import WebhookEvent

    waves = db.session.execute(select(Wave, WaveOrder).join(WaveOrder, WaveOrder.wave_id == Wave.id)
                               .where(WaveOrder.order_id == order.id).order_by(Wave.id)).all()
    line_ids = [ln.id for ln in order.lines]
    op_rows = db.session.execute(
        select(PickOrder, Zone.code, func.count(PickOrderLine.id), func.sum(PickOrderLine.quantity))
        .join(PickOrderLine, PickOrderLine.pick_order_id == PickOrder.id).join(Zone, Zone.id == PickOrder.zone_id)
        .where(PickOrderLine.order_line_id.in_(line_ids)).group_by(PickOrder.id, Zone.code)
        .order_by(PickOrder.id)).all() if line_ids else []
    webhooks = list(db.session.scalars(select(WebhookEvent).where(WebhookEvent.object_key == f"order:{order.id}")
                                       .order_by(WebhookEvent.id)))
    documents = list(db.session.scalars(
        select(ChannelDocument).where(or_(
            ChannelDocument.id == order.source_document_id,
            (ChannelDocument.channel_id == order.channel_id) & (ChannelDocument.external_id == order.external_id)))
        .order_by(ChannelDocument.id).limit(50)))
    fulfilments = list(db.session.scalars(select(ChannelFulfilment).where(ChannelFulfilment.order_id == order.id)
                                          .order_by(ChannelFulfilment.id)))
    shipments = _shipments(order)
    return OrderDetail(order=order, lanes=_lanes(order), waves=list(waves), pick_orders=list(op_rows),
                       shipments=shipments, webhooks=webhooks, documents=documents, fulfilments=fulfilments,
                       history=_history(order, list(waves), shipments, webhooks))


# --- backorders --------------------------------------------------------------------------------------------------

@dataclass
class MissingSku:
    product: Product
    missing: int                 # units the waiting lines still lack
    lines: list[OrderLine]
    available: int               # units free in pick lanes now (0 when none: replenish or receive)
    elsewhere: int               # units on hand in the warehouse outside pick lanes (reserve, dock...)


def backorders(wh: Warehouse) -> list[MissingSku]:
    """Per SKU, what the warehouse's backordered orders lack and where stock might come from."""
    from wms.enums import Face, ZoneKind
    from wms.layout.models import LocationFace

    lines = list(db.session.scalars(
        select(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .where(Order.warehouse_id == wh.id, Order.status == OrderStatus.BACKORDERED,
               OrderLine.allocated < OrderLine.quantity)
        .options(selectinload(OrderLine.order))
        .order_by(OrderLine.product_id, Order.priority.desc(), Order.created_at, Order.id)))
    by_product: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_product.setdefault(line.product_id, []).append(line)
    if not by_product:
        return []
    pick_lane = (select(LocationFace.location_id).where(LocationFace.face == Face.PICK))
    rack = select(Zone.id).where(Zone.kind == ZoneKind.RACK)
    stock = db.session.execute(
        select(Quant.product_id, Location.id.in_(pick_lane) & Location.zone_id.in_(rack),
               func.sum(Quant.on_hand - Quant.reserved), func.sum(Quant.on_hand))
        .join(Location, Location.id == Quant.location_id)
        .where(Location.warehouse_id == wh.id, Quant.product_id.in_(by_product))
        .group_by(Quant.product_id, Location.id.in_(pick_lane) & Location.zone_id.in_(rack))).all()
    free: dict[int, int] = {}
    other: dict[int, int] = {}
    for product_id, in_lane, available, on_hand in stock:
        if in_lane:
            free[product_id] = free.get(product_id, 0) + int(available or 0)
        else:
            other[product_id] = other.get(product_id, 0) + int(on_hand or 0)
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(by_product)))}
    rows = [MissingSku(product=products[pid], missing=sum(ln.backordered for ln in waiting), lines=waiting,
                       available=free.get(pid, 0), elsewhere=other.get(pid, 0))
            for pid, waiting in by_product.items()]
    return sorted(rows, key=lambda r: (-r.missing, r.product.sku))


# --- the phone channel -------------------------------------------------------------------------------------------

def phone_channel(wh: Warehouse) -> Channel:
    """The warehouse's channel for orders typed in by a person (kind `pos`, code PHONE-<warehouse>), made on
    first use. It has no webhook URL: nobody outside is told about these orders."""
    code = f"PHONE-{wh.code}"[:32]
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        channel = Channel(code=code, name=PHONE_CHANNEL_NAME, kind=ChannelKind.POS, warehouse_id=wh.id)
        db.session.add(channel)
        db.session.flush()
    return channel
