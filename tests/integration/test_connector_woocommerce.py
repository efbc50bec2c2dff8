"""The WooCommerce connector against the WooCommerce stand-in (no database): webhooks verified on the raw body,
pulls by modified date with overlap, batched stock, Shipment Tracking write-back, the platform's errors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.standins.woocommerce import WooCommerceStandIn
from wms.channels.connectors import make_connector
from wms.channels.connectors.base import (
    AuthFailed,
    BadPayload,
    ConnectorConfig,
    Fulfilment,
    FulfilmentLine,
    OrderState,
    RateLimited,
    Rejected,
    StockUpdate,
    Unavailable,
    WebhookTopic,
)
from wms.channels.connectors.woocommerce import WooCommerceConnector


class Receiver:
    """Where the stand-in posts its webhooks: keeps each request's headers and raw body, answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/woocommerce"

    def app(self, environ, start_response):  # type: ignore[no-untyped-def]
        req = Request(environ)
        with self.lock:
            self.received.append((dict(req.headers.items()), req.get_data()))
        return Response("", 200)(environ, start_response)

    def last(self) -> tuple[dict[str, str], bytes]:
        with self.lock:
            return self.received[-1]


@pytest.fixture
def shop() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def receiver(shop: WooCommerceStandIn) -> Iterator[Receiver]:
    rec = Receiver()
    shop.webhook_url = rec.url
    yield rec
    rec.server.shutdown()


@pytest.fixture
def woo(shop: WooCommerceStandIn) -> WooCommerceConnector:
    connector = make_connector("woocommerce", shop.connector_config())
    assert isinstance(connector, WooCommerceConnector)
    return connector


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _shipment(order_id: str, numbers: tuple[str, ...], *, complete: bool = True,
              lines: tuple[FulfilmentLine, ...] = ()) -> Fulfilment:
    return Fulfilment(external_id=order_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=numbers, tracking_url=f"https://www.laposte.fr/outils/suivre-vos-envois?code={numbers[0]}",
                      lines=lines, shipped_at=dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC), complete=complete)


# --- webhooks ------------------------------------------------------------------------------------------------
def test_a_signed_order_created_is_verified_on_the_raw_body_and_read_as_our_order(shop, receiver, woo):
    item_key = shop.add_item("TSHIRT-BLUE-44", 3, title="Blue shirt 44")
    order_id = shop.checkout("TSHIRT-BLUE-44", 2, email="camille@example.com", relay_point_id="FR-075123",
                             method_id="mondial_relay", method_title="Mondial Relay point relais")
    headers, body = receiver.last()

    assert woo.verify_webhook(headers, body)
    call = woo.read_webhook(headers, body)
    assert call.topic is WebhookTopic.ORDER_CREATED
    assert call.external_id == order_id and call.order is not None
    order = call.order
    assert order.state is OrderState.OPEN
    assert [(li.item_key, li.sku, li.quantity) for li in order.lines] == [(item_key, "TSHIRT-BLUE-44", 2)]
    assert order.customer_email == "camille@example.com"
    assert order.relay_point_id == "FR-075123"
    assert order.shipping_method == "Mondial Relay point relais"
    assert order.ship_to is not None and order.ship_to.country == "FR" and order.ship_to.postcode == "69003"
    assert order.updated_at.tzinfo is not None
    assert shop.stock_of("TSHIRT-BLUE-44") == 1


def test_the_same_json_serialised_another_way_fails_the_signature(shop, receiver, woo):
    shop.add_item("MUG", 5)
    shop.checkout("MUG", 1)
    headers, body = receiver.last()
    respaced = json.dumps(json.loads(body), indent=1).encode()

    assert woo.verify_webhook(headers, body)
    assert not woo.verify_webhook(headers, respaced)


def test_a_forged_webhook_is_refused(shop, receiver, woo):
    shop.add_item("MUG", 5)
    shop.checkout("MUG", 1)
    shop.send_forged_webhook()
    headers, body = receiver.last()

    assert headers["X-Wc-Webhook-Signature"]
    assert not woo.verify_webhook(headers, body)


