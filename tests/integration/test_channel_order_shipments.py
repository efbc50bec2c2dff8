"""A channel reading its order sees what shipped: carrier, service, tracking numbers, tracking URL, parcels."""

from __future__ import annotations

import datetime as dt

from tests.integration.test_dock_world import build_dock, labelled_shipment
from tests.integration.test_packing_services import build_pack_world, ctx, pack_all
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import TokenPurpose
from wms.outbound import dock as dock_services
from wms.outbound import packing_services as pk

TRACKING = "https://track.example/parcel/{tracking_number}?lang=fr"


def channel_token(channel) -> str:  # type: ignore[no-untyped-def]
    token, raw = issue_token(name=channel.code, purpose=TokenPurpose.CHANNEL, warehouse_id=channel.warehouse_id)
    token.channel_id = channel.id
    db.session.flush()
    return raw


def read_order(client, channel_code: str, external_id: str, token: str):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/channels/{channel_code}/orders/{external_id}",
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_channel_sees_no_shipment_before_packing_and_the_labelled_one_after(app, client, session) -> None:  # type: ignore[no-untyped-def]
    app.config["OWN_FLEET_TRACKING_URL"] = TRACKING
    pw = build_pack_world()
    token = channel_token(pw.pick.site.channel)
    session.commit()
    code, external_id = pw.pick.site.channel.code, pw.order.external_id

    before = read_order(client, code, external_id, token)
    assert before["status"] == "picked" and before["shipments"] == []
    assert before["carrier"] is None and before["carrier_used"] == "own-fleet" and before["warnings"] == []

    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    pack_all(pw, shipment)
    session.commit()
    assert read_order(client, code, external_id, token)["shipments"] == []  # packing: nothing labelled yet

    pk.finish_packing(shipment, ctx(pw))
    session.commit()
    after = read_order(client, code, external_id, token)
    number = shipment.tracking_number
    assert after["status"] == "packed"
    assert [{k: v for k, v in s.items() if k != "labelled_at"} for s in after["shipments"]] == [{
        "carrier": "own-fleet", "service": "standard", "status": "labelled", "tracking_number": number,
        "tracking_numbers": [number], "tracking_url": f"https://track.example/parcel/{number}?lang=fr",
        "parcel_count": 1, "shipped_at": None}]
    assert after["shipments"][0]["labelled_at"] is not None


def test_a_shipped_order_shows_each_parcels_tracking_number_and_when_it_left(app, client, session, make_user) -> None:  # type: ignore[no-untyped-def]
    dock = build_dock(make_user)
    shipment = labelled_shipment(dock, "A-1", (1200, 800))
    session.commit()
    for parcel in shipment.parcels:
        dock_services.stage_parcel(dock.warehouse, parcel.sscc, "SHIP-01")
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    pickup = dock_services.book_pickup(dock.warehouse, "own-fleet", "DOOR-2", starts, starts + dt.timedelta(hours=1))
    dock_services.create_manifest(dock.warehouse, "own-fleet", pickup=pickup)
    dock_services.depart_pickup(pickup)
    session.commit()

    order = read_order(client, "SHOP", "A-1", dock.channel_token)
    assert order["status"] == "shipped"
    [shipped] = order["shipments"]
    assert shipped["status"] == "shipped" and shipped["shipped_at"] is not None
    assert shipped["carrier"] == "own-fleet" and shipped["parcel_count"] == 2
    assert shipped["tracking_numbers"] == [p.tracking_number for p in shipment.parcels]
    assert shipped["tracking_number"] == shipment.tracking_number
    assert shipped["tracking_url"] is None  # no template configured: no URL rather than a made-up one


def test_a_gs1_shipment_has_no_tracking_url_and_a_cancelled_label_is_left_out(app, client, session, make_user) -> None:  # type: ignore[no-untyped-def]
    app.config["OWN_FLEET_TRACKING_URL"] = TRACKING
    dock = build_dock(make_user)
    labelled_shipment(dock, "G-1", carrier_code="gs1")
    session.commit()
    [gs1] = read_order(client, "SHOP", "G-1", dock.channel_token)["shipments"]
    assert gs1["carrier"] == "gs1" and gs1["tracking_url"] is None and gs1["tracking_number"]

    from wms.outbound.models import ShipmentStatus

    labelled_shipment(dock, "C-1", status=ShipmentStatus.CANCELLED)
    session.commit()
    assert read_order(client, "SHOP", "C-1", dock.channel_token)["shipments"] == []


def test_the_order_answer_documents_its_shipments(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "shipments" in schemas["OrderOut"]["required"]
    shipment = schemas["OrderShipmentOut"]["properties"]
    assert {"carrier", "service", "tracking_numbers", "tracking_url", "parcel_count"} <= set(shipment)
