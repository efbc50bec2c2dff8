"""The Shopify connector against the Shopify stand-in (no database): webhooks verified on the raw body,
compare-and-set stock, pacing by the cost bucket, partial fulfilments, cursor pages, the platform's errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.standins.shopify import API_VERSION, ShopifyStandIn
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
from wms.channels.connectors.shopify import ShopifyConnector


class Receiver:
    """Where the stand-in posts its webhooks: keeps each request's headers and raw body, answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/shopify"

    def app(self, environ, start_response):  # type: ignore[no-untyped-def]
        req = Request(environ)
        with self.lock:
            self.received.append((dict(req.headers.items()), req.get_data()))
        return Response("", 200)(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[ShopifyStandIn]:
    standin = ShopifyStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def connector_for(shop: ShopifyStandIn) -> ShopifyConnector:
    connector = make_connector("shopify", shop.connector_config())
    assert isinstance(connector, ShopifyConnector)
    return connector


def shipment(external_id: str, lines: list[tuple[str, int]], number: str) -> Fulfilment:
    return Fulfilment(external_id=external_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=(number,), tracking_url=f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
                      lines=tuple(FulfilmentLine(ref, q) for ref, q in lines), shipped_at=dt.datetime.now(dt.UTC),
                      complete=False)


# --- webhooks ------------------------------------------------------------------------------------------------
def test_a_checkout_sends_a_signed_orders_create_webhook_read_as_the_same_order_a_pull_reads(
        shop: ShopifyStandIn, receiver: Receiver) -> None:
    shop.webhook_url = receiver.url
    key = shop.add_item("SHIRT-BLUE-44", 3)
    external_id = shop.checkout("SHIRT-BLUE-44", 2, email="camille@example.com")
    assert external_id is not None and shop.stock_of("SHIRT-BLUE-44") == 1
    headers, body = receiver.received[-1]
    connector = connector_for(shop)

    assert headers["X-Shopify-Topic"] == "orders/create"
    assert connector.verify_webhook(headers, body)
    calls_before = len(shop.calls)
    cold = connector.read_webhook(headers, body)   # variants never read yet: the id only, no call to Shopify
    assert (cold.external_id, cold.order, len(shop.calls)) == (external_id, None, calls_before)
    pulled = connector.fetch_order(external_id)    # what the webhook job does then; it also learns the variants
    call = connector.read_webhook(headers, body)

    assert call.topic == WebhookTopic.ORDER_CREATED
    assert call.delivery_id == headers["X-Shopify-Webhook-Id"]
    assert call.external_id == external_id and call.order is not None and pulled is not None
    assert call.order.lines == pulled.lines
    assert call.order.lines[0].item_key == key and call.order.lines[0].quantity == 2
    assert (call.order.state, call.order.customer_email, call.order.ship_to) == \
           (OrderState.OPEN, "camille@example.com", pulled.ship_to)
    assert shop.violations == []


def test_a_bad_signature_is_refused_before_the_body_is_read(shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 5)
    external_id = shop.add_order([("MUG", 1)])
    connector = connector_for(shop)
    body, headers = shop.webhook_request("orders/create", external_id)
    forged_body, forged_headers = shop.webhook_request("orders/create", external_id, secret="someone-else")

    assert connector.verify_webhook(headers, body)
    assert not connector.verify_webhook(forged_headers, forged_body)
    # the signature covers the raw bytes: the same JSON re-serialised no longer matches
    assert not connector.verify_webhook(headers, json.dumps(json.loads(body), indent=2).encode())
    # garbage that is not JSON is refused by the signature check alone, without an exception
    assert not connector.verify_webhook(headers, b"\xff\xfe not json")
    assert not connector.verify_webhook({k: v for k, v in headers.items() if "Hmac" not in k}, body)
    assert shop.violations == []


def test_a_forged_webhook_posted_by_the_stand_in_fails_verification(shop: ShopifyStandIn, receiver: Receiver) -> None:
    shop.webhook_url = receiver.url
    shop.add_item("MUG", 5)
    external_id = shop.add_order([("MUG", 1)])
    assert shop.send_forged_webhook("orders/create", external_id) == 200
    headers, body = receiver.received[-1]
    assert not connector_for(shop).verify_webhook(headers, body)


def test_a_cancel_sends_orders_cancelled_read_as_a_cancelled_order_and_a_redelivery_keeps_its_id(
        shop: ShopifyStandIn, receiver: Receiver) -> None:
    shop.webhook_url = receiver.url
    shop.add_item("MUG", 5)
    external_id = shop.checkout("MUG", 2)
    assert external_id is not None
    shop.cancel(external_id)
    shop.redeliver_last_webhook()
    (first_headers, first_body), (again_headers, again_body) = receiver.received[-2:]
    connector = connector_for(shop)

    assert connector.read_webhook(first_headers, first_body).order is None   # variants not read yet
    connector.fetch_order(external_id)
    call = connector.read_webhook(first_headers, first_body)
    assert call.topic == WebhookTopic.ORDER_CANCELLED and call.order is not None
    assert call.order.state == OrderState.CANCELLED and call.external_id == external_id
    assert connector.read_webhook(again_headers, again_body).delivery_id == call.delivery_id
    assert shop.stock_of("MUG") == 5          # restocked by the cancel
    assert shop.order_state(external_id) == "CANCELLED"
    assert shop.violations == []


def test_a_dropped_webhook_is_never_sent_but_the_order_is_pulled(shop: ShopifyStandIn, receiver: Receiver) -> None:
    shop.webhook_url = receiver.url
    shop.add_item("MUG", 5)
    shop.drop_next_webhooks(1)
    external_id = shop.checkout("MUG", 1)
    assert receiver.received == []
    page = connector_for(shop).pull_orders(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    assert [o.external_id for o in page.orders] == [external_id]


def test_unreadable_or_unknown_webhooks_are_bad_payloads_or_other(shop: ShopifyStandIn) -> None:
    connector = connector_for(shop)
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"}
    with pytest.raises(BadPayload):
        connector.read_webhook(headers, b"{not json")
    with pytest.raises(BadPayload):
        connector.read_webhook(headers, b'{"id": "abc", "line_items": []}')
    with pytest.raises(BadPayload):
        connector.read_webhook(headers, b'{"id": 5, "line_items": [{"id": 1, "variant_id": "x", "quantity": 1}]}')
    with pytest.raises(BadPayload):
        connector.read_webhook({**headers, "X-Shopify-Topic": "refunds/create"}, b'{"id": 3}')
    other = connector.read_webhook({**headers, "X-Shopify-Topic": "products/update"}, b'{"id": 9}')
    assert other.topic == WebhookTopic.OTHER and other.order is None
    refund = connector.read_webhook({**headers, "X-Shopify-Topic": "refunds/create"}, b'{"id": 3, "order_id": 77}')
    assert (refund.topic, refund.external_id) == (WebhookTopic.REFUND, "77")


# --- stock -----------------------------------------------------------------------------------------------------
def test_a_quantity_changed_on_shopify_is_re_read_and_reported_not_overwritten(shop: ShopifyStandIn) -> None:
    sold = shop.add_item("SHIRT-BLUE-44", 10)
    calm = shop.add_item("SHIRT-BLUE-42", 10)
    connector = connector_for(shop)
    shop.set_available("SHIRT-BLUE-44", 4)     # the merchant (or a sale) changed it since we last pushed 10

    results = connector.push_stock([StockUpdate(sold, "SHIRT-BLUE-44", 8, previous=10),
                                    StockUpdate(calm, "SHIRT-BLUE-42", 7, previous=10)])

    assert results[0].ok is False and results[0].channel_quantity == 4
    assert shop.stock_of("SHIRT-BLUE-44") == 4  # not overwritten
    assert results[1].ok is True and shop.stock_of("SHIRT-BLUE-42") == 7  # the rest of the batch went through
    assert shop.stale_answers == 1 and shop.blind_writes == 0
    sent = [json.loads(c.body) for c in shop.calls_to("graphql.json")]
    quantities = [q for doc in sent if doc["operationName"] == "WmsSetQuantities"
                  for q in doc["variables"]["input"]["quantities"]]
    assert all(q["changeFromQuantity"] is not None for q in quantities)
    assert shop.violations == []


def test_a_push_without_a_previous_quantity_reads_it_then_compares(shop: ShopifyStandIn) -> None:
    key = shop.add_item("MUG", 6)
    connector = connector_for(shop)
    [result] = connector.push_stock([StockUpdate(key, "MUG", 2)])
    assert result.ok and shop.stock_of("MUG") == 2 and shop.blind_writes == 0
    operations = [json.loads(c.body)["operationName"] for c in shop.calls_to("graphql.json")]
    assert operations == ["WmsLevels", "WmsSetQuantities"]
    assert shop.violations == []


def test_a_retried_push_that_already_landed_is_reported_done(shop: ShopifyStandIn) -> None:
    key = shop.add_item("MUG", 6)
    connector = connector_for(shop)
    assert connector.push_stock([StockUpdate(key, "MUG", 3, previous=6)])[0].ok
    again = connector.push_stock([StockUpdate(key, "MUG", 3, previous=6)])[0]
    assert again.ok and again.channel_quantity == 3 and shop.stock_of("MUG") == 3


def test_an_unknown_item_is_refused_alone(shop: ShopifyStandIn) -> None:
    key = shop.add_item("MUG", 6)
    connector = connector_for(shop)
    results = connector.push_stock([StockUpdate("gid://shopify/InventoryItem/999999", "GHOST", 1, previous=0),
                                    StockUpdate(key, "MUG", 1, previous=6)])
    assert results[0].ok is False and "INVALID_INVENTORY_ITEM" in (results[0].error or "")
    assert results[1].ok and shop.stock_of("MUG") == 1
    assert shop.violations == []


def test_pacing_by_the_cost_bucket_pushes_ten_thousand_items_without_one_throttled_answer() -> None:
    shop = ShopifyStandIn(bucket_size=50, restore_rate=100).start()
    try:
        keys = [shop.add_item(f"SKU-{n:05d}", 5) for n in range(10_000)]
        connector = connector_for(shop)
        results = connector.push_stock([StockUpdate(k, f"SKU-{n:05d}", n % 7, previous=5)
                                        for n, k in enumerate(keys)])
        assert shop.throttled == 0
        assert all(r.ok for r in results) and len(results) == 10_000
        assert len(shop.calls_to("graphql.json")) == 40      # 250 quantities a call, the documented maximum
        assert [shop.stock_of(f"SKU-{n:05d}") for n in (0, 1, 6, 9_999)] == [0, 1, 6, 9_999 % 7]
        assert shop.violations == []
    finally:
        shop.stop()


def test_the_stand_in_throttles_a_client_that_does_not_pace() -> None:
    shop = ShopifyStandIn(bucket_size=50, restore_rate=100).start()
    try:
        key = shop.add_item("MUG", 5)
        body = {"query": "mutation M($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
                         "{ userErrors { code } } }",
                "variables": {"input": {"name": "available", "reason": "correction", "quantities": [
                    {"inventoryItemId": key, "locationId": shop.location, "quantity": 5, "changeFromQuantity": 5}]}}}
        answers = [requests.post(f"{shop.url}/admin/api/{API_VERSION}/graphql.json", json=body, timeout=5,
                                 headers={"X-Shopify-Access-Token": shop.access_token}).json() for _ in range(20)]
        throttled = [a for a in answers if a.get("errors")]
        assert shop.throttled == len(throttled) > 0
        assert throttled[0]["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert throttled[0]["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 50
    finally:
        shop.stop()


def test_a_throttled_answer_is_rate_limited_with_the_wait_the_bucket_implies() -> None:
    shop = ShopifyStandIn(bucket_size=50, restore_rate=10).start()
    try:
        shop.level = 0.0                     # another app of this shop spent the bucket
        connector = connector_for(shop)
        with pytest.raises(RateLimited) as caught:
            connector.graphql("query WmsOrders($first: Int!, $after: String, $query: String) { orders(first: "
                              "$first, after: $after, query: $query) { nodes { id } } }",
                              {"first": 20, "after": None, "query": "status:open"})
        assert shop.throttled == 1
        # 2 + 20 x 1 = 22 points at 10 a second from (about) empty
        assert 1.5 < (caught.value.retry_after or 0) <= 2.3
    finally:
        shop.stop()


# --- orders ----------------------------------------------------------------------------------------------------
def test_orders_are_pulled_in_cursor_pages_by_update_time(shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 100)
    old = shop.add_order([("MUG", 1)])
    shop.touch(old, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    wanted = [shop.add_order([("MUG", 1)]) for _ in range(19)]
    connector = connector_for(shop)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    seen, pages, cursor = [], 0, None
    while True:
        page = connector.pull_orders(since, cursor)
        pages += 1
        seen += [o.external_id for o in page.orders]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert pages == 3 and sorted(seen) == sorted(wanted) and len(seen) == len(set(seen))
    sent = json.loads(shop.calls_to("graphql.json")[0].body)["variables"]
    assert sent["query"].startswith("updated_at:>='") and sent["first"] == 8
    assert shop.violations == []


def test_an_order_with_more_lines_than_a_page_is_read_whole(shop: ShopifyStandIn) -> None:
    skus = [f"PART-{n}" for n in range(25)]
    for sku in skus:
        shop.add_item(sku, 10)
    external_id = shop.add_order([(sku, 1) for sku in skus])
    order = connector_for(shop).fetch_order(external_id)
    assert order is not None and sorted(line.sku or "" for line in order.lines) == sorted(skus)
    assert shop.violations == []


def test_an_unknown_order_is_none(shop: ShopifyStandIn) -> None:
    assert connector_for(shop).fetch_order("424242") is None


# --- fulfilment ------------------------------------------------------------------------------------------------
def test_a_partial_shipment_fulfils_part_of_the_order_then_the_rest_with_its_own_tracking(
        shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 10)
    shop.add_item("PLATE", 10)
    external_id = shop.add_order([("MUG", 2), ("PLATE", 1)])
    connector = connector_for(shop)
    order = connector.fetch_order(external_id)
    assert order is not None
    mug, plate = sorted(order.lines, key=lambda line: line.sku or "")

    connector.push_fulfilment(shipment(external_id, [(mug.ref, 1)], "6A0001"))
    assert shop.order_state(external_id) == "PARTIALLY_FULFILLED"
    assert shop.tracking_of(external_id) == ["6A0001"]

    connector.push_fulfilment(shipment(external_id, [(mug.ref, 1), (plate.ref, 1)], "6A0002"))
    assert shop.order_state(external_id) == "FULFILLED"
    assert shop.tracking_of(external_id) == ["6A0001", "6A0002"]
    assert shop.notified == [True, True]

    # the job retried after its write-back went through: nothing is fulfilled twice
    connector.push_fulfilment(shipment(external_id, [(plate.ref, 1)], "6A0002"))
    assert shop.tracking_of(external_id) == ["6A0001", "6A0002"]
    with pytest.raises(Rejected):
        connector.push_fulfilment(shipment(external_id, [(plate.ref, 1)], "6A0003"))
    fulfils = [json.loads(c.body)["variables"]["fulfillment"] for c in shop.calls_to("graphql.json")
               if json.loads(c.body)["operationName"] == "WmsFulfil"]
    assert fulfils[0]["trackingInfo"] == {"company": "Colissimo", "numbers": ["6A0001"], "urls": [
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A0001"]}
    assert shop.violations == []


def test_a_fulfilment_for_an_unknown_order_is_rejected(shop: ShopifyStandIn) -> None:
    with pytest.raises(Rejected):
        connector_for(shop).push_fulfilment(shipment("999999", [], "6A9"))


# --- errors ----------------------------------------------------------------------------------------------------
def test_a_refused_token_is_auth_failed(shop: ShopifyStandIn) -> None:
    config = shop.connector_config()
    bad = ConnectorConfig(base_url=config.base_url, credentials={**config.credentials, "access_token": "shpat_x"},
                          options=config.options)
    with pytest.raises(AuthFailed):
        make_connector("shopify", bad).test_connection()


def test_server_errors_and_timeouts_are_unavailable_and_a_429_is_rate_limited(shop: ShopifyStandIn) -> None:
    connector = connector_for(shop)
    shop.fail_next(1, 503)
    with pytest.raises(Unavailable):
        connector.test_connection()
    shop.fail_next(1, 429)
    with pytest.raises(RateLimited):
        connector.test_connection()
    assert connector.test_connection().startswith("Stand-in shop")


def test_an_answer_that_is_not_json_is_a_bad_payload(shop: ShopifyStandIn) -> None:
    shop.fail_next(1, 200, body="<html>maintenance</html>")
    with pytest.raises(BadPayload):
        connector_for(shop).test_connection()


def test_a_field_shopify_does_not_have_is_a_graphql_error_rejected(shop: ShopifyStandIn) -> None:
    with pytest.raises(Rejected) as caught:
        connector_for(shop).graphql("query WmsShop { shop { name planName } }")
    assert "doesn't exist on type 'Shop'" in str(caught.value)
    assert shop.violations and "planName" in shop.violations[0]


def test_an_argument_outside_the_documented_schema_is_refused(shop: ShopifyStandIn) -> None:
    key = shop.add_item("MUG", 1)
    with pytest.raises(Rejected):
        connector_for(shop).graphql(
            "mutation WmsSetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input)"
            " { userErrors { code } } }",
            {"input": {"name": "available", "reason": "correction", "quantities": [
                {"inventoryItemId": key, "locationId": "gid://shopify/Location/7001", "quantity": 1, "delta": 1}]}})
    assert any("delta" in v for v in shop.violations)
    assert shop.stock_of("MUG") == 1


def test_a_channel_without_a_location_cannot_push_stock(shop: ShopifyStandIn) -> None:
    key = shop.add_item("MUG", 1)
    config = shop.connector_config()
    connector = make_connector("shopify", ConnectorConfig(config.base_url, config.credentials, {}))
    with pytest.raises(Rejected):
        connector.push_stock([StockUpdate(key, "MUG", 0, previous=1)])


def test_items_are_listed_with_their_inventory_item_key_and_quantity(shop: ShopifyStandIn) -> None:
    keys = {shop.add_item(f"SKU-{n}", n) for n in range(3)}
    items = list(connector_for(shop).list_items())
    assert {i.item_key for i in items} == keys
    assert sorted((i.sku, i.quantity) for i in items) == [("SKU-0", 0), ("SKU-1", 1), ("SKU-2", 2)]
    assert shop.violations == []


def test_an_order_id_that_is_not_shopify_s_is_rejected_before_any_call(shop: ShopifyStandIn) -> None:
    with pytest.raises(Rejected):
        connector_for(shop).fetch_order("12 OR 1=1")
    assert shop.calls == []


def test_the_secret_kept_apart_as_webhook_secret_verifies_too(shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 5)
    body, headers = shop.webhook_request("orders/create", shop.add_order([("MUG", 1)]))
    config = shop.connector_config()
    connector = make_connector("shopify", ConnectorConfig(config.base_url, {
        "access_token": shop.access_token, "webhook_secret": shop.app_secret}, config.options))
    assert connector.verify_webhook(headers, body)


def test_a_dev_dashboard_app_buys_its_token_by_the_client_credentials_grant_and_renews_it(
        shop: ShopifyStandIn) -> None:
    config = shop.connector_config()
    granted = ConnectorConfig(config.base_url, {"app_secret": shop.app_secret, "client_id": shop.client_id},
                              config.options)
    connector = make_connector("shopify", granted)
    assert connector.test_connection().startswith("Stand-in shop")
    assert make_connector("shopify", granted).test_connection()      # the token is kept, not bought again
    assert len(shop.calls_to("/admin/oauth/access_token")) == 1
    shop.expire_granted_tokens()
    assert connector.test_connection()                                # a 401, one fresh grant, the call again
    assert len(shop.calls_to("/admin/oauth/access_token")) == 2
    wrong = ConnectorConfig(config.base_url, {"app_secret": "nope", "client_id": "other-client"}, config.options)
    with pytest.raises(AuthFailed):
        make_connector("shopify", wrong).test_connection()
    assert shop.violations == []


def test_checkouts_racing_for_the_last_units_never_sell_more_than_the_shop_holds(shop: ShopifyStandIn) -> None:
    shop.add_item("LAST", 5)
    sold: list[str | None] = []
    lock = threading.Lock()

    def buy() -> None:
        got = shop.checkout("LAST", 1)
        with lock:
            sold.append(got)

    threads = [threading.Thread(target=buy) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([s for s in sold if s]) == 5 and shop.stock_of("LAST") == 0


def test_a_first_pull_without_a_checkpoint_reads_the_open_orders_only(shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 10)
    kept = shop.add_order([("MUG", 1)])
    gone = shop.add_order([("MUG", 1)])
    shop.cancel(gone)
    page = connector_for(shop).pull_orders(None)
    assert [o.external_id for o in page.orders] == [kept] and page.cursor is None
    assert shop.violations == []


# --- relay points and prices -------------------------------------------------------------------------------------
def test_the_relay_point_is_read_from_the_note_attribute_named_in_the_options_by_pull_and_by_webhook(
        shop: ShopifyStandIn) -> None:
    shop.add_item("MUG", 5)
    oid = shop.add_order([("MUG", 2)], note_attributes={"Gift wrap": "yes", "Relais-Colis": "",
                                                        "Mondial-Relay-Point": "FR-012345"})
    config = shop.connector_config()
    connector = make_connector("shopify", ConnectorConfig(config.base_url, config.credentials, {
        **config.options, "relay_point_attributes": "relais-colis, mondial-relay-point"}))
    pulled = connector.fetch_order(oid)   # GraphQL customAttributes; also teaches the variants for the webhook
    body, headers = shop.webhook_request("orders/create", oid)
    call = connector.read_webhook(headers, body)   # REST note_attributes, mapped without calling Shopify
    assert pulled is not None and call.order is not None
    # names compare without regard to case; an attribute present but empty is passed over
    assert pulled.relay_point_id == call.order.relay_point_id == "FR-012345"
    assert [ln.unit_price for ln in pulled.lines] == [ln.unit_price for ln in call.order.lines] == [Decimal("10.00")]
    assert pulled.currency == call.order.currency == "EUR"
    # the default name is ours, relay_point_id; an order without it has no relay point
    assert connector_for(shop).fetch_order(oid).relay_point_id is None
    other = shop.add_order([("MUG", 1)], note_attributes={"relay_point_id": " 4711 "})
    assert connector_for(shop).fetch_order(other).relay_point_id == "4711"
    assert shop.violations == []
