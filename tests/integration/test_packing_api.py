"""The packing API over HTTP (Flask test client, PostgreSQL): the packer's whole flow, refusals as problem
documents that change nothing, idempotent replays, the boxes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import g
from sqlalchemy import func, select

from tests.e2e.handheld_support import ean_for
from tests.integration.test_packing_services import PackWorld, build_pack_world, products, snapshot
from wms.db import db
from wms.outbound.models import Shipment
from wms.printing.models import PrintJob
from wms.shipping import sscc as sscc_rules


@pytest.fixture
def pw(session) -> PackWorld:  # type: ignore[no-untyped-def]
    w = build_pack_world()
    session.commit()
    return w


@pytest.fixture
def packer_client(app, client, sign_in, pw):  # type: ignore[no-untyped-def]
    sign_in(client, pw.packer)
    return client


def post(client: Any, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    return client.post("/api/v1" + path, json=body if body is not None else {},
                       headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-Device-Id": "hh-7"})


def start(client: Any, pw: PackWorld) -> dict[str, Any]:
    resp = post(client, "/warehouses/WH/packing", {"station": "PACK-1", "tote": pw.tote})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_packer_packs_an_order_through_the_api_and_gets_tracking_and_sscc(packer_client, pw) -> None:  # type: ignore[no-untyped-def]
    body = start(packer_client, pw)
    sid = body["id"]
    assert body["order"] == pw.order.external_id and body["status"] == "packing" and body["pack_station"] == "PACK-1"
    assert [(ln["sku"], ln["to_pack"], ln["packed"]) for ln in body["lines"]] == [
        (p.sku, q, 0) for p, q in products(pw)]
    for product, quantity in products(pw):
        resp = post(packer_client, f"/shipments/{sid}/items", {"code": ean_for(product), "quantity": quantity})
        assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["complete"] and body["suggested_box"]["box"] == "S" and body["open_parcel"] == 1
    body = post(packer_client, f"/shipments/{sid}/box", {"box": "S"}).get_json()
    assert body["expected_weight_g"] == 700
    resp = post(packer_client, f"/shipments/{sid}/weight", {"weight_g": 690})
    assert resp.status_code == 200 and resp.get_json()["open_parcel"] is None
    key = str(uuid.uuid4())
    resp = post(packer_client, f"/shipments/{sid}/finish", {}, key=key)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "labelled" and body["order_status"] == "packed" and body["carrier"] == "own-fleet"
    parcel = body["parcels"][0]
    assert sscc_rules.is_valid(parcel["sscc"]) and parcel["tracking_number"] == body["tracking_number"]
    assert parcel["weight_g"] == 690 and parcel["box"] == "S" and parcel["label_print_job_id"]
    replay = post(packer_client, f"/shipments/{sid}/finish", {}, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json() == body
    assert db.session.scalar(select(func.count()).select_from(PrintJob).where(
        PrintJob.document_kind == "carrier_label")) == 1
    read = packer_client.get(f"/api/v1/shipments/{sid}").get_json()
    assert read["tracking_number"] == body["tracking_number"] and read["parcels"] == body["parcels"]


def _refused(client: Any, path: str, body: dict[str, Any], status: int, slug: str) -> dict[str, Any]:
    db.session.commit()
    before = snapshot()
    resp = post(client, path, body)
    assert resp.status_code == status, resp.get_json()
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json" and problem["type"] == f"/problems/{slug}"
    db.session.rollback()
    assert snapshot() == before
    return problem


def test_refusals_are_problem_documents_and_change_nothing(packer_client, pw) -> None:  # type: ignore[no-untyped-def]
    _refused(packer_client, "/warehouses/WH/packing", {"station": "PACK-1", "tote": "NO-SUCH"}, 404, "tote-unknown")
    _refused(packer_client, "/warehouses/WH/packing", {"station": "NOPE", "tote": pw.tote}, 404, "not-found")
    sid = start(packer_client, pw)["id"]
    problem = _refused(packer_client, f"/shipments/{sid}/items", {"code": "STRANGER-SKU"}, 409, "pack-mis-scan")
    assert "no known item" in problem["detail"]
    product, quantity = products(pw)[0]
    problem = _refused(packer_client, f"/shipments/{sid}/items", {"code": ean_for(product), "quantity": quantity + 1},
                       409, "pack-over-scan")
    assert f"has {quantity}, 0 already packed" in problem["detail"]
    for p, q in products(pw):
        assert post(packer_client, f"/shipments/{sid}/items", {"code": ean_for(p), "quantity": q}).status_code == 200
    problem = _refused(packer_client, f"/shipments/{sid}/box", {"box": "TINY"}, 409, "pack-box-refused")
    assert "does not fit" in problem["detail"]
    problem = _refused(packer_client, f"/shipments/{sid}/weight", {"weight_g": 700}, 409, "pack-refused")
    assert "Choose the box" in problem["detail"]
    assert post(packer_client, f"/shipments/{sid}/box", {"box": "S"}).status_code == 200
    problem = _refused(packer_client, f"/shipments/{sid}/weight", {"weight_g": 2100}, 422, "pack-weight-refused")
    assert problem["verdict"] == "over_box_limit"
    problem = _refused(packer_client, f"/shipments/{sid}/weight", {"weight_g": 1000}, 422, "pack-weight-refused")
    assert problem["verdict"] == "too_heavy" and problem["expected_g"] == 700 and problem["measured_g"] == 1000
    _refused(packer_client, f"/shipments/{sid}/finish", {}, 409, "pack-refused")
    _refused(packer_client, f"/shipments/{sid}/weight", {"weight_g": 0}, 422, "validation-failed")


def test_a_label_is_cancelled_and_the_order_relabelled_with_another_carrier(packer_client, pw) -> None:  # type: ignore[no-untyped-def]
    sid = start(packer_client, pw)["id"]
    for p, q in products(pw):
        post(packer_client, f"/shipments/{sid}/items", {"code": p.sku, "quantity": q})
    post(packer_client, f"/shipments/{sid}/box", {"box": "M"})
    post(packer_client, f"/shipments/{sid}/weight", {"weight_g": 780})
    first = post(packer_client, f"/shipments/{sid}/finish", {}).get_json()
    body = post(packer_client, f"/shipments/{sid}/cancel-label").get_json()
    assert body["status"] == "packing" and body["tracking_number"] is None and body["order_status"] == "picked"
    assert post(packer_client, f"/shipments/{sid}/finish", {"carrier": "nope"}).status_code == 404
    body = post(packer_client, f"/shipments/{sid}/finish", {"carrier": "gs1"}).get_json()
    assert body["carrier"] == "gs1" and body["tracking_number"] == body["parcels"][0]["sscc"]
    assert body["parcels"][0]["sscc"] != first["parcels"][0]["sscc"]
    assert db.session.get(Shipment, sid).carrier_code == "gs1"


def test_only_packers_and_supervisors_pack_and_only_supervisors_add_boxes(app, client, sign_in, pw) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, pw.pick.picker)
    assert post(client, "/warehouses/WH/packing", {"station": "PACK-1", "tote": pw.tote}).status_code == 403
    g.pop("_login_user", None)  # the test's app context outlives the request: forget the picker
    sign_in(client, pw.packer)
    resp = client.get("/api/v1/boxes")
    assert resp.status_code == 200, resp.get_json()
    assert [b["code"] for b in resp.get_json()] == ["M", "S", "TINY"]
    box = {"code": "L", "name": "Large", "inner_length_mm": 400, "inner_width_mm": 300, "inner_height_mm": 300,
           "max_weight_g": 15000, "tare_weight_g": 350}
    assert post(client, "/boxes", box).status_code == 403


def test_a_supervisor_adds_changes_and_retires_a_box(app, client, sign_in, make_user, pw) -> None:  # type: ignore[no-untyped-def]
    boss = make_user("boss", roles=("supervisor",), warehouses=(pw.pick.site.warehouse,), totp=True)
    db.session.commit()
    sign_in(client, boss)
    box = {"code": "L", "name": "Large", "inner_length_mm": 400, "inner_width_mm": 300, "inner_height_mm": 300,
           "max_weight_g": 15000, "tare_weight_g": 350}
    resp = post(client, "/boxes", box)
    assert resp.status_code == 201 and resp.get_json() == {**box, "active": True}
    assert post(client, "/boxes", {**box, "max_weight_g": 9000}).status_code == 409
    assert post(client, "/boxes", {**box, "tare_weight_g": 20000}).status_code == 422
    resp = client.patch("/api/v1/boxes/L", json={"active": False}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert "L" not in [b["code"] for b in client.get("/api/v1/boxes").get_json()]
    assert "L" in [b["code"] for b in client.get("/api/v1/boxes?include_inactive=true").get_json()]
