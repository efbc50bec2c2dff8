"""The shipping dock through the API: staging, pick-ups on the door, the manifest, departure and delivery; every
refusal leaves the database as it was."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.integration.test_dock_world import Dock, build_dock, labelled_shipment, snapshot
from wms.db import db
from wms.orders.models import Order, OrderStatus
from wms.outbound.models import CarrierPickup, Manifest, Parcel, Shipment, ShipmentStatus
from wms.printing.models import DocumentKind, PrintJob
from wms.webhooks.models import WebhookEvent

API = "/api/v1"
TODAY = dt.date(2026, 11, 23)


def _h(token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}


@pytest.fixture
def dock(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        built = build_dock(make_user)
        db.session.commit()
        yield built


def _stage(client, dock: Dock, scan: str, location: str = "SHIP-01", token: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/warehouses/WH/dock/staging", json={"parcel": scan, "location": location},
                        headers=_h(token or dock.packer))


def _staged(client, dock: Dock, shipment: Shipment) -> None:  # type: ignore[no-untyped-def]
    for parcel in shipment.parcels:
        assert _stage(client, dock, parcel.sscc).status_code == 200


def _fresh(model, ident):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(model, ident)


def test_a_shipment_is_staged_when_its_last_parcel_is_scanned_into_the_shipping_sas(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    shipment = labelled_shipment(dock, "A-1", (1200, 800))
    db.session.commit()
    first, second = shipment.parcels
    resp = _stage(client, dock, f"]C100{first.sscc}")
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["moved"] and not body["shipment_staged"] and body["shipment"]["status"] == "labelled"
    assert body["parcel"]["staged_location"] == "SHIP-01" and body["message"] == "1 of 2 parcels staged."
    again = _stage(client, dock, f"(00){first.sscc}")
    assert again.status_code == 200 and not again.json["moved"]
    done = _stage(client, dock, second.tracking_number)  # the tracking number works as well as the SSCC
    assert done.status_code == 200 and done.json["shipment_staged"] and done.json["shipment"]["status"] == "staged"
    assert _fresh(Shipment, shipment.id).status == ShipmentStatus.STAGED
    assert all(p.staged_location_id == dock.sas.id and p.staged_at for p in _fresh(Shipment, shipment.id).parcels)
    listed = client.get(f"{API}/warehouses/WH/dock/staged?carrier=own-fleet", headers=_h(dock.supervisor))
    assert [s["tracking_number"] for s in listed.json] == [shipment.tracking_number]


def test_staging_refuses_unknown_parcels_wrong_places_and_unfinished_or_cancelled_shipments(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    good = labelled_shipment(dock, "A-1")
    packing = labelled_shipment(dock, "A-2")
    cancelled = labelled_shipment(dock, "A-3")
    packing.status, cancelled.status = ShipmentStatus.PACKING, ShipmentStatus.CANCELLED
    db.session.commit()
    before = snapshot()
    unknown = _stage(client, dock, "RZ9999999999")
    assert unknown.status_code == 404 and "No parcel RZ9999999999" in unknown.json["detail"]
    bad_sscc = _stage(client, dock, "(00)006141410000000018")  # a valid SSCC that is not ours
    assert bad_sscc.status_code == 404
    wrong_place = _stage(client, dock, good.parcels[0].sscc, "RCV-01")
    assert wrong_place.status_code == 422 and "shipping dock or its sas" in wrong_place.json["detail"]
    assert _stage(client, dock, good.parcels[0].sscc, "NOWHERE").status_code == 404
    not_labelled = _stage(client, dock, packing.parcels[0].sscc)
    assert not_labelled.status_code == 409 and "no carrier label yet" in not_labelled.json["detail"]
    gone = _stage(client, dock, cancelled.parcels[0].tracking_number)
    assert gone.status_code == 409 and "cancelled shipment" in gone.json["detail"]
    forbidden = client.post(f"{API}/warehouses/WH/dock/staging", json={"parcel": good.parcels[0].sscc,
                                                                      "location": "SHIP-01"},
                            headers=_h(dock.channel_token))
    assert forbidden.status_code == 403
    db.session.expire_all()
    assert snapshot() == before


def test_an_overlapping_pickup_is_refused_naming_the_booking_and_nothing_is_written(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    booked = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "own-fleet", "door": "DOOR-2", "starts_at": "2026-11-23T16:00:00+01:00",
        "ends_at": "2026-11-23T16:30:00+01:00"})
    assert booked.status_code == 201, booked.json
    assert booked.json["label"] == "Pick-up Own fleet (own-fleet)" and booked.json["status"] == "booked"
    before = snapshot()
    clash = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "gs1", "door": "DOOR-2", "starts_at": "2026-11-23T15:15:00Z", "ends_at": "2026-11-23T15:45:00Z"})
    assert clash.status_code == 409
    assert clash.json["detail"] == ("Dock door DOOR-2 is booked 16:00–16:30 on 23 Nov 2026 by Pick-up Own fleet "
                                    "(own-fleet).")
    receiving = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "gs1", "door": "DOOR-1", "starts_at": "2026-11-23T15:15:00Z", "ends_at": "2026-11-23T15:45:00Z"})
    assert receiving.status_code == 422 and "not a door of a shipping dock" in receiving.json["detail"]
    unknown = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "pigeon", "door": "DOOR-2", "starts_at": "2026-11-23T18:00:00Z", "ends_at": "2026-11-23T19:00:00Z"})
    assert unknown.status_code == 404 and "pigeon" in unknown.json["detail"]
    db.session.expire_all()
    assert snapshot() == before
    back_to_back = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "gs1", "door": "DOOR-2", "starts_at": "2026-11-23T15:30:00Z", "ends_at": "2026-11-23T16:00:00Z"})
    assert back_to_back.status_code == 201
    day = client.get(f"{API}/warehouses/WH/pickups?day=2026-11-23", headers=_h(dock.supervisor))
    assert [(p["carrier"], p["door"]) for p in day.json] == [("own-fleet", "DOOR-2"), ("gs1", "DOOR-2")]
    assert client.get(f"{API}/warehouses/WH/pickups?day=2026-11-24", headers=_h(dock.supervisor)).json == []
    cancel = client.post(f"{API}/pickups/{booked.json['id']}/cancel", headers=_h(dock.supervisor))
    assert cancel.status_code == 200 and cancel.json["status"] == "cancelled" and cancel.json["slot_id"] is None
    rebooked = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": "gs1", "door": "DOOR-2", "starts_at": "2026-11-23T15:10:00Z", "ends_at": "2026-11-23T15:20:00Z"})
    assert rebooked.status_code == 201  # the cancelled pick-up freed the door


def _book(client, dock: Dock, carrier: str = "own-fleet") -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = client.post(f"{API}/warehouses/WH/pickups", headers=_h(dock.supervisor), json={
        "carrier": carrier, "door": "DOOR-2", "starts_at": "2026-11-23T16:00:00Z", "ends_at": "2026-11-23T16:30:00Z"})
    assert resp.status_code == 201, resp.json
    return resp.json


def test_the_manifest_lists_every_staged_parcel_prints_at_the_dock_and_decodes_to_its_reference(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.labels.reading import decode_labels, field_values

    one = labelled_shipment(dock, "A-1", (1200, 800))
    two = labelled_shipment(dock, "A-2", (500,))
    waiting = labelled_shipment(dock, "A-3", (700,))  # labelled, never staged: not on the manifest
    gs1 = labelled_shipment(dock, "A-4", (900,), carrier_code="gs1")
    db.session.commit()
    for shipment in (one, two, gs1):
        _staged(client, dock, shipment)
    pickup = _book(client, dock)
    key = str(uuid.uuid4())
    resp = client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor, key),
                       json={"carrier": "own-fleet", "day": "2026-11-23", "pickup_id": pickup["id"]})
    assert resp.status_code == 201, resp.json
    body = resp.json
    numbers = [p.tracking_number for s in (one, two) for p in s.parcels]
    assert body["parcel_count"] == 3 and body["total_weight_g"] == 2500 and body["printed"]
    assert sorted(body["tracking_numbers"]) == sorted(numbers)
    assert body["reference"].startswith("M-own-fleet-20261123-")
    job = db.session.scalar(select(PrintJob).where(PrintJob.id == body["print_job_id"]))
    assert job.document_kind == DocumentKind.MANIFEST and job.printer.code == "PR-SHIP"
    zpl = job.payload.decode("ascii")
    assert set(numbers) <= set(field_values(zpl)) and waiting.tracking_number not in zpl
    assert [d.text for page in decode_labels(zpl) for d in page] == [body["reference"]]
    document = client.get(f"{API}/manifests/{body['id']}/document", headers=_h(dock.supervisor))
    assert document.status_code == 200 and document.data == job.payload
    db.session.expire_all()
    assert {s.status for s in db.session.scalars(select(Shipment).where(Shipment.id.in_([one.id, two.id])))} == {
        ShipmentStatus.MANIFESTED}
    assert _fresh(Shipment, one.id).pickup_id == pickup["id"] and _fresh(Shipment, gs1.id).status == "staged"
    assert db.session.get(CarrierPickup, pickup["id"]).manifest_id == body["id"]
    replay = client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor, key),
                         json={"carrier": "own-fleet", "day": "2026-11-23", "pickup_id": pickup["id"]})
    assert replay.json["id"] == body["id"]
    before = snapshot()
    empty = client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor), json={"carrier": "own-fleet"})
    assert empty.status_code == 409 and "No Own fleet shipment is staged" in empty.json["detail"]
    wrong = client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor),
                        json={"carrier": "gs1", "pickup_id": pickup["id"]})
    assert wrong.status_code == 422 and "is for own-fleet" in wrong.json["detail"]
    db.session.expire_all()
    assert snapshot() == before
    reprint = client.post(f"{API}/manifests/{body['id']}/reprint", headers=_h(dock.supervisor))
    assert reprint.status_code == 200 and reprint.json["printed"] and reprint.json["print_job_id"] == job.id
    copy = db.session.scalar(select(PrintJob).where(PrintJob.reprint_of_id == job.id))
    assert copy is not None and copy.payload == job.payload
    listed = client.get(f"{API}/warehouses/WH/manifests?day=2026-11-23", headers=_h(dock.supervisor))
    assert [m["reference"] for m in listed.json] == [body["reference"]]


def test_without_a_printer_the_manifest_is_still_made_and_says_it_was_not_printed(app, client, make_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        dock = build_dock(make_user, printer=False)
        shipment = labelled_shipment(dock, "B-1")
        db.session.commit()
        _staged(client, dock, shipment)
        resp = client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor), json={"carrier": "own-fleet"})
        assert resp.status_code == 201, resp.json
        assert not resp.json["printed"] and resp.json["print_job_id"] is None
        assert resp.json["print_message"].startswith("Not printed: No printer is routed for manifest documents")
        db.session.expire_all()
        assert db.session.get(Manifest, resp.json["id"]).parcel_count == 1
        assert _fresh(Shipment, shipment.id).status == ShipmentStatus.MANIFESTED
        document = client.get(f"{API}/manifests/{resp.json['id']}/document", headers=_h(dock.supervisor))
        assert document.status_code == 200 and shipment.tracking_number.encode() in document.data
        before = snapshot()
        reprint = client.post(f"{API}/manifests/{resp.json['id']}/reprint", headers=_h(dock.supervisor))
        assert reprint.status_code == 409 and reprint.json["type"].endswith("no-printer")
        db.session.expire_all()
        assert snapshot() == before


def test_departure_ships_and_tells_the_channel_with_tracking_then_the_channel_reports_delivery(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    shipment = labelled_shipment(dock, "A-1", (1200, 800))
    theirs = labelled_shipment(dock, "M-1", channel=dock.other_channel)
    db.session.commit()
    pickup = _book(client, dock)
    before = snapshot()
    early = client.post(f"{API}/pickups/{pickup['id']}/depart", headers=_h(dock.supervisor))
    assert early.status_code == 409 and "print the manifest" in early.json["detail"]
    db.session.expire_all()
    assert snapshot() == before
    _staged(client, dock, shipment)
    _staged(client, dock, theirs)
    assert client.post(f"{API}/warehouses/WH/manifests", headers=_h(dock.supervisor),
                       json={"carrier": "own-fleet"}).status_code == 201
    key = str(uuid.uuid4())
    gone = client.post(f"{API}/pickups/{pickup['id']}/depart", headers=_h(dock.supervisor, key))
    assert gone.status_code == 200, gone.json
    assert gone.json["pickup"]["status"] == "departed" and gone.json["departed_now"]
    assert {s["status"] for s in gone.json["shipments"]} == {"shipped"} and len(gone.json["shipments"]) == 2
    db.session.expire_all()
    assert _fresh(Order, shipment.order_id).status == OrderStatus.SHIPPED and _fresh(Shipment, shipment.id).shipped_at
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.channel_id == dock.channel.id,
                                                         WebhookEvent.topic == "order.status_changed"))
    data = event.payload["data"]
    assert data["order_id"] == "A-1" and data["status"] == "shipped"
    assert data["shipment"]["tracking_number"] == shipment.tracking_number
    assert [p["tracking_number"] for p in data["shipment"]["parcels"]] == [p.tracking_number for p in shipment.parcels]
    assert client.post(f"{API}/pickups/{pickup['id']}/depart", headers=_h(dock.supervisor, key)).json == gone.json
    assert client.post(f"{API}/pickups/{pickup['id']}/cancel", headers=_h(dock.supervisor)).status_code == 409

    before = snapshot()
    not_yours = client.post(f"{API}/shipments/delivered", headers=_h(dock.channel_token),
                            json={"tracking_number": theirs.tracking_number})
    assert not_yours.status_code == 404
    nonsense = client.post(f"{API}/shipments/delivered", headers=_h(dock.channel_token),
                           json={"tracking_number": "RZ000000000"})
    assert nonsense.status_code == 404
    db.session.expire_all()
    assert snapshot() == before
    second_parcel = shipment.parcels[1].tracking_number
    delivered = client.post(f"{API}/shipments/delivered", headers=_h(dock.channel_token),
                            json={"tracking_number": second_parcel})
    assert delivered.status_code == 200 and delivered.json["status"] == "delivered"
    db.session.expire_all()
    assert _fresh(Order, shipment.order_id).status == OrderStatus.DELIVERED
    events = list(db.session.scalars(select(WebhookEvent).where(WebhookEvent.channel_id == dock.channel.id)
                                     .order_by(WebhookEvent.id)))
    assert [e.payload["data"]["status"] for e in events] == ["shipped", "delivered"]
    assert events[-1].payload["data"]["shipment"]["status"] == "delivered"
    again = client.post(f"{API}/shipments/delivered", headers=_h(dock.supervisor),
                        json={"tracking_number": shipment.tracking_number})
    assert again.status_code == 200
    assert db.session.scalar(select(WebhookEvent.id).order_by(WebhookEvent.id.desc()).limit(1)) == events[-1].id


def test_a_shipment_not_yet_shipped_cannot_be_delivered(app, client, dock) -> None:  # type: ignore[no-untyped-def]
    shipment = labelled_shipment(dock, "A-1")
    db.session.commit()
    before = snapshot()
    resp = client.post(f"{API}/shipments/delivered", headers=_h(dock.supervisor),
                       json={"tracking_number": shipment.tracking_number})
    assert resp.status_code == 409 and "not shipped" in resp.json["detail"]
    db.session.expire_all()
    assert snapshot() == before
    assert db.session.scalar(select(Parcel.staged_at).where(Parcel.shipment_id == shipment.id)) is None
