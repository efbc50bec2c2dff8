"""Amazon Selling Partner API (SP-API) connector: Orders API v0, Listings Items API 2021-08-01, Tokens API
2021-03-01, Login with Amazon (LWA) token refresh.

Followed, from developer-docs.amazon.com/sp-api (looked up with the docs search, 2026-12; not run against Amazon):
- Auth: LWA `POST https://api.amazon.com/auth/o2/token` (form: grant_type=refresh_token, refresh_token,
  client_id, client_secret) answers `access_token` and `expires_in` (3600). The token is cached process-wide per
  (LWA URL, client id, refresh token) until 60 s before it expires and sent as `x-amz-access-token` on every call.
  AWS SigV4 request signing is no longer required (Amazon dropped it in 2023), so no AWS keys are asked for.
  A 403 (`Unauthorized`, an expired or revoked token) drops the cached token, refreshes once and retries the call
  once; a second 403 is AuthFailed. The LWA URL is the option `lwa_url` (tests point it at the stand-in).
- Orders: `getOrders` `GET /orders/v0/orders` with `MarketplaceIds`, `LastUpdatedAfter` (our checkpoint),
  `FulfillmentChannels=MFN` and `NextToken` paging (`payload.Orders[]`, `payload.NextToken`); only MFN orders
  (merchant fulfilled) are ours: AFN orders are Amazon's to ship and are skipped even if one slips through.
  `getOrderItems` `GET /orders/v0/orders/{id}/orderItems` (SellerSKU, OrderItemId, QuantityOrdered, paged by
  NextToken), `getOrder` for fetch_order. Statuses: Pending/PendingAvailability -> pending payment,
  Unshipped/PartiallyShipped -> open, Canceled/Unfulfillable -> cancelled, Shipped/InvoiceUnconfirmed -> closed.
- Buyer data (PII): the shipping address and buyer email are restricted data. With the option `use_rdt` (default
  on) the connector asks the Tokens API `createRestrictedDataToken` (`POST /tokens/2021-03-01/restrictedDataToken`,
  restrictedResources [{method GET, path /orders/v0/orders, dataElements [buyerInfo, shippingAddress]}]) and
  calls getOrders with that RDT, so `ShippingAddress` and `BuyerInfo.BuyerEmail` come in the same page. An
  application without the PII role gets no RDT (403): set `use_rdt` false and orders come in without address.
- Stock: Listings Items `patchListingsItem` `PATCH /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=`
  with one `replace` of `/attributes/fulfillment_availability` = [{fulfillment_channel_code: DEFAULT, quantity}];
  `productType` is the option `product_type`, "PRODUCT" by default (the generic type the use-case guide's patch
  examples use; not verified against a live account). The answer's `status` ACCEPTED is success, INVALID gives
  its `issues` as the error. Listings: `searchListingsItems` `GET /listings/2021-08-01/items/{sellerId}` with
  includedData=summaries,fulfillmentAvailability and pageToken paging (chosen over the reports API: synchronous,
  no report document to poll and decompress).
- Fulfilment: `confirmShipment` `POST /orders/v0/orders/{id}/shipmentConfirmation` (marketplaceId, packageDetail
  {packageReferenceId, carrierCode, carrierName, shippingMethod, trackingNumber, shipDate, orderItems[{orderItemId,
  quantity}]}), one call per package; 204 on success.
- Delivered: nothing is sent. For merchant-fulfilled (MFN) orders the Orders API's seller write is
  `confirmShipment` (and the shipment's tracking); Amazon follows the delivery on the carrier's tracking itself and
  offers no call to declare one. `pushes_delivered` stays False: no job is queued for it.
- Line prices: `OrderItem.ItemPrice` is "the selling price of the item multiplied by the quantity ordered", without
  ShippingPrice and GiftWrapPrice (Orders API reference); the unit price kept is ItemPrice / QuantityOrdered,
  before PromotionDiscount, in ItemPrice's currency (the order's `OrderTotal.CurrencyCode`, else the items'). It
  is the price as the marketplace shows it: VAT included on the European marketplaces, where prices are shown
  with VAT; on the US marketplace sales tax is apart in ItemTax (from the marketplaces' price display, not stated
  by the Orders reference read).
- Relay points: not read. An MFN order has no pick-up point id; `IsAccessPointOrder` (Amazon's own lockers and
  counters) names none a carrier of ours can deliver to.
- Errors: `{"errors": [{"code", "message", "details"}]}`; 429 QuotaExceeded -> RateLimited, 5xx -> Unavailable,
  other 4xx -> Rejected.
- Rate limits, one token bucket per operation (usage-plan defaults per account-application pair): getOrders 0.0167
  rps burst 20, getOrder and getOrderItems 0.5 burst 30 (the Orders API rate-limit table, and the same figures
  in the bizon selling-partner-api-sdk client tables); patchListingsItem 5 burst 10 (Listings Items rate-limit
  table / bizon SDK; the brief's burst 5 was not what the SDK table says); confirmShipment 2 burst 10,
  searchListingsItems 5 burst 5, createRestrictedDataToken 1 burst 10 (not re-verified in this session). The
  `x-amzn-RateLimit-Limit` header of an answer, when present, sets that operation's rate (the account's real plan).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from wms.channels.connectors.base import (
    Address,
    AuthFailed,
    BadPayload,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    ConnectorError,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    Rejected,
    StockResult,
    StockUpdate,
    Unavailable,
)
from wms.channels.connectors.http import TokenBucket, error_for
from wms.retry import note_outside_effect

LWA_URL = "https://api.amazon.com/auth/o2/token"
DOCS = "https://developer-docs.amazon.com/sp-api/docs/"
OPERATIONS: dict[str, RateLimit] = {
    "getOrders": RateLimit(0.0167, 20, 1, DOCS + "orders-api-rate-limits"),
    "getOrder": RateLimit(0.5, 30, 1, DOCS + "orders-api-rate-limits"),
    "getOrderItems": RateLimit(0.5, 30, 1, DOCS + "orders-api-rate-limits"),
    "confirmShipment": RateLimit(2.0, 10, 1, DOCS + "orders-api-rate-limits"),
    "patchListingsItem": RateLimit(5.0, 10, 1, DOCS + "listings-items-api-rate-limits"),
    "searchListingsItems": RateLimit(5.0, 5, 20, DOCS + "listings-items-api-rate-limits"),
    "createRestrictedDataToken": RateLimit(1.0, 10, 1, DOCS + "tokens-api-rate-limits"),
}
STATES = {
    "Pending": OrderState.PENDING_PAYMENT, "PendingAvailability": OrderState.PENDING_PAYMENT,
    "Unshipped": OrderState.OPEN, "PartiallyShipped": OrderState.OPEN,
    "Canceled": OrderState.CANCELLED, "Unfulfillable": OrderState.CANCELLED,
    "Shipped": OrderState.CLOSED, "InvoiceUnconfirmed": OrderState.CLOSED,
}
# our carrier codes -> Amazon's carrierCode list; anything else goes as "Other" with its name
CARRIERS = {"colissimo": "Colissimo", "chronopost": "Chronopost", "dpd": "DPD", "gls": "GLS", "ups": "UPS",
            "dhl": "DHL", "fedex": "FedEx", "mondial_relay": "Mondial Relay", "laposte": "La Poste"}
TOKEN_MARGIN_S = 60.0
FIRST_PULL_DAYS = 30

_tokens: dict[tuple[str, ...], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
_buckets: dict[tuple[str, str, str], TokenBucket] = {}
_buckets_lock = threading.Lock()


PACE_MARGIN = 0.9   # share of the documented rate we use


def _bucket(base_url: str, seller_id: str, operation: str) -> TokenBucket:
    """The process-wide bucket of one operation for one seller account (limits are per account-application)."""
    with _buckets_lock:
        key = (base_url, seller_id, operation)
        if key not in _buckets:
            limit = OPERATIONS[operation]
            # Paced a little under the documented figures: Amazon meters arrivals, and network jitter can
            # bring two calls sent 1/rate apart closer together than that.
            _buckets[key] = TokenBucket(limit.rate * PACE_MARGIN, max(1, limit.burst - 1))
        return _buckets[key]


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadPayload(f"amazon: unreadable date {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _money(doc: Any) -> tuple[Decimal | None, str | None]:
    if not isinstance(doc, Mapping) or doc.get("Amount") in (None, ""):
        return None, None
    try:
        return Decimal(str(doc["Amount"])), doc.get("CurrencyCode")
    except InvalidOperation:
        return None, None


class AmazonConnector(Connector):
    kind = "amazon"
    api_version = "orders v0, listings 2021-08-01, tokens 2021-03-01"
    rate_limit: ClassVar[RateLimit] = OPERATIONS["patchListingsItem"]
    credential_fields = ("client_id", "client_secret", "refresh_token")
    option_fields = ("seller_id", "marketplace_id", "lwa_url", "product_type", "use_rdt")
    has_webhooks = False
    poll_interval_s = 120   # getOrders refills one call a minute; a pass of a few pages fits in two

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        options = config.options
        for name in ("seller_id", "marketplace_id"):
            if not options.get(name):
                raise Rejected(f"amazon: the option {name} is required")
        missing = [n for n in self.credential_fields if not config.credentials.get(n)]
        if missing:
            raise AuthFailed(f"amazon: missing credentials {', '.join(missing)}")
        self.base_url = config.base_url.rstrip("/")
        self.seller_id = str(options["seller_id"])
        self.marketplace_id = str(options["marketplace_id"])
        self.lwa_url = str(options.get("lwa_url") or LWA_URL)
        self.product_type = str(options.get("product_type") or "PRODUCT")
        self.use_rdt = str(options.get("use_rdt", True)).lower() not in ("false", "0", "no", "")
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "rackzone-wms/0.1 (Language=Python)"})
        self.token_refreshes = 0   # how many LWA calls this connector made (for tests and the sync log)
        self._token_key = (self.lwa_url, config.credentials["client_id"], config.credentials["refresh_token"])

    # --- auth ----------------------------------------------------------------------------------------------
    def _access_token(self, *, fresh: bool = False) -> str:
        with _tokens_lock:
            cached = _tokens.get(self._token_key)
            if cached and not fresh and cached[1] - TOKEN_MARGIN_S > time.monotonic():
                return cached[0]
            form = {"grant_type": "refresh_token", "refresh_token": self.config.credentials["refresh_token"],
                    "client_id": self.config.credentials["client_id"],
                    "client_secret": self.config.credentials["client_secret"]}
            try:
                resp = self.session.post(self.lwa_url, data=form, timeout=self.config.timeout)
            except requests.RequestException as exc:
                raise Unavailable(f"amazon: cannot reach LWA ({exc.__class__.__name__})") from exc
            if resp.status_code in (400, 401, 403):
                raise AuthFailed(f"amazon: LWA refused the refresh token ({resp.status_code}: {resp.text[:200]})",
                                 status=resp.status_code, body=resp.text[:2000])
            if resp.status_code != 200:
                raise error_for(self.kind, "POST", "LWA token", resp)
            try:
                doc = resp.json()
                token, lifetime = str(doc["access_token"]), float(doc.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError) as exc:
                raise BadPayload("amazon: LWA answered without an access_token") from exc
            self.token_refreshes += 1
            _tokens[self._token_key] = (token, time.monotonic() + lifetime)
            return token

    def _forget_token(self, token: str) -> None:
        with _tokens_lock:
            if _tokens.get(self._token_key, ("", 0.0))[0] == token:
                del _tokens[self._token_key]

    def _rdt(self) -> str:
        """A restricted data token for getOrders with buyer info and shipping address (cached like LWA's)."""
        key = ("rdt", *self._token_key)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and cached[1] - TOKEN_MARGIN_S > time.monotonic():
                return cached[0]
        body = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders",
                                         "dataElements": ["buyerInfo", "shippingAddress"]}]}
        doc = self._call("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", json=body)
        try:
            token, lifetime = str(doc["restrictedDataToken"]), float(doc.get("expiresIn", 3600))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadPayload("amazon: createRestrictedDataToken answered without a token") from exc
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + lifetime)
        return token

    # --- the call ------------------------------------------------------------------------------------------
    def _call(self, operation: str, method: str, path: str, *, rdt: bool = False,
              ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """One paced call of one SP-API operation; the JSON answer (None for 204 and the `ok` statuses)."""
        bucket = _bucket(self.base_url, self.seller_id, operation)
        for attempt in (1, 2):
            access = self._rdt() if rdt else self._access_token()
            bucket.take()
            if method != "GET":
                note_outside_effect()
            try:
                resp = self.session.request(method, self.base_url + path, timeout=self.config.timeout,
                                            headers={"x-amz-access-token": access}, **kwargs)
            except requests.Timeout as exc:
                raise Unavailable(f"amazon: {operation} got no answer within {self.config.timeout:g} s") from exc
            except requests.RequestException as exc:
                raise Unavailable(f"amazon: cannot reach {self.base_url} ({exc.__class__.__name__})") from exc
            self._honour_limit(bucket, resp.headers.get("x-amzn-RateLimit-Limit"))
            if resp.status_code == 403 and attempt == 1:
                if rdt:   # the RDT expired: the next attempt asks a new one
                    with _tokens_lock:
                        _tokens.pop(("rdt", *self._token_key), None)
                else:
                    self._forget_token(access)
                continue
            if resp.status_code in ok:
                return None
            if 200 <= resp.status_code < 300:
                if resp.status_code == 204 or not resp.content:
                    return None
                try:
                    return resp.json()
                except ValueError as exc:
                    raise BadPayload(f"amazon: {operation} answered something that is not JSON") from exc
            raise self._error(operation, method, path, resp, bucket)
        raise AssertionError("unreachable")

    def _error(self, operation: str, method: str, path: str, resp: requests.Response,
               bucket: TokenBucket) -> ConnectorError:
        error = error_for(self.kind, method, path, resp, bucket)
        try:
            first = (resp.json().get("errors") or [{}])[0]
            said = f"{first.get('code')}: {first.get('message')}" + (
                f" ({first['details']})" if first.get("details") else "")
        except (ValueError, AttributeError, IndexError, TypeError):
            return error
        error.args = (f"amazon: {operation} answered {resp.status_code} {said}",)
        return error

    @staticmethod
    def _honour_limit(bucket: TokenBucket, header: str | None) -> None:
        if not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        if rate > 0:
            with bucket.lock:
                bucket.rate = rate * PACE_MARGIN

    # --- orders --------------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        self._call("searchListingsItems", "GET", f"/listings/2021-08-01/items/{quote(self.seller_id)}",
                   params={"marketplaceIds": self.marketplace_id, "pageSize": 1, "includedData": "summaries"})
        return f"Amazon seller {self.seller_id} on marketplace {self.marketplace_id}"

    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        params: dict[str, Any] = {"MarketplaceIds": self.marketplace_id}
        if cursor:
            params["NextToken"] = cursor
        elif updated_since is not None:
            params.update(LastUpdatedAfter=_stamp(updated_since), FulfillmentChannels="MFN")
        else:
            params.update(CreatedAfter=_stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=FIRST_PULL_DAYS)),
                          FulfillmentChannels="MFN", OrderStatuses="Unshipped,PartiallyShipped")
        doc = self._call("getOrders", "GET", "/orders/v0/orders", params=params, rdt=self.use_rdt)
        payload = doc.get("payload") if isinstance(doc, Mapping) else None
        if not isinstance(payload, Mapping) or not isinstance(payload.get("Orders"), list):
            raise BadPayload("amazon: getOrders answered without payload.Orders")
        orders = tuple(self._order(o) for o in payload["Orders"]
                       if isinstance(o, Mapping) and o.get("FulfillmentChannel") == "MFN")
        return OrderPage(orders, payload.get("NextToken") or None)

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        doc = self._call("getOrder", "GET", f"/orders/v0/orders/{quote(external_id, safe='')}", ok=(404,))
        if doc is None:
            return None
        payload = doc.get("payload") if isinstance(doc, Mapping) else None
        if not isinstance(payload, Mapping):
            raise BadPayload("amazon: getOrder answered without payload")
        return self._order(payload)

    def _items(self, order_id: str) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        params: dict[str, str] = {}
        while True:
            doc = self._call("getOrderItems", "GET", f"/orders/v0/orders/{quote(order_id, safe='')}/orderItems",
                             params=params)
            payload = doc.get("payload") if isinstance(doc, Mapping) else None
            if not isinstance(payload, Mapping) or not isinstance(payload.get("OrderItems"), list):
                raise BadPayload(f"amazon: getOrderItems of {order_id} answered without payload.OrderItems")
            items.extend(payload["OrderItems"])
            if not payload.get("NextToken"):
                return items
            params = {"NextToken": payload["NextToken"]}

    def _order(self, doc: Mapping[str, Any]) -> ChannelOrder:
        try:
            order_id, status = str(doc["AmazonOrderId"]), str(doc["OrderStatus"])
            updated = _when(doc["LastUpdateDate"])
        except KeyError as exc:
            raise BadPayload(f"amazon: an order without {exc.args[0]}") from exc
        if status not in STATES:
            raise BadPayload(f"amazon: order {order_id} has an unknown status {status!r}")
        items = self._items(order_id)
        lines = []
        item_currency = None
        for item in items:
            try:
                quantity = int(item["QuantityOrdered"])
                price, code = _money(item.get("ItemPrice"))
                item_currency = item_currency or code
                lines.append(ChannelOrderLine(
                    ref=str(item["OrderItemId"]), item_key=str(item["SellerSKU"]), sku=str(item["SellerSKU"]),
                    quantity=quantity, title=item.get("Title"),
                    unit_price=(price / quantity) if price is not None and quantity else None))
            except (KeyError, TypeError, ValueError) as exc:
                raise BadPayload(f"amazon: an item of order {order_id} cannot be read ({exc})") from exc
        total, currency = _money(doc.get("OrderTotal"))
        buyer = doc.get("BuyerInfo") if isinstance(doc.get("BuyerInfo"), Mapping) else {}
        email = buyer.get("BuyerEmail") or None
        return ChannelOrder(
            external_id=order_id, state=STATES[status], updated_at=updated, lines=tuple(lines),
            ship_to=self._address(doc.get("ShippingAddress"), email), customer_email=email,
            shipping_method=doc.get("ShipServiceLevel"),
            placed_at=_when(doc["PurchaseDate"]) if doc.get("PurchaseDate") else None,
            total=total, currency=currency or item_currency, raw={"order": dict(doc), "items": items})

    @staticmethod
    def _address(doc: Any, email: str | None) -> Address | None:
        if not isinstance(doc, Mapping) or not doc.get("AddressLine1"):
            return None
        return Address(name=str(doc.get("Name") or ""), line1=str(doc["AddressLine1"]),
                       line2=" ".join(str(doc[k]) for k in ("AddressLine2", "AddressLine3") if doc.get(k)) or None,
                       postcode=str(doc.get("PostalCode") or ""), city=str(doc.get("City") or ""),
                       country=str(doc.get("CountryCode") or ""), phone=doc.get("Phone"), email=email)

    def accept_orders(self, orders: Iterable[tuple[ChannelOrder, bool]]) -> None:
        raise Rejected("amazon: orders need no acceptance")

    # --- listings and stock --------------------------------------------------------------------------------
    def list_items(self) -> Iterable[ChannelItem]:
        params: dict[str, Any] = {"marketplaceIds": self.marketplace_id, "pageSize": 20,
                                  "includedData": "summaries,fulfillmentAvailability"}
        while True:
            doc = self._call("searchListingsItems", "GET", f"/listings/2021-08-01/items/{quote(self.seller_id)}",
                             params=params)
            if not isinstance(doc, Mapping) or not isinstance(doc.get("items"), list):
                raise BadPayload("amazon: searchListingsItems answered without items")
            for item in doc["items"]:
                if not isinstance(item, Mapping) or not item.get("sku"):
                    raise BadPayload("amazon: a listing without sku")
                summary = next(iter(item.get("summaries") or []), {})
                stock = next((f for f in item.get("fulfillmentAvailability") or []
                              if f.get("fulfillmentChannelCode") == "DEFAULT"), {})
                yield ChannelItem(item_key=str(item["sku"]), sku=str(item["sku"]), title=summary.get("itemName"),
                                  quantity=stock.get("quantity"))
            token = (doc.get("pagination") or {}).get("nextToken")
            if not token:
                return
            params = {**params, "pageToken": token}

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        results = []
        for update in updates:
            body = {"productType": self.product_type, "patches": [{
                "op": "replace", "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, int(update.quantity))}]}]}
            path = f"/listings/2021-08-01/items/{quote(self.seller_id)}/{quote(update.item_key, safe='')}"
            try:
                doc = self._call("patchListingsItem", "PATCH", path, json=body,
                                 params={"marketplaceIds": self.marketplace_id})
            except Rejected as exc:
                results.append(StockResult(update.item_key, False, str(exc)))
                continue
            status = doc.get("status") if isinstance(doc, Mapping) else None
            if status == "ACCEPTED":
                results.append(StockResult(update.item_key, True))
            else:
                issues = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in (doc or {}).get("issues") or [])
                results.append(StockResult(update.item_key, False, f"amazon: {status or 'no status'} {issues}"))
        return results

    # --- fulfilment ----------------------------------------------------------------------------------------
    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        if not fulfilment.tracking_numbers:
            raise Rejected("amazon: confirmShipment needs a tracking number")
        if not fulfilment.lines:
            raise Rejected("amazon: confirmShipment needs the items shipped")
        code = CARRIERS.get(fulfilment.carrier_code.lower(), "Other")
        items = [{"orderItemId": line.ref, "quantity": line.quantity} for line in fulfilment.lines]
        # One Fulfilment is one package: it does not say which items went in which parcel, and confirmShipment
        # needs the items of each package, so only its first tracking number is confirmed (docs/connectors/amazon.md).
        number = fulfilment.tracking_numbers[0]
        body = {"marketplaceId": self.marketplace_id, "packageDetail": {
            "packageReferenceId": number, "carrierCode": code, "carrierName": fulfilment.carrier_name,
            "shippingMethod": fulfilment.carrier_name, "trackingNumber": number,
            "shipDate": _stamp(fulfilment.shipped_at), "orderItems": items}}
        self._call("confirmShipment", "POST",
                   f"/orders/v0/orders/{quote(fulfilment.external_id, safe='')}/shipmentConfirmation", json=body)
