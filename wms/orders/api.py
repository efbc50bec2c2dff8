"""Channel-facing API: orders (idempotent intake), available stock, till sales; supervisors: adjustments,
transfers, channels and their webhook log."""

from __future__ import annotations

import secrets

from flask import request
from sqlalchemy import select

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import ApiToken, User
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import TokenPurpose
from wms.errors import Conflict, Forbidden, NotFound
from wms.layout.models import Warehouse
from wms.orders import schemas as s
from wms.orders.models import Channel, ChannelKind, Order
from wms.orders.services import LineRequest, OrderRequest, cancel_order, create_order, get_order
from wms.outbound import carrier_choice
from wms.outbound import carriers_registry as carriers
from wms.outbound.models import Shipment, ShipmentStatus
from wms.stock import operations as ops
from wms.stock.availability import availability
from wms.webhooks.models import WebhookEvent

CHANNEL_ROLES = ("supervisor",)


def _actor() -> ops.Actor:
    p = _principal()
    return ops.Actor(
        user=db.session.get(User, p.user_id) if p.user_id else None,
        token=db.session.get(ApiToken, p.token_id) if p.token_id else None,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )


def _channel(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    p = _principal()
    if channel is None:
        raise NotFound(f"No channel {code!r}.")
    if p.is_machine and p.channel_id != channel.id:
        raise Forbidden(f"This token does not speak for channel {code}.")
    p.require_warehouse(channel.warehouse_id)
    if not channel.active:
        raise Conflict(f"Channel {code} is deactivated.")
    return channel


def _shipments_out(order: Order) -> list[s.OrderShipmentOut]:
    shipments = db.session.scalars(select(Shipment).where(
        Shipment.order_id == order.id, Shipment.tracking_number.is_not(None),
        Shipment.status != ShipmentStatus.CANCELLED).order_by(Shipment.id))
    return [s.OrderShipmentOut(
        carrier=sh.carrier_code, service=carriers.carrier_service(sh.carrier_code), status=sh.status.value,
        tracking_number=sh.tracking_number, tracking_numbers=[p.tracking_number for p in sh.parcels if p.tracking_number],
        tracking_url=carriers.tracking_url(sh.carrier_code, sh.tracking_number), parcel_count=len(sh.parcels),
        labelled_at=sh.labelled_at, shipped_at=sh.shipped_at) for sh in shipments]


def _carrier_warnings(choice: carriers.CarrierChoice, used: str) -> list[s.OrderWarning]:
    if choice.reason is None:
        return []
    message = choice.reason
    if used != choice.used:  # a carrier rule chose it, not the default
        message = (f"carrier {choice.requested!r} is not configured here (the carriers are "
                   f"{', '.join(carriers.carrier_codes())}); {used!r} is used, chosen by the carrier rules")
    return [s.OrderWarning(code="carrier-not-configured", field="carrier", message=message)]


def _hold_out(order: Order) -> s.OrderHoldOut | None:
    if order.hold_kind is None:
        return None
    return s.OrderHoldOut(kind=order.hold_kind, reason=order.hold_reason or "", held_at=order.held_at)


def _order_out(order: Order) -> s.OrderOut:
    choice = carriers.choose_carrier(order.carrier_code)
    chosen = carrier_choice.shipping_carrier(order)
    shipments = _shipments_out(order)
    return s.OrderOut(
        external_id=order.external_id, channel=order.channel.code, warehouse=order.channel.warehouse.code,
        status=order.status.value, priority=order.priority, cutoff_at=order.cutoff_at, carrier=order.carrier_code,
        carrier_used=shipments[-1].carrier if shipments else chosen, warnings=_carrier_warnings(choice, chosen),
        carrier_service=order.carrier_service, carrier_reason=order.carrier_reason, hold=_hold_out(order),
        created_at=order.created_at, shipments=shipments, currency=order.currency,
        lines=[s.OrderLineOut(line_no=ln.line_no, sku=ln.product.sku, quantity=ln.quantity, allocated=ln.allocated,
                              backordered=ln.backordered, picked=ln.picked, unit_price=ln.unit_price)
               for ln in order.lines],
    )


def _stock_out(warehouse: Warehouse, products: list) -> list[s.StockOut]:  # type: ignore[type-arg]
    avail = availability([p.id for p in products], warehouse.id)
    promised = _channel_promise([p.id for p in products])
    return [s.StockOut(sku=p.sku, warehouse=warehouse.code, on_hand=avail[p.id].on_hand,
                       reserved=avail[p.id].reserved,
                       available=promised[p.id] if promised is not None else avail[p.id].available)
            for p in products]


def _channel_promise(product_ids: list[int]) -> dict[int, int] | None:
    """For a connected channel's own token: what that channel may sell (wms.channels.availability), else None."""
    from wms.channels.availability import channel_available
    from wms.channels.sync.common import connection_of

    p = _principal()
    if not p.is_machine or not p.channel_id or connection_of(p.channel_id) is None:
        return None
    return channel_available(db.session.get(Channel, p.channel_id), product_ids)


@operation("/channels/<channel_code>/orders", "POST", summary="Create an order (idempotent per channel order id)",
           tags=["orders"], body=s.OrderIn, response=s.OrderOut, status=201, purposes=("channel",),
           roles=CHANNEL_ROLES, idempotent=True, errors=(409,), also=(200,))
def create_channel_order(channel_code: str, body: s.OrderIn):  # type: ignore[no-untyped-def]
    """Stock is reserved in the same transaction; units no pick lane can give are backordered (201). The same
    `external_id` again returns the existing order (200); with different content it is refused (409).
    A `carrier` not configured here is replaced by the default carrier: `carrier_used` names it and `warnings`
    says why; with `strict_carrier: true` the order is refused instead (422 `carrier-not-configured`)."""
    channel = _channel(channel_code)
    choice = carriers.choose_carrier(body.carrier)
    if body.strict_carrier and choice.reason is not None:
        raise carriers.CarrierNotConfigured(choice.reason, errors=[{"field": "carrier", "message": choice.reason}],
                                            carriers=carriers.carrier_codes())
    req = OrderRequest(
        external_id=body.external_id,
        lines=[LineRequest(ln.sku, ln.quantity, unit_price=ln.unit_price) for ln in body.lines],
        priority=body.priority, cutoff_at=body.cutoff_at, carrier_code=body.carrier,
        ship_to=body.ship_to.model_dump(exclude_none=True) if body.ship_to else {}, currency=body.currency,
        shipping_method=body.shipping_method, relay_point_id=body.relay_point_id,
    )
    result = create_order(channel, req, actor_token_id=_principal().token_id)
    return _order_out(result.order), 201 if result.created else 200


@operation("/channels/<channel_code>/orders/<external_id>", "GET", summary="Read an order and its status",
           tags=["orders"], response=s.OrderOut, purposes=("channel",), roles=CHANNEL_ROLES)
def read_channel_order(channel_code: str, external_id: str) -> s.OrderOut:
    """Lines show ordered, allocated, backordered and picked units; `shipments` what was labelled and shipped:
    carrier, service, tracking numbers, tracking URL and parcel count."""
    return _order_out(get_order(_channel(channel_code), external_id))


@operation("/channels/<channel_code>/orders/<external_id>/cancel", "POST", summary="Cancel an order",
           tags=["orders"], response=s.OrderOut, purposes=("channel",), roles=CHANNEL_ROLES, idempotent=True,
           errors=(409,))
def cancel_channel_order(channel_code: str, external_id: str) -> s.OrderOut:
    """Possible until picking starts; reserved units become available again (and serve backorders)."""
    order = get_order(_channel(channel_code), external_id)
    return _order_out(cancel_order(order))


@operation("/warehouses/<code>/stock/<sku>", "GET", summary="Available stock of one SKU", tags=["stock"],
           response=s.StockOut, purposes=("channel",), roles=("supervisor", "picker", "receiver", "packer"))
def read_stock(code: str, sku: str) -> s.StockOut:
    """Pick-lane stock: on hand, reserved for orders, and available to promise."""
    warehouse = _warehouse(code)
    return _stock_out(warehouse, [ops.product_by_sku(sku)])[0]


@operation("/warehouses/<code>/stock", "GET", summary="Available stock of many SKUs", tags=["stock"],
           query=s.StockQuery, response=list[s.StockOut], purposes=("channel",),
           roles=("supervisor", "picker", "receiver", "packer"))
def read_stock_bulk(code: str, query: s.StockQuery) -> list[s.StockOut]:
    """Repeat `sku` (up to 500). Unknown SKUs are refused with 404 naming them."""
    warehouse = _warehouse(code)
    from wms.catalog.models import Product

    wanted = list(dict.fromkeys(query.sku))
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(wanted)))}
    missing = [sku for sku in wanted if sku not in products]
    if missing:
        raise NotFound("Unknown SKU: " + ", ".join(missing[:20]), errors=[{"field": "sku", "message": m}
                                                                          for m in missing[:20]])
    return _stock_out(warehouse, [products[sku] for sku in wanted])


