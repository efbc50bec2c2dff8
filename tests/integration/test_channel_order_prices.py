"""What each platform's connector reads of the customer's relay point, the line prices and the currency arrives
on the Order the intake writes: the real connectors, against the shop stand-ins, taken in on PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.channel_support import Defers
from tests.integration.stock_world import build_world
from tests.standins.amazon import AmazonStandIn
from tests.standins.base import StandIn
from tests.standins.mirakl import MiraklStandIn
from tests.standins.prestashop import PrestaShopStandIn
from tests.standins.shopify import ShopifyStandIn
from tests.standins.woocommerce import WooCommerceStandIn
from wms.channels import services
from wms.channels.connectors.base import ChannelOrder, ConnectorConfig
from wms.channels.sync import orders as intake
from wms.channels.sync.common import connector_for
from wms.db import db
from wms.orders.models import Channel, ChannelKind, Order

running = contextmanager(StandIn.serving)   # started, then checked for schema violations and stopped


@pytest.fixture
def world(app, session, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    import wms.jobs.engine

    monkeypatch.setattr(wms.jobs.engine, "_defer", Defers())   # jobs the intake defers are recorded, not sent
    built = build_world(make_user)
    session.commit()
    return built


def take_in(world, kind: str, config: ConnectorConfig, read) -> Order:  # type: ignore[no-untyped-def]
    """Connect a channel to the stand-in, read one order with the real connector, take it in."""
    channel = Channel(code=kind.upper()[:32], name=kind, kind=ChannelKind.WEB_SHOP, warehouse_id=world.warehouse.id)
    db.session.add(channel)
    db.session.flush()
    conn = services.connect_channel(channel, kind, config.base_url, dict(config.credentials), dict(config.options))
    connector = connector_for(conn)
    incoming: ChannelOrder = read(connector)
    outcome = intake.take_in(channel, conn, connector, incoming)
    assert outcome == "created", outcome
    db.session.commit()
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.channel_id == channel.id,
                                                 Order.external_id == incoming.external_id))


def test_shopify_relay_point_from_the_apps_note_attribute_and_prices(world) -> None:  # type: ignore[no-untyped-def]
    with running(ShopifyStandIn()) as shop:
        shop.add_item("MUG", 5)
        oid = shop.add_order([("MUG", 2)], note_attributes={"Gift": "no", "Point-Relais-ID": "FR-012345"})
        config = shop.connector_config()
        config = ConnectorConfig(config.base_url, config.credentials,
                                 {**config.options, "relay_point_attributes": "point-relais-id"})
        order = take_in(world, "shopify", config, lambda c: c.fetch_order(oid))
    assert order.relay_point_id == "FR-012345" and order.currency == "EUR"
    assert [(ln.quantity, ln.unit_price) for ln in order.lines] == [(2, Decimal("10.00"))]


def test_woocommerce_relay_point_meta_and_the_tax_included_unit_price(world) -> None:  # type: ignore[no-untyped-def]
    with running(WooCommerceStandIn()) as shop:
        shop.add_item("MUG", 5)
        oid = shop.checkout("MUG", 3, relay_point_id="FR-075123", vat_rate="0.20")
        order = take_in(world, "woocommerce", shop.connector_config(), lambda c: c.fetch_order(oid))
    # 3 x 19.90 tax included: WooCommerce stores 49.75 + 9.95 tax; one unit paid 19.90
    assert order.relay_point_id == "FR-075123" and order.currency == "EUR"
    assert [ln.unit_price for ln in order.lines] == [Decimal("19.90")]


def test_prestashop_relay_point_from_the_mondial_relay_modules_address(world) -> None:  # type: ignore[no-untyped-def]
    with running(PrestaShopStandIn()) as shop:
        shop.add_item("MUG", 5)
        oid = shop.checkout("MUG", 2, delivery={
            "alias": "Point Mondial Relay : FR-066974", "other": "Point Mondial Relay : FR-066974",
            "company": "LAVERIE DU MARCHE", "address1": "4 place du Marche"})
        order = take_in(world, "prestashop", shop.connector_config(), lambda c: c.fetch_order(oid))
    assert order.relay_point_id == "FR-066974" and order.currency == "EUR"
    assert [ln.unit_price for ln in order.lines] == [Decimal("19.90")]
    assert order.ship_to["line1"] == "4 place du Marche"


def test_mirakl_pudo_and_unit_price(world) -> None:  # type: ignore[no-untyped-def]
    with running(MiraklStandIn()) as market:
        market.add_item("MUG", 5, price=12.5)
        oid = market.checkout("MUG", 2, relay_point_id="PUDO-0042")
        order = take_in(world, "mirakl", market.connector_config(), lambda c: c.fetch_order(oid))
    assert order.relay_point_id == "PUDO-0042" and order.currency == "EUR"
    assert [ln.unit_price for ln in order.lines] == [Decimal("12.50")]


def test_amazon_unit_price_is_the_item_price_over_the_quantity(world) -> None:  # type: ignore[no-untyped-def]
    with running(AmazonStandIn()) as amazon:
        amazon.add_item("MUG", 5)
        oid = amazon.checkout("MUG", 3)
        order = take_in(world, "amazon", amazon.connector_config(), lambda c: c.fetch_order(oid))
    assert order.relay_point_id is None and order.currency == "EUR"
    assert [ln.unit_price for ln in order.lines] == [Decimal("19.90")]
