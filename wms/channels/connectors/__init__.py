"""Channel connectors, one module per platform, found by kind."""

from __future__ import annotations

import importlib

from wms.channels.connectors.base import Connector, ConnectorConfig

KINDS = {
    "prestashop": "wms.channels.connectors.prestashop:PrestaShopConnector",
    "woocommerce": "wms.channels.connectors.woocommerce:WooCommerceConnector",
    "shopify": "wms.channels.connectors.shopify:ShopifyConnector",
    "mirakl": "wms.channels.connectors.mirakl:MiraklConnector",
    "amazon": "wms.channels.connectors.amazon:AmazonConnector",
}


def connector_class(kind: str) -> type[Connector]:
    """The connector class for a platform kind (KeyError for `api`, `pos` and unknown kinds)."""
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def make_connector(kind: str, config: ConnectorConfig) -> Connector:
    """A connector for one channel's platform and settings."""
    return connector_class(kind)(config)
