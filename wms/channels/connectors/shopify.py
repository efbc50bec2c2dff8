"""Shopify, through the Admin GraphQL API version 2026-01 (pinned: `API_VERSION`).

Written from shopify.dev (read with the docs search, December 2026); what was verified there:
- Endpoint `POST https://<shop>.myshopify.com/admin/api/2026-01/graphql.json`, header `X-Shopify-Access-Token`.
  The token is either the Admin API token of a custom app created in the Shopify admin (no new ones since
  2026-01-01; existing ones keep working), or, for an app created in the Dev Dashboard for the seller's own store,
  one bought by the client credentials grant (`POST /admin/oauth/access_token`, form `grant_type=
  client_credentials&client_id&client_secret`, answer `access_token`, `expires_in` ~24 h), cached and renewed.
  A refused token answers HTTP 401.
- Orders: `orders(first, after, query: "updated_at:>='<ISO>'", sortKey: UPDATED_AT)` with `pageInfo
  {hasNextPage endCursor}`; the fields read are the brief's (id, name, legacyResourceId, updatedAt, cancelledAt,
  displayFinancialStatus, displayFulfillmentStatus, email, customerLocale, shippingAddress, shippingLines,
  lineItems{id sku quantity variant{id inventoryItem{id}}}). A line's item key is its inventory item gid.
- Stock: `inventorySetQuantities(input: {name: "available", reason: "correction", quantities: [...]})`. In 2026-01
  `InventoryQuantityInput.changeFromQuantity` is new and takes precedence over the deprecated `compareQuantity` /
  `ignoreCompareQuantity` (both removed in 2026-04, where `changeFromQuantity` becomes mandatory), so this
  connector sends `changeFromQuantity` on every quantity: the 2026-04 syntax, valid in 2026-01. A quantity changed
  on Shopify since it was read answers the userError `CHANGE_FROM_QUANTITY_STALE` (`COMPARE_QUANTITY_STALE` for
  the old field): the connector re-reads that item's `inventoryLevel(locationId).quantities(names: ["available"])`
  and reports it in `StockResult.channel_quantity`, never overwriting it. Input arrays hold at most 250 items
  (shopify.dev/docs/api/usage/limits), so one call carries 250 quantities.
- Fulfilment: the order's `fulfillmentOrders` (`lineItems{id remainingQuantity lineItem{id}}`), then
  `fulfillmentCreate(fulfillment: FulfillmentInput!)` (in 2026-01 the current name; `fulfillmentCreateV2` is
  deprecated) with `lineItemsByFulfillmentOrder`, `trackingInfo {company numbers urls}` and `notifyCustomer`.
- Delivered: `fulfillmentEventCreate(fulfillmentEvent: FulfillmentEventInput!)` (requires `write_fulfillments`)
  with `fulfillmentId`, `status: DELIVERED` (enum FulfillmentEventStatus), `happenedAt`; payload
  `{fulfillmentEvent {id status} userErrors {field message}}`. The fulfillment is the order's one whose
  `trackingInfo` numbers are the shipment's; one whose `displayStatus` (FulfillmentDisplayStatus) is already
  DELIVERED is not told again (a retried job). Shopify mails the customer on a DELIVERED event itself when the
  shop's notification is on; no note is written.
- Webhooks `orders/create`, `orders/updated`, `orders/cancelled`: REST-shaped JSON bodies (numeric `id`,
  `admin_graphql_api_id`, `line_items[].variant_id`, `cancelled_at`), mapped to the ChannelOrder a GraphQL
  read gives when the variants are known, else read fresh by the job; `X-Shopify-Hmac-Sha256` is
  base64(HMAC-SHA256(app client secret, raw body)), checked before parsing; `X-Shopify-Webhook-Id` tells a
  re-delivery; `X-Shopify-Topic` the topic.
- Rate limit: calculated query cost in a leaky bucket per app and shop (Standard plan: 100 points/s restored;
  a single query may not cost more than 1,000). Every answer carries `extensions.cost` (`requestedQueryCost`,
  `actualQueryCost`, `throttleStatus{maximumAvailable currentlyAvailable restoreRate}`); this connector paces on
  it (waits until the bucket holds the next query's requested cost) and turns a `THROTTLED` error (HTTP 200,
  `errors[].extensions.code`) into RateLimited with the wait the bucket implies.
- Relay (pick-up) points: Shopify has no order field that carries a carrier's relay point id in 2026-01.
  Its own pickup-point delivery (the Pickup Point Delivery Option Generator function, Plus stores only) shows as
  `FulfillmentOrder.deliveryMethod.methodType = PICKUP_POINT`; the point's `externalId`
  (`DeliveryMethod.deliveryOptionGeneratorPickupPoint`) is only in the `unstable` API version, not 2026-01, so it
  is not read. What relay-point apps do in practice is write the chosen point into the order's note attributes
  (`Order.customAttributes {key value}` in GraphQL, `note_attributes [{name, value}]` in the REST webhook body;
  the Attribute object is documented for "preferred delivery date"-style extra data). Sendcloud's integration
  documentation says its Shopify app does not save the service point id to the shop at all ("not saved"), so a
  Sendcloud shop has none to read. Each app names its attribute as it likes and those names are not documented
  here, so the names read are the option `relay_point_attributes` (comma-separated, the first one present with a
  value wins; default `relay_point_id`): set it to what the shop's app writes (visible on the order in the
  Shopify admin under "Additional details"). Attribute names compare without regard to case.
- Line prices: `LineItem.originalUnitPriceSet.shopMoney` (REST `line_items[].price`): the unit price of the
  variant before discounts, in the shop's currency (`Order.currencyCode`, REST `currency`), tax included when the
  shop's prices include tax (the usual setting in the EU), excluding it otherwise. Discounted prices are not read.
What was not verified against a real shop (none is reachable from here): the exact requested cost Shopify
computes for each query (the connector learns it from each answer), and whether a mutation with one stale
quantity applies the others (the connector assumes it does not and sends them again).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from wms.channels.connectors.base import (
    Address,
    AuthFailed,
    BadPayload,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    ConnectorConfig,
    Delivery,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    RateLimited,
    Rejected,
    StockResult,
    StockUpdate,
    Unavailable,
    WebhookCall,
    WebhookTopic,
)
from wms.channels.connectors.http import PlatformHttp

API_VERSION = "2026-01"
MAX_INPUT_ARRAY = 250          # every input array (shopify.dev/docs/api/usage/limits)
MAX_QUERY_COST = 1000          # the most one query may ask for
ORDER_PAGE = 8                 # orders per page: 2 + 8 x (order + 20 lines) = 914 stays under MAX_QUERY_COST
ORDER_LINES = 20
MORE_LINES = 150               # a long order's further lines, per query (2 + 150 x 5)
READ_CHUNK = 100               # inventory items re-read per query
STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
# what a first call of each operation is expected to cost, until Shopify has said (then its own figure is used)
FIRST_GUESS = {"WmsShop": 1, "WmsOrders": 914, "WmsOrder": 115, "WmsOrderLines": 753, "WmsLevels": 300,
               "WmsVariants": 802, "WmsSetQuantities": 10, "WmsFulfillmentOrders": 560, "WmsFulfil": 10}

ADDRESS = "name address1 address2 zip city countryCodeV2 phone"
LINE = "id sku name quantity originalUnitPriceSet { shopMoney { amount } } variant { id inventoryItem { id } }"
ORDER = (
    "id name legacyResourceId createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus "
    "email customerLocale currencyCode totalPriceSet { shopMoney { amount currencyCode } } "
    f"shippingAddress {{ {ADDRESS} }} shippingLines(first: 5) {{ nodes {{ title code }} }} "
    "customAttributes { key value } "
    f"lineItems(first: {ORDER_LINES}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE} }} }}"
)
Q_SHOP = "query WmsShop { shop { name myshopifyDomain } }"
Q_ORDERS = (
    "query WmsOrders($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, "
    f"query: $query, sortKey: UPDATED_AT) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {ORDER} }} }} }}"
)
Q_ORDER = f"query WmsOrder($id: ID!) {{ order(id: $id) {{ {ORDER} }} }}"
Q_ORDER_LINES = (
    "query WmsOrderLines($id: ID!, $after: String) { order(id: $id) { "
    f"lineItems(first: {MORE_LINES}, after: $after) "
    f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE} }} }} }} }}"
)
Q_LEVELS = (
    "query WmsLevels($ids: [ID!]!, $locationId: ID!) { nodes(ids: $ids) { ... on InventoryItem { id "
    'inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } } } }'
)
Q_VARIANTS = (
    "query WmsVariants($first: Int!, $after: String, $locationId: ID!) { productVariants(first: $first, "
    "after: $after) { pageInfo { hasNextPage endCursor } nodes { id sku displayName barcode inventoryItem { id "
    'inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } } } } } }'
)
M_SET = (
    "mutation WmsSetQuantities($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
    "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }"
)
Q_FULFILLMENT_ORDERS = (
    "query WmsFulfillmentOrders($id: ID!) { order(id: $id) { id fulfillments(first: 20) { id trackingInfo "
    "{ number } } fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 50) { nodes { id "
    "remainingQuantity lineItem { id } } } } } } }"
)
M_FULFIL = (
    "mutation WmsFulfil($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) "
    "{ fulfillment { id status } userErrors { field message } } }"
)

Q_FULFILLMENTS = (
    "query WmsFulfillments($id: ID!) { order(id: $id) { id fulfillments(first: 20) { id displayStatus "
    "trackingInfo { number } } } }"
)
M_EVENT = (
    "mutation WmsFulfillmentEvent($fulfillmentEvent: FulfillmentEventInput!) { fulfillmentEventCreate("
    "fulfillmentEvent: $fulfillmentEvent) { fulfillmentEvent { id status } userErrors { field message } } }"
)

TOPICS = {"orders/create": WebhookTopic.ORDER_CREATED, "orders/updated": WebhookTopic.ORDER_UPDATED,
          "orders/cancelled": WebhookTopic.ORDER_CANCELLED, "refunds/create": WebhookTopic.REFUND}


class CostBucket:
    """Shopify's leaky bucket as this process last heard of it, so no call is sent into THROTTLED.

    `reserve(cost)` waits until the bucket (as last reported, refilled since at the restore rate, less the cost
    of calls still in flight) holds `cost`; `settle` takes the figures of an answer.
    """

    def __init__(self, clock=time.monotonic, sleep=time.sleep) -> None:  # type: ignore[no-untyped-def]
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.maximum: float | None = None   # unknown until the first answer
        self.available = 0.0
        self.restore = 50.0
        self.at = clock()
        self.in_flight = 0.0

    def _now_available(self) -> float:
        assert self.maximum is not None
        return min(self.maximum, self.available + (self.clock() - self.at) * self.restore) - self.in_flight

    def reserve(self, cost: float) -> float:
        """Wait for `cost` points; returns the seconds waited."""
        waited = 0.0
        while True:
            with self.lock:
                if self.maximum is None:
                    if self.in_flight == 0:     # the first call tells us the bucket; send it alone
                        self.in_flight += cost
                        return waited
                    pause = 0.05
                else:
                    need = min(cost, self.maximum)
                    have = self._now_available()
                    if have >= need:
                        self.in_flight += cost
                        return waited
                    pause = (need - have) / self.restore
            self.sleep(pause)
            waited += pause

    def settle(self, cost: float, status: Mapping[str, Any] | None) -> None:
        """The call that reserved `cost` has been answered; `status` is its throttleStatus (when it had one)."""
        with self.lock:
            self.in_flight = max(0.0, self.in_flight - cost)
            if not status:
                return
            try:
                self.maximum = float(status["maximumAvailable"])
                self.available = float(status["currentlyAvailable"])
                self.restore = max(0.1, float(status["restoreRate"]))
            except (KeyError, TypeError, ValueError):
                return
            self.at = self.clock()

    def wait_for(self, cost: float) -> float:
        """Seconds until the bucket would hold `cost` (for a THROTTLED answer's retry_after)."""
        with self.lock:
            if self.maximum is None:
                return 1.0
            return max(0.0, (min(cost, self.maximum) - self._now_available()) / self.restore)


_cost_buckets: dict[str, CostBucket] = {}
_cost_lock = threading.Lock()


_granted: dict[tuple[str, str], tuple[str, float]] = {}   # (shop, client id) -> (token, monotonic expiry)
_token_lock = threading.Lock()


_variant_items: dict[str, dict[str, str]] = {}   # shop -> variant gid -> inventory item gid, from every read


def variant_items_of(shop_url: str) -> dict[str, str]:
    """What this process has read of one shop's variants: variant gid -> inventory item gid."""
    with _cost_lock:
        return _variant_items.setdefault(shop_url, {})


def cost_bucket_for(shop_url: str) -> CostBucket:
    """The process-wide cost bucket of one shop (Shopify's bucket is per app and shop)."""
    with _cost_lock:
        return _cost_buckets.setdefault(shop_url, CostBucket())


def order_gid(external_id: str) -> str:
    """An order's gid from our external id (its numeric legacyResourceId) or from the gid itself."""
    gid = external_id if external_id.startswith("gid://") else f"gid://shopify/Order/{external_id}"
    if not gid.removeprefix("gid://shopify/Order/").isdigit():
        raise Rejected(f"shopify: {external_id!r} is not a Shopify order id")
    return gid


class ShopifyConnector(Connector):
    kind = "shopify"
    api_version = API_VERSION
    # in calls: the Standard plan restores 100 points/s and a stock call costs 10 points
    rate_limit = RateLimit(rate=10.0, burst=20, items_per_call=MAX_INPUT_ARRAY,
                           source="https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits")
    # app_secret: the app's client secret (signs webhooks; with client_id it also buys access tokens)
    credential_fields = ("app_secret",)
    # one of these is needed too: the Admin API token of an admin-created custom app, or the client id of a Dev
    # Dashboard app (tokens then come from the client credentials grant and last 24 h)
    optional_credential_fields = ("access_token", "client_id")
    option_fields = ("location_id", "client_id", "relay_point_attributes")
    has_webhooks = True
    poll_interval_s = 300

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        names = str(config.options.get("relay_point_attributes") or "relay_point_id")
        self.relay_attributes = tuple(n.strip().lower() for n in names.split(",") if n.strip()) or ("relay_point_id",)
        self.http = PlatformHttp(self.kind, config.base_url, self.rate_limit, timeout=config.timeout, headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        self.client_id = str(config.credentials.get("client_id") or config.options.get("client_id") or "")
        self.cost = cost_bucket_for(self.http.base_url)
        self.expected_cost = dict(FIRST_GUESS)
        self._variant_items = variant_items_of(self.http.base_url)

    # --- transport -----------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One paced GraphQL call; returns `data`, or raises the ConnectorError its errors mean."""
        head = query.split("(", 1)[0].split("{", 1)[0].split()
        name = head[-1] if len(head) > 1 else "anonymous"
        cost = float(self.expected_cost.get(name, 100))
        self.cost.reserve(cost)
        status = None
        try:
            resp = self._post_graphql(query, variables, name)
            try:
                doc = resp.json()
            except ValueError as exc:
                raise BadPayload(f"shopify: {name} answered something that is not JSON", body=resp.text[:500]) \
                    from exc
            if not isinstance(doc, dict):
                raise BadPayload(f"shopify: {name} answered {type(doc).__name__}, not an object")
            spent = (doc.get("extensions") or {}).get("cost") or {}
            status = spent.get("throttleStatus")
            if isinstance(spent.get("requestedQueryCost"), int | float):
                self.expected_cost[name] = spent["requestedQueryCost"]
        finally:
            self.cost.settle(cost, status)
        errors = doc.get("errors")
        if errors:
            raise self._error(name, errors, spent)
        data = doc.get("data")
        if not isinstance(data, dict):
            raise BadPayload(f"shopify: {name} answered no data")
        return data

    def _post_graphql(self, query: str, variables: Mapping[str, Any] | None, name: str) -> Any:
        body = json.dumps({"query": query, "variables": dict(variables or {}), "operationName": name})
        path = f"admin/api/{API_VERSION}/graphql.json"
        try:
            return self.http.request("POST", path, data=body, headers={"X-Shopify-Access-Token": self._token()})
        except AuthFailed:
            if not self.client_id:
                raise
            # a granted token may have been revoked or expired early: one fresh grant, then give up
            return self.http.request("POST", path, data=body,
                                     headers={"X-Shopify-Access-Token": self._token(renew=True)})

    def _token(self, *, renew: bool = False) -> str:
        """The static Admin API token, or a client-credentials token (granted, cached, renewed near expiry)."""
        if not self.client_id:
            token = self.config.credentials.get("access_token")
            if not token:
                raise AuthFailed("shopify: neither an access_token nor a client_id is configured")
            return token
        key = (self.http.base_url, self.client_id)
        with _token_lock:
            held = _granted.get(key)
            if held and not renew and held[1] > time.monotonic() + 60:
                return held[0]
        resp = self.http.request("POST", "admin/oauth/access_token", ok=(400, 401), data={
            "grant_type": "client_credentials", "client_id": self.client_id,
            "client_secret": self.config.credentials.get("app_secret", "")},
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            doc = resp.json()
        except ValueError:
            doc = {}
        if resp.status_code != 200 or not isinstance(doc, dict) or not doc.get("access_token"):
            raise AuthFailed(f"shopify: the client credentials grant was refused ({resp.status_code}: "
                             f"{str(doc.get('error_description') or doc.get('error') or resp.text)[:200]})",
                             status=resp.status_code)
        expires = time.monotonic() + float(doc.get("expires_in") or 3600)
        with _token_lock:
            _granted[key] = (str(doc["access_token"]), expires)
        return str(doc["access_token"])

    def _error(self, name: str, errors: Any, spent: Mapping[str, Any]) -> Exception:
        body = json.dumps(errors)[:2000]
        if not isinstance(errors, list):
            return Rejected(f"shopify: {name}: {errors}", body=body)
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))[:300]
        if "THROTTLED" in codes:
            wait = self.cost.wait_for(float(spent.get("requestedQueryCost") or self.expected_cost.get(name, 100)))
            return RateLimited(f"shopify: {name} throttled (retry in {wait:.2f} s)", retry_after=wait, body=body)
        if "ACCESS_DENIED" in codes:
            return AuthFailed(f"shopify: {name}: access denied (missing scope?): {message}", body=body)
        if "INTERNAL_SERVER_ERROR" in codes:
            return Unavailable(f"shopify: {name}: {message}", body=body)
        return Rejected(f"shopify: {name}: {message}", body=body)

    def _graphql_paced(self, query: str, variables: Mapping[str, Any], attempts: int = 3) -> dict[str, Any]:
        """`graphql`, waiting out a THROTTLED answer (another process spent the shared bucket) a few times."""
        for attempt in range(attempts):
            try:
                return self.graphql(query, variables)
            except RateLimited as exc:
                if attempt == attempts - 1:
                    raise
                time.sleep(min(30.0, exc.retry_after or 1.0))
        raise AssertionError("unreachable")

    @property
    def location_id(self) -> str:
        location = self.config.options.get("location_id")
        if not location:
            raise Rejected("shopify: the channel has no location_id option (the Shopify location stock is set at)")
        return str(location)

    # --- connector -----------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        shop = self.graphql(Q_SHOP).get("shop") or {}
        return f"{shop.get('name')} ({shop.get('myshopifyDomain')})"

    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        if cursor:
            try:
                search, after = json.loads(cursor)
            except (ValueError, TypeError) as exc:
                raise BadPayload(f"shopify: not a cursor of this connector: {cursor!r}") from exc
        else:
            after = None
            if updated_since is None:
                search = "status:open"
            else:
                stamp = updated_since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                search = f"updated_at:>='{stamp}'"
        data = self._graphql_paced(Q_ORDERS, {"first": ORDER_PAGE, "after": after, "query": search})
        connection = data.get("orders") or {}
        orders = tuple(self._order(node) for node in connection.get("nodes") or [])
        info = connection.get("pageInfo") or {}
        next_cursor = json.dumps([search, info["endCursor"]]) if info.get("hasNextPage") else None
        return OrderPage(orders=orders, cursor=next_cursor)

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        node = self._graphql_paced(Q_ORDER, {"id": order_gid(external_id)}).get("order")
        return self._order(node) if node else None

    def list_items(self) -> Iterable[ChannelItem]:
        after = None
        while True:
            data = self._graphql_paced(Q_VARIANTS, {"first": 200, "after": after, "locationId": self.location_id})
            connection = data.get("productVariants") or {}
            for node in connection.get("nodes") or []:
                item = node.get("inventoryItem") or {}
                if item.get("id"):
                    self._variant_items[node["id"]] = item["id"]
                    yield ChannelItem(item_key=item["id"], sku=node.get("sku") or None,
                                      title=node.get("displayName"), barcode=node.get("barcode") or None,
                                      quantity=_available(item))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    # --- stock -----------------------------------------------------------------------------------------------
    def read_quantities(self, item_keys: list[str]) -> dict[str, int | None]:
        """What Shopify holds now as `available` at our location, per inventory item (None: not stocked there)."""
        found: dict[str, int | None] = {}
        for start in range(0, len(item_keys), READ_CHUNK):
            chunk = item_keys[start:start + READ_CHUNK]
            nodes = self._graphql_paced(Q_LEVELS, {"ids": chunk, "locationId": self.location_id}).get("nodes")
            for key, node in zip(chunk, nodes or [], strict=False):
                found[key] = _available(node) if node else None
        return found

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        results: dict[str, StockResult] = {}
        unknown = [u.item_key for u in updates if u.previous is None]
        current = self.read_quantities(unknown) if unknown else {}
        ready: list[tuple[StockUpdate, int]] = []
        for u in updates:
            if u.quantity < 0:
                results[u.item_key] = StockResult(u.item_key, False, error="a negative quantity is never pushed")
            elif u.previous is not None:
                ready.append((u, u.previous))
            elif current.get(u.item_key) is None:
                results[u.item_key] = StockResult(u.item_key, False, error="not stocked at the location (or unknown)")
            else:
                ready.append((u, current[u.item_key]))  # type: ignore[arg-type]
        for start in range(0, len(ready), MAX_INPUT_ARRAY):
            results.update(self._set_batch(ready[start:start + MAX_INPUT_ARRAY]))
        return [results[u.item_key] for u in updates]

    def _set_batch(self, batch: list[tuple[StockUpdate, int]]) -> dict[str, StockResult]:
        """One inventorySetQuantities call; stale quantities are re-read and reported, the rest sent again."""
        results: dict[str, StockResult] = {}
        stale: list[StockUpdate] = []
        while batch:
            data = self._graphql_paced(M_SET, {"input": {
                "name": "available", "reason": "correction",
                "referenceDocumentUri": "rackzone-wms://stock/available",
                "quantities": [{"inventoryItemId": u.item_key, "locationId": self.location_id,
                                "quantity": u.quantity, "changeFromQuantity": compare} for u, compare in batch]}})
            payload = data.get("inventorySetQuantities") or {}
            errors = payload.get("userErrors") or []
            if not errors:
                results.update({u.item_key: StockResult(u.item_key, True) for u, _ in batch})
                break
            refused: set[int] = set()
            for error in errors:
                index = _quantity_index(error.get("field"))
                if index is None or index >= len(batch):
                    # an error about the whole call: nothing was set
                    message = f"{error.get('code')}: {error.get('message')}"
                    results.update({u.item_key: StockResult(u.item_key, False, error=message) for u, _ in batch})
                    batch = []
                    break
                refused.add(index)
                update = batch[index][0]
                if error.get("code") in STALE_CODES:
                    stale.append(update)
                else:
                    results[update.item_key] = StockResult(update.item_key, False,
                                                           error=f"{error.get('code')}: {error.get('message')}")
            batch = [pair for i, pair in enumerate(batch) if i not in refused]
        if stale:
            now = self.read_quantities([u.item_key for u in stale])
            for u in stale:
                held = now.get(u.item_key)
                if held == u.quantity:   # already what we want (a retried push whose first try went through)
                    results[u.item_key] = StockResult(u.item_key, True, channel_quantity=held)
                else:
                    results[u.item_key] = StockResult(
                        u.item_key, False, channel_quantity=held,
                        error=f"changed on Shopify since it was read: it holds {held}, not the compared quantity")
        return results

    # --- fulfilment ------------------------------------------------------------------------------------------
    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        order = self._graphql_paced(Q_FULFILLMENT_ORDERS, {"id": order_gid(fulfilment.external_id)}).get("order")
        if not order:
            raise Rejected(f"shopify: order {fulfilment.external_id} does not exist")
        done = {t.get("number") for f in order.get("fulfillments") or [] for t in f.get("trackingInfo") or []}
        if fulfilment.tracking_numbers and done & set(fulfilment.tracking_numbers):
            return   # written back already (a retried job): never fulfil twice
        groups = self._fulfilment_groups(fulfilment, (order.get("fulfillmentOrders") or {}).get("nodes") or [])
        tracking: dict[str, Any] = {"company": fulfilment.carrier_name, "numbers": list(fulfilment.tracking_numbers)}
        if fulfilment.tracking_url:
            tracking["urls"] = [fulfilment.tracking_url]
        for group in groups:
            data = self._graphql_paced(M_FULFIL, {"fulfillment": {
                "lineItemsByFulfillmentOrder": [group], "trackingInfo": tracking,
                "notifyCustomer": fulfilment.notify_customer}})
            errors = (data.get("fulfillmentCreate") or {}).get("userErrors") or []
            if errors:
                raise Rejected("shopify: fulfillmentCreate: " + "; ".join(str(e.get("message")) for e in errors))

    pushes_delivered = True

    def push_delivered(self, delivery: Delivery) -> None:
        order = self._graphql_paced(Q_FULFILLMENTS, {"id": order_gid(delivery.external_id)}).get("order")
        if not order:
            raise Rejected(f"shopify: order {delivery.external_id} does not exist")
        wanted = set(delivery.tracking_numbers)
        found = [f for f in order.get("fulfillments") or []
                 if wanted & {t.get("number") for t in f.get("trackingInfo") or []}]
        if not found:
            raise Rejected(f"shopify: order {delivery.external_id} has no fulfillment with tracking "
                           f"{', '.join(delivery.tracking_numbers) or '-'}")
        for fulfillment in found:
            if fulfillment.get("displayStatus") == "DELIVERED":
                continue   # told already (a retried job)
            data = self._graphql_paced(M_EVENT, {"fulfillmentEvent": {
                "fulfillmentId": fulfillment["id"], "status": "DELIVERED",
                "happenedAt": delivery.delivered_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")}})
            errors = (data.get("fulfillmentEventCreate") or {}).get("userErrors") or []
            if errors:
                raise Rejected("shopify: fulfillmentEventCreate: "
                               + "; ".join(str(e.get("message")) for e in errors))

    @staticmethod
    def _fulfilment_groups(fulfilment: Fulfilment, fulfillment_orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The fulfillment order line items that carry the shipped lines (one group per fulfillment order)."""
        open_orders = [fo for fo in fulfillment_orders if fo.get("status") in ("OPEN", "IN_PROGRESS")]
        if not fulfilment.lines:
            return [{"fulfillmentOrderId": fo["id"]} for fo in open_orders]
        wanted = {}
        for line in fulfilment.lines:
            wanted[line.ref] = wanted.get(line.ref, 0) + line.quantity
        groups = []
        for fo in open_orders:
            items = []
            for fo_line in (fo.get("lineItems") or {}).get("nodes") or []:
                ref = (fo_line.get("lineItem") or {}).get("id")
                take = min(wanted.get(ref, 0), int(fo_line.get("remainingQuantity") or 0))
                if take > 0:
                    items.append({"id": fo_line["id"], "quantity": take})
                    wanted[ref] -= take
            if items:
                groups.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
        short = {ref: n for ref, n in wanted.items() if n > 0}
        if short:
            raise Rejected(f"shopify: order {fulfilment.external_id} has nothing left to fulfil for {short}")
        return groups

    # --- webhooks --------------------------------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        # webhooks the app subscribes are signed with its client secret; those made under the admin's Settings >
        # Notifications with the key shown there, which the channel then keeps apart as webhook_secret
        secret = self.config.credentials.get("webhook_secret") or self.config.credentials.get("app_secret") or ""
        given = _header(headers, "X-Shopify-Hmac-Sha256")
        if not secret or not given:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        return hmac.compare_digest(expected, given.strip())

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookCall:
        topic_name = _header(headers, "X-Shopify-Topic") or ""
        topic = TOPICS.get(topic_name, WebhookTopic.OTHER)
        delivery = _header(headers, "X-Shopify-Webhook-Id")
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadPayload(f"shopify: webhook {topic_name} is not JSON") from exc
        if not isinstance(doc, dict):
            raise BadPayload(f"shopify: webhook {topic_name} is not an object")
        if topic == WebhookTopic.OTHER:
            return WebhookCall(topic, delivery, None)
        if topic == WebhookTopic.REFUND:
            if not isinstance(doc.get("order_id"), int):
                raise BadPayload("shopify: refunds/create without an order_id")
            return WebhookCall(topic, delivery, str(doc["order_id"]))
        return WebhookCall(topic, delivery, *self._webhook_order(doc))

    def _webhook_order(self, doc: dict[str, Any]) -> tuple[str, ChannelOrder | None]:
        """A REST-shaped order body as the ChannelOrder a GraphQL read gives, without calling Shopify.

        A REST line names its variant, not its inventory item (our item key). When every variant is among those
        this process has read, the order is mapped here; otherwise the call carries only the order id and the
        job that processes it reads the order fresh by GraphQL (`fetch_order`): a webhook is answered fast and
        a Shopify outage never fails its receipt.
        """
        if not isinstance(doc.get("id"), int) or not isinstance(doc.get("line_items"), list):
            raise BadPayload("shopify: the order webhook has no numeric id or no line_items")
        try:
            variants = [f"gid://shopify/ProductVariant/{int(li['variant_id'])}" for li in doc["line_items"]
                        if li.get("variant_id") is not None]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise BadPayload("shopify: an order webhook line has no readable variant_id") from exc
        external_id = str(doc["id"])
        if any(v not in self._variant_items for v in variants):
            return external_id, None
        node: dict[str, Any] = {
            "id": doc.get("admin_graphql_api_id") or order_gid(external_id), "legacyResourceId": external_id,
            "name": doc.get("name"), "createdAt": doc.get("created_at"), "updatedAt": doc.get("updated_at"),
            "cancelledAt": doc.get("cancelled_at"),
            "displayFinancialStatus": (doc.get("financial_status") or "").upper() or None,
            "displayFulfillmentStatus": _rest_fulfillment(doc.get("fulfillment_status")),
            "email": doc.get("email") or doc.get("contact_email"), "customerLocale": doc.get("customer_locale"),
            "currencyCode": doc.get("currency"),
            "totalPriceSet": {"shopMoney": {"amount": doc.get("total_price")}},
            "shippingAddress": _rest_address(doc.get("shipping_address")),
            "shippingLines": {"nodes": [{"title": s.get("title"), "code": s.get("code")}
                                        for s in doc.get("shipping_lines") or [] if isinstance(s, dict)]},
            "customAttributes": [{"key": a.get("name"), "value": a.get("value")}
                                 for a in doc.get("note_attributes") or [] if isinstance(a, dict)],
            "lineItems": {"nodes": [_rest_line(li, self._variant_items) for li in doc["line_items"]]},
        }
        order = self._order(node, complete_lines=False)
        return order.external_id, replace(order, raw=doc)

    # --- mapping ---------------------------------------------------------------------------------------------
    def _order(self, node: Mapping[str, Any], *, complete_lines: bool = True) -> ChannelOrder:
        try:
            external_id = str(node["legacyResourceId"])
            updated = _when(node["updatedAt"])
            lines_conn = node.get("lineItems") or {}
            line_nodes = list(lines_conn.get("nodes") or [])
            info = lines_conn.get("pageInfo") or {}
            if complete_lines and info.get("hasNextPage"):
                line_nodes += self._rest_of_lines(node["id"], info.get("endCursor"))
            lines = tuple(_line(li) for li in line_nodes)
            for li in line_nodes:
                variant = li.get("variant") or {}
                if variant.get("id") and (variant.get("inventoryItem") or {}).get("id"):
                    self._variant_items[variant["id"]] = variant["inventoryItem"]["id"]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadPayload(f"shopify: an order cannot be read ({exc.__class__.__name__}: {exc})") from exc
        shipping = (node.get("shippingLines") or {}).get("nodes") or []
        total = node.get("totalPriceSet") or {}
        return ChannelOrder(
            external_id=external_id, state=_state(node), updated_at=updated, lines=lines,
            ship_to=_address(node.get("shippingAddress"), node.get("email")),
            customer_email=node.get("email") or None,
            customer_language=(node.get("customerLocale") or "").split("-")[0].lower() or None,
            shipping_method=(shipping[0].get("title") or shipping[0].get("code")) if shipping else None,
            relay_point_id=self._relay_point(node.get("customAttributes")),
            placed_at=_when(node["createdAt"]) if node.get("createdAt") else None,
            total=_decimal((total.get("shopMoney") or {}).get("amount")),
            currency=node.get("currencyCode") or (total.get("shopMoney") or {}).get("currencyCode"),
            platform_ref=node.get("id"), raw=dict(node))

    def _relay_point(self, attributes: Any) -> str | None:
        """The first of the configured note attributes the order carries with a value (cut to 64 characters)."""
        found: dict[str, str] = {}
        for attr in attributes if isinstance(attributes, list) else ():
            if isinstance(attr, Mapping) and isinstance(attr.get("key"), str) and attr.get("value") not in (None, ""):
                found.setdefault(attr["key"].strip().lower(), str(attr["value"]).strip())
        return next((found[n][:64] for n in self.relay_attributes if found.get(n)), None)

    def _rest_of_lines(self, gid: str, after: str | None) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        while after:
            conn = (self._graphql_paced(Q_ORDER_LINES, {"id": gid, "after": after}).get("order") or {}) \
                .get("lineItems") or {}
            lines += conn.get("nodes") or []
            info = conn.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return lines


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _when(value: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value}")
    return stamp


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _available(item: Mapping[str, Any] | None) -> int | None:
    level = (item or {}).get("inventoryLevel")
    if not level:
        return None
    return next((int(q["quantity"]) for q in level.get("quantities") or [] if q.get("name") == "available"), None)


def _quantity_index(field: Any) -> int | None:
    """["input", "quantities", "3", "changeFromQuantity"] -> 3"""
    if isinstance(field, list) and len(field) >= 3 and field[:2] == ["input", "quantities"]:
        try:
            return int(field[2])
        except (TypeError, ValueError):
            return None
    return None


def _state(node: Mapping[str, Any]) -> OrderState:
    financial = node.get("displayFinancialStatus")
    fulfilment = node.get("displayFulfillmentStatus")
    if node.get("cancelledAt"):
        return OrderState.CANCELLED
    if fulfilment == "FULFILLED":
        return OrderState.CLOSED
    if financial in ("REFUNDED", "VOIDED", "EXPIRED"):
        return OrderState.CANCELLED
    if financial == "PENDING":
        return OrderState.PENDING_PAYMENT
    return OrderState.OPEN


def _line(node: Mapping[str, Any]) -> ChannelOrderLine:
    item = ((node.get("variant") or {}).get("inventoryItem") or {}).get("id")
    if not item:
        # a custom line or a deleted variant: kept, with a key that maps to no SKU, so the order is held
        item = f"line:{node['id']}"
    price = ((node.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return ChannelOrderLine(ref=node["id"], item_key=item, sku=node.get("sku") or None,
                            quantity=int(node["quantity"]), unit_price=_decimal(price), title=node.get("name"))


def _address(node: Mapping[str, Any] | None, email: str | None) -> Address | None:
    if not node:
        return None
    return Address(name=node.get("name") or "", line1=node.get("address1") or "", line2=node.get("address2") or None,
                   postcode=node.get("zip") or "", city=node.get("city") or "",
                   country=node.get("countryCodeV2") or "", phone=node.get("phone") or None, email=email or None)


def _rest_address(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    name = node.get("name") or " ".join(p for p in (node.get("first_name"), node.get("last_name")) if p)
    return {"name": name, "address1": node.get("address1"), "address2": node.get("address2"), "zip": node.get("zip"),
            "city": node.get("city"), "countryCodeV2": node.get("country_code"), "phone": node.get("phone")}


def _rest_fulfillment(value: Any) -> str:
    return {None: "UNFULFILLED", "fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED",
            "restocked": "RESTOCKED"}.get(value, str(value).upper())


def _rest_line(node: Any, variant_items: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(node, dict) or not isinstance(node.get("id"), int):
        raise BadPayload("shopify: an order webhook line has no numeric id")
    variant = f"gid://shopify/ProductVariant/{node['variant_id']}" if node.get("variant_id") is not None else None
    item = variant_items.get(variant) if variant else None
    return {"id": node.get("admin_graphql_api_id") or f"gid://shopify/LineItem/{node['id']}", "sku": node.get("sku"),
            "name": node.get("name") or node.get("title"), "quantity": node.get("quantity"),
            "originalUnitPriceSet": {"shopMoney": {"amount": node.get("price")}},
            "variant": {"id": variant, "inventoryItem": {"id": item} if item else None} if variant else None}
