"""The Sendcloud adapter against its stand-in on 127.0.0.1 (tests/standins/sendcloud.py), which checks every
request against schemas written from Sendcloud's published OpenAPI documents and answers in the documented
shapes. No database. What this proves: the adapter sends documented requests and copes with documented
answers and errors; not that the real service behaves as documented."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from decimal import Decimal

import pytest

from tests.standins.sendcloud import PUBLIC_KEY, SECRET_KEY, SendcloudStandIn, ServicePoint
from tests.unit.labels.reading import decode_labels, field_values
from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    Customs,
    CustomsCategory,
    CustomsLine,
    Feature,
    FeatureUnsupported,
    RelayPointInvalid,
    ShippingOptions,
    TrackingStatus,
)
from wms.shipping.carriers import ZPL, Carrier, Parcel, Party, Shipment
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
)
from wms.shipping.sendcloud import SendcloudCarrier

WAREHOUSE = Party(Address("Rack-Zone Entrepôt", ("12 rue des Forges",), "69007", "Lyon", "FR"),
                  phone="+33478000000", email="expe@rack-zone.fr", company="Rack-Zone")
CUSTOMER = Party(Address("Amélie Poulain-Brontë", ("15 rue des Trois Frères", "Bâtiment B, 2e étage"), "75018",
                         "Paris", "FR"), phone="+33600000000", email="amelie@example.org")
GENEVA = Party(Address("Zoë Müller", ("Rue du Rhône 42",), "1204", "Genève", "CH"), phone="+41220000000")
DAY = date(2026, 12, 3)


@pytest.fixture
def standin():
    with SendcloudStandIn() as running:
        yield running
    assert running.violations == [], "the adapter sent requests the documented schema refuses"


def carrier(standin: SendcloudStandIn, **kwargs) -> SendcloudCarrier:
    options = {"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY, "shipping_option_code": "colissimo:home",
               "contract_id": 517, "signature_option_code": "colissimo:home/signature",
               "return_option_code": "colissimo:return", "service_point_carrier": "mondial_relay",
               "base_url": f"{standin.url}/api/v3", "service_points_url": f"{standin.url}/sp/api/v2",
               "site": "Lyon", "proxies": {}, "timeout": 5.0, **kwargs}
    return SendcloudCarrier(**options)


def shipment(*parcels: Parcel, to: Party = CUSTOMER, **kwargs) -> Shipment:
    return Shipment("SO-2026-0042", WAREHOUSE, to, parcels or (Parcel(1500, 300, 200, 100),), ship_date=DAY,
                    **kwargs)


def announced(standin: SendcloudStandIn) -> dict:
    (call,) = standin.calls_to("/shipments/announce", "POST")
    return json.loads(call.body)


def add_point(standin: SendcloudStandIn, point_id: int = 10563, **kwargs) -> ServicePoint:
    point = ServicePoint(point_id, "Tabac de la Mairie", "rue Ordener", "101", "75018", "Paris", **kwargs)
    standin.service_points[point_id] = point
    return point


def test_a_two_parcel_shipment_prints_one_label_per_parcel_whose_barcode_is_its_tracking_number(standin):
    adapter = carrier(standin)
    assert isinstance(adapter, Carrier) and Feature.MULTI_PARCEL in adapter.features
    label = adapter.create_shipment(shipment(Parcel(1200, 300, 200, 100), Parcel(800, sscc="376123450000000016")))
    assert label.content_type == ZPL and len(label.parcels) == 2
    numbers = [p.tracking_number for p in label.parcels]
    assert len(set(numbers)) == 2 and label.tracking_number == numbers[0]
    assert label.carrier_reference in standin.shipments
    pages = decode_labels(label.label_zpl)
    assert [[d.text for d in page] for page in pages] == [[numbers[0]], [numbers[1]]]
    jobs = label.label_zpl.split("^XZ")[:2]
    assert "1/2" in field_values(jobs[0]) and "2/2" in field_values(jobs[1])
    body = announced(standin)
    assert body["ship_with"] == {"type": "shipping_option_code",
                                 "properties": {"shipping_option_code": "colissimo:home", "contract_id": 517}}
    assert body["label_details"] == {"mime_type": "application/zpl", "dpi": 203}
    assert body["parcels"][0]["weight"] == {"value": "1.200", "unit": "kg"}
    assert body["parcels"][0]["dimensions"] == {"length": "30.00", "width": "20.00", "height": "10.00", "unit": "cm"}
    assert body["parcels"][1]["sscc"] == "376123450000000016" and label.parcels[1].sscc == "376123450000000016"
    downloads = standin.calls_to("/documents/label", "GET")
    assert len(downloads) == 2 and all(c.headers["Accept"] == "application/zpl" for c in downloads)
    assert all(c.query == {"dpi": ["203"], "paper_size": ["A6"]} for c in downloads)


def test_the_address_with_accents_prints_as_written(standin):
    label = carrier(standin).create_shipment(shipment())
    values = field_values(label.label_zpl)
    assert "Amélie Poulain-Brontë" in values and "Bâtiment B, 2e étage" in values
    assert "From: Rack-Zone Entrepôt, Lyon" in values
    assert announced(standin)["to_address"]["address_line_2"] == "Bâtiment B, 2e étage"


def test_a_bad_postal_code_is_refused_with_sendclouds_reason(standin):
    bad = Party(Address("Amélie", ("15 rue des Trois Frères",), "7501", "Paris", "FR"))
    with pytest.raises(ShipmentRefused, match=r"Postal code is invalid.*/to_address/postal_code"):
        carrier(standin).create_shipment(shipment(to=bad))
    assert standin.calls_to("/documents") == [] and standin.shipments == {}


def test_a_shipping_option_outside_the_contract_is_refused(standin):
    with pytest.raises(ShipmentRefused, match="not available for this contract"):
        carrier(standin, shipping_option_code="ups:standard").create_shipment(shipment())


def test_bad_credentials_make_sendcloud_unavailable_not_a_refusal(standin):
    with pytest.raises(CarrierUnavailable, match="credentials"):
        carrier(standin, secret_key="wrong").create_shipment(shipment())


def test_a_rate_limit_makes_sendcloud_unavailable_and_says_when_to_retry(standin):
    standin.rate_limited = 1
    with pytest.raises(CarrierUnavailable, match=r"HTTP 429.*in 7 s"):
        carrier(standin).create_shipment(shipment())


def test_the_standin_records_a_request_that_breaks_the_documented_schema(standin):
    broken = {"from_address": {"name": "X"}, "ship_with": {"type": "carrier_code"}, "parcels": []}
    request = urllib.request.Request(f"{standin.url}/api/v3/shipments/announce", data=json.dumps(broken).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": carrier(standin)._headers["Authorization"]})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)
    assert answer.value.code == 400 and json.load(answer.value)["errors"][0]["status"] == "400"
    assert any("to_address" in v for v in standin.violations) and len(standin.violations) >= 3
    standin.violations.clear()  # recorded as it should be; the fixture then checks the adapter made none


def test_a_dropped_connection_makes_sendcloud_unavailable(standin):
    standin.fail_next(status=0, path="/shipments/announce")
    with pytest.raises(CarrierUnavailable):
        carrier(standin).create_shipment(shipment())


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_make_sendcloud_unavailable(standin, status):
    standin.fail_next(status=status, path="/shipments/announce")
    with pytest.raises(CarrierUnavailable, match=f"HTTP {status}"):
        carrier(standin).create_shipment(shipment())


def test_a_timeout_makes_sendcloud_unavailable(standin):
    standin.delay_next(1, 2.0, path="/shipments/announce")
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        carrier(standin, timeout=0.5).create_shipment(shipment())


def test_a_failed_announcement_is_refused_and_the_shipment_cancelled_again(standin):
    standin.fail_announcement_next = True
    with pytest.raises(ShipmentRefused, match="error occurred while connecting to the carrier"):
        carrier(standin).create_shipment(shipment())
    (stored,) = standin.shipments.values()
    assert stored.status == "CANCELLED" and standin.calls_to("/documents") == []


def test_a_label_link_outside_the_api_is_not_fetched_and_the_shipment_is_cancelled(standin):
    standin.foreign_label_link_next = True
    with pytest.raises(CarrierResponseInvalid, match="outside its API"):
        carrier(standin).create_shipment(shipment())
    (stored,) = standin.shipments.values()
    assert stored.status == "CANCELLED"


def test_an_answer_without_tracking_numbers_cancels_the_shipment_before_any_label(standin):
    standin.blank_tracking_next = True
    with pytest.raises(CarrierResponseInvalid, match="no tracking number"):
        carrier(standin).create_shipment(shipment())
    (stored,) = standin.shipments.values()
    assert stored.status == "CANCELLED" and standin.calls_to("/documents") == []


def test_a_label_download_failure_cancels_the_announced_shipment(standin):
    standin.fail_next(status=503, path="/documents/label")
    with pytest.raises(CarrierUnavailable):
        carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(900)))
    (stored,) = standin.shipments.values()
    assert stored.status == "CANCELLED"


def test_a_non_eu_shipment_carries_its_customs_declaration_and_items(standin):
    customs = Customs((CustomsLine("Crochet de rayonnage acier", 4, Decimal("48.00"), 2000, "732690", "FR"),),
                      invoice_number="F-2026-118", shipping_cost=Decimal("12.5"))
    adapter = carrier(standin, shipping_option_code="dhl_express:worldwide/incoterm=dap")
    label = adapter.create_shipment(shipment(Parcel(2300), Parcel(700), to=GENEVA, customs=customs))
    assert len(label.parcels) == 2
    body = announced(standin)
    assert body["customs_information"] == {"invoice_number": "F-2026-118", "export_reason": "commercial_goods",
                                           "export_type": "commercial_b2c",
                                           "freight_costs": {"value": "12.50", "currency": "EUR"}}
    assert body["parcels"][0]["parcel_items"] == [{
        "description": "Crochet de rayonnage acier", "quantity": 4, "weight": {"value": 0.5, "unit": "kg"},
        "price": {"value": "12.00", "currency": "EUR"}, "hs_code": "732690", "origin_country": "FR"}]
    assert "Zoë Müller" in field_values(label.label_zpl)


def test_a_non_eu_shipment_without_customs_lines_is_refused_before_calling_sendcloud(standin):
    with pytest.raises(ShipmentRefused, match="customs"):
        carrier(standin).create_shipment(shipment(to=GENEVA))
    lines = (CustomsLine("Crochet", 1, Decimal("5"), 100),)
    with pytest.raises(ShipmentRefused, match="HS code and origin"):
        carrier(standin).create_shipment(shipment(to=GENEVA, customs=Customs(lines)))
    with pytest.raises(FeatureUnsupported):
        carrier(standin).create_shipment(shipment(to=GENEVA, customs=Customs(
            (CustomsLine("Crochet", 1, Decimal("5"), 100, "732690", "FR"),), category=CustomsCategory.OTHER)))
    assert standin.calls == []


def test_insurance_and_signature_go_in_the_documented_fields(standin):
    options = ShippingOptions(insured_value=Decimal("300"), signature=True)
    label = carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(1000), options=options))
    body = announced(standin)
    assert body["ship_with"]["properties"]["shipping_option_code"] == "colissimo:home/signature"
    assert [p["additional_insured_price"] for p in body["parcels"]] == [{"value": "150.00", "currency": "EUR"}] * 2
    assert label.service == "colissimo:home/signature"
    with pytest.raises(FeatureUnsupported):
        carrier(standin, signature_option_code=None).create_shipment(shipment(options=options))


def test_a_relay_shipment_names_the_service_point_and_an_unknown_point_is_a_relay_refusal(standin):
    add_point(standin)
    adapter = carrier(standin, shipping_option_code="mondial_relay:servicepoint")
    adapter.create_shipment(shipment(relay_point_id="10563"))
    assert announced(standin)["to_service_point"] == {"id": "10563"}
    with pytest.raises(RelayPointInvalid, match="Service point does not exist"):
        adapter.create_shipment(shipment(relay_point_id="99999"))


def test_service_points_are_searched_near_a_postcode_with_their_opening_hours(standin):
    add_point(standin, 2, distance=900)
    add_point(standin, 1, distance=150)
    add_point(standin, 3, carrier="dpd")
    points = carrier(standin).find_relay_points("FR", "75018", city="Paris", weight_grams=2500)
    assert [p.id for p in points] == ["1", "2"] and points[0].distance_m == 150
    assert points[0].address.street == ("101 rue Ordener",)
    assert points[0].opening_hours[0].weekday == 1 and points[0].opening_hours[0].opens == "09:00"
    assert {h.weekday for h in points[0].opening_hours} == {1, 2, 3, 4, 5, 6}
    (search,) = standin.calls_to("/service-points", "GET")
    assert search.query == {"country": ["FR"], "address": ["75018 Paris"], "carrier": ["mondial_relay"],
                            "weight": ["2.5"]}


def test_a_search_for_a_carrier_not_enabled_in_sendcloud_is_refused_readably(standin):
    with pytest.raises(ShipmentRefused, match="must be enabled in the integration"):
        carrier(standin, service_point_carrier="chronopost").find_relay_points("FR", "75018")


def test_a_heavy_parcel_finds_only_the_points_that_take_it(standin):
    add_point(standin, 1)
    add_point(standin, 2, max_weight_kg=15.0)
    assert [p.id for p in carrier(standin).find_relay_points("FR", "75018", weight_grams=18000)] == ["1"]


def test_a_relay_point_is_checked_before_the_label(standin):
    add_point(standin)
    adapter = carrier(standin)
    assert adapter.check_relay_point("10563", "FR", 3000, DAY).name == "Tabac de la Mairie"
    with pytest.raises(RelayPointInvalid, match="is in FR, not BE"):
        adapter.check_relay_point("10563", "BE", 1000, DAY)
    with pytest.raises(RelayPointInvalid, match="knows no service point"):
        adapter.check_relay_point("424242", "FR", 1000, DAY)
    add_point(standin, 77, is_active=False)
    with pytest.raises(RelayPointInvalid, match="no longer in service"):
        adapter.check_relay_point("77", "FR", 1000, DAY)
    add_point(standin, 78, hours={})
    with pytest.raises(RelayPointInvalid, match="no opening hours"):
        adapter.check_relay_point("78", "FR", 1000, DAY)


def test_tracking_events_come_back_oldest_first_with_our_statuses(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    number = label.tracking_number
    standin.add_event(number, "delivered", "Delivered", "2026-12-05T10:12:00Z")
    standin.add_event(number, "accepted", "Parcel has been accepted by the carrier.", "2026-12-03T17:00:00Z")
    standin.add_event(number, "awaiting-customer-pickup", "Ready at the service point", "2026-12-04T09:00:00Z")
    standin.add_event(number, "some-future-code", "?", "2026-12-04T10:00:00Z")
    events = adapter.tracking_events([number, "6A99999999999FR"])
    assert [e.status for e in events[number]] == [TrackingStatus.IN_TRANSIT, TrackingStatus.AT_RELAY_POINT,
                                                 TrackingStatus.DELIVERED]
    assert events[number][0].text == "Parcel has been accepted by the carrier."
    assert events["6A99999999999FR"] == []


def test_a_shipment_is_cancelled_by_its_id_or_found_by_tracking_number(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    done = adapter.cancel(label.tracking_number)
    assert done.detail == "Shipment has been cancelled"
    with pytest.raises(CancelRefused, match="already being cancelled"):
        adapter.cancel(label.tracking_number, carrier_reference=label.carrier_reference)
    with pytest.raises(ShipmentUnknown):
        adapter.cancel("6A00000000999FR")


def test_a_return_label_is_made_from_the_customer_to_the_warehouse(standin):
    adapter = carrier(standin)
    rma = Shipment("RMA-77", CUSTOMER, WAREHOUSE, (Parcel(1800),))
    label = adapter.create_return(rma)
    (call,) = standin.calls_to("/returns/announce-synchronously", "POST")
    body = json.loads(call.body)
    assert body["ship_with"] == {"type": "shipping_option_code", "shipping_option_code": "colissimo:return",
                                 "contract": 517}
    assert body["weight"] == {"value": 1.8, "unit": "kg"} and body["from_address"]["name"] == "Amélie Poulain-Brontë"
    (page,) = decode_labels(label.label_zpl)
    assert [d.text for d in page] == [label.tracking_number]
    assert "Rack-Zone Entrepôt" in field_values(label.label_zpl)
    bad = Shipment("RMA-78", Party(Address("Amélie", ("1 rue X",), "750", "Paris", "FR")), WAREHOUSE, (Parcel(500),))
    with pytest.raises(ShipmentRefused, match="postal code you provided is invalid"):
        adapter.create_return(bad)
    with pytest.raises(FeatureUnsupported):
        carrier(standin, return_option_code=None).create_return(rma)


def test_a_return_from_outside_the_eu_declares_its_items(standin):
    customs = Customs((CustomsLine("Crochet de rayonnage acier", 2, Decimal("24.00"), 1000, "732690", "FR"),),
                      category=CustomsCategory.RETURN, invoice_number="F-2026-118")
    carrier(standin).create_return(Shipment("RMA-79", GENEVA, WAREHOUSE, (Parcel(1100),), customs=customs))
    (call,) = standin.calls_to("/returns/announce-synchronously", "POST")
    body = json.loads(call.body)
    assert body["customs_invoice_nr"] == "F-2026-118"
    assert body["parcel_items"] == [{"description": "Crochet de rayonnage acier", "quantity": 2,
                                     "weight": {"value": 0.5, "unit": "kg"},
                                     "price": {"value": 12.0, "currency": "EUR"}, "hs_code": "732690",
                                     "origin_country": "FR"}]
    with pytest.raises(ShipmentRefused, match="customs"):
        carrier(standin).create_return(Shipment("RMA-80", GENEVA, WAREHOUSE, (Parcel(1100),)))


def test_the_manifest_lists_every_parcel_handed_over(standin):
    adapter = carrier(standin)
    first = adapter.create_shipment(shipment(Parcel(1000), Parcel(500)))
    second = adapter.create_shipment(shipment())
    manifest = adapter.manifest([first, second], DAY)
    assert manifest.parcel_count == 3 and manifest.weight_grams == 3000
    assert set(manifest.tracking_numbers) == {p.tracking_number for s in (first, second) for p in s.parcels}
