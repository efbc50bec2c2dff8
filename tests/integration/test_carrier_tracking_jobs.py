"""Carrier tracking as jobs, on PostgreSQL with the real job engine and the Mondial Relay stand-in on 127.0.0.1:
the dispatcher defers one `shipping.track` job per carrier with shipments in transit; the job stores each event
once, maps the latest status onto the shipment, closes it as delivered (the channel told once) or returned, and a
carrier that fails changes nothing and is kept in the job failures."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import uuid

import psycopg
import pytest
from sqlalchemy import func, select

from tests.integration.test_dock_world import build_dock, labelled_shipment
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (jobs is a fixture)
from tests.standins.mondial_relay import MondialRelayStandIn, Point
from wms.db import db, utcnow
from wms.labels.documents.shipping import Address
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.outbound import carriers_registry, tracking_jobs
from wms.outbound.models import Parcel, Shipment, ShipmentStatus, TrackingEventRecord
from wms.shipping import carriers as shipping
from wms.shipping.carriers import Carrier
from wms.webhooks.models import WebhookEvent

CODE = "mondial-relay"  # the registry's code (wms/outbound/carriers_registry)
FROM = shipping.Party(Address("Rack-zone WMS", ("1 rue du Dépôt",), "93200", "Saint-Denis", "FR"),
                      phone="01 00 00 00 00", email="depot@example.fr")
TO = shipping.Party(Address("Amélie Leçon", ("5 place de l'Église",), "75010", "Paris", "FR"),
                    phone="06 12 34 56 78", email="amelie@example.fr")


@pytest.fixture
def standin():
    # an 8-character Enseigne, as production accounts have: carriers_registry strips its settings, so the test
    # account's padded "BDTEST  " would reach the service as "BDTEST" and be refused (STAT 1)
    mr = MondialRelayStandIn(enseigne="CC20RZ01")
    mr.points = {"066974": Point("066974", "Tabac de la Gare", "8 rue de Paris", "75010", "Paris", distance=350)}
    with mr:
        yield mr
    assert mr.violations == [], "the adapter sent a request the documented schema refuses"


def settings(mr: MondialRelayStandIn, soap_url: str | None = None) -> dict[str, str]:
    return {"MONDIAL_RELAY_ENSEIGNE": mr.enseigne, "MONDIAL_RELAY_PRIVATE_KEY": mr.private_key,
            "MONDIAL_RELAY_LOGIN": mr.login, "MONDIAL_RELAY_PASSWORD": mr.password,
            "MONDIAL_RELAY_CUSTOMER_ID": mr.customer_id, "MONDIAL_RELAY_SHIPMENT_URL": f"{mr.url}/api/shipment",
            "MONDIAL_RELAY_SOAP_URL": soap_url or f"{mr.url}/Web_Services.asmx", "MONDIAL_RELAY_TIMEOUT": "2"}


@pytest.fixture
def carrier(app, session, standin, monkeypatch):  # type: ignore[no-untyped-def]
    """Mondial Relay configured as in production (its settings), pointing at the stand-in."""
    for key, value in settings(standin).items():
        monkeypatch.setitem(app.config, key, value)
    return carriers_registry.carrier_for(CODE)


def shipped(dock, carrier: Carrier, external_id: str, weights=(1200,)) -> Shipment:  # type: ignore[no-untyped-def]
    """An order shipped with Mondial Relay: labels from the stand-in, the truck gone an hour ago."""
    order = Order(channel_id=dock.channel.id, external_id=external_id, content_hash=uuid.uuid4().hex,
                  warehouse_id=dock.warehouse.id, status=OrderStatus.SHIPPED, carrier_code=CODE,
                  ship_to={"name": "Amélie Leçon", "line1": "5 place de l'Église", "postcode": "75010",
                           "city": "Paris", "country": "FR"})
    order.lines = [OrderLine(line_no=1, product_id=dock.product.id, quantity=len(weights), allocated=len(weights),
                             picked=len(weights))]
    db.session.add(order)
    db.session.flush()
    label = carrier.create_shipment(shipping.Shipment(
        external_id, FROM, TO, tuple(shipping.Parcel(w) for w in weights), service="standard",
        ship_date=dt.date.today(), relay_point_id="066974"))
    shipment = Shipment(warehouse_id=dock.warehouse.id, order_id=order.id, carrier_code=CODE,
                        status=ShipmentStatus.SHIPPED, tracking_number=label.tracking_number,
                        labelled_at=utcnow() - dt.timedelta(hours=2), shipped_at=utcnow() - dt.timedelta(hours=1))
    shipment.parcels = [Parcel(seq=i, carrier_code=CODE, weight_g=p.weight_grams, tracking_number=p.tracking_number)
                        for i, p in enumerate(label.parcels, start=1)]
    db.session.add(shipment)
    db.session.commit()
    return shipment


def tick(app) -> None:  # type: ignore[no-untyped-def]
    """What the 15-minute periodic does, then a real worker runs the shipping queue (webhooks are not delivered:
    their receiver is not on loopback; the outbox rows are what we check)."""
    tracking_jobs.defer_due()
    drain(app, queues=[tracking_jobs.QUEUE])


def events_of(shipment_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    return list(db.session.execute(select(TrackingEventRecord.status, TrackingEventRecord.text)
                                   .where(TrackingEventRecord.shipment_id == shipment_id)
                                   .order_by(TrackingEventRecord.at, TrackingEventRecord.id)).all())


def status_webhooks(order_id: int, status: str) -> int:
    return sum(1 for e in db.session.scalars(select(WebhookEvent).where(WebhookEvent.object_key == f"order:{order_id}",
                                                                         WebhookEvent.topic == "order.status_changed"))
               if e.payload["data"]["status"] == status)


def test_a_shipped_parcel_goes_in_transit_then_delivered_and_the_channel_hears_it_once(
        app, session, make_user, jobs, standin, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dock = build_dock(make_user)
    shipment = shipped(dock, carrier, "MR-1")
    number = shipment.parcels[0].tracking_number
    at = utcnow().astimezone(dt.timezone(dt.timedelta(hours=1))).replace(second=0, microsecond=0)
    standin.add_event(number, "Colis enregistré", at - dt.timedelta(minutes=50), stat="80")
    standin.add_event(number, "Pris en charge par Mondial Relay", at - dt.timedelta(minutes=30), "LYON", stat="81")

    tick(app)
    assert job_counts(app)[(tracking_jobs.TASK, "succeeded")] == 1
    assert [s for s, _ in events_of(shipment.id)] == ["label_created", "in_transit"]
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.tracking_status == "in_transit"
    assert shipment.order.status == OrderStatus.SHIPPED and status_webhooks(shipment.order_id, "delivered") == 0

    tick(app)  # the same events read again: nothing new
    assert job_counts(app)[(tracking_jobs.TASK, "succeeded")] == 2
    assert len(events_of(shipment.id)) == 2

    standin.add_event(number, "Colis disponible au Point Relais", at + dt.timedelta(hours=20), "PARIS")
    standin.add_event(number, "Colis livré au destinataire", at + dt.timedelta(hours=26), "PARIS", stat="82")
    tick(app)
    assert [s for s, _ in events_of(shipment.id)] == ["label_created", "in_transit", "at_relay_point", "delivered"]
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.DELIVERED and shipment.tracking_status == "delivered"
    assert shipment.delivered_at == at + dt.timedelta(hours=26)
    assert shipment.order.status == OrderStatus.DELIVERED
    assert status_webhooks(shipment.order_id, "delivered") == 1

    tick(app)  # delivered: not tracked again, told once
    assert job_counts(app)[(tracking_jobs.TASK, "succeeded")] == 3
    assert len(events_of(shipment.id)) == 4 and status_webhooks(shipment.order_id, "delivered") == 1


def test_one_job_tracks_every_shipment_of_the_carrier_each_to_its_own_status(
        app, session, make_user, jobs, standin, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dock = build_dock(make_user)
    delivered, moving = shipped(dock, carrier, "MR-2"), shipped(dock, carrier, "MR-3")
    at = utcnow().replace(second=0, microsecond=0)
    standin.add_event(delivered.parcels[0].tracking_number, "Colis livré au destinataire", at, "PARIS", stat="82")
    standin.add_event(moving.parcels[0].tracking_number, "Pris en charge par Mondial Relay", at, "LYON", stat="81")
    tick(app)
    assert job_counts(app)[(tracking_jobs.TASK, "succeeded")] == 1
    db.session.expire_all()
    assert db.session.get(Shipment, delivered.id).status == ShipmentStatus.DELIVERED
    assert db.session.get(Shipment, moving.id).status == ShipmentStatus.SHIPPED
    assert db.session.get(Shipment, moving.id).tracking_status == "in_transit"


def test_the_dispatcher_defers_one_job_per_carrier_with_tracking_and_shipments_in_transit(
        app, session, make_user, jobs, standin, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dock = build_dock(make_user)
    assert tracking_jobs.defer_due() == []  # nothing shipped yet
    own = labelled_shipment(dock, "OWN-1", status=ShipmentStatus.SHIPPED)
    own.shipped_at = utcnow()
    db.session.commit()
    assert tracking_jobs.defer_due() == []  # the own fleet has no tracking to fetch
    shipped(dock, carrier, "MR-6")
    shipped(dock, carrier, "MR-7")
    assert tracking_jobs.defer_due() == [CODE]
    assert tracking_jobs.defer_due() == [CODE]  # already waiting: the queueing lock keeps one
    assert job_counts(app)[(tracking_jobs.TASK, "todo")] == 1


def test_a_carrier_that_fails_changes_nothing_is_logged_and_kept_in_the_failures_then_the_next_tick_catches_up(
        app, session, make_user, jobs, standin, carrier, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dock = build_dock(make_user)
    shipment = shipped(dock, carrier, "MR-4")
    number = shipment.parcels[0].tracking_number
    standin.add_event(number, "Colis livré au destinataire", utcnow().replace(second=0, microsecond=0), "PARIS",
                      stat="82")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(app.config, "MONDIAL_RELAY_SOAP_URL", f"http://127.0.0.1:{port}/Web_Services.asmx")
    with caplog.at_level(logging.WARNING, logger="wms.tracking"):
        tick(app)
    assert job_counts(app)[(tracking_jobs.TASK, "failed")] == 1
    assert any("tracking of shipments" in r.getMessage() for r in caplog.records)
    with psycopg.connect(jobs) as conn:
        [(error,)] = conn.execute("SELECT error FROM wms_job_failures WHERE task_name = %s",
                                  (tracking_jobs.TASK,)).fetchall()
    assert "did not answer" in error
    assert events_of(shipment.id) == []
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.SHIPPED and shipment.tracking_status is None
    assert shipment.order.status == OrderStatus.SHIPPED

    monkeypatch.setitem(app.config, "MONDIAL_RELAY_SOAP_URL", settings(standin)["MONDIAL_RELAY_SOAP_URL"])
    # the carrier answers again: the next tick is the retry
    tick(app)
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == ShipmentStatus.DELIVERED
    assert status_webhooks(shipment.order_id, "delivered") == 1


def test_a_parcel_sent_back_shows_the_shipment_and_order_returned(
        app, session, make_user, jobs, standin, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    dock = build_dock(make_user)
    shipment = shipped(dock, carrier, "MR-5")
    number = shipment.parcels[0].tracking_number
    at = utcnow().replace(second=0, microsecond=0)
    standin.add_event(number, "Colis disponible au Point Relais", at, "PARIS")
    standin.add_event(number, "Colis non retiré, retour à l'expéditeur", at + dt.timedelta(days=10), "PARIS")
    tick(app)
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.RETURNED and shipment.tracking_status == "returned"
    assert shipment.order.status == OrderStatus.RETURNED
    assert status_webhooks(shipment.order_id, "returned") == 1
    tick(app)
    assert db.session.scalar(select(func.count()).select_from(TrackingEventRecord)
                             .where(TrackingEventRecord.shipment_id == shipment.id)) == 2
