"""The PrestaShop connector against the webservice stand-in (no database): orders by checkpoint, stock, tracking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import defusedxml.ElementTree as SafeET
import pytest
import requests

from tests.standins.prestashop import PrestaShopStandIn
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
)
from wms.channels.connectors.prestashop import PAGE_SIZE, PrestaShopConnector

T0 = dt.datetime(2026, 6, 15, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def shop() -> Iterator[PrestaShopStandIn]:
    standin = PrestaShopStandIn()
    standin.start()
    yield standin
    standin.stop()
    assert standin.violations == []


def connector(shop: PrestaShopStandIn, **changes: object) -> PrestaShopConnector:
    config = shop.connector_config()
    fields = {"base_url": config.base_url, "credentials": config.credentials, "options": config.options,
              "timeout": config.timeout, **changes}
    made = make_connector("prestashop", ConnectorConfig(**fields))  # type: ignore[arg-type]
    assert isinstance(made, PrestaShopConnector)
    return made


def pull_all(conn: PrestaShopConnector, since: dt.datetime | None) -> list:
    orders, cursor = [], None
    while True:
        page = conn.pull_orders(since, cursor)
        orders += page.orders
        if page.cursor is None:
            return orders
        cursor = page.cursor


def fulfilment(order_id: str, ref: str, numbers: tuple[str, ...], *, complete: bool = True) -> Fulfilment:
    return Fulfilment(external_id=order_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=numbers, tracking_url=None, lines=(FulfilmentLine(ref, 1),),
                      shipped_at=T0, complete=complete)


# --- orders in -----------------------------------------------------------------------------------------------------
def test_a_pull_from_the_checkpoint_rereads_the_overlap_and_finds_an_order_stamped_during_the_previous_read(shop):
    shop.add_item("MUG", 10)
    first = [shop.checkout("MUG", 1) for _ in range(3)]
    for i, oid in enumerate(first):
        shop.touch(oid, at=T0 + dt.timedelta(seconds=i))
    conn = connector(shop)
    seen = pull_all(conn, T0 - dt.timedelta(hours=1))
    assert [o.external_id for o in seen] == first
    checkpoint = max(o.updated_at for o in seen)
    # A checkout whose PHP request started before our read stamps a date_upd older than what we already read.
    late = shop.checkout("MUG", 1)
    shop.touch(late, at=checkpoint - dt.timedelta(seconds=40))

    again = pull_all(conn, checkpoint)

    assert late in [o.external_id for o in again]
    late_order = next(o for o in again if o.external_id == late)
    assert late_order.updated_at < checkpoint
    query = shop.calls_to("/api/orders", "GET")[-1].query
    # Europe/Paris is UTC+2 in June; the lower bound is the checkpoint minus the overlap, on the shop's clock.
    lower = (checkpoint - dt.timedelta(seconds=conn.overlap_s) + dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    assert query["filter[date_upd]"][0].startswith(f"[{lower},")
    assert query["date"] == ["1"] and query["sort"] == ["[date_upd_ASC,id_ASC]"]


def test_an_order_read_maps_its_lines_customer_and_address(shop):
    item = shop.add_item("SHIRT-BLUE-44", 5, title="Blue shirt", product_of="SHIRT")
    oid = shop.checkout("SHIRT-BLUE-44", 2, email="anne@example.fr")
    shop.touch(oid, at=T0)

    (order,) = pull_all(connector(shop), T0 - dt.timedelta(minutes=1))

    assert order.external_id == oid and order.state is OrderState.OPEN
    assert order.updated_at == T0 and order.updated_at.tzinfo is not None
    assert [(line.item_key, line.sku, line.quantity) for line in order.lines] == [(item, "SHIRT-BLUE-44", 2)]
    assert order.customer_email == "anne@example.fr" and order.customer_language == "fr"
    assert order.ship_to is not None and order.ship_to.country == "FR" and order.ship_to.city == "Lyon"
    assert order.shipping_method == "Colissimo" and order.currency == "EUR"
    assert order.platform_ref == f"XKB{int(oid):06d}"
    assert order.raw["associations"]["order_rows"]["order_row"]["product_reference"] == "SHIRT-BLUE-44"


def test_pages_of_orders_are_read_to_the_end_even_when_one_already_read_is_updated_between_pages(shop):
    shop.add_item("MUG", 500)
    ids = [shop.checkout("MUG", 1) for _ in range(PAGE_SIZE * 2 + 20)]
    for i, oid in enumerate(ids):
        shop.touch(oid, at=T0 + dt.timedelta(seconds=i))
    conn = connector(shop)

    page = conn.pull_orders(T0)
    assert len(page.orders) == PAGE_SIZE and page.cursor
    shop.touch(ids[10], at=T0 + dt.timedelta(hours=1))   # leaves its place: offset paging would skip one order
    seen = list(page.orders)
    while page.cursor:
        page = conn.pull_orders(T0, page.cursor)
        seen += page.orders

    got = [o.external_id for o in seen]
    assert set(got) == set(ids)
    assert got[-1] == ids[10]                     # read again, at its new place
    assert len(shop.calls_to("/api/orders", "GET")) == 3


def test_orders_stamped_in_the_same_second_are_paged_without_loss(shop):
    shop.add_item("MUG", 500)
    ids = [shop.checkout("MUG", 1) for _ in range(PAGE_SIZE * 2 + 5)]
    for oid in ids:
        shop.touch(oid, at=T0)

    got = [o.external_id for o in pull_all(connector(shop), T0)]

    assert sorted(got, key=int) == ids and len(got) == len(ids)


def test_cancelled_and_refunded_orders_read_as_cancelled_and_shipped_ones_as_closed(shop):
    shop.add_item("MUG", 10)
    paid, cancelled, refunded, shipped, waiting = (shop.checkout("MUG", 1) for _ in range(5))
    shop.cancel(cancelled)
    shop.refund(refunded)
    shop.set_state(shipped, 4)
    shop.set_state(waiting, 10)   # awaiting bank wire payment

    states = {o.external_id: o.state for o in pull_all(connector(shop), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))}

    assert states == {paid: OrderState.OPEN, cancelled: OrderState.CANCELLED, refunded: OrderState.CANCELLED,
                      shipped: OrderState.CLOSED, waiting: OrderState.PENDING_PAYMENT}


def test_the_first_pull_asks_only_for_orders_still_to_pay_or_to_ship(shop):
    shop.add_item("MUG", 10)
    live, gone = shop.checkout("MUG", 1), shop.checkout("MUG", 1)
    shop.cancel(gone)

    got = [o.external_id for o in pull_all(connector(shop), None)]

    assert got == [live]
    assert "filter[current_state]" in shop.calls_to("/api/orders", "GET")[-1].query


def test_an_order_is_fetched_by_its_id_and_an_unknown_one_is_none(shop):
    shop.add_item("MUG", 10)
    oid = shop.checkout("MUG", 1)
    conn = connector(shop)

    order = conn.fetch_order(oid)

    assert order is not None and order.external_id == oid
    assert conn.fetch_order("999") is None
    assert conn.fetch_order("not-an-id") is None


# --- stock out -----------------------------------------------------------------------------------------------------
def test_stock_is_set_to_absolute_quantities_per_product_and_combination(shop):
    blue = shop.add_item("SHIRT-BLUE-44", 5, product_of="SHIRT")
    red = shop.add_item("SHIRT-RED-44", 3, product_of="SHIRT")
    mug = shop.add_item("MUG", 8)
    shop.checkout("SHIRT-BLUE-44", 2)     # the shop sold meanwhile: 3 left there
    conn = connector(shop)

    results = conn.push_stock([StockUpdate(blue, "SHIRT-BLUE-44", 10), StockUpdate(red, "SHIRT-RED-44", 0),
                               StockUpdate(mug, "MUG", 4)])

    assert [(r.item_key, r.ok) for r in results] == [(blue, True), (red, True), (mug, True)]
    assert (shop.stock_of("SHIRT-BLUE-44"), shop.stock_of("SHIRT-RED-44"), shop.stock_of("MUG")) == (10, 0, 4)
    assert shop.stock_row(blue.split(":")[0] + ":0")["quantity"] == 10   # the product carries its combinations' sum
    puts = shop.calls_to("/api/stock_availables/", "PUT")
    assert len(puts) == 3
    body = SafeET.fromstring(puts[0].body).find("stock_available")
    assert {c.tag for c in body} == {"id", "id_product", "id_product_attribute", "id_shop", "id_shop_group",
                                     "quantity", "depends_on_stock", "out_of_stock", "location"}
    assert body.findtext("quantity") == "10" and body.findtext("out_of_stock") == "2"
    # Pushed again: the same absolute values, never a delta of what was read.
    conn.push_stock([StockUpdate(blue, "SHIRT-BLUE-44", 10)])
    assert shop.stock_of("SHIRT-BLUE-44") == 10


def test_stock_that_prestashop_computes_itself_or_an_unknown_listing_is_reported_not_written(shop):
    mug = shop.add_item("MUG", 8)
    with shop.lock:
        shop.db["stock_availables"][1]["depends_on_stock"] = 1
    results = connector(shop).push_stock([StockUpdate(mug, "MUG", 2), StockUpdate("77:0", "GHOST", 1),
                                          StockUpdate("abc", "BAD", 1)])

    assert [r.ok for r in results] == [False, False, False]
    assert "depends_on_stock" in (results[0].error or "")
    assert shop.stock_of("MUG") == 8
    assert shop.calls_to("/api/stock_availables/", "PUT") == []


def test_listings_come_from_products_and_combinations_with_their_reference_and_stock(shop):
    blue = shop.add_item("SHIRT-BLUE-44", 5, title="Shirt", product_of="SHIRT")
    mug = shop.add_item("MUG", 8, title="Mug")

    items = {i.item_key: i for i in connector(shop).list_items()}

    assert set(items) == {blue, mug}      # the shirt itself is sold only through its combinations
    assert (items[blue].sku, items[blue].quantity, items[blue].title) == ("SHIRT-BLUE-44", 5, "Shirt")
    assert (items[mug].sku, items[mug].quantity) == ("MUG", 8)


# --- fulfilment out ------------------------------------------------------------------------------------------------
def test_a_shipment_writes_its_tracking_numbers_and_the_shipped_state_once(shop):
    shop.add_item("MUG", 10)
    oid = shop.checkout("MUG", 2)
    conn = connector(shop)
    ref = conn.fetch_order(oid).lines[0].ref

    conn.push_fulfilment(fulfilment(oid, ref, ("6A0001", "6A0002")))
    conn.push_fulfilment(fulfilment(oid, ref, ("6A0001", "6A0002")))   # a retried job

    assert shop.tracking_of(oid) == ["6A0001", "6A0002"]
    assert shop.order_state(oid) == "Shipped"
    assert shop.emails_sent == [(oid, "shipped")]
    assert len(shop.calls_to("/api/order_histories", "POST")) == 1


def test_a_partial_shipment_writes_tracking_but_leaves_the_state(shop):
    shop.add_item("MUG", 10)
    oid = shop.checkout("MUG", 2)
    conn = connector(shop)

    conn.push_fulfilment(fulfilment(oid, "1", ("6A0009",), complete=False))

    assert shop.tracking_of(oid) == ["6A0009"]
    assert shop.order_state(oid) == "Payment accepted"
    assert shop.emails_sent == [(oid, "in_transit")]


def test_a_shipment_for_a_cancelled_order_is_refused_after_its_tracking(shop):
    shop.add_item("MUG", 10)
    oid = shop.checkout("MUG", 1)
    shop.cancel(oid)

    with pytest.raises(Rejected):
        connector(shop).push_fulfilment(fulfilment(oid, "1", ("6A0010",)))
    assert shop.order_state(oid) == "Canceled"


# --- connection and failures ---------------------------------------------------------------------------------------
def test_test_connection_names_the_shop_and_checks_the_key_permissions(shop):
    assert connector(shop).test_connection() == "Boutique Rack Zone"
    shop.permissions["stock_availables"] = {"get"}
    with pytest.raises(Rejected, match=r"stock_availables \(PUT\)"):
        connector(shop).test_connection()


def test_a_bad_key_is_auth_failed(shop):
    with pytest.raises(AuthFailed, match="20: Authentification key is not active"):
        connector(shop, credentials={"webservice_key": "X" * 32}).test_connection()
    with pytest.raises(AuthFailed, match="Invalid authentication key format"):
        connector(shop, credentials={"webservice_key": "short"}).pull_orders(T0)


def test_malformed_xml_is_a_bad_payload(shop):
    shop.fail_next(1, status=200, body="<prestashop><orders><order><id>1</id>", path="/api/orders")
    with pytest.raises(BadPayload):
        connector(shop).pull_orders(T0)
    shop.fail_next(1, status=200, body="<html>maintenance</html>", path="/api/orders")
    with pytest.raises(BadPayload):
        connector(shop).pull_orders(T0)


def test_an_unreadable_line_does_not_stop_the_page_and_reads_as_a_line_to_hold(shop):
    shop.add_item("SHIRT-44", 5)
    bad, good = shop.checkout("SHIRT-44", 1), shop.checkout("SHIRT-44", 1)
    shop.db["orders"][int(bad)]["rows"][0]["product_quantity"] = ""
    shop.db["orders"][int(bad)]["rows"][0]["product_id"] = ""
    orders = {o.external_id: o for o in connector(shop).pull_orders(None).orders}
    assert set(orders) == {bad, good}
    (line,) = orders[bad].lines
    assert line.quantity == 0 and line.item_key.startswith("unreadable:")
    assert orders[good].lines[0].quantity == 1


def test_xml_with_entities_is_refused_not_expanded(shop):
    bomb = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><prestashop><orders>&a;</orders></prestashop>'
    shop.fail_next(1, status=200, body=bomb, path="/api/orders")
    with pytest.raises(BadPayload):
        connector(shop).pull_orders(T0)


def test_a_503_or_a_timeout_is_unavailable(shop):
    shop.fail_next(1, status=503, body="<html>Service Unavailable</html>")
    with pytest.raises(Unavailable):
        connector(shop).pull_orders(T0)
    shop.delay_next(1, 1.5, path="/api/orders")
    with pytest.raises(Unavailable):
        connector(shop, timeout=0.5).pull_orders(T0)


def test_a_host_that_throttles_answers_rate_limited_with_its_retry_after():
    shop = PrestaShopStandIn(rate=0.2, burst=2)
    shop.start()
    try:
        shop.add_item("MUG", 10)
        conn = connector(shop)
        conn.test_connection()
        with pytest.raises(RateLimited) as caught:
            for _ in range(3):
                conn.fetch_order("1")
        assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    finally:
        shop.stop()
    assert shop.violations == []


def test_a_prestashop_error_document_is_read_into_the_error(shop):
    with pytest.raises(Rejected, match="87: Id\\(s\\) not exists: 42"):
        connector(shop)._call("GET", "order_carriers/42")


def test_the_stand_in_records_a_body_that_breaks_the_schema(shop):
    shop.add_item("MUG", 8)
    body = ('<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><stock_available><id>1</id>'
            '<id_product>1</id_product><id_product_attribute>0</id_product_attribute><quantity>-x</quantity>'
            '</stock_available></prestashop>')
    resp = requests.put(f"{shop.url}/api/stock_availables/1", data=body, auth=(shop.key, ""),
                        headers={"Content-Type": "text/xml"}, timeout=5)
    assert resp.status_code == 400
    assert any("quantity" in v for v in shop.violations)
    assert any("depends_on_stock" in v for v in shop.violations)
    assert shop.stock_of("MUG") == 8
    shop.violations.clear()


# --- dates on the shop's clock -------------------------------------------------------------------------------------
def test_shop_dates_are_read_in_the_shop_time_zone_and_the_repeated_hour_is_reread(shop):
    conn = connector(shop)
    assert conn.from_shop_time("2026-01-10 12:00:00", "d") == dt.datetime(2026, 1, 10, 11, 0, tzinfo=dt.UTC)
    assert conn.shop_time(dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)) == "2026-07-01 10:00:00"
    # 25 Oct 2026, 01:30 UTC is 02:30 the second time round in Paris: read from 01:30 to catch the first 02:xx.
    assert conn.shop_time(dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)) == "2026-10-25 01:30:00"
    other = connector(shop, options={"shop_timezone": "America/Montreal"})
    assert other.shop_time(dt.datetime(2026, 1, 10, 17, 0, tzinfo=dt.UTC)) == "2026-01-10 12:00:00"
    with pytest.raises(Rejected):
        connector(shop, options={"shop_timezone": "Mars/Olympus"})


def test_a_carrier_added_after_the_first_read_is_named(shop):
    shop.add_item("MUG", 10)
    conn = connector(shop)
    first = shop.checkout("MUG", 1)
    assert conn.fetch_order(first).shipping_method == "Colissimo"
    with shop.lock:
        shop.db["carriers"][3] = {"id": 3, "name": "Mondial Relay", "url": "", "active": 1, "deleted": 0}
    later = shop.checkout("MUG", 1, carrier=3)

    assert conn.fetch_order(later).shipping_method == "Mondial Relay"


def test_checkouts_racing_for_the_last_units_never_sell_more_than_the_shop_holds(shop):
    shop.add_item("SHIRT-BLUE-44", 5, product_of="SHIRT")
    with ThreadPoolExecutor(max_workers=8) as pool:
        sold = [o for o in pool.map(lambda _: shop.checkout("SHIRT-BLUE-44", 1), range(20)) if o]

    assert len(sold) == 5 and shop.stock_of("SHIRT-BLUE-44") == 0
    assert len(pull_all(connector(shop), dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))) == 5


def test_a_multistore_channel_filters_its_shop_and_the_host_may_throttle_with_503():
    shop = PrestaShopStandIn(rate=0.5, burst=3, throttle_status=503)
    shop.start()
    try:
        mug = shop.add_item("MUG", 10)
        conn = connector(shop, options={"shop_timezone": "Europe/Paris", "id_shop": "1"})
        assert conn.push_stock([StockUpdate(mug, "MUG", 6)])[0].ok
        assert shop.calls_to("/api/stock_availables", "GET")[-1].query["filter[id_shop]"] == ["[1]"]
        with pytest.raises(Unavailable) as caught:
            for _ in range(3):
                conn.pull_orders(T0)
        assert caught.value.status == 503
    finally:
        shop.stop()
    assert shop.stock_of("MUG") == 6
    assert shop.violations == []


def test_the_stand_in_records_a_call_to_a_route_or_resource_the_webservice_has_not(shop):
    auth = (shop.key, "")
    assert requests.get(f"{shop.url}/api/ordres", auth=auth, timeout=5).status_code == 400
    assert requests.get(f"{shop.url}/api/orders/abc", auth=auth, timeout=5).status_code == 400
    assert requests.get(f"{shop.url}/api/orders?filter[date_upd]=[2026-01-01,2026-02-01]", auth=auth,
                        timeout=5).status_code == 400          # a date filter without date=1
    assert len(shop.violations) == 3
    shop.violations.clear()


# --- relay points and prices -------------------------------------------------------------------------------------
def test_the_relay_point_comes_from_the_address_the_mondial_relay_or_colissimo_module_gave_the_order(shop):
    shop.add_item("MUG", 9)
    mondial = shop.checkout("MUG", 1, delivery={"alias": "Point Mondial Relay : FR-066974",
                                                "other": "Point Mondial Relay : FR-066974", "company": "LAVERIE"})
    colissimo = shop.checkout("MUG", 1, delivery={"alias": "COLISSIMO POINT PICKUP 17", "other": "987654",
                                                  "company": "TABAC DE LA GARE"})
    home = shop.checkout("MUG", 1, delivery={"other": "Digicode 1234"})
    read = connector(shop)
    assert read.fetch_order(mondial).relay_point_id == "FR-066974"
    assert read.fetch_order(colissimo).relay_point_id == "987654"
    assert read.fetch_order(home).relay_point_id is None
    order = read.fetch_order(home)
    assert [ln.unit_price for ln in order.lines] == [Decimal("19.900000")] and order.currency == "EUR"


def test_relay_point_rules_are_the_shops_own_when_set_and_a_bad_rule_is_refused(shop):
    shop.add_item("MUG", 9)
    oid = shop.checkout("MUG", 1, delivery={"alias": "Point Mondial Relay : FR-066974", "address2": "PR 123456"})
    custom = connector(shop, options={**shop.connector_config().options,
                                      "relay_point_rules": r"address2~^PR (\d{6})$"})
    assert custom.fetch_order(oid).relay_point_id == "123456"      # the defaults are replaced
    off = connector(shop, options={**shop.connector_config().options, "relay_point_rules": "off"})
    assert off.fetch_order(oid).relay_point_id is None
    for bad in ("password~x", "alias~(", "alias~x->secret", "no tilde here"):
        with pytest.raises(Rejected, match="relay point rule"):
            connector(shop, options={"relay_point_rules": bad})
