"""Channel sync core on PostgreSQL, driven through an in-memory double of our connector interface
(tests/channel_support.py): available-to-promise, debounced stock pushes, idempotent intake, held orders,
cancellations, fulfilment write-back and the webhook receiver."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text

from tests.channel_support import KIND, T0, install, webhook
from tests.integration.stock_world import build_world, put
from wms.channels import services
from wms.channels.availability import channel_available, promise
from wms.channels.connectors.base import OrderState, WebhookTopic
from wms.channels.models import (
    ChannelDocument,
    ChannelListing,
    ChannelSyncLog,
    HeldChannelOrder,
)
from wms.channels.sync import orders as intake
from wms.channels.sync import stock as stock_sync
from wms.db import db
from wms.enums import StockReason
from wms.orders.models import Channel, ChannelKind, Order, OrderStatus
from wms.stock import operations as ops

SECRET = "shh-webhook-secret"


def receive(product, location, units: int) -> None:  # type: ignore[no-untyped-def]
    """A stock change as the warehouse makes it (ledger, backorders, channels told)."""
    ops.change(product, location, units, StockReason.RECEIPT, ops.Actor(), reference="test")


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def shop(app, session, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    platform, defers = install(monkeypatch)
    world = build_world(make_user)
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=world.warehouse.id)
    db.session.add(channel)
    db.session.flush()
    put(world.mug, world.lanes[0], 10)
    put(world.tea, world.lanes[1], 4)
    services.connect_channel(channel, KIND, platform.base_url, {"key": "good"}, {}, webhook_secret=SECRET)
    platform.add_item("it-mug", "MUG", 0)
    platform.add_item("it-tea", "TEA", 0)
    platform.add_item("it-odd", "NOT-OURS", 3)
    session.commit()

    class Shop:
        pass

    s = Shop()
    s.platform, s.defers, s.world, s.channel = platform, defers, world, channel
    return s


# --- available to promise ------------------------------------------------------------------------------------------

def test_the_promise_takes_buffers_and_cap_and_rounds_against_the_channel() -> None:
    assert promise(10, 2) == 8
    assert promise(10, 2, buffer_units=3) == 5
    assert promise(10, 1, buffer_percent=10) == 8          # 10 % of 9 free is 0.9: one unit held back
    assert promise(10, 0, cap_percent=25) == 2              # a quarter of 10 on hand, rounded down
    assert promise(10, 0, buffer_units=1, cap_percent=50) == 5
    assert promise(3, 3, buffer_units=2) == 0 and promise(0, 0, buffer_percent=100) == 0
    assert promise(2, 5) == 0                                # more reserved than on hand: never negative


def test_a_channel_sells_the_sum_of_its_warehouses_less_its_buffer(shop, session) -> None:  # type: ignore[no-untyped-def]
    w = shop.world
    other_lane = db.session.scalar(select(w.lanes[0].__class__).where(
        w.lanes[0].__class__.warehouse_id == w.other.id).limit(1))
    put(w.mug, other_lane, 6)
    services.connect_channel(shop.channel, KIND, shop.platform.base_url, {"key": "good"}, {}, buffer_units=2,
                             buffer_percent=10, warehouses=[w.warehouse, w.other])
    session.commit()
    # mugs: 16 free, 10 % is 1.6 -> 2 held, and 2 units: 12; tea: 4 free, 0.4 -> 1 held, and 2 units: 1
    assert channel_available(shop.channel, [w.mug.id, w.tea.id]) == {w.mug.id: 12, w.tea.id: 1}
    services.connect_channel(shop.channel, KIND, shop.platform.base_url, {"key": "good"}, {}, cap_percent=50,
                             warehouses=[w.warehouse])
    assert channel_available(shop.channel, [w.mug.id, w.tea.id]) == {w.mug.id: 5, w.tea.id: 2}


# --- stock out -----------------------------------------------------------------------------------------------------

def test_listings_are_mapped_by_sku_on_import_and_the_odd_one_is_listed_unmapped(shop, session) -> None:  # type: ignore[no-untyped-def]
    report = services.import_listings(shop.channel)
    assert (report.seen, report.created, report.mapped, report.unmapped) == (3, 3, 2, 1)
    assert [ln.item_key for ln in services.unmapped_listings(shop.channel)] == ["it-odd"]
    assert services.sync_status(shop.channel).unmapped_listings == 1


def test_stock_changes_mark_listings_dirty_and_one_debounced_push_carries_them(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    services.sync_now(shop.channel, orders=False, fulfilments=False)
    assert (shop.platform.qty("it-mug"), shop.platform.qty("it-tea")) == (10, 4)
    shop.defers.calls.clear()
    shop.defers.waiting.clear()

    receive(shop.world.mug, shop.world.lanes[0], 5)
    session.commit()
    receive(shop.world.mug, shop.world.lanes[2], 1)
    receive(shop.world.tea, shop.world.lanes[1], 1)
    session.commit()
    dirty = db.session.scalars(select(ChannelListing.item_key).where(ChannelListing.dirty.is_(True))
                               .order_by(ChannelListing.item_key)).all()
    assert dirty == ["it-mug", "it-tea"]
    assert shop.defers.named("channels.push_stock") == [{"channel_id": shop.channel.id}]  # once for 3 changes

    before = len(shop.platform.pushes)
    shop.defers.started(stock_sync.push_lock(shop.channel.id))
    stock_sync.push_stock(shop.channel)
    assert len(shop.platform.pushes) == before + 1
    assert {u.item_key: u.quantity for u in shop.platform.pushes[-1]} == {"it-mug": 16, "it-tea": 5}
    assert count(ChannelListing) == 3
    assert db.session.scalar(select(func.count()).select_from(ChannelListing)
                             .where(ChannelListing.dirty.is_(True))) == 0


def test_a_change_during_a_push_keeps_its_listing_dirty_for_the_next_push(shop, app, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    services.sync_now(shop.channel, orders=False, fulfilments=False)
    receive(shop.world.mug, shop.world.lanes[0], 1)
    session.commit()

    def a_sale_meanwhile() -> None:  # another transaction moves stock while the push is on the wire
        def run() -> None:
            with app.app_context():
                receive(db.session.merge(shop.world.mug), db.session.merge(shop.world.lanes[0]), 2)
                db.session.commit()
        t = threading.Thread(target=run)
        t.start()
        t.join()

    shop.platform.during_push = a_sale_meanwhile
    stock_sync.push_stock(shop.channel)
    assert shop.platform.qty("it-mug") == 11            # what was true when the push read it
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.item_key == "it-mug")
                                .execution_options(populate_existing=True))
    assert listing.dirty and listing.last_pushed_qty == 11
    stock_sync.push_stock(shop.channel)
    assert shop.platform.qty("it-mug") == 13


def test_a_compare_and_set_conflict_is_re_read_and_pushed_with_fresh_stock(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    services.sync_now(shop.channel, orders=False, fulfilments=False)
    shop.platform.compare_and_set = True
    shop.platform.items["it-mug"]["qty"] = 7            # a customer bought 3 on the platform meanwhile
    receive(shop.world.mug, shop.world.lanes[0], 2)
    session.commit()
    result = stock_sync.push_stock(shop.channel)
    assert result.conflicts == 1 and result.failed == 0
    assert shop.platform.qty("it-mug") == 12
    assert shop.platform.pushes[-1][0].previous == 7


def test_a_first_push_compares_with_the_quantity_read_at_import_and_a_move_since_is_re_read(shop, session) -> None:  # type: ignore[no-untyped-def]
    shop.platform.compare_and_set = True
    services.import_listings(shop.channel)                 # the platform's quantities are read here
    imported = {ln.item_key: ln.channel_quantity for ln in services.listings(shop.channel)}
    assert None not in (imported["it-mug"], imported["it-tea"])
    shop.platform.items["it-tea"]["qty"] = imported["it-tea"] - 1     # a sale on the platform since the import
    result = stock_sync.push_stock(shop.channel)
    first = {u.item_key: u.previous for u in shop.platform.pushes[0]}
    assert first["it-mug"] == imported["it-mug"]           # no read before the first push: the import's figure
    assert result.conflicts == 1 and result.failed == 0     # the tea moved: re-read, pushed again from what it holds
    assert (shop.platform.qty("it-mug"), shop.platform.qty("it-tea")) == (10, 4)


def test_a_failing_push_keeps_the_listings_dirty_and_is_logged(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.fail_pushes = 1
    report = services.sync_now(shop.channel, orders=False, fulfilments=False)
    assert report.errors and "Unavailable" in report.errors[0]
    assert db.session.scalar(select(func.count()).select_from(ChannelListing).where(
        ChannelListing.dirty.is_(True), ChannelListing.product_id.is_not(None))) == 2
    failed = db.session.scalar(select(ChannelSyncLog).where(ChannelSyncLog.direction == "push",
                                                           ChannelSyncLog.ok.is_(False)))
    assert failed is not None and "503" in failed.error
    assert services.sync_status(shop.channel).consecutive_failures == 1
    services.sync_now(shop.channel, orders=False, fulfilments=False)
    assert shop.platform.qty("it-mug") == 10
    assert services.sync_status(shop.channel).consecutive_failures == 0


def test_a_direction_failing_is_not_hidden_by_another_that_succeeds(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    for _ in range(2):
        shop.platform.fail_pushes = 1
        services.sync_now(shop.channel, orders=False, fulfilments=False)
    services.sync_now(shop.channel, stock=False, fulfilments=False)      # a pull that succeeds meanwhile
    assert services.sync_status(shop.channel).consecutive_failures == 2
    services.sync_now(shop.channel, orders=False, fulfilments=False)     # the third push: the log says 2 before it
    last_push = db.session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.direction == "push")
                                   .order_by(ChannelSyncLog.id.desc())).first()
    assert last_push.ok and last_push.retries == 2
    assert services.sync_status(shop.channel).consecutive_failures == 0


# --- orders in -----------------------------------------------------------------------------------------------------

def test_overlapping_polls_create_one_order_and_keep_its_details(shop, session) -> None:  # type: ignore[no-untyped-def]
    from wms.channels.connectors.base import Address

    services.import_listings(shop.channel)
    shop.platform.add_order("W-1", [("it-mug", 2)], customer_email="ada@example.com", customer_language="fr",
                            shipping_method="Colissimo relais", relay_point_id="RP-042",
                            ship_to=Address("Ada", "3 rue Oberkampf", "75011", "Paris", "FR"))
    shop.platform.add_order("W-2", [("it-tea", 1)], at=T0 + dt.timedelta(minutes=1))
    shop.platform.add_order("W-3", [("it-mug", 1)], at=T0 + dt.timedelta(minutes=2))
    first = services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert first.orders_created == 3
    second = services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert second.orders_seen == 3 and second.orders_created == 0  # the overlap window re-read them
    assert shop.platform.pulls[-1] == T0 + dt.timedelta(minutes=2) - dt.timedelta(seconds=120)
    assert count(Order) == 3
    order = db.session.scalar(select(Order).where(Order.external_id == "W-1"))
    assert (order.customer_email, order.customer_language, order.shipping_method, order.relay_point_id) == (
        "ada@example.com", "fr", "Colissimo relais", "RP-042")
    assert order.ship_to["city"] == "Paris" and order.placed_at == T0
    assert order.lines[0].channel_line_ref == "W-1-1"
    assert db.session.get(ChannelDocument, order.source_document_id).external_id == "W-1"


def test_the_checkpoint_moves_only_when_a_pass_is_complete(shop, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    for i in range(5):
        shop.platform.add_order(f"P-{i}", [("it-mug", 1)], at=T0 + dt.timedelta(minutes=i))
    result = intake.pull_orders(shop.channel, max_pages=1)
    conn = services.connection_of(shop.channel)
    assert not result.complete and conn.order_checkpoint is None and conn.order_cursor == "2"
    result = intake.pull_orders(shop.channel)
    assert result.complete and conn.order_checkpoint == T0 + dt.timedelta(minutes=4) and conn.order_cursor is None
    assert count(Order) == 5


def test_a_replayed_webhook_and_a_poll_of_the_same_order_make_one_order(shop, client, session, app) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.add_order("W-9", [("it-mug", 1)])
    body, headers = webhook(shop.platform, SECRET, WebhookTopic.ORDER_CREATED, "W-9", delivery="d-1")
    for _ in range(2):
        resp = client.post("/api/v1/channels/SHOP/platform-webhooks", data=body, headers=headers)
        assert resp.status_code == 200, resp.get_json()
    assert count(ChannelDocument) == 1
    [job] = [kw for kw in shop.defers.named("channels.process_webhook")]
    intake.process_webhook(job["document_id"])
    intake.process_webhook(job["document_id"])              # a job run twice does it once
    services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.external_id == "W-9")) == 1
    updated = shop.platform.update_order("W-9", T0 + dt.timedelta(minutes=5), customer_email="new@example.com")
    body, headers = webhook(shop.platform, SECRET, WebhookTopic.ORDER_UPDATED, updated.external_id, delivery="d-2")
    assert client.post("/api/v1/channels/SHOP/platform-webhooks", data=body, headers=headers).status_code == 200
    intake.process_webhook(shop.defers.named("channels.process_webhook")[-1]["document_id"])
    order = db.session.scalar(select(Order).where(Order.external_id == "W-9")
                              .execution_options(populate_existing=True))
    assert order.customer_email == "new@example.com" and count(Order) == 1


def test_a_bad_signature_writes_nothing_but_the_log(shop, client, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.add_order("W-5", [("it-mug", 1)])
    body, headers = webhook(shop.platform, "wrong-secret", WebhookTopic.ORDER_CREATED, "W-5", delivery="d-5")
    resp = client.post("/api/v1/channels/SHOP/platform-webhooks", data=body, headers=headers)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"].endswith("webhook-signature-invalid")
    [doc] = db.session.scalars(select(ChannelDocument)).all()
    assert doc.signature_ok is False and doc.outcome == "refused" and doc.delivery_id is None
    assert count(Order) == 0 and shop.defers.named("channels.process_webhook") == []
    log = db.session.scalar(select(ChannelSyncLog).where(ChannelSyncLog.direction == "webhook"))
    assert log.ok is False and "bad signature" in log.error


def test_the_webhook_receiver_is_in_the_openapi_document_without_a_token(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/channels/{channel_code}/platform-webhooks"]["post"]
    assert op["security"] == [] and op["x-raw-body"] is True and "401" in op["responses"]


def test_an_order_for_an_unknown_sku_is_held_then_taken_in_once_mapped(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.add_item("it-new", "MUG-BLUE", 0)
    shop.platform.add_order("W-7", [("it-new", 1), ("it-mug", 1)])
    report = services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert report.orders_held == 1 and count(Order) == 0
    [held] = services.held_orders(shop.channel)
    assert held.reason == "unknown-sku" and "it-new" in held.detail
    assert services.sync_status(shop.channel).held_orders == 1
    services.set_mapping(shop.channel, "it-new", "TEA")
    session.commit()
    assert services.retry_held_orders(shop.channel) == 1
    order = db.session.scalar(select(Order).where(Order.external_id == "W-7"))
    assert sorted(ln.product.sku for ln in order.lines) == ["MUG", "TEA"]
    assert db.session.scalar(select(HeldChannelOrder)).resolved_at is not None
    assert services.sync_status(shop.channel).held_orders == 0


def test_a_cancellation_in_releases_the_order_and_one_in_picking_is_flagged(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.add_order("C-1", [("it-mug", 3)])
    shop.platform.add_order("C-2", [("it-tea", 1)])
    services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert channel_available(shop.channel, [shop.world.mug.id])[shop.world.mug.id] == 7
    picking = db.session.scalar(select(Order).where(Order.external_id == "C-2"))
    picking.status = OrderStatus.PICKING
    session.commit()
    shop.platform.update_order("C-1", T0 + dt.timedelta(minutes=3), state=OrderState.CANCELLED)
    shop.platform.update_order("C-2", T0 + dt.timedelta(minutes=3), state=OrderState.CANCELLED)
    report = services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert report.orders_cancelled == 1
    assert db.session.scalar(select(Order.status).where(Order.external_id == "C-1")) == OrderStatus.CANCELLED
    assert db.session.scalar(select(Order.status).where(Order.external_id == "C-2")) == OrderStatus.PICKING
    assert channel_available(shop.channel, [shop.world.mug.id])[shop.world.mug.id] == 10
    log = db.session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.direction == "pull")
                             .order_by(ChannelSyncLog.id.desc())).first()
    assert "C-2: cancel-refused" in log.detail and log.counts["orders_cancel_refused"] == 1


def test_a_refund_for_an_unknown_order_is_logged_and_writes_nothing(shop, client, session) -> None:  # type: ignore[no-untyped-def]
    body, headers = webhook(shop.platform, SECRET, WebhookTopic.REFUND, "NOPE-1", delivery="r-1")
    assert client.post("/api/v1/channels/SHOP/platform-webhooks", data=body, headers=headers).status_code == 200
    intake.process_webhook(shop.defers.named("channels.process_webhook")[-1]["document_id"])
    assert count(Order) == 0 and count(HeldChannelOrder) == 0
    doc = db.session.scalar(select(ChannelDocument))
    assert doc.outcome == "ignored" and "do not have" in doc.detail


def test_orders_awaiting_acceptance_are_accepted_when_mapped_and_refused_when_not(shop, session) -> None:  # type: ignore[no-untyped-def]
    services.import_listings(shop.channel)
    shop.platform.add_order("M-1", [("it-mug", 1)], state=OrderState.AWAITING_ACCEPTANCE)
    shop.platform.add_order("M-2", [("it-odd", 1)], state=OrderState.AWAITING_ACCEPTANCE)
    services.sync_now(shop.channel, stock=False, fulfilments=False)
    assert sorted(shop.platform.accepted) == [("M-1", True), ("M-2", False)]
    assert db.session.scalars(select(Order.external_id)).all() == ["M-1"]
    assert count(HeldChannelOrder) == 0


def test_stock_read_by_a_connected_channels_token_is_its_promise(shop, client, session) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_channel_order_shipments import channel_token

    services.connect_channel(shop.channel, KIND, shop.platform.base_url, {"key": "good"}, {}, buffer_units=3)
    token = channel_token(shop.channel)
    session.commit()
    resp = client.get("/api/v1/warehouses/WH/stock/MUG", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json()["available"] == 7


def test_test_connection_says_what_the_platform_is_and_logs_a_refusal(shop, session) -> None:  # type: ignore[no-untyped-def]
    from wms.channels.connectors.base import AuthFailed

    assert services.test_connection(shop.channel) == "Memory shop"
    services.connect_channel(shop.channel, KIND, shop.platform.base_url, {"key": "bad"}, {})
    session.commit()
    with pytest.raises(AuthFailed):
        services.test_connection(shop.channel)
    st = services.sync_status(shop.channel)
    assert st.consecutive_failures == 1 and "key refused" in st.last_error
    stored = db.session.execute(text("SELECT credentials_json, webhook_secret FROM channel_connections")).one()
    assert "key" not in stored[0] and SECRET not in stored[1]   # ciphertext only
