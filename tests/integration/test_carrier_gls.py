"""The GLS France adapter against the GLS ShipIT stand-in on 127.0.0.1 (tests/standins/gls.py), which checks
every request against schemas written from GLS's published ShipIT REST pages. What this proves: the adapter
sends the documented requests and copes with the documented answers and faults. Not that the real service
behaves as documented. No database needed."""

from __future__ import annotations

import datetime as dt
import json
from datetime import date
from decimal import Decimal

import pytest

from tests.standins.gls import CONTACT_ID, PASSWORD, USERNAME, GlsStandIn
from tests.unit.labels.reading import decode_labels, field_values, render
from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    FeatureUnsupported,
    RelayPointInvalid,
    ShippingOptions,
    TrackingStatus,
)
from wms.shipping.carriers import PDF, ZPL, Parcel, Party, Shipment
from wms.shipping.errors import (
    CancelRefused,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
)
from wms.shipping.gls import GlsCarrier

FROM = Party(Address("Entrepôt Rack-Zone", ("ZI des Platières",), "69360", "Saint-Symphorien-d'Ozon", "FR"),
             phone="04 72 00 00 00", company="Rack-Zone")
TO = Party(Address("Zoé Lefèvre-Gaël", ("8 rue de l'Hôtel de Ville", "Bâtiment B"), "69001", "Lyon", "FR"),
           phone="06 12 34 56 78", email="zoe@example.fr")
DAY = date.today()


@pytest.fixture
def standin():
    with GlsStandIn() as running:
        yield running
    assert running.violations == [], "the adapter sent requests the documented schema refuses"


def carrier(standin: GlsStandIn, **kwargs) -> GlsCarrier:
    options = {"username": USERNAME, "password": PASSWORD, "contact_id": CONTACT_ID, "proxies": {}, "timeout": 5.0,
               **kwargs}
    return GlsCarrier(base_url=standin.url, **options)


def shipment(*parcels: Parcel, to: Party = TO, **kwargs) -> Shipment:
    return Shipment("SO-1042", FROM, to, parcels or (Parcel(1500),), ship_date=DAY, **kwargs)


def test_a_two_parcel_shipment_gets_one_label_per_parcel_numbered_1_2_and_2_2(standin):
    label = carrier(standin).create_shipment(shipment(Parcel(1200), Parcel(3400)))
    assert label.content_type == ZPL
    assert len(label.parcels) == 2 and label.tracking_number == label.parcels[0].tracking_number
    pages = decode_labels(label.label_zpl)
    assert len(pages) == 2
    for page, parcel in zip(pages, label.parcels, strict=True):
        assert [d.text for d in page] == [parcel.tracking_number]
    assert len(render(label.label_zpl).labels) == 2
    assert "1/2" in label.label_zpl and "2/2" in label.label_zpl
    sent = standin.calls_to("/backend/rs/shipments", "POST")[0]
    assert sent.headers["Content-Type"].startswith("application/glsVersion1+json")
    units = json.loads(sent.body)["Shipment"]["ShipmentUnit"]
    assert [u["Weight"] for u in units] == [1.2, 3.4]
    assert label.carrier_reference and len(label.carrier_reference.split(",")) == 2


def test_the_address_with_accents_prints_as_written(standin):
    label = carrier(standin).create_shipment(shipment())
    values = field_values(label.label_zpl)
    assert "Zoé Lefèvre-Gaël" in values
    assert "8 rue de l'Hôtel de Ville" in values and "Bâtiment B" in values
    assert "^CI28" in label.label_zpl


def test_a_300_dpi_label_is_asked_and_still_decodes(standin):
    label = carrier(standin, label_format="zpl_300").create_shipment(shipment())
    body = json.loads(standin.calls_to("/backend/rs/shipments", "POST")[0].body)
    assert body["PrintingOptions"] == {"ReturnLabels": {"TemplateSet": "ZPL_300", "LabelFormat": "ZEBRA"}}
    assert [d.text for d in decode_labels(label.label_zpl)[0]] == [label.tracking_number]


def test_a_pdf_label_can_be_asked_for_the_document_printer(standin):
    label = carrier(standin, label_format="pdf").create_shipment(shipment(Parcel(1000), Parcel(2000)))
    assert label.content_type == PDF and label.label.startswith(b"%PDF")


def test_an_address_gls_does_not_route_is_refused_with_its_message(standin):
    bad = Party(Address("Jean Dupont", ("1 rue Nulle Part",), "99999", "Nowhere", "FR"))
    with pytest.raises(ShipmentRefused) as refused:
        carrier(standin).create_shipment(shipment(to=bad))
    assert not isinstance(refused.value, RelayPointInvalid)
    assert "ZIPCode" in refused.value.detail and "99999" in refused.value.detail
    assert standin.units == {}


