"""Channels racing through the shipped gunicorn config (several worker processes, threads each), on the embedded
SQLite default and on PostgreSQL: no overselling, one order per channel order id, cancellations that hand their
units to waiting orders without a 5xx; the ledger and the reservations always add up to the quants."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from alembic import command
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import _truncate_all, make_test_app
from tests.integration.gunicorn_server import at_once, channel_headers, gunicorn
from tests.integration.test_orders_concurrency import _seed
from wms.catalog.models import Product
from wms.db import db
from wms.dbcli import alembic_config
from wms.enums import StockReason
from wms.layout.models import Location
from wms.orders.models import Order, OrderLine, Reservation
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def race_app(request, tmp_path: Path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """An app on a migrated, empty database of either engine; gunicorn is started on the same database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
        command.upgrade(alembic_config(url), "head")
        app = make_test_app(url)
        yield app
        db.engine(app).dispose()
        return
    app = make_test_app(request.getfixturevalue("database_url"))
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _served(app: Flask):  # type: ignore[no-untyped-def]
    return gunicorn(app.config["DATABASE_URL"], app.config["SECRET_KEY"])


def _order(base: str, token: str, channel: str, external_id: str, quantity: int = 1, key: str | None = None,
           sku: str = "LAST-10") -> Callable[[requests.Session], requests.Response]:
    def call(http: requests.Session) -> requests.Response:
        return http.post(f"{base}/api/v1/channels/{channel}/orders", timeout=60,
                         json={"external_id": external_id, "lines": [{"sku": sku, "quantity": quantity}]},
                         headers=channel_headers(token, key or str(uuid.uuid4())))
    return call


def _another_sku(app: Flask, sku: str, units: int) -> None:
    """A second product with `units` spread over the lanes that hold the first one."""
    with app.app_context():
        lanes = db.session.scalars(select(Location).join(Quant, Quant.location_id == Location.id)
                                   .order_by(Location.id)).all()
        product = Product(sku=sku, name=sku)
        db.session.add(product)
        db.session.flush()
        for i, lane in enumerate(lanes):
            share = units // len(lanes) + (1 if i < units % len(lanes) else 0)
            if share:
                adjust_stock(product, lane, share, reason=StockReason.RECEIPT)
        db.session.commit()


def _cancel(base: str, token: str, channel: str, external_id: str) -> Callable[[requests.Session], requests.Response]:
    def call(http: requests.Session) -> requests.Response:
        return http.post(f"{base}/api/v1/channels/{channel}/orders/{external_id}/cancel", timeout=60,
                         headers=channel_headers(token, str(uuid.uuid4())))
    return call


def _assert_balanced(app: Flask) -> tuple[int, int]:
    """Every quant's reserved is the sum of its reservations and of its ledger rows, and so is its on hand;
    the order lines' allocated add up to the reservations. Returns (on hand, reserved) over all quants."""
    with app.app_context():
        s = db.session
        held = dict(s.execute(select(Reservation.quant_id, func.sum(Reservation.quantity))
                              .group_by(Reservation.quant_id)).all())
        quants = s.scalars(select(Quant)).all()
        assert {q.id: q.reserved for q in quants if q.reserved or q.id in held} == held
        ledger = {(p, loc): (int(oh), int(r)) for p, loc, oh, r in s.execute(
            select(LedgerEntry.product_id, LedgerEntry.location_id, func.sum(LedgerEntry.delta_on_hand),
                   func.sum(LedgerEntry.delta_reserved)).group_by(LedgerEntry.product_id, LedgerEntry.location_id))}
        assert {(q.product_id, q.location_id): (q.on_hand, q.reserved) for q in quants} == ledger
        assert all(0 <= q.reserved <= q.on_hand for q in quants)
        assert (s.scalar(select(func.sum(OrderLine.allocated))) or 0) == sum(held.values())
        return sum(q.on_hand for q in quants), sum(q.reserved for q in quants)


def _statuses(app: Flask) -> Counter[str]:
    with app.app_context():
        return Counter(o.status.value for o in db.session.scalars(select(Order)))


def test_sixty_four_clients_racing_for_the_last_ten_units_get_exactly_ten(race_app: Flask) -> None:
    # Three rounds, one SKU each: one round lost no update in about one run of six on the old SQLite code.
    token, channel = _seed(race_app, units=10)
    skus = ["LAST-10", "LAST-10-B", "LAST-10-C"]
    for sku in skus[1:]:
        _another_sku(race_app, sku, units=10)
    with _served(race_app) as base:
        rounds = [at_once([_order(base, token, channel, f"{sku}-{i}", sku=sku) for i in range(64)]) for sku in skus]
    for responses in rounds:
        assert Counter(r.status_code for r in responses) == {201: 64}, [r.text for r in responses
                                                                        if r.status_code != 201]
        assert Counter(r.json()["status"] for r in responses) == {"allocated": 10, "backordered": 54}
    assert _assert_balanced(race_app) == (30, 30)
    assert _statuses(race_app) == {"allocated": 30, "backordered": 3 * 54}


def test_one_order_replayed_by_forty_eight_clients_at_once_is_one_order(race_app: Flask) -> None:
    token, channel = _seed(race_app, units=50)
    # half the replays share one idempotency key, half come with their own: both must collapse into one order
    with _served(race_app) as base_url:
        calls = [_order(base_url, token, channel, "web-42", quantity=3, key="same-key" if i % 2 else f"key-{i}")
                 for i in range(48)]
        responses = at_once(calls)
    assert {r.status_code for r in responses} <= {200, 201}, [r.text for r in responses if r.status_code >= 300]
    assert sum(1 for r in responses if r.status_code == 201 and not r.headers.get("Idempotent-Replayed")) == 1
    assert {r.json()["external_id"] for r in responses} == {"web-42"}
    assert _assert_balanced(race_app) == (50, 3)
    assert _statuses(race_app) == {"allocated": 1}


def test_concurrent_cancellations_hand_their_units_to_waiting_orders_without_a_5xx(race_app: Flask) -> None:
    token, channel = _seed(race_app, units=10)
    with _served(race_app) as base:
        with requests.Session() as http:
            placed = [_order(base, token, channel, f"web-{i}")(http) for i in range(18)]
        assert [r.json()["status"] for r in placed] == ["allocated"] * 10 + ["backordered"] * 8
        cancels = [_cancel(base, token, channel, f"web-{i}") for i in range(8)]
        intakes = [_order(base, token, channel, f"late-{i}") for i in range(8)]
        responses = at_once(cancels + intakes)
    assert not [r for r in responses if r.status_code >= 500], [r.text for r in responses if r.status_code >= 500]
    assert Counter(r.status_code for r in responses) == {200: 8, 201: 8}
    assert _assert_balanced(race_app) == (10, 10)
    statuses = _statuses(race_app)
    assert statuses["cancelled"] == 8 and statuses["allocated"] == 10 and statuses["backordered"] == 8
