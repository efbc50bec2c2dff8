"""A shipped order to return: rack lanes, a returns zone RET-01, quarantine QUA-01, a channel with webhooks.

Packing is built elsewhere, so the shipment, parcels and parcel lines are written here directly as SHIPPED."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from wms.auth.models import User
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import Base, db
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location, Warehouse
from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus
from wms.outbound.models import Parcel, ParcelLine, Shipment, ShipmentStatus
from wms.stock.models import Quant
from wms.stock.services import adjust_stock, ledger_balance


@dataclass
class World:
    warehouse: Warehouse
    lanes: list[Location]     # A01-01-1, A01-01-2, ... (pick lanes)
    returns: Location         # RET-01
    quarantine: Location      # QUA-01
    channel: Channel
    token: str                # the channel's bearer token
    supervisor: User
    receiver: User
    mug: Product
    tea: Product
    lamp: Product             # in the catalog, never sold on the orders below


def build_world(make_user) -> World:  # type: ignore[no-untyped-def]
    wh = layout.create_warehouse("WH", "Warehouse")
    zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=6)
    rep, pick = layout.add_aisle(zone, "AR0", Face.REPLENISH, 0), layout.add_aisle(zone, "AP1", Face.PICK, 1)
    layout.add_rack(zone, "A01", pick, rep, bays=3, levels=2, bay_width_m=2.0)
    ret = layout.add_floor_location(layout.add_zone(wh, "RET", ZoneKind.RETURNS), "RET-01")
    qua = layout.add_floor_location(layout.add_zone(wh, "QUA", ZoneKind.QUARANTINE), "QUA-01")
    channel = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                      webhook_url="https://shop.example/hooks", webhook_secret="s3cret")
    db.session.add(channel)
    mug, tea, lamp = Product(sku="MUG", name="Mug"), Product(sku="TEA", name="Green tea"), Product(sku="LAMP",
                                                                                                  name="Lamp")
    db.session.add_all([mug, tea, lamp])
    db.session.flush()
    token, raw = issue_token(name="shop", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
    token.channel_id = channel.id
    lanes = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.code)))
    return World(warehouse=wh, lanes=lanes, returns=ret, quarantine=qua, channel=channel, token=raw,
                 supervisor=make_user("sam", roles=("supervisor",), warehouses=(wh,), totp=True),
                 receiver=make_user("rita", roles=("receiver",), warehouses=(wh,)), mug=mug, tea=tea, lamp=lamp)


def shipped_order(world: World, external_id: str, lines: list[tuple[Product, int]], *,
                  status: ShipmentStatus = ShipmentStatus.SHIPPED, parcels: int = 1) -> Order:
    """An order whose units all left in `parcels` parcels of one shipment (units spread over the parcels)."""
    order = Order(channel_id=world.channel.id, external_id=external_id, content_hash="test",
                  warehouse_id=world.warehouse.id, status=OrderStatus.SHIPPED)
    order.lines = [OrderLine(line_no=i + 1, product_id=p.id, quantity=q, allocated=0, picked=q)
                   for i, (p, q) in enumerate(lines)]
    db.session.add(order)
    db.session.flush()
    shipment = Shipment(warehouse_id=world.warehouse.id, order_id=order.id, carrier_code="own",
                        status=status, tracking_number=f"TRK-{external_id}")
    shipment.parcels = [Parcel(seq=n + 1, carrier_code="own", tracking_number=f"TRK-{external_id}-{n + 1}")
                        for n in range(parcels)]
    db.session.add(shipment)
    db.session.flush()
    for line in order.lines:
        left = line.quantity
        for n, parcel in enumerate(shipment.parcels):
            units = left if n == parcels - 1 else min(left, line.quantity // parcels)
            if units:
                db.session.add(ParcelLine(parcel_id=parcel.id, order_line_id=line.id, product_id=line.product_id,
                                          quantity=units))
                left -= units
    db.session.flush()
    return order


def unshipped_order(world: World, external_id: str, lines: list[tuple[Product, int]]) -> Order:
    order = Order(channel_id=world.channel.id, external_id=external_id, content_hash="test",
                  warehouse_id=world.warehouse.id, status=OrderStatus.PACKED)
    order.lines = [OrderLine(line_no=i + 1, product_id=p.id, quantity=q, picked=q) for i, (p, q) in enumerate(lines)]
    db.session.add(order)
    db.session.flush()
    return order


def put(product: Product, location: Location, units: int) -> None:
    adjust_stock(product, location, units, reason=StockReason.RECEIPT, reference="test")


def counts() -> dict[str, int]:
    """Rows per table: a refusal must leave every one unchanged."""
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def ledger_balances() -> None:
    """Every quant equals the sum of its ledger rows."""
    for quant in db.session.scalars(select(Quant)):
        product, location = db.session.get(Product, quant.product_id), db.session.get(Location, quant.location_id)
        assert ledger_balance(product, location) == (quant.on_hand, quant.reserved), (product.sku, location.code)


def on_hand(product: Product, location: Location) -> int:
    return db.session.scalar(select(Quant.on_hand).where(Quant.product_id == product.id,
                                                         Quant.location_id == location.id)) or 0
