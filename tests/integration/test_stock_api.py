"""Stock through the API: till sales take units at once (all or none); bad input changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import Base, db
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind
from wms.stock.services import adjust_stock


@pytest.fixture
def till(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        tokens = {}
        for code in ("WH", "OTHER"):
            wh = layout.create_warehouse(code, code)
            zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
            rep, pick = layout.add_aisle(zone, "R0", Face.REPLENISH, 0), layout.add_aisle(zone, "P1", Face.PICK, 1)
            layout.add_rack(zone, f"{code}1", pick, rep, bays=2, levels=1, bay_width_m=2.0)
            channel = Channel(code=f"POS-{code}", name="Till", kind=ChannelKind.POS, warehouse_id=wh.id)
            db.session.add(channel)
            db.session.flush()
            token, raw = issue_token(name="till", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
            token.channel_id = channel.id
            tokens[code] = raw
        mug = Product(sku="MUG", name="Mug")
        db.session.add(mug)
        db.session.flush()
        lanes = list(db.session.scalars(select(Location).where(Location.code.like("WH1-%")).order_by(Location.id)))
        adjust_stock(mug, lanes[0], 3, reason=StockReason.RECEIPT)
        adjust_stock(mug, lanes[1], 2, reason=StockReason.RECEIPT)
        db.session.commit()
        return tokens


def _sale(client, token, body, warehouse="WH"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/warehouses/{warehouse}/sales", json=body,
                       headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})


def _counts(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_a_till_sale_takes_the_units_from_the_pick_lanes_at_once(app, client, till) -> None:  # type: ignore[no-untyped-def]
    r = _sale(client, till["WH"], {"reference": "T-1", "lines": [{"sku": "MUG", "quantity": 4}]})
    assert r.status_code == 201, r.json
    assert r.json["lines"][0]["available"] == 1
    stock = client.get("/api/v1/warehouses/WH/stock/MUG", headers={"Authorization": f"Bearer {till['WH']}"})
    assert (stock.json["on_hand"], stock.json["available"]) == (1, 1)


def test_a_sale_of_more_than_is_available_sells_nothing(app, client, till) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    r = _sale(client, till["WH"], {"reference": "T-2", "lines": [{"sku": "MUG", "quantity": 6}]})
    assert r.status_code == 409 and r.json["type"].endswith("/insufficient-stock")
    assert _counts(app) == before


@pytest.mark.parametrize(("body", "status"), [
    ({"reference": "T", "lines": [{"sku": "NOPE", "quantity": 1}]}, 404),
    ({"reference": "T", "lines": [{"sku": "MUG", "quantity": -1}]}, 422),
    ({"reference": "T", "lines": [{"sku": "MUG", "quantity": 1.5}]}, 422),
    ({"reference": "T", "lines": [{"sku": "MUG", "quantity": "2"}]}, 422),
    ({"reference": "T", "lines": []}, 422),
    ({"reference": "T", "lines": [{"sku": "MUG", "quantity": 1}], "discount": 5}, 422),
])
def test_bad_sales_are_refused_with_a_problem_and_write_nothing(app, client, till, body, status) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    r = _sale(client, till["WH"], body)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    assert _counts(app) == before


def test_a_token_of_another_warehouse_cannot_sell_or_read_here(app, client, till) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    r = _sale(client, till["OTHER"], {"reference": "T-3", "lines": [{"sku": "MUG", "quantity": 1}]})
    assert r.status_code == 403 and r.json["type"].endswith("/warehouse-forbidden")
    read = client.get("/api/v1/warehouses/WH/stock/MUG", headers={"Authorization": f"Bearer {till['OTHER']}"})
    assert read.status_code == 403
    assert client.get("/api/v1/warehouses/NOWHERE/stock/MUG",
                      headers={"Authorization": f"Bearer {till['WH']}"}).status_code == 404
    assert _counts(app) == before
