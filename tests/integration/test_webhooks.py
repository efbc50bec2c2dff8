"""Webhooks through the outbox: signed, retried with backoff, in order per object, nothing lost while a receiver is down."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind
from wms.stock.services import adjust_stock
from wms.webhooks.dispatcher import SIGNATURE_HEADER, run_once, verify
from wms.webhooks.models import WebhookDelivery, WebhookEvent

SECRET = "whsec-test"


class Receiver:
    """A channel's webhook endpoint on 127.0.0.1 that can be down (nothing listening) or up."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.received: list[dict] = []  # type: ignore[type-arg]
        self.bad_signatures = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not verify(SECRET, self.headers.get(SIGNATURE_HEADER, ""), body):
                    outer.bad_signatures += 1
                    self.send_response(401)
                else:
                    outer.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.down()


@pytest.fixture
def shop(app, receiver):  # type: ignore[no-untyped-def]
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
        rep = layout.add_aisle(zone, "R0", Face.REPLENISH, 0)
        pick = layout.add_aisle(zone, "P1", Face.PICK, 1)
        layout.add_rack(zone, "A01", pick, rep, bays=2, levels=1, bay_width_m=2.0)
        for sku in ("MUG", "TEA"):
            db.session.add(Product(sku=sku, name=sku.title()))
        db.session.flush()
        lane = db.session.scalars(select(Location).where(Location.zone_id == zone.id)).first()
        mug = db.session.scalar(select(Product).where(Product.sku == "MUG"))
        adjust_stock(mug, lane, 5, reason=StockReason.RECEIPT)
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                          webhook_url=receiver.url, webhook_secret=SECRET)
        db.session.add(channel)
        db.session.flush()
        token, raw = issue_token(name="shop", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        db.session.commit()
        return raw


def _post(client, token: str, path: str, body: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}",
                                                 "Idempotency-Key": str(uuid.uuid4())})


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_receiver_down_for_a_while_gets_every_event_once_back_in_order(app, client, shop, receiver) -> None:  # type: ignore[no-untyped-def]
    token = shop
    assert _post(client, token, "/api/v1/channels/SHOP/orders",
                 {"external_id": "o-1", "lines": [{"sku": "MUG", "quantity": 2}]}).status_code == 201
    assert _post(client, token, "/api/v1/channels/SHOP/orders",
                 {"external_id": "o-2", "lines": [{"sku": "MUG", "quantity": 9}]}).status_code == 201
    assert _post(client, token, "/api/v1/channels/SHOP/orders/o-1/cancel").status_code == 200
    factory = app.extensions["wms.db"]
    clock = Clock()
    for _ in range(5):  # receiver down: every attempt fails and is rescheduled later
        delivered, failed = run_once(factory, clock=clock)
        assert delivered == 0
        clock.now += dt.timedelta(minutes=10)
    with app.app_context():
        pending = db.session.scalar(select(func.count()).select_from(WebhookEvent)
                                    .where(WebhookEvent.delivered_at.is_(None)))
        attempts = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
        expected = [(e.object_key, e.id) for e in db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))]
    assert pending == len(expected) and attempts >= 5
    receiver.up()
    for _ in range(20):
        clock.now += dt.timedelta(hours=2)  # past any backoff
        run_once(factory, clock=clock)
    assert receiver.bad_signatures == 0
    got_ids = [m["id"] for m in receiver.received]
    assert sorted(got_ids) == sorted(i for _, i in expected)  # every event, once
    for key in {k for k, _ in expected}:
        ids_of_object = [i for k, i in expected if k == key]
        assert [i for i in got_ids if i in ids_of_object] == ids_of_object  # in order per object
    statuses = [m["data"]["status"] for m in receiver.received if m["topic"] == "order.status_changed"
                and m["data"]["order_id"] == "o-1"]
    assert statuses == ["accepted", "allocated", "cancelled"]


def test_a_failed_delivery_is_retried_with_growing_delays(app, client, shop, receiver) -> None:  # type: ignore[no-untyped-def]
    _post(client, shop, "/api/v1/channels/SHOP/orders", {"external_id": "o-9", "lines": [{"sku": "TEA", "quantity": 1}]})
    factory = app.extensions["wms.db"]
    clock = Clock()
    delays = []
    for _ in range(4):
        run_once(factory, clock=clock)
        with app.app_context():
            event = db.session.scalar(select(WebhookEvent).order_by(WebhookEvent.id))
            next_at = event.next_attempt_at
        delays.append((next_at - clock.now).total_seconds())
        clock.now = next_at
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False))