def test_express_where_gls_has_no_express_is_a_service_not_allowed(standin):
    abroad = Party(Address("Hans Muster", ("Testallee 5",), "65760", "Eschborn", "DE"))
    with pytest.raises(ShipmentRefused, match="No matching product available"):
        carrier(standin, product="EXPRESS").create_shipment(shipment(to=abroad))
    assert standin.units == {}


def test_a_parcel_over_30_kg_is_refused_before_any_label(standin):
    with pytest.raises(ShipmentRefused, match="No matching product"):
        carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(31000)))
    assert standin.units == {}


def test_an_unknown_parcel_shop_is_a_relay_point_refusal(standin):
    with pytest.raises(RelayPointInvalid, match="GLS_FR-2500000404"):
        carrier(standin).create_shipment(shipment(relay_point_id="GLS_FR-2500000404"))
    assert standin.units == {}


def test_a_parcel_too_heavy_for_the_shop_is_a_relay_point_refusal(standin):
    with pytest.raises(RelayPointInvalid, match="too heavy"):
        carrier(standin).create_shipment(shipment(Parcel(22000), relay_point_id="GLS_FR-2500012345"))


def test_shop_delivery_sends_the_parcel_shop_and_prints(standin):
    label = carrier(standin).create_shipment(shipment(relay_point_id="GLS_FR-2500012345"))
    body = json.loads(standin.calls_to("/backend/rs/shipments", "POST")[0].body)
    assert body["Shipment"]["Service"] == [
        {"ShopDelivery": {"ServiceName": "service_shopdelivery", "ParcelShopID": "GLS_FR-2500012345"}}
    ]
    assert label.tracking_number.isdigit()


def test_flex_delivery_is_sent_for_home_delivery(standin):
    carrier(standin, flex_delivery=True).create_shipment(shipment())
    body = json.loads(standin.calls_to("/backend/rs/shipments", "POST")[0].body)
    assert body["Shipment"]["Service"] == [{"Service": {"ServiceName": "service_flexdelivery"}}]


def test_bad_credentials_are_carrier_unavailable_and_say_so(standin):
    gls = carrier(standin, password="wrong")
    with pytest.raises(CarrierUnavailable, match="credentials"):
        gls.create_shipment(shipment())
    assert standin.units == {}


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_carrier_unavailable(standin, status):
    standin.fail_next(1, status, path="/backend/rs/shipments")
    with pytest.raises(CarrierUnavailable, match=str(status)):
        carrier(standin).create_shipment(shipment())


def test_an_inactive_backend_490_is_carrier_unavailable(standin):
    standin.fail_next(1, 490, path="/backend/rs/shipments", body="")
    with pytest.raises(CarrierUnavailable, match="490"):
        carrier(standin).create_shipment(shipment())


def test_the_rate_limit_is_carrier_unavailable(standin):
    standin.bucket.rate, standin.bucket.level = 0.001, 0
    with pytest.raises(CarrierUnavailable, match="429"):
        carrier(standin).create_shipment(shipment())
    assert standin.rate_limited == 1


def test_a_timeout_is_carrier_unavailable(standin):
    standin.delay_next(1, 1.5, path="/backend/rs/shipments")
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        carrier(standin, timeout=0.5).create_shipment(shipment())


def test_a_dropped_connection_is_carrier_unavailable(standin):
    standin.fail_next(1, 0, path="/backend/rs/shipments")
    with pytest.raises(CarrierUnavailable):
        carrier(standin).create_shipment(shipment())


def test_a_schema_breaking_request_is_recorded_as_a_violation(standin):
    gls = carrier(standin)
    response = gls.call("POST", "/backend/rs/shipments", {"Shipment": {"Product": "PARCEL"}})
    assert response.status == 400 and response.headers["error"] == "INVALID_FIELD_VALUE"
    assert standin.violations and "PrintingOptions" in " ".join(standin.violations)
    standin.violations.clear()


def test_too_long_a_street_is_refused_here_not_truncated(standin):
    long = Party(Address("Jean Dupont", ("x" * 41,), "69001", "Lyon", "FR"))
    with pytest.raises(ShipmentRefused, match="at most 40"):
        carrier(standin).create_shipment(shipment(to=long))
    assert standin.calls == []


