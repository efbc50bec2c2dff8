"""The channel jobs on the real job engine (procrastinate on the suite's PostgreSQL, a worker drained in-process):
a webhook is answered at once and its order taken in by a job; a stock change is pushed by one debounced job."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from tests.channel_support import KIND, install, webhook
from tests.integration.stock_world import build_world, put
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (fixture)
from wms.channels import jobs as channel_jobs
from wms.channels import services
from wms.channels.connectors.base import WebhookTopic
from wms.channels.sync import stock as stock_sync
from wms.db import db
from wms.enums import StockReason
from wms.orders.models import Channel, ChannelKind, Order
from wms.stock import operations as ops

SECRET = "job-secret"


def _world(app, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    platform, _ = install(monkeypatch, real_jobs=True)
    with app.app_context():
        world = build_world(make_user)
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=world.warehouse.id)
        db.session.add(channel)
        db.session.flush()
        put(world.mug, world.lanes[0], 10)
        services.connect_channel(channel, KIND, platform.base_url, {"key": "good"}, {}, webhook_secret=SECRET)
        platform.add_item("it-mug", "MUG", 0)
        db.session.commit()
        services.import_listings(channel)
        return platform, world.mug.id, world.lanes[0].id


def test_a_webhook_is_answered_then_its_order_taken_in_by_a_job(app, client, jobs, make_user, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    platform, _mug, _lane = _world(app, make_user, monkeypatch)
    platform.add_order("J-1", [("it-mug", 2)])
    body, headers = webhook(platform, SECRET, WebhookTopic.ORDER_CREATED, "J-1", delivery="jd-1")
    assert client.post("/api/v1/channels/SHOP/platform-webhooks", data=body, headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0   # answered before any intake
    drain(app, ["channels"])
    with app.app_context():
        assert db.session.scalars(select(Order.external_id)).all() == ["J-1"]
    assert job_counts(app)[("channels.process_webhook", "succeeded")] == 1


def test_stock_changes_are_pushed_by_one_debounced_job(app, jobs, make_user, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from wms.catalog.models import Product
    from wms.layout.models import Location

    platform, mug_id, lane_id = _world(app, make_user, monkeypatch)
    with app.app_context():
        db.session.commit()
    time.sleep(stock_sync.PUSH_DEBOUNCE_S + 0.2)
    drain(app, ["channels"])                      # the import's first push
    assert platform.qty("it-mug") == 10
    pushes = len(platform.pushes)
    for units in (1, 2, 3):
        with app.app_context():
            ops.change(db.session.get(Product, mug_id), db.session.get(Location, lane_id), units,
                       StockReason.RECEIPT, ops.Actor(), reference="test")
            db.session.commit()
    time.sleep(stock_sync.PUSH_DEBOUNCE_S + 0.2)
    drain(app, ["channels"])
    assert platform.qty("it-mug") == 16
    assert len(platform.pushes) == pushes + 1      # three changes, one push
    assert job_counts(app)[("channels.push_stock", "succeeded")] == 2


def test_the_dispatcher_defers_a_pull_for_a_channel_never_pulled(app, jobs, make_user, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    platform, _mug, _lane = _world(app, make_user, monkeypatch)
    platform.add_order("J-2", [("it-mug", 1)])
    channel_jobs.dispatch(timestamp=0)            # one tick of the periodic task, run as the worker runs it
    assert job_counts(app)[("channels.pull", "todo")] == 1
    channel_jobs.dispatch(timestamp=10)           # the next tick while it waits: not queued twice
    assert job_counts(app)[("channels.pull", "todo")] == 1
    drain(app, ["channels"])
    with app.app_context():
        assert db.session.scalars(select(Order.external_id)).all() == ["J-2"]


def test_a_reconcile_that_fails_leaves_its_listings_dirty_for_the_dispatchers_push(app, jobs, make_user, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from wms.channels.models import ChannelListing
    from wms.jobs import defer

    platform, _mug, _lane = _world(app, make_user, monkeypatch)
    time.sleep(stock_sync.PUSH_DEBOUNCE_S + 0.2)
    drain(app, ["channels"])                      # the import's first push
    assert platform.qty("it-mug") == 10
    platform.items["it-mug"]["qty"] = 3           # someone edited the platform by hand
    platform.fail_pushes = 1                      # and the platform fails the reconcile's push
    with app.app_context():
        channel_id = db.session.scalar(select(Channel.id).where(Channel.code == "SHOP"))
        defer("channels.reconcile", queueing_lock=f"channels.reconcile:{channel_id}", channel_id=channel_id)
    drain(app, ["channels"])
    assert job_counts(app)[("channels.reconcile", "failed")] == 1     # failed once, not retried by the engine
    assert job_counts(app)[("channels.reconcile", "todo")] == 0
    assert platform.qty("it-mug") == 3
    with app.app_context():
        assert db.session.scalars(select(ChannelListing.dirty)).all() == [True]
    channel_jobs.dispatch(timestamp=0)            # the next tick pushes what the reconcile left dirty
    drain(app, ["channels"])
    assert platform.qty("it-mug") == 10
    with app.app_context():
        assert db.session.scalars(select(ChannelListing.dirty)).all() == [False]
