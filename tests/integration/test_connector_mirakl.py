"""The Mirakl connector against the Mirakl stand-in (no database): OR11 pulls by update date at the documented
frequency, OR21 acceptance (whole orders and single lines), OF24 offers sent whole, OR23/OR24 write-back, errors."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.standins.mirakl import MiraklStandIn
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
from wms.channels.connectors.mirakl import OFFER_FIELDS, MiraklConnector


@pytest.fixture
def market() -> Iterator[MiraklStandIn]:
    yield from MiraklStandIn().serving()


@pytest.fixture
def mirakl(market: MiraklStandIn) -> MiraklConnector:
    connector = make_connector("mirakl", market.connector_config())
    assert isinstance(connector, MiraklConnector)
    return connector


def _pull_all(connector: MiraklConnector, since: dt.datetime | None):  # type: ignore[no-untyped-def]
    orders, cursor = [], None
    while True:
        page = connector.pull_orders(since, cursor)
        orders.extend(page.orders)
        if page.cursor is None:
            return orders
        cursor = page.cursor


def _shipment(external_id: str, refs: list[str], *, complete: bool = True, numbers=("6A123",)) -> Fulfilment:
    return Fulfilment(external_id=external_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=tuple(numbers), tracking_url="https://www.laposte.fr/outils/suivre-vos-envois",
                      lines=tuple(FulfilmentLine(r, 1) for r in refs), shipped_at=dt.datetime.now(dt.UTC),
                      complete=complete)


def test_the_connector_says_what_it_is(mirakl: MiraklConnector) -> None:
    assert mirakl.kind == "mirakl" and mirakl.needs_acceptance and not mirakl.has_webhooks
    assert mirakl.poll_interval_s == 300
    assert "once per minute" in mirakl.rate_limit.source
    assert "Stand-in Mirakl shop" in mirakl.test_connection()


def test_a_new_order_waits_for_acceptance_with_its_customer_and_relay_point(market: MiraklStandIn,
                                                                            mirakl: MiraklConnector) -> None:
    market.add_item("SHIRT-44", 3)
    order_id = market.checkout("SHIRT-44", 2, email="anne@example.com", relay_point_id="PUDO-0042")
    assert order_id is not None and market.stock_of("SHIRT-44") == 1
    (order,) = _pull_all(mirakl, None)
    assert order.external_id == order_id and order.state == OrderState.AWAITING_ACCEPTANCE
    assert [(line.item_key, line.quantity) for line in order.lines] == [("SHIRT-44", 2)]
    assert order.customer_email == "anne@example.com" and order.customer_language == "fr"
    assert order.relay_point_id == "PUDO-0042" and order.shipping_method == "STD"
    assert order.ship_to is not None and order.ship_to.country == "FR" and order.ship_to.postcode == "69003"
    assert order.raw["order_id"] == order_id


def test_a_checkout_beyond_the_offer_quantity_is_refused(market: MiraklStandIn) -> None:
    market.add_item("LAMP", 1)
    assert market.checkout("LAMP", 2) is None
    assert market.stock_of("LAMP") == 1


def test_a_pull_by_update_date_reads_an_order_stamped_inside_the_overlap(market: MiraklStandIn,
                                                                          mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 10)
    late = market.checkout("MUG", 1)
    assert late is not None
    checkpoint = dt.datetime.now(dt.UTC)
    market.touch(late, checkpoint - dt.timedelta(seconds=30))      # committed late, stamped behind the checkpoint
    fresh = market.checkout("MUG", 1)
    assert [o.external_id for o in _pull_all(mirakl, checkpoint)] == [fresh]
    overlap = dt.timedelta(seconds=mirakl.overlap_s)
    assert {o.external_id for o in _pull_all(mirakl, checkpoint - overlap)} == {late, fresh}
    (call,) = [c for c in market.calls_to("/api/orders", "GET")][-1:]
    assert call.query["start_update_date"][0].endswith("Z") and call.query["max"] == ["100"]


def test_orders_are_paged_by_offset_at_the_documented_frequency_without_a_429(market: MiraklStandIn,
                                                                             mirakl: MiraklConnector) -> None:
    market.add_item("SOCK", 500)
    ids = [market.checkout("SOCK", 1) for _ in range(230)]
    pulled = _pull_all(mirakl, None)
    assert [o.external_id for o in pulled] == ids
    pages = market.calls_to("/api/orders", "GET")
    assert [c.query["offset"] for c in pages] == [["0"], ["100"], ["200"]]
    assert market.rate_limited == 0
    gaps = [b.at - a.at for a, b in zip(pages, pages[1:], strict=False)]
    assert min(gaps) >= 60 * market.pacing_scale      # never faster than "once per minute" (scaled)


def test_accepting_an_order_moves_it_to_shipping(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.add_item("SHIRT-44", 3)
    order_id = market.checkout("SHIRT-44", 1)
    (order,) = _pull_all(mirakl, None)
    mirakl.accept_orders([(order, True)])
    assert market.order_state(order_id) == "SHIPPING"
    (body,) = [c.body for c in market.calls_to("/accept", "PUT")]
    assert b'"accepted": true' in body
    assert mirakl.fetch_order(order_id).state == OrderState.OPEN  # type: ignore[union-attr]
    assert market.stock_of("SHIRT-44") == 2


def test_refusing_an_order_cancels_it_and_gives_the_quantity_back(market: MiraklStandIn,
                                                                    mirakl: MiraklConnector) -> None:
    market.add_item("LAMP", 2)
    order_id = market.checkout("LAMP", 2)
    (order,) = _pull_all(mirakl, None)
    mirakl.accept_orders([(order, False)])
    assert market.order_state(order_id) == "REFUSED" and market.stock_of("LAMP") == 2
    assert mirakl.fetch_order(order_id).state == OrderState.CANCELLED  # type: ignore[union-attr]


def test_a_refused_line_leaves_the_rest_of_the_order_to_ship(market: MiraklStandIn,
                                                              mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 5)
    market.add_item("LAMP", 5)
    order_id = market.checkout_lines([("MUG", 1), ("LAMP", 2)])
    assert order_id is not None
    (order,) = _pull_all(mirakl, None)
    mug, lamp = order.lines
    mirakl.accept_lines(order_id, {mug.ref: True, lamp.ref: False})
    assert market.order_state(order_id) == "SHIPPING" and market.stock_of("LAMP") == 5
    again = mirakl.fetch_order(order_id)
    assert again is not None and again.state == OrderState.OPEN
    assert [line.item_key for line in again.lines] == ["MUG"]


def test_accepting_an_order_twice_is_refused_as_mirakl_refuses_it(market: MiraklStandIn,
                                                                  mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 5)
    market.checkout("MUG", 1)
    (order,) = _pull_all(mirakl, None)
    mirakl.accept_orders([(order, True)])
    with pytest.raises(Rejected, match="not in WAITING_ACCEPTANCE"):
        mirakl.accept_orders([(order, True)])


def test_listing_reads_every_offer_with_its_barcode(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    for n in range(120):
        market.add_item(f"SKU-{n:03d}", n)
    items = list(mirakl.list_items())
    assert len(items) == 120 and items[7].item_key == "SKU-007" and items[7].quantity == 7
    assert items[0].barcode is not None and items[0].barcode.startswith("3700000")


def test_a_stock_push_sends_every_offer_field_and_keeps_price_and_leadtime(market: MiraklStandIn,
                                                                           mirakl: MiraklConnector) -> None:
    market.add_item("SHIRT-44", 3, price=24.5, leadtime_to_ship=4, logistic_class="L")
    results = mirakl.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 9)])
    assert [(r.item_key, r.ok, r.error) for r in results] == [("SHIRT-44", True, None)]
    (call,) = market.calls_to("/api/offers", "POST")
    (sent,) = json.loads(call.body)["offers"]
    assert tuple(sent) == OFFER_FIELDS and sent["update_delete"] == "update"
    offer = market.offer("SHIRT-44")
    assert offer["quantity"] == 9 and offer["price"] == 24.5 and offer["leadtime_to_ship"] == 4
    assert offer["logistic_class"] == "L" and offer["offer_additional_fields"] == [{"code": "warranty",
                                                                                    "value": "2y"}]
    assert mirakl.imports[-1]["status"] == "COMPLETE"


def test_an_offer_sent_without_its_fields_is_a_violation_and_loses_them(market: MiraklStandIn) -> None:
    market.add_item("MUG", 3, price=9.0, leadtime_to_ship=3)
    resp = requests.post(f"{market.url}/api/offers", json={"offers": [{"shop_sku": "MUG", "quantity": 5}]},
                         headers={"Authorization": market.api_key}, timeout=5)
    assert resp.status_code == 201
    market.wait_for_imports()
    offer = market.offer("MUG")
    assert offer["quantity"] == 5 and offer["price"] is None and offer["leadtime_to_ship"] is None
    assert any("'price' is a required property" in v for v in market.violations)
    market.violations.clear()


def test_an_unknown_offer_is_reported_failed_and_the_others_pushed(market: MiraklStandIn,
                                                                    mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    results = mirakl.push_stock([StockUpdate("MUG", "MUG", 1), StockUpdate("GHOST", "GHOST", 4)])
    assert [(r.item_key, r.ok) for r in results] == [("MUG", True), ("GHOST", False)]
    assert "no such offer" in (results[1].error or "")
    assert market.stock_of("MUG") == 1


def test_lines_the_error_report_names_are_failed(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    market.add_item("LAMP", 3)
    original = market._process_import

    def lose_lamp(import_id: int) -> None:    # the marketplace deletes the offer while the import waits
        with market.lock:
            market.offers.pop("LAMP", None)
        original(import_id)

    market._process_import = lose_lamp  # type: ignore[method-assign]
    results = mirakl.push_stock([StockUpdate("MUG", "MUG", 2), StockUpdate("LAMP", "LAMP", 2)])
    assert [(r.item_key, r.ok) for r in results] == [("MUG", True), ("LAMP", False)]
    assert "does not exist" in (results[1].error or "")
    assert market.calls_to("/error_report", "GET")


def test_an_import_not_done_within_the_wait_is_reported_not_done(market: MiraklStandIn) -> None:
    market.import_delay = 5.0
    market.add_item("MUG", 3)
    connector = make_connector("mirakl", market.connector_config(import_wait_s=0.5))
    (result,) = connector.push_stock([StockUpdate("MUG", "MUG", 2)])
    assert not result.ok and "still WAITING" in (result.error or "")


def test_two_pushes_in_a_row_wait_for_the_offer_frequency_instead_of_meeting_a_429(
        market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    for qty in (4, 5, 6):
        assert mirakl.push_stock([StockUpdate("MUG", "MUG", qty)])[0].ok
    assert market.rate_limited == 0 and market.stock_of("MUG") == 6


def test_tracking_then_ship_writes_the_carrier_and_closes_the_order(market: MiraklStandIn,
                                                                   mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    order_id = market.checkout("MUG", 1)
    (order,) = _pull_all(mirakl, None)
    mirakl.accept_orders([(order, True)])
    mirakl.push_fulfilment(_shipment(order_id, [order.lines[0].ref]))
    assert market.tracking_of(order_id) == ["6A123"] and market.order_state(order_id) == "SHIPPED"
    assert market.trackings[order_id][0]["carrier_name"] == "Colissimo"
    assert mirakl.fetch_order(order_id).state == OrderState.CLOSED  # type: ignore[union-attr]
    mirakl.push_fulfilment(_shipment(order_id, [order.lines[0].ref]))   # a retried job: already done
    assert market.tracking_of(order_id) == ["6A123"]


def test_a_known_carrier_is_sent_by_its_marketplace_code_and_a_partial_shipment_does_not_ship(
        market: MiraklStandIn) -> None:
    market.add_item("MUG", 3)
    order_id = market.checkout_lines([("MUG", 1), ("MUG", 1)])
    connector = make_connector("mirakl", market.connector_config(carrier_codes={"colissimo": "COLISSIMO"}))
    (order,) = _pull_all(connector, None)   # type: ignore[arg-type]
    connector.accept_orders([(order, True)])
    connector.push_fulfilment(_shipment(order_id, [order.lines[0].ref], complete=False))
    assert market.order_state(order_id) == "SHIPPING"
    assert market.trackings[order_id] == [{"carrier_code": "COLISSIMO", "tracking_number": "6A123"}]


def test_a_wrong_key_is_an_auth_failure(market: MiraklStandIn) -> None:
    config = market.connector_config()
    bad = make_connector("mirakl", ConnectorConfig(config.base_url, {"api_key": "nope"}, config.options))
    with pytest.raises(AuthFailed, match="Unauthorized"):
        bad.test_connection()


def test_another_shop_id_is_refused(market: MiraklStandIn) -> None:
    connector = make_connector("mirakl", market.connector_config(shop_id=9))
    with pytest.raises(AuthFailed, match="shop 9"):
        connector.test_connection()


def test_a_429_is_rate_limited_with_the_retry_after(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.fail_next(1, 429, path="/api/orders", body='{"message": "Too many requests", "status": 429}')
    with pytest.raises(RateLimited) as caught:
        mirakl.pull_orders(None)
    assert caught.value.retry_after == pytest.approx(60 * mirakl.pacing_scale)


def test_5xx_and_timeouts_are_unavailable(market: MiraklStandIn) -> None:
    config = market.connector_config()
    connector = make_connector("mirakl", ConnectorConfig(config.base_url, config.credentials, config.options,
                                                         timeout=0.3))
    market.fail_next(1, 503, path="/api/account")
    with pytest.raises(Unavailable):
        connector.test_connection()
    market.delay_next(1, 1.0, path="/api/account")
    with pytest.raises(Unavailable, match="no answer"):
        connector.test_connection()


def test_an_unknown_order_and_a_bad_order_id_are_rejected(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    with pytest.raises(Rejected, match="not found"):
        mirakl.accept_lines("MK999999-A", {"MK999999-A-1": True})
    with pytest.raises(Rejected, match="not an order id"):
        mirakl.push_fulfilment(_shipment("../account", ["x"]))
    assert mirakl.fetch_order("MK999999-A") is None


def test_an_order_in_a_state_mirakl_added_later_is_held_as_not_payable_and_blocks_nothing(
        market: MiraklStandIn, mirakl: MiraklConnector, caplog: pytest.LogCaptureFixture) -> None:
    market.add_item("MUG", 3)
    odd = market.checkout("MUG", 1)
    fine = market.checkout("MUG", 1)
    with market.lock:
        market.orders[odd]["order_state"] = "TELEPORTED"
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    states = {o.external_id: o.state for o in _pull_all(mirakl, since)}
    assert states == {odd: OrderState.PENDING_PAYMENT, fine: OrderState.AWAITING_ACCEPTANCE}
    assert "unknown state 'TELEPORTED'" in caplog.text


def test_an_order_without_its_id_is_a_bad_payload(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    order_id = market.checkout("MUG", 1)
    with market.lock:
        market.orders[order_id]["last_updated_date"] = "yesterday"
    with pytest.raises(BadPayload, match="last_updated_date"):
        mirakl.pull_orders(None)


def test_cancellation_on_the_marketplace_reads_as_cancelled(market: MiraklStandIn, mirakl: MiraklConnector) -> None:
    market.add_item("MUG", 3)
    order_id = market.checkout("MUG", 2)
    market.cancel(order_id)
    assert market.stock_of("MUG") == 3
    (order,) = _pull_all(mirakl, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
    assert order.state == OrderState.CANCELLED and order.lines == ()


def test_concurrent_checkouts_never_sell_more_than_the_offer_holds(market: MiraklStandIn,
                                                                  mirakl: MiraklConnector) -> None:
    market.add_item("LAST", 5)
    results: list[str | None] = []
    lock = threading.Lock()

    def buy() -> None:
        got = market.checkout("LAST", 1)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=buy) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sold = [r for r in results if r is not None]
    assert len(sold) == 5 and market.stock_of("LAST") == 0
    assert sorted(o.external_id for o in _pull_all(mirakl, None)) == sorted(sold)


def test_an_order_whose_customer_is_withheld_until_acceptance_reads_without_ship_to_then_with_it() -> None:
    market = MiraklStandIn(hide_customer_until_accepted=True).start()
    try:
        market.add_item("MUG", 3)
        order_id = market.checkout("MUG", 1, email="anne@example.com")
        connector = make_connector("mirakl", market.connector_config())
        (waiting,) = _pull_all(connector, None)   # type: ignore[arg-type]
        assert waiting.ship_to is None and waiting.customer_email is None
        connector.accept_orders([(waiting, True)])
        accepted = connector.fetch_order(order_id)
        assert accepted is not None and accepted.customer_email == "anne@example.com"
        assert accepted.ship_to is not None and accepted.ship_to.city == "Lyon"
        assert market.violations == []
    finally:
        market.stop()
