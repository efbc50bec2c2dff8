"""Put-away of received units into lanes from the replenish face (capacity-aware), and the receipt labels."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.integration.inbound_world import MUG_EAN, build_inbound, on_hand, snapshot
from tests.integration.stock_world import put
from tests.unit.labels.reading import decode_labels, field_values, format_commands, texts
from wms.db import db
from wms.enums import Face, StockReason, TaskKind, TaskStatus
from wms.inbound import putaway
from wms.inbound.models import ReceiptLine
from wms.printing.models import DocumentKind, PrintJob
from wms.stock.models import LedgerEntry
from wms.stock.services import ledger_balance
from wms.tasks.models import Task


@pytest.fixture
def inbound(session, make_user):  # type: ignore[no-untyped-def]
    w = build_inbound(make_user)
    session.commit()
    return w


@pytest.fixture
def headers(inbound, make_token, commit):  # type: ignore[no-untyped-def]
    tokens = {who: make_token("user", user=getattr(inbound, who)) for who in ("receiver", "supervisor", "picker")}
    commit()
    return lambda who="receiver": {"Authorization": f"Bearer {tokens[who]}", "Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
def received(client, inbound, headers):  # type: ignore[no-untyped-def]
    """Receipt of 11 MUG at RCV-01, one line."""
    code = client.post("/api/v1/purchase-orders/PO-1/receipts", json={}, headers=headers()).json["code"]
    r = client.post(f"/api/v1/receipts/{code}/lines", json={"code": "MUG", "quantity": 11}, headers=headers())
    assert r.status_code == 201, r.json
    return {"receipt": code, "line": r.json["id"]}


def test_lanes_holding_the_product_come_first_then_empty_lanes(client, inbound, headers, received):  # type: ignore[no-untyped-def]
    w = inbound
    with client.application.app_context():
        put(w.mug, w.lanes[1], 5)     # holds MUG: 7 free
        put(w.tea, w.lanes[0], 1)     # another product: never mixed into
        db.session.commit()
    r = client.get(f"/api/v1/receipt-lines/{received['line']}/putaway-suggestions", headers=headers())
    assert r.status_code == 200, r.json
    assert r.json["units"] == 11 and r.json["unplaced"] == 0
    assert [(s["lane"], s["quantity"], s["holds_product"], s["free"]) for s in r.json["suggestions"]] == [
        (w.lanes[1].code, 7, True, 7), (w.lanes[2].code, 4, False, 12)]
    plan = client.post(f"/api/v1/receipt-lines/{received['line']}/putaway-tasks", headers=headers())
    assert plan.status_code == 201, plan.json
    tasks = plan.json["tasks"]
    assert [(t["lane"], t["lane_scan"], t["quantity"], t["source"], t["receipt"]) for t in tasks] == [
        (w.lanes[1].code, "R:" + w.lanes[1].code, 7, "RCV-01", received["receipt"]),
        (w.lanes[2].code, "R:" + w.lanes[2].code, 4, "RCV-01", received["receipt"])]
    with client.application.app_context():
        rows = db.session.scalars(select(Task).where(Task.kind == TaskKind.PUTAWAY)).all()
        assert {(t.face, t.receipt_line_id, t.source_location_id) for t in rows} == {
            (Face.REPLENISH, received["line"], w.dock.id)}
    again = client.post(f"/api/v1/receipt-lines/{received['line']}/putaway-tasks", headers=headers())
    assert again.status_code == 409 and "already put away or planned" in again.json["detail"]
    listed = client.get(f"/api/v1/warehouses/WH/putaway-tasks?receipt={received['receipt']}", headers=headers())
    assert sorted(t["id"] for t in listed.json) == sorted(t["id"] for t in tasks)


def test_planned_space_is_not_promised_twice(session, inbound):  # type: ignore[no-untyped-def]
    lanes = [putaway.LaneSpace(1, "L1", "A", True, False, 3), putaway.LaneSpace(2, "L2", "A", False, True, 4),
             putaway.LaneSpace(3, "L3", "A", False, False, 10), putaway.LaneSpace(4, "L4", "A", False, True, 0)]
    plan, left = putaway.plan_lanes(lanes, 9)
    assert [(s.lane, s.quantity) for s in plan] == [("L1", 3), ("L2", 4)] and left == 2


def test_a_put_away_from_the_replenish_face_moves_the_stock_with_the_ledger(client, inbound, headers, received):  # type: ignore[no-untyped-def]
    w = inbound
    [task] = client.post(f"/api/v1/receipt-lines/{received['line']}/putaway-tasks", headers=headers()).json["tasks"]
    assert (task["lane"], task["quantity"]) == (w.lanes[0].code, 11)
    url = f"/api/v1/putaway-tasks/{task['id']}/complete"
    with client.application.app_context():
        before = snapshot()
    refused = [
        ({"lane": w.lanes[0].code, "item": "MUG", "quantity": 11}, 409, "lane-on-wrong-face", "REPLENISH FACE"),
        ({"lane": "R:" + w.lanes[1].code, "item": "MUG", "quantity": 11}, 409, "conflict", "Wrong lane"),
        ({"lane": "R:" + w.lanes[0].code, "item": "TEA", "quantity": 11}, 409, "conflict", "Wrong item"),
        ({"lane": "R:" + w.lanes[0].code, "item": "MUG", "quantity": 12}, 422, "validation-failed", "between 0"),
    ]
    for body, status, kind, words in refused:
        r = client.post(url, json=body, headers=headers())
        assert (r.status_code, r.json["type"].split("/")[-1]) == (status, kind), r.json
        assert words in r.json["detail"]
    assert client.post(url, json=refused[0][0], headers=headers("picker")).status_code == 403
    with client.application.app_context():
        assert snapshot() == before
    r = client.post(url, json={"lane": "R:" + w.lanes[0].code, "item": MUG_EAN, "quantity": 11},
                    headers={**headers(), "Idempotency-Key": "pa-1"})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["done_quantity"], r.json["assignee"]) == ("done", 11, "rita")
    with client.application.app_context():
        assert on_hand(w.mug, w.lanes[0]) == 11 == ledger_balance(w.mug, w.lanes[0])[0]
        assert on_hand(w.mug, w.dock) == 0 == ledger_balance(w.mug, w.dock)[0]
        rows = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reference == f"putaway task {task['id']}")
                                  .order_by(LedgerEntry.id)).all()
        assert [(x.location_id, x.delta_on_hand, x.reason, x.idempotency_key) for x in rows] == [
            (w.dock.id, -11, StockReason.PUTAWAY, "pa-1"), (w.lanes[0].id, 11, StockReason.PUTAWAY, "pa-1")]
        line = db.session.get(ReceiptLine, received["line"])
        assert (line.put_away, line.remaining) == (11, 0)
    again = client.post(url, json={"lane": "R:" + w.lanes[0].code, "item": "MUG", "quantity": 11}, headers=headers())
    assert again.status_code == 409


def test_a_put_away_over_the_lane_capacity_is_refused_and_moves_nothing(client, inbound, headers, received):  # type: ignore[no-untyped-def]
    w = inbound
    [task] = client.post(f"/api/v1/receipt-lines/{received['line']}/putaway-tasks", headers=headers()).json["tasks"]
    with client.application.app_context():
        put(w.tea, w.lanes[0], 3)  # someone filled the lane meanwhile: 3 + 11 > 12
        db.session.commit()
        before = snapshot()
    r = client.post(f"/api/v1/putaway-tasks/{task['id']}/complete", headers=headers(),
                    json={"lane": "R:" + w.lanes[0].code, "item": "MUG", "quantity": 11})
    assert r.status_code == 409 and r.json["type"].endswith("/lane-full"), r.json
    assert (r.json["on_hand"], r.json["capacity"], r.json["requested"]) == (3, 12, 11)
    with client.application.app_context():
        assert snapshot() == before
    r = client.post(f"/api/v1/putaway-tasks/{task['id']}/complete", headers=headers(),
                    json={"lane": "R:" + w.lanes[0].code, "item": "MUG", "quantity": 9})
    assert r.status_code == 200 and r.json["note"] == "short: 9 of 11 put away"
    with client.application.app_context():
        line = db.session.get(ReceiptLine, received["line"])
        assert (line.put_away, line.remaining) == (9, 2)
        assert on_hand(w.mug, w.dock) == 2 == ledger_balance(w.mug, w.dock)[0]
        assert db.session.get(Task, task["id"]).status == TaskStatus.DONE


def test_no_room_anywhere_plans_nothing(client, inbound, headers, received):  # type: ignore[no-untyped-def]
    w = inbound
    with client.application.app_context():
        for lane in w.lanes:
            put(w.tea, lane, 1)
        db.session.commit()
        before = snapshot()
    r = client.post(f"/api/v1/receipt-lines/{received['line']}/putaway-tasks", headers=headers())
    assert r.status_code == 409 and r.json["type"].endswith("/lane-full")
    with client.application.app_context():
        assert snapshot() == before


def test_receipt_labels_print_escaped_at_the_receiving_dock_printer(client, inbound, headers, received):  # type: ignore[no-untyped-def]
    code = received["receipt"]
    r = client.post(f"/api/v1/receipts/{code}/lines", headers=headers(),
                    json={"code": "CHEESE", "quantity": 6, "lot_code": "L42", "best_before": "2027-03-31"})
    assert r.status_code == 201
    jobs = client.post(f"/api/v1/receipts/{code}/labels", json={}, headers=headers())
    assert jobs.status_code == 201, jobs.json
    assert [(j["printer"], j["state"]) for j in jobs.json] == [("PR-RCV", "queued")] * 2
    with client.application.app_context():
        job = db.session.get(PrintJob, jobs.json[1]["id"])
        assert job.document_kind == DocumentKind.RECEIPT_LABEL
        zpl = job.payload.decode("ascii")
    # the product name "Comté ^XZ^XA~JA_x" prints literally: one format, its ^XZ only the closing one
    assert format_commands(zpl).count(b"XZ") == 1 and format_commands(zpl).count(b"XA") == 1
    assert "^JA" not in zpl and "~JA" not in zpl
    values = field_values(zpl)
    assert {"CHEESE", "Comté ^XZ^XA~JA_x", "x6", "LOT L42", "BBD 2027-03-31"} <= set(values)
    [decoded] = decode_labels(zpl)
    assert texts(decoded) == [code]
    only = client.post(f"/api/v1/receipts/{code}/labels", json={"line_ids": [received["line"]]}, headers=headers())
    assert only.status_code == 201 and len(only.json) == 1
    bad = client.post(f"/api/v1/receipts/{code}/labels", json={"line_ids": [999999]}, headers=headers())
    assert bad.status_code == 422
