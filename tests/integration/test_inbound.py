"""Receiving against purchase orders: the happy path through the API, and every refusal changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.integration.inbound_world import BBD, MUG_EAN, build_inbound, on_hand, snapshot
from wms.db import db
from wms.enums import StockReason
from wms.inbound.models import Asn, AsnStatus, PurchaseOrderStatus, ReceiptLine
from wms.stock.models import LedgerEntry
from wms.stock.services import ledger_balance


@pytest.fixture
def inbound(session, make_user):  # type: ignore[no-untyped-def]
    w = build_inbound(make_user)
    session.commit()
    return w


def _h(make_token, user, key: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {make_token('user', user=user)}",
            "Idempotency-Key": key or str(uuid.uuid4())}


@pytest.fixture
def rec(inbound, make_token, commit):  # type: ignore[no-untyped-def]
    token = make_token("user", user=inbound.receiver)
    commit()
    return lambda key=None: {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}


@pytest.fixture
def sup(inbound, make_token, commit):  # type: ignore[no-untyped-def]
    token = make_token("user", user=inbound.supervisor)
    commit()
    return lambda key=None: {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}


@pytest.fixture
def receipt(client, rec):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/purchase-orders/PO-1/receipts", json={"dock": "RCV-01"}, headers=rec())
    assert r.status_code == 201, r.json
    return r.json["code"]


def test_suppliers_and_purchase_orders_are_created_and_listed(client, inbound, sup, rec):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/suppliers", json={"code": "BOLT", "name": "Bolt & Co", "over_receipt_tolerance_pct": 5},
                    headers=sup("s-1"))
    assert r.status_code == 201 and r.json["over_receipt_tolerance_pct"] == 5
    replay = client.post("/api/v1/suppliers", json={"code": "BOLT", "name": "Bolt & Co",
                                                    "over_receipt_tolerance_pct": 5}, headers=sup("s-1"))
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert client.post("/api/v1/suppliers", json={"code": "BOLT", "name": "x"}, headers=sup()).status_code == 409
    assert [x["code"] for x in client.get("/api/v1/suppliers", headers=rec()).json] == ["ACME", "BOLT"]
    body = {"number": "PO-2", "supplier": "BOLT", "expected_at": "2026-12-01T08:00:00Z",
            "lines": [{"sku": "MUG", "quantity": 20}, {"sku": "TEA", "quantity": 4}]}
    r = client.post("/api/v1/warehouses/WH/purchase-orders", json=body, headers=sup())
    assert r.status_code == 201, r.json
    assert (r.json["status"], r.json["over_receipt_tolerance_pct"]) == ("open", 5)
    assert [(ln["sku"], ln["quantity"], ln["received"], ln["allowed"]) for ln in r.json["lines"]] == [
        ("MUG", 20, 0, 21), ("TEA", 4, 0, 4)]
    assert client.post("/api/v1/warehouses/WH/purchase-orders", json=body, headers=sup()).status_code == 409
    bad = client.post("/api/v1/warehouses/WH/purchase-orders", headers=sup(),
                      json={**body, "number": "PO-3", "lines": [{"sku": "NOPE", "quantity": 1}]})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "lines.0.sku"
    listed = client.get("/api/v1/warehouses/WH/purchase-orders?status=receivable", headers=rec()).json
    assert [p["number"] for p in listed] == ["PO-2", "PO-1"]
    assert client.get("/api/v1/warehouses/WH/purchase-orders", headers=rec()).status_code == 200
    assert client.post("/api/v1/warehouses/WH/purchase-orders", json=body, headers=rec()).status_code == 403


def test_an_asn_carries_lots_dates_and_a_verified_sscc(client, inbound, sup):  # type: ignore[no-untyped-def]
    body = {"number": "DESADV-7", "lines": [
        {"sku": "CHEESE", "quantity": 6, "lot_code": "L42", "best_before": "2027-03-31", "sscc": "106141411234567897"}]}
    r = client.post("/api/v1/purchase-orders/PO-1/asns", json=body, headers=sup())
    assert r.status_code == 201, r.json
    assert r.json["lines"] == [{"sku": "CHEESE", "quantity": 6, "lot_code": "L42", "best_before": "2027-03-31",
                                "sscc": "106141411234567897"}]
    bad_sscc = {"number": "DESADV-8", "lines": [{"sku": "MUG", "quantity": 1, "sscc": "106141411234567890"}]}
    r = client.post("/api/v1/purchase-orders/PO-1/asns", json=bad_sscc, headers=sup())
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "lines.0.sscc"
    unknown = {"number": "DESADV-9", "lines": [{"sku": "TEA", "quantity": 1}]}
    r = client.post("/api/v1/purchase-orders/PO-1/asns", json=unknown, headers=sup())
    assert r.status_code == 422 and r.json["type"].endswith("/unknown-item")
    assert client.post("/api/v1/purchase-orders/PO-1/asns", json=body, headers=sup()).status_code == 409
    assert [a["number"] for a in client.get("/api/v1/purchase-orders/PO-1/asns", headers=sup()).json] == ["DESADV-7"]


def test_receiving_by_barcode_and_sku_moves_the_po_through_its_states(client, inbound, rec, sup, receipt):  # type: ignore[no-untyped-def]
    w = inbound
    r = client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": MUG_EAN, "quantity": 4}, headers=rec("r-1"))
    assert r.status_code == 201, r.json
    assert (r.json["sku"], r.json["quantity"], r.json["location"], r.json["on_hold"]) == ("MUG", 4, "RCV-01", False)
    replay = client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": MUG_EAN, "quantity": 4},
                         headers=rec("r-1"))
    assert replay.json == r.json and replay.headers.get("Idempotent-Replayed") == "true"
    assert client.get("/api/v1/purchase-orders/PO-1", headers=rec()).json["status"] == "partially_received"
    r = client.post(f"/api/v1/receipts/{receipt}/lines", headers=rec(),
                    json={"code": "MUG", "quantity": 7})  # 11 of 10: within the supplier's 10 %
    assert r.status_code == 201, r.json
    r = client.post(f"/api/v1/receipts/{receipt}/lines", headers=rec(),
                    json={"code": "CHEESE", "quantity": 6, "lot_code": "L42", "best_before": BBD.isoformat()})
    assert r.status_code == 201 and (r.json["lot_code"], r.json["best_before"]) == ("L42", "2027-03-31")
    po = client.get("/api/v1/purchase-orders/PO-1", headers=rec()).json
    assert po["status"] == "received"
    assert [(ln["sku"], ln["received"]) for ln in po["lines"]] == [("MUG", 11), ("CHEESE", 6)]
    with client.application.app_context():
        assert on_hand(w.mug, w.dock) == 11 == ledger_balance(w.mug, w.dock)[0]
        assert on_hand(w.cheese, w.dock) == 6 == ledger_balance(w.cheese, w.dock)[0]
        reasons = set(db.session.scalars(select(LedgerEntry.reason).where(
            LedgerEntry.reference == f"receipt {receipt}")))
        assert reasons == {StockReason.RECEIPT}
    closed = client.post(f"/api/v1/receipts/{receipt}/close", headers=rec())
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert client.post(f"/api/v1/receipts/{receipt}/close", headers=rec()).status_code == 409
    assert client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": "MUG", "quantity": 1},
                       headers=rec()).status_code == 409
    listed = client.get("/api/v1/warehouses/WH/receipts?status=closed", headers=rec()).json
    assert [x["code"] for x in listed] == [receipt] and len(listed[0]["lines"]) == 3


@pytest.mark.parametrize("body, status, kind, field", [
    ({"code": "TEA", "quantity": 1}, 422, "unknown-item", "code"),
    ({"code": "NO-SUCH-THING", "quantity": 1}, 422, "unknown-item", "code"),
    ({"code": "MUG", "quantity": 12}, 409, "over-receipt", None),
    ({"code": "CHEESE", "quantity": 2, "best_before": "2027-03-31"}, 422, "lot-required", "lot_code"),
    ({"code": "CHEESE", "quantity": 2, "lot_code": "L1"}, 422, "lot-required", "best_before"),
    ({"code": "MUG", "quantity": 1, "quarantine": "QUA-01"}, 422, "validation-failed", "hold_reason"),
    ({"code": "MUG", "quantity": 1, "hold_reason": "wet", "quarantine": "RCV-01"}, 422, "validation-failed",
     "quarantine"),
    ({"code": "MUG", "quantity": 0}, 422, "validation-failed", "quantity"),
])
def test_a_refused_receipt_changes_nothing(client, inbound, rec, receipt, body, status, kind, field):  # type: ignore[no-untyped-def]
    with client.application.app_context():
        before = snapshot()
    r = client.post(f"/api/v1/receipts/{receipt}/lines", json=body, headers=rec())
    assert r.status_code == status, r.json
    assert r.json["type"].endswith("/" + kind)
    if field:
        assert field in {e["field"] for e in r.json["errors"]}
    with client.application.app_context():
        assert snapshot() == before


def test_over_receipt_names_the_numbers(client, inbound, rec, receipt):  # type: ignore[no-untyped-def]
    assert client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": "MUG", "quantity": 9},
                       headers=rec()).status_code == 201
    r = client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": "MUG", "quantity": 3}, headers=rec())
    assert r.status_code == 409
    assert {k: r.json[k] for k in ("ordered", "received", "requested", "allowed", "tolerance_pct", "acceptable")} == {
        "ordered": 10, "received": 9, "requested": 3, "allowed": 11, "tolerance_pct": 10, "acceptable": 2}
    assert "above the 11 allowed" in r.json["detail"]


def test_the_po_tolerance_overrides_the_suppliers(client, inbound, sup, rec):  # type: ignore[no-untyped-def]
    body = {"number": "PO-STRICT", "supplier": "ACME", "over_receipt_tolerance_pct": 0,
            "lines": [{"sku": "MUG", "quantity": 5}]}
    assert client.post("/api/v1/warehouses/WH/purchase-orders", json=body, headers=sup()).status_code == 201
    code = client.post("/api/v1/purchase-orders/PO-STRICT/receipts", json={}, headers=rec()).json["code"]
    r = client.post(f"/api/v1/receipts/{code}/lines", json={"code": "MUG", "quantity": 6}, headers=rec())
    assert r.status_code == 409 and r.json["allowed"] == 5


def test_quality_hold_receives_into_quarantine_then_release_and_scrap(client, inbound, rec, sup, receipt):  # type: ignore[no-untyped-def]
    w = inbound
    r = client.post(f"/api/v1/receipts/{receipt}/lines", headers=rec(),
                    json={"code": "MUG", "quantity": 5, "hold_reason": "crushed cartons", "quarantine": "QUA-01"})
    assert r.status_code == 201, r.json
    line = r.json
    assert (line["location"], line["on_hold"], line["hold_reason"]) == ("QUA-01", True, "crushed cartons")
    with client.application.app_context():
        assert on_hand(w.mug, w.quarantine) == 5 and on_hand(w.mug, w.dock) == 0
        assert set(db.session.scalars(select(LedgerEntry.reason).where(
            LedgerEntry.location_id == w.quarantine.id))) == {StockReason.QUARANTINE}
    held = client.post(f"/api/v1/receipt-lines/{line['id']}/putaway-tasks", headers=rec())
    assert held.status_code == 409 and "hold" in held.json["detail"]
    r = client.post(f"/api/v1/receipt-lines/{line['id']}/scrap", json={"quantity": 2, "reason": "broken"},
                    headers=sup())
    assert r.status_code == 200 and (r.json["scrapped"], r.json["remaining"]) == (2, 3)
    assert client.post(f"/api/v1/receipt-lines/{line['id']}/release", headers=rec()).status_code == 403
    r = client.post(f"/api/v1/receipt-lines/{line['id']}/release", headers=sup())
    assert r.status_code == 200 and (r.json["on_hold"], r.json["location"]) == (False, "RCV-01")
    assert client.post(f"/api/v1/receipt-lines/{line['id']}/release", headers=sup()).status_code == 409
    with client.application.app_context():
        assert on_hand(w.mug, w.quarantine) == 0 == ledger_balance(w.mug, w.quarantine)[0]
        assert on_hand(w.mug, w.dock) == 3 == ledger_balance(w.mug, w.dock)[0]
        scrap = db.session.scalars(select(LedgerEntry.delta_on_hand).where(
            LedgerEntry.reason == StockReason.SCRAP)).all()
        assert scrap == [-2]


def test_a_receipt_against_an_asn_marks_it_received_and_the_po_closes_short(client, inbound, sup, rec):  # type: ignore[no-untyped-def]
    asn = {"number": "DESADV-1", "lines": [{"sku": "MUG", "quantity": 4}]}
    assert client.post("/api/v1/purchase-orders/PO-1/asns", json=asn, headers=sup()).status_code == 201
    r = client.post("/api/v1/purchase-orders/PO-1/receipts", json={"asn": "DESADV-1"}, headers=rec())
    assert r.status_code == 201 and (r.json["asn"], r.json["dock"]) == ("DESADV-1", "RCV-01")
    code = r.json["code"]
    assert client.post(f"/api/v1/receipts/{code}/lines", json={"code": "MUG", "quantity": 4},
                       headers=rec()).status_code == 201
    busy = client.post("/api/v1/purchase-orders/PO-1/close", headers=sup())
    assert busy.status_code == 409 and code in busy.json["detail"]
    assert client.post("/api/v1/purchase-orders/PO-1/cancel", headers=sup()).status_code == 409
    assert client.post(f"/api/v1/receipts/{code}/close", headers=rec()).status_code == 200
    with client.application.app_context():
        assert db.session.scalar(select(Asn.status).where(Asn.number == "DESADV-1")) == AsnStatus.RECEIVED
    r = client.post("/api/v1/purchase-orders/PO-1/close", headers=sup())
    assert r.status_code == 200 and r.json["status"] == PurchaseOrderStatus.CLOSED.value
    assert client.post("/api/v1/purchase-orders/PO-1/receipts", json={}, headers=rec()).status_code == 409


def test_an_untouched_po_is_cancelled(client, inbound, sup):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/purchase-orders/PO-1/cancel", headers=sup())
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert client.post("/api/v1/purchase-orders/PO-1/cancel", headers=sup()).status_code == 409


def test_another_warehouse_cannot_see_the_po(client, inbound, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    outsider = make_user("olga", roles=("receiver",), warehouses=(inbound.other,))
    headers = _h(make_token, outsider)
    commit()
    assert client.get("/api/v1/purchase-orders/PO-1", headers=headers).status_code == 404
    assert client.post("/api/v1/purchase-orders/PO-1/receipts", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/warehouses/WH/receipts", headers=headers).status_code == 403


def test_receipt_lines_are_kept_one_per_scan(client, inbound, rec, receipt):  # type: ignore[no-untyped-def]
    for qty in (2, 3):
        assert client.post(f"/api/v1/receipts/{receipt}/lines", json={"code": "MUG", "quantity": qty},
                           headers=rec()).status_code == 201
    with client.application.app_context():
        assert sorted(db.session.scalars(select(ReceiptLine.quantity))) == [2, 3]
