"""The one interface every channel connector implements, and the dataclasses it speaks.

A connector knows one platform: how to pull its orders, push available stock, write back a fulfilment and
verify and read its webhooks. It turns platform payloads into these dataclasses at its edge; no platform field
name travels further (docs/channels.md). Connectors do no database work: the sync services in
`wms.channels.sync` call them, inside jobs, and record what happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar


class ConnectorError(Exception):
    """The platform could not do what was asked. `transient` errors are retried by the job that met them."""

    transient: bool = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.body = body


class RateLimited(ConnectorError):
    """The platform said slow down (429, an empty cost bucket, a call-frequency limit); retry after `retry_after`."""


class Unavailable(ConnectorError):
    """Timeout, connection refused, 5xx: the platform may answer later."""


class AuthFailed(ConnectorError):
    """The credentials were refused (401/403): a person must fix them; retrying will not help."""

    transient = False


class Rejected(ConnectorError):
    """The platform refused this request for what it says (4xx other than auth and rate limit)."""

    transient = False


class BadPayload(ConnectorError):
    """The platform sent something we cannot read (malformed, missing fields); logged, never guessed at."""

    transient = False


def utc_moment(value: Any, platform: str, what: str = "date") -> dt.datetime:
    """An ISO-8601 timestamp from a platform as an aware UTC datetime; one without a zone is read as UTC.
    Anything else is a BadPayload naming the platform and the field."""
    if not isinstance(value, str) or not value:
        raise BadPayload(f"{platform}: not a {what}: {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadPayload(f"{platform}: not a {what}: {value!r}") from exc
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


class OrderState(StrEnum):
    OPEN = "open"                   # to fulfil
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # marketplaces: the seller must accept it first (Mirakl OR21)
    CANCELLED = "cancelled"         # cancelled or fully refunded before shipment
    CLOSED = "closed"               # shipped/completed elsewhere or nothing to do (ignored when new)
    PENDING_PAYMENT = "pending_payment"  # not paid yet: not an order to fulfil until it is


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    postcode: str
    city: str
    country: str                   # ISO 3166-1 alpha-2
    line2: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ChannelOrderLine:
    ref: str                       # the channel's id of the line (for partial fulfilment write-back)
    item_key: str                  # the channel's listing id, as ChannelItem.item_key (mapped to our SKU)
    sku: str | None                # the seller's reference on the channel, when it has one
    quantity: int
    unit_price: Decimal | None = None
    title: str | None = None


@dataclass(frozen=True)
class ChannelOrder:
    external_id: str               # the channel's order id (what the seller sees on the platform)
    state: OrderState
    updated_at: dt.datetime        # timezone-aware
    lines: tuple[ChannelOrderLine, ...]
    ship_to: Address | None = None
    customer_email: str | None = None
    customer_language: str | None = None  # "fr", "en", ... when the platform says
    shipping_method: str | None = None    # the channel's carrier/method, as the platform names it
    relay_point_id: str | None = None     # a pick-up point chosen at checkout
    placed_at: dt.datetime | None = None
    total: Decimal | None = None
    currency: str | None = None
    platform_ref: str | None = None       # a second platform id when it differs (Shopify gid, PrestaShop id)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the source, for audit


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[ChannelOrder, ...]
    cursor: str | None = None      # pass back to pull the next page of the same pass; None: the pass is done


@dataclass(frozen=True)
class ChannelItem:
    """A sellable listing on the channel (product, variant, combination or offer) and the SKU it carries."""

    item_key: str                  # stable channel id: "12:34" (PrestaShop product:combination), a Shopify
                                   # inventory item gid, a Mirakl offer SKU, an Amazon seller SKU ...
    sku: str | None
    title: str | None = None
    barcode: str | None = None
    quantity: int | None = None    # what the channel shows now, when it says


@dataclass(frozen=True)
class StockUpdate:
    item_key: str
    sku: str
    quantity: int                  # the new quantity the channel may sell (>= 0)
    previous: int | None = None    # what we last pushed, for compare-and-set platforms (Shopify)


@dataclass(frozen=True)
class StockResult:
    item_key: str
    ok: bool
    error: str | None = None
    channel_quantity: int | None = None  # what the channel held when a compare-and-set failed (re-read)


@dataclass(frozen=True)
class FulfilmentLine:
    ref: str                       # ChannelOrderLine.ref
    quantity: int


@dataclass(frozen=True)
class Fulfilment:
    external_id: str
    carrier_code: str              # ours (colissimo, dpd, ...)
    carrier_name: str              # the name shown to the customer
    tracking_numbers: tuple[str, ...]
    tracking_url: str | None
    lines: tuple[FulfilmentLine, ...]  # what this shipment holds (a partial shipment holds part of the order)
    shipped_at: dt.datetime
    complete: bool = True          # the order has nothing left to ship after this one
    notify_customer: bool = True
    platform_ref: str | None = None


@dataclass(frozen=True)
class Delivery:
    """The carrier delivered one shipment (already written back as a Fulfilment) to the customer."""

    external_id: str
    tracking_numbers: tuple[str, ...]
    delivered_at: dt.datetime
    order_delivered: bool = True   # every shipment of the order is delivered now (PrestaShop's state waits for it)
    note: str = ""                 # what the customer reads, in their language (platforms that post a note)
    notify_customer: bool = True
    platform_ref: str | None = None


class WebhookTopic(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_UPDATED = "order.updated"
    ORDER_CANCELLED = "order.cancelled"
    REFUND = "order.refunded"
    PING = "ping"                  # a platform's test delivery: answered 200, nothing done
    OTHER = "other"                # a topic we do not act on: answered 200, logged


@dataclass(frozen=True)
class WebhookCall:
    """A verified webhook, read: what it is about. `delivery_id` tells a re-delivery from a new call."""

    topic: WebhookTopic
    delivery_id: str | None
    external_id: str | None
    order: ChannelOrder | None = None


@dataclass(frozen=True)
class RateLimit:
    """The platform's documented limit, as the connector paces itself: `rate` calls per second, `burst` at once.

    `items_per_call` is how many stock updates one call carries; the bench uses both for the limit's own
    minimum time to push N SKUs.
    """

    rate: float
    burst: int
    items_per_call: int
    source: str                    # where it is documented


@dataclass(frozen=True)
class ConnectorConfig:
    base_url: str
    credentials: Mapping[str, str]  # decrypted only in memory, for the call (stored encrypted: wms.crypto)
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 15.0


class Connector:
    """One platform. Subclasses set `kind`, `api_version`, `rate_limit` and implement what the platform has."""

    kind: ClassVar[str]
    api_version: ClassVar[str]
    rate_limit: ClassVar[RateLimit]
    credential_fields: ClassVar[tuple[str, ...]] = ()   # names of the credentials it needs (CLI options, pages)
    option_fields: ClassVar[tuple[str, ...]] = ()       # non-secret settings (location id, shop id, ...)
    has_webhooks: ClassVar[bool] = False
    needs_acceptance: ClassVar[bool] = False            # orders must be accepted on the platform (Mirakl)
    poll_interval_s: ClassVar[int] = 300                # how often the documented polling may run
    overlap_s: ClassVar[int] = 120                      # re-read this much before the checkpoint each pull
    push_batch: ClassVar[int] = 500                     # listings handed to one push_stock call by the sync
    pushes_delivered: ClassVar[bool] = False            # the platform can be told a shipment was delivered
    takes_private_notes: ClassVar[bool] = False         # the platform keeps a staff-only note on an order

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config

    def test_connection(self) -> str:
        """Make one cheap authenticated call; return what the platform says it is (shop name), or raise."""
        raise NotImplementedError

    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        """Orders updated at or after `updated_since` (all open ones when None), one page per call."""
        raise NotImplementedError

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        """One order by the channel's id, read fresh (reconciliation, a webhook that carried only an id)."""
        raise NotImplementedError

    def accept_orders(self, orders: Iterable[tuple[ChannelOrder, bool]]) -> None:
        """Accept (True) or refuse (False) orders awaiting acceptance; only marketplaces need it."""
        raise NotImplementedError

    def list_items(self) -> Iterable[ChannelItem]:
        """Every listing of the channel, for the SKU mapping made on connect."""
        raise NotImplementedError

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        """Set the quantity the channel may sell for each listing, paced within the platform's limit.

        Sets absolute quantities (never adds a delta read earlier); a platform that offers compare-and-set gets
        `previous` and reports a changed quantity in `channel_quantity` instead of overwriting it.
        """
        raise NotImplementedError

    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        """Write the shipment back: carrier, tracking numbers and URL, the lines shipped, the shipped state."""
        raise NotImplementedError

    def push_delivered(self, delivery: Delivery) -> None:
        """Tell the platform the shipment was delivered (only when `pushes_delivered`); idempotent."""
        raise NotImplementedError

    def add_private_note(self, external_id: str, note: str) -> None:
        """Leave a staff-only note on the order (only when `takes_private_notes`); idempotent."""
        raise NotImplementedError

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Check the raw body's signature before anything parses it."""
        return False

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookCall:
        """Read a verified webhook; raise BadPayload when it cannot be read."""
        raise BadPayload(f"{self.kind} sends no webhooks")
