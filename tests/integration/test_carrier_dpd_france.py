"""The DPD France adapter against its stand-in on 127.0.0.1 (tests/standins/dpd_france.py): EPrint over SOAP
with every request validated against the XSD written from the EPrint WSDL's structures, and the Pickup relay
search. No database. What this proves: the adapter sends requests that schema accepts and copes with the
answers and faults the stand-in gives; not that the real service answers the same way."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.standins.dpd_france import HOLIDAY, PASSWORD, USERID, DpdFranceStandIn
from tests.unit.labels.reading import decode_labels, field_values
from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    Customs,
    CustomsLine,
    FeatureUnsupported,
    RelayPointInvalid,
    ShippingOptions,
)
from wms.shipping.carriers import PDF, ZPL, Parcel, Party, Shipment
from wms.shipping.dpd_france import DpdFranceCarrier
from wms.shipping.errors import CancelRefused, CarrierUnavailable, ShipmentRefused

# zplkit's built-in font draws é and À but not the other French accents: the printed names use those two, and
# the literal-text checks read the ^FH fields back byte for byte.
WAREHOUSE = Party(Address("Société Rack-Zone", ("ZI Est", "Bâtiment 4"), "69200", "Vénissieux", "FR"),
                  phone="0472000000")
CUSTOMER = Party(Address("Renée Dupré", ("14 Rue de la Préfecture",), "69004", "Lyon", "FR"),
                 phone="0611223344", email="helene@example.fr")
ACCENTED = Party(Address("Hélène Dûpont-Évrard", ("14 Rue de l'Hôtel-de-Ville", "Bât. Ç"), "69004", "Lyon", "FR"),
                 phone="0611223344")
DAY = date(2026, 12, 3)
CONTRACTS = {"classic": "123456", "predict": "654321", "relais": "654321", "return": "123456"}


@pytest.fixture
def standin():
    with DpdFranceStandIn() as running:
        yield running
    assert running.violations == [], "the adapter sent requests the EPrint schema refuses"


def dpd(standin: DpdFranceStandIn, **kwargs) -> DpdFranceCarrier:
    options = {"userid": USERID, "password": PASSWORD, "center_number": "19", "customer_numbers": CONTRACTS,
               "base_url": standin.eprint_url, "pudo_url": standin.pudo_url, "pudo_key": "pudo-key",
               "proxies": {}, "timeout": 5.0, **kwargs}
    return DpdFranceCarrier(**options)


def shipment(*parcels: Parcel, to: Party = CUSTOMER, **kwargs) -> Shipment:
    return Shipment("SO-1042", WAREHOUSE, to, parcels or (Parcel(1200),), ship_date=DAY, **kwargs)


def test_a_classic_parcel_gets_a_zpl_label_whose_barcode_is_its_parcel_number(standin):
    label = dpd(standin).create_shipment(shipment())
    assert label.content_type == ZPL and label.service == "classic"
    assert len(label.parcels) == 1 and label.tracking_number == label.parcels[0].tracking_number
    pages = decode_labels(label.label_zpl)
    assert len(pages) == 1
    assert label.tracking_number in [d.text for d in pages[0]]


def test_the_address_with_accents_prints_as_written(standin):
    label = dpd(standin).create_shipment(shipment(to=ACCENTED))
    values = field_values(label.label_zpl)
    assert "Hélène Dûpont-Évrard" in values and "14 Rue de l'Hôtel-de-Ville" in values
    body = standin.calls_to("eprintwebservice", "POST")[-1].body.decode("utf-8")
    assert "<ns0:vinfo1>Bât. Ç</ns0:vinfo1>" in body


def test_two_parcels_get_one_label_each_numbered_1_of_2_and_2_of_2(standin):
    label = dpd(standin).create_shipment(shipment(Parcel(1500), Parcel(800)))
    assert [p.weight_grams for p in label.parcels] == [1500, 800]
    numbers = [p.tracking_number for p in label.parcels]
    assert len(set(numbers)) == 2
    pages = decode_labels(label.label_zpl)
    assert [[d.text for d in page] for page in pages] == [[numbers[0]], [numbers[1]]]
    assert "1/2" in label.label_zpl and "2/2" in label.label_zpl
    assert len(standin.calls_to("eprintwebservice", "POST")) == 3   # CreateMultiShipment + 2 GetLabel


def test_a_label_missing_after_a_multi_parcel_announce_gives_no_shipment_and_says_which_parcels(standin):
    standin.fail_get_label = 1
    with pytest.raises(CarrierUnavailable, match="announced parcels 25019000000001, 25019000000002"):
        dpd(standin).create_shipment(shipment(Parcel(1500), Parcel(800)))
    assert dpd(standin).create_shipment(shipment(Parcel(1500), Parcel(800))).tracking_number


def test_predict_sends_the_recipient_mobile_and_email(standin):
    label = dpd(standin).create_shipment(shipment(service="predict"))
    assert label.service == "predict"
    body = standin.calls_to("eprintwebservice", "POST")[-1].body.decode()
    assert "<ns0:type>Predict</ns0:type>" in body and "0611223344" in body and "helene@example.fr" in body


def test_predict_without_mobile_or_email_is_refused_before_calling_dpd(standin):
    bare = Party(CUSTOMER.address)
    with pytest.raises(ShipmentRefused, match="mobile number or email"):
        dpd(standin).create_shipment(shipment(to=bare, service="predict"))
    assert standin.calls_to("eprintwebservice", "POST") == []


def test_a_relay_parcel_goes_to_its_pickup_point(standin):
    label = dpd(standin).create_shipment(shipment(relay_point_id="P22895"))
    assert label.service == "relais"
    assert "<ns0:shopid>P22895</ns0:shopid>" in standin.calls_to("eprintwebservice", "POST")[-1].body.decode()


def test_an_unknown_relay_point_is_a_relay_point_refusal(standin):
    with pytest.raises(RelayPointInvalid, match="P99999"):
        dpd(standin).create_shipment(shipment(relay_point_id="P99999"))


def test_a_bad_postcode_is_refused_with_dpd_s_reason(standin):
    bad = Party(Address("Jean Martin", ("1 Rue Haute",), "6900", "Lyon", "FR"), phone="0611223344")
    with pytest.raises(ShipmentRefused, match="code postal") as refused:
        dpd(standin).create_shipment(shipment(to=bad))
    assert not isinstance(refused.value, RelayPointInvalid)


def test_a_service_not_on_the_contract_is_refused(standin):
    carrier = dpd(standin, customer_numbers={**CONTRACTS, "predict": "123456"})
    with pytest.raises(ShipmentRefused, match="Predict|predict"):
        carrier.create_shipment(shipment(service="predict"))


def test_a_service_without_a_customer_number_is_refused_before_calling_dpd(standin):
    carrier = dpd(standin, customer_numbers={"classic": "123456"})
    with pytest.raises(ShipmentRefused, match="no customer number for Relais"):
        carrier.create_shipment(shipment(relay_point_id="P22895"))
    assert standin.calls_to("eprintwebservice", "POST") == []


def test_wrong_credentials_mean_dpd_is_unavailable_to_us(standin):
    with pytest.raises(CarrierUnavailable, match="credentials"):
        dpd(standin, password="wrong").create_shipment(shipment())


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_mean_dpd_is_unavailable(standin, status):
    carrier = dpd(standin)
    carrier.create_shipment(shipment())                      # the WSDL is read
    standin.fail_next(1, status, path="eprintwebservice")
    with pytest.raises(CarrierUnavailable, match=str(status)):
        carrier.create_shipment(shipment())
    assert carrier.create_shipment(shipment()).tracking_number


def test_an_unreadable_wsdl_means_dpd_is_unavailable(standin):
    standin.fail_next(1, 503, path="eprintwebservice")
    with pytest.raises(CarrierUnavailable, match="WSDL"):
        dpd(standin).create_shipment(shipment())


def test_a_timeout_means_dpd_is_unavailable(standin):
    carrier = dpd(standin, timeout=1.0)
    carrier.create_shipment(shipment())
    standin.delay_next(1, 2.0, path="eprintwebservice")
    with pytest.raises(CarrierUnavailable):
        carrier.create_shipment(shipment())


def test_a_pdf_label_can_be_asked_for_the_document_printer(standin):
    label = dpd(standin, label_format="PDF").create_shipment(shipment())
    assert label.content_type == PDF and label.label.startswith(b"%PDF")


def test_a_destination_outside_the_customs_union_is_refused_without_a_label(standin):
    geneva = Party(Address("Luc Favre", ("Rue du Rhône 1",), "1204", "Genève", "CH"), phone="+41221234567")
    customs = Customs((CustomsLine("Étagère", 1, Decimal("40"), 1000, "940320", "FR"),))
    with pytest.raises(FeatureUnsupported, match="CN23"):
        dpd(standin).create_shipment(shipment(to=geneva, customs=customs))
    assert standin.calls_to("eprintwebservice", "POST") == []


def test_insurance_is_sent_as_extra_insurance(standin):
    dpd(standin).create_shipment(shipment(options=ShippingOptions(insured_value=Decimal("350"))))
    body = standin.calls_to("eprintwebservice", "POST")[-1].body.decode()
    assert "<ns0:value>350.00</ns0:value>" in body and "byShipments" in body


def test_a_return_label_brings_the_parcel_from_the_customer_to_the_warehouse(standin):
    rma = Shipment("RMA-77", CUSTOMER, WAREHOUSE, (Parcel(900),), ship_date=DAY)
    label = dpd(standin).create_return(rma)
    assert label.service == "return"
    assert [d.text for d in decode_labels(label.label_zpl)[0]] == [label.tracking_number]
    assert "Société Rack-Zone" in field_values(label.label_zpl)


def test_relay_points_near_a_postcode_come_nearest_first_with_opening_hours(standin):
    points = dpd(standin).find_relay_points("FR", "69004", city="Lyon", weight_grams=1200)
    assert [p.id for p in points] == ["P22895", "P64240"]
    first = points[0]
    assert first.distance_m == 350 and first.active and first.latitude == pytest.approx(45.764043)
    assert (1, "09:00", "12:00") in [(h.weekday, h.opens, h.closes) for h in first.opening_hours]
    assert points[1].name == "Épicerie Saint-Jean"


def test_a_relay_point_is_checked_open_on_the_day(standin):
    carrier = dpd(standin)
    assert carrier.check_relay_point("P22895", "FR", 1200, HOLIDAY[0]).id == "P22895"
    assert carrier.check_relay_point("P64240", "FR", 1200, date.today()).id == "P64240"
    with pytest.raises(RelayPointInvalid, match="closed"):
        carrier.check_relay_point("P64240", "FR", 1200, HOLIDAY[0] + timedelta(days=3))


def test_an_unknown_relay_point_id_is_refused(standin):
    with pytest.raises(RelayPointInvalid, match="P00001"):
        dpd(standin).relay_point("P00001", "FR")


def test_a_bad_pickup_key_means_the_relay_search_is_unavailable(standin):
    with pytest.raises(CarrierUnavailable, match="Pickup"):
        dpd(standin, pudo_key="other").find_relay_points("FR", "69004")


def test_the_relay_search_failing_means_dpd_is_unavailable(standin):
    standin.fail_next(1, 503, path="GetPudoList")
    with pytest.raises(CarrierUnavailable, match="503"):
        dpd(standin).find_relay_points("FR", "69004")


def test_cancelling_is_refused_with_what_to_do_instead(standin):
    carrier = dpd(standin)
    label = carrier.create_shipment(shipment())
    with pytest.raises(CancelRefused, match="do not hand parcel"):
        carrier.cancel(label.tracking_number)


def test_the_hand_over_list_covers_every_parcel(standin):
    carrier = dpd(standin)
    one = carrier.create_shipment(shipment())
    two = carrier.create_shipment(shipment(Parcel(1000), Parcel(2000)))
    manifest = carrier.manifest([one, two], DAY)
    assert manifest.parcel_count == 3 and set(manifest.tracking_numbers) == {
        *(p.tracking_number for p in one.parcels), *(p.tracking_number for p in two.parcels)}


def test_a_schema_breaking_request_is_recorded_as_a_violation(standin):
    import requests

    envelope = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                '<soap:Body><CreateShipmentWithLabels xmlns="http://www.cargonet.software"><request>'
                "<customer_countrycode>FRANCE</customer_countrycode></request></CreateShipmentWithLabels>"
                "</soap:Body></soap:Envelope>")
    answer = requests.post(standin.eprint_url, data=envelope.encode(), timeout=5, headers={
        "Content-Type": "text/xml", "SOAPAction": '"http://www.cargonet.software/CreateShipmentWithLabels"'})
    assert answer.status_code == 500 and "faultstring" in answer.text
    assert standin.violations
    standin.violations.clear()   # this request was ours on purpose; the fixture asserts the adapter made none


def test_a_street_longer_than_dpd_takes_is_refused_before_calling_dpd(standin):
    long_street = Party(Address("Jean Martin", ("12 avenue du Maréchal de Lattre de Tassigny",), "69004", "Lyon",
                                "FR"))
    with pytest.raises(ShipmentRefused, match="35 characters"):
        dpd(standin).create_shipment(shipment(to=long_street))
    assert standin.calls_to("eprintwebservice", "POST") == []
