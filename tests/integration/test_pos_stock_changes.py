"""The till reads and follows its shop's stock: a long-poll on the stock ledger, cursor semantics, scope."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import select, text

from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.channels.pos_api import Cursor
from wms.db import db
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind
from wms.stock.services import adjust_stock


@pytest.fixture
def shops(app):  # type: ignore[no-untyped-def]
    """Two shops, SHOP and OTHER, each a shelf (one rack zone) with a till channel and its token; MUG and CUP."""
    with app.app_context():
        tokens = {}
        for code in ("SHOP", "OTHER"):
            wh = layout.create_warehouse(code, code)
            zone = layout.add_zone(wh, "SHELF", ZoneKind.RACK, aisle_length_m=4)
            rep, pick = layout.add_aisle(zone, "BACK", Face.REPLENISH, 0), layout.add_aisle(zone, "FLOOR", Face.PICK, 1)
            layout.add_rack(zone, f"{code}1", pick, rep, bays=2, levels=1, bay_width_m=2.0)
            channel = Channel(code=f"TILL-{code}", name="Till", kind=ChannelKind.POS, warehouse_id=wh.id)
            db.session.add(channel)
            db.session.flush()
            token, raw = issue_token(name="till", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
            token.channel_id = channel.id
            tokens[code] = raw
        products = [Product(sku="MUG", name="Mug"), Product(sku="CUP", name="Cup")]
        db.session.add_all(products)
        db.session.flush()
        for code in ("SHOP", "OTHER"):
            lanes = list(db.session.scalars(select(Location).where(Location.code.like(f"{code}1-%"))
                                            .order_by(Location.id)))
            adjust_stock(products[0], lanes[0], 5, reason=StockReason.RECEIPT)
            adjust_stock(products[1], lanes[1], 2, reason=StockReason.RECEIPT)
        db.session.commit()
        return tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _changes(client, token, warehouse="SHOP", **params):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/warehouses/{warehouse}/stock/changes", query_string=params, headers=_auth(token))


def _sell(client, token, sku="MUG", quantity=1, warehouse="SHOP"):  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/warehouses/{warehouse}/sales", headers={**_auth(token), "Idempotency-Key": str(uuid.uuid4())},
                    json={"reference": f"T-{uuid.uuid4().hex[:8]}", "lines": [{"sku": sku, "quantity": quantity}]})
    assert r.status_code == 201, r.json
    return r


def test_without_a_cursor_the_till_gets_every_stocked_sku_and_a_cursor_to_follow(client, shops) -> None:  # type: ignore[no-untyped-def]
    r = _changes(client, shops["SHOP"])
    assert r.status_code == 200, r.json
    assert {(c["sku"], c["on_hand"], c["available"]) for c in r.json["changes"]} == {("CUP", 2, 2), ("MUG", 5, 5)}
    follow = _changes(client, shops["SHOP"], after=r.json["cursor"])
    assert follow.status_code == 200 and follow.json["changes"] == []


def test_a_sale_is_answered_once_with_the_new_levels_and_a_cursor_past_it(client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    _sell(client, shops["SHOP"], "MUG", 2)
    r = _changes(client, shops["SHOP"], after=cursor)
    assert [(c["sku"], c["on_hand"], c["reserved"], c["available"]) for c in r.json["changes"]] == [("MUG", 3, 0, 3)]
    assert Cursor.parse(r.json["cursor"]).high > Cursor.parse(cursor).high
    again = _changes(client, shops["SHOP"], after=r.json["cursor"])
    assert again.json["changes"] == []


def test_a_sale_wakes_a_waiting_long_poll(app, client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    answer: dict[str, object] = {}

    def wait() -> None:
        r = _changes(app.test_client(), shops["SHOP"], after=cursor, wait=20)
        answer.update(status=r.status_code, body=r.json, done=time.monotonic())

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.8)
    assert waiter.is_alive(), "the long-poll answered before anything changed"
    sold = time.monotonic()
    _sell(client, shops["SHOP"], "CUP", 1)
    waiter.join(timeout=15)
    assert not waiter.is_alive()
    assert answer["status"] == 200
    body = answer["body"]
    assert [(c["sku"], c["available"]) for c in body["changes"]] == [("CUP", 1)]  # type: ignore[index]
    assert answer["done"] - sold < 5  # type: ignore[operator]


def test_a_long_poll_holds_no_database_connection_while_it_waits(app, client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    waiter = threading.Thread(target=lambda: _changes(app.test_client(), shops["SHOP"], after=cursor, wait=2))
    waiter.start()
    time.sleep(0.6)
    with app.app_context():
        busy = db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state IN ('active', 'idle in transaction')"))
    waiter.join()
    assert busy == 0


def test_nothing_changed_answers_an_empty_list_after_the_wait(client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    r = _changes(client, shops["SHOP"], after=cursor, wait=0.6)
    assert r.status_code == 200 and r.json["changes"] == []
    assert r.json["waited_seconds"] >= 0.5


def test_a_change_in_another_warehouse_is_not_answered_but_the_cursor_moves_on(client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    _sell(client, shops["OTHER"], "MUG", 1, warehouse="OTHER")
    r = _changes(client, shops["SHOP"], after=cursor)
    assert r.json["changes"] == []
    assert Cursor.parse(r.json["cursor"]).high > Cursor.parse(cursor).high


def test_the_sku_filter_answers_only_the_skus_asked(client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"], sku="CUP").json["cursor"]
    _sell(client, shops["SHOP"], "MUG", 1)
    assert _changes(client, shops["SHOP"], after=cursor, sku="CUP").json["changes"] == []
    _sell(client, shops["SHOP"], "CUP", 1)
    assert [c["sku"] for c in _changes(client, shops["SHOP"], after=cursor, sku="CUP").json["changes"]] == ["CUP"]


def test_a_write_that_commits_after_a_later_one_is_still_answered(app, client, shops) -> None:  # type: ignore[no-untyped-def]
    cursor = _changes(client, shops["SHOP"]).json["cursor"]
    with app.app_context():
        mug = db.session.scalar(select(Product.id).where(Product.sku == "CUP"))
        lane = db.session.scalar(select(Location.id).where(Location.code == "SHOP1-02-1"))
        slow = db.engine(app).connect()
        slow.execute(text("INSERT INTO stock_ledger (at, product_id, location_id, delta_on_hand, delta_reserved, "
                          "reason) VALUES (now(), :p, :l, 1, 0, 'receipt')"), {"p": mug, "l": lane})
    _sell(client, shops["SHOP"], "MUG", 1)  # a later ledger id, committed first
    first = _changes(client, shops["SHOP"], after=cursor)
    assert [c["sku"] for c in first.json["changes"]] == ["MUG"]
    slow.commit()
    slow.close()
    second = _changes(client, shops["SHOP"], after=first.json["cursor"])
    assert [c["sku"] for c in second.json["changes"]] == ["CUP"]
    assert _changes(client, shops["SHOP"], after=second.json["cursor"]).json["changes"] == []


def test_a_hole_older_than_the_grace_is_forgotten() -> None:
    cursor = Cursor(10).advance([11, 13], now=1000)
    assert (cursor.high, cursor.gaps) == (13, {12: 1000})
    assert Cursor.parse(str(cursor)).gaps == {12: 1000}
    assert Cursor(13, {12: 1000}).advance([], now=1031).gaps == {}


def test_a_cursor_holding_the_most_gaps_it_may_is_accepted_back(client, shops) -> None:  # type: ignore[no-untyped-def]
    import time

    from wms.channels.pos_api import MAX_GAPS

    now = int(time.time())
    big = 2**31 - 1          # the largest ledger id there can be: the longest cursor
    cursor = Cursor(big, {big - 2 * n: now for n in range(1, MAX_GAPS + 1)})
    assert len(cursor.gaps) == MAX_GAPS
    r = _changes(client, shops["SHOP"], after=str(cursor), wait=0)
    assert r.status_code == 200, r.json
    assert r.json["changes"] == []
    too_big = _changes(client, shops["SHOP"], after=f"{2**31}.5@{now}", wait=0)
    assert too_big.status_code == 422 and "out of range" in too_big.json["detail"] + str(too_big.json)


def test_a_till_token_of_another_shop_is_refused(client, shops) -> None:  # type: ignore[no-untyped-def]
    r = _changes(client, shops["OTHER"])
    assert r.status_code == 403 and r.json["type"]


def test_without_a_token_the_changes_are_refused(client, shops) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/warehouses/SHOP/stock/changes").status_code == 401


@pytest.mark.parametrize("params", [{"after": "abc"}, {"after": "1", "wait": 26}, {"after": "1", "wait": -1},
                                    {"after": "1.2"}, {"sku": "NOPE"}, {"after": "1", "colour": "blue"}])
def test_bad_parameters_are_refused_with_a_problem(client, shops, params) -> None:  # type: ignore[no-untyped-def]
    r = _changes(client, shops["SHOP"], **params)
    assert r.status_code in (404, 422), r.json
    assert r.json["type"]
