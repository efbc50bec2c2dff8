"""The Mondial Relay adapter against its stand-in on 127.0.0.1 (tests/standins/mondial_relay.py): SOAP relay
point search and tracking checked against the schema of the WSDL written from the documentation, labels through
the Shipment API checked against the request XSD written from the documented one. No database is needed.
What this proves: the adapter sends documented requests and copes with documented answers; not that the real
service behaves as documented."""

from __future__ import annotations

import datetime as dt
import re
import socket
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from tests.standins.mondial_relay import MondialRelayStandIn, Point
from tests.unit.labels import reading
from tests.unit.labels.reading import field_values
from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    Feature,
    FeatureUnsupported,
    RelayPointInvalid,
    TrackingStatus,
)
from wms.shipping.carriers import Parcel, Party, Shipment
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    TrackingNumberInvalid,
)
from wms.shipping.mondial_relay import MondialRelayCarrier
from wms.shipping.mondial_relay.soap import security_key

WAREHOUSE = Party(Address("Entrepôt Rack-Zone", ("12 rue des Écluses",), "69007", "Lyon", "FR"),
                  phone="04 78 00 00 00", email="logistique@example.fr")
CUSTOMER = Party(Address("Amélie Leçon", ("5 place de l'Église", "Bât. C"), "75010", "Paris", "FR"),
                 phone="06 12 34 56 78", email="amelie@example.fr")
DAY = dt.date(2026, 12, 3)
_MISSING = re.compile(r"unsupported embedded font glyph '(.)'")


def decode_labels(zpl: str) -> list[list[reading.Decoded]]:
    """The barcodes of each page; glyphs zplkit's font lacks (ç) are rendered as '?' (Zebra's font 0 has them;
    the literal text is checked on the ZPL fields themselves)."""
    for _ in range(20):
        try:
            return reading.decode_labels(zpl)
        except ValueError as exc:
            missing = _MISSING.search(str(exc))
            if missing is None:
                raise
            zpl = zpl.replace("".join(f"_{b:02X}" for b in missing.group(1).encode()), "_3F")
    raise AssertionError("too many glyphs the renderer lacks")


@pytest.fixture
def standin():
    mr = MondialRelayStandIn()
    mr.points = {
        "066974": Point("066974", "Tabac de la Gare", "8 rue de Paris", "75010", "Paris", distance=350),
        "012345": Point("012345", "Fleurs & Cie", "2 bd Magenta", "75010", "Paris", distance=120,
                        closures=[(dt.date(2026, 12, 20), dt.date(2027, 1, 4))]),
        "020202": Point("020202", "Consigne Gare de l'Est", "Place du 11 novembre", "75010", "Paris",
                        distance=600, activity="LOC", max_grams=20_000),
        "030303": Point("030303", "Boutique sans horaires", "1 rue X", "75010", "Paris", distance=900,
                        hours={}),
    }
    with mr:
        yield mr
    assert mr.violations == [], "the adapter sent a request the documented schema refuses"


def carrier(mr: MondialRelayStandIn, **kwargs) -> MondialRelayCarrier:
    options = {
        "enseigne": mr.enseigne, "private_key": mr.private_key, "login": mr.login, "password": mr.password,
        "customer_id": mr.customer_id, "shipment_url": f"{mr.url}/api/shipment",
        "soap_url": f"{mr.url}/Web_Services.asmx", "proxies": {}, "timeout": 3.0,
        "max_grams_by_activity": {"LOC": 20_000}, **kwargs,
    }
    return MondialRelayCarrier(**options)


def relay_shipment(*parcels: Parcel, point: str = "066974", service: str = "standard", to: Party = CUSTOMER,
                   reference: str = "SO-1042") -> Shipment:
    return Shipment(reference, WAREHOUSE, to, parcels or (Parcel(1200),), service=service, ship_date=DAY,
                    relay_point_id=point, value=Decimal("49.90"))


