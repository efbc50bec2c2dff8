"""The six French carriers wired into the registry from configuration, against their stand-ins on 127.0.0.1:
each one configured is offered with its features and labels a shipment through the registry's carrier; one set
only in part is refused with a message naming what is missing; each has its public tracking page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.test_packing_services import build_pack_world, ctx, pack_all
from tests.standins import chronopost as chrono_standin
from tests.standins import colissimo as colissimo_standin
from tests.standins import dpd_france as dpd_standin
from tests.standins import gls as gls_standin
from tests.standins import sendcloud as sendcloud_standin
from tests.standins.mondial_relay import MondialRelayStandIn, Point
from tests.unit.labels.reading import decode_labels
from wms.db import db
from wms.labels.documents.shipping import Address
from wms.outbound import carriers_registry as registry
from wms.outbound import packing_services as pk
from wms.outbound.carriers_registry.french import CarrierMisconfigured
from wms.outbound.models import Shipment as ShipmentRow
from wms.printing.models import PrintJob
from wms.shipping.carrier_features import Feature
from wms.shipping.carriers import ZPL, Parcel, Party, Shipment

WAREHOUSE = Party(Address("Entrepot Rack-Zone", ("12 rue de l'Industrie",), "69100", "Villeurbanne", "FR"),
                  phone="0478000000", email="expe@rack-zone.fr", company="Rack-Zone SAS")
CUSTOMER = Party(Address("Helene Dupre", ("7 rue de Paris",), "75010", "Paris", "FR"),
                 phone="0612345678", email="helene@example.fr")
DAY = dt.date.today() + dt.timedelta(days=1)
CODES = ["colissimo", "chronopost", "dpd-france", "gls", "mondial-relay", "sendcloud"]


class Standins:
    def __init__(self, stack: ExitStack) -> None:
        self.colissimo = colissimo_standin.ColissimoStandIn().start()
        stack.callback(self.colissimo.stop)
        self.chronopost = stack.enter_context(chrono_standin.ChronopostStandIn())
        self.dpd = stack.enter_context(dpd_standin.DpdFranceStandIn())
        self.gls = stack.enter_context(gls_standin.GlsStandIn())
        mr = MondialRelayStandIn()
        mr.points = {"066974": Point("066974", "Tabac de la Gare", "8 rue de Paris", "75010", "Paris", distance=350)}
        self.mr = stack.enter_context(mr)
        self.sendcloud = stack.enter_context(sendcloud_standin.SendcloudStandIn())

    def config(self) -> dict[str, Any]:
        mr = self.mr
        return {
            "COLISSIMO_CONTRACT_NUMBER": colissimo_standin.CONTRACT, "COLISSIMO_PASSWORD": colissimo_standin.PASSWORD,
            "COLISSIMO_BASE_URL": self.colissimo.sls_url, "COLISSIMO_SUIVI_URL": self.colissimo.suivi_url,
            "COLISSIMO_RELAY_URL": self.colissimo.relay_url, "COLISSIMO_SUIVI_KEY": colissimo_standin.SUIVI_KEY,
            "CHRONOPOST_ACCOUNT_NUMBER": chrono_standin.ACCOUNT, "CHRONOPOST_PASSWORD": chrono_standin.PASSWORD,
            "CHRONOPOST_BASE_URL": self.chronopost.url,
            "DPD_FR_USERID": dpd_standin.USERID, "DPD_FR_PASSWORD": dpd_standin.PASSWORD, "DPD_FR_CENTER_NUMBER": 19,
            "DPD_FR_CUSTOMER_NUMBERS": "classic=123456,predict=654321,relais=654321,return=123456",
            "DPD_FR_BASE_URL": self.dpd.eprint_url, "DPD_FR_PUDO_URL": self.dpd.pudo_url,
            "DPD_FR_PUDO_KEY": "pudo-key",
            "GLS_BASE_URL": self.gls.url, "GLS_USERNAME": gls_standin.USERNAME, "GLS_PASSWORD": gls_standin.PASSWORD,
            "GLS_CONTACT_ID": gls_standin.CONTACT_ID,
            "MONDIAL_RELAY_ENSEIGNE": mr.enseigne, "MONDIAL_RELAY_PRIVATE_KEY": mr.private_key,
            "MONDIAL_RELAY_LOGIN": mr.login, "MONDIAL_RELAY_PASSWORD": mr.password,
            "MONDIAL_RELAY_CUSTOMER_ID": mr.customer_id, "MONDIAL_RELAY_SHIPMENT_URL": f"{mr.url}/api/shipment",
            "MONDIAL_RELAY_SOAP_URL": f"{mr.url}/Web_Services.asmx",
            "SENDCLOUD_PUBLIC_KEY": sendcloud_standin.PUBLIC_KEY, "SENDCLOUD_SECRET_KEY": sendcloud_standin.SECRET_KEY,
            "SENDCLOUD_SHIPPING_OPTION": "colissimo:home", "SENDCLOUD_CONTRACT_ID": "517",
            "SENDCLOUD_BASE_URL": f"{self.sendcloud.url}/api/v3",
            "SENDCLOUD_SERVICE_POINTS_URL": f"{self.sendcloud.url}/sp/api/v2",
        }

    def violations(self) -> list[Any]:
        return [*self.colissimo.violations, *self.chronopost.violations, *self.dpd.violations,
                *self.gls.violations, *self.mr.violations, *self.sendcloud.violations]


@pytest.fixture
def standins() -> Iterator[Standins]:
    with ExitStack() as stack:
        running = Standins(stack)
        yield running
        assert running.violations() == [], "a carrier was sent a request its documented schema refuses"


@pytest.fixture
def configured(app, standins, monkeypatch) -> Iterator[Standins]:  # type: ignore[no-untyped-def]
    for key, value in standins.config().items():
        monkeypatch.setitem(app.config, key, value)
    with app.app_context():
        yield standins


def test_none_of_the_six_is_offered_without_settings(session) -> None:  # type: ignore[no-untyped-def]
    assert registry.carrier_codes() == ["own-fleet", "gs1"]
    assert registry.misconfigured_carriers() == {}
    registry.check_configuration()


def test_each_carrier_configured_is_offered_with_its_features(configured) -> None:  # type: ignore[no-untyped-def]
    assert registry.carrier_codes() == ["own-fleet", "gs1", *CODES]
    registry.check_configuration()
    for code in CODES:
        carrier = registry.carrier_for(code)
        assert carrier.code == code
        assert carrier.features == type(carrier).features and Feature.MULTI_PARCEL in carrier.features
    assert Feature.RELAY in registry.carrier_for("mondial-relay").features
    assert Feature.CUSTOMS in registry.carrier_for("colissimo").features


@pytest.mark.parametrize("code", CODES)
def test_the_registry_carrier_labels_a_simple_shipment(configured, code) -> None:  # type: ignore[no-untyped-def]
    relay = "066974" if code == "mondial-relay" else None
    shipment = Shipment("SO-1042", WAREHOUSE, CUSTOMER, (Parcel(1200, 300, 200, 100),), ship_date=DAY,
                        relay_point_id=relay, value=Decimal("49.90"))
    label = registry.carrier_for(code).create_shipment(shipment)
    assert label.content_type == ZPL and len(label.parcels) == 1 and label.tracking_number
    (page,) = decode_labels(label.label_zpl)
    assert any(label.parcels[0].tracking_number in d.text for d in page), [d.text for d in page]


def test_a_carrier_set_in_part_is_refused_with_what_it_lacks(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "COLISSIMO_CONTRACT_NUMBER", "123456")
    monkeypatch.setitem(app.config, "MONDIAL_RELAY_ENSEIGNE", "BDTEST")
    monkeypatch.setitem(app.config, "MONDIAL_RELAY_LOGIN", "login")
    with app.app_context():
        assert "colissimo" not in registry.carrier_codes()
        missing = registry.misconfigured_carriers()
        assert "COLISSIMO_PASSWORD or COLISSIMO_API_KEY" in missing["colissimo"]
        assert "MONDIAL_RELAY_PRIVATE_KEY" in missing["mondial-relay"]
        assert "MONDIAL_RELAY_CUSTOMER_ID" in missing["mondial-relay"]
        assert "MONDIAL_RELAY_LOGIN" not in missing["mondial-relay"]
        with pytest.raises(CarrierMisconfigured, match="COLISSIMO_PASSWORD or COLISSIMO_API_KEY"):
            registry.check_configuration()
        with pytest.raises(registry.CarrierNotConfigured, match="MONDIAL_RELAY_PASSWORD"):
            registry.carrier_for("mondial-relay")


def test_an_unusable_value_is_refused_readably(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = {"SENDCLOUD_PUBLIC_KEY": "p", "SENDCLOUD_SECRET_KEY": "s", "SENDCLOUD_SHIPPING_OPTION": "x:y",
              "SENDCLOUD_CONTRACT_ID": "five"}
    with pytest.raises(CarrierMisconfigured, match="SENDCLOUD_CONTRACT_ID: 'five' is not usable"):
        registry.check_configuration(config)


def test_each_carrier_has_its_public_tracking_page(configured, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert registry.tracking_url("colissimo", "6A123") == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"
    assert registry.tracking_url("chronopost", "XY1") == (
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XY1")
    assert registry.tracking_url("dpd-france", "250") == "https://trace.dpd.fr/fr/trace/250"
    assert registry.tracking_url("gls", "ZZ 1") == "https://gls-group.com/FR/fr/suivi-colis?match=ZZ%201"
    assert registry.tracking_url("mondial-relay", "123") == (
        "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=123")
    # Sendcloud ships with colissimo:home here: La Poste's page
    assert registry.tracking_url("sendcloud", "6A9") == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A9"
    monkeypatch.setitem(app.config, "GLS_TRACKING_URL", "https://suivi.example/{tracking_number}")
    assert registry.tracking_url("gls", "Z9") == "https://suivi.example/Z9"
    assert registry.tracking_url("gls", None) is None


def pack_and_label(carrier: str, relay_point_id: str | None = None) -> tuple[ShipmentRow, PrintJob]:
    w = build_pack_world(carrier=carrier)
    w.order.relay_point_id = relay_point_id
    db.session.commit()
    shipment = pk.start_packing(w.station, w.tote, ctx(w))
    pack_all(w, shipment)
    pk.finish_packing(shipment, ctx(w))
    db.session.commit()
    row = db.session.get(ShipmentRow, shipment.id)
    assert row is not None and row.carrier_code == carrier and row.tracking_number
    job = db.session.get(PrintJob, row.parcels[0].label_print_job_id)
    assert job is not None and job.printer.code == "PRN-PACK"
    (page,) = decode_labels(job.payload.decode())
    assert any(row.parcels[0].tracking_number in d.text for d in page), [d.text for d in page]
    return row, job


def test_colissimo_pack_label_and_print_job_through_the_registry(configured) -> None:  # type: ignore[no-untyped-def]
    pack_and_label("colissimo")
    (call,) = configured.colissimo.calls_to("/generateLabel")
    letter = json.loads(call.body)["letter"]
    assert letter["sender"]["address"]["zipCode"] == "93200"  # the warehouse (its configured ship-from)
    assert letter["addressee"]["address"]["lastName"] == "Martin"


def test_mondial_relay_pack_to_a_relay_point_label_and_print_job(configured) -> None:  # type: ignore[no-untyped-def]
    pack_and_label("mondial-relay", relay_point_id="066974")
    (call,) = configured.mr.calls_to("/api/shipment")
    body = call.body if isinstance(call.body, bytes) else call.body.encode()
    assert b"066974" in body and b"24R" in body


def test_the_app_refuses_to_start_with_a_carrier_set_in_part(database_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    with pytest.raises(CarrierMisconfigured, match="Chronopost is configured without CHRONOPOST_PASSWORD"):
        make_test_app(database_url, CHRONOPOST_ACCOUNT_NUMBER="12345678")


def test_a_setting_the_adapter_refuses_is_refused_at_start(database_url) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    with pytest.raises(CarrierMisconfigured, match="colissimo: A Colissimo contract number is up to 6 digits"):
        make_test_app(database_url, COLISSIMO_CONTRACT_NUMBER="ABC", COLISSIMO_PASSWORD="x")


def test_settings_come_from_the_environment_too(database_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    monkeypatch.setenv("WMS_SENDCLOUD_PUBLIC_KEY", "pub")
    monkeypatch.setenv("WMS_SENDCLOUD_SECRET_KEY", "sec")
    monkeypatch.setenv("WMS_SENDCLOUD_SHIPPING_OPTION", "gls_fr:standard")
    monkeypatch.setenv("WMS_SENDCLOUD_CONTRACT_ID", "517")  # read as JSON by Flask: the int 517
    app = make_test_app(database_url)
    with app.app_context():
        assert "sendcloud" in registry.carrier_codes()
        assert registry.carrier_for("sendcloud").contract_id == 517
        assert registry.tracking_url("sendcloud", "1Z") == "https://gls-group.com/FR/fr/suivi-colis?match=1Z"
    db.engine(app).dispose()
