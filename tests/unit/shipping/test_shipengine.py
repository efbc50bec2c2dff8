"""The ShipEngine adapter against a stand-in server on 127.0.0.1 that checks requests against the schema
written down from ShipEngine's published documentation (see shipengine_standin.py). What this proves: the
adapter sends documented requests and copes with documented answers. It does not prove that the real
service behaves as documented."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import date

import pytest

from tests.unit.labels.reading import decode_labels
from tests.unit.shipping.shipengine_standin import API_KEY, PDF_DOCUMENT, StandIn, StandInServer
from wms.labels.documents.shipping import Address
from wms.shipping.carriers import PDF, Carrier, Parcel, Party, Shipment
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
)
from wms.shipping.shipengine import ShipEngineCarrier
from wms.shipping.tracking import TrackingFormat

# Published valid UPS numbers (jkeen/tracking_number_data couriers/ups.json), issued by the stand-in.
UPS_NUMBERS = ["1Z5R89390357567127", "1Z879E930346834440", "1Z410E7W0392751591", "1Z8V92A70367203024"]
FROM = Party(
    Address("ACME Flow Racks", ("3800 N Lamar Blvd", "Suite 220"), "78756", "Austin", "US"),
    phone="512-485-4282",
    region="TX",
    company="ACME",
)
TO = Party(
    Address("Dade Murphy", ("345 Chambers Street",), "10282", "New York", "US"),
    phone="+1 212 555 5555",
    region="NY",
)
DAY = date(2026, 11, 23)


@pytest.fixture
def standin():
    with StandInServer(StandIn(list(UPS_NUMBERS))) as running:
        yield running
    assert running.violations == [], "the adapter sent requests the documented schema refuses"


def carrier(standin: StandIn, **kwargs) -> ShipEngineCarrier:
    options = {"tracking_format": TrackingFormat.UPS, "proxies": {}, "timeout": 5.0, **kwargs}
    return ShipEngineCarrier(api_key=API_KEY, service_code="ups_ground", base_url=standin.base_url, **options)


def shipment(*parcels: Parcel, to: Party = TO) -> Shipment:
    return Shipment("SO-42", FROM, to, parcels or (Parcel(1500, 300, 200, 100),), ship_date=DAY)


def test_a_label_is_created_with_a_documented_request_and_its_barcode_is_the_tracking_number(standin):
    adapter = carrier(standin)
    assert isinstance(adapter, Carrier)
    label = adapter.create_shipment(shipment())
    assert label.tracking_number == "1Z5R89390357567127"
    assert label.carrier_reference == "se-1001"
    (page,) = decode_labels(label.label_zpl)
    assert label.tracking_number in {d.text for d in page}
    create, download = standin.requests
    assert (create.method, create.path, download.method) == ("POST", "/v1/labels", "GET")
    sent = create.body
    assert sent["label_format"] == "zpl" and sent["label_download_type"] == "url"
    assert sent["shipment"]["packages"] == [
        {
            "weight": {"value": 1500, "unit": "gram"},
            "label_messages": {"reference1": "SO-42"},
            "dimensions": {"unit": "centimeter", "length": 30.0, "width": 20.0, "height": 10.0},
        }
    ]
    assert sent["shipment"]["ship_from"]["address_line2"] == "Suite 220"
    assert sent["shipment"]["ship_date"] == "2026-11-23T00:00:00Z"
    assert create.headers["Api-Key"] == API_KEY


def test_each_parcel_gets_the_package_tracking_number(standin):
    label = carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(2000)))
    assert [p.tracking_number for p in label.parcels] == UPS_NUMBERS[:2]
    pages = decode_labels(label.label_zpl)
    assert [UPS_NUMBERS[i] in {d.text for d in page} for i, page in enumerate(pages)] == [True, True]


def test_cancel_voids_the_label_by_its_id(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    result = adapter.cancel(label.tracking_number, carrier_reference=label.carrier_reference)
    assert result.detail == "Request for refund submitted."
    assert (standin.requests[-1].method, standin.requests[-1].path) == ("PUT", "/v1/labels/se-1001/void")


def test_cancel_by_tracking_number_alone_looks_the_label_up_first(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    adapter.cancel(label.tracking_number)
    lookup, void = standin.requests[-2:]
    assert (lookup.method, lookup.path, lookup.query) == (
        "GET",
        "/v1/labels",
        {"tracking_number": ["1Z5R89390357567127"]},
    )
    assert (void.method, void.path) == ("PUT", "/v1/labels/se-1001/void")


def test_a_void_the_carrier_does_not_approve_is_a_refusal(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    standin.void_approved = False
    with pytest.raises(CancelRefused, match="Label already used"):
        adapter.cancel(label.tracking_number, carrier_reference=label.carrier_reference)


def test_cancelling_a_number_the_carrier_does_not_know_says_so(standin):
    with pytest.raises(ShipmentUnknown, match="no label with tracking number 1Z879E930346834440"):
        carrier(standin).cancel("1Z879E930346834440")


def test_the_manifest_is_created_from_the_label_ids_and_its_pdf_downloaded(standin):
    adapter = carrier(standin)
    labels = [adapter.create_shipment(shipment()) for _ in range(2)]
    manifest = adapter.manifest(labels, DAY)
    assert manifest.document == PDF_DOCUMENT and manifest.content_type == PDF
    assert manifest.reference == "se-1003" and manifest.parcel_count == 2
    create = next(r for r in standin.requests if r.path == "/v1/manifests")
    assert create.body == {"label_ids": ["se-1001", "se-1002"]}


def test_the_carriers_validation_errors_become_a_refusal_with_its_message(standin):
    standin.next_response = (
        400,
        {"request_id": "x", "errors": [{"message": "Invalid postal_code for country US"}]},
    )
    with pytest.raises(ShipmentRefused, match="Invalid postal_code for country US"):
        carrier(standin).create_shipment(shipment())


def test_a_server_error_or_bad_credentials_mean_the_carrier_is_unavailable(standin):
    standin.next_response = (503, {"errors": []})
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        carrier(standin).create_shipment(shipment())
    standin.next_response = (401, {"errors": [{"message": "unauthorized"}]})
    with pytest.raises(CarrierUnavailable, match="credentials"):
        carrier(standin).create_shipment(shipment())


def test_a_carrier_that_does_not_answer_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nothing listens there
    adapter = ShipEngineCarrier(
        api_key=API_KEY, service_code="ups_ground", base_url=f"http://127.0.0.1:{port}", proxies={}, timeout=2
    )
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        adapter.create_shipment(shipment())


def test_a_tracking_number_failing_its_check_digit_is_not_accepted_from_the_carrier(standin):
    standin.tracking_numbers[0] = "1Z5R89390357567128"
    with pytest.raises(CarrierResponseInvalid, match="check digit should be 7, not 8"):
        carrier(standin).create_shipment(shipment())


def test_a_download_outside_the_api_is_never_fetched(standin):
    standin.bad_download_url = "https://elsewhere.invalid/label.zpl"
    with pytest.raises(CarrierResponseInvalid, match="outside its API"):
        carrier(standin).create_shipment(shipment())
    assert all(not r.path.startswith("/v1/downloads/") for r in standin.requests)


def test_missing_phone_or_state_is_refused_before_calling_the_carrier(standin):
    no_phone = Party(TO.address, region="NY")
    with pytest.raises(ShipmentRefused, match="needs the ship-to phone"):
        carrier(standin).create_shipment(shipment(to=no_phone))
    assert standin.requests == []


def test_the_stand_in_refuses_a_request_the_documented_schema_does_not_allow(standin):
    # Proves the schema check can fail: a misspelt field and a weight unit ShipEngine does not know.
    body = {
        "shipment": {
            "service_code": "ups_ground",
            "shipto": {},
            "ship_from": {},
            "packages": [{"weight": {"value": 1, "unit": "stone"}}],
        }
    }
    req = urllib.request.Request(
        standin.base_url + "/v1/labels",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "API-Key": API_KEY},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(req, timeout=5)
    with caught.value as error:
        messages = [e["message"] for e in json.loads(error.read())["errors"]]
    assert error.code == 400
    assert any("'ship_to' is a required property" in m for m in messages)
    assert any("'stone' is not one of" in m for m in messages)
    standin.violations.clear()


def test_the_adapter_takes_its_base_url_and_key_from_configuration(standin):
    config = {
        "SHIPENGINE_BASE_URL": standin.base_url + "/",
        "SHIPENGINE_API_KEY": API_KEY,
        "SHIPENGINE_TIMEOUT": "3",
    }
    adapter = ShipEngineCarrier.from_config(config, service_code="ups_ground", proxies={})
    assert adapter.base_url == standin.base_url and adapter.timeout == 3.0
    with pytest.raises(ShippingInputInvalid, match="SHIPENGINE_BASE_URL is not configured"):
        ShipEngineCarrier.from_config({}, service_code="ups_ground")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"base_url": "ftp://x"}, "not an http"),
        ({"api_key": ""}, "API key"),
        ({"service_code": "UPS Ground"}, "service code"),
        ({"carrier_id": "42"}, "ShipEngine id"),
    ],
)
def test_bad_adapter_configuration_is_refused(kwargs, reason):
    options = {"api_key": API_KEY, "service_code": "ups_ground", "base_url": "http://127.0.0.1:9", **kwargs}
    with pytest.raises(ShippingInputInvalid, match=reason):
        ShipEngineCarrier(**options)