# --- relay points ------------------------------------------------------------------------------------------



def test_an_enseigne_given_without_its_padding_is_padded_to_8_characters(standin) -> None:  # type: ignore[no-untyped-def]
    assert standin.enseigne == "BDTEST  "
    points = carrier(standin, enseigne="BDTEST").find_relay_points("FR", "75010", limit=1)
    assert len(points) == 1

def test_a_search_by_postcode_lists_points_nearest_first_with_their_opening_hours(standin):
    points = carrier(standin).find_relay_points("FR", "75010", weight_grams=1500, limit=5)
    assert [p.id for p in points] == ["012345", "066974", "020202", "030303"]
    gare = points[1]
    assert gare.name == "Tabac de la Gare" and gare.distance_m == 350
    assert gare.address.street == ("8 rue de Paris",) and gare.latitude == pytest.approx(48.8711706)
    monday = [(h.opens, h.closes) for h in gare.opening_hours if h.weekday == 1]
    assert monday == [("09:00", "12:30"), ("14:00", "19:00")]
    assert not [h for h in gare.opening_hours if h.weekday == 7]
    (call,) = [c for c in standin.calls_to("/Web_Services.asmx", "POST")]
    assert b"Poids>1500</" in call.body and b"Action>24R</" in call.body


def test_a_search_for_a_heavy_parcel_leaves_out_the_lockers_that_cannot_take_it(standin):
    standin.points["020202"].max_grams = 30_000  # even if the carrier answers it, our locker limit applies
    points = carrier(standin).find_relay_points("FR", "75010", weight_grams=25_000)
    assert "020202" not in [p.id for p in points] and "066974" in [p.id for p in points]


def test_the_search_is_signed_with_the_md5_of_the_parameters_and_the_private_key(standin):
    assert security_key({"Enseigne": "BDTEST  ", "Pays": "FR", "CP": "75010"}, "PrivateK") == (
        __import__("hashlib").md5(b"BDTEST  FR75010PrivateK").hexdigest().upper())
    with pytest.raises(CarrierUnavailable, match="STAT 97"):
        carrier(standin, private_key="WrongKey").find_relay_points("FR", "75010")


def test_a_postcode_mondial_relay_does_not_know_is_a_refusal_with_its_stat(standin):
    with pytest.raises(ShipmentRefused, match="STAT 9: Nom de ville non reconnu"):
        carrier(standin).find_relay_points("FR", "99999")


def test_a_relay_point_that_is_open_and_takes_the_weight_passes_the_check(standin):
    point = carrier(standin).check_relay_point("066974", "FR", 5_000, DAY)
    assert point.id == "066974" and point.max_weight_grams == 30_000


@pytest.mark.parametrize(
    ("point", "weight", "day", "reason"),
    [
        ("999999", 1000, DAY, "no relay point 999999"),
        ("012345", 1000, dt.date(2026, 12, 24), "closed from 20/12/2026 to 04/01/2027"),
        ("030303", 1000, DAY, "has no opening hours"),
        ("066974", 31_000, DAY, "takes parcels up to 30 kg"),
        ("020202", 25_000, DAY, "takes parcels up to 20 kg"),
        ("ABC", 1000, DAY, "not a Mondial Relay relay point number"),
    ],
)
def test_a_relay_point_that_is_unknown_closed_or_too_small_is_refused_with_the_reason(
        standin, point, weight, day, reason):
    with pytest.raises(RelayPointInvalid, match=reason):
        carrier(standin).check_relay_point(point, "FR", weight, day)


def test_the_same_point_outside_its_holiday_closure_is_accepted(standin):
    assert carrier(standin).check_relay_point("012345", "FR", 1000, dt.date(2027, 1, 5)).id == "012345"


