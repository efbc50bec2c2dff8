"""The Chronopost adapter, through zeep, against the Chronopost stand-in on 127.0.0.1 (tests/standins/chronopost.py),
which validates every SOAP request against the XSDs written from the published WSDLs. No database. What this
proves: the adapter sends requests the documented schema accepts and turns the documented answers (labels,
errorCodes, faults, relay points, tracking events) into ours. It does not prove the real service behaves so."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import requests
import zplkit
import zxingcpp

from tests.standins.chronopost import ACCOUNT, PASSWORD, ChronopostStandIn, Point
from tests.unit.labels.reading import decode_labels, field_values
from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    Customs,
    CustomsLine,
    Feature,
    FeatureUnsupported,
    RelayPointInvalid,
    ShippingOptions,
    TrackingStatus,
)
from wms.shipping.carriers import PDF, ZPL, Carrier, Parcel, Party, Shipment
from wms.shipping.chronopost import ChronopostCarrier
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)

WAREHOUSE = Party(Address("Entrepôt Rack Zone", ("4 rue de l'Industrie",), "69007", "Lyon", "FR"),
                  phone="0472000000", company="Rack Zone SAS")
HELENE = Party(Address("Hélène Dupré-Lefèvre", ("12 allée des Érables", "Bât. B – 2ᵉ étage"), "75011", "Paris",
                       "FR"), phone="0612345678", email="helene@example.fr")
TODAY = dt.date.today()
WEEK = {day: [("09:00", "12:30"), ("14:00", "19:00")] for day in range(1, 7)}


@pytest.fixture
def standin():
    with ChronopostStandIn() as running:
        running.points["2450R"] = Point("2450R", "Tabac de la Bastille", "3 place de la Bastille", "75011", "Paris",
                                        WEEK, distance=350)
        running.points["7012T"] = Point("7012T", "Épicerie du Marché", "40 rue de Charonne", "75011", "Paris",
                                        WEEK, poids_maxi=5000, distance=820)
        yield running
    assert running.violations == [], "the adapter sent requests the documented schema refuses"


def carrier(standin: ChronopostStandIn, **kwargs) -> ChronopostCarrier:
    options = {"account_number": ACCOUNT, "password": PASSWORD, "base_url": standin.url, "proxies": {},
               "timeout": 5.0, **kwargs}
    return ChronopostCarrier(**options)


def shipment(*parcels: Parcel, to: Party = HELENE, **kwargs) -> Shipment:
    return Shipment("SO-2026-0042", WAREHOUSE, to, parcels or (Parcel(1500),), ship_date=TODAY, **kwargs)


def barcodes(zpl: str) -> list[list[str]]:
    """The barcodes of each label; glyphs the renderer's resident font lacks are drawn as '?' (as previews do),
    which changes no barcode: the text itself is checked on the ZPL as sent."""
    renderable = re.sub(r"(?:_(?:C[2-9A-F]|D[0-9A-F]|E[0-9A-F])(?:_[89AB][0-9A-F]){1,2})",
                        lambda m: m.group(0) if m.group(0) == "_C3_A9" else "_3F", zpl)
    return [[d.text for d in page] for page in decode_labels(renderable)]


def sent(standin: ChronopostStandIn, path: str) -> str:
    return standin.calls_to(path)[-1].body.decode("utf-8")


# --- labels -------------------------------------------------------------------------------------------------------


def test_a_two_parcel_shipment_gets_one_label_per_parcel_numbered_1_of_2_and_2_of_2(standin):
    adapter = carrier(standin)
    assert isinstance(adapter, Carrier) and Feature.MULTI_PARCEL in adapter.features
    label = adapter.create_shipment(shipment(Parcel(1500, 300, 200, 100), Parcel(820)))
    numbers = [p.tracking_number for p in label.parcels]
    assert numbers == ["XP696982485FR", "XP696982499FR"] and label.tracking_number == numbers[0]
    assert label.content_type == ZPL and label.service == "01"
    assert barcodes(label.label_zpl) == [[numbers[0]], [numbers[1]]]
    assert [v for v in field_values(label.label_zpl) if "/" in v] == ["1/2", "2/2"]
    request = sent(standin, "ShippingServiceWS")
    assert "<numberOfParcel>2</numberOfParcel>" in request and "<multiParcel>Y</multiParcel>" in request
    assert request.count("<skybillValue>") == 2 and "<weight>1.5</weight>" in request


def test_labels_of_every_parcel_in_the_first_answer_are_taken_as_one_print_job(standin):
    standin.one_document_next = True
    label = carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(1200), Parcel(900)))
    assert barcodes(label.label_zpl) == [[p.tracking_number] for p in label.parcels]
    assert len(label.parcels) == 3 and label.label_zpl.count("^XA") == 3


def test_the_address_with_accents_prints_exactly_as_written(standin):
    label = carrier(standin).create_shipment(shipment())
    values = field_values(label.label_zpl)
    assert "Hélène Dupré-Lefèvre" in values
    assert "12 allée des Érables" in values and "Bât. B – 2ᵉ étage" in values and "75011 Paris" in values
    assert "^CI28" in label.label_zpl


def test_the_label_mode_is_the_one_configured_zpl_300_dpi_or_pdf(standin):
    label = carrier(standin, label_format="ZPL300").create_shipment(shipment())
    assert "<mode>ZPL300</mode>" in sent(standin, "ShippingServiceWS") and label.content_type == ZPL
    renderable = re.sub(r"_(?:C3|E2|E1)(?:_[89AB][0-9A-F]){1,2}", "_3F", label.label_zpl)
    (page,) = zplkit.render(renderable.encode("ascii"), zplkit.Options(width=1218, height=1827, dpi=300)).labels
    raster = page.rasterize()
    image = memoryview(raster.pixels).cast("B", (raster.height, raster.width))
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [label.tracking_number]
    pdf = carrier(standin, label_format="PDF").create_shipment(shipment())
    assert pdf.content_type == PDF and pdf.label.startswith(b"%PDF")


def test_a_pdf_label_for_several_parcels_is_refused_before_calling_chronopost(standin):
    with pytest.raises(FeatureUnsupported, match="one parcel at a time"):
        carrier(standin, label_format="PDF").create_shipment(shipment(Parcel(1000), Parcel(1000)))
    assert standin.calls == []


def test_insurance_is_sent_as_the_insured_value_in_cents(standin):
    carrier(standin).create_shipment(shipment(options=ShippingOptions(insured_value=Decimal("120.50"))))
    request = sent(standin, "ShippingServiceWS")
    assert "<insuredCurrency>EUR</insuredCurrency>" in request and "<insuredValue>12050</insuredValue>" in request


def test_customs_and_signature_are_refused_rather_than_half_sent(standin):
    customs = Customs((CustomsLine("Roulements", 2, Decimal("40"), 900, "848210", "FR"),))
    with pytest.raises(FeatureUnsupported, match="CN23"):
        carrier(standin).create_shipment(shipment(customs=customs))
    with pytest.raises(FeatureUnsupported, match="signature"):
        carrier(standin).create_shipment(shipment(options=ShippingOptions(signature=True)))
    with pytest.raises(FeatureUnsupported):
        carrier(standin).create_return(shipment())
    assert standin.calls == []


# --- documented refusals and failures -----------------------------------------------------------------------------


def test_a_bad_postcode_is_a_refusal_with_chronopost_s_message_and_nothing_is_created(standin):
    to = Party(Address("Hélène Dupré", ("12 allée des Érables",), "7501", "Paris", "FR"))
    with pytest.raises(ShipmentRefused, match=r"Code postal du destinataire invalide : 7501 \(code 33\)"):
        carrier(standin).create_shipment(shipment(to=to))
    assert standin.skybills == {}


def test_a_product_outside_the_contract_is_a_refusal(standin):
    with pytest.raises(ShipmentRefused, match="Produit 17 non autorisé"):
        carrier(standin).create_shipment(shipment(service="express"))
    assert standin.skybills == {}


def test_bad_credentials_mean_chronopost_is_unavailable_not_a_refused_parcel(standin):
    with pytest.raises(CarrierUnavailable, match="invalid account or password"):
        carrier(standin, password="wrong").create_shipment(shipment())


def test_a_system_error_server_errors_rate_limits_and_timeouts_mean_unavailable(standin):
    adapter = carrier(standin)
    standin.system_error_next = 1
    with pytest.raises(CarrierUnavailable, match="System Error"):
        adapter.create_shipment(shipment())
    standin.fail_next(1, 503)
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        adapter.create_shipment(shipment())
    standin.fail_next(1, 429)
    with pytest.raises(CarrierUnavailable, match="HTTP 429"):
        adapter.tracking_events(["XP696982485FR"])
    standin.delay_next(1, 2.5)
    with pytest.raises(CarrierUnavailable, match="in time"):
        carrier(standin, timeout=0.5).create_shipment(shipment())
    assert standin.skybills == {}


def test_labels_chronopost_made_but_we_cannot_print_are_cancelled_so_nothing_is_half_created(standin):
    standin.broken_label_next = True
    with pytest.raises(CarrierResponseInvalid, match="is not ZPL; the skybills Chronopost made for it were cancelled"):
        carrier(standin).create_shipment(shipment(Parcel(1000), Parcel(1200)))
    assert len(standin.skybills) == 2 and all(s.cancelled for s in standin.skybills.values())


def test_a_request_breaking_the_schema_is_recorded_by_the_stand_in_and_answered_with_a_fault(standin):
    envelope = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:cxf="http://cxf.tracking.soap.chronopost.fr/"><soapenv:Body><cxf:cancelSkybill>'
                f"<accountNumber>{ACCOUNT}</accountNumber><language>fr_FR</language>"
                "<skybillNumber>XP696982485FR</skybillNumber></cxf:cancelSkybill></soapenv:Body></soapenv:Envelope>")
    answer = requests.post(standin.url + "/tracking-cxf/TrackingServiceWS", data=envelope.encode(),
                           headers={"Content-Type": "text/xml"}, timeout=5)
    assert answer.status_code == 500 and b"Unmarshalling Error" in answer.content
    assert len(standin.violations) == 1 and "password" in standin.violations[0]
    standin.violations.clear()


def test_a_soap_fault_for_our_request_is_an_unusable_answer_not_a_refused_parcel(standin):
    standin.fault_next = ("Client", "Unmarshalling Error: unexpected element (uri:\"\", local:\"idRelais\")")
    with pytest.raises(CarrierResponseInvalid, match="malformed: Unmarshalling Error"):
        carrier(standin).create_shipment(shipment())
    standin.fault_next = ("Server", "java.lang.NullPointerException")
    with pytest.raises(CarrierUnavailable, match="NullPointerException"):
        carrier(standin).create_shipment(shipment())
    assert standin.skybills == {}


def test_nothing_is_fetched_at_start_up_and_an_unreachable_host_is_unavailable():
    adapter = ChronopostCarrier(account_number=ACCOUNT, password=PASSWORD, base_url="http://127.0.0.1:9",
                                proxies={}, timeout=2.0)
    with pytest.raises(CarrierUnavailable, match="cannot be reached at http://127.0.0.1:9"):
        adapter.create_shipment(shipment())


def test_the_adapter_refuses_settings_it_cannot_use():
    with pytest.raises(ShippingInputInvalid, match="8 digits"):
        ChronopostCarrier(account_number="ABC", password="x", base_url="http://127.0.0.1:9")
    with pytest.raises(ShippingInputInvalid, match="label format"):
        ChronopostCarrier(account_number=ACCOUNT, password="x", base_url="http://127.0.0.1:9", label_format="PNG")
    with pytest.raises(ShippingInputInvalid, match="not a Chronopost product"):
        ChronopostCarrier(account_number=ACCOUNT, password="x", base_url="http://127.0.0.1:9", product_code="zzz")


# --- cancel and manifest ------------------------------------------------------------------------------------------


def test_a_label_not_yet_handed_over_is_cancelled_and_then_cannot_be_cancelled_again(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(shipment())
    assert adapter.cancel(label.tracking_number).tracking_number == label.tracking_number
    assert standin.skybills[label.tracking_number].cancelled
    with pytest.raises(CancelRefused, match="already taken over or cancelled"):
        adapter.cancel(label.tracking_number)


def test_cancelling_a_skybill_the_account_does_not_have_says_so(standin):
    with pytest.raises(ShipmentUnknown, match="does not know XP696982485FR"):
        carrier(standin).cancel("XP696982485FR")
    with pytest.raises(TrackingNumberInvalid):
        carrier(standin).cancel("XP696982486FR")


def test_the_manifest_is_our_hand_over_list_of_every_parcel(standin):
    adapter = carrier(standin, site="Lyon")
    labels = [adapter.create_shipment(shipment(Parcel(1000), Parcel(2000))), adapter.create_shipment(shipment())]
    manifest = adapter.manifest(labels, TODAY)
    assert manifest.parcel_count == 3 and manifest.weight_grams == 4500
    assert set(manifest.tracking_numbers) == {p.tracking_number for label in labels for p in label.parcels}
    assert manifest.content_type == ZPL and b"^XA" in manifest.document


# --- relay points -------------------------------------------------------------------------------------------------


def test_relay_points_near_a_postcode_come_nearest_first_with_their_opening_hours(standin):
    points = carrier(standin).find_relay_points("FR", "75011", city="Paris", weight_grams=1500, limit=5)
    assert [p.id for p in points] == ["2450R", "7012T"]
    first = points[0]
    assert first.name == "Tabac de la Bastille" and first.distance_m == 350
    assert first.address.street == ("3 place de la Bastille",) and first.address.postal_code == "75011"
    assert len(first.opening_hours) == 12 and first.opening_hours[0].opens == "09:00"
    assert points[1].max_weight_grams == 5000 and points[1].address.name == "Épicerie du Marché"
    assert first.latitude == pytest.approx(48.85)


def test_a_relay_point_is_checked_before_the_label_exists_open_and_takes_the_weight(standin):
    adapter = carrier(standin)
    assert adapter.check_relay_point("2450R", "FR", 1500, TODAY).id == "2450R"
    with pytest.raises(RelayPointInvalid, match="does not know relay point 9999X"):
        adapter.check_relay_point("9999X", "FR", 1500, TODAY)
    with pytest.raises(RelayPointInvalid, match="up to 5 kg"):
        adapter.check_relay_point("7012T", "FR", 6200, TODAY)
    start = dt.datetime.combine(TODAY, dt.time(0), tzinfo=dt.UTC)
    standin.points["2450R"].closed = (start, start + dt.timedelta(days=14))
    with pytest.raises(RelayPointInvalid, match="is closed from"):
        adapter.check_relay_point("2450R", "FR", 1500, TODAY + dt.timedelta(days=2))
    standin.points["7012T"].actif = False
    with pytest.raises(RelayPointInvalid, match="no longer in service"):
        adapter.check_relay_point("7012T", "FR", 1000, TODAY)


def test_a_relay_shipment_is_sent_as_chrono_relais_with_the_point(standin):
    label = carrier(standin).create_shipment(shipment(relay_point_id="2450R"))
    assert label.service == "86"
    request = sent(standin, "ShippingServiceWS")
    assert "<productCode>86</productCode>" in request and "<recipientRef>2450R</recipientRef>" in request
    with pytest.raises(ShipmentRefused, match="Point relais 0000Z inconnu"):
        carrier(standin).create_shipment(shipment(relay_point_id="0000Z"))
    with pytest.raises(ShipmentRefused, match="names none"):
        carrier(standin).create_shipment(shipment(service="relais"))


def test_relay_search_with_bad_credentials_is_unavailable(standin):
    with pytest.raises(CarrierUnavailable, match="invalid account or password"):
        carrier(standin, password="nope").find_relay_points("FR", "75011")


# --- tracking -----------------------------------------------------------------------------------------------------


def test_tracking_events_are_mapped_to_our_statuses_oldest_first(standin):
    adapter = carrier(standin)
    number = adapter.create_shipment(shipment()).tracking_number
    standin.add_event(number, "DB", "Envoi remis par l'expéditeur", "LYON")
    standin.add_event(number, "TS", "Envoi en transit", "HUB CHILLY MAZARIN CHRONOPOST")
    standin.add_event(number, "TA", "Envoi en cours de livraison", "PARIS 11 CHRONOPOST")
    standin.add_event(number, "D", "Livraison effectuée", "PARIS 11 CHRONOPOST")
    events = adapter.tracking_events([number, "XP123456785FR"])
    assert [e.status for e in events[number]] == [
        TrackingStatus.LABEL_CREATED, TrackingStatus.IN_TRANSIT, TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED,
    ]
    assert events[number][-1].text == "Livraison effectuée" and events[number][-1].at.tzinfo is not None
    assert events["XP123456785FR"] == []


def test_event_codes_can_be_mapped_by_the_seller_where_the_default_does_not_know_them(standin):
    adapter = carrier(standin, event_statuses={"RG": TrackingStatus.RETURNED})
    number = adapter.create_shipment(shipment()).tracking_number
    standin.add_event(number, "RG", "Retour à l'expéditeur")
    assert adapter.tracking_events([number])[number][-1].status == TrackingStatus.RETURNED
