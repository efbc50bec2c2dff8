"""Write webhook events in the same transaction as the change they describe (transactional outbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from wms.db import db, utcnow
from wms.jobs import defer_after_commit
from wms.orders.models import Channel
from wms.webhooks.models import WebhookEvent

if TYPE_CHECKING:
    from wms.orders.models import Order


def emit(channel: Channel, topic: str, object_key: str, payload: dict[str, Any]) -> WebhookEvent | None:
    """Queue one event for one channel (no-op when the channel has no webhook URL)."""
    if not channel.webhook_url or not channel.active:
        return None
    event = WebhookEvent(channel_id=channel.id, topic=topic, object_key=object_key,
                         payload={"topic": topic, "at": utcnow().isoformat(), "data": payload})
    db.session.add(event)
    # deliver right after the commit (dropped on rollback); the webhooks.sweep job catches up on anything missed
    defer_after_commit("webhooks.deliver_due", queueing_lock="webhooks.deliver_due")
    return event


def order_status_changed(order: Order) -> None:
    """Tell the order's channel its new status."""
    channel = order.channel or db.session.get(Channel, order.channel_id)
    lines = [{"line_no": ln.line_no, "sku": ln.product.sku if ln.product else None, "quantity": ln.quantity,
              "allocated": ln.allocated, "picked": ln.picked} for ln in order.lines]
    payload: dict[str, Any] = {"order_id": order.external_id, "status": order.status.value, "lines": lines}
    if order.status.value in TRACKED_ORDER_STATUSES:
        shipment = live_shipment_out(order)
        if shipment is not None:
            payload["shipment"] = shipment
    emit(channel, "order.status_changed", f"order:{order.id}", payload)
    if order.status.value == "shipped":
        from wms.channels.sync.fulfilments import record_shipped

        record_shipped(order)  # a connected channel gets its tracking written back (docs/channels.md)


TRACKED_ORDER_STATUSES = ("packed", "shipped", "delivered")


def live_shipment_out(order: Order) -> dict[str, Any] | None:
    """The carrier and tracking numbers of the order's shipment that is not cancelled, once it has them."""
    from wms.outbound.models import Shipment, ShipmentStatus

    shipment = db.session.scalar(select(Shipment).where(
        Shipment.order_id == order.id, Shipment.status != ShipmentStatus.CANCELLED,
        Shipment.tracking_number.is_not(None)).order_by(Shipment.id.desc()).limit(1))
    if shipment is None:
        return None
    return {"carrier": shipment.carrier_code, "status": shipment.status.value,
            "tracking_number": shipment.tracking_number,
            "parcels": [{"seq": p.seq, "tracking_number": p.tracking_number, "sscc": p.sscc}
                        for p in shipment.parcels]}


def stock_changed(product_id: int, warehouse_id: int) -> None:
    """Tell every channel selling from the warehouse the product's new available quantity."""
    stock_changed_many([product_id], warehouse_id)


def stock_changed_many(product_ids: list[int], warehouse_id: int) -> None:
    """Tell every channel selling from the warehouse the new available quantity of each product (few queries):
    webhooks to API channels, a debounced stock push to connected ones."""
    from wms.catalog.models import Product
    from wms.layout.models import Warehouse
    from wms.stock.availability import availability

    if not product_ids:
        return
    from wms.channels.sync.stock import mark_dirty

    mark_dirty(product_ids, warehouse_id)  # connected channels: their listings are pushed, debounced
    channels = list(db.session.scalars(select(Channel).where(
        Channel.warehouse_id == warehouse_id, Channel.webhook_url.is_not(None), Channel.active.is_(True))))
    if not channels:
        return
    db.session.flush()
    avail = availability(product_ids, warehouse_id)
    warehouse = db.session.get(Warehouse, warehouse_id).code
    for product_id in product_ids:
        sku = db.session.get(Product, product_id).sku
        for channel in channels:
            emit(channel, "stock.changed", f"stock:{warehouse}:{sku}",
                 {"sku": sku, "warehouse": warehouse, "on_hand": avail[product_id].on_hand,
                  "reserved": avail[product_id].reserved, "available": avail[product_id].available})
