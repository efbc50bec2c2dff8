"""Amazon SP-API as a seller's application sees it: the LWA token endpoint, Orders API v0 (getOrders, getOrder,
getOrderItems, confirmShipment), Tokens API 2021-03-01 (createRestrictedDataToken), Listings Items 2021-08-01
(searchListingsItems, patchListingsItem), written from developer-docs.amazon.com/sp-api.

- LWA: `POST /auth/o2/token` (form, schema lwa_token) gives access tokens living `token_lifetime` s (3600);
  wrong client or refresh token: 400 `invalid_grant` / 401 `invalid_client`. Every SP-API path needs a live
  `x-amz-access-token`; an expired or unknown one is answered 403 `Unauthorized` "The access token you provided
  has expired." (`expire_tokens()` ages them all at once).
- A restricted data token (RDT) on getOrders adds ShippingAddress and BuyerInfo.BuyerEmail.
- One bucket per operation at the documented default rate (`scale` multiplies the rates for fast tests); an
  empty bucket answers 429 QuotaExceeded. Every answer carries `x-amzn-RateLimit-Limit`.
- getOrders pages by NextToken (`page_size` orders a page), sorted by LastUpdateDate; checkout creates an
  Unshipped MFN order and lowers the listing's quantity; confirmShipment records the package and marks Shipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
import time
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import Bucket, StandIn
from wms.channels.connectors.base import ConnectorConfig

LIMITS = {"getOrders": (0.0167, 20), "getOrder": (0.5, 30), "getOrderItems": (0.5, 30),
          "confirmShipment": (2.0, 10), "patchListingsItem": (5.0, 10), "searchListingsItems": (5.0, 5),
          "createRestrictedDataToken": (1.0, 10)}


def _fmt(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json", headers=headers or {})


def _errors(code: str, message: str, status: int, details: str = "") -> Response:
    return _json({"errors": [{"code": code, "message": message, "details": details}]}, status)


class AmazonStandIn(StandIn):
    platform = "amazon"

    def __init__(self, *, seller_id: str = "A2SELLER01", marketplace_id: str = "A13V1IB3VIYZZH",
                 page_size: int = 100, token_lifetime: int = 3600, limits: dict[str, tuple[float, int]] | None = None
                 ) -> None:
        self.seller_id, self.marketplace_id = seller_id, marketplace_id
        self.client_id, self.client_secret = "amzn1.application-oa2-client.test", "lwa-secret"
        self.refresh_token = "Atzr|refresh-test"
        self.page_size, self.token_lifetime = page_size, token_lifetime
        self.listings: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_items: dict[str, list[dict[str, Any]]] = {}
        self.packages: dict[str, list[dict[str, Any]]] = {}
        self.tokens: dict[str, float] = {}          # access token -> monotonic expiry
        self.rdts: dict[str, float] = {}
        self.token_grants = 0
        self.rate_limited = 0
        self.webhook_url: str | None = None          # SP-API notifications need SQS/EventBridge: polling only
        self._pages: dict[str, list[str]] = {}
        self._ids = itertools.count(1)
        self._last_stamp = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        self.limits = {op: (rate, burst) for op, (rate, burst) in {**LIMITS, **(limits or {})}.items()}
        self.buckets = {op: Bucket(rate, burst) for op, (rate, burst) in self.limits.items()}
        super().__init__()

    # --- the stand-in contract -------------------------------------------------------------------------------
    def add_item(self, sku: str, quantity: int, *, title: str | None = None) -> str:
        with self.lock:
            self.listings[sku] = {"sku": sku, "quantity": quantity, "title": title or sku,
                                  "asin": f"B0{next(self._ids):08d}", "productType": "SHIRT"}
        return sku

    def stock_of(self, sku: str) -> int:
        with self.lock:
            return int(self.listings[sku]["quantity"])

    def checkout(self, sku: str, quantity: int, *, email: str = "c@example.com", channel: str = "MFN"
                 ) -> str | None:
        with self.lock:
            listing = self.listings.get(sku)
            if listing is None or (channel == "MFN" and listing["quantity"] < quantity):
                return None
            if channel == "MFN":
                listing["quantity"] -= quantity
            n = next(self._ids)
            order_id = f"405-{n:07d}-{secrets.randbelow(10**7):07d}"
            now = self._stamp()
            self.orders[order_id] = {
                "AmazonOrderId": order_id, "PurchaseDate": _fmt(now), "LastUpdateDate": _fmt(now),
                "OrderStatus": "Unshipped", "FulfillmentChannel": channel, "SalesChannel": "Amazon.fr",
                "ShipServiceLevel": "Std FR Dom_1", "MarketplaceId": self.marketplace_id,
                "OrderTotal": {"CurrencyCode": "EUR", "Amount": f"{19.9 * quantity:.2f}"},
                "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": quantity, "OrderType": "StandardOrder",
                "IsPrime": False, "IsBusinessOrder": False,
                "_buyer_email": email,
                "_address": {"Name": "Camille Martin", "AddressLine1": "12 rue des Lilas", "City": "Lyon",
                             "PostalCode": "69003", "CountryCode": "FR", "Phone": "+33600000000"}}
            self.order_items[order_id] = [{
                "ASIN": listing["asin"], "SellerSKU": sku, "OrderItemId": f"{n:014d}", "Title": listing["title"],
                "QuantityOrdered": quantity, "QuantityShipped": 0,
                "ItemPrice": {"CurrencyCode": "EUR", "Amount": f"{19.9 * quantity:.2f}"}}]
            return order_id

    def cancel(self, external_id: str) -> None:
        with self.lock:
            order = self.orders[external_id]
            if order["OrderStatus"] in ("Unshipped", "Pending") and order["FulfillmentChannel"] == "MFN":
                for item in self.order_items[external_id]:
                    self.listings[item["SellerSKU"]]["quantity"] += item["QuantityOrdered"]
            order["OrderStatus"] = "Canceled"
            order["LastUpdateDate"] = _fmt(self._stamp())

    def tracking_of(self, external_id: str) -> list[str]:
        with self.lock:
            return [p["trackingNumber"] for p in self.packages.get(external_id, [])]

    def order_state(self, external_id: str) -> str:
        with self.lock:
            return str(self.orders[external_id]["OrderStatus"])

    def connector_config(self, **options: Any) -> ConnectorConfig:
        return ConnectorConfig(
            base_url=self.url,
            credentials={"client_id": self.client_id, "client_secret": self.client_secret,
                         "refresh_token": self.refresh_token},
            options={"seller_id": self.seller_id, "marketplace_id": self.marketplace_id,
                     "lwa_url": f"{self.url}/auth/o2/token", **options}, timeout=5.0)

    # --- test helpers ------------------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every access token and RDT handed out so far has expired (an hour went by)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)
            self.rdts = dict.fromkeys(self.rdts, 0.0)

    def _stamp(self) -> dt.datetime:
        # strictly increasing, whole seconds (SP-API dates have no fraction)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._last_stamp = max(now, self._last_stamp + dt.timedelta(seconds=1))
        return self._last_stamp

    # --- the API -----------------------------------------------------------------------------------------------
    def _flat_query(self) -> dict[str, str]:
        return {k: ",".join(v) for k, v in request.args.to_dict(flat=False).items()}

    def _gate(self, operation: str, *, rdt_ok: bool = False) -> tuple[Response | None, bool]:
        """Token then rate limit; (answer to send instead, whether the caller used an RDT)."""
        token = request.headers.get("x-amz-access-token", "")
        now = time.monotonic()
        with self.lock:
            live = self.tokens.get(token, 0.0) > now
            rdt = rdt_ok and self.rdts.get(token, 0.0) > now
        if not (live or rdt):
            return _errors("Unauthorized", "Access to requested resource is denied.", 403,
                           "The access token you provided has expired." if token else ""), False
        if self.buckets[operation].take() is not None:
            with self.lock:
                self.rate_limited += 1
            return _errors("QuotaExceeded", "You exceeded your quota for the requested resource.", 429), rdt
        return None, rdt

    def _limited(self, operation: str, resp: Response) -> Response:
        resp.headers["x-amzn-RateLimit-Limit"] = f"{self.limits[operation][0]:g}"
        return resp

    def routes(self, app: Flask) -> None:
        app.add_url_rule("/auth/o2/token", "token", self._token, methods=["POST"])
        app.add_url_rule("/tokens/2021-03-01/restrictedDataToken", "rdt", self._rdt, methods=["POST"])
        app.add_url_rule("/orders/v0/orders", "orders", self._get_orders, methods=["GET"])
        app.add_url_rule("/orders/v0/orders/<order_id>", "order", self._get_order, methods=["GET"])
        app.add_url_rule("/orders/v0/orders/<order_id>/orderItems", "items", self._get_items, methods=["GET"])
        app.add_url_rule("/orders/v0/orders/<order_id>/shipmentConfirmation", "ship", self._confirm,
                         methods=["POST"])
        app.add_url_rule("/listings/2021-08-01/items/<seller_id>", "search", self._search, methods=["GET"])
        app.add_url_rule("/listings/2021-08-01/items/<seller_id>/<path:sku>", "patch", self._patch,
                         methods=["PATCH"])

    def _token(self) -> Response:
        form = request.form.to_dict()
        if self.check("lwa_token", form):
            return _json({"error": "invalid_request", "error_description": "malformed request"}, 400)
        if form["client_id"] != self.client_id or form["client_secret"] != self.client_secret:
            return _json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if form["refresh_token"] != self.refresh_token:
            return _json({"error": "invalid_grant", "error_description": "The request has an invalid grant "
                          "parameter : refresh_token"}, 400)
        token = "Atza|" + secrets.token_urlsafe(16)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_lifetime
            self.token_grants += 1
        return _json({"access_token": token, "refresh_token": self.refresh_token, "token_type": "bearer",
                      "expires_in": self.token_lifetime})

    def _body(self, schema: str) -> tuple[Any, Response | None]:
        try:
            doc = json.loads(request.get_data() or b"null")
        except ValueError:
            self.violation("body is not JSON")
            return None, _errors("InvalidInput", "Request body is not valid JSON", 400)
        if errors := self.check(schema, doc):
            return None, _errors("InvalidInput", errors[0], 400)
        return doc, None

    def _rdt(self) -> Response:
        refused, _ = self._gate("createRestrictedDataToken")
        if refused:
            return self._limited("createRestrictedDataToken", refused)
        doc, bad = self._body("restricted_data_token")
        if bad:
            return bad
        token = "Atz.sprdt|" + secrets.token_urlsafe(16)
        with self.lock:
            self.rdts[token] = time.monotonic() + self.token_lifetime
        return self._limited("createRestrictedDataToken",
                             _json({"restrictedDataToken": token, "expiresIn": self.token_lifetime}))

    def _public(self, order: dict[str, Any], with_pii: bool) -> dict[str, Any]:
        doc = {k: v for k, v in order.items() if not k.startswith("_")}
        if with_pii:
            doc["ShippingAddress"] = dict(order["_address"])
            doc["BuyerInfo"] = {"BuyerEmail": order["_buyer_email"]}
        else:
            doc["ShippingAddress"] = {"City": order["_address"]["City"], "PostalCode": order["_address"]["PostalCode"],
                                      "CountryCode": order["_address"]["CountryCode"]}
        return doc

    def _get_orders(self) -> Response:
        refused, rdt = self._gate("getOrders", rdt_ok=True)
        if refused:
            return self._limited("getOrders", refused)
        query = self._flat_query()
        if self.check("get_orders_query", query):
            return _errors("InvalidInput", "Invalid query", 400)
        if self.marketplace_id not in query["MarketplaceIds"].split(","):
            return _errors("InvalidInput", "Invalid MarketplaceIds", 400)
        with self.lock:
            if "NextToken" in query:
                ids = self._pages.pop(query["NextToken"], None)
                if ids is None:
                    return _errors("InvalidInput", "Invalid NextToken", 400)
            else:
                ids = self._select(query)
            page, rest = ids[:self.page_size], ids[self.page_size:]
            payload: dict[str, Any] = {"Orders": [self._public(self.orders[i], rdt) for i in page],
                                       "LastUpdatedBefore": _fmt(dt.datetime.now(dt.UTC))}
            if rest:
                token = secrets.token_urlsafe(12)
                self._pages[token] = rest
                payload["NextToken"] = token
        return self._limited("getOrders", _json({"payload": payload}))

    def _select(self, query: dict[str, str]) -> list[str]:
        key = "LastUpdateDate" if "LastUpdatedAfter" in query else "PurchaseDate"
        since = query.get("LastUpdatedAfter") or query["CreatedAfter"]
        statuses = set(query["OrderStatuses"].split(",")) if "OrderStatuses" in query else None
        channels = set(query.get("FulfillmentChannels", "MFN,AFN").split(","))
        chosen = [o for o in self.orders.values() if o[key] >= since.replace(".000", "")
                  and o["FulfillmentChannel"] in channels and (statuses is None or o["OrderStatus"] in statuses)]
        return [o["AmazonOrderId"] for o in sorted(chosen, key=lambda o: o["LastUpdateDate"])]

    def _get_order(self, order_id: str) -> Response:
        refused, _ = self._gate("getOrder")
        if refused:
            return self._limited("getOrder", refused)
        with self.lock:
            order = self.orders.get(order_id)
            doc = self._public(order, False) if order else None
        if doc is None:
            return self._limited("getOrder", _errors("NotFound", "Order not found", 404))
        return self._limited("getOrder", _json({"payload": doc}))

    def _get_items(self, order_id: str) -> Response:
        refused, _ = self._gate("getOrderItems")
        if refused:
            return self._limited("getOrderItems", refused)
        if self.check("order_items_query", self._flat_query()):
            return _errors("InvalidInput", "Invalid query", 400)
        with self.lock:
            items = self.order_items.get(order_id)
            items = json.loads(json.dumps(items)) if items is not None else None
        if items is None:
            return self._limited("getOrderItems", _errors("NotFound", "Order not found", 404))
        return self._limited("getOrderItems", _json({"payload": {"AmazonOrderId": order_id, "OrderItems": items}}))

    def _confirm(self, order_id: str) -> Response:
        refused, _ = self._gate("confirmShipment")
        if refused:
            return self._limited("confirmShipment", refused)
        doc, bad = self._body("confirm_shipment")
        if bad:
            return bad
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _errors("InvalidInput", "Invalid Input", 400, f"Order {order_id} not found")
            if order["OrderStatus"] == "Canceled":
                return _errors("InvalidInput", "Invalid Input", 400, "The order is cancelled")
            known = {i["OrderItemId"]: i for i in self.order_items[order_id]}
            package = doc["packageDetail"]
            for line in package["orderItems"]:
                if line["orderItemId"] not in known:
                    return _errors("InvalidInput", "Invalid Input", 400, f"Unknown orderItemId {line['orderItemId']}")
            if any(p["packageReferenceId"] == package["packageReferenceId"] for p in self.packages.get(order_id, [])):
                return _errors("InvalidInput", "Invalid Input", 400, "packageReferenceId already confirmed")
            self.packages.setdefault(order_id, []).append(package)
            for line in package["orderItems"]:
                item = known[line["orderItemId"]]
                item["QuantityShipped"] = min(item["QuantityOrdered"], item["QuantityShipped"] + line["quantity"])
            done = all(i["QuantityShipped"] >= i["QuantityOrdered"] for i in known.values())
            order["OrderStatus"] = "Shipped" if done else "PartiallyShipped"
            order["LastUpdateDate"] = _fmt(self._stamp())
        return self._limited("confirmShipment", Response(status=204))

    def _search(self, seller_id: str) -> Response:
        refused, _ = self._gate("searchListingsItems")
        if refused:
            return self._limited("searchListingsItems", refused)
        query = self._flat_query()
        if self.check("search_listings_query", query):
            return _errors("InvalidInput", "Invalid query", 400)
        if seller_id != self.seller_id:
            return _errors("Unauthorized", "Access to requested resource is denied.", 403)
        size = int(query.get("pageSize", "10"))
        start = int(query.get("pageToken", "0")) if query.get("pageToken", "0").isdigit() else 0
        with self.lock:
            skus = sorted(self.listings)
            items = [{"sku": s, "summaries": [{"marketplaceId": self.marketplace_id, "asin": self.listings[s]["asin"],
                                               "productType": self.listings[s]["productType"],
                                               "itemName": self.listings[s]["title"], "status": ["BUYABLE"]}],
                      "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT",
                                                   "quantity": self.listings[s]["quantity"]}]}
                     for s in skus[start:start + size]]
        doc: dict[str, Any] = {"numberOfResults": len(skus), "items": items}
        if start + size < len(skus):
            doc["pagination"] = {"nextToken": str(start + size)}
        return self._limited("searchListingsItems", _json(doc))

    def _patch(self, seller_id: str, sku: str) -> Response:
        refused, _ = self._gate("patchListingsItem")
        if refused:
            return self._limited("patchListingsItem", refused)
        if self.check("patch_listings_query", self._flat_query()):
            return _errors("InvalidInput", "Invalid query", 400)
        doc, bad = self._body("patch_listings_body")
        if bad:
            return bad
        if seller_id != self.seller_id:
            return _errors("Unauthorized", "Access to requested resource is denied.", 403)
        with self.lock:
            listing = self.listings.get(sku)
            if listing is None:
                return self._limited("patchListingsItem", _json({
                    "sku": sku, "status": "INVALID", "submissionId": secrets.token_hex(8),
                    "issues": [{"code": "4000001", "message": f"The SKU {sku} was not found.", "severity": "ERROR",
                                "attributeNames": []}]}))
            for patch in doc["patches"]:
                if patch["path"] == "/attributes/fulfillment_availability" and patch["op"] in ("replace", "merge"):
                    listing["quantity"] = int(patch["value"][0]["quantity"])
        return self._limited("patchListingsItem", _json({"sku": sku, "status": "ACCEPTED",
                                                         "submissionId": secrets.token_hex(8), "issues": []}))