@operation("/warehouses/<code>/sales", "POST", summary="A till (POS) sale: stock leaves now", tags=["stock"],
           body=s.SaleIn, response=s.SaleOut, status=201, purposes=("channel",), roles=("supervisor",),
           idempotent=True, errors=(409,))
def till_sale(code: str, body: s.SaleIn) -> s.SaleOut:
    """Takes the units from available pick-lane stock, all lines or none (409 when short)."""
    warehouse = _warehouse(code)
    products = ops.sell(warehouse, body.reference, [(ln.sku, ln.quantity) for ln in body.lines], _actor())
    return s.SaleOut(reference=body.reference, warehouse=warehouse.code, lines=_stock_out(warehouse, products))


@operation("/warehouses/<code>/adjustments", "POST", summary="Adjust or count the stock of a location",
           tags=["stock"], body=s.AdjustmentIn, response=s.AdjustmentOut, status=201, roles=("supervisor",),
           idempotent=True, errors=(409,))
def stock_adjustment(code: str, body: s.AdjustmentIn) -> s.AdjustmentOut:
    """`delta` adds or removes units; `counted` sets the location to what was counted. Never below reserved."""
    warehouse = _warehouse(code)
    quant, delta = ops.adjust(warehouse, body.sku, body.location, delta=body.delta, counted=body.counted,
                              actor=_actor(), note=body.note)
    return s.AdjustmentOut(sku=body.sku, location=body.location, on_hand=quant.on_hand, reserved=quant.reserved,
                           delta=delta)


