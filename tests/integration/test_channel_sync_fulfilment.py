"""Fulfilment out: a shipped order of a connected channel is written back with its carrier and tracking; a
failing write-back is retried with backoff and shows on the sync log, never silent."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.channel_support import KIND, install
from tests.integration.test_dock_world import build_dock, labelled_shipment
from wms.channels import jobs, services
from wms.channels.connectors.base import Unavailable
from wms.channels.models import ChannelFulfilment, ChannelSyncLog
from wms.channels.sync import fulfilments
from wms.db import db, utcnow
from wms.outbound import dock as dock_services

TRACKING = "https://track.example/parcel/{tracking_number}"


def ship(dock, shipment) -> None:  # type: ignore[no-untyped-def]
    for parcel in shipment.parcels:
        dock_services.stage_parcel(dock.warehouse, parcel.sscc, "SHIP-01")
    starts = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    pickup = dock_services.book_pickup(dock.warehouse, "own-fleet", "DOOR-2", starts, starts + dt.timedelta(hours=1))
    dock_services.create_manifest(dock.warehouse, "own-fleet", pickup=pickup)
    dock_services.depart_pickup(pickup)


@pytest.fixture
def shipped(app, session, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    app.config["OWN_FLEET_TRACKING_URL"] = TRACKING
    platform, defers = install(monkeypatch)
    dock = build_dock(make_user)
    services.connect_channel(dock.channel, KIND, platform.base_url, {"key": "good"}, {})
    shipment = labelled_shipment(dock, "A-1", (1200, 800))
    shipment.order.lines[0].channel_line_ref = "line-77"
    session.commit()
    ship(dock, shipment)
    session.commit()
    return platform, defers, dock, shipment


def test_a_shipped_order_is_written_back_with_carrier_tracking_and_its_lines(shipped) -> None:  # type: ignore[no-untyped-def]
    platform, defers, dock, shipment = shipped
    [row] = db.session.scalars(select(ChannelFulfilment)).all()
    assert row.state == "pending" and row.shipment_id == shipment.id
    assert defers.named(fulfilments.TASK) == [{"fulfilment_id": row.id}]   # deferred once the ship committed
    fulfilments.push_fulfilment(row.id)                      # what the job runs
    [sent] = platform.fulfilments
    assert sent.external_id == "A-1" and sent.carrier_code == "own-fleet" and sent.complete
    assert sent.tracking_numbers == tuple(p.tracking_number for p in shipment.parcels)
    assert sent.tracking_url == TRACKING.format(tracking_number=shipment.tracking_number)
    assert [(ln.ref, ln.quantity) for ln in sent.lines] == [("line-77", 2)]
    row = db.session.get(ChannelFulfilment, row.id)
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    fulfilments.push_fulfilment(row.id)                      # run again: nothing sent twice
    assert len(platform.fulfilments) == 1


def test_a_failing_write_back_is_retried_and_visible_until_it_goes_through(shipped) -> None:  # type: ignore[no-untyped-def]
    platform, defers, dock, _shipment = shipped
    platform.fail_fulfilments = 1
    row_id = db.session.scalar(select(ChannelFulfilment.id))
    with pytest.raises(Unavailable):                        # raised: the job engine retries it with backoff
        fulfilments.push_fulfilment(row_id)
    row = db.session.get(ChannelFulfilment, row_id)
    assert row.state == "failed" and row.attempts == 1 and "timed out" in row.last_error
    assert row.next_attempt_at > utcnow()
    log = db.session.scalar(select(ChannelSyncLog).where(ChannelSyncLog.direction == "fulfilment"))
    assert log.ok is False and "timed out" in log.error
    status = services.sync_status(dock.channel)
    assert status.failed_fulfilments == 1 and status.retries == 1

    assert [t for t, _lock, _kw in jobs.due_work(utcnow()) if t == fulfilments.TASK] == []   # not due yet
    due = [kw for task, _lock, kw in jobs.due_work(row.next_attempt_at + dt.timedelta(seconds=1))
           if task == fulfilments.TASK]
    assert due == [{"fulfilment_id": row_id}]                 # the dispatcher's sweep finds it when due

    report = services.sync_now(dock.channel, orders=False, stock=False)
    assert report.fulfilments_sent == 1 and report.ok
    assert db.session.get(ChannelFulfilment, row_id).state == "sent" and len(platform.fulfilments) == 1
    assert services.sync_status(dock.channel).failed_fulfilments == 0


def test_a_channel_without_a_connection_gets_no_write_back(app, session, make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    install(monkeypatch)
    dock = build_dock(make_user)
    shipment = labelled_shipment(dock, "B-1")
    session.commit()
    ship(dock, shipment)
    session.commit()
    assert db.session.scalars(select(ChannelFulfilment)).all() == []
