"""The supervisor's shipping dock page: the doors' timeline, staged parcels per carrier, print the manifest, the
truck's departure and readable refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.integration.test_dock_world import build_dock, labelled_shipment, snapshot
from wms.db import db
from wms.outbound import dock as services
from wms.outbound.models import CarrierPickup, Manifest, Shipment, ShipmentStatus

DAY = "2026-11-23"
PAGE = "/warehouses/WH/shipping"


@pytest.fixture
def signed_in(app, client, make_user, sign_in):  # type: ignore[no-untyped-def]
    with app.app_context():
        site = build_dock(make_user)
        boss = make_user("boss", roles=("supervisor",), warehouses=(site.warehouse,), totp=True)
        db.session.commit()
        sign_in(client, boss)
        yield site


def test_the_page_draws_the_days_pickups_on_the_door_timeline_and_the_staged_parcels(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    site = signed_in
    shipment = labelled_shipment(site, "A-1", (1000, 500))
    services.stage_parcel(site.warehouse, shipment.parcels[0].sscc, "SHIP-01")
    start = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
    services.book_pickup(site.warehouse, "own-fleet", "DOOR-2", start, start + dt.timedelta(minutes=30))
    db.session.commit()
    page = client.get(f"{PAGE}?day={DAY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Pick-up Own fleet (own-fleet)" in html and "Shipping door 2" in html
    assert shipment.tracking_number in html and "1 / 2" in html and "Print manifest" in html
    assert "17:00–17:30 on 23 Nov 2026" in html  # Europe/Paris
    other_day = client.get(f"{PAGE}?day=2026-11-24").get_data(as_text=True)
    assert "No pick-up booked this day." in other_day
    french = client.get(f"{PAGE}?day={DAY}", headers={"Accept-Language": "fr"})
    assert french.status_code == 200


def test_an_overlapping_pickup_from_the_page_is_refused_with_the_clash_and_nothing_written(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    site = signed_in
    start = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
    services.book_pickup(site.warehouse, "own-fleet", "DOOR-2", start, start + dt.timedelta(minutes=30))
    db.session.commit()
    before = snapshot()
    resp = client.post(f"{PAGE}/pickups", data={"carrier": "gs1", "door": "DOOR-2", "day": DAY,
                                                "starts_at": "2026-11-23T17:15", "ends_at": "2026-11-23T18:00"},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Dock door DOOR-2 is booked 17:00–17:30 on 23 Nov 2026" in html
    db.session.expire_all()
    assert snapshot() == before
    ok = client.post(f"{PAGE}/pickups", data={"carrier": "gs1", "door": "DOOR-2", "day": DAY,
                                              "starts_at": "2026-11-23T17:30", "ends_at": "2026-11-23T18:00"},
                     follow_redirects=True)
    assert "Pick-up booked for gs1." in ok.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.scalars(select(CarrierPickup)).all()) == 2


def test_print_the_manifest_then_the_truck_leaves_from_the_page(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    site = signed_in
    shipment = labelled_shipment(site, "A-1", (1000,))
    services.stage_parcel(site.warehouse, shipment.parcels[0].sscc, "SHIP-01")
    start = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)
    pickup = services.book_pickup(site.warehouse, "own-fleet", "DOOR-2", start, start + dt.timedelta(minutes=30))
    db.session.commit()
    empty = client.post(f"{PAGE}/manifests", data={"carrier": "gs1", "day": DAY}, follow_redirects=True)
    assert "No GS1 logistic label shipment is staged" in empty.get_data(as_text=True)
    made = client.post(f"{PAGE}/manifests", data={"carrier": "own-fleet", "pickup_id": str(pickup.id), "day": DAY},
                       follow_redirects=True)
    html = made.get_data(as_text=True)
    assert "Sent to printer PR-SHIP." in html and "M-own-fleet-" in html
    reference = db.session.scalar(select(Manifest.reference))
    assert reference in html and "Reprint" in html
    reprint = client.post(f"{PAGE}/manifests/{db.session.scalar(select(Manifest.id))}/reprint", data={"day": DAY},
                          follow_redirects=True)
    assert f"Manifest {reference} sent again." in reprint.get_data(as_text=True)
    left = client.post(f"{PAGE}/pickups/{pickup.id}/depart", data={"day": DAY}, follow_redirects=True)
    assert "The truck left; shipments shipped: 1." in left.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == ShipmentStatus.SHIPPED


def test_a_packer_stages_parcels_from_the_handheld_and_a_refusal_changes_nothing(app, client, make_user,  # type: ignore[no-untyped-def]
                                                                                  sign_in) -> None:
    import uuid

    with app.app_context():
        site = build_dock(make_user)
        packer = make_user("paula", roles=("packer",), warehouses=(site.warehouse,))
        shipment = labelled_shipment(site, "H-1", (1000, 500))
        db.session.commit()
        sign_in(client, packer)
        page = client.get("/hh/stage")
        assert page.status_code == 200 and "stage.js" in page.get_data(as_text=True)

        def scan(location: str, parcel: str, key: str | None = None):  # type: ignore[no-untyped-def]
            return client.post("/hh/api/stage", json={"location": location, "parcel": parcel},
                               headers={"Idempotency-Key": key or str(uuid.uuid4())})

        before = snapshot()
        refused = scan("RCV-01", shipment.parcels[0].sscc)
        assert refused.status_code == 422 and "shipping dock or its sas" in refused.json["detail"]
        assert scan("NOWHERE", shipment.parcels[0].sscc).status_code == 404
        db.session.expire_all()
        assert snapshot() == before
        key = str(uuid.uuid4())
        first = scan("SHIP-01", f"]C100{shipment.parcels[0].sscc}", key)
        assert first.status_code == 200 and first.json["staged"] == 1 and not first.json["shipment_staged"]
        assert scan("SHIP-01", f"]C100{shipment.parcels[0].sscc}", key).json == first.json
        last = scan("SHIP-01", shipment.parcels[1].tracking_number)
        assert last.json["shipment_staged"] and last.json["status"] == "staged"
        db.session.expire_all()
        assert db.session.get(Shipment, shipment.id).status == ShipmentStatus.STAGED


def test_the_demo_books_todays_pickups_once(app, make_user) -> None:  # type: ignore[no-untyped-def]
    from wms.demo.dock import seed_dock

    with app.app_context():
        site = build_dock(make_user)
        said: list[str] = []
        seed_dock(site.warehouse, said.append)
        seed_dock(site.warehouse, said.append)
        pickups = services.pickups_of_day(site.warehouse, services.local_day(site.warehouse))
        assert sorted(p.carrier_code for p in pickups) == ["gs1", "own-fleet"]
        assert said[0].startswith("dock pick-ups: 2 booked") and said[1].startswith("dock pick-ups: 0 booked")


def test_page_forms_with_ids_that_name_nothing_are_refused_readably(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    for path, said in ((f"{PAGE}/pickups/99999999999/depart", "No pick-up 99999999999."),
                       (f"{PAGE}/pickups/5/cancel", "No pick-up 5."),
                       (f"{PAGE}/manifests/99999999999/reprint", "No manifest 99999999999.")):
        resp = client.post(path, data={"day": DAY}, follow_redirects=True)
        assert resp.status_code == 200 and said in resp.get_data(as_text=True)
    made = client.post(f"{PAGE}/manifests", data={"carrier": "own-fleet", "pickup_id": "99999999999", "day": DAY},
                       follow_redirects=True)
    assert "No pick-up 99999999999." in made.get_data(as_text=True)