@operation("/transfers", "POST", summary="Move stock between locations or warehouses", tags=["stock"],
           body=s.TransferIn, response=s.TransferOut, status=201, roles=("supervisor",), idempotent=True,
           errors=(409,))
def stock_transfer(body: s.TransferIn) -> s.TransferOut:
    """Both sides in one transaction; the caller must have both warehouses in scope."""
    src_wh, dst_wh = _warehouse(body.source.warehouse), _warehouse(body.destination.warehouse)
    out, into = ops.transfer(body.sku, body.quantity, (src_wh, body.source.location),
                             (dst_wh, body.destination.location), _actor(), note=body.note)
    return s.TransferOut(
        sku=body.sku, quantity=body.quantity,
        source=s.AdjustmentOut(sku=body.sku, location=body.source.location, on_hand=out.on_hand,
                               reserved=out.reserved, delta=-body.quantity),
        destination=s.AdjustmentOut(sku=body.sku, location=body.destination.location, on_hand=into.on_hand,
                                    reserved=into.reserved, delta=body.quantity),
    )


def _channel_out(channel: Channel) -> s.ChannelOut:
    return s.ChannelOut(code=channel.code, name=channel.name, kind=channel.kind.value,
                        warehouse=channel.warehouse.code, webhook_url=channel.webhook_url, active=channel.active)


@operation("/channels", "GET", summary="Sales channels", tags=["channels"], response=list[s.ChannelOut],
           roles=("supervisor",))
def list_channels() -> list[s.ChannelOut]:
    """Channels of the warehouses in the caller's scope."""
    p = _principal()
    channels = db.session.scalars(select(Channel).order_by(Channel.code))
    return [_channel_out(c) for c in channels if p.can_see_warehouse(c.warehouse_id)]


@operation("/channels", "POST", summary="Create a sales channel with its token and webhook secret",
           tags=["channels"], body=s.ChannelIn, response=s.ChannelCreated, status=201, roles=("admin",),
           errors=(409,))
def create_channel(body: s.ChannelIn) -> s.ChannelCreated:
    """The token and the webhook secret are shown once, in this response."""
    warehouse = _warehouse(body.warehouse)
    if db.session.scalar(select(Channel.id).where(Channel.code == body.code)) is not None:
        raise Conflict(f"A channel with code {body.code!r} already exists.")
    secret = secrets.token_urlsafe(32) if body.webhook_url else None
    channel = Channel(code=body.code, name=body.name, kind=ChannelKind(body.kind), warehouse_id=warehouse.id,
                      webhook_url=body.webhook_url, webhook_secret=secret)
    db.session.add(channel)
    db.session.flush()
    p = _principal()
    token, raw = issue_token(name=f"channel {channel.code}", purpose=TokenPurpose.CHANNEL, warehouse_id=warehouse.id,
                             created_by=db.session.get(User, p.user_id) if p.user_id else None)
    token.channel_id = channel.id
    db.session.flush()
    return s.ChannelCreated(**_channel_out(channel).model_dump(), webhook_secret=secret, token=raw)


@operation("/channels/<channel_code>/webhooks", "GET", summary="Webhook delivery log of a channel",
           tags=["channels"], query=s.WebhookEventsQuery, response=list[s.WebhookEventOut],
           purposes=("channel",), roles=("supervisor",))
def channel_webhook_log(channel_code: str, query: s.WebhookEventsQuery) -> list[s.WebhookEventOut]:
    """Newest first: what was sent, how often it was tried, and the last error."""
    channel = _channel(channel_code)
    q = select(WebhookEvent).where(WebhookEvent.channel_id == channel.id)
    if query.status == "pending":
        q = q.where(WebhookEvent.delivered_at.is_(None))
    elif query.status == "delivered":
        q = q.where(WebhookEvent.delivered_at.is_not(None))
    events = db.session.scalars(q.order_by(WebhookEvent.id.desc()).limit(query.limit))
    return [s.WebhookEventOut.model_validate(e, from_attributes=True) for e in events]