def test_an_unsigned_webhook_is_refused_and_only_the_ping_passes_unsigned(shop, receiver, woo):
    shop.add_item("MUG", 5)
    shop.checkout("MUG", 1)
    headers, body = receiver.last()
    unsigned = {k: v for k, v in headers.items() if k.lower() != "x-wc-webhook-signature"}
    assert not woo.verify_webhook(unsigned, body)

    shop.send_ping()
    headers, body = receiver.last()
    assert body == b"webhook_id=7"
    assert woo.verify_webhook(headers, body)
    call = woo.read_webhook(headers, body)
    assert call.topic is WebhookTopic.PING and call.order is None


def test_a_connector_without_webhook_secret_refuses_every_signed_webhook(shop, receiver):
    shop.add_item("MUG", 5)
    shop.checkout("MUG", 1)
    headers, body = receiver.last()
    config = shop.connector_config()
    no_secret = WooCommerceConnector(ConnectorConfig(config.base_url, {
        "consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret}))
    assert not no_secret.verify_webhook(headers, body)


def test_a_replayed_webhook_has_the_same_delivery_id_and_two_orders_in_one_second_do_not(shop, receiver, woo):
    shop.add_item("MUG", 5)
    shop.checkout("MUG", 1)
    shop.replay_last_webhook()
    first, replay = receiver.received[-2], receiver.received[-1]
    assert woo.read_webhook(*first).delivery_id == woo.read_webhook(*replay).delivery_id

    a, b = shop.checkout("MUG", 1), shop.checkout("MUG", 1)
    calls = [woo.read_webhook(h, body) for h, body in receiver.received[-2:]]
    assert [c.external_id for c in calls] == [a, b]
    # WooCommerce's delivery id is a hash of (webhook id, second): it repeats within one second; ours does not
    assert calls[0].delivery_id != calls[1].delivery_id


def test_a_signed_body_that_is_not_json_is_a_bad_payload(shop, woo):
    body = b'{"id": 12, "status": "processing", '
    headers = {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Resource": "order",
               "X-WC-Webhook-Signature": _sign(shop.webhook_secret, body), "X-WC-Webhook-Delivery-ID": "d1"}
    assert woo.verify_webhook(headers, body)
    with pytest.raises(BadPayload):
        woo.read_webhook(headers, body)


def test_a_signed_order_missing_its_fields_is_a_bad_payload(shop, woo):
    body = json.dumps({"id": 12, "status": "processing", "line_items": [{"id": 1, "quantity": "two"}]}).encode()
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": _sign(shop.webhook_secret, body)}
    assert woo.verify_webhook(headers, body)
    with pytest.raises(BadPayload):
        woo.read_webhook(headers, body)


def test_a_cancellation_comes_as_order_updated_and_reads_as_cancelled(shop, receiver, woo):
    shop.add_item("MUG", 2)
    order_id = shop.checkout("MUG", 2)
    assert shop.stock_of("MUG") == 0
    shop.cancel(order_id)
    headers, body = receiver.last()

    assert headers["X-Wc-Webhook-Topic"] == "order.updated"
    call = woo.read_webhook(headers, body)
    assert call.topic is WebhookTopic.ORDER_CANCELLED and call.order.state is OrderState.CANCELLED
    assert shop.stock_of("MUG") == 2   # WooCommerce puts cancelled stock back


def test_a_deleted_order_carries_only_its_id(shop, receiver, woo):
    shop.add_item("MUG", 2)
    order_id = shop.checkout("MUG", 1)
    shop.delete_order(order_id)
    call = woo.read_webhook(*receiver.last())
    assert call.topic is WebhookTopic.ORDER_CANCELLED and call.external_id == order_id and call.order is None
    assert woo.fetch_order(order_id) is None


def test_a_product_webhook_is_other(shop, woo):
    body = json.dumps({"id": 5, "name": "Mug"}).encode()
    headers = {"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Resource": "product",
               "X-WC-Webhook-Signature": _sign(shop.webhook_secret, body)}
    assert woo.read_webhook(headers, body).topic is WebhookTopic.OTHER


# --- pulling orders -------------------------------------------------------------------------------------------
def _pull_all(woo: WooCommerceConnector, since: dt.datetime | None, between=None) -> list[str]:  # type: ignore[no-untyped-def]
    ids, cursor, pages = [], None, 0
    while True:
        page = woo.pull_orders(since, cursor)
        ids += [o.external_id for o in page.orders]
        pages += 1
        if between is not None and pages == 1:
            between()
        if page.cursor is None:
            return ids
        cursor = page.cursor


def test_a_pull_rereads_the_overlap_before_the_checkpoint_to_the_second_and_nothing_older(shop, woo):
    shop.add_item("MUG", 10)
    checkpoint = dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=dt.UTC)
    overlap = dt.timedelta(seconds=woo.overlap_s)
    older, edge, in_overlap, newer = (shop.checkout("MUG", 1) for _ in range(4))
    shop.modify_order(older, at=checkpoint - overlap - dt.timedelta(seconds=1), send=False)
    shop.modify_order(edge, at=checkpoint - overlap, send=False)
    shop.modify_order(in_overlap, at=checkpoint - dt.timedelta(seconds=30), send=False)
    shop.modify_order(newer, at=checkpoint + dt.timedelta(minutes=3), send=False)

    assert _pull_all(woo, checkpoint) == [edge, in_overlap, newer]
    query = shop.calls_to("/wc/v3/orders", "GET")[-1].query
    assert query["modified_after"] == [(checkpoint - overlap - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")]
    assert query["dates_are_gmt"] == ["true"]
    assert query["orderby"] == ["modified"] and query["order"] == ["asc"] and query["per_page"] == ["100"]


def test_paging_never_loses_an_order_modified_while_the_pages_are_read(shop, woo):
    shop.add_item("MUG", 1000)
    start = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    ids = [shop.checkout("MUG", 1) for _ in range(150)]
    for n, oid in enumerate(ids):
        shop.modify_order(oid, at=start + dt.timedelta(seconds=n), send=False)

    seen = _pull_all(woo, start, between=lambda: shop.modify_order(ids[10], send=False, customer_note="gift"))

    assert set(seen) == set(ids)        # page numbers alone would have skipped the order that slid into page 1
    assert seen.count(ids[10]) == 2     # read before and after its change (idempotent by order id)


def test_a_dropped_webhook_is_caught_by_the_next_poll(shop, receiver, woo):
    shop.add_item("MUG", 10)
    before = dt.datetime.now(dt.UTC)
    shop.drop_next_webhooks(1)
    lost = shop.checkout("MUG", 1)
    assert receiver.received == [] and shop.webhooks_sent[-1][1] is None
    assert lost in _pull_all(woo, before)


def test_the_first_import_pages_through_the_open_orders_only(shop, woo):
    shop.add_item("MUG", 1000)
    start = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    ids = [shop.checkout("MUG", 1) for _ in range(130)]
    for n, oid in enumerate(ids):
        shop.modify_order(oid, at=start + dt.timedelta(seconds=n), send=False,
                          status="completed" if n % 10 == 0 else "processing")
    seen = _pull_all(woo, None, between=lambda: shop.modify_order(ids[5], send=False, status="completed"))
    assert set(seen) == {oid for n, oid in enumerate(ids) if n % 10}


def test_a_pull_without_checkpoint_reads_the_open_orders(shop, woo):
    shop.add_item("MUG", 10)
    kept, closed = shop.checkout("MUG", 1), shop.checkout("MUG", 1)
    shop.modify_order(closed, status="completed", send=False)
    assert _pull_all(woo, None) == [kept]
    assert shop.calls_to("/wc/v3/orders", "GET")[-1].query["status"] == ["pending,processing,on-hold"]


def test_statuses_map_to_our_states(shop, woo):
    shop.add_item("MUG", 10)
    order_id = shop.checkout("MUG", 1)
    expected = {"pending": OrderState.PENDING_PAYMENT, "on-hold": OrderState.PENDING_PAYMENT,
                "failed": OrderState.PENDING_PAYMENT, "processing": OrderState.OPEN,
                "cancelled": OrderState.CANCELLED, "refunded": OrderState.CANCELLED, "trash": OrderState.CANCELLED,
                "completed": OrderState.CLOSED}
    for status, state in expected.items():
        shop.modify_order(order_id, status=status, send=False)
        assert woo.fetch_order(order_id).state is state, status


def test_an_unknown_order_is_none(woo):
    assert woo.fetch_order("999999") is None
    assert woo.fetch_order("not-a-number") is None


# --- stock ----------------------------------------------------------------------------------------------------
def test_stock_goes_in_batches_of_at_most_100_with_variations_on_their_own_endpoint(shop, woo):
    keys = {f"SKU-{n}": shop.add_item(f"SKU-{n}", 0) for n in range(230)}
    keys |= {f"SHIRT-{s}": shop.add_variation("Shirt", f"SHIRT-{s}", 0, option=s) for s in ("S", "M", "L")}
    updates = [StockUpdate(key, sku, n % 7) for n, (sku, key) in enumerate(keys.items())]
    updates += [StockUpdate("99999", "GHOST", 3), StockUpdate("not-a-key", "BAD", 1)]

    results = woo.push_stock(updates)

    assert [r.item_key for r in results] == [u.item_key for u in updates]
    assert all(r.ok for r in results[:-2])
    assert not results[-2].ok and "invalid_id" in results[-2].error
    assert not results[-1].ok
    for n, (sku, _key) in enumerate(keys.items()):
        assert shop.stock_of(sku) == n % 7
    product_batches = shop.calls_to("/wc/v3/products/batch", "POST")
    variation_batches = shop.calls_to("/variations/batch", "POST")
    assert [len(json.loads(c.body)["update"]) for c in product_batches] == [100, 100, 31]
    assert [len(json.loads(c.body)["update"]) for c in variation_batches] == [3]
    assert all(u["manage_stock"] is True for c in product_batches for u in json.loads(c.body)["update"])
    listed = {i.item_key: i.quantity for i in woo.list_items()}     # 3 pages of products, 1 of variations
    assert listed == {key: n % 7 for n, key in enumerate(keys.values())}


def test_a_batch_the_host_redirects_is_reported_failed_not_sent_again_as_a_get(shop, woo):
    key = shop.add_item("MUG", 4)
    shop.redirect_next("/products/batch")
    [result] = woo.push_stock([StockUpdate(key, "MUG", 1)])
    assert not result.ok and "301" in result.error
    assert shop.stock_of("MUG") == 4 and shop.calls_to("/products/batch", "GET") == []


def test_list_items_gives_products_and_variations_with_their_keys(shop, woo):
    mug = shop.add_item("MUG", 4, title="Mug")
    small = shop.add_variation("Shirt", "SHIRT-S", 2, option="S")
    items = {i.item_key: i for i in woo.list_items()}
    assert items[mug].sku == "MUG" and items[mug].quantity == 4
    assert items[small].sku == "SHIRT-S" and items[small].quantity == 2 and ":" in small
    assert len(items) == 2   # the variable parent itself is not sold


# --- fulfilment ------------------------------------------------------------------------------------------------
def test_a_shipment_writes_its_tracking_and_completes_the_order_once(shop, receiver, woo):
    shop.add_item("MUG", 4)
    order_id = shop.checkout("MUG", 2)
    shipment = _shipment(order_id, ("6A123", "6A124"))

    woo.push_fulfilment(shipment)
    woo.push_fulfilment(shipment)     # a retried job: nothing is written twice

    assert shop.tracking_of(order_id) == ["6A123", "6A124"]
    assert shop.order_state(order_id) == "completed"
    shop.wait_for_webhooks()
    completed = [woo.read_webhook(h, b) for h, b in receiver.received if h["X-Wc-Webhook-Topic"] == "order.updated"]
    assert [c.order.state for c in completed] == [OrderState.CLOSED]
    posted = [json.loads(c.body) for c in shop.calls_to("/shipment-trackings", "POST")]
    assert posted[0]["custom_tracking_provider"] == "Colissimo" and posted[0]["date_shipped"] == "2026-12-02"
    assert posted[1]["custom_tracking_link"].endswith("code=6A124")
    assert len(shop.calls_to(f"/orders/{order_id}", "PUT")) == 1


def test_a_known_provider_name_is_sent_as_tracking_provider(shop):
    shop.add_item("MUG", 4)
    order_id = shop.checkout("MUG", 1)
    woo = WooCommerceConnector(shop.connector_config(tracking_providers="colissimo=Colissimo,dpd=DPD"))
    woo.push_fulfilment(_shipment(order_id, ("6A9",)))
    posted = json.loads(shop.calls_to("/shipment-trackings", "POST")[-1].body)
    assert posted["tracking_provider"] == "Colissimo" and "custom_tracking_link" not in posted


def test_a_partial_shipment_adds_a_tracking_and_a_note_and_keeps_the_order_processing(shop, woo):
    shop.add_item("MUG", 4)
    order_id = shop.checkout("MUG", 3)
    line_ref = woo.fetch_order(order_id).lines[0].ref
    part = _shipment(order_id, ("6B1",), complete=False, lines=(FulfilmentLine(line_ref, 1),))

    woo.push_fulfilment(part)
    woo.push_fulfilment(part)

    assert shop.tracking_of(order_id) == ["6B1"]
    assert shop.order_state(order_id) == "processing"
    assert len(shop.notes[int(order_id)]) == 1 and shop.notes[int(order_id)][0]["customer_note"] is True


def test_without_the_shipment_tracking_extension_the_tracking_goes_into_a_customer_note(woo):
    shop = WooCommerceStandIn(shipment_tracking=False).start()
    try:
        woo = WooCommerceConnector(shop.connector_config())
        shop.add_item("MUG", 4)
        order_id = shop.checkout("MUG", 1)
        woo.push_fulfilment(_shipment(order_id, ("6C1",)))
        assert "6C1" in shop.notes[int(order_id)][0]["note"]
        assert shop.order_state(order_id) == "completed"
        assert shop.violations == []
    finally:
        shop.stop()


def test_a_shipment_of_a_cancelled_or_unknown_order_is_rejected(shop, woo):
    shop.add_item("MUG", 4)
    order_id = shop.checkout("MUG", 1)
    shop.cancel(order_id)
    with pytest.raises(Rejected, match="cancelled"):
        woo.push_fulfilment(_shipment(order_id, ("6D1",)))
    with pytest.raises(Rejected):
        woo.push_fulfilment(_shipment("424242", ("6D2",)))
    assert shop.tracking_of(order_id) == []


# --- the platform's errors ---------------------------------------------------------------------------------------
def test_a_429_raises_rate_limited_with_the_hosts_retry_after():
    shop = WooCommerceStandIn(rate=0.02, burst=1).start()
    try:
        woo = WooCommerceConnector(shop.connector_config())
        woo.fetch_order("1")
        with pytest.raises(RateLimited) as err:
            woo.fetch_order("1")
        assert err.value.retry_after == 50 and err.value.transient
        assert shop.violations == []
    finally:
        shop.stop()


def test_refused_keys_raise_auth_failed(shop):
    config = shop.connector_config()
    woo = WooCommerceConnector(ConnectorConfig(config.base_url, {**config.credentials, "consumer_secret": "cs_old"}))
    with pytest.raises(AuthFailed) as err:
        woo.test_connection()
    assert "woocommerce_rest_authentication_error" in str(err.value) and not err.value.transient


def test_query_string_auth_reaches_hosts_that_strip_the_header(shop):
    woo = WooCommerceConnector(shop.connector_config(query_string_auth=True))
    assert "Stand-in Shop" in woo.test_connection()
    call = shop.calls_to("/wc/v3/orders", "GET")[-1]
    assert "Authorization" not in call.headers and call.query["consumer_key"] == [shop.consumer_key]


def test_the_stand_in_refuses_a_call_without_keys(shop):
    resp = requests.get(f"{shop.url}/wp-json/wc/v3/orders", timeout=5)
    assert resp.status_code == 401 and resp.json()["code"] == "woocommerce_rest_cannot_view"


def test_a_5xx_is_unavailable_and_an_html_answer_a_bad_payload(shop, woo):
    shop.fail_next(1, 503)
    with pytest.raises(Unavailable):
        woo.pull_orders(None)
    shop.fail_next(1, 200, body="<html>Fatal error: Allowed memory size exhausted</html>")
    with pytest.raises(BadPayload):
        woo.pull_orders(None)


def test_keys_are_never_sent_over_plain_http_to_a_remote_shop():
    woo = WooCommerceConnector(ConnectorConfig("http://shop.example", {"consumer_key": "ck", "consumer_secret": "cs"}))
    with pytest.raises(Rejected, match="https"):
        woo.test_connection()


def test_the_stand_in_records_a_batch_over_100_as_a_violation(shop):
    body = {"update": [{"id": n, "stock_quantity": 1} for n in range(1, 102)]}
    resp = requests.post(f"{shop.url}/wp-json/wc/v3/products/batch", json=body,
                         auth=(shop.consumer_key, shop.consumer_secret), timeout=5)
    assert resp.status_code == 413 and resp.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert shop.violations
    shop.violations.clear()


def test_the_stand_in_records_a_call_to_a_route_woocommerce_has_not(shop):
    resp = requests.delete(f"{shop.url}/wp-json/wc/v3/products/batch", auth=(shop.consumer_key,
                           shop.consumer_secret), timeout=5)
    assert resp.status_code == 404 and resp.json()["code"] == "rest_no_route"
    assert shop.violations
    shop.violations.clear()


def test_the_stand_in_refuses_a_tracking_with_no_provider(shop):
    shop.add_item("MUG", 1)
    order_id = shop.checkout("MUG", 1)
    resp = requests.post(f"{shop.url}/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings",
                         json={"tracking_number": "X1"}, auth=(shop.consumer_key, shop.consumer_secret), timeout=5)
    assert resp.status_code == 400 and resp.json()["code"] == "rest_invalid_param"
    assert shop.violations
    shop.violations.clear()


def test_checkouts_racing_for_the_last_units_never_sell_more_than_the_stock(shop):
    shop.add_item("LAST", 5)
    results: list[str | None] = []
    lock = threading.Lock()

    def buy() -> None:
        got = shop.checkout("LAST", 1)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=buy) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 5 and shop.stock_of("LAST") == 0


def test_the_unit_price_is_what_one_unit_cost_the_customer_taxes_included(shop, woo):
    shop.add_item("MUG-TAXED", 5)
    oid = shop.checkout("MUG-TAXED", 3, vat_rate="0.20")   # 19.90 tax included: stored as 49.75 + 9.95 tax
    order = woo.fetch_order(oid)
    assert order is not None and order.currency == "EUR"
    assert [ln.unit_price for ln in order.lines] == [Decimal("19.90")]
    line = dict(order.raw["line_items"][0])
    assert Decimal(str(line["price"])).quantize(Decimal("0.01")) == Decimal("16.58")   # WooCommerce's, tax apart
    # a line without its total (an old or odd payload) falls back to `price`
    del line["total"]
    assert woo.map_order({**order.raw, "line_items": [line]}).lines[0].unit_price == Decimal(str(line["price"]))
