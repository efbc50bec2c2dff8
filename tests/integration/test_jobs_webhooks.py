"""Webhook delivery on the job engine: a committed event is delivered by a real worker; a rolled-back one defers
nothing; the sweep catches what a lost defer missed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.integration.test_webhooks import SECRET, Receiver
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (fixture)
from wms.db import db
from wms.layout import services as layout
from wms.orders.models import Channel, ChannelKind
from wms.webhooks import outbox
from wms.webhooks.jobs import DELIVER_TASK
from wms.webhooks.models import WebhookEvent


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    r.up()
    yield r
    r.down()


@pytest.fixture
def channel_id(app, receiver) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                          webhook_url=receiver.url, webhook_secret=SECRET)
        db.session.add(channel)
        db.session.commit()
        return channel.id


def _emit(app, channel_id: int, key: str, *, commit: bool) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        channel = db.session.get(Channel, channel_id)
        outbox.emit(channel, "stock.changed", f"stock:WH:{key}", {"sku": key, "available": 3})
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def test_an_event_emitted_in_a_committed_transaction_is_delivered_by_the_worker(app, jobs, channel_id,  # noqa: F811
                                                                                 receiver) -> None:  # type: ignore[no-untyped-def]
    _emit(app, channel_id, "MUG", commit=True)
    assert job_counts(app) == {(DELIVER_TASK, "todo"): 1}
    assert receiver.received == []
    drain(app)
    assert [e["data"]["sku"] for e in receiver.received] == ["MUG"]
    assert receiver.bad_signatures == 0
    assert job_counts(app) == {(DELIVER_TASK, "succeeded"): 1}
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(WebhookEvent.delivered_at.is_(None))) == 0


def test_a_rolled_back_transaction_defers_nothing(app, jobs, channel_id, receiver) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    _emit(app, channel_id, "MUG", commit=False)
    assert job_counts(app) == {}
    drain(app)
    assert receiver.received == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_many_events_of_one_transaction_defer_one_delivery_job(app, jobs, channel_id, receiver) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        channel = db.session.get(Channel, channel_id)
        for sku in ("MUG", "TEA", "CUP"):
            outbox.emit(channel, "stock.changed", f"stock:WH:{sku}", {"sku": sku})
        db.session.commit()
    assert job_counts(app) == {(DELIVER_TASK, "todo"): 1}
    drain(app)
    assert sorted(e["data"]["sku"] for e in receiver.received) == ["CUP", "MUG", "TEA"]


def test_the_sweep_delivers_an_event_whose_defer_was_lost(app, jobs, channel_id, receiver) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from wms.jobs import defer

    with app.app_context():  # as if the process died between the commit and the defer
        channel = db.session.get(Channel, channel_id)
        db.session.add(WebhookEvent(channel_id=channel.id, topic="stock.changed", object_key="stock:WH:MUG",
                                    payload={"topic": "stock.changed", "data": {"sku": "MUG"}}))
        db.session.commit()
        assert job_counts(app) == {}
        defer("webhooks.sweep", timestamp=0)  # what the periodic deferrer does every 5 s
    drain(app)
    assert [e["data"]["sku"] for e in receiver.received] == ["MUG"]
