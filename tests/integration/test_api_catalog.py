"""The products and barcodes API: create, change, search, scan; duplicates are a 409 that names the owner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wms.catalog import services as catalog
from wms.catalog.models import Barcode, Product
from wms.db import db


@pytest.fixture
def supervisor_headers(session, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    user = make_user(roles=("supervisor",), totp=True)
    raw = make_token("user", user=user)
    commit()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def widget(session, commit):  # type: ignore[no-untyped-def]
    product = catalog.create_product("SKU-1", "Widget", weight_g=120,
                                     barcodes=[catalog.BarcodeSpec("036000291452"), catalog.BarcodeSpec("BOX-1", 6)])
    commit()
    return product


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_supervisor_creates_a_product_with_its_barcodes(client, supervisor_headers, session):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={
        "sku": "TEA-01", "name": "Green tea", "unit": "each", "weight_g": 250,
        "length_mm": 100, "width_mm": 60, "height_mm": 40,
        "barcodes": [{"code": "4006381333931"}, {"code": "73513537", "quantity": 12}],
    })
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["sku"] == "TEA-01"
    assert body["volume_cm3"] == 240.0
    assert [(b["normalized"], b["symbology"], b["quantity"]) for b in body["barcodes"]] == [
        ("04006381333931", "ean13", 1), ("00000073513537", "ean8", 12)]
    assert _count(Barcode) == 2


def test_a_duplicate_sku_is_a_conflict(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={"sku": "SKU-1", "name": "Again"})
    assert resp.status_code == 409
    assert resp.json["type"] == "/problems/duplicate-sku"


def test_a_barcode_of_another_product_is_refused_naming_its_owner(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    # The EAN-13 spelling of the widget's UPC-A is the same GTIN.
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={
        "sku": "SKU-2", "name": "Gadget", "barcodes": [{"code": "0036000291452"}]})
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"] == "/problems/duplicate-barcode"
    assert "SKU-1" in resp.json["detail"]
    assert resp.json["owner_sku"] == "SKU-1"
    assert _count(Product) == 1


def test_adding_a_taken_barcode_to_a_product_is_a_conflict(client, supervisor_headers, widget, session):  # type: ignore[no-untyped-def]
    catalog.create_product("SKU-2", "Gadget")
    db.session.commit()
    resp = client.post("/api/v1/products/SKU-2/barcodes", headers=supervisor_headers,
                       json={"code": "00036000291452"})
    assert resp.status_code == 409
    assert resp.json["type"] == "/problems/duplicate-barcode"
    assert "SKU-1" in resp.json["detail"]


def test_a_barcode_given_twice_in_one_creation_is_a_conflict(client, supervisor_headers, session):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={
        "sku": "SKU-3", "name": "Twice", "barcodes": [{"code": "036000291452"}, {"code": "0036000291452"}]})
    assert resp.status_code == 409
    assert _count(Product) == 0


def test_a_wrong_check_digit_is_a_422_with_the_reason(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products/SKU-1/barcodes", headers=supervisor_headers, json={"code": "4006381333932"})
    assert resp.status_code == 422
    assert resp.json["type"] == "/problems/invalid-barcode"
    assert "check digit should be 1, not 2" in resp.json["detail"]


def test_add_and_remove_a_barcode(client, supervisor_headers, widget, session):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products/SKU-1/barcodes", headers=supervisor_headers,
                       json={"code": "4006381333931", "quantity": 3})
    assert resp.status_code == 201
    assert len(resp.json["barcodes"]) == 3
    # Removed through its GTIN-14 spelling.
    resp = client.delete("/api/v1/products/SKU-1/barcodes/04006381333931", headers=supervisor_headers)
    assert resp.status_code == 204
    resp = client.delete("/api/v1/products/SKU-1/barcodes/04006381333931", headers=supervisor_headers)
    assert resp.status_code == 404
    assert [b["code"] for b in client.get("/api/v1/products/SKU-1", headers=supervisor_headers).json["barcodes"]] \
        == ["036000291452", "BOX-1"]


def test_patch_changes_only_the_fields_sent_and_can_deactivate(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    resp = client.patch("/api/v1/products/SKU-1", headers=supervisor_headers,
                        json={"name": "Big widget", "weight_g": None, "active": False})
    assert resp.status_code == 200, resp.json
    assert (resp.json["name"], resp.json["weight_g"], resp.json["active"]) == ("Big widget", None, False)
    assert resp.json["unit"] == "each"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"weight_g": 0}, "weight_g"),
    ({"height_mm": -3}, "height_mm"),
    ({"unit": "parsec"}, "unit"),
    ({"active": None}, "active"),
])
def test_patch_refuses_bad_values_and_changes_nothing(client, supervisor_headers, widget, body, field):  # type: ignore[no-untyped-def]
    resp = client.patch("/api/v1/products/SKU-1", headers=supervisor_headers, json=body)
    assert resp.status_code == 422
    assert field in [e["field"] for e in resp.json["errors"]]
    after = client.get("/api/v1/products/SKU-1", headers=supervisor_headers).json
    assert (after["name"], after["weight_g"], after["active"]) == ("Widget", 120, True)


def test_customs_data_is_written_read_and_cleared(client, supervisor_headers, session):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products", headers=supervisor_headers,
                       json={"sku": "MUG-2", "name": "Mug", "hs_code": "6912.00", "origin_country": "pt",
                             "customs_value": "6.5"})
    assert resp.status_code == 201, resp.json
    assert (resp.json["hs_code"], resp.json["origin_country"], resp.json["customs_value"]) == ("691200", "PT", "6.50")
    resp = client.patch("/api/v1/products/MUG-2", headers=supervisor_headers,
                        json={"hs_code": "69120000101234", "customs_value": 7})
    assert (resp.json["hs_code"], resp.json["origin_country"], resp.json["customs_value"]) == (
        "69120000101234", "PT", "7.00")
    resp = client.patch("/api/v1/products/MUG-2", headers=supervisor_headers, json={"origin_country": None})
    assert resp.status_code == 200 and resp.json["origin_country"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"hs_code": "69120"}, "hs_code"),
    ({"hs_code": "6912AB"}, "hs_code"),
    ({"origin_country": "XX"}, "origin_country"),
    ({"customs_value": "-1"}, "customs_value"),
    ({"customs_value": "1.005"}, "customs_value"),
])
def test_bad_customs_data_is_refused_naming_its_field(client, supervisor_headers, widget, body, field):  # type: ignore[no-untyped-def]
    resp = client.patch("/api/v1/products/SKU-1", headers=supervisor_headers, json=body)
    assert resp.status_code == 422, resp.json
    assert field in [e["field"] for e in resp.json["errors"]]
    assert client.get("/api/v1/products/SKU-1", headers=supervisor_headers).json["hs_code"] is None


@pytest.mark.parametrize("sku", ["with space", "a/b", "-leading-dash", "x" * 65])
def test_an_unusable_sku_is_refused(client, supervisor_headers, sku):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={"sku": sku, "name": "N"})
    assert resp.status_code == 422
    assert resp.json["errors"][0]["field"] == "sku"


def test_scan_lookup_gives_the_product_and_the_pack_quantity(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/barcodes/BOX-1", headers=supervisor_headers)
    assert resp.status_code == 200
    assert (resp.json["product"]["sku"], resp.json["quantity"]) == ("SKU-1", 6)
    resp = client.get("/api/v1/barcodes/0036000291452", headers=supervisor_headers)
    assert (resp.json["product"]["sku"], resp.json["quantity"], resp.json["barcode"]["code"]) == ("SKU-1", 1,
                                                                                                   "036000291452")


def test_scan_of_an_unknown_or_misread_code(client, supervisor_headers, widget):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/barcodes/4006381333931", headers=supervisor_headers).status_code == 404
    resp = client.get("/api/v1/barcodes/036000291453", headers=supervisor_headers)
    assert resp.status_code == 422
    assert "check digit should be 2, not 3" in resp.json["detail"]


def test_search_by_name_sku_or_barcode_with_paging(client, supervisor_headers, widget, session):  # type: ignore[no-untyped-def]
    for i in range(5):
        catalog.create_product(f"BOLT-{i}", f"Bolt M{i}")
    db.session.commit()
    page = client.get("/api/v1/products?q=bolt&limit=2&offset=1", headers=supervisor_headers).json
    assert (page["total"], [p["sku"] for p in page["items"]]) == (5, ["BOLT-1", "BOLT-2"])
    page = client.get("/api/v1/products?q=036000291452", headers=supervisor_headers).json
    assert [p["sku"] for p in page["items"]] == ["SKU-1"]
    page = client.get("/api/v1/products?q=100%25", headers=supervisor_headers).json
    assert page["total"] == 0


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "offset=-1", "limit=ten", "colour=red"])
def test_bad_search_parameters_are_a_422(client, supervisor_headers, query):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/products?{query}", headers=supervisor_headers)
    assert resp.status_code == 422
    assert resp.json["errors"][0]["field"] == query.split("=")[0]


def test_unknown_product_is_a_404_problem(client, supervisor_headers):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/products/NOPE", headers=supervisor_headers)
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_the_database_refuses_a_duplicate_the_service_check_missed(client, supervisor_headers, widget, monkeypatch):  # type: ignore[no-untyped-def]
    # Two requests racing both pass the service check; the unique constraint still refuses the second.
    monkeypatch.setattr(catalog, "_owner_of", lambda normalized: None)
    resp = client.post("/api/v1/products", headers=supervisor_headers, json={
        "sku": "SKU-9", "name": "Racer", "barcodes": [{"code": "0036000291452"}]})
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["type"] == "/problems/duplicate-barcode"
    assert resp.json["constraint"] == "uq_barcodes_normalized"
    assert client.get("/api/v1/products/SKU-9", headers=supervisor_headers).status_code == 404
