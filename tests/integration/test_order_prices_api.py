"""Line prices and the order currency through the order intake API: kept on the order, validated, part of what
tells a replay from a different order only when they are sent."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.test_dock_world import build_dock
from wms.orders.models import Order, OrderLine


@pytest.fixture
def dock(app, session, make_user):  # type: ignore[no-untyped-def]
    built = build_dock(make_user)
    session.commit()
    return built


def post(client, dock, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/channels/SHOP/orders", json=body, headers={
        "Authorization": f"Bearer {dock.channel_token}", "Idempotency-Key": str(uuid.uuid4())})


def priced(external_id: str, price: Any = "12.50", currency: str | None = "EUR") -> dict[str, Any]:
    body: dict[str, Any] = {"external_id": external_id, "lines": [{"sku": "MUG", "quantity": 2, "unit_price": price}]}
    if currency is not None:
        body["currency"] = currency
    return body


def test_prices_and_currency_are_kept_on_the_order_and_a_replay_stays_a_replay(client, session, dock) -> None:  # type: ignore[no-untyped-def]
    resp = post(client, dock, priced("P-1", 12.5))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["currency"] == "EUR" and Decimal(body["lines"][0]["unit_price"]) == Decimal("12.50")
    session.expire_all()
    order = session.scalar(select(Order).where(Order.external_id == "P-1"))
    assert order.currency == "EUR" and order.lines[0].unit_price == Decimal("12.50")
    # the same content again (the price written another way) is the same order; another price is another order
    again = post(client, dock, priced("P-1", "12.50"))
    assert again.status_code == 200 and again.get_json()["external_id"] == "P-1"
    assert post(client, dock, priced("P-1", "13.00")).status_code == 409
    assert post(client, dock, priced("P-1", "12.50", currency="GBP")).status_code == 409


def test_an_order_without_prices_replays_as_before(client, dock) -> None:  # type: ignore[no-untyped-def]
    body = {"external_id": "P-2", "lines": [{"sku": "MUG", "quantity": 1}]}
    first = post(client, dock, body)
    assert first.status_code == 201 and first.get_json()["currency"] is None
    assert first.get_json()["lines"][0]["unit_price"] is None
    assert post(client, dock, body).status_code == 200


@pytest.mark.parametrize(("price", "currency", "field"), [
    ("-1.00", "EUR", "unit_price"), ("1.234", "EUR", "unit_price"), ("abc", "EUR", "unit_price"),
    ("1.00", "eur", "currency"), ("1.00", "EURO", "currency"), ("1.00", "E1R", "currency"),
])
def test_a_bad_price_or_currency_is_refused_and_nothing_is_written(client, session, dock, price, currency,
                                                                   field) -> None:  # type: ignore[no-untyped-def]
    resp = post(client, dock, priced("P-BAD", price, currency))
    assert resp.status_code == 422, resp.get_json()
    assert any(field in e["field"] for e in resp.get_json()["errors"])
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OrderLine)) == 0
