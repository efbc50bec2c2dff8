"""Delivered out: a shipment the carrier delivered is told to a connected platform that can hear it, once, through
the write-back machinery of the shipped state (retried with backoff, visible when it fails); a platform without
the call gets no job. Held / released orders leave a private note where the platform keeps one.

The first tests drive the sync against the connector double (tests/channel_support.py) on the suite's
PostgreSQL, with the after-commit defers recorded as test_channel_sync_fulfilment.py does; one runs the real job
engine (a procrastinate worker drained in-process); the last ones drive each real connector against its
platform's stand-in (requests validated against the platforms' documented shapes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.channel_support import KIND, MemoryConnector, install
from tests.integration.test_channel_sync_fulfilment import TRACKING, ship
from tests.integration.test_dock_world import build_dock, labelled_shipment
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (fixture)
from tests.standins.prestashop import PrestaShopStandIn
from tests.standins.shopify import ShopifyStandIn
from tests.standins.woocommerce import WooCommerceStandIn
from wms.channels import jobs as channel_jobs
from wms.channels import services
from wms.channels.connectors import make_connector
from wms.channels.connectors.base import Delivery, Fulfilment, FulfilmentLine, Unavailable
from wms.channels.models import ChannelFulfilment, ChannelSyncLog
from wms.channels.sync import fulfilments, notes
from wms.db import db, utcnow
from wms.orders import holds
from wms.orders.models import OrderStatus
from wms.outbound import dock as dock_services

T0 = dt.datetime(2026, 12, 3, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def delivered(app, session, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    """A connected channel's order shipped (its shipped write-back not run yet) then a way to deliver it."""
    app.config["OWN_FLEET_TRACKING_URL"] = TRACKING
    platform, defers = install(monkeypatch)
    dock = build_dock(make_user)
    services.connect_channel(dock.channel, KIND, platform.base_url, {"key": "good"}, {})
    shipment = labelled_shipment(dock, "A-1", (1200, 800))
    shipment.order.customer_language = "fr"
    session.commit()
    ship(dock, shipment)
    session.commit()

    def deliver() -> ChannelFulfilment:
        dock_services.mark_delivered(db.session.get(type(shipment), shipment.id), at=utcnow())
        db.session.commit()
        return db.session.scalar(select(ChannelFulfilment))

    return platform, defers, dock, shipment, deliver


def test_a_delivered_shipment_is_told_once_after_its_shipped_write_back(delivered) -> None:  # type: ignore[no-untyped-def]
    platform, defers, _dock, shipment, deliver = delivered
    row_id = db.session.scalar(select(ChannelFulfilment.id))
    fulfilments.push_fulfilment(row_id)                         # shipped told
    assert platform.deliveries == []
    row = deliver()
    assert row.state == "pending" and row.attempts == 0 and row.sent_at is not None
    assert defers.named(fulfilments.TASK)[-1] == {"fulfilment_id": row_id}   # the same job, deferred again
    fulfilments.push_fulfilment(row_id)                         # what the job runs
    fulfilments.push_fulfilment(row_id)                         # again: nothing told twice
    [told] = platform.deliveries
    assert told.external_id == "A-1" and told.order_delivered
    assert told.tracking_numbers == tuple(p.tracking_number for p in shipment.parcels)
    assert told.note.startswith("Livré le ")                    # the customer speaks French
    assert len(platform.fulfilments) == 1
    assert db.session.get(ChannelFulfilment, row_id).state == "sent"


def test_a_failing_delivered_write_back_is_retried_and_visible_until_it_goes_through(delivered) -> None:  # type: ignore[no-untyped-def]
    platform, _defers, dock, _shipment, deliver = delivered
    row_id = db.session.scalar(select(ChannelFulfilment.id))
    fulfilments.push_fulfilment(row_id)
    deliver()
    platform.fail_deliveries = 1
    with pytest.raises(Unavailable):                            # raised: retried like a fulfilment
        fulfilments.push_fulfilment(row_id)
    row = db.session.get(ChannelFulfilment, row_id)
    assert row.state == "failed" and row.attempts == 1 and row.last_error.startswith("delivered: ")
    log = db.session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.direction == "fulfilment")
                             .order_by(ChannelSyncLog.id.desc())).first()
    assert log.ok is False and "timed out" in log.error
    assert services.sync_status(dock.channel).failed_fulfilments == 1
    due = [kw for task, _lock, kw in channel_jobs.due_work(row.next_attempt_at + dt.timedelta(seconds=1))
           if task == fulfilments.TASK]
    assert due == [{"fulfilment_id": row_id}]                   # the dispatcher's sweep finds it when due
    report = services.sync_now(dock.channel, orders=False, stock=False)
    assert report.ok and len(platform.deliveries) == 1 and len(platform.fulfilments) == 1
    assert services.sync_status(dock.channel).failed_fulfilments == 0