def test_a_stat_meaning_bad_relay_point_or_service_down_is_mapped(standin):
    standin.next_stat = "70"
    with pytest.raises(RelayPointInvalid, match="STAT 70"):
        carrier(standin).relay_point("066974", "FR")
    standin.next_stat = "98"
    with pytest.raises(CarrierUnavailable, match="STAT 98: Service indisponible"):
        carrier(standin).relay_point("066974", "FR")


# --- labels --------------------------------------------------------------------------------------------------


def test_a_relay_label_is_zpl_whose_barcode_is_the_shipment_number_and_whose_address_prints_as_written(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(relay_shipment())
    assert label.tracking_number == "40000001" and label.service == "24R"
    (page,) = decode_labels(label.label_zpl)
    assert label.tracking_number in {d.text for d in page}
    printed = field_values(label.label_zpl)
    assert "Amélie Leçon" in printed and "5 place de l'Église" in printed
    (sent,) = standin.requests_xml
    ns = {"r": "http://www.example.org/Request"}
    assert sent.find("r:ShipmentsList/r:Shipment/r:DeliveryMode", ns).attrib == {"Mode": "24R",
                                                                                  "Location": "FR-066974"}
    assert sent.find("r:ShipmentsList/r:Shipment/r:CollectionMode", ns).get("Mode") == "CCC"
    assert sent.findtext("r:OutputOptions/r:OutputType", namespaces=ns) == "ZplCode"
    weight = sent.find("r:ShipmentsList/r:Shipment/r:Parcels/r:Parcel/r:Weight", ns)
    assert weight.attrib == {"Value": "1200", "Unit": "gr"}
    assert sent.findtext("r:ShipmentsList/r:Shipment/r:Recipient/r:Address/r:PhoneNo", namespaces=ns) == (
        "+33612345678")
    assert adapter.validate_tracking(label.tracking_number) == "40000001"


def test_a_two_parcel_relay_xl_shipment_prints_one_label_per_parcel_1_2_and_2_2(standin):
    label = carrier(standin).create_shipment(
        relay_shipment(Parcel(8000, 400, 300, 200), Parcel(6500), service="24L"))
    assert len(label.parcels) == 2 and label.service == "24L"
    pages = decode_labels(label.label_zpl)
    assert len(pages) == 2
    assert all(label.tracking_number in {d.text for d in page} for page in pages)
    printed = field_values(label.label_zpl)
    assert "24L 1/2" in printed and "24L 2/2" in printed
    ns = {"r": "http://www.example.org/Request"}
    length = standin.requests_xml[0].find(".//r:Parcel/r:Length", ns)
    assert length.attrib == {"Value": "40", "Unit": "cm"}


def test_multi_parcel_to_a_plain_relay_point_is_refused_as_not_allowed(standin):
    with pytest.raises(ShipmentRefused, match="does not allow this service.*10070"):
        carrier(standin).create_shipment(relay_shipment(Parcel(1000), Parcel(1000)))
    assert standin.parcels == {}


def test_a_home_delivery_goes_as_hom_and_needs_the_phone(standin):
    home = Shipment("SO-7", WAREHOUSE, CUSTOMER, (Parcel(900),))
    assert carrier(standin).create_shipment(home).service == "HOM"
    no_phone = Shipment("SO-8", WAREHOUSE, Party(CUSTOMER.address), (Parcel(900),))
    with pytest.raises(ShipmentRefused, match="needs the recipient phone"):
        carrier(standin).create_shipment(no_phone)
    assert len(standin.calls_to("/api/shipment")) == 1


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"point": "777777"}, RelayPointInvalid, "10073 Location not allowed"),
        ({"to": Party(Address("Jean Nulle", ("1 rue",), "00000", "Nullepart", "FR"), phone="0600000000")},
         ShipmentRefused, "refused an address.*10056"),
    ],
)
def test_documented_refusals_of_the_shipment_api_become_readable_errors_and_nothing_is_created(
        standin, change, error, message):
    with pytest.raises(error, match=message):
        carrier(standin).create_shipment(relay_shipment(**change))
    assert standin.parcels == {}


