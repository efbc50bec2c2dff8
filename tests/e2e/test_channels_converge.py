"""Sell everywhere from one stock, end to end on PostgreSQL: four platform stand-ins (PrestaShop, WooCommerce,
Shopify, Mirakl) and the till sell the same SKUs at once, racing for the last units, while a real `wms jobs worker`
subprocess runs the sync and the stand-ins' webhooks reach the WMS over HTTP (tests/channel_race.py).

The oversell window is measured first (a one-unit sale on every origin, the time until every other stand-in shows
the new figure); the buffers are then set by the README's rule for that window; after the race has converged:
every stand-in shows exactly the channel's available-to-promise, no unit was sold beyond stock, every checkout
is one order here, a webhook the platform dropped was caught by the next poll, and the orders shipped through the
WMS show their tracking numbers on their channels.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.channel_race import PLATFORMS, Race, diagnose, ship_orders, summary, wait_until
from tests.jobs_support import jobs  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

GAP_S = 8.0           # each shopper buys a given SKU at most once per GAP_S × (1 − JITTER)
JITTER = 0.1
PER_PLATFORM = 2      # shoppers racing on each stand-in (one more at the till)
RACE_S = 20.0
LEFT_TO_RACE = 12     # units per SKU above the buffer: the channels run out within the race


@pytest.fixture
def race(app, jobs) -> Iterator[Race]:  # noqa: F811  # type: ignore[no-untyped-def]
    world = Race(app, skus=5, stock=30, poll_interval_s=1).start()
    try:
        yield world
        for kind, standin in world.standins.items():
            assert standin.violations == [], (kind, standin.violations)
        assert world.worker is not None and world.worker.alive(), "the job worker died"
    finally:
        world.stop()


def test_four_platforms_and_the_till_race_and_converge_without_overselling(race: Race) -> None:  # noqa: PLR0915
    from wms.channels.models import ChannelDocument
    from wms.db import db
    from wms.orders.models import Order, OrderStatus

    assert race.converge(40) == []                 # the import's first push reached every stand-in
    assert race.available()["woocommerce"]["RACE-1"] == 30

    # 1. The window, measured: a sale on each origin at once; every other stand-in follows.
    probes = race.probe_round()
    assert sorted(p.origin for p in probes) == sorted((*PLATFORMS, "till"))
    assert all(p.window_s is not None for p in probes), [(p.origin, p.per_channel) for p in probes]
    windows = [p.window_s for p in probes if p.window_s is not None]
    print(f"oversell window: {summary(windows)}; per origin "
          + ", ".join(f"{p.origin} {p.window_s:.2f} s" for p in probes if p.window_s is not None))

    # 2. The buffer by the README's rule for the window (the longest seen, at least the polled bound), then enough
    #    stock to race past it.
    buffer = Race.advised_buffer(race.window_bound(probes), shoppers=race.shoppers(PER_PLATFORM), gap_s=GAP_S, jitter=JITTER)
    race.restock(buffer + LEFT_TO_RACE)
    race.set_buffers(buffer)
    assert race.converge(40) == []
    assert {race.shown(kind, "RACE-1") for kind in PLATFORMS} == {LEFT_TO_RACE}

    # 3. WooCommerce and Shopify lose one webhook each; the next poll must bring the order.
    dropped = {}
    for kind in ("woocommerce", "shopify"):
        race.standins[kind].drop_next_webhooks(1)
        sale = race.sell(kind, "RACE-2")
        assert sale is not None
        dropped[kind] = sale.external_id
        assert race.standins[kind].webhooks_sent[-1][1] is None     # never sent

    # 4. The race: every origin buys every SKU; the channels run out while the race goes on.
    result = race.run_shoppers(RACE_S, gap_s=GAP_S, jitter=JITTER, per_platform=PER_PLATFORM)
    left = race.converge(45)
    assert left == [], [*left, *diagnose(race)]
    oversold = race.oversold()
    print(f"race: {len(result.sales)} sales, {result.refused} checkouts refused for want of stock, buffer {buffer}"
          f" units, oversold {oversold}, refused per origin {result.refused_on}")
    print(f"platform limits met: mirakl 429s {race.standins['mirakl'].rate_limited}, shopify THROTTLED"  # type: ignore[attr-defined]
          f" {race.standins['shopify'].throttled}, shopify compare-and-set refusals"  # type: ignore[attr-defined]
          f" {race.standins['shopify'].stale_answers}")  # type: ignore[attr-defined]
    assert oversold == dict.fromkeys(PLATFORMS, 0)
    assert all(result.refused_on.get(kind) for kind in PLATFORMS), result.refused_on   # raced for the last units
    on_platforms = [s for s in result.sales if s.origin != "till"]
    assert {s.origin for s in on_platforms} == set(PLATFORMS)
    available = race.available()
    assert all(available[kind][sku] == race.shown(kind, sku) for kind in PLATFORMS for sku in race.skus)
    assert any(available[kind][sku] == 0 for kind in PLATFORMS for sku in race.skus)   # sold out somewhere

    # Nothing lost, nothing twice (converge() compared every checkout with the orders here); the dropped
    # webhooks' orders came by a pull, with no webhook document of theirs.
    here = race.orders_here()
    assert all(len(ids) == len(set(ids)) for ids in here.values())
    with race.app.app_context():
        for kind, external_id in dropped.items():
            order = db.session.scalar(select(Order).where(Order.channel_id == race.channel_ids[kind],
                                                          Order.external_id == external_id))
            assert order is not None and order.source_document_id is not None
            assert db.session.get(ChannelDocument, order.source_document_id).kind == "order"
            assert db.session.scalar(select(ChannelDocument.id).where(
                ChannelDocument.channel_id == race.channel_ids[kind], ChannelDocument.kind == "webhook",
                ChannelDocument.external_id == external_id)) is None

        # 5. Ship one order of every channel through the WMS; each shows its tracking on its stand-in.
        to_ship = []
        for kind in PLATFORMS:
            external_id = db.session.scalar(select(Order.external_id).where(
                Order.channel_id == race.channel_ids[kind], Order.status == OrderStatus.ALLOCATED)
                .order_by(Order.id).limit(1))
            assert external_id is not None, kind
            to_ship.append((kind, external_id))
    tracking = ship_orders(race, to_ship)
    with race.app.app_context():
        statuses = {kind: db.session.scalar(select(Order.status).where(
            Order.channel_id == race.channel_ids[kind], Order.external_id == ext)) for kind, ext in to_ship}
    assert set(statuses.values()) == {OrderStatus.SHIPPED}

    def written_back() -> bool:
        return all(sorted(race.standins[kind].tracking_of(ext)) == sorted(numbers)  # type: ignore[attr-defined]
                   for (kind, ext), numbers in tracking.items())

    assert wait_until(written_back, 30, step=0.2), {
        kind: (race.standins[kind].tracking_of(ext), tracking[(kind, ext)])  # type: ignore[attr-defined]
        for kind, ext in to_ship}
    assert all(numbers for numbers in tracking.values())
    assert race.converge(30) == []                   # shipping moved no figure out of line


def test_the_dispatcher_ticks_every_ten_seconds() -> None:
    """croniter reads a 6th field as seconds at the end: the dispatcher must tick every 10 s, all day."""
    import datetime as dt

    import croniter

    import wms.channels.jobs  # noqa: F401  (registers the periodic tasks)
    from wms.jobs.engine import job_app

    [dispatch] = [p for p in job_app.periodic_registry.periodic_tasks.values() if p.task.name == "channels.dispatch"]
    ticks = croniter.croniter(dispatch.cron, dt.datetime(2026, 12, 3, 11, 55, 14))
    assert [ticks.get_next(dt.datetime).strftime("%H:%M:%S") for _ in range(4)] == [
        "11:55:20", "11:55:30", "11:55:40", "11:55:50"]


def test_a_failed_push_leaves_no_job_stuck_while_another_push_waits(app, jobs, make_user, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    """A push that fails while the next push of its channel is already queued (a stock change during the push)
    must not stay `doing` for ever holding channel:<id>:stock (a retry would violate the queueing lock)."""
    from tests.integration.test_channel_sync_jobs import _world
    from tests.jobs_support import drain, job_counts
    from wms.channels.sync import stock as stock_sync
    from wms.jobs import defer

    platform, _mug, _lane = _world(app, make_user, monkeypatch)
    with app.app_context():
        from wms.orders.models import Channel

        channel_id = db_channel_id(Channel)
    platform.fail_pushes = 1
    platform.during_push = lambda: defer(stock_sync.PUSH_TASK, queueing_lock=stock_sync.push_lock(channel_id),
                                         channel_id=channel_id)
    drain(app, ["channels"])                      # the import's push fails; the one queued during it runs
    counts = job_counts(app)
    assert counts[("channels.push_stock", "doing")] == 0, counts
    assert counts[("channels.push_stock", "succeeded")] == 1, counts
    assert platform.qty("it-mug") == 10


def db_channel_id(model) -> int:  # type: ignore[no-untyped-def]
    from wms.db import db

    return db.session.scalar(select(model.id).where(model.code == "SHOP"))
