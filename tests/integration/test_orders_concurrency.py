"""Many channels clients at once: no overselling, one order per channel order id, the ledger balances."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import _truncate_all, make_test_app
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind, Order, OrderLine
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 50})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _seed(app, units: int, lanes: int = 3) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A warehouse with one SKU spread over `lanes` pick lanes, a channel and its token."""
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
        from wms.enums import Face

        rep = layout.add_aisle(zone, "R0", Face.REPLENISH, 0)
        pick = layout.add_aisle(zone, "P1", Face.PICK, 1)
        layout.add_rack(zone, "A01", pick, rep, bays=5, levels=1, bay_width_m=2.0)
        product = Product(sku="LAST-10", name="The last ten")
        db.session.add(product)
        db.session.flush()
        locs = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.id)))
        share = [units // lanes + (1 if i < units % lanes else 0) for i in range(lanes)]
        for loc, qty in zip(locs, share, strict=False):
            if qty:
                adjust_stock(product, loc, qty, reason=StockReason.RECEIPT)
        channel = Channel(code="SHOP", name="Web shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
        db.session.add(channel)
        db.session.flush()
        token, raw = issue_token(name="shop", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        db.session.commit()
        return raw, channel.code


def _hammer(app, calls: list[Callable]) -> list:  # type: ignore[no-untyped-def,type-arg]
    barrier = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_sixty_four_clients_ordering_the_last_ten_units_reserve_exactly_ten(busy_app) -> None:  # type: ignore[no-untyped-def]
    token, channel = _seed(busy_app, units=10)

    def order(i: int) -> Callable:  # type: ignore[type-arg]
        def call(client):  # type: ignore[no-untyped-def]
            return client.post(f"/api/v1/channels/{channel}/orders", json={
                "external_id": f"web-{i}", "lines": [{"sku": "LAST-10", "quantity": 1 + i % 2}]},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
        return call

    responses = _hammer(busy_app, [order(i) for i in range(64)])
    assert all(r.status_code in (200, 201, 409, 503) for r in responses), {r.status_code for r in responses}
    assert not [r for r in responses if r.status_code >= 500]
    with busy_app.app_context():
        s = db.session
        reserved = s.scalar(select(func.sum(Quant.reserved)))
        on_hand = s.scalar(select(func.sum(Quant.on_hand)))
        allocated = s.scalar(select(func.sum(OrderLine.allocated)))
        assert (reserved, on_hand, allocated) == (10, 10, 10)
        assert s.scalar(select(func.count()).select_from(Quant).where(Quant.reserved > Quant.on_hand)) == 0
        assert s.scalar(select(func.min(Quant.on_hand))) >= 0
        ledger_on_hand, ledger_reserved = s.execute(select(func.sum(LedgerEntry.delta_on_hand),
                                                           func.sum(LedgerEntry.delta_reserved))).one()
        assert (ledger_on_hand, ledger_reserved) == (on_hand, reserved)
        statuses = {o.status.value for o in s.scalars(select(Order))}
        assert statuses <= {"allocated", "backordered"}
        assert s.scalar(select(func.count()).select_from(Order)) == 64


def test_the_same_order_replayed_a_hundred_times_at_once_creates_one_order(busy_app) -> None:  # type: ignore[no-untyped-def]
    token, channel = _seed(busy_app, units=50)
    body = {"external_id": "web-42", "lines": [{"sku": "LAST-10", "quantity": 3}]}

    def replay(i: int) -> Callable:  # type: ignore[type-arg]
        def call(client):  # type: ignore[no-untyped-def]
            # half the replays reuse one idempotency key, half come with their own: both must collapse
            key = "same-key" if i % 2 else f"key-{i}"
            return client.post(f"/api/v1/channels/{channel}/orders", json=body,
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
        return call

    responses = _hammer(busy_app, [replay(i) for i in range(100)])
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert sum(1 for r in responses if r.status_code == 201 and not r.headers.get("Idempotent-Replayed")) == 1
    assert {r.json["external_id"] for r in responses} == {"web-42"}
    with busy_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(func.sum(Quant.reserved))) == 3