def test_bad_login_or_customer_id_mean_the_carrier_is_unavailable(standin):
    with pytest.raises(CarrierUnavailable, match="10001 Invalid user"):
        carrier(standin, password="nope").create_shipment(relay_shipment())
    with pytest.raises(CarrierUnavailable, match="10005 Unknown customer Id"):
        carrier(standin, customer_id="ZZ999999").create_shipment(relay_shipment())


def test_server_errors_rate_limits_and_timeouts_mean_the_carrier_is_unavailable(standin):
    adapter = carrier(standin, timeout=1.0)
    standin.fail_next(1, 503, path="/api/shipment")
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        adapter.create_shipment(relay_shipment())
    standin.fail_next(1, 429, path="/api/shipment")
    with pytest.raises(CarrierUnavailable, match="HTTP 429"):
        adapter.create_shipment(relay_shipment())
    standin.delay_next(1, 2.0, path="/api/shipment")
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        adapter.create_shipment(relay_shipment())
    adapter.find_relay_points("FR", "75010")  # loads the WSDL
    standin.fail_next(1, 503, path="/Web_Services.asmx")
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        adapter.find_relay_points("FR", "75010")
    standin.delay_next(1, 2.0, path="/Web_Services.asmx")
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        adapter.relay_point("066974", "FR")


def test_a_carrier_that_does_not_listen_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = MondialRelayCarrier(enseigne="BDTEST", private_key="k", login="l", password="p", customer_id="BDTEST",
                                  shipment_url=f"http://127.0.0.1:{port}/api/shipment",
                                  soap_url=f"http://127.0.0.1:{port}/Web_Services.asmx", proxies={}, timeout=2)
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        adapter.create_shipment(relay_shipment())
    with pytest.raises(CarrierUnavailable, match="did not answer"):
        adapter.find_relay_points("FR", "75010")


def test_a_name_too_long_for_the_label_is_refused_before_calling_the_carrier(standin):
    long_name = Party(Address("A" * 31, ("1 rue",), "75010", "Paris", "FR"), phone="0612345678")
    with pytest.raises(ShipmentRefused, match="at most 30 characters for the recipient name"):
        carrier(standin).create_shipment(relay_shipment(to=long_name))
    assert standin.calls_to("/api/shipment") == []


def test_customs_and_insurance_are_not_offered(standin):
    geneva = Party(Address("Hans", ("1 rue du Rhône",), "1204", "Genève", "CH"), phone="+41221234567")
    with pytest.raises(FeatureUnsupported, match="customs"):
        carrier(standin).create_shipment(Shipment("SO-9", WAREHOUSE, geneva, (Parcel(500),)))
    assert Feature.CUSTOMS not in MondialRelayCarrier.features


