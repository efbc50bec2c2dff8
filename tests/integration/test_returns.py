"""Returns through the API on PostgreSQL: authorise what was shipped, receive at RET-01, inspect (restock,
quarantine, scrap); the ledger balances, channels hear of it, and every refusal leaves the database unchanged."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.integration.test_returns_world import (
    World,
    build_world,
    counts,
    ledger_balances,
    on_hand,
    put,
    shipped_order,
    unshipped_order,
)
from wms.db import db
from wms.enums import StockReason
from wms.orders.models import Order, OrderStatus
from wms.outbound.models import ShipmentStatus
from wms.returns.models import RefundStatus
from wms.returns.services import refund_status
from wms.stock.models import LedgerEntry
from wms.webhooks.models import WebhookEvent


@pytest.fixture
def world(app, make_user, make_token):  # type: ignore[no-untyped-def]
    with app.app_context():
        w = build_world(make_user)
        put(w.mug, w.lanes[0], 5)
        shipped_order(w, "O-1", [(w.mug, 3), (w.tea, 2)], parcels=2)
        unshipped_order(w, "O-PACKED", [(w.mug, 1)])
        shipped_order(w, "O-PACKING", [(w.mug, 1)], status=ShipmentStatus.PACKING)
        w.supervisor_token = make_token("user", user=w.supervisor)  # type: ignore[attr-defined]
        w.receiver_token = make_token("user", user=w.receiver)  # type: ignore[attr-defined]
        db.session.commit()
        return w


def call(client, method, path, token, body=None, key=None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
    return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)


def rma_body(external_id="R-1", order_id="O-1", lines=None):  # type: ignore[no-untyped-def]
    return {"external_id": external_id, "order_id": order_id,
            "lines": lines or [{"sku": "MUG", "quantity": 3, "reason": "not_wanted"},
                               {"line_no": 2, "quantity": 2, "reason": "defective"}]}


def events(app, topic):  # type: ignore[no-untyped-def]
    with app.app_context():
        return [e.payload["data"] for e in db.session.scalars(
            select(WebhookEvent).where(WebhookEvent.topic == topic).order_by(WebhookEvent.id))]


def snapshot(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return counts()


def test_a_shipped_order_comes_back_is_inspected_and_the_ledger_balances(app, client, world: World) -> None:
    r = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body())
    assert r.status_code == 201, r.json
    code = r.json["code"]
    assert (r.json["status"], r.json["refund_status"]) == ("authorized", "pending")
    assert [(ln["sku"], ln["quantity"], ln["reason"]) for ln in r.json["lines"]] == [
        ("MUG", 3, "not_wanted"), ("TEA", 2, "defective")]
    assert events(app, "return.updated")[-1]["status"] == "authorized"

    r = call(client, "POST", f"/warehouses/WH/returns/{code}/receive", world.receiver_token,
             {"location": "RET-01", "lines": [{"sku": "MUG", "quantity": 3}, {"sku": "TEA", "quantity": 2}]})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "received" and r.json["order_status"] == "returned"
    with app.app_context():
        assert (on_hand(world.mug, world.returns), on_hand(world.tea, world.returns)) == (3, 2)
        assert db.session.scalar(select(Order.status).where(Order.external_id == "O-1")) == OrderStatus.RETURNED
    assert events(app, "order.status_changed")[-1]["status"] == "returned"

    r = call(client, "POST", f"/warehouses/WH/returns/{code}/inspect", world.receiver_token, {"lines": [
        {"sku": "MUG", "quantity": 2, "disposition": "restock"},
        {"sku": "MUG", "quantity": 1, "disposition": "scrap", "note": "handle broken by the customer"},
        {"line_no": 2, "quantity": 1, "disposition": "quarantine", "note": "leaks"},
        {"line_no": 2, "quantity": 1, "disposition": "scrap"}]})
    assert r.status_code == 200, r.json
    # MUG came back unwanted, one broken by the customer: not refunded; the defective TEA is refunded in full.
    assert (r.json["status"], r.json["refund_status"]) == ("inspected", "partial")
    mug, tea = r.json["lines"]
    assert (mug["restocked"], mug["scrapped"], mug["refundable"]) == (2, 1, 2)
    assert (tea["quarantined"], tea["scrapped"], tea["refundable"]) == (1, 1, 2)
    assert "handle broken" in mug["inspection_note"]
    with app.app_context():
        assert on_hand(world.mug, world.lanes[0]) == 7  # back in the lane that already held mugs
        assert on_hand(world.tea, world.quarantine) == 1
        assert (on_hand(world.mug, world.returns), on_hand(world.tea, world.returns)) == (0, 0)
        reasons = sorted((e.reason.value, e.delta_on_hand) for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.reference == f"rma:{code}")))
        assert reasons == sorted([("return", 3), ("return", 2), ("transfer", -2), ("transfer", 2), ("scrap", -1),
                                  ("quarantine", -1), ("quarantine", 1), ("scrap", -1)])
        ledger_balances()
    assert any(e["sku"] == "MUG" and e["on_hand"] == 7 for e in events(app, "stock.changed"))
    last = events(app, "return.updated")[-1]
    assert (last["code"], last["status"], last["refund_status"]) == (code, "inspected", "partial")
    assert [ln["restocked"] for ln in last["lines"]] == [2, 0]

    read = call(client, "GET", "/channels/SHOP/returns/R-1", world.token)
    assert read.status_code == 200 and read.json["refund_status"] == "partial"
    assert call(client, "GET", f"/warehouses/WH/returns/{code}", world.supervisor_token).json["code"] == code
    listed = call(client, "GET", "/channels/SHOP/returns?status=inspected", world.token)
    assert [x["code"] for x in listed.json] == [code]
    closed = call(client, "POST", f"/warehouses/WH/returns/{code}/close", world.supervisor_token)
    assert closed.status_code == 200 and closed.json["status"] == "closed"


@pytest.mark.parametrize(("body", "status", "slug"), [
    (rma_body(order_id="O-PACKED", lines=[{"sku": "MUG", "quantity": 1, "reason": "other"}]), 409, "return-refused"),
    (rma_body(order_id="O-PACKING", lines=[{"sku": "MUG", "quantity": 1, "reason": "other"}]), 409, "return-refused"),
    (rma_body(lines=[{"sku": "LAMP", "quantity": 1, "reason": "other"}]), 409, "return-refused"),
    (rma_body(lines=[{"sku": "NOPE", "quantity": 1, "reason": "other"}]), 409, "return-refused"),
    (rma_body(lines=[{"line_no": 9, "quantity": 1, "reason": "other"}]), 409, "return-refused"),
    (rma_body(lines=[{"sku": "MUG", "quantity": 4, "reason": "other"}]), 409, "return-refused"),
    (rma_body(lines=[{"sku": "MUG", "quantity": 1, "reason": "bored"}]), 422, "validation-failed"),
    (rma_body(lines=[{"quantity": 1, "reason": "other"}]), 422, "validation-failed"),
    (rma_body(lines=[{"sku": "MUG", "quantity": 1, "reason": "other"},
                     {"line_no": 1, "quantity": 1, "reason": "other"}]), 422, "validation-failed"),
    (rma_body(order_id="NO-SUCH-ORDER"), 404, "not-found"),
    ({**rma_body(), "refund": 12}, 422, "validation-failed"),
])
def test_a_return_of_something_never_shipped_is_refused_and_writes_nothing(app, client, world, body, status,
                                                                          slug) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(app)
    r = call(client, "POST", "/channels/SHOP/returns", world.token, body)
    assert r.status_code == status, r.json
    assert r.mimetype == "application/problem+json" and r.json["type"].endswith("/" + slug)
    assert snapshot(app) == before


def test_units_already_on_a_return_cannot_be_authorised_twice_until_it_is_cancelled(app, client, world) -> None:  # type: ignore[no-untyped-def]
    first = call(client, "POST", "/channels/SHOP/returns", world.token,
                 rma_body(lines=[{"sku": "MUG", "quantity": 2, "reason": "other"}]))
    assert first.status_code == 201
    before = snapshot(app)
    again = call(client, "POST", "/channels/SHOP/returns", world.token,
                 rma_body("R-2", lines=[{"sku": "MUG", "quantity": 2, "reason": "other"}]))
    assert again.status_code == 409 and "already on returns" in again.json["errors"][0]["message"]
    assert snapshot(app) == before
    assert call(client, "POST", "/channels/SHOP/returns/R-1/cancel", world.token).json["status"] == "cancelled"
    assert call(client, "POST", "/channels/SHOP/returns", world.token,
                rma_body("R-2", lines=[{"sku": "MUG", "quantity": 3, "reason": "other"}])).status_code == 201


def test_the_same_return_sent_again_is_applied_once(app, client, world) -> None:  # type: ignore[no-untyped-def]
    key = str(uuid.uuid4())
    first = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body(), key=key)
    replay = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body(), key=key)
    assert first.status_code == replay.status_code == 201 and replay.json == first.json
    resent = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body())
    assert resent.status_code == 200 and resent.json["code"] == first.json["code"]
    changed = call(client, "POST", "/channels/SHOP/returns", world.token,
                   rma_body(lines=[{"sku": "MUG", "quantity": 1, "reason": "other"}]))
    assert changed.status_code == 409
    assert len(call(client, "GET", "/channels/SHOP/returns", world.token).json) == 1

    code = first.json["code"]
    receive = {"lines": [{"sku": "MUG", "quantity": 2}]}
    key = str(uuid.uuid4())
    for _ in range(2):
        r = call(client, "POST", f"/warehouses/WH/returns/{code}/receive", world.receiver_token, receive, key=key)
        assert r.status_code == 200 and r.json["lines"][0]["received"] == 2
    with app.app_context():
        assert on_hand(world.mug, world.returns) == 2
        assert len(list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.RETURN)))) == 1


def test_over_receipt_and_dispositions_beyond_what_was_received_change_nothing(app, client, world) -> None:  # type: ignore[no-untyped-def]
    code = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body()).json["code"]
    path = f"/warehouses/WH/returns/{code}"
    before = snapshot(app)
    early = call(client, "POST", f"{path}/inspect", world.receiver_token,
                 {"lines": [{"sku": "MUG", "quantity": 1, "disposition": "restock"}]})
    assert early.status_code == 409
    over = call(client, "POST", f"{path}/receive", world.receiver_token,
                {"lines": [{"sku": "TEA", "quantity": 1}, {"sku": "MUG", "quantity": 4}]})
    assert over.status_code == 409 and over.json["errors"][0]["field"] == "MUG"
    split_over = call(client, "POST", f"{path}/receive", world.receiver_token,
                      {"lines": [{"sku": "MUG", "quantity": 2}, {"sku": "MUG", "quantity": 2}]})
    assert split_over.status_code == 409
    wrong_place = call(client, "POST", f"{path}/receive", world.receiver_token,
                       {"location": "QUA-01", "lines": [{"sku": "MUG", "quantity": 1}]})
    assert wrong_place.status_code == 409
    stranger = call(client, "POST", f"{path}/receive", world.receiver_token, {"lines": [{"sku": "LAMP", "quantity": 1}]})
    assert stranger.status_code == 409
    assert snapshot(app) == before

    assert call(client, "POST", f"{path}/receive", world.receiver_token,
                {"lines": [{"sku": "MUG", "quantity": 2}]}).status_code == 200
    before = snapshot(app)
    too_many = call(client, "POST", f"{path}/inspect", world.receiver_token, {"lines": [
        {"sku": "MUG", "quantity": 1, "disposition": "restock"},
        {"sku": "MUG", "quantity": 2, "disposition": "scrap"}]})
    assert too_many.status_code == 409 and "2 received" in too_many.json["errors"][0]["message"]
    cancel = call(client, "POST", f"{path}/cancel", world.supervisor_token)
    assert cancel.status_code == 409
    assert snapshot(app) == before
    with app.app_context():
        assert on_hand(world.mug, world.returns) == 2
        ledger_balances()


def test_restocked_units_fill_lanes_of_the_product_within_capacity_then_empty_lanes(app, client, world) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        lanes = world.lanes
        db.session.get(type(lanes[0]), lanes[0].id).capacity_units = 6
        put(world.tea, lanes[1], 1)  # a lane of another product is never mixed into
        shipped_order(world, "O-2", [(world.mug, 4)], status=ShipmentStatus.DELIVERED)
        db.session.commit()
    code = call(client, "POST", "/channels/SHOP/returns", world.token,
                rma_body("R-9", "O-2", [{"sku": "MUG", "quantity": 4, "reason": "wrong_item"}])).json["code"]
    path = f"/warehouses/WH/returns/{code}"
    assert call(client, "POST", f"{path}/receive", world.receiver_token,
                {"lines": [{"sku": "MUG", "quantity": 4}]}).status_code == 200
    full = call(client, "POST", f"{path}/inspect", world.receiver_token,
                {"lines": [{"sku": "MUG", "quantity": 4, "disposition": "restock", "location": lanes[0].code}]})
    assert full.status_code == 409 and full.json["errors"][0]["message"] == "no room"
    r = call(client, "POST", f"{path}/inspect", world.receiver_token,
             {"lines": [{"sku": "MUG", "quantity": 4, "disposition": "restock"}]})
    assert r.status_code == 200 and r.json["refund_status"] == "approved"
    with app.app_context():
        assert on_hand(world.mug, lanes[0]) == 6
        assert on_hand(world.mug, lanes[1]) == 0
        assert on_hand(world.mug, lanes[2]) == 3
        ledger_balances()


def test_roles_and_tokens_are_kept_to_their_side(app, client, world, make_token) -> None:  # type: ignore[no-untyped-def]
    code = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body()).json["code"]
    before = snapshot(app)
    assert call(client, "POST", f"/warehouses/WH/returns/{code}/receive", world.token,
                {"lines": [{"sku": "MUG", "quantity": 1}]}).status_code == 403
    assert call(client, "POST", f"/warehouses/WH/returns/{code}/cancel", world.receiver_token).status_code == 403
    assert call(client, "GET", "/warehouses/WH/returns/RMA999999", world.receiver_token).status_code == 404
    assert snapshot(app) == before


def test_a_supervisor_authorises_a_return_for_a_channel(app, client, world) -> None:  # type: ignore[no-untyped-def]
    body = {"channel": "SHOP", "order_id": "O-1", "reason": "phoned in",
            "lines": [{"sku": "TEA", "quantity": 2, "reason": "damaged"}]}
    r = call(client, "POST", "/warehouses/WH/returns", world.supervisor_token, body)
    assert r.status_code == 201 and r.json["external_id"] is None and r.json["reason"] == "phoned in"
    listed = call(client, "GET", "/warehouses/WH/returns?status=authorized", world.receiver_token)
    assert [x["code"] for x in listed.json] == [r.json["code"]]


@pytest.mark.parametrize(("lines", "expected"), [
    ([("not_wanted", 2, 2, 0, 0)], RefundStatus.APPROVED),
    ([("defective", 2, 0, 1, 1)], RefundStatus.APPROVED),
    ([("not_wanted", 2, 1, 0, 1)], RefundStatus.PARTIAL),
    ([("not_wanted", 3, 2, 0, 0)], RefundStatus.PARTIAL),  # a unit never came back
    ([("other", 1, 0, 0, 1)], RefundStatus.REFUSED),
])
def test_the_refund_follows_reason_and_disposition(lines, expected) -> None:  # type: ignore[no-untyped-def]
    assert refund_status(lines) == expected


def test_a_returned_unit_is_received_by_scanning_its_barcode(app, client, world) -> None:  # type: ignore[no-untyped-def]
    from wms.catalog.services import add_barcode

    with app.app_context():
        add_barcode(db.session.get(type(world.mug), world.mug.id), "4006381333931")
        db.session.commit()
    code = call(client, "POST", "/channels/SHOP/returns", world.token, rma_body()).json["code"]
    r = call(client, "POST", f"/warehouses/WH/returns/{code}/receive", world.receiver_token,
             {"lines": [{"sku": "4006381333931", "quantity": 1}]})
    assert r.status_code == 200 and r.json["lines"][0]["received"] == 1
    unknown = call(client, "POST", f"/warehouses/WH/returns/{code}/receive", world.receiver_token,
                   {"lines": [{"sku": "4006381333948", "quantity": 1}]})
    assert unknown.status_code == 409 and "no SKU 4006381333948" in unknown.json["detail"]