def test_customs_insurance_and_signature_are_refused_as_unsupported(standin):
    gls = carrier(standin)
    swiss = Party(Address("Timmy Test", ("Testgasse 1",), "3963", "Crans-Montana", "CH"))
    with pytest.raises(FeatureUnsupported, match="CN23"):
        gls.create_shipment(shipment(to=swiss))
    with pytest.raises(FeatureUnsupported):
        gls.create_shipment(shipment(options=ShippingOptions(insured_value=Decimal("100"))))
    with pytest.raises(FeatureUnsupported):
        gls.create_return(shipment())
    assert standin.calls == []


def test_cancel_cancels_every_parcel_by_its_track_id(standin):
    gls = carrier(standin)
    label = gls.create_shipment(shipment(Parcel(1000), Parcel(2000)))
    result = gls.cancel(label.tracking_number, carrier_reference=label.carrier_reference)
    assert "Cancelled" in result.detail
    assert [u.status for u in standin.units.values()] == ["cancelled", "cancelled"]


def test_cancel_of_a_scanned_parcel_is_refused(standin):
    gls = carrier(standin)
    label = gls.create_shipment(shipment())
    standin.scan(label.tracking_number)
    with pytest.raises(CancelRefused, match="scanned"):
        gls.cancel(label.tracking_number, carrier_reference=label.carrier_reference)


def test_cancel_of_an_unknown_parcel_says_so(standin):
    with pytest.raises(ShipmentUnknown):
        carrier(standin).cancel("250000009999", carrier_reference="ZZZZZZZZ")
    with pytest.raises(ShippingInputInvalid):
        carrier(standin).cancel("250000009999")


def test_relay_point_by_id_has_opening_hours_with_the_one_hour_offset_and_breaks(standin):
    point = carrier(standin).relay_point("GLS_FR-2500012345", "FR")
    assert point.name == "Tabac de la Gare" and point.address.street == ("12 Rue de la République",)
    monday = [(h.opens, h.closes) for h in point.opening_hours if h.weekday == 1]
    assert monday == [("09:00", "12:30"), ("14:00", "19:00")]
    saturday = [(h.opens, h.closes) for h in point.opening_hours if h.weekday == 6]
    assert saturday == [("09:00", "19:00")]


def test_checking_a_relay_point_refuses_unknown_closed_and_too_heavy(standin):
    gls = carrier(standin)
    with pytest.raises(RelayPointInvalid):
        gls.check_relay_point("GLS_FR-2500000404", "FR", 1000, DAY)
    with pytest.raises(RelayPointInvalid, match="no opening hours"):
        gls.check_relay_point("GLS_FR-2500099999", "FR", 1000, DAY)
    assert gls.check_relay_point("GLS_FR-2500067890", "FR", 1000, DAY).id == "GLS_FR-2500067890"


def test_relay_search_by_postcode_lists_the_nearest_first(standin):
    points = carrier(standin).find_relay_points("FR", "69002", city="Lyon")
    assert [p.id for p in points] == ["GLS_FR-2500012345", "GLS_FR-2500099999", "GLS_FR-2500067890"]
    assert points[0].distance_m == 300 and points[1].name == "Presse Fermée"


def test_end_of_day_then_tracking_events_are_mapped_to_our_statuses(standin):
    gls = carrier(standin)
    label = gls.create_shipment(shipment())
    number = label.tracking_number
    assert gls.tracking_events([number]) == {number: []}  # not found before the end of day, as documented
    manifest = gls.manifest([label], DAY)
    assert manifest.tracking_numbers == (number,) and manifest.parcel_count == 1
    t0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    for hours, code, text in ((0, "PREADVICE", "Données reçues"), (3, "INTRANSIT", "Colis en transit"),
                              (20, "INDELIVERY", "En cours de livraison"), (24, "DELIVERED", "Colis livré")):
        standin.add_event(number, code, text, t0 + dt.timedelta(hours=hours))
    events = gls.tracking_events([number])[number]
    assert [e.status for e in events] == [TrackingStatus.LABEL_CREATED, TrackingStatus.IN_TRANSIT,
                                         TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED]
    assert events[-1].text == "Colis livré" and events[-1].location == "Lyon, FR"


def test_a_parcel_left_at_the_shop_and_a_failed_delivery_map_to_ours(standin):
    gls = carrier(standin)
    label = gls.create_shipment(shipment())
    gls.manifest([label], DAY)
    at = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    standin.add_event(label.tracking_number, "NOTDELIVERED", "Destinataire absent", at)
    standin.add_event(label.tracking_number, "DELIVEREDPS", "Déposé en ParcelShop", at + dt.timedelta(hours=2))
    events = gls.tracking_events([label.tracking_number])[label.tracking_number]
    assert [e.status for e in events] == [TrackingStatus.FAILED, TrackingStatus.AT_RELAY_POINT]
