"""The supervisor's order pages: search and filters with paging, one order's whole story, phone orders typed in,
hold/release/cancel with refusals in words, and the backorders per SKU."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from tests.integration.stock_world import build_world, put
from wms.db import db
from wms.layout.models import Zone
from wms.orders.models import Channel, ChannelKind, Order, OrderStatus
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.outbound.models import Parcel, Shipment, ShipmentStatus, TrackingEventRecord
from wms.stock.models import Quant
from wms.waves.models import PickOrder, PickOrderLine, Wave, WaveOrder

CUTOFF = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)   # 16:00 in Paris


@dataclass
class Orders:
    warehouse_code: str
    shipped_id: int
    waiting_id: int
    open_id: int


def build_orders(make_user) -> tuple[Orders, object]:  # type: ignore[no-untyped-def]
    """WH (Europe/Paris): 10 MUG in lane 0, no TEA. A-100 (Ana, MUG 2) shipped with GLS in 2 parcels and planned
    in a wave; B-200 (Bob, TEA 3) backordered; C-300 (Cy, MUG 1) allocated, cutoff Monday 16:00."""
    world = build_world(make_user)
    world.warehouse.timezone = "Europe/Paris"
    put(world.mug, world.lanes[0], 10)
    shop = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=world.warehouse.id,
                   webhook_url="https://shop.example/hooks", webhook_secret="s3cret")
    db.session.add(shop)
    db.session.flush()

    def order(external_id: str, name: str, sku: str, qty: int, **extra) -> Order:  # type: ignore[no-untyped-def]
        ship_to = {"name": name, "line1": "1 rue A", "postcode": "75010", "city": "Paris", "country": "FR"}
        return create_order(shop, OrderRequest(external_id=external_id, lines=[LineRequest(sku, qty)],
                                               ship_to=ship_to, customer_email=f"{name.lower()}@example.com",
                                               **extra)).order

    shipped = order("A-100", "Ana", "MUG", 2, carrier_code="gls")
    waiting = order("B-200", "Bob", "TEA", 3)
    opened = order("C-300", "Cy", "MUG", 1, cutoff_at=CUTOFF)
    zone = db.session.scalar(select(Zone).where(Zone.warehouse_id == world.warehouse.id, Zone.code == "A"))
    wave = Wave(warehouse_id=world.warehouse.id, code="W-0001", created_at=shipped.created_at)
    db.session.add(wave)
    db.session.flush()
    db.session.add(WaveOrder(wave_id=wave.id, order_id=shipped.id, active=False, batch_no=1))
    op = PickOrder(warehouse_id=world.warehouse.id, wave_id=wave.id, zone_id=zone.id, code="OP-0001-A")
    db.session.add(op)
    db.session.flush()
    line = shipped.lines[0]
    db.session.add(PickOrderLine(pick_order_id=op.id, seq=0, order_line_id=line.id, location_id=world.lanes[0].id,
                                 product_id=world.mug.id, quantity=2))
    shipped.status = OrderStatus.SHIPPED
    when = shipped.created_at + dt.timedelta(hours=2)
    shipment = Shipment(warehouse_id=world.warehouse.id, order_id=shipped.id, carrier_code="gls",
                        status=ShipmentStatus.SHIPPED, tracking_number="GLS123", labelled_at=when, shipped_at=when)
    shipment.parcels = [Parcel(seq=1, carrier_code="gls", tracking_number="GLS123"),
                        Parcel(seq=2, carrier_code="gls", tracking_number="GLS124")]
    db.session.add(shipment)
    db.session.flush()
    db.session.add(TrackingEventRecord(shipment_id=shipment.id, carrier_code="gls", tracking_number="GLS123",
                                       at=when, status="in_transit", code="INTRANSIT", text="Colis en transit",
                                       location="Lyon"))
    db.session.flush()
    return Orders(world.warehouse.code, shipped.id, waiting.id, opened.id), world


@pytest.fixture
def orders(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        built, world = build_orders(make_user)
        db.session.commit()
        return built, world


@pytest.fixture
def page(client, orders, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, orders[1].supervisor)
    return client


def listed(client, **args) -> str:  # type: ignore[no-untyped-def]
    r = client.get("/warehouses/WH/orders", query_string=args)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_the_list_finds_orders_by_id_customer_sku_status_cutoff_carrier_and_hold(page) -> None:
    everything = listed(page)
    assert all(o in everything for o in ("A-100", "B-200", "C-300")) and "3 orders" in everything
    assert "A-100" in listed(page, q="a-10") and "B-200" not in listed(page, q="a-10")
    only_bob = listed(page, q="Bob")
    assert "B-200" in only_bob and "A-100" not in only_bob and "C-300" not in only_bob
    by_sku = listed(page, q="TEA")
    assert "B-200" in by_sku and "C-300" not in by_sku
    by_status = listed(page, status="backordered")
    assert "B-200" in by_status and "A-100" not in by_status
    by_cutoff = listed(page, cutoff_from="2026-12-07T15:30", cutoff_to="2026-12-07T16:30")  # Paris time
    assert "C-300" in by_cutoff and "A-100" not in by_cutoff and "1 order" in by_cutoff
    assert "C-300" not in listed(page, cutoff_to="2026-12-07T15:30")
    by_carrier = listed(page, carrier="gls")
    assert "A-100" in by_carrier and "B-200" not in by_carrier
    assert "No order matches" in listed(page, held="1")
    odd = listed(page, status="lost", cutoff_from="tomorrow")  # ignored with a word, never a 500
    assert "is unknown and is ignored" in odd and "3 orders" in odd
    assert page.get("/warehouses/OTHER/orders").status_code == 403    # outside the supervisor's warehouses


def test_the_list_pages_with_a_page_size_and_a_total(page) -> None:
    first = listed(page, per_page=2)
    assert "3 orders" in first and "2 per page" in first and "Page 1 of 2" in first
    assert "per_page=2" in first and "page=2" in first                 # the next page keeps the size
    second = listed(page, per_page=2, page=2)
    assert "Page 2 of 2" in second and "A-100" in second and "C-300" not in second  # newest first
    assert "Page 2 of 2" in listed(page, per_page=2, page=99)
    assert "50 per page" in listed(page, per_page="lots")


def test_the_order_page_tells_lines_lanes_history_wave_shipment_and_webhooks(page, orders) -> None:
    built, _world = orders
    html = page.get(f"/orders/{built.shipped_id}").get_data(as_text=True)
    assert "A01-01-1" in html and "× 2" in html                     # reserved in this lane
    assert "W-0001" in html and "OP-0001-A" in html                # the wave and its pick order
    assert 'href="https://gls-group.com/FR/fr/suivi-colis?match=GLS123"' in html
    assert "GLS124" in html and "Colis en transit" in html
    assert "order.status_changed" in html and "allocated" in html   # webhook log and history
    assert "planned in wave" in html and "shipped" in html
    assert "Europe/Paris" in html
    cy = page.get(f"/orders/{built.open_id}").get_data(as_text=True)
    assert "2026-12-07 16:00" in cy                                  # the cutoff in the warehouse's time
    assert page.get("/orders/999999").status_code == 404


def test_a_phone_order_is_taken_and_reserves_stock_and_bad_input_is_explained(app, page) -> None:
    form = {"lines": "MUG 3\n", "name": "Dee", "line1": "2 rue B", "postcode": "69001", "city": "Lyon",
            "country": "fr", "email": "dee@example.com", "cutoff_at": "2026-12-08T12:00", "external_id": "TEL-1"}
    assert page.get("/warehouses/WH/orders/new").status_code == 200
    r = page.post("/warehouses/WH/orders", data=form)
    assert r.status_code == 303, r.get_data(as_text=True)
    with app.app_context():
        taken = db.session.scalar(select(Order).where(Order.external_id == "TEL-1"))
        assert taken.channel.code == "PHONE-WH" and taken.channel.kind == ChannelKind.POS
        assert taken.status == OrderStatus.ALLOCATED and taken.lines[0].allocated == 3
        assert taken.cutoff_at == dt.datetime(2026, 12, 8, 11, 0, tzinfo=dt.UTC)
        assert db.session.scalar(select(func.sum(Quant.reserved))) == 2 + 1 + 3
        count = db.session.scalar(select(func.count()).select_from(Order))
    assert "is taken and its stock is reserved" in page.get(r.headers["Location"]).get_data(as_text=True)

    for bad, says in ((dict(form, lines="MUG two"), "write a SKU and a quantity"),
                      (dict(form, lines="LAMP 1", external_id="TEL-2"), "unknown SKU"),
                      (dict(form, postcode="", external_id="TEL-3"), "postcode"),
                      (dict(form, lines="MUG 1"), "already exists"),
                      (dict(form, cutoff_at="soon", external_id="TEL-4"), "not a date and time")):
        r = page.post("/warehouses/WH/orders", data=bad)
        assert 400 <= r.status_code < 500 and says in r.get_data(as_text=True), (bad, r.status_code)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == count


def test_hold_release_and_cancel_from_the_order_page_with_refusals_in_words(app, page, orders) -> None:
    built, _world = orders
    cy = f"/orders/{built.open_id}"
    assert "Say why" in page.post(f"{cy}/hold", data={"reason": " "}, follow_redirects=True).get_data(as_text=True)
    html = page.post(f"{cy}/hold", data={"reason": "customer called"}, follow_redirects=True).get_data(as_text=True)
    assert "is held" in html and "customer called" in html
    assert "1 order" in listed(page, held="1")
    html = page.post(f"{cy}/release", follow_redirects=True).get_data(as_text=True)
    assert "is released" in html
    assert "is not held" in page.post(f"{cy}/release", follow_redirects=True).get_data(as_text=True)
    assert "Tick the box" in page.post(f"{cy}/cancel", follow_redirects=True).get_data(as_text=True)
    shipped = page.post(f"/orders/{built.shipped_id}/cancel", data={"confirm": "yes"}, follow_redirects=True)
    assert shipped.status_code == 200 and "can no longer be cancelled" in shipped.get_data(as_text=True)
    held_shipped = page.post(f"/orders/{built.shipped_id}/hold", data={"reason": "x"}, follow_redirects=True)
    assert "cannot be held now" in held_shipped.get_data(as_text=True)
    with app.app_context():  # a wave holds it now: neither held nor cancelled until the wave lets go
        wave = Wave(warehouse_id=db.session.get(Order, built.open_id).warehouse_id, code="W-0002")
        db.session.add(wave)
        db.session.flush()
        link = WaveOrder(wave_id=wave.id, order_id=built.open_id, active=True)
        db.session.add(link)
        db.session.commit()
    for action, says in (("hold", "before holding the order"), ("cancel", "cancel that wave")):
        html = page.post(f"{cy}/{action}", data={"reason": "x", "confirm": "yes"},
                         follow_redirects=True).get_data(as_text=True)
        assert says in html, action
    with app.app_context():
        db.session.execute(update(WaveOrder).values(active=False))
        db.session.commit()
    html = page.post(f"{cy}/cancel", data={"confirm": "yes"}, follow_redirects=True).get_data(as_text=True)
    assert "is cancelled" in html
    with app.app_context():
        order = db.session.get(Order, built.open_id)
        assert order.status == OrderStatus.CANCELLED and order.hold_kind is None
        assert db.session.scalar(select(func.sum(Quant.reserved))) == 2


def test_the_backorders_say_what_is_missing_per_sku_and_where_stock_is(app, page, orders) -> None:
    _built, world = orders
    with app.app_context():
        put(world.tea, world.reserve[0], 5)   # on hand, but not in a pick lane: still missing
        db.session.commit()
    html = page.get("/warehouses/WH/backorders").get_data(as_text=True)
    assert "TEA" in html and "B-200" in html and "3 of 3" in html and "MUG</code>" not in html
    assert "<td class=\"num\">5</td>" in html


def test_the_order_pages_speak_french(page, orders) -> None:
    page.post("/auth/language", data={"locale": "fr", "next": "/"})
    html = page.get("/warehouses/WH/orders").get_data(as_text=True)
    assert 'lang="fr"' in html
    assert "Commandes de WH" in html and "3 commandes" in html and "Commande téléphonique" in html
    assert "en reliquat" in html and "heures en Europe/Paris" in html
    pages = {f"/orders/{orders[0].shipped_id}": ["Expéditions", "Webhooks envoyés au canal", "expédiée", "Colis 2"],
             "/warehouses/WH/backorders": ["Reliquats de WH", "Manquant", "3 sur 3"],
             "/warehouses/WH/orders/new": ["Prendre la commande", "Nom du client"]}
    for path, words in pages.items():
        html = page.get(path).get_data(as_text=True)
        assert all(w in html for w in words), (path, [w for w in words if w not in html])
