"""A shipping dock to test staging, pick-ups, manifests and departures: door DOOR-2 and sas SHIP-01 in zone SHIP,
a receiving door, a web shop with a webhook, and LABELLED shipments made by the real own-fleet carrier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import PrinterPlace, ResourceKind, TokenPurpose, ZoneKind
from wms.labels.documents.shipping import Address
from wms.layout import services as layout
from wms.layout.models import Location, Warehouse
from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus
from wms.outbound.carriers_registry import carrier_for
from wms.outbound.models import CarrierPickup, Manifest, Parcel, Shipment, ShipmentStatus
from wms.printing.models import PrintJob
from wms.shipping import carriers as shipping
from wms.waves.models import TimeSlot
from wms.webhooks.models import WebhookEvent

FROM = shipping.Party(Address("Rack-zone WMS", ("1 rue du Dépôt",), "93200", "Saint-Denis", "FR"))


@dataclass
class Dock:
    warehouse: Warehouse
    sas: Location
    receiving: Location
    channel: Channel
    other_channel: Channel
    product: Product
    supervisor: str  # bearer token
    packer: str
    channel_token: str
    other_channel_token: str


def build_dock(make_user, *, printer: bool = True) -> Dock:  # type: ignore[no-untyped-def]
    wh = layout.create_warehouse("WH", "Warehouse", timezone="Europe/Paris")
    ship = layout.add_zone(wh, "SHIP", ZoneKind.SHIP_DOCK, "Shipping dock")
    sas = layout.add_floor_location(ship, "SHIP-01")
    layout.add_resource(ship, "DOOR-2", ResourceKind.DOCK_DOOR, "Shipping door 2")
    rcv = layout.add_zone(wh, "RCV", ZoneKind.RECEIVING_DOCK, "Receiving dock")
    receiving = layout.add_floor_location(rcv, "RCV-01")
    layout.add_resource(rcv, "DOOR-1", ResourceKind.DOCK_DOOR, "Receiving door 1")
    if printer:
        layout.add_printer(wh, "PR-SHIP", place=PrinterPlace.SHIP_DOCK, zone=ship, connection="virtual://PR-SHIP")
    shop = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                   webhook_url="https://shop.example/hooks", webhook_secret="s3cret")
    market = Channel(code="MKT", name="Marketplace", kind=ChannelKind.MARKETPLACE, warehouse_id=wh.id,
                     webhook_url="https://market.example/hooks", webhook_secret="s3cret")
    product = Product(sku="MUG", name="Mug")
    db.session.add_all([shop, market, product])
    db.session.flush()
    sup = make_user(f"sup{uuid.uuid4().hex[:6]}", roles=("supervisor",), all_warehouses=True)
    packer = make_user(f"pak{uuid.uuid4().hex[:6]}", roles=("packer",), warehouses=(wh,))
    tokens = []
    for user in (sup, packer):
        tokens.append(issue_token(name="t", purpose=TokenPurpose.USER, user=user)[1])
    for channel in (shop, market):
        token, raw = issue_token(name=channel.code, purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        tokens.append(raw)
    db.session.flush()
    return Dock(wh, sas, receiving, shop, market, product, *tokens)


def labelled_shipment(dock: Dock, external_id: str, weights: tuple[int, ...] = (1200,), *,
                      channel: Channel | None = None, carrier_code: str = "own-fleet",
                      status: ShipmentStatus = ShipmentStatus.LABELLED) -> Shipment:
    """A packed order and its shipment, labelled by the real carrier (tracking numbers and SSCCs from counters)."""
    channel = channel or dock.channel
    order = Order(channel_id=channel.id, external_id=external_id, content_hash=uuid.uuid4().hex,
                  warehouse_id=dock.warehouse.id, status=OrderStatus.PACKED, carrier_code=carrier_code,
                  ship_to={"name": "Ada L.", "line1": "3 rue Oberkampf", "postcode": "75011", "city": "Paris",
                           "country": "FR"})
    order.lines = [OrderLine(line_no=1, product_id=dock.product.id, quantity=len(weights), allocated=len(weights),
                             picked=len(weights))]
    db.session.add(order)
    db.session.flush()
    carrier = carrier_for(carrier_code, dock.warehouse)
    to = shipping.Party(Address("Ada L.", ("3 rue Oberkampf",), "75011", "Paris", "FR"))
    label = carrier.create_shipment(shipping.Shipment(external_id, FROM, to,
                                                      tuple(shipping.Parcel(w) for w in weights)))
    shipment = Shipment(warehouse_id=dock.warehouse.id, order_id=order.id, carrier_code=carrier_code, status=status,
                        tracking_number=label.tracking_number, labelled_at=utcnow())
    shipment.parcels = [Parcel(seq=i, carrier_code=carrier_code, weight_g=p.weight_grams, expected_weight_g=p.weight_grams,
                               sscc=p.sscc, tracking_number=p.tracking_number)
                        for i, p in enumerate(label.parcels, start=1)]
    db.session.add(shipment)
    db.session.flush()
    return shipment


def snapshot() -> dict[str, object]:
    """What the dock services may write: compared before and after a refusal."""
    return {
        "shipments": sorted(db.session.execute(select(Shipment.id, Shipment.status, Shipment.pickup_id,
                                                      Shipment.manifest_id, Shipment.shipped_at,
                                                      Shipment.delivered_at)).all()),
        "parcels": sorted(db.session.execute(select(Parcel.id, Parcel.staged_location_id, Parcel.staged_at)).all()),
        "orders": sorted(db.session.execute(select(Order.id, Order.status)).all()),
        "pickups": sorted(db.session.execute(select(CarrierPickup.id, CarrierPickup.status,
                                                    CarrierPickup.time_slot_id, CarrierPickup.manifest_id)).all()),
        "slots": sorted(db.session.execute(select(TimeSlot.id, TimeSlot.starts_at, TimeSlot.ends_at)).all()),
        "manifests": db.session.scalar(select(func.count()).select_from(Manifest)),
        "jobs": db.session.scalar(select(func.count()).select_from(PrintJob)),
        "events": db.session.scalar(select(func.count()).select_from(WebhookEvent)),
    }
