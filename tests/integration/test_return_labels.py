"""Return labels for RMAs on the embedded SQLite database, through the Flask client, against the Colissimo, Mondial
Relay and Sendcloud stand-ins on 127.0.0.1 configured by their settings: the label is issued from the customer to
the warehouse, stored, printed at the returns zone and downloadable; the carrier's first scan puts the return in
transit and the returns zone still receives it; refusals are readable and write nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select

from tests.conftest import make_test_app
from tests.integration.test_returns_world import World, build_world, counts, shipped_order
from tests.standins import colissimo as colissimo_standin
from tests.standins import sendcloud as sendcloud_standin
from tests.standins.mondial_relay import MondialRelayStandIn
from tests.unit.labels.reading import decode_labels
from wms.auth.models import User
from wms.db import db, utcnow
from wms.dbcli import alembic_config
from wms.enums import PrinterLanguage, PrinterPlace
from wms.outbound import tracking_jobs
from wms.outbound.models import TrackingEventRecord
from wms.printing.models import DocumentKind, Printer, PrintJob
from wms.returns import labels, services
from wms.returns.models import ReturnLabel, ReturnLabelStatus, Rma, RmaStatus
from wms.stock import operations as ops
from wms.webhooks.models import WebhookEvent

ZPL = "application/vnd.zebra.zpl"
# ASCII names: the label reader (zplkit) has no glyph for accented letters in the font the stand-ins print with


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Any:  # type: ignore[no-untyped-def]
    """One SQLite file migrated by the real revisions; each test works on its own copy."""
    path = tmp_path_factory.mktemp("returns-sqlite") / "template.db"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


class Carriers:
    def __init__(self, stack: ExitStack) -> None:
        self.colissimo = colissimo_standin.ColissimoStandIn().start()
        stack.callback(self.colissimo.stop)
        self.mr = stack.enter_context(MondialRelayStandIn())
        self.sendcloud = stack.enter_context(sendcloud_standin.SendcloudStandIn())

    def config(self) -> dict[str, Any]:
        mr = self.mr
        return {
            "COLISSIMO_CONTRACT_NUMBER": colissimo_standin.CONTRACT, "COLISSIMO_PASSWORD": colissimo_standin.PASSWORD,
            "COLISSIMO_BASE_URL": self.colissimo.sls_url, "COLISSIMO_SUIVI_URL": self.colissimo.suivi_url,
            "COLISSIMO_RELAY_URL": self.colissimo.relay_url, "COLISSIMO_SUIVI_KEY": colissimo_standin.SUIVI_KEY,
            "COLISSIMO_TIMEOUT": "3",
            "MONDIAL_RELAY_ENSEIGNE": mr.enseigne, "MONDIAL_RELAY_PRIVATE_KEY": mr.private_key,
            "MONDIAL_RELAY_LOGIN": mr.login, "MONDIAL_RELAY_PASSWORD": mr.password,
            "MONDIAL_RELAY_CUSTOMER_ID": mr.customer_id, "MONDIAL_RELAY_SHIPMENT_URL": f"{mr.url}/api/shipment",
            "MONDIAL_RELAY_SOAP_URL": f"{mr.url}/Web_Services.asmx",
            "SENDCLOUD_PUBLIC_KEY": sendcloud_standin.PUBLIC_KEY, "SENDCLOUD_SECRET_KEY": sendcloud_standin.SECRET_KEY,
            "SENDCLOUD_SHIPPING_OPTION": "colissimo:home", "SENDCLOUD_RETURN_OPTION": "colissimo:return",
            "SENDCLOUD_BASE_URL": f"{self.sendcloud.url}/api/v3",
            "SENDCLOUD_SERVICE_POINTS_URL": f"{self.sendcloud.url}/sp/api/v2",
        }

    def violations(self) -> list[Any]:
        return [*self.colissimo.violations, *self.mr.violations, *self.sendcloud.violations]


@pytest.fixture
def carriers() -> Iterator[Carriers]:
    with ExitStack() as stack:
        running = Carriers(stack)
        yield running
        assert running.violations() == [], "a carrier was sent a request its documented schema refuses"


@pytest.fixture
def app(migrated, tmp_path, carriers) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """Overrides the PostgreSQL app: SQLite, the three carriers configured by their settings."""
    path = tmp_path / "wms.db"
    shutil.copy(migrated, path)
    app = make_test_app(f"sqlite:///{path}", **carriers.config())
    yield app
    db.engine(app).dispose()


@pytest.fixture
def world(app, make_user) -> World:  # type: ignore[no-untyped-def]
    with app.app_context():
        w = build_world(make_user)
        order = shipped_order(w, "O-1", [(w.mug, 2), (w.tea, 1)])
        order.ship_to = {"name": "Amelie Lecon", "line1": "5 place de l'Eglise", "postcode": "75010",
                         "city": "Paris", "country": "FR", "phone": "0612345678", "email": "amelie@example.fr"}
        db.session.add(Printer(warehouse_id=w.warehouse.id, code="PRN-RET", name="Returns desk",
                               place=PrinterPlace.OFFICE, zone_id=w.returns.zone_id,
                               language=PrinterLanguage.ZPL, connection="virtual://returns"))
        rma, _ = services.authorize_return(order, [services.LineRequest(2, "defective", sku="MUG")],
                                           external_id="R-1")
        db.session.commit()
        return w


@pytest.fixture
def api(client, world, make_token, app):  # type: ignore[no-untyped-def]
    with app.app_context():
        raw = make_token("user", user=db.session.get(User, world.receiver.id))
        db.session.commit()
    keys = iter(range(1, 1000))

    def call(method: str, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": f"k-{next(keys)}"}
        return client.open(f"/api/v1/warehouses/WH/returns/RMA000001{path}", method=method, headers=headers,
                           **kwargs)

    return call


def label_of(app) -> ReturnLabel:  # type: ignore[no-untyped-def]
    with app.app_context():
        label = db.session.scalar(select(ReturnLabel))
        assert label is not None
        db.session.expunge(label)
        return label


def assert_printed_with_barcode(app, label_id: int) -> None:  # type: ignore[no-untyped-def]
    """The label's document is queued at the returns zone's printer and its barcode carries the tracking number."""
    with app.app_context():
        label = db.session.get(ReturnLabel, label_id)
        job = db.session.get(PrintJob, label.print_job_id)
        assert job.printer.code == "PRN-RET" and job.document_kind == DocumentKind.CARRIER_LABEL
        assert job.payload == label.document and job.content_type == ZPL
        pages = decode_labels(label.document.decode())
        assert any(label.tracking_number in d.text for page in pages for d in page), pages


def test_a_colissimo_retour_label_is_issued_printed_at_the_returns_zone_and_downloadable(
        app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    r = api("POST", "/labels", json={"carrier": "colissimo"})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["status"] == "issued" and out["carrier"] == "colissimo" and out["tracking_number"].startswith("8R")
    assert out["tracking_url"].endswith(out["tracking_number"])
    assert_printed_with_barcode(app, out["id"])

    (call,) = carriers.colissimo.calls_to("/generateLabel")
    letter = json.loads(call.body)["letter"]
    assert letter["service"]["productCode"] == "CORE"
    assert letter["sender"]["address"]["lastName"].endswith("Lecon")     # from the customer...
    assert letter["addressee"]["address"]["zipCode"] == "93200"          # ...to the warehouse

    doc = api("GET", f"/labels/{out['id']}/document")
    assert doc.status_code == 200 and doc.mimetype == ZPL and b"^XA" in doc.data
    assert f'filename="{out["tracking_number"]}.zpl"' in doc.headers["Content-Disposition"]

    again = api("POST", "/labels", json={"carrier": "colissimo"})
    assert again.status_code == 200 and again.get_json()["id"] == out["id"]
    assert len(carriers.colissimo.calls_to("/generateLabel")) == 1
    listed = api("GET", "/labels").get_json()
    assert [x["id"] for x in listed] == [out["id"]]
    rma = api("GET", "").get_json()
    assert rma["return_labels"][0]["tracking_number"] == out["tracking_number"]
    with app.app_context():
        hook = db.session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "return.updated")
                                  .order_by(WebhookEvent.id.desc())).first()
        assert hook.payload["data"]["return_label"]["tracking_number"] == out["tracking_number"]


def test_a_mondial_relay_return_is_dropped_at_a_relay_point_and_printed(app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    r = api("POST", "/labels", json={"carrier": "mondial-relay", "weight_grams": 900})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert len(out["tracking_number"]) == 8 and out["carrier_reference"] == out["tracking_number"]
    assert_printed_with_barcode(app, out["id"])
    (call,) = carriers.mr.calls_to("/api/shipment")
    assert b'Mode="REL"' in call.body and b'Mode="LCC"' in call.body and b'Value="900"' in call.body


def test_a_sendcloud_return_uses_its_return_option_and_is_printed(app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    r = api("POST", "/labels", json={"carrier": "sendcloud"})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["carrier_reference"] == "1"
    assert_printed_with_barcode(app, out["id"])
    (call,) = carriers.sendcloud.calls_to("/returns/announce-synchronously", "POST")
    body = json.loads(call.body)
    assert body["ship_with"]["shipping_option_code"] == "colissimo:return"
    assert body["from_address"]["postal_code"] == "75010" and body["order_number"] == "RMA000001"


def test_refusals_are_readable_and_write_nothing(app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        before = counts()
    r = api("POST", "/labels", json={"carrier": "gs1"})
    assert r.status_code == 409 and "makes no return labels" in r.get_json()["detail"]
    assert "colissimo, mondial-relay, sendcloud" in r.get_json()["detail"]
    r = api("POST", "/labels", json={"carrier": "chronopost"})
    assert r.status_code == 404 and r.get_json()["type"].endswith("unknown-carrier")
    carriers.colissimo.fail_next(1, 503, path="checkGenerateLabel")
    r = api("POST", "/labels", json={"carrier": "colissimo"})
    assert r.status_code == 503 and r.get_json()["type"].endswith("carrier-unavailable")
    with app.app_context():
        order = db.session.get(Rma, 1).order
        order.ship_to = {**order.ship_to, "postcode": "7501"}
        db.session.commit()
    r = api("POST", "/labels", json={"carrier": "sendcloud"})
    assert r.status_code == 422 and "postal code you provided is invalid" in r.get_json()["detail"]
    with app.app_context():
        order = db.session.get(Rma, 1).order
        order.ship_to = {**order.ship_to, "postcode": "75010"}
        db.session.commit()
    r = api("POST", "/labels", json={"carrier": "colissimo", "printer": "NOPE"})
    assert r.status_code == 404 and "No printer NOPE" in r.get_json()["detail"]
    with app.app_context():
        db.session.get(Printer, db.session.scalar(select(Printer.id))).enabled = False
        db.session.commit()
    r = api("POST", "/labels", json={"carrier": "colissimo"})
    assert r.status_code == 409 and r.get_json()["type"].endswith("no-printer")
    assert carriers.colissimo.calls_to("/generateLabel") == []       # the printer is chosen before the carrier
    with app.app_context():
        assert counts() == before

    assert api("POST", "/labels", json={"carrier": "sendcloud", "print": False}).status_code == 201
    r = api("POST", "/labels", json={"carrier": "colissimo", "print": False})
    assert r.status_code == 409 and "already has a sendcloud label" in r.get_json()["detail"]
    with app.app_context():
        services.cancel_return(services.get_rma(world.warehouse, "RMA000001"))
        for label in db.session.scalars(select(ReturnLabel)):
            db.session.delete(label)
        db.session.commit()
    r = api("POST", "/labels", json={"carrier": "colissimo", "print": False})
    assert r.status_code == 409 and "is cancelled: it gets no return label" in r.get_json()["detail"]


def test_a_cancelled_label_lets_another_carrier_label_the_return(app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    first = api("POST", "/labels", json={"carrier": "mondial-relay", "print": False}).get_json()
    assert first["print_job_id"] is None
    r = api("POST", f"/labels/{first['id']}/cancel")
    assert r.status_code == 403   # a receiver may not; a supervisor may
    with app.app_context():
        rma = services.get_rma(world.warehouse, "RMA000001")
        label, said = labels.cancel_return_label(labels.get_label(rma, first["id"]))
        assert label.status == ReturnLabelStatus.CANCELLED and "no cancellation" in said
        db.session.commit()
    second = api("POST", "/labels", json={"carrier": "colissimo"})
    assert second.status_code == 201 and second.get_json()["id"] != first["id"]


def test_the_carrier_scan_puts_the_return_in_transit_and_the_returns_zone_still_receives_it(
        app, api, world, carriers) -> None:  # type: ignore[no-untyped-def]
    out = api("POST", "/labels", json={"carrier": "colissimo"}).get_json()
    number = out["tracking_number"]
    at = utcnow().replace(microsecond=0) + dt.timedelta(minutes=5)   # the stand-in announced it (DR1) at issue
    with app.app_context():
        assert tracking_jobs.carriers_to_track() == ["colissimo"]
        result = tracking_jobs.track("colissimo")
        assert result.stored == 1 and result.returns_in_transit == []
        assert db.session.get(Rma, 1).status == RmaStatus.AUTHORIZED     # announced only: not moving yet

    carriers.colissimo.add_event(number, "PC1", "Pris en charge par La Poste", at)
    with app.app_context():
        result = tracking_jobs.track("colissimo")
        assert result.stored == 1 and result.returns_in_transit == [1] and result.failures == []
        label = db.session.get(ReturnLabel, out["id"])
        assert label.status == ReturnLabelStatus.IN_TRANSIT and label.tracking_status == "in_transit"
        assert db.session.get(Rma, 1).status == RmaStatus.IN_TRANSIT
        hook = db.session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "return.updated")
                                  .order_by(WebhookEvent.id.desc())).first()
        assert hook.payload["data"]["status"] == "in_transit"
        assert hook.payload["data"]["return_label"]["status"] == "in_transit"

    carriers.colissimo.add_event(number, "DI1", "Votre colis est livré", at + dt.timedelta(hours=20))
    with app.app_context():
        assert tracking_jobs.track("colissimo").returns_in_transit == []
        assert tracking_jobs.track("colissimo").stored == 0                # each event once
        events = list(db.session.scalars(select(TrackingEventRecord).order_by(TrackingEventRecord.at)))
        assert [(e.status, e.return_label_id, e.shipment_id) for e in events] == [
            ("label_created", out["id"], None), ("in_transit", out["id"], None), ("delivered", out["id"], None)]
        assert db.session.get(ReturnLabel, out["id"]).status == ReturnLabelStatus.DELIVERED
        rma = services.get_rma(world.warehouse, "RMA000001", lock=True)
        assert rma.status == RmaStatus.IN_TRANSIT                           # until the returns zone has it
        assert tracking_jobs.carriers_to_track() == []                      # delivered: not asked again
        services.receive_return(rma, [services.LineRequest(2, sku="MUG")], ops.Actor())
        db.session.commit()
        assert db.session.get(Rma, 1).status == RmaStatus.RECEIVED


def test_the_return_page_offers_the_carriers_with_returns_and_shows_the_label(
        app, client, world, sign_in, carriers) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    page = "/warehouses/WH/returns/RMA000001"
    html = client.get(page).get_data(as_text=True)
    for offered in ('value="colissimo"', 'value="mondial-relay"', 'value="sendcloud"'):
        assert offered in html
    assert 'value="gs1"' not in html and 'value="own-fleet"' not in html
    r = client.post(f"{page}/labels", data={"carrier": "sendcloud", "printer": "PRN-RET"})
    assert r.status_code == 302, r.get_data(as_text=True)
    label = label_of(app)
    html = client.get(page).get_data(as_text=True)
    assert label.tracking_number in html and "issued" in html and 'name="carrier"' not in html
    with app.app_context():
        db.session.get(User, world.supervisor.id).locale = "fr"
        db.session.commit()
    french = client.get(page).get_data(as_text=True)
    assert "Étiquette retour" in french and "émise" in french
    doc = client.get(f"{page}/labels/{label.id}/document")
    assert doc.status_code == 200 and doc.mimetype == ZPL and doc.data == label.document
    with app.app_context():
        assert db.session.get(PrintJob, label.print_job_id).printer.code == "PRN-RET"
    r = client.post(f"{page}/labels", data={"carrier": ""})
    assert r.status_code == 422 and "Choisissez le transporteur" in r.get_data(as_text=True)
