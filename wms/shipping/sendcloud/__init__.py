"""Sendcloud (API v3 and Service Points API v2) as the aggregator carrier: see `carrier` for what was followed
and what was verified, `payloads` for the mapping to and from Sendcloud's documents."""

from wms.shipping.sendcloud.carrier import DEFAULT_BASE_URL, DEFAULT_SERVICE_POINTS_URL, SendcloudCarrier

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_SERVICE_POINTS_URL", "SendcloudCarrier"]
