"""`wms demo seed` builds a usable demo on PostgreSQL, writes stock through the ledger, and is idempotent."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from barcode import EAN13
from sqlalchemy import func, select

from wms.auth import services as auth
from wms.auth.models import User
from wms.catalog.models import Barcode, Product
from wms.db import Base, db
from wms.demo.products import DEMO_PRODUCTS, ean13_check_digit
from wms.enums import Role, ZoneKind
from wms.layout.models import Location, Warehouse, Zone
from wms.stock import services as stock
from wms.stock.models import LedgerEntry, Quant


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def seeded(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    app.config["DEMO_TILL_TOKEN_FILE"] = str(tmp_path / "till-token")  # not the instance folder's
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        yield result.output


@pytest.mark.parametrize("body, digit", [("400638133393", "1"), ("978030640615", "7"), ("590123412345", "7")])
def test_ean13_check_digit_matches_published_barcodes(body, digit):  # type: ignore[no-untyped-def]
    assert ean13_check_digit(body) == digit


def test_every_demo_barcode_is_a_valid_ean13(seeded):  # type: ignore[no-untyped-def]
    codes = db.session.scalars(select(Barcode.code).join(Product).where(Product.sku.like("DEMO-%"))).all()
    assert len(codes) == len(DEMO_PRODUCTS) >= 40
    for code in codes:
        assert EAN13(code[:12]).get_fullcode() == code
    normalized = db.session.scalars(select(Barcode.normalized)).all()
    assert sorted(normalized) == sorted(code.zfill(14) for code in codes)


def test_demo_catalog_keeps_accents_and_zpl_control_characters_as_typed(seeded):  # type: ignore[no-untyped-def]
    names = set(db.session.scalars(select(Product.name)))
    assert "Crème de marrons 250 g" in names
    assert "Café ^XZ^XA~JA_x" in names


def test_seed_prints_its_progress(seeded):  # type: ignore[no-untyped-def]
    for step in ("layout: importing warehouse.yaml", "users: 5 created", "stock: 40 pick lanes filled",
                 "demo warehouse DEMO ready"):
        assert step in seeded


def test_demo_stock_sits_in_pick_lanes_of_both_rack_zones_and_matches_the_ledger(seeded):  # type: ignore[no-untyped-def]
    rows = db.session.execute(
        select(Zone.code, Zone.kind, Location.rack_id, Quant.product_id, Quant.location_id, Quant.on_hand)
        .join(Location, Location.id == Quant.location_id).join(Zone, Zone.id == Location.zone_id)
        .where(Zone.kind != ZoneKind.RESERVE, Location.warehouse_id.in_(select(Warehouse.id).where(Warehouse.code == "DEMO")))
    ).all()
    assert Counter(r.code for r in rows) == Counter(p.zone for p in DEMO_PRODUCTS)
    assert all(r.kind == ZoneKind.RACK and r.rack_id is not None and r.on_hand > 0 for r in rows)
    assert len({r.location_id for r in rows}) == len(rows), "one product per pick lane"
    for r in rows:
        product, lane = db.session.get(Product, r.product_id), db.session.get(Location, r.location_id)
        assert stock.ledger_balance(product, lane) == (r.on_hand, 0)
    warehouse = db.session.scalar(select(Warehouse).where(Warehouse.code == "DEMO"))
    cafe = db.session.scalar(select(Product).where(Product.name == "Café ^XZ^XA~JA_x"))
    assert stock.stock_of(cafe, warehouse).available == next(p.units for p in DEMO_PRODUCTS if p.sku == cafe.sku)


def test_demo_people_can_sign_in_with_the_credentials_on_the_banner(seeded):  # type: ignore[no-untyped-def]
    from wms.demo.users import DEMO_USERS

    for demo in DEMO_USERS:
        user = auth.authenticate_password(demo.username, demo.password, "127.0.0.1")
        assert user.roles == {demo.role}
        assert user.needs_second_factor == (demo.role in (Role.ADMIN, Role.SUPERVISOR))
        assert not user.has_totp, "admins and supervisors enrol their own authenticator at first sign-in"
        if demo.badge:
            assert auth.authenticate_badge(demo.badge, demo.pin, "127.0.0.1").id == user.id
    badged = {u.username for u in db.session.scalars(select(User).where(User.badge_code.is_not(None)))}
    assert badged == {"picker", "receiver"}


def test_second_seed_changes_nothing(app, runner, seeded):  # type: ignore[no-untyped-def]
    before = _row_counts()
    ledger_before = db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all()
    db.session.rollback()
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "users: 0 created, 5 already there" in again.output
    assert "stock: 0 pick lanes filled, 40 already stocked" in again.output
    assert "reserve: 0 pallets stored, 5 already there" in again.output
    assert "levels: 0 set, 7 already there" in again.output
    layout_counts = re.findall(r"created +(\d+) +updated +(\d+) +unchanged +(\d+) +removed +(\d+)",
                               again.output.split("shop: importing")[0])  # the shop: tests/integration/test_demo_shop.py
    assert len(layout_counts) == 7
    assert all((c, u, r) == ("0", "0", "0") and int(same) > 0 for c, u, same, r in layout_counts)
    assert _row_counts() == before
    assert db.session.scalars(select(LedgerEntry.id).order_by(LedgerEntry.id)).all() == ledger_before


def test_demo_reserve_and_levels_make_the_stock_dashboard_show_real_alerts(seeded):  # type: ignore[no-untyped-def]
    from wms.replenishment.services import purchase_suggestions
    from wms.stock.levels_services import below_minimum

    assert "reserve: 5 pallets stored" in seeded and "levels: 7 set" in seeded
    warehouse = db.session.scalar(select(Warehouse).where(Warehouse.code == "DEMO"))
    reserve = db.session.execute(
        select(Location.code, Quant.on_hand).join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id).where(Zone.kind == ZoneKind.RESERVE)).all()
    assert sum(units for _code, units in reserve) == 96 + 36 + 10 + 20 + 48
    actions = {(a.sku, a.scope): (a.action.kind, a.action.quantity, a.action.source, a.action.short)
               for a in below_minimum(warehouse)}
    assert actions == {
        ("DEMO-001", "lane"): ("replenish", 72, "RES-01", 0),
        ("DEMO-007", "lane"): ("replenish", 30, "RES-02", 0),
        ("DEMO-017", "lane"): ("replenish", 20, "RES-03", 15),
        ("DEMO-026", "lane"): ("buy", 8, None, 8),
        ("DEMO-031", "warehouse"): ("buy", 24, None, 24),
    }
    assert [(s.sku, s.quantity) for s in purchase_suggestions(warehouse)] == [("DEMO-031", 24)]


def test_a_second_seed_leaves_what_people_did_since_alone(app, runner, seeded):  # type: ignore[no-untyped-def]
    from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus
    from wms.outbound import dock
    from wms.outbound.models import (
        Box,
        CarrierPickup,
        Parcel,
        ParcelLine,
        PickupStatus,
        Shipment,
        ShipmentStatus,
    )
    from wms.returns.models import Rma

    warehouse = db.session.scalar(select(Warehouse).where(Warehouse.code == "DEMO"))
    product = db.session.scalar(select(Product).where(Product.sku == "DEMO-001"))
    # Someone ships an order of the demo catalogue, renames a demo box and cancels the demo pick-ups.
    channel = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse.id)
    db.session.add(channel)
    db.session.flush()
    order = Order(channel_id=channel.id, external_id="SHOP-1", content_hash="x", warehouse_id=warehouse.id,
                  status=OrderStatus.SHIPPED,
                  lines=[OrderLine(line_no=1, product_id=product.id, quantity=2, allocated=0, picked=2)])
    db.session.add(order)
    db.session.flush()
    shipment = Shipment(warehouse_id=warehouse.id, order_id=order.id, carrier_code="own-fleet",
                        status=ShipmentStatus.SHIPPED, tracking_number="TRK-1",
                        parcels=[Parcel(seq=1, carrier_code="own-fleet", tracking_number="TRK-1-1")])
    db.session.add(shipment)
    db.session.flush()
    db.session.add(ParcelLine(parcel_id=shipment.parcels[0].id, order_line_id=order.lines[0].id,
                              product_id=product.id, quantity=2))
    db.session.scalar(select(Box).where(Box.code == "M")).name = "Our medium carton"
    for pickup in db.session.scalars(select(CarrierPickup).where(CarrierPickup.warehouse_id == warehouse.id)):
        dock.cancel_pickup(pickup)
    db.session.commit()
    before = _row_counts()

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert db.session.scalars(select(Rma)).all() == []
    assert _row_counts() == before
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED
    assert db.session.scalar(select(Box.name).where(Box.code == "M")) == "Our medium carton"
    statuses = db.session.scalars(select(CarrierPickup.status).where(CarrierPickup.warehouse_id == warehouse.id))
    assert set(statuses) == {PickupStatus.CANCELLED}
