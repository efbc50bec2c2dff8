"""Product and lane labels printed from the API and the supervisor page: batches, both faces, idempotent, 4xx."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import sign_in_client
from tests.unit.labels.reading import decode_labels, texts
from wms.catalog import services as catalog
from wms.db import db
from wms.layout.importer import import_layout_file
from wms.layout.models import Location
from wms.layout.services import get_warehouse
from wms.printing.models import DocumentKind, PrintJob

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"


@pytest.fixture
def demo(session, commit):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    catalog.create_product("TEA-01", "Green tea", barcodes=[catalog.BarcodeSpec("BOX-TEA", 6),
                                                             catalog.BarcodeSpec("4006381333931")])
    catalog.create_product("MUG-01", "Mug ^XZ^XA~JR", barcodes=[catalog.BarcodeSpec("036000291452")])
    wh = get_warehouse("DEMO")
    commit()
    return wh


@pytest.fixture
def supervisor(make_user, commit, demo):  # type: ignore[no-untyped-def]
    user = make_user("boss", roles=("supervisor",), totp=True, warehouses=(demo,))
    commit()
    return user


@pytest.fixture
def headers(supervisor, make_token, commit):  # type: ignore[no-untyped-def]
    raw = make_token("user", user=supervisor)
    commit()
    return {"Authorization": f"Bearer {raw}"}


def _jobs() -> list[PrintJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))


def test_a_batch_of_product_labels_queues_one_job_per_product_and_a_replay_queues_nothing(client, headers):  # type: ignore[no-untyped-def]
    body = {"skus": ["TEA-01", "MUG-01", "TEA-01"], "copies": 3, "printer": "PR-RCV"}
    first = client.post("/api/v1/warehouses/DEMO/product-labels", json=body, headers={**headers, "Idempotency-Key": "p1"})
    assert first.status_code == 201, first.json
    assert [(j["reference"], j["copies"], j["printer"]) for j in first.json] == [
        ("Product TEA-01", 3, "PR-RCV"), ("Product MUG-01", 3, "PR-RCV")]
    again = client.post("/api/v1/warehouses/DEMO/product-labels", json=body, headers={**headers, "Idempotency-Key": "p1"})
    assert again.status_code == 201 and again.json == first.json
    tea, mug = _jobs()
    assert tea.document_kind == DocumentKind.PRODUCT_LABEL
    (tea_page,) = decode_labels(tea.payload.decode())
    assert texts(tea_page, "EAN-13") == ["4006381333931"]  # the unit code, not the box of 6
    (mug_page,) = decode_labels(mug.payload.decode())
    assert texts(mug_page, "EAN-13") == ["0036000291452"]  # UPC-A, drawn as its EAN-13
    assert mug.payload.count(b"^XA") == 1 and mug.payload.count(b"^XZ") == 1  # the name did not end the label


def test_an_aisles_lanes_print_both_faces_at_the_zones_printer(client, headers, demo):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/warehouses/DEMO/location-labels", json={"zone": "A", "aisle": "AP1"},
                       headers={**headers, "Idempotency-Key": "aisle-ap1"})
    assert resp.status_code == 201, resp.json
    lanes = db.session.scalar(select(func.count()).select_from(Location).where(
        Location.code.like("A01%") | Location.code.like("A02%")))
    assert len(resp.json) == lanes == 36  # racks A01 and A02 face aisle AP1
    assert {j["printer"] for j in resp.json} == {"PR-A"}
    job = _jobs()[0]
    code = job.reference.split()[1]
    pick, replenish = decode_labels(job.payload.decode())
    assert texts(pick, "Code 128") == [code] and texts(replenish, "Code 128") == [f"R:{code}"]


def test_one_face_of_listed_lanes_prints_one_label_each(client, headers):  # type: ignore[no-untyped-def]
    lane = db.session.scalar(select(Location.code).where(Location.code.like("B01%")).order_by(Location.code))
    resp = client.post("/api/v1/warehouses/DEMO/location-labels",
                       json={"locations": [lane], "face": "replenish", "printer": "PR-A"},
                       headers={**headers, "Idempotency-Key": "one"})
    assert resp.status_code == 201, resp.json
    (job,) = _jobs()
    (page,) = decode_labels(job.payload.decode())
    assert texts(page, "Code 128") == [f"R:{lane}"] and job.printer.code == "PR-A"


@pytest.mark.parametrize(("url", "body", "status"), [
    ("product-labels", {"skus": ["TEA-01", "NOPE"]}, 422),
    ("product-labels", {"skus": []}, 422),
    ("product-labels", {"skus": ["TEA-01"], "copies": 0}, 422),
    ("product-labels", {"skus": ["TEA-01"], "printer": "NOPE"}, 404),
    ("product-labels", {"skus": ["TEA-01"]}, 409),  # no printer routed for product labels
    ("product-labels", {"skus": ["TEA-01"], "zone": "ZZ"}, 422),
    ("location-labels", {}, 422),
    ("location-labels", {"locations": ["RCV-01"], "zone": "A"}, 422),
    ("location-labels", {"zone": "ZZ"}, 422),
    ("location-labels", {"zone": "A", "aisle": "BP1"}, 422),
    ("location-labels", {"zone": "A", "face": "top"}, 422),
    ("location-labels", {"locations": ["RCV-01"], "face": "replenish"}, 422),  # a dock has no replenish face
    ("location-labels", {"locations": ["NOPE-1"]}, 422),
    ("location-labels", {"zone": "SHIP"}, 409),  # no printer at the shipping dock routed for lane labels
])
def test_bad_requests_are_refused_and_queue_nothing(client, headers, url, body, status):  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/warehouses/DEMO/{url}", json=body, headers={**headers, "Idempotency-Key": "bad"})
    assert resp.status_code == status, resp.json
    assert resp.json["title"]
    assert _jobs() == []


def test_the_labels_page_previews_and_prints_from_its_form(client, supervisor):  # type: ignore[no-untyped-def]
    pytest.importorskip("zplkit")
    sign_in_client(client.application, client, supervisor)
    lane = db.session.scalar(select(Location.code).where(Location.code.like("A01%")).order_by(Location.code))
    page = client.get(f"/warehouses/DEMO/labels?what=location&locations={lane}&face=both")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count('class="label-preview"') == 2  # its two faces
    assert client.get("/warehouses/DEMO/labels?what=location&zone=A&csrf_token=x&nonce=y").status_code == 302
    dock = client.get("/warehouses/DEMO/labels?what=location&locations=RCV-01&face=replenish").get_data(as_text=True)
    assert "RCV-01 has no replenish face" in dock
    image = client.get(f"/warehouses/DEMO/labels/preview.png?what=location&locations={lane}&face=both&page=2")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    refused = client.get("/warehouses/DEMO/labels?what=product&skus=NOPE")
    assert refused.status_code == 200 and "No product NOPE" in refused.get_data(as_text=True)
    printed = client.post("/warehouses/DEMO/labels", data={"what": "product", "skus": "TEA-01\nMUG-01",
                                                          "copies": "2", "printer": "PR-RCV", "nonce": "n1"})
    assert printed.status_code == 302
    assert [(j.reference, j.copies) for j in _jobs()] == [("Product TEA-01", 2), ("Product MUG-01", 2)]
    failed = client.post("/warehouses/DEMO/labels", data={"what": "location", "zone": "SHIP", "nonce": "n2"},
                         follow_redirects=True)
    assert failed.status_code == 200 and "No printer is routed" in failed.get_data(as_text=True)
    assert len(_jobs()) == 2


def test_the_locations_page_links_its_aisle_to_the_labels_page(client, supervisor):  # type: ignore[no-untyped-def]
    sign_in_client(client.application, client, supervisor)
    page = client.get("/locations?warehouse=DEMO&aisle=A/AP1").get_data(as_text=True)
    assert "/warehouses/DEMO/labels?what=location&amp;zone=A&amp;aisle=AP1" in page


def test_product_labels_print_at_the_printer_routed_for_the_zone_named(client, headers, demo, commit):  # type: ignore[no-untyped-def]
    from wms.layout.models import Zone
    from wms.printing.models import Printer, PrintRoute

    rcv = db.session.scalar(select(Zone.id).where(Zone.code == "RCV"))
    printer = db.session.scalar(select(Printer.id).where(Printer.code == "PR-RCV"))
    db.session.add(PrintRoute(warehouse_id=demo.id, document_kind=DocumentKind.PRODUCT_LABEL, zone_id=rcv,
                              printer_id=printer))
    commit()
    resp = client.post("/api/v1/warehouses/DEMO/product-labels", json={"skus": ["TEA-01"], "zone": "RCV"},
                       headers={**headers, "Idempotency-Key": "at-rcv"})
    assert resp.status_code == 201 and resp.json[0]["printer"] == "PR-RCV"
