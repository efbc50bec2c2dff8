"""A WooCommerce shop as the connector sees it: REST API v3 (`/wp-json/wc/v3`) plus the Shipment Tracking
extension (`/wp-json/wc-shipment-tracking/v3`), webhooks signed the way `WC_Webhook::deliver` signs them.

Written from the wp-api-v3 docs and WooCommerce's controllers: Basic or query-string key auth (401
`woocommerce_rest_cannot_view` without keys, `woocommerce_rest_authentication_error` with wrong ones), pagination
headers `X-WP-Total`/`X-WP-TotalPages`/`Link`, per_page at most 100, batch limit 100 (413), per-object batch
errors in place, `modified_after` compared strictly and to the second against GMT dates only when
`dates_are_gmt=true` (else the site's local time, an hour ahead here), errors as `{"code","message","data"}`.
Checkout reduces stock and creates a `processing` order (a paid order); cancelling restores it, as
`wc_maybe_increase_stock_levels` does. Webhooks of customer actions (checkout, cancel) are sent before the call
returns, so tests can read them at once; those of changes made through the API go out in the background after the
answer, as WooCommerce queues them (`wait_for_webhooks()`), so a caller holding a lock is never called back inside
its own request. The delivery id is a hash of the webhook id and the current second, as
WooCommerce makes it. A test liberty: keys are accepted over plain HTTP on 127.0.0.1 (a real shop wants OAuth 1.0a
there).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import Bucket, StandIn, load_schema
from wms.channels.connectors.base import ConnectorConfig

SITE_OFFSET = dt.timedelta(hours=1)     # the shop's timezone (Europe/Paris in winter)


def _gmt_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)


def _fmt(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def _error(code: str, message: str, status: int, **extra: Any) -> Response:
    return Response(json.dumps({"code": code, "message": message, "data": {"status": status, **extra}}),
                    status=status, content_type="application/json")


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json", headers=headers or {})


class WooCommerceStandIn(StandIn):
    platform = "woocommerce"

    def __init__(self, *, rate: float = 2.5, burst: float = 25, consumer_key: str = "ck_standin",
                 consumer_secret: str = "cs_standin", webhook_secret: str = "whsec-standin",
                 shipment_tracking: bool = True) -> None:
        self.consumer_key, self.consumer_secret, self.webhook_secret = consumer_key, consumer_secret, webhook_secret
        self.bucket = Bucket(rate, burst)
        self.retry_after = 10
        self.shipment_tracking = shipment_tracking
        self.webhook_url: str | None = None
        self.webhook_id = 7
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.trackings: dict[int, list[dict[str, Any]]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.by_sku: dict[str, tuple[int, int]] = {}       # sku -> (product id, variation id or 0)
        self._ids = itertools.count(100)                   # posts share one id sequence in WordPress
        self._line_ids = itertools.count(1)
        self.last_webhook: tuple[bytes, dict[str, str]] | None = None
        self._redirects: list[str] = []
        self._background: list[threading.Thread] = []
        super().__init__()

    # --- the contract the end-to-end race drives -----------------------------------------------------------------
    def add_item(self, sku: str, quantity: int, *, title: str | None = None) -> str:
        with self.lock:
            pid = next(self._ids)
            self.products[pid] = self._product(pid, title or sku, sku, "simple", quantity)
            self.by_sku[sku] = (pid, 0)
            return str(pid)

    def add_variation(self, parent_title: str, sku: str, quantity: int, *, option: str = "M") -> str:
        """A variation of a variable product (made on first use); returns "<product id>:<variation id>"."""
        with self.lock:
            parent = next((p for p in self.products.values() if p["name"] == parent_title
                           and p["type"] == "variable"), None)
            if parent is None:
                pid = next(self._ids)
                parent = self.products[pid] = self._product(pid, parent_title, "", "variable", None)
            vid = next(self._ids)
            variation = self._product(vid, parent_title, sku, "variation", quantity)
            variation.update(parent_id=parent["id"], attributes=[{"id": 1, "name": "Size", "option": option}])
            self.variations[vid] = variation
            parent["variations"].append(vid)
            self.by_sku[sku] = (parent["id"], vid)
            return f"{parent['id']}:{vid}"

    def stock_of(self, sku: str) -> int:
        with self.lock:
            item = self._item(sku)
            return max(0, item["stock_quantity"] or 0) if item["manage_stock"] else 10**9

    def checkout(self, sku: str, quantity: int, *, email: str = "c@example.com", relay_point_id: str | None = None,
                 method_id: str = "flat_rate", method_title: str = "Flat rate", vat_rate: str = "0") -> str | None:
        """A customer's checkout; `vat_rate` ("0.20") splits the tax-included shelf price the way WooCommerce
        stores a line of a shop whose prices include tax: `total` without tax, `total_tax`, `price` = total/qty."""
        with self.lock:
            if sku not in self.by_sku or self.stock_of(sku) < quantity:
                return None
            item = self._item(sku)
            if item["manage_stock"]:
                item["stock_quantity"] -= quantity
                item["date_modified_gmt"] = _fmt(_gmt_now())
            order = self._new_order(sku, quantity, email, relay_point_id, method_id, method_title, vat_rate)
        self._deliver("order.created", order["id"])
        return str(order["id"])

    def cancel(self, external_id: str) -> None:
        with self.lock:
            order = self.orders[int(external_id)]
            if order["status"] in ("processing", "on-hold", "completed"):
                self._restock(order)
            self._touch(order, status="cancelled")
        self._deliver("order.updated", order["id"])

    def tracking_of(self, external_id: str) -> list[str]:
        with self.lock:
            return [t["tracking_number"] for t in self.trackings.get(int(external_id), [])]

    def order_state(self, external_id: str) -> str:
        with self.lock:
            return self.orders[int(external_id)]["status"]

    def connector_config(self, **options: Any) -> ConnectorConfig:
        return ConnectorConfig(base_url=self.url, credentials={
            "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret,
            "webhook_secret": self.webhook_secret}, options=options, timeout=5.0)

    # --- more for tests ----------------------------------------------------------------------------------------
    def modify_order(self, external_id: str, *, at: dt.datetime | None = None, send: bool = True,
                     **changes: Any) -> None:
        """Change an order as the shop manager would (status, shipping ...); date_modified moves to `at`/now."""
        with self.lock:
            order = self.orders[int(external_id)]
            self._touch(order, at=at, **changes)
        if send:
            self._deliver("order.updated", order["id"])

    def delete_order(self, external_id: str) -> None:
        with self.lock:
            order = self.orders.pop(int(external_id))
        self._deliver("order.deleted", order["id"], payload={"id": order["id"]})

    def send_forged_webhook(self, external_id: str | None = None) -> int | None:
        """An order.created signed with a wrong secret (an attacker's, or a stale one)."""
        with self.lock:
            oid = int(external_id) if external_id else next(iter(self.orders), 1)
            payload = self._order_json(self.orders[oid]) if oid in self.orders else {"id": oid}
        body = json.dumps(payload).encode()
        headers = self._headers("order.created", body, secret="not-the-secret")
        return self.send_webhook(self._url(), body, headers)

    def send_ping(self) -> int | None:
        """The unsigned form post WooCommerce sends when a webhook is saved."""
        return self.send_webhook(self._url(), f"webhook_id={self.webhook_id}".encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded",
                                  "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"})

    def redirect_next(self, fragment: str) -> None:
        """The next request to a path holding `fragment` gets a 301 to the same URL (a host's www/https rule)."""
        with self.lock:
            self._redirects.append(fragment)

    def replay_last_webhook(self) -> int | None:
        """The last signed delivery sent again, byte for byte (a replay, or a re-delivery from the logs)."""
        assert self.last_webhook is not None, "no webhook sent yet"
        body, headers = self.last_webhook
        return self.send_webhook(self._url(), body, headers)

    # --- state helpers -----------------------------------------------------------------------------------------
    def _product(self, pid: int, name: str, sku: str, kind: str, quantity: int | None) -> dict[str, Any]:
        now = _gmt_now()
        return {"id": pid, "name": name, "slug": name.lower().replace(" ", "-"), "type": kind, "status": "publish",
                "sku": sku, "price": "19.90", "regular_price": "19.90", "manage_stock": quantity is not None,
                "stock_quantity": quantity, "stock_status": "instock", "backorders": "no",
                "date_modified": _fmt(now + SITE_OFFSET), "date_modified_gmt": _fmt(now), "variations": [],
                "parent_id": 0, "attributes": [], "global_unique_id": "", "meta_data": []}

    def _item(self, sku: str) -> dict[str, Any]:
        pid, vid = self.by_sku[sku]
        return self.variations[vid] if vid else self.products[pid]

    def _new_order(self, sku: str, quantity: int, email: str, relay: str | None, method_id: str,
                   method_title: str, vat_rate: str = "0") -> dict[str, Any]:
        pid, vid = self.by_sku[sku]
        item = self._item(sku)
        oid, now = next(self._ids), _gmt_now()
        price = item["price"]
        cent = Decimal("0.01")
        gross = Decimal(price) * quantity                        # tax included, as the shop shows it
        net = (gross / (1 + Decimal(vat_rate))).quantize(cent)   # what WooCommerce stores as the line total
        tax = gross - net
        total = f"{gross + Decimal('4.90'):.2f}"
        address = {"first_name": "Camille", "last_name": "Martin", "company": "", "address_1": "12 rue des Lilas",
                   "address_2": "", "city": "Lyon", "state": "", "postcode": "69003", "country": "FR"}
        order = {
            "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{oid:x}", "created_via": "checkout",
            "version": "9.4.0", "status": "processing", "currency": "EUR", "prices_include_tax": True,
            "date_created": _fmt(now + SITE_OFFSET), "date_created_gmt": _fmt(now),
            "date_modified": _fmt(now + SITE_OFFSET), "date_modified_gmt": _fmt(now),
            "date_paid": _fmt(now + SITE_OFFSET), "date_paid_gmt": _fmt(now),
            "date_completed": None, "date_completed_gmt": None,
            "discount_total": "0.00", "shipping_total": "4.90", "total": total, "total_tax": f"{tax:.2f}",
            "customer_id": 0, "customer_note": "", "payment_method": "stripe", "payment_method_title": "Card",
            "transaction_id": f"pi_{oid}",
            "billing": {**address, "email": email, "phone": "+33600000000"},
            "shipping": {**address, "phone": ""},
            "meta_data": [{"id": oid * 10, "key": "relay_point_id", "value": relay}] if relay else [],
            "line_items": [{"id": next(self._line_ids), "name": item["name"], "product_id": pid, "variation_id": vid,
                            "quantity": quantity, "tax_class": "", "subtotal": f"{net:.2f}",
                            "subtotal_tax": f"{tax:.2f}", "total": f"{net:.2f}", "total_tax": f"{tax:.2f}",
                            "taxes": [{"id": 1, "total": f"{tax:.2f}", "subtotal": f"{tax:.2f}"}] if tax else [],
                            "meta_data": [], "sku": sku, "price": float(net / quantity)}],
            "shipping_lines": [{"id": next(self._line_ids), "method_title": method_title, "method_id": method_id,
                                "instance_id": "1", "total": "4.90", "total_tax": "0.00", "taxes": [],
                                "meta_data": []}],
            "fee_lines": [], "coupon_lines": [], "refunds": [],
        }
        self.orders[oid] = order
        return order

    def _restock(self, order: dict[str, Any]) -> None:
        for line in order["line_items"]:
            item = (self.variations.get(line["variation_id"]) if line["variation_id"]
                    else self.products.get(line["product_id"]))
            if item is not None and item["manage_stock"]:
                item["stock_quantity"] += line["quantity"]

    def _touch(self, order: dict[str, Any], *, at: dt.datetime | None = None, **changes: Any) -> None:
        order.update(changes)
        moment = (at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0) if at else _gmt_now())
        order["date_modified_gmt"], order["date_modified"] = _fmt(moment), _fmt(moment + SITE_OFFSET)
        if changes.get("status") == "completed":
            order["date_completed_gmt"], order["date_completed"] = _fmt(moment), _fmt(moment + SITE_OFFSET)

    def _order_json(self, order: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.url}/wp-json/wc/v3/orders"
        return {**json.loads(json.dumps(order)), "_links": {"self": [{"href": f"{base}/{order['id']}"}],
                                                             "collection": [{"href": base}]}}

    # --- webhooks out ------------------------------------------------------------------------------------------
    def _url(self) -> str:
        assert self.webhook_url, "set webhook_url first"
        return self.webhook_url

    def _headers(self, topic: str, body: bytes, *, secret: str | None = None) -> dict[str, str]:
        key = (secret if secret is not None else self.webhook_secret).encode()
        second = int(dt.datetime.now(dt.UTC).timestamp())
        resource, _, event = topic.partition(".")
        return {"Content-Type": "application/json", "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
                "X-WC-Webhook-Source": f"{self.url}/", "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode(),
                "X-WC-Webhook-ID": str(self.webhook_id),
                "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{self.webhook_id}{second}".encode()).hexdigest()}

    def _deliver_later(self, topic: str, oid: int) -> None:
        if not self.webhook_url:
            return
        worker = threading.Thread(target=self._deliver, args=(topic, oid), daemon=True)
        with self.lock:
            self._background.append(worker)
        worker.start()

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        """Let the background deliveries (changes made through the API) finish."""
        with self.lock:
            workers, self._background = self._background, []
        for worker in workers:
            worker.join(timeout)

    def _deliver(self, topic: str, oid: int, *, payload: dict[str, Any] | None = None) -> int | None:
        if not self.webhook_url:
            return None
        with self.lock:
            doc = payload if payload is not None else self._order_json(self.orders[oid])
        body = json.dumps(doc).encode()
        headers = self._headers(topic, body)
        with self.lock:
            self.last_webhook = (body, headers)
        return self.send_webhook(self.webhook_url, body, headers)

    # --- the REST API ------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.before_request(self._gate)
        wc = "/wp-json/wc/v3"
        st = "/wp-json/wc-shipment-tracking/v3"
        app.add_url_rule("/wp-json/", "index", self._index, strict_slashes=False)
        app.add_url_rule(f"{wc}/orders", "orders", self._orders)
        app.add_url_rule(f"{wc}/orders/<int:oid>", "order", self._order, methods=["GET", "PUT", "POST"])
        app.add_url_rule(f"{wc}/orders/<int:oid>/notes", "notes", self._notes, methods=["GET", "POST"])
        app.add_url_rule(f"{wc}/products", "products", self._products)
        app.add_url_rule(f"{wc}/products/<int:pid>/variations", "variations", self._variations)
        app.add_url_rule(f"{wc}/products/batch", "products_batch", self._products_batch, methods=["POST"])
        app.add_url_rule(f"{wc}/products/<int:pid>/variations/batch", "variations_batch", self._variations_batch,
                         methods=["POST"])
        app.add_url_rule(f"{st}/orders/<int:oid>/shipment-trackings", "trackings", self._trackings,
                         methods=["GET", "POST"])
        app.register_error_handler(404, self._no_route)
        app.register_error_handler(405, self._no_route)

    def _no_route(self, _error_: Exception) -> Response:
        self.violation("no such route in the WooCommerce REST API")
        return _error("rest_no_route", "No route was found matching the URL and request method.", 404)

    def _gate(self) -> Response | None:
        """A host's redirect, its rate limit, then the keys (WooCommerce's authentication)."""
        with self.lock:
            redirect = next((f for f in self._redirects if f in request.path), None)
            if redirect is not None:
                self._redirects.remove(redirect)
        if redirect is not None:
            return Response("", status=301, headers={"Location": request.url})
        wait = self.bucket.take()
        if wait is not None:
            secs = max(1, int(wait + 0.999))
            return Response(json.dumps({"code": "rate_limit_exceeded", "message":
                                        f"Too many requests. Please wait {secs} seconds before trying again.",
                                        "data": {"status": 429}}), status=429, content_type="application/json",
                            headers={"Retry-After": str(secs), "RateLimit-Retry-After": str(secs)})
        if request.path.rstrip("/") == "/wp-json":
            return None
        auth = request.authorization
        key, secret = (auth.username, auth.password) if auth and auth.type == "basic" else (
            request.args.get("consumer_key"), request.args.get("consumer_secret"))
        if not key:
            verb = {"GET": "cannot_view", "POST": "cannot_create", "PUT": "cannot_edit"}.get(request.method, "cannot_view")
            return _error(f"woocommerce_rest_{verb}", "Sorry, you cannot list resources.", 401)
        if key != self.consumer_key:
            return _error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        if not hmac.compare_digest(secret or "", self.consumer_secret):
            return _error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
        return None

    def _query(self, schema: str) -> tuple[dict[str, Any], Response | None]:
        """The query string typed as WordPress types it, checked against the schema."""
        spec = load_schema(self.platform, schema)["properties"]
        typed: dict[str, Any] = {}
        for name, values in request.args.lists():
            typed[name] = _coerce(spec.get(name, {}), values[-1])
        errors = self.check(schema, typed)
        if errors:
            return typed, _error("rest_invalid_param", f"Invalid parameter(s): {errors[0]}", 400)
        return typed, None

    def _body(self, schema: str) -> tuple[Any, Response | None]:
        try:
            doc = json.loads(request.get_data() or b"null")
        except ValueError:
            self.violation("body is not JSON")
            return None, _error("rest_invalid_json", "Invalid JSON body passed.", 400)
        errors = self.check(schema, doc)
        if errors:
            return doc, _error("rest_invalid_param", f"Invalid parameter(s): {errors[0]}", 400)
        return doc, None

    def _index(self) -> Response:
        return _json({"name": "Stand-in Shop", "description": "A WooCommerce stand-in", "url": self.url,
                      "home": self.url, "namespaces": ["wp/v2", "wc/v3"] + (
                          ["wc-shipment-tracking/v3"] if self.shipment_tracking else [])})

    def _paged(self, rows: list[dict[str, Any]], query: dict[str, Any], path: str,
               render: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        """One page of `rows` (only that page is copied out, so 10,000 listings stay cheap)."""
        per_page, page = query.get("per_page", 10), query.get("page", 1)
        total = len(rows)
        pages = (total + per_page - 1) // per_page
        with self.lock:
            chunk = [render(r) for r in rows[(page - 1) * per_page: page * per_page]]
        links = []
        if page < pages:
            links.append(f'<{self.url}{path}?page={page + 1}>; rel="next"')
        if page > 1:
            links.append(f'<{self.url}{path}?page={page - 1}>; rel="prev"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return _json(chunk, headers=headers)

    def _orders(self) -> Response:
        query, bad = self._query("orders_query")
        if bad:
            return bad
        gmt = query.get("dates_are_gmt", False)
        field = "date_modified_gmt" if gmt else "date_modified"
        statuses = set(query.get("status", ["any"]))
        with self.lock:
            rows = [o for o in self.orders.values()
                    if ("any" in statuses and o["status"] != "trash") or o["status"] in statuses]
            if "modified_after" in query:
                bound = _parse(query["modified_after"])   # WP_Date_Query: strictly after, to the second
                rows = [o for o in rows if _parse(o[field]) > bound]
            if "modified_before" in query:
                bound = _parse(query["modified_before"])
                rows = [o for o in rows if _parse(o[field]) < bound]
            key: Callable[[dict[str, Any]], Any] = {
                "modified": lambda o: (o["date_modified_gmt"], o["id"]), "id": lambda o: o["id"],
            }.get(query.get("orderby", "date"), lambda o: (o["date_created_gmt"], o["id"]))
            rows.sort(key=key, reverse=query.get("order", "desc") == "desc")
        return self._paged(rows, query, "/wp-json/wc/v3/orders", self._order_json)

    def _order(self, oid: int) -> Response:
        with self.lock:
            order = self.orders.get(oid)
        if order is None:
            return _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if request.method == "GET":
            _query, bad = self._query("collection_query")
            if bad:
                return bad
            with self.lock:
                return _json(self._order_json(order))
        doc, bad = self._body("order_update")
        if bad:
            return bad
        with self.lock:
            if doc.get("status") == "cancelled" and order["status"] in ("processing", "on-hold", "completed"):
                self._restock(order)
            self._touch(order, **doc)
            answer = self._order_json(order)
        # a change made through the API is delivered in the background (Action Scheduler), after the answer
        self._deliver_later("order.updated", oid)
        return _json(answer)

    def _notes(self, oid: int) -> Response:
        if oid not in self.orders:
            return _error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        if request.method == "GET":
            _query, bad = self._query("collection_query")
            if bad:
                return bad
            with self.lock:
                return _json(list(reversed(self.notes.get(oid, []))))
        doc, bad = self._body("order_note")
        if bad:
            return bad
        with self.lock:
            note = {"id": next(self._ids), "author": "WooCommerce", "date_created_gmt": _fmt(_gmt_now()),
                    "note": doc["note"], "customer_note": bool(doc.get("customer_note", False))}
            self.notes.setdefault(oid, []).append(note)
        return _json(note, 201)

    def _products(self) -> Response:
        query, bad = self._query("collection_query")
        if bad:
            return bad
        with self.lock:
            rows = [self.products[i] for i in sorted(self.products, reverse=True)]
        return self._paged(rows, query, "/wp-json/wc/v3/products", _copy)

    def _variations(self, pid: int) -> Response:
        query, bad = self._query("collection_query")
        if bad:
            return bad
        with self.lock:
            if pid not in self.products:
                return _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            rows = [self.variations[v] for v in self.products[pid]["variations"]]
        return self._paged(rows, query, f"/wp-json/wc/v3/products/{pid}/variations", _copy)

    def _products_batch(self) -> Response:
        return self._batch("products_batch", self.products.get, "woocommerce_rest_product_invalid_id")

    def _variations_batch(self, pid: int) -> Response:
        if pid not in self.products:
            return _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        children = set(self.products[pid]["variations"])
        return self._batch("variations_batch", lambda i: self.variations.get(i) if i in children else None,
                           "woocommerce_rest_product_variation_invalid_id")

    def _batch(self, schema: str, find: Callable[[int], dict[str, Any] | None], invalid: str) -> Response:
        try:
            doc = json.loads(request.get_data() or b"null")
        except ValueError:
            self.violation("body is not JSON")
            return _error("rest_invalid_json", "Invalid JSON body passed.", 400)
        if isinstance(doc, dict) and sum(len(doc.get(k) or []) for k in ("create", "update", "delete")) > 100:
            self.violation("more than 100 objects in one batch")
            return _error("woocommerce_rest_request_entity_too_large",
                          "Unable to accept more than 100 items for this request.", 413)
        errors = self.check(schema, doc)
        if errors:
            return _error("rest_invalid_param", f"Invalid parameter(s): {errors[0]}", 400)
        answers = []
        with self.lock:
            for change in doc.get("update", []):
                item = find(change["id"])
                if item is None:
                    answers.append({"id": change["id"], "error": {"code": invalid, "message": "Invalid ID.",
                                                                   "data": {"status": 400}}})
                    continue
                item.update({k: v for k, v in change.items() if k != "id"})
                if item["manage_stock"] and item["stock_quantity"] is not None:
                    item["stock_status"] = "instock" if item["stock_quantity"] > 0 else "outofstock"
                item["date_modified_gmt"] = _fmt(_gmt_now())
                answers.append(json.loads(json.dumps(item)))
        return _json({"update": answers})

    def _trackings(self, oid: int) -> Response:
        if not self.shipment_tracking:
            return _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if oid not in self.orders:
            return _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if request.method == "GET":
            _query, bad = self._query("collection_query")
            if bad:
                return bad
            with self.lock:
                return _json(list(self.trackings.get(oid, [])))
        doc, bad = self._body("shipment_tracking")
        if bad:
            return bad
        with self.lock:
            link = doc.get("custom_tracking_link") or f"https://track.example/{doc.get('tracking_provider')}/%1$s"
            item = {"tracking_id": hashlib.md5(f"{oid}{doc['tracking_number']}".encode()).hexdigest(),
                    "tracking_provider": doc.get("tracking_provider") or doc.get("custom_tracking_provider"),
                    "tracking_link": link.replace("%1$s", doc["tracking_number"]),
                    "tracking_number": doc["tracking_number"],
                    "date_shipped": doc.get("date_shipped") or _gmt_now().date().isoformat()}
            self.trackings.setdefault(oid, []).append(item)
            self._touch(self.orders[oid])
        return _json(item, 201, {"Location": f"{request.path}/{item['tracking_id']}"})


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(doc))


def _coerce(spec: dict[str, Any], value: str) -> Any:
    """A query-string value as the type the parameter declares (what rest_sanitize_request_arg does)."""
    kind = spec.get("type")
    if kind == "integer":
        return int(value) if value.lstrip("-").isdigit() else value
    if kind == "boolean":
        return {"true": True, "1": True, "false": False, "0": False}.get(value.lower(), value)
    if kind == "array":
        items = [v.strip() for v in value.split(",") if v.strip()]
        if spec.get("items", {}).get("type") == "integer":
            return [int(v) if v.isdigit() else v for v in items]
        return items
    return value
