"""A released wave for handheld tests: the wave test site, EAN-13 barcodes on every product, a sas drop point,
a picker and a receiver, planned and released by the wave services (one pick task per OP line)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tests.wave_data import NOW, WaveSite, build_site
from wms.auth.models import User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret
from wms.catalog import services as catalog
from wms.catalog.barcodes import gs1_check_digit
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Role, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.waves import services as waves
from wms.waves.models import PickOrder, Wave

PIN = "4321"


@dataclass
class PickWorld:
    site: WaveSite
    wave: Wave
    picker: User
    receiver: User
    sas: Location

    def ops(self) -> list[PickOrder]:
        return list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == self.wave.id)
                                       .order_by(PickOrder.zone_id, PickOrder.seq)))


def ean_for(product: Product) -> str:
    body = f"40{product.id:010d}"
    return body + str(gs1_check_digit(body))


def person(username: str, role: Role, warehouse_id: int, badge: str) -> User:
    user = User(username=username, display_name=username.title(), badge_code=badge, pin_hash=hash_secret(PIN))
    user.role_rows = [UserRole(role=role)]
    user.warehouse_rows = [UserWarehouse(warehouse_id=warehouse_id)]
    db.session.add(user)
    db.session.flush()
    return user


def build_world(*, orders: int = 2, quarantine: bool = False) -> PickWorld:
    """Zones A and B with stocked lanes, `orders` orders (2 units in A, 1 in B each), released as one wave."""
    site = build_site(orders=orders)
    for product in db.session.scalars(select(Product).order_by(Product.id)):
        catalog.add_barcode(product, ean_for(product))
    sas_zone = layout.add_zone(site.warehouse, "SAS", ZoneKind.SAS)
    sas = layout.add_floor_location(sas_zone, "SAS-01")
    if quarantine:
        layout.add_floor_location(layout.add_zone(site.warehouse, "QT", ZoneKind.QUARANTINE), "QT-01")
    wave = waves.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    waves.release_wave(wave, None)
    picker = person("pia", Role.PICKER, site.warehouse.id, "B-PIA")
    receiver = person("remi", Role.RECEIVER, site.warehouse.id, "B-REMI")
    return PickWorld(site, wave, picker, receiver, sas)
