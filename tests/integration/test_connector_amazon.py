"""The Amazon SP-API connector against the Amazon stand-in (no database): LWA tokens cached and refreshed, getOrders
by LastUpdatedAfter with NextToken pages, MFN only, RDT buyer data, patchListingsItem stock, confirmShipment per
package, per-operation pacing and errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.standins.amazon import AmazonStandIn
from wms.channels.connectors import make_connector
from wms.channels.connectors.amazon import AmazonConnector
from wms.channels.connectors.base import (
    AuthFailed,
    ConnectorConfig,
    Fulfilment,
    FulfilmentLine,
    OrderState,
    RateLimited,
    Rejected,
    StockUpdate,
    Unavailable,
)

SINCE = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)


@pytest.fixture
def amazon() -> Iterator[AmazonStandIn]:
    yield from AmazonStandIn().serving()


@pytest.fixture
def connector(amazon: AmazonStandIn) -> AmazonConnector:
    made = make_connector("amazon", amazon.connector_config())
    assert isinstance(made, AmazonConnector)
    return made


def _pull_all(connector: AmazonConnector, since: dt.datetime | None):  # type: ignore[no-untyped-def]
    orders, cursor, pages = [], None, 0
    while True:
        page = connector.pull_orders(since, cursor)
        pages += 1
        orders.extend(page.orders)
        if page.cursor is None:
            return orders, pages
        cursor = page.cursor


def _shipment(external_id: str, ref: str, number: str = "6A12345678901", quantity: int = 1) -> Fulfilment:
    return Fulfilment(external_id=external_id, carrier_code="colissimo", carrier_name="Colissimo",
                      tracking_numbers=(number,), tracking_url=None, lines=(FulfilmentLine(ref, quantity),),
                      shipped_at=dt.datetime.now(dt.UTC))


def test_the_lwa_token_is_asked_once_and_sent_on_every_call(amazon: AmazonStandIn,
                                                             connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    connector.test_connection()
    connector.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 3)])
    list(connector.list_items())
    assert amazon.token_grants == 1
    token_call = amazon.calls_to("/auth/o2/token")[0]
    assert b"grant_type=refresh_token" in token_call.body
    for call in amazon.calls:
        if call.path != "/auth/o2/token":
            assert call.headers.get("X-Amz-Access-Token", "").startswith("Atza|")


def test_a_second_connector_of_the_same_account_reuses_the_cached_token(amazon: AmazonStandIn) -> None:
    amazon.add_item("SHIRT-44", 5)
    for _ in range(3):
        make_connector("amazon", amazon.connector_config()).test_connection()
    assert amazon.token_grants == 1


def test_an_expired_token_is_refreshed_once_and_the_call_retried(amazon: AmazonStandIn,
                                                                 connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    connector.test_connection()
    amazon.expire_tokens()
    assert connector.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 2)])[0].ok
    assert amazon.token_grants == 2
    assert [c.status for c in amazon.calls_to("/listings/2021-08-01/items/A2SELLER01/SHIRT-44")] == [403, 200]
    assert amazon.stock_of("SHIRT-44") == 2


def test_a_token_refused_after_a_refresh_is_auth_failed(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    amazon.fail_next(2, 403, path="/listings/", body='{"errors": [{"code": "Unauthorized", "message": '
                     '"Access to requested resource is denied.", "details": ""}]}')
    with pytest.raises(AuthFailed, match="Unauthorized"):
        connector.test_connection()


def test_a_revoked_refresh_token_is_auth_failed(amazon: AmazonStandIn) -> None:
    config = amazon.connector_config()
    bad = ConnectorConfig(config.base_url, {**config.credentials, "refresh_token": "Atzr|revoked"}, config.options)
    with pytest.raises(AuthFailed, match="LWA refused"):
        make_connector("amazon", bad).test_connection()


def test_orders_are_pulled_by_last_update_with_next_token_pages() -> None:
    with AmazonStandIn(page_size=2) as amazon:
        amazon.add_item("SHIRT-44", 20)
        placed = [amazon.checkout("SHIRT-44", 1) for _ in range(5)]
        connector = make_connector("amazon", amazon.connector_config())
        orders, pages = _pull_all(connector, SINCE)  # type: ignore[arg-type]
        assert pages == 3
        assert [o.external_id for o in orders] == placed
        first = amazon.calls_to("/orders/v0/orders", "GET")[0].query
        assert first["LastUpdatedAfter"] and first["FulfillmentChannels"] == ["MFN"]
        assert all("NextToken" in c.query for c in amazon.calls_to("/orders/v0/orders", "GET")[1:] if
                   c.path == "/orders/v0/orders")
        order = orders[0]
        assert order.state is OrderState.OPEN
        assert order.lines[0].item_key == "SHIRT-44" and order.lines[0].quantity == 1
        assert order.shipping_method == "Std FR Dom_1"
        assert amazon.violations == []


def test_a_pull_after_the_checkpoint_reads_only_later_changes(amazon: AmazonStandIn,
                                                             connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    old = amazon.checkout("SHIRT-44", 1)
    assert old is not None
    checkpoint = dt.datetime.fromisoformat(amazon.orders[old]["LastUpdateDate"].replace("Z", "+00:00"))
    new = amazon.checkout("SHIRT-44", 1)
    orders, _ = _pull_all(connector, checkpoint + dt.timedelta(seconds=1))
    assert [o.external_id for o in orders] == [new]


def test_only_merchant_fulfilled_orders_are_ours(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    mfn = amazon.checkout("SHIRT-44", 1)
    amazon.checkout("SHIRT-44", 1, channel="AFN")
    orders, _ = _pull_all(connector, SINCE)
    assert [o.external_id for o in orders] == [mfn]


def test_the_restricted_data_token_brings_the_address_and_email(amazon: AmazonStandIn,
                                                                connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    amazon.checkout("SHIRT-44", 1, email="buyer@marketplace.amazon.fr")
    (order,), _ = _pull_all(connector, SINCE)
    assert order.customer_email == "buyer@marketplace.amazon.fr"
    assert order.ship_to is not None and order.ship_to.line1 == "12 rue des Lilas" and order.ship_to.country == "FR"
    assert len(amazon.calls_to("/restrictedDataToken", "POST")) == 1


def test_without_the_pii_role_orders_come_without_address(amazon: AmazonStandIn) -> None:
    amazon.add_item("SHIRT-44", 5)
    amazon.checkout("SHIRT-44", 1)
    connector = make_connector("amazon", amazon.connector_config(use_rdt=False))
    (order,), _ = _pull_all(connector, SINCE)  # type: ignore[arg-type]
    assert order.ship_to is None and order.customer_email is None
    assert amazon.calls_to("/restrictedDataToken") == []


@pytest.mark.parametrize(("status", "state"), [
    ("Pending", OrderState.PENDING_PAYMENT), ("PendingAvailability", OrderState.PENDING_PAYMENT),
    ("Unshipped", OrderState.OPEN), ("PartiallyShipped", OrderState.OPEN), ("Canceled", OrderState.CANCELLED),
    ("Unfulfillable", OrderState.CANCELLED), ("Shipped", OrderState.CLOSED), ("InvoiceUnconfirmed", OrderState.CLOSED),
])
def test_amazon_statuses_map_to_ours(amazon: AmazonStandIn, connector: AmazonConnector, status: str,
                                     state: OrderState) -> None:
    amazon.add_item("SHIRT-44", 5)
    order_id = amazon.checkout("SHIRT-44", 1)
    assert order_id is not None
    amazon.orders[order_id]["OrderStatus"] = status
    fetched = connector.fetch_order(order_id)
    assert fetched is not None and fetched.state is state


def test_an_unknown_order_is_none(connector: AmazonConnector) -> None:
    assert connector.fetch_order("405-0000000-0000000") is None


def test_a_stock_push_replaces_fulfillment_availability(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    amazon.add_item("SHIRT-46", 5)
    results = connector.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 0), StockUpdate("SHIRT-46", "SHIRT-46", 7)])
    assert [r.ok for r in results] == [True, True]
    assert (amazon.stock_of("SHIRT-44"), amazon.stock_of("SHIRT-46")) == (0, 7)
    patch = amazon.calls_to("/items/A2SELLER01/SHIRT-46", "PATCH")[0]
    assert patch.query == {"marketplaceIds": ["A13V1IB3VIYZZH"]}
    assert b'"/attributes/fulfillment_availability"' in patch.body and b'"fulfillment_channel_code": "DEFAULT"' \
        in patch.body


def test_an_unknown_sku_is_reported_invalid_with_its_issue(connector: AmazonConnector) -> None:
    (result,) = connector.push_stock([StockUpdate("NOPE", "NOPE", 1)])
    assert not result.ok and result.error is not None and "INVALID" in result.error and "not found" in result.error


def test_a_small_push_is_paced_and_meets_no_429(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    for n in range(15):
        amazon.add_item(f"SKU-{n}", 5)
    results = connector.push_stock([StockUpdate(f"SKU-{n}", f"SKU-{n}", 1) for n in range(15)])
    assert all(r.ok for r in results)
    assert amazon.rate_limited == 0


def test_a_429_is_rate_limited_with_the_platform_error(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    connector.test_connection()
    amazon.fail_next(1, 429, path="/listings/", body='{"errors": [{"code": "QuotaExceeded", "message": '
                     '"You exceeded your quota for the requested resource.", "details": ""}]}')
    with pytest.raises(RateLimited, match="QuotaExceeded"):
        connector.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 1)])


def test_the_rate_limit_header_sets_the_operations_pace(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    from wms.channels.connectors.amazon import PACE_MARGIN, _bucket

    amazon.limits["patchListingsItem"] = (2.5, 10)
    amazon.add_item("SHIRT-44", 5)
    connector.push_stock([StockUpdate("SHIRT-44", "SHIRT-44", 1)])
    assert _bucket(connector.base_url, connector.seller_id, "patchListingsItem").rate == pytest.approx(2.5 * PACE_MARGIN)
    assert _bucket(connector.base_url, connector.seller_id, "getOrders").rate == pytest.approx(0.0167 * PACE_MARGIN)


def test_server_errors_are_unavailable_and_bad_input_rejected(amazon: AmazonStandIn,
                                                              connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    amazon.fail_next(1, 503, path="/orders/")
    with pytest.raises(Unavailable):
        connector.pull_orders(SINCE)
    with pytest.raises(Rejected, match="InvalidInput"):
        connector.push_fulfilment(_shipment("405-0000000-0000000", "1"))


def test_a_shipment_is_confirmed_per_package_and_marks_the_order_shipped(amazon: AmazonStandIn,
                                                                        connector: AmazonConnector) -> None:
    amazon.add_item("SHIRT-44", 5)
    order_id = amazon.checkout("SHIRT-44", 2)
    assert order_id is not None
    order = connector.fetch_order(order_id)
    assert order is not None
    ref = order.lines[0].ref
    connector.push_fulfilment(_shipment(order_id, ref, "6A0000000001", 1))
    assert amazon.order_state(order_id) == "PartiallyShipped"
    connector.push_fulfilment(_shipment(order_id, ref, "6A0000000002", 1))
    assert amazon.order_state(order_id) == "Shipped"
    assert amazon.tracking_of(order_id) == ["6A0000000001", "6A0000000002"]
    package = amazon.packages[order_id][0]
    assert package["carrierCode"] == "Colissimo" and package["orderItems"] == [{"orderItemId": ref, "quantity": 1}]
    assert connector.fetch_order(order_id).state is OrderState.CLOSED  # type: ignore[union-attr]


def test_the_listings_are_read_page_by_page(amazon: AmazonStandIn, connector: AmazonConnector) -> None:
    for n in range(25):
        amazon.add_item(f"SKU-{n:02d}", n, title=f"Shirt {n}")
    items = list(connector.list_items())
    assert [i.item_key for i in items] == [f"SKU-{n:02d}" for n in range(25)]
    assert items[3].quantity == 3 and items[3].title == "Shirt 3"
    assert len(amazon.calls_to("/listings/2021-08-01/items/A2SELLER01", "GET")) == 2


def test_checkout_refuses_what_the_listing_does_not_hold(amazon: AmazonStandIn) -> None:
    amazon.add_item("SHIRT-44", 1)
    assert amazon.checkout("SHIRT-44", 2) is None
    assert amazon.checkout("SHIRT-44", 1) is not None
    assert amazon.stock_of("SHIRT-44") == 0