def test_delivered_before_the_shipped_write_back_tells_both_in_one_run_and_a_deaf_platform_gets_no_job(
        delivered, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    platform, defers, _dock, shipment, deliver = delivered
    row = deliver()                                             # the shipped write-back has not run yet
    fulfilments.push_fulfilment(row.id)
    assert len(platform.fulfilments) == 1 and len(platform.deliveries) == 1
    assert db.session.get(ChannelFulfilment, row.id).state == "sent"

    monkeypatch.setattr(MemoryConnector, "pushes_delivered", False)   # as Mirakl and Amazon
    before = len(defers.named(fulfilments.TASK))
    assert fulfilments.record_delivered(db.session.get(type(shipment), shipment.id)) is None
    db.session.commit()
    assert db.session.get(ChannelFulfilment, row.id).state == "sent" and len(defers.named(fulfilments.TASK)) == before


def test_a_held_then_released_order_leaves_private_notes_on_a_platform_that_keeps_them(delivered) -> None:  # type: ignore[no-untyped-def]
    platform, defers, dock, _shipment, _deliver = delivered
    order = labelled_shipment(dock, "H-1").order
    order.status = OrderStatus.PICKED                           # still holdable (a hold comes before packing)
    db.session.commit()
    holds.hold(order, "manual", "check the address")
    holds.release(order)
    db.session.commit()
    queued = defers.named(notes.TASK)
    assert [q["order_id"] for q in queued] == [order.id, order.id]
    for q in queued:
        notes.push_note(**q)                                    # what the job runs
    assert platform.notes == [("H-1", "Held in the warehouse (manual): check the address"),
                              ("H-1", "Released in the warehouse: its preparation goes on.")]


def test_on_the_real_job_engine_shipped_then_delivered_are_each_told_once(app, session, jobs, make_user,  # noqa: F811
                                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app.config["OWN_FLEET_TRACKING_URL"] = TRACKING
    platform, _ = install(monkeypatch, real_jobs=True)
    dock = build_dock(make_user)
    services.connect_channel(dock.channel, KIND, platform.base_url, {"key": "good"}, {})
    shipment = labelled_shipment(dock, "J-1")
    session.commit()
    ship(dock, shipment)
    session.commit()
    drain(app, ["channels"])
    assert len(platform.fulfilments) == 1 and platform.deliveries == []
    dock_services.mark_delivered(db.session.get(type(shipment), shipment.id), at=utcnow())
    session.commit()
    drain(app, ["channels"])
    drain(app, ["channels"])                                    # nothing left to run twice
    assert len(platform.deliveries) == 1 and len(platform.fulfilments) == 1
    assert job_counts(app)[(fulfilments.TASK, "succeeded")] == 2


# --- each platform, against its stand-in -------------------------------------------------------------------------
def _delivery(external_id: str, numbers: tuple[str, ...], *, whole: bool = True) -> Delivery:
    return Delivery(external_id=external_id, tracking_numbers=numbers, delivered_at=T0, order_delivered=whole,
                    note="Livré le 2026-12-03 par Colissimo (6A0001).")


def _shipped(external_id: str, ref: str, numbers: tuple[str, ...]) -> Fulfilment:
    return Fulfilment(external_id=external_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=numbers, tracking_url=f"https://www.laposte.fr/outils/suivre-vos-envois?code={numbers[0]}",
                      lines=(FulfilmentLine(ref, 1),), shipped_at=T0)


@pytest.fixture
def woo() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def shopify() -> Iterator[ShopifyStandIn]:
    standin = ShopifyStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def presta() -> Iterator[PrestaShopStandIn]:
    standin = PrestaShopStandIn()
    standin.start()
    yield standin
    standin.stop()
    assert standin.violations == []


def test_woocommerce_hears_delivered_as_one_customer_note_and_holds_as_private_ones(woo) -> None:  # type: ignore[no-untyped-def]
    woo.add_item("MUG", 10)
    oid = woo.checkout("MUG", 1)
    connector = make_connector("woocommerce", woo.connector_config())
    status = woo.order_state(oid)
    connector.push_delivered(_delivery(oid, ("6A0001",)))
    connector.push_delivered(_delivery(oid, ("6A0001",)))       # a retried job
    connector.add_private_note(oid, "Held in the warehouse (supervisor): check the address")
    assert [(n["note"], n["customer_note"]) for n in woo.notes[int(oid)]] == [
        ("Livré le 2026-12-03 par Colissimo (6A0001).", True),
        ("Held in the warehouse (supervisor): check the address", False)]
    assert woo.order_state(oid) == status                      # no status change (completed is set at shipped)


def test_shopify_hears_delivered_as_one_fulfillment_event_on_the_shipments_fulfillment(shopify) -> None:  # type: ignore[no-untyped-def]
    shopify.add_item("MUG", 5)
    external_id = shopify.add_order([("MUG", 1)])
    connector = make_connector("shopify", shopify.connector_config())
    ref = connector.fetch_order(external_id).lines[0].ref
    connector.push_fulfilment(_shipped(external_id, ref, ("6A0001",)))
    connector.push_delivered(_delivery(external_id, ("6A0001",)))
    connector.push_delivered(_delivery(external_id, ("6A0001",)))   # a retried job: DELIVERED already
    assert shopify.fulfillment_events == [(external_id, "DELIVERED")]
    assert shopify.violations == []


def test_prestashop_hears_delivered_as_its_delivered_state_once_the_whole_order_is_delivered(presta) -> None:  # type: ignore[no-untyped-def]
    presta.add_item("MUG", 10)
    oid = presta.checkout("MUG", 2)
    connector = make_connector("prestashop", presta.connector_config())
    ref = connector.fetch_order(oid).lines[0].ref
    connector.push_fulfilment(_shipped(oid, ref, ("6A0001",)))
    connector.push_delivered(_delivery(oid, ("6A0001",), whole=False))   # another shipment still on its way
    assert presta.order_state(oid) == "Shipped"
    connector.push_delivered(_delivery(oid, ("6A0001",)))
    connector.push_delivered(_delivery(oid, ("6A0001",)))               # a retried job
    assert presta.order_state(oid) == "Delivered"
    assert presta.emails_sent == [(oid, "shipped"), (oid, "delivered")]
    assert len(presta.calls_to("/api/order_histories", "POST")) == 2
