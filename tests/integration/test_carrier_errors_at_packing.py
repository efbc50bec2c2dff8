"""Every documented error of each carrier stand-in, met at the end of packing through the pack HTTP API (SQLite,
Flask client): a 4xx problem in the packer's language (French and English) with the carrier's own words kept in
`carrier_detail`, the shipment still packing with no tracking number, no print job, no `packed` webhook; a refusal
of the data holds the order for a supervisor (relay point: `relay_point`), an unreachable carrier does not.

One packed world per carrier (its own copy of one migrated SQLite file); each case changes one thing (a setting,
the order, the stand-in), asks to finish in both languages, and puts it back; the world then labels normally."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.factories import sign_in_client
from tests.integration.test_carrier_registry_wiring import Standins
from tests.integration.test_packing_services import build_pack_world, ctx, pack_all
from tests.standins.base import Bucket
from tests.standins.mondial_relay import Point
from tests.unit.labels.reading import decode_labels, field_values, texts
from wms.db import db
from wms.dbcli import alembic_config
from wms.orders import holds
from wms.orders.models import Order
from wms.outbound import packing_services as pk
from wms.outbound.models import Parcel, Shipment
from wms.printing.models import DocumentKind, PrintJob
from wms.webhooks.models import WebhookEvent

Undo = Callable[[], None]


@dataclass
class World:
    app: Flask
    standins: Standins
    order_id: int
    shipment_id: int
    client: Any


@dataclass(frozen=True)
class Case:
    name: str
    status: int                      # 422: the data refused (order held); 424: the carrier failed (not held)
    slug: str
    setup: Callable[[World], Undo]
    hold: str | None = None          # the hold kind expected after a refusal


# --- what a case changes --------------------------------------------------------------------------------------


def setting(**values: Any) -> Callable[[World], Undo]:
    def apply(w: World) -> Undo:
        old = {k: w.app.config.get(k) for k in values}
        w.app.config.update(values)
        return lambda: w.app.config.update(old)
    return apply


def order(ship_to: dict[str, Any] | None = None, **fields: Any) -> Callable[[World], Undo]:
    def apply(w: World) -> Undo:
        with w.app.app_context():
            row = db.session.get(Order, w.order_id)
            old = {k: getattr(row, k) for k in fields} | {"ship_to": dict(row.ship_to or {})}
            for k, v in fields.items():
                setattr(row, k, v)
            if ship_to is not None:
                row.ship_to = {**row.ship_to, **ship_to}
            db.session.commit()

        def undo() -> None:
            with w.app.app_context():
                row = db.session.get(Order, w.order_id)
                for k, v in old.items():
                    setattr(row, k, v)
                db.session.commit()
        return undo
    return apply


def product(sku_index: int, **fields: Any) -> Callable[[World], Undo]:
    def apply(w: World) -> Undo:
        with w.app.app_context():
            row = sorted(db.session.get(Order, w.order_id).lines, key=lambda ln: ln.line_no)[sku_index].product
            pid = row.id
            old = {k: getattr(row, k) for k in fields}
            for k, v in fields.items():
                setattr(row, k, v)
            db.session.commit()

        def undo() -> None:
            with w.app.app_context():
                from wms.catalog.models import Product
                row = db.session.get(Product, pid)
                for k, v in old.items():
                    setattr(row, k, v)
                db.session.commit()
        return undo
    return apply


def standin(name: str, **attrs: Any) -> Callable[[World], Undo]:
    def apply(w: World) -> Undo:
        target = getattr(w.standins, name)
        old = {k: getattr(target, k) for k in attrs}
        for k, v in attrs.items():
            setattr(target, k, v(getattr(target, k)) if callable(v) else v)
        return lambda: [setattr(target, k, v) for k, v in old.items()] and None
    return apply


def both(*steps: Callable[[World], Undo]) -> Callable[[World], Undo]:
    def apply(w: World) -> Undo:
        undos = [step(w) for step in steps]
        return lambda: [u() for u in reversed(undos)] and None
    return apply


REFUSED, FAILED, CUSTOMS, RELAY = "pack-label-refused", "pack-carrier-failed", "pack-customs-data-missing", \
    "pack-relay-point-invalid"
CARRIER, RELAY_HOLD = holds.HoldKind.CARRIER.value, holds.HoldKind.RELAY_POINT.value
ABROAD = {"line1": "Bahnhofstrasse 1", "postcode": "8001", "city": "Zurich", "country": "CH"}

CASES: dict[str, list[Case]] = {
    "colissimo": [
        Case("identifiers refused (30000)", 424, FAILED, setting(COLISSIMO_PASSWORD="wrong")),
        Case("API key refused (403 Token KO)", 424, FAILED, setting(COLISSIMO_PASSWORD="", COLISSIMO_API_KEY="bad")),
        Case("product not allowed for the contract (30009)", 422, REFUSED,
             standin("colissimo", allowed_products=lambda s: s - {"DOM"}), CARRIER),
        Case("addressee country (30207)", 422, REFUSED, order(ship_to={**ABROAD, "country": "KR",
                                                                        "postcode": "04524", "city": "Seoul"}),
             CARRIER),
        Case("addressee postcode (30211)", 422, REFUSED, order(ship_to={"postcode": "7500"}), CARRIER),
        Case("postcode not served by the product (30213)", 422, REFUSED,
             order(ship_to={"postcode": "97400", "city": "Saint-Denis"}, carrier_service="DOM"), CARRIER),
        Case("pickup point missing (30400)", 422, RELAY, order(carrier_service="A2P"), RELAY_HOLD),
        Case("pickup point unknown (30401)", 422, RELAY, order(relay_point_id="999999"), RELAY_HOLD),
        Case("no mobile number for the pickup point (30220)", 422, REFUSED,
             order(relay_point_id="012345", ship_to={"phone": ""}), CARRIER),
        Case("CN23 data missing (checked before the carrier)", 422, CUSTOMS,
             both(order(ship_to=ABROAD), product(0, hs_code=None, origin_country=None))),
        Case("service unavailable (HTTP 503)", 424, FAILED,
             standin("colissimo", outage_at_label=lambda _: _next_label(WORLD_STANDINS["colissimo"]))),
    ],
    "chronopost": [
        Case("invalid account or password (3)", 424, FAILED, setting(CHRONOPOST_PASSWORD="wrong")),
        Case("recipient postcode refused (33)", 422, REFUSED, order(ship_to={"postcode": "00123"}), CARRIER),
        Case("product outside the contract (33)", 422, REFUSED, setting(CHRONOPOST_PRODUCT_CODE="17"), CARRIER),
        Case("relay point unknown", 422, RELAY, order(relay_point_id="9Z999"), RELAY_HOLD),
        Case("System Error (1)", 424, FAILED, standin("chronopost", system_error_next=1)),
        Case("SOAP fault", 424, FAILED, standin("chronopost", fault_next=("Server", "Internal error"))),
        Case("label that is not a label (skybill cancelled)", 424, FAILED,
             standin("chronopost", broken_label_next=True)),
    ],
    "dpd-france": [
        Case("credentials refused", 424, FAILED, setting(DPD_FR_PASSWORD="wrong")),
        Case("recipient postcode invalid", 422, REFUSED, order(ship_to={"postcode": "00100"}), CARRIER),
        Case("service not open on the contract", 422, REFUSED,
             setting(DPD_FR_CUSTOMER_NUMBERS="classic=654321,predict=654321,relais=654321,return=123456"), CARRIER),
        Case("unknown contract", 422, REFUSED,
             setting(DPD_FR_CUSTOMER_NUMBERS="classic=999999,predict=654321,relais=654321,return=123456"), CARRIER),
        Case("relay unknown", 422, RELAY, order(relay_point_id="P99999"), RELAY_HOLD),
    ],
    "gls": [
        Case("credentials refused (401)", 424, FAILED, setting(GLS_PASSWORD="wrong")),
        Case("rate limit (429)", 424, FAILED, standin("gls", bucket=Bucket(0.001, 0))),
        Case("no routing for the consignee ZIP", 422, REFUSED, order(ship_to={"postcode": "99999"}), CARRIER),
        Case("no matching product (EXPRESS abroad)", 422, REFUSED,
             both(setting(GLS_PRODUCT="EXPRESS"),
                  order(ship_to={"line1": "Rue Neuve 1", "postcode": "1000", "city": "Bruxelles", "country": "BE"})),
             CARRIER),
        Case("unknown shipper ContactID", 422, REFUSED, setting(GLS_CONTACT_ID="2500000002"), CARRIER),
        Case("ParcelShop unknown", 422, RELAY, order(relay_point_id="GLS_FR-2500000000"), RELAY_HOLD),
        Case("ParcelShop not accepting parcels", 422, RELAY, order(relay_point_id="GLS_FR-2500099999"), RELAY_HOLD),
    ],
    "mondial-relay": [
        Case("login or password refused (10001)", 424, FAILED, setting(MONDIAL_RELAY_PASSWORD="wrong")),
        Case("customer id unknown (10005)", 424, FAILED, setting(MONDIAL_RELAY_CUSTOMER_ID="NOPE")),
        Case("relay point unknown (STAT)", 422, RELAY, order(relay_point_id="999999"), RELAY_HOLD),
        Case("relay point too small for the parcel (10034)", 422, REFUSED,
             both(order(relay_point_id="066975"),
                  standin("mr", points=lambda p: {**p, "066975": Point("066975", "Kiosque", "1 rue de Paris", "75010",
                                                                      "Paris", max_grams=100)})), CARRIER),
        Case("no transport plan for the postcode (10056)", 422, REFUSED, order(ship_to={"postcode": "00000"}),
             CARRIER),
        Case("home delivery without a phone (10085)", 422, REFUSED, order(ship_to={"phone": ""}), CARRIER),
        Case("web service STAT 99 on the relay check", 424, FAILED,
             both(order(relay_point_id="066974"), standin("mr", next_stat="99"))),
    ],
    "sendcloud": [
        Case("credentials refused (401)", 424, FAILED, setting(SENDCLOUD_SECRET_KEY="wrong")),
        Case("rate limit (429)", 424, FAILED, standin("sendcloud", rate_limited=1)),
        Case("postal code invalid", 422, REFUSED, order(ship_to={"postcode": "7500"}), CARRIER),
        Case("shipping option not on the contract", 422, REFUSED,
             setting(SENDCLOUD_SHIPPING_OPTION="ups:standard"), CARRIER),
        Case("service point unknown", 422, RELAY, order(relay_point_id="999"), RELAY_HOLD),
        Case("announcement failed at the carrier", 422, REFUSED, standin("sendcloud", fail_announcement_next=True),
             CARRIER),
        Case("no tracking number answered", 424, FAILED, standin("sendcloud", blank_tracking_next=True)),
        Case("label link outside Sendcloud", 424, FAILED, standin("sendcloud", foreign_label_link_next=True)),
    ],
}
STANDIN_OF = {"colissimo": "colissimo", "chronopost": "chronopost", "dpd-france": "dpd", "gls": "gls",
              "mondial-relay": "mr", "sendcloud": "sendcloud"}
WORLD_STANDINS: dict[str, Any] = {}


def _next_label(colissimo: Any) -> int:
    return colissimo._generated + 1


# --- the worlds -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("carrier-errors") / "template.sqlite"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


@pytest.fixture(scope="module")
def running() -> Iterator[Standins]:
    with ExitStack() as stack:
        standins = Standins(stack)
        WORLD_STANDINS.update({code: getattr(standins, attr) for code, attr in STANDIN_OF.items()})
        yield standins
        assert standins.violations() == [], "a carrier was sent a request its documented schema refuses"


def packed_world(code: str, template: Path, standins: Standins, name: str = "") -> World:
    path = template.with_name(f"{name or code}.sqlite")
    shutil.copy(template, path)
    app = make_test_app(f"sqlite:///{path}", **standins.config())
    with app.app_context():
        w = build_pack_world(carrier=code)
        for n, line in enumerate(sorted(w.order.lines, key=lambda ln: ln.line_no)):
            line.product.hs_code, line.product.origin_country = f"6109100{n}", "PT"
            line.product.customs_value = line.product.customs_value or 12
        w.packer.locale = ""  # no language chosen by the person: the device's Accept-Language decides
        db.session.commit()
        shipment = pk.start_packing(w.station, w.tote, ctx(w))
        pack_all(w, shipment)
        db.session.commit()
        client = app.test_client()
        sign_in_client(app, client, w.packer)
        return World(app, standins, w.order.id, shipment.id, client)


def finish(w: World, language: str) -> Any:
    return w.client.post(f"/api/v1/shipments/{w.shipment_id}/finish", json={},
                         headers={"Idempotency-Key": str(uuid.uuid4()), "Accept-Language": language})


def nothing_labelled(w: World) -> None:
    with w.app.app_context():
        shipment = db.session.get(Shipment, w.shipment_id)
        assert shipment.status.value == "packing" and shipment.tracking_number is None
        assert shipment.carrier_reference is None and shipment.labelled_at is None
        assert db.session.scalar(select(func.count()).select_from(Parcel).where(
            Parcel.shipment_id == w.shipment_id, Parcel.tracking_number.is_not(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(PrintJob).where(
            PrintJob.document_kind == DocumentKind.CARRIER_LABEL)) == 0
        assert packed_webhooks(w) == 0


def packed_webhooks(w: World) -> int:
    events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "order.status_changed"))
    return sum(1 for e in events if e.payload["data"].get("status") == "packed")


WORDS = {"fr": ("rien n'a été étiqueté", "Rien n'a été étiqueté"), "en": ("nothing was labelled", "Nothing was labelled")}


@pytest.mark.parametrize("code", list(CASES))
def test_each_documented_carrier_error_reaches_the_packer_readably(code, template, running) -> None:  # type: ignore[no-untyped-def]
    w = packed_world(code, template, running)
    for case in CASES[code]:
        for language in ("fr", "en"):
            undo = case.setup(w)
            try:
                resp = finish(w, language)
            finally:
                undo()
            body = resp.get_json()
            where = f"{code} / {case.name} / {language}: {body}"
            assert resp.status_code == case.status, where
            assert body["type"] == f"/problems/{case.slug}", where
            detail = body["detail"]
            assert any(word in detail for word in WORDS[language]), where
            assert "Traceback" not in detail and "Exception" not in detail and "Error(" not in detail, where
            if case.slug != CUSTOMS:
                assert body["carrier"] == code and body["carrier_detail"], where
                assert body["held"] is (case.hold is not None), where
            nothing_labelled(w)
            with w.app.app_context():
                row = db.session.get(Order, w.order_id)
                assert row.status.value == "picked", where
                assert row.hold_kind == case.hold, where
                if row.hold_kind:
                    holds.release(row)
                    db.session.commit()
    resp = finish(w, "en")  # the same world, with nothing changed, labels: the errors came from the cases
    assert resp.status_code == 200, resp.get_json()
    with w.app.app_context():
        assert db.session.get(Shipment, w.shipment_id).tracking_number
        assert packed_webhooks(w) in (0, 1)
    db.engine(w.app).dispose()


def test_colissimo_outside_the_eu_prints_the_label_and_the_cn23(template, running) -> None:  # type: ignore[no-untyped-def]
    w = packed_world("colissimo", template, running, name="colissimo-cn23")
    with w.app.app_context():
        row = db.session.get(Order, w.order_id)
        row.ship_to = {**row.ship_to, **ABROAD}
        row.currency = "CHF"
        lines = sorted(row.lines, key=lambda ln: ln.line_no)
        lines[0].unit_price = Decimal("19.90")  # the price sold at wins over the catalog's customs value
        expected = [(ln.product.name, ln.product.hs_code, ln.quantity) for ln in lines]
        value = sum(((ln.unit_price or ln.product.customs_value) * ln.quantity for ln in lines), Decimal("0"))
        db.session.commit()
    w.app.config["PACK_INSURED_CARRIERS"] = "colissimo"  # the goods' value insured with this carrier
    try:
        resp = finish(w, "fr")
    finally:
        w.app.config.pop("PACK_INSURED_CARRIERS")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    number = body["tracking_number"]
    (call,) = [c for c in running.colissimo.calls_to("/generateLabel")
               if json.loads(c.body)["letter"]["addressee"]["address"]["countryCode"] == "CH"]
    letter = json.loads(call.body)["letter"]
    articles = letter["customsDeclarations"]["contents"]["article"]
    assert sorted(a["hsCode"] for a in articles) == sorted(hs for _, hs, _ in expected)
    assert letter["customsDeclarations"]["contents"]["category"]["value"] == 3  # sale of goods
    assert letter["parcel"]["insuranceValue"] == int(value * 100)  # euro cents
    assert letter["service"]["productCode"] == "COLI"
    with w.app.app_context():
        shipment = db.session.get(Shipment, w.shipment_id)
        assert shipment.service == "COLI"
        job = db.session.get(PrintJob, shipment.parcels[0].label_print_job_id)
        zpl = job.payload.decode()
    label, cn23 = decode_labels(zpl)
    assert number in texts(label) and number in texts(cn23)
    cn23_zpl = zpl[zpl.index("CN23"):]
    fields = " ".join(field_values(zpl[zpl.rindex("^XA", 0, zpl.index("CN23")):]))
    sold = Decimal("19.90") * expected[0][2]  # a line's value is all its units'
    assert "CN23 CUSTOMS DECLARATION" in fields and f"{sold} CHF" in fields
    for name, hs, quantity in expected:
        assert f"HS {hs}" in fields and f"{quantity} x {name}" in fields
    assert cn23_zpl.count("^XA") == 0  # one page: everything after the title belongs to the CN23 format
    db.engine(w.app).dispose()


def test_a_relay_point_not_checked_lately_is_checked_before_the_label(template, running) -> None:  # type: ignore[no-untyped-def]
    w = packed_world("mondial-relay", template, running, name="mr-relay-check")
    with w.app.app_context():
        row = db.session.get(Order, w.order_id)
        row.relay_point_id, row.relay_checked_at = "066974", None
        db.session.commit()
    soap_calls = len(running.mr.calls_to("/Web_Services.asmx", "POST"))
    resp = finish(w, "en")
    assert resp.status_code == 200, resp.get_json()
    assert len(running.mr.calls_to("/Web_Services.asmx", "POST")) == soap_calls + 1  # WSI4 by its number
    with w.app.app_context():
        row = db.session.get(Order, w.order_id)
        assert row.relay_checked_at is not None and row.hold_kind is None
        assert row.relay_point["id"] == "066974" and row.relay_point["name"] == "Tabac de la Gare"
        assert db.session.get(Shipment, w.shipment_id).service == "24R"
    db.engine(w.app).dispose()
