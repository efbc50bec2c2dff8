"""A small warehouse for level and replenishment tests: pick lanes, reserve, quarantine, people, products."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, StockReason, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location, Warehouse
from wms.stock.services import adjust_stock


@dataclass
class World:
    warehouse: Warehouse
    other: Warehouse
    lanes: list[Location]          # WH lanes A01-01-1, A01-01-2, A01-02-1, ...
    reserve: list[Location]        # RES-01, RES-02
    quarantine: Location
    dock: Location
    mug: Product
    tea: Product
    receiver: User
    supervisor: User
    picker: User


def build_world(make_user) -> World:  # type: ignore[no-untyped-def]
    """WH: rack zone A (one rack, 3 bays x 2 levels), reserve RES-01/02, quarantine QUA-01, dock RCV-01.
    OTHER: one rack zone with lanes O01-..."""
    wh = layout.create_warehouse("WH", "Warehouse")
    zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=6)
    rep, pick = layout.add_aisle(zone, "AR0", Face.REPLENISH, 0), layout.add_aisle(zone, "AP1", Face.PICK, 1)
    layout.add_rack(zone, "A01", pick, rep, bays=3, levels=2, bay_width_m=2.0)
    res = layout.add_zone(wh, "RES", ZoneKind.RESERVE)
    reserve = [layout.add_floor_location(res, "RES-01"), layout.add_floor_location(res, "RES-02")]
    qua = layout.add_floor_location(layout.add_zone(wh, "QUA", ZoneKind.QUARANTINE), "QUA-01")
    dock = layout.add_floor_location(layout.add_zone(wh, "RCV", ZoneKind.RECEIVING_DOCK), "RCV-01")
    other = layout.create_warehouse("OTHER", "Other warehouse")
    ozone = layout.add_zone(other, "A", ZoneKind.RACK, aisle_length_m=4)
    orep, opick = layout.add_aisle(ozone, "OR0", Face.REPLENISH, 0), layout.add_aisle(ozone, "OP1", Face.PICK, 1)
    layout.add_rack(ozone, "O01", opick, orep, bays=2, levels=1, bay_width_m=2.0)
    mug, tea = Product(sku="MUG", name="Mug"), Product(sku="TEA", name="Green tea")
    db.session.add_all([mug, tea])
    db.session.flush()
    lanes = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.code)))
    return World(
        warehouse=wh, other=other, lanes=lanes, reserve=reserve, quarantine=qua, dock=dock, mug=mug, tea=tea,
        receiver=make_user("rita", roles=("receiver",), warehouses=(wh,)),
        supervisor=make_user("sam", roles=("supervisor",), warehouses=(wh,), totp=True),
        picker=make_user("pia", roles=("picker",), warehouses=(wh,)),
    )


def put(product: Product, location: Location, units: int) -> None:
    """Receive units into a location through the ledger."""
    adjust_stock(product, location, units, reason=StockReason.RECEIPT, reference="test")