def test_the_stand_in_records_a_request_that_breaks_the_documented_schema(standin):
    bad = (b'<?xml version="1.0" encoding="UTF-8"?><ShipmentCreationRequest xmlns="http://www.example.org/Request">'
           b"<Context><Login>x</Login></Context></ShipmentCreationRequest>")
    req = urllib.request.Request(f"{standin.url}/api/shipment", data=bad, method="POST",
                                 headers={"Content-Type": "text/xml"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=5) as resp:
        assert b'Code="99998"' in resp.read()
    soap_bad = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                b'<WSI4_PointRelais_Recherche xmlns="http://www.mondialrelay.fr/webservice/"><Pays>France</Pays>'
                b"</WSI4_PointRelais_Recherche></soap:Body></soap:Envelope>")
    req = urllib.request.Request(f"{standin.url}/Web_Services.asmx", data=soap_bad, method="POST",
                                 headers={"Content-Type": "text/xml"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=5)
    with caught.value as error:
        assert error.code == 500 and b"soap:Client" in error.read()
    assert len(standin.violations) >= 2
    standin.violations.clear()


# --- tracking, returns, the rest -------------------------------------------------------------------------------


def test_tracking_events_are_mapped_to_our_statuses_up_to_delivered(standin):
    adapter = carrier(standin)
    number = adapter.create_shipment(relay_shipment()).tracking_number
    at = dt.datetime(2026, 12, 3, 9, 15)
    standin.add_event(number, "Colis enregistré", at, stat="80")
    standin.add_event(number, "Pris en charge par Mondial Relay", at + dt.timedelta(hours=8), "LYON", stat="81")
    standin.add_event(number, "Colis disponible au Point Relais", at + dt.timedelta(days=2), "PARIS")
    standin.add_event(number, "Colis livré au destinataire", at + dt.timedelta(days=3), "PARIS", stat="82")
    events = adapter.tracking_events([number, "49999999"])
    assert events["49999999"] == []
    assert [e.status for e in events[number]] == [
        TrackingStatus.LABEL_CREATED, TrackingStatus.IN_TRANSIT, TrackingStatus.AT_RELAY_POINT,
        TrackingStatus.DELIVERED]
    first = events[number][0]
    assert first.at.utcoffset() == dt.timedelta(hours=1) and first.text == "Colis enregistré"


def test_a_parcel_sent_back_is_returned(standin):
    adapter = carrier(standin)
    number = adapter.create_shipment(relay_shipment()).tracking_number
    standin.add_event(number, "Colis non retiré, retour à l'expéditeur", dt.datetime(2026, 12, 20, 10, 0),
                      stat="83")
    (event,) = adapter.tracking_events([number])[number]
    assert event.status == TrackingStatus.RETURNED


def test_a_malformed_tracking_number_is_refused_before_calling(standin):
    with pytest.raises(TrackingNumberInvalid, match="8 digits"):
        carrier(standin).tracking_events(["12AB"])


def test_a_return_label_collects_at_a_relay_point_from_the_customer_to_the_warehouse(standin):
    rma = Shipment("RMA-31", CUSTOMER, WAREHOUSE, (Parcel(700),))
    label = carrier(standin).create_return(rma)
    assert label.service == "REL-LCC"
    ns = {"r": "http://www.example.org/Request"}
    (sent,) = standin.requests_xml
    shipment = sent.find("r:ShipmentsList/r:Shipment", ns)
    assert shipment.find("r:CollectionMode", ns).get("Mode") == "REL"
    assert shipment.find("r:DeliveryMode", ns).get("Mode") == "LCC"
    assert shipment.findtext("r:Sender/r:Address/r:Lastname", namespaces=ns) == "Amélie Leçon"
    (page,) = decode_labels(label.label_zpl)
    assert label.tracking_number in {d.text for d in page}


def test_cancel_is_refused_as_the_api_has_none_and_the_manifest_is_our_handover_list(standin):
    adapter = carrier(standin)
    label = adapter.create_shipment(relay_shipment())
    with pytest.raises(CancelRefused, match="no cancellation"):
        adapter.cancel(label.tracking_number)
    manifest = adapter.manifest([label], DAY)
    assert manifest.tracking_numbers == (label.tracking_number,) and manifest.parcel_count == 1


def test_a_warning_from_the_shipment_api_does_not_stop_the_label(standin):
    label = carrier(standin, output_format="10x15").create_shipment(relay_shipment())
    assert label.tracking_number == "40000001"


def test_an_answer_that_is_not_a_shipment_answer_is_unusable_and_nothing_is_returned(standin):
    standin.fail_next(1, 200, path="/api/shipment", body="<html>maintenance</html>")
    with pytest.raises(CarrierResponseInvalid, match="not a shipment answer"):
        carrier(standin).create_shipment(relay_shipment())
    standin.fail_next(1, 200, path="/api/shipment", body="{not xml")
    with pytest.raises(CarrierResponseInvalid, match="not XML"):
        carrier(standin).create_shipment(relay_shipment())
